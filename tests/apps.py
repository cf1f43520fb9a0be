"""Building the real app for Pilot and snapshot tests, and reading what it shows."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.worker import WorkerCancelled

from controlroom.app import ControlRoomApp, make_app
from controlroom.config import load_settings
from controlroom.data.uow import Database
from tests.databases import SEED_ANCHOR


def build_app(
    database: Database,
    data_dir: Path,
    *,
    username: str | None = None,
    now: datetime = SEED_ANCHOR,
    term: str | None = "xterm-256color",
    ansi: bool | None = None,
) -> ControlRoomApp:
    """The app exactly as the CLI builds it, with a fixed clock for repeatable screens.

    The operator is `username`, by default the test supervisor (enrolled on first use):
    administrators may not read records (controlroom.domain.permissions)."""
    if username is None:
        from controlroom.domain.roles import Role
        from tests.factories import staff_actor

        username = staff_actor(database, Role.SUPERVISOR).username
    # XDG_CONFIG_HOME in the test's own directory: the developer's settings file never leaks in.
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(data_dir), "XDG_CONFIG_HOME": str(data_dir)}
    )
    settings = replace(settings, database_url=database.url, ansi=ansi)
    return make_app(
        settings, database.uow, username, terminal="local", term=term, clock=lambda: now
    )


async def settle(pilot) -> None:
    """Wait until no worker is running and the screen has redrawn: no sleeps.

    A worker's message can start another worker (sign-in opens the board, which reads
    its counts), so this repeats until a pass finds nothing left to wait for.
    """
    for _ in range(20):
        await pilot.pause()
        await _keys_handled(pilot)
        if not any(w.is_running for w in pilot.app.workers):
            _steady_cursors(pilot.app)
            await pilot.pause()
            await _tables_measured(pilot)
            if not any(w.is_running for w in pilot.app.workers):
                return
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            # An exclusive worker replaced by a newer one of its group (the board's
            # refresh timer firing while its last read ran): the newer one is waited on
            # at the next pass.
            pass
    raise AssertionError("workers kept starting; the app never settled")


async def _keys_handled(pilot, timeout: float = 10.0) -> None:
    """Wait until every key sent has been handled (the app's KeyGate hands a burst on
    one key at a time)."""
    gate = getattr(pilot.app, "key_gate", None)
    started = time.monotonic()
    while gate is not None and gate.busy:
        if time.monotonic() - started > timeout:
            raise AssertionError("keys were never handled")
        await pilot.pause(0.01)


async def _tables_measured(pilot, timeout: float = 10.0) -> None:
    """Wait until every DataTable on screen has measured its new rows and cells.

    A DataTable sizes its columns when its message queue next runs dry (its idle
    handler); `pilot.pause()` waits for the CPU to go quiet, which on a loaded machine it
    may not, so a screenshot could catch headers at an earlier list's widths. This waits
    for the measuring itself (Textual keeps no public flag for it).
    """
    from textual.widgets import DataTable

    started = time.monotonic()
    while any(
        table._require_update_dimensions or table._updated_cells
        for table in pilot.app.screen.query(DataTable)
    ):
        if time.monotonic() - started > timeout:
            raise AssertionError("a table never measured its rows")
        await pilot.pause(0.01)


def _steady_cursors(app: App) -> None:
    """Stop the text cursors blinking, so a screenshot never catches one mid-blink.

    A blinking cursor is drawn or not by a half-second timer: on a loaded machine (or
    with the suite running in parallel) a snapshot could land in either phase.
    """
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False


async def until(pilot, condition, timeout: float = 5.0) -> float:
    """Wait (in short pauses that let the app run) until `condition()`; seconds taken.
    For what follows an event `settle` cannot see coming (a screen's resume handler
    that starts its read only once the event is processed)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not shown within {timeout} s:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)
    return time.monotonic() - started


def screen_text(app: App) -> str:
    """What the operator sees on the active screen, as plain text, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def burst(pilot, *keys: str, then_settle: bool = True) -> None:
    """Send `keys` (named as `pilot.press` names them: "tab", "alt+l", "a") as one read
    from the terminal delivers them on a lagging SSH link: every key queued before the
    app handles the first (`pilot.press` waits for the app to go idle after each). Then
    settle (not on a screen whose workers never end, such as the triage queue's change
    feed: wait there with `until` for what the operator would see)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    driver = pilot.app._driver
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            character = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            character = key if len(key) == 1 else None
        event = events.Key(key, character)
        event.set_sender(pilot.app)
        driver.send_message(event)
    if then_settle:
        await settle(pilot)


def draft_paths(data_dir: Path, username: str) -> list[Path]:
    """Every draft `username` has on disk under `data_dir` (one per unsaved form)."""
    from controlroom.services.drafts import draft_journal

    return [journal.path for journal in draft_journal(data_dir, username).all()]
