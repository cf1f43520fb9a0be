"""An emergency on a unit reaches every dispatcher's and supervisor's screen within 1 s,
stays until acknowledged, and goes from every screen once one acknowledges it (Pilot,
two apps on one database: SQLite, or PostgreSQL when CONTROLROOM_TEST_DATABASE_URL is
set); and the services behind it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.domain.roles import Role
from controlroom.screens.emergency import EmergencyAlert
from controlroom.screens.home_board import HomeBoard
from controlroom.services import emergencies, resources
from tests.apps import build_app, screen_text, settle, until
from tests.databases import SEED_ANCHOR
from tests.factories import add_unit, staff_actor
from tests.test_resource_board_screen import send

SIZE = (80, 24)


def test_raise_and_acknowledge_on_the_record(database):
    dispatcher = staff_actor(database, Role.DISPATCHER, terminal="10.0.0.7")
    add_unit(database, "AR1", type_code="ARV")
    raised = resources.raise_emergency(database.uow(), dispatcher, "ar1", SEED_ANCHOR)
    assert raised.words == "EMERGENCY AR1 (ARV, Test Station)"
    with pytest.raises(resources.UnitUnavailable, match="has an emergency already"):
        resources.raise_emergency(database.uow(), dispatcher, "AR1", SEED_ANCHOR)
    assert [e.callsign for e in emergencies.open_emergencies(database.uow(), dispatcher)] == ["AR1"]
    assert (
        resources.acknowledge_emergency(database.uow(), dispatcher, raised.id, SEED_ANCHOR)
        == "acknowledged"
    )
    assert (
        resources.acknowledge_emergency(database.uow(), dispatcher, raised.id, SEED_ANCHOR)
        == "already acknowledged"
    )
    assert emergencies.open_emergencies(database.uow(), dispatcher) == ()
    with database.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("unit.emergency%"))
        ).all()
    assert actions == ["unit.emergency", "unit.emergency_ack"]


def test_the_watch_reads_the_emergencies_only_when_its_poll_finds_one_open(database):
    """The watch's poll says whether any emergency is open; only then are they read
    (with the access check), so a session with none never loads the resource queries."""

    dispatcher = staff_actor(database, Role.DISPATCHER)
    add_unit(database, "AR1", type_code="ARV")
    reads: list[object] = []

    def counted():
        reads.append(None)
        return database.uow()

    poll = emergencies.open_counter_poll(database.uow())
    try:
        assert emergencies.open_emergencies_after_poll(poll, counted, dispatcher) == ()
        assert reads == []  # nothing open: no unit of work
        raised = resources.raise_emergency(database.uow(), dispatcher, "AR1", SEED_ANCHOR)
        found = emergencies.open_emergencies_after_poll(poll, counted, dispatcher)
        assert [e.id for e in found] == [raised.id] and len(reads) == 1
        resources.acknowledge_emergency(database.uow(), dispatcher, raised.id, SEED_ANCHOR)
        assert emergencies.open_emergencies_after_poll(poll, counted, dispatcher) == ()
    finally:
        poll.close()
    handler = staff_actor(database, Role.CALL_HANDLER)
    with pytest.raises(
        resources.PermissionDenied if hasattr(resources, "PermissionDenied") else PermissionError
    ):
        resources.raise_emergency(database.uow(), handler, "AR1", SEED_ANCHOR)


async def test_an_emergency_reaches_a_second_station_within_a_second_until_acknowledged(
    database, tmp_path, monkeypatch
):
    from controlroom.screens import emergency

    # Long enough that the first station's stray a lands inside the guard on a busy box.
    monkeypatch.setattr(emergency, "ACK_GUARD_SECONDS", 2.5)
    add_unit(database, "AR1", type_code="ARV")
    dispatcher = staff_actor(database, Role.DISPATCHER)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    handler = staff_actor(database, Role.CALL_HANDLER)
    first = build_app(database, tmp_path / "a", username=dispatcher.username)
    second = build_app(database, tmp_path / "b", username=supervisor.username)
    third = build_app(database, tmp_path / "c", username=handler.username)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    async with (
        first.run_test(size=SIZE) as one,
        second.run_test(size=SIZE) as two,
        third.run_test(size=SIZE) as three,
    ):
        await settle(two)
        await settle(three)
        await settle(one)
        await one.press("f8")
        await until(one, lambda: "1 of 1 units ·" in screen_text(first))
        await send(one, "e")  # AR1, highlighted
        taken = await until(
            two,
            lambda: (
                isinstance(second.screen, EmergencyAlert)
                and "EMERGENCY AR1 (ARV, Test Station)" in screen_text(second)
            ),
            timeout=1.0,
        )
        assert taken < 1.0
        await until(one, lambda: isinstance(first.screen, EmergencyAlert), timeout=1.0)
        # An a typed for the screen beneath (its first moments) does not acknowledge it.
        await send(one, "a")
        await until(one, lambda: "Read the alert first" in screen_text(first))
        await three.pause(0.5)
        assert not isinstance(third.screen, EmergencyAlert)  # call handlers: not theirs
        # Esc does not hide it; F-keys wait; a acknowledges, and it goes everywhere.
        await send(two, "escape", "f7")
        await until(two, lambda: "stays until the emergency is acknowledged" in screen_text(second))
        assert isinstance(second.screen, EmergencyAlert)
        await until(two, lambda: second.screen.ready, timeout=4.0)
        await send(two, "a")
        await until(two, lambda: isinstance(second.screen, HomeBoard), timeout=2.0)
        await until(one, lambda: not isinstance(first.screen, EmergencyAlert), timeout=1.0)
        assert "1 of 1 units ·" in screen_text(first)  # back on the board


def test_the_watch_says_when_the_database_does_not_answer_and_keeps_trying(
    database, tmp_path, monkeypatch
):
    """The watch on a database that cannot be opened: said once, tried again."""
    import threading

    from controlroom.data.uow import Database
    from controlroom.screens import emergency

    monkeypatch.setattr(emergency, "RETRY_SECONDS", 0.05)
    gone = Database(f"sqlite+pysqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite'}")
    said: list[str] = []
    tried = threading.Event()

    class Station:  # what the watch asks of the app: who, the database, the mailbox
        actor = staff_actor(database, Role.DISPATCHER)
        post_message = staticmethod(lambda message: said.append(message.words))

        def uow_factory(self):
            if said:
                tried.set()
            return gone.uow()

    watch = emergency.EmergencyWatch(Station())  # type: ignore[arg-type]
    watch.start()
    try:
        assert tried.wait(5.0)
    finally:
        watch.stop()
        gone.dispose()
    assert len(said) == 1 and said[0].startswith("EMERGENCY ALERTS ARE OFF")
