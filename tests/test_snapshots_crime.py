"""Snapshots at 80x24 of crime recording: the crime-recording queue (F9) on the seeded
synthetic force, on a full-colour terminal and a 16-colour Linux console, and the
record-a-crime dialog on an incident with two victims and a suspect.
After a deliberate change: pytest tests/test_snapshots_crime.py --snapshot-update."""

from __future__ import annotations

import uuid
from datetime import timedelta

from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.crime.queue import CrimeRecordingQueue
from controlroom.screens.crime.record import RecordCrimeDialog
from controlroom.services import incidents
from tests.apps import build_app, settle, until
from tests.databases import SEED_ANCHOR
from tests.factories import add_person, staff_actor

SIZE = (80, 24)
GRADES = tuple(g.code for g in DEFAULT_GRADES)


async def open_crime_queue(pilot):
    await settle(pilot)
    await pilot.press("f9")
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, CrimeRecordingQueue) and pilot.app.screen.queue is not None
        ),
    )
    await settle(pilot)


def test_crime_recording_queue(snap_compare, seeded_database, tmp_path):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_crime_queue)


def test_crime_recording_queue_on_a_16_colour_linux_console(
    snap_compare, seeded_database, tmp_path
):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_crime_queue)


def test_record_a_crime_dialog(snap_compare, database, tmp_path):
    handler = staff_actor(database, Role.CALL_HANDLER)
    persons = (
        (add_person(database, "Ann", "Example"), "victim"),
        (add_person(database, "Bob", "Example"), "victim"),
        (add_person(database, "Carl", "Suspect"), "suspect"),
    )
    reference = incidents.save_new_incident(
        database.uow(),
        handler,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="ASLTI",
            location_text="12 Mill Lane",
            possible_crime=True,
            persons=persons,
        ),
        SEED_ANCHOR - timedelta(hours=5),
        GRADES,
    ).reference
    app = build_app(database, tmp_path, username=handler.username)

    async def record(pilot):
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, RecordCrimeDialog))
        await pilot.press(*"assault")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=record)


def test_crime_data_integrity(snap_compare, database, tmp_path):
    from datetime import UTC, datetime

    from controlroom.screens.crime.integrity import CrimeIntegrity
    from tests.factories import seed_integrity_month

    seed_integrity_month(database, month_start=datetime(2026, 11, 1, tzinfo=UTC))
    app = build_app(database, tmp_path, username=staff_actor(database, Role.ANALYST).username)

    async def open_integrity(pilot):
        await settle(pilot)
        await pilot.press("f11")
        await until(
            pilot,
            lambda: isinstance(app.screen, CrimeIntegrity) and app.screen.report is not None,
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_integrity)


def test_crime_statistics(snap_compare, database, supervisor, tmp_path):
    from controlroom.screens.crime.statistics import CrimeStatistics
    from tests.test_crime_statistics import seed_year

    seed_year(database, supervisor)
    app = build_app(database, tmp_path, username=staff_actor(database, Role.ANALYST).username)

    async def open_statistics(pilot):
        await settle(pilot)
        await pilot.press("f12")
        await until(
            pilot,
            lambda: isinstance(app.screen, CrimeStatistics) and app.screen.report is not None,
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_statistics)


def test_crime_statistics_on_a_16_colour_linux_console(
    snap_compare, database, supervisor, tmp_path
):
    from controlroom.screens.crime.statistics import CrimeStatistics
    from tests.test_crime_statistics import seed_year

    seed_year(database, supervisor)
    analyst = staff_actor(database, Role.ANALYST).username
    app = build_app(database, tmp_path, username=analyst, term="linux")

    async def open_statistics(pilot):
        await settle(pilot)
        await pilot.press("f12")
        await until(
            pilot,
            lambda: isinstance(app.screen, CrimeStatistics) and app.screen.report is not None,
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_statistics)
