"""The idle lock on the real app (Pilot) with a clock the test moves: after the configured
idle time the record on screen is hidden behind the lock until the PIN is typed; five
wrong PINs lock the account for ten minutes; all of it audited."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import datetime, timedelta

from controlroom.app import make_app
from controlroom.config import load_settings
from controlroom.domain.roles import Role
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.lock import LockScreen
from controlroom.services import incidents, session_lock
from tests.apps import screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor

PIN = "482915"
SIZE = (80, 24)
MARK = "Zebedee Lockwood"  # record data that must vanish behind the lock


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def app_with_clock(database, tmp_path, clock: Clock, *, idle_minutes: float = 15):
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    )
    settings = replace(settings, database_url=database.url, idle_lock_minutes=idle_minutes)
    return make_app(
        settings,
        database.uow,
        "test.supervisor",
        terminal="local",
        term="xterm-256color",
        clock=clock,
    )


def an_incident(database) -> str:
    supervisor = staff_actor(database, Role.SUPERVISOR)
    session_lock.set_pin(database.uow(), supervisor, supervisor.username, PIN)
    return incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="lock-1",
            type_code="NOISE",
            location_text="9 Quiet Close",
            caller_name=MARK,
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    ).reference


def said(app) -> str:
    """The lock screen's words as one line (its messages wrap inside the panel)."""
    return " ".join(re.sub("[┃┏┓┗┛━▊▎▔▁]", " ", screen_text(app)).split())


def everything_drawn(app) -> str:
    """The whole terminal as the operator sees it (every layer, toasts too), as text:
    Textual's screenshot (SVG) with its markup and non-breaking spaces taken out."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


async def type_pin(pilot, pin: str) -> None:
    for char in pin:
        await pilot.press(char)
    await pilot.press("enter")
    await settle(pilot)


def session_events(database) -> list[tuple[str, str]]:
    with database.uow() as uow:
        return [
            (e.action, e.outcome)
            for e in reversed(uow.audit.latest(40))
            if e.action in ("session.lock", "session.unlock")
        ]


async def test_the_idle_lock_hides_the_record_until_the_pin_is_typed(database, tmp_path):
    reference = an_incident(database)
    clock = Clock(SEED_ANCHOR)
    app = app_with_clock(database, tmp_path, clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert MARK in screen_text(app) and MARK in everything_drawn(app)  # the helper sees it

        clock.advance(minutes=14, seconds=59)
        app.check_idle_lock()
        await settle(pilot)
        assert not app.locked and MARK in screen_text(app)  # not yet

        clock.advance(seconds=1)
        app.check_idle_lock()
        await settle(pilot)
        assert app.locked and isinstance(app.screen, LockScreen)
        assert MARK not in everything_drawn(app)
        assert "9 Quiet Close" not in everything_drawn(app)
        app.notify(f"Saved: {MARK}")  # a worker finishing while locked says nothing
        await settle(pilot)
        # A toast would have been registered when its Notify message was handled, which
        # settle has waited for: none was (and so none can be drawn later).
        assert len(app._notifications) == 0
        assert MARK not in everything_drawn(app)
        assert "SESSION LOCKED" in screen_text(app)

        # Nothing gets round it: escape, the global keys, help and the palette do nothing.
        for key in ("escape", "f2", "f3", "f1", "ctrl+p", "f4"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, LockScreen), key
        assert MARK not in everything_drawn(app)

        app.open_incident(reference)  # a worker finishing behind the lock opens nothing
        await settle(pilot)
        assert isinstance(app.screen, LockScreen) and MARK not in everything_drawn(app)

        await type_pin(pilot, "000111")
        assert isinstance(app.screen, LockScreen)
        assert "wrong PIN: 4 attempts left" in said(app)
        assert "000111" not in everything_drawn(app)  # nor is a PIN ever shown

        await type_pin(pilot, PIN)
        assert not app.locked and isinstance(app.screen, IncidentView)
        assert MARK in screen_text(app)

        # Typing counts as activity: a key resets the idle time.
        clock.advance(minutes=10)
        await pilot.press("down")
        clock.advance(minutes=10)
        app.check_idle_lock()
        await settle(pilot)
        assert not app.locked
    assert session_events(database) == [
        ("session.lock", "success"),
        ("session.unlock", "denied"),
        ("session.unlock", "success"),
    ]


async def test_five_wrong_pins_lock_the_account_for_ten_minutes(database, tmp_path, monkeypatch):
    import controlroom.app

    monkeypatch.setattr(controlroom.app, "IDLE_CHECK_SECONDS", 0.05)  # the app's own timer
    reference = an_incident(database)
    clock = Clock(SEED_ANCHOR)
    app = app_with_clock(database, tmp_path, clock, idle_minutes=1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        clock.advance(minutes=1)
        for _ in range(40):  # the timer, not the test, locks it
            if app.locked:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        assert app.locked and isinstance(app.screen, LockScreen)
        for attempt in range(1, 6):
            await type_pin(pilot, f"99{attempt}999")
        text = said(app)
        assert "too many wrong PINs: the account is locked until 09:11 UTC" in text
        # Locked out: even the right PIN is refused, and no PIN is checked.
        await type_pin(pilot, PIN)
        assert isinstance(app.screen, LockScreen) and MARK not in everything_drawn(app)
        assert "locked until 09:11 UTC" in said(app)

        clock.advance(minutes=10)
        await type_pin(pilot, PIN)
        assert not app.locked and MARK in screen_text(app)
    events = session_events(database)
    assert events == [("session.lock", "success")] + [("session.unlock", "denied")] * 5 + [
        ("session.unlock", "refused"),
        ("session.unlock", "success"),
    ]
    with database.uow() as uow:
        staff = uow.staff.by_username("test.supervisor")
        assert (staff.failed_pin_attempts, staff.pin_locked_until) == (0, None)


async def test_a_lock_survives_quitting_and_starting_again(database, tmp_path):
    """Quitting behind the lock and starting again opened the app unlocked (issue 16): the
    next start opens on the lock screen, and offers the drafts only after the PIN."""
    reference = an_incident(database)
    clock = Clock(SEED_ANCHOR)
    app = app_with_clock(database, tmp_path, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        clock.advance(minutes=15)
        app.check_idle_lock()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
    # The app ends behind the lock (ctrl+q, a kill, a lost terminal: it says nothing).
    again = app_with_clock(database, tmp_path, clock)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.locked and isinstance(again.screen, LockScreen)
        assert "Your last session ended while it was locked" in said(again)
        assert MARK not in everything_drawn(again)
        await type_pin(pilot, PIN)
        assert not again.locked
    third = app_with_clock(database, tmp_path, clock)
    async with third.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not third.locked  # the right PIN cleared it
    assert session_events(database) == [
        ("session.lock", "success"),
        ("session.lock", "success"),
        ("session.unlock", "success"),
    ]
