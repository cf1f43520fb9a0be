"""Building the real app for Pilot and snapshot tests, and reading what it shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from textual.app import App

from controlroom.app import ControlRoomApp, make_app
from controlroom.config import load_settings
from controlroom.data.uow import Database
from controlroom.services import staff
from controlroom.services.database import profile
from tests.databases import SEED_ANCHOR, TEST_ADMIN


def build_app(
    database: Database,
    data_dir: Path,
    *,
    username: str = TEST_ADMIN,
    now: datetime = SEED_ANCHOR,
    term: str | None = "xterm-256color",
    ansi: bool | None = None,
) -> ControlRoomApp:
    """The app exactly as the CLI builds it, with a fixed clock for repeatable screens."""
    settings = load_settings(environ={"CONTROLROOM_DATA_DIR": str(data_dir)},
                             config_path=data_dir / "absent.toml")
    settings = replace(settings, database_url=database.url, ansi=ansi)
    operator = staff.sign_in(database.uow(), username, "local")
    return make_app(settings, database.uow, operator, profile(database.uow()),
                    terminal="local", term=term, clock=lambda: now)


async def settle(pilot) -> None:
    """Wait for every worker to finish and the screen to redraw: no sleeps."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: App) -> str:
    """What the operator sees on the active screen, as plain text, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())
