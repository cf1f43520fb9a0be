"""Fail closed: when the audit event cannot be written, the read or the change it would
record does not happen, and the operator is told why (services and screens).

The audit write fails for real (tests/audit_stations.py): PostgreSQL refuses the app
role's INSERT on audit_event; SQLite's trigger RAISEs.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from controlroom.data.models import AuditEvent, Incident
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.person.record import PersonRecordScreen
from controlroom.services import incidents, person_record
from controlroom.services.audit import AuditUnavailable
from tests.apps import build_app, screen_text, settle
from tests.audit_stations import enrol, is_postgres, station_url, take_audit_offline
from tests.databases import SEED_ANCHOR
from tests.factories import add_person

SIZE = (80, 24)
GRADES = ("G1", "G2", "G3", "G4")
SUPERVISOR = "failclosed.supervisor"


@pytest.fixture
def station(database_url):
    """The database as the application connects to it (the app role on PostgreSQL)."""
    database = Database(station_url(database_url))
    yield database
    database.dispose()


def counts(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        with database.uow() as uow:
            return (
                uow.session.scalar(select(func.count()).select_from(Incident)),
                uow.session.scalar(select(func.count()).select_from(AuditEvent)),
            )
    finally:
        database.dispose()


def words(text: str) -> str:
    return " ".join(text.split())


def new_call(key: str) -> incidents.NewIncident:
    return incidents.NewIncident(
        idempotency_key=key,
        type_code="DOM",
        location_text="3 Offline Street",
        thrive_skipped=True,
        narrative="Raised voices.",
    )


def test_a_change_is_not_made_when_its_audit_event_cannot_be_written(database_url, station):
    supervisor = enrol(database_url, Role.SUPERVISOR, SUPERVISOR)
    before = counts(database_url)
    take_audit_offline(database_url)
    with pytest.raises(AuditUnavailable) as refused:
        incidents.save_new_incident(
            station.uow(), supervisor, new_call("offline-1"), SEED_ANCHOR, GRADES
        )
    assert counts(database_url) == before  # no incident, no audit row
    assert "The audit trail cannot be written" in str(refused.value)
    assert "nothing was read or changed" in str(refused.value)
    if is_postgres(database_url):
        assert "the database refused permission" in str(refused.value)


def test_a_record_is_not_read_when_its_audit_event_cannot_be_written(database_url, station):
    supervisor = enrol(database_url, Role.SUPERVISOR, SUPERVISOR)
    person = add_person(Database(database_url), "Orla", "Offline", date_of_birth=date(1990, 1, 2))
    # The same read works while the trail can be written (so the refusal below is the audit's).
    assert (
        person_record.view_person(station.uow(), supervisor, person, today=date.today()).surname
        == "Offline"
    )
    take_audit_offline(database_url)
    before = counts(database_url)
    with pytest.raises(AuditUnavailable):
        person_record.view_person(station.uow(), supervisor, person, today=date.today())
    assert counts(database_url) == before


async def test_the_person_record_says_why_it_shows_nothing(database_url, station, tmp_path):
    enrol(database_url, Role.SUPERVISOR, SUPERVISOR)
    person = add_person(Database(database_url), "Orla", "Offline")
    app = build_app(station, tmp_path, username=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # signed in while the trail could still be written
        take_audit_offline(database_url)
        app.push_screen(PersonRecordScreen(person))
        await settle(pilot)
        text = words(screen_text(app))
        assert "The audit trail cannot be written" in text
        assert "Offline" not in text and "Orla" not in text
        assert app.is_running


async def test_the_entry_form_keeps_what_was_typed_and_saves_nothing(
    database_url, station, tmp_path, monkeypatch
):
    monkeypatch.setattr(IncidentEntry, "lookup_delay", 0.0)
    enrol(database_url, Role.SUPERVISOR, SUPERVISOR)
    app = build_app(station, tmp_path, username=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        await pilot.press("alt+l", *"14 Mill Lane, LS6 2AB", "tab", *"dom")
        await settle(pilot)
        await pilot.press("tab", "alt+k", "alt+n", *"Shouting next door.")
        await settle(pilot)
        take_audit_offline(database_url)
        before = counts(database_url)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        shown = words(str(app.screen.query_one("#form-error").render()))
        assert shown.startswith("NOT SAVED — The audit trail cannot be written")
        assert "AuditUnavailable" not in shown  # the operator's words, not the class
        assert "NOT SAVED — The audit trail" in screen_text(app)  # in view
        assert app.screen.query_one("#narrative").text == "Shouting next door."
        assert counts(database_url) == before


def test_the_command_line_says_why_and_prints_no_records(
    database_url, station, monkeypatch, tmp_path, capsys
):
    from tests.cli_harness import isolate_cli_environment, run_cli

    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    enrol(database_url, Role.SUPERVISOR, SUPERVISOR)
    add_person(Database(database_url), "Orla", "Offline")
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: SUPERVISOR)
    # Signing in is audited too, so it is refused as well: the trail is the gate.
    take_audit_offline(database_url)
    result = run_cli(capsys, "search", "person", "offline", "--database-url", station.url)
    assert result.code == 2 and result.out == ""
    assert "The audit trail cannot be written" in result.err
