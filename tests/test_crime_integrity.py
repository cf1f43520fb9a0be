"""Crime data integrity, computed by the system (both backends): the seeded month of
1,000 possible-crime incidents of which 223 have no crime recorded within 24 h reads
77.7%, lists the 223, and gives the same by station and within 7 days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controlroom.domain.crime import rate_words
from controlroom.domain.roles import Role
from controlroom.services import crimes
from controlroom.services.access import PermissionDenied
from tests.factories import seed_integrity_month, staff_actor

MONTH = datetime(2026, 11, 1, tzinfo=UTC)  # midnight in London too (GMT)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_the_seeded_month_reads_77_7_percent_and_lists_the_223(database):
    north = staff_actor(database, Role.CALL_HANDLER, "north.handler")
    south = staff_actor(database, Role.CALL_HANDLER, "south.handler")
    with database.uow() as uow:
        uow.staff.get(north.staff_id).station = "North"
        uow.staff.get(south.staff_id).station = "South"
        uow.commit()
    missed = seed_integrity_month(
        database, month_start=MONTH, opened_by=(north.staff_id, south.staff_id)
    )
    analyst = staff_actor(database, Role.ANALYST)
    report = crimes.crime_data_integrity(database.uow(), analyst, date(2026, 11, 20), NOW)
    assert (report.count.total, report.count.within_24h) == (1000, 777)
    assert rate_words(report.count.rate_24h) == "77.7%"
    assert rate_words(report.count.rate_7d) == "82.7%"  # 50 were recorded 3 days late
    assert [u.reference for u in report.unrecorded] == missed and len(missed) == 223
    assert sum(u.recorded_at is not None for u in report.unrecorded) == 50
    stations = dict(report.stations)
    assert set(stations) == {"North", "South"}
    assert sum(c.total for c in stations.values()) == 1000
    assert sum(c.within_24h for c in stations.values()) == 777
    # The year's trend ends at the month; the months before it hold nothing here.
    assert [m for m, _ in report.months][-1] == date(2026, 11, 1) and len(report.months) == 12
    assert [c.total for _, c in report.months[:-1]] == [0] * 11
    assert report.months[-1][1] == report.count  # the database's count, and row by row
    # A signed-off no-crime decision is not a crime: a supervisor-closed one drops out.
    with database.uow() as uow:
        from sqlalchemy import select

        from controlroom.data.models import Incident

        incident = uow.session.scalar(select(Incident).where(Incident.reference == missed[-1]))
        incident.signoff_state = "approved"
        uow.commit()
    after = crimes.crime_data_integrity(database.uow(), analyst, date(2026, 11, 1), NOW)
    assert (after.count.total, after.count.within_24h, len(after.unrecorded)) == (999, 777, 222)


def test_call_handlers_may_not_see_the_measure(database):
    handler = staff_actor(database, Role.CALL_HANDLER)
    with pytest.raises(PermissionDenied):
        crimes.crime_data_integrity(database.uow(), handler, date(2026, 11, 1), NOW)


async def test_the_integrity_screen_reads_the_rate_and_lists_the_unrecorded_by_keys(
    database, tmp_path
):
    from controlroom.screens.crime.integrity import CrimeIntegrity
    from controlroom.screens.incident.view import IncidentView
    from tests.apps import build_app, screen_text, settle

    missed = seed_integrity_month(database, month_start=MONTH)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CrimeIntegrity)
        text = screen_text(app)
        assert "77.7% recorded within 24h (777 of 1,000) · 82.7% within 7 days" in text
        assert "! 223 not recorded within 24h — u lists them" in text
        await pilot.press("u")
        await settle(pilot)
        # The first 50 of the month had their crime recorded 3 days late.
        assert missed[0] in screen_text(app) and "after 3d 0h" in screen_text(app)
        assert screen.query_one("#integrity-table").row_count == 223
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView) and app.screen.reference == missed[1]
        await pilot.press("escape", "p")
        await settle(pilot)
        assert "October 2026" in screen_text(app) and "No crime-related incident" in screen_text(
            app
        )


async def test_u_pressed_in_one_burst_with_f11_lists_the_unrecorded(
    database, tmp_path, monkeypatch
):
    """Keys sent before the month is read are not lost: the list asked for comes up."""
    import threading

    from controlroom.screens.crime.integrity import CrimeIntegrity
    from tests.apps import build_app, screen_text, settle, until

    read_month = CrimeIntegrity.read_month

    # The read waits until the keys are in, as a force's month does on a busy day;
    # an event rather than a sleep, so a loaded machine cannot reorder the two.
    keys_in = threading.Event()

    def slow_read(self, *args):
        keys_in.wait(timeout=30)
        return read_month(self, *args)

    monkeypatch.setattr(CrimeIntegrity, "read_month", slow_read)
    missed = seed_integrity_month(database, month_start=MONTH)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f11", "u")
        assert app.screen.report is None  # the key came first
        keys_in.set()
        await until(pilot, lambda: app.screen.report is not None, timeout=30)
        await settle(pilot)
        assert app.screen.query_one("#integrity-table").row_count == 223
        assert missed[0] in screen_text(app)


def test_a_supervisor_draws_a_random_sample_once_and_records_each_check(database, supervisor):
    seed_integrity_month(database, month_start=MONTH, incidents=60, unrecorded=13, late=0)
    sample = crimes.audit_sample(database.uow(), supervisor, date(2026, 11, 5), NOW, size=20)
    assert len(sample) == 20 and len({i.incident_id for i in sample}) == 20
    assert all(i.reference.startswith("CR-INTEGRITY-") and i.finding is None for i in sample)
    # Asked again, the same sample (not a new draw).
    again = crimes.audit_sample(database.uow(), supervisor, date(2026, 11, 30), NOW, size=20)
    assert [i.check_id for i in again] == [i.check_id for i in sample]
    checked = crimes.record_check(
        database.uow(),
        supervisor,
        sample[0].check_id,
        NOW,
        finding="crime_missed",
        note="Assault admitted in the log; no crime recorded.",
    )
    assert (checked.finding, checked.checked_at) == ("crime_missed", NOW)
    with pytest.raises(crimes.CrimeInputError):
        crimes.record_check(database.uow(), supervisor, sample[1].check_id, NOW, finding="maybe")
    analyst = staff_actor(database, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        crimes.audit_sample(database.uow(), analyst, date(2026, 11, 1), NOW)


async def test_a_supervisor_checks_the_audit_sample_by_keys(database, tmp_path):
    from controlroom.screens.crime.audit_sample import AuditSample
    from controlroom.screens.incident.view import IncidentView
    from tests.apps import build_app, screen_text, settle

    seed_integrity_month(database, month_start=MONTH, incidents=40, unrecorded=9, late=0)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditSample) and len(screen.items) == 20
        assert "0 of 20 checked" in screen_text(app)
        await pilot.press("2", "down", "1")
        await settle(pilot)
        assert "2 of 20 checked · ! 1 crime(s) missed" in screen_text(app)
        first = screen.items[0]
        await pilot.press("up", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView) and app.screen.reference == first.reference
        assert "Crime data integrity audit (November 2026): CRIME MISSED" in "\n".join(
            e.text for e in app.screen.detail.log
        )
    items = crimes.audit_sample(database.uow(), supervisor, date(2026, 11, 1), NOW)
    assert [i.finding for i in items[:3]] == ["crime_missed", "correct", None]


def test_the_unrecorded_list_is_read_as_a_stream_not_held_twice(database):
    """The month's list is built as the rows come (issue 15: a busy month lists
    thousands, and holding the rows, a list of them and the report's tuple at once was
    the integrity screen's part of the peak memory)."""
    from collections.abc import Iterator

    from controlroom.domain.crime import RECORDING_LIMIT

    handler = staff_actor(database, Role.CALL_HANDLER)
    missed = seed_integrity_month(database, month_start=MONTH, opened_by=(handler.staff_id,))
    end = datetime(2026, 12, 1, tzinfo=UTC)
    with database.uow() as uow:
        rows = uow.crimes.crime_related(MONTH, end, not_within=RECORDING_LIMIT)
        assert isinstance(rows, Iterator) and not isinstance(rows, list)
        assert [reference for _, reference, *_ in rows] == missed


def test_the_unrecorded_rows_are_fetched_a_chunk_at_a_time(database):
    """Beneath the iterator the ORM fetched every row of the month at once (6,400 on the
    1M-person seed), held whole beside the report built from them (issue 15): the rows
    come from the database a chunk at a time (`yield_per`)."""
    from sqlalchemy import event

    from controlroom.domain.crime import RECORDING_LIMIT

    handler = staff_actor(database, Role.CALL_HANDLER)
    missed = seed_integrity_month(database, month_start=MONTH, opened_by=(handler.staff_id,))
    end = datetime(2026, 12, 1, tzinfo=UTC)
    chunks: list[object] = []

    def note(state) -> None:
        if "incident.reference" in str(state.statement):
            chunks.append(state.execution_options.get("yield_per"))

    with database.uow() as uow:
        event.listen(uow.session, "do_orm_execute", note)
        rows = uow.crimes.crime_related(MONTH, end, not_within=RECORDING_LIMIT)
        assert [reference for _, reference, *_ in rows] == missed
    assert len(chunks) == 1
    assert isinstance(chunks[0], int) and 0 < chunks[0] <= 1_000  # not the whole month
