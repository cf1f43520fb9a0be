"""Pilot tests of "who looked at this" (`w` on the person record, the incident view and
the intelligence report): supervisors see every event on the record with the
justification given, shown literally; anyone else is told they may not, and it is
audited."""

from __future__ import annotations

from datetime import date

from controlroom.domain.roles import Role
from controlroom.screens.audit_trail import AuditTrailScreen
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.intelligence.report import IntelligenceReportScreen
from controlroom.screens.person.record import PersonRecordScreen
from controlroom.services import audit, incidents
from controlroom.services.audit_trail import who_looked
from tests.apps import build_app, screen_text, settle
from tests.audit_stations import enrol
from tests.databases import SEED_ANCHOR
from tests.factories import add_intel, add_person

SIZE = (80, 24)
HOSTILE = "[@click=app.quit]neighbour dispute \x1b[2J"


def events(database, object_type: str, object_id) -> list[tuple[str, str, str]]:
    with database.uow() as uow:
        return [
            (e.actor, e.action, e.outcome)
            for e in uow.audit.for_object(object_type, str(object_id))
        ]


async def test_a_supervisor_sees_who_opened_a_person_and_why(database, database_url, tmp_path):
    enrol(database_url, Role.SUPERVISOR, "who.supervisor")
    handler = enrol(database_url, Role.CALL_HANDLER, "nosy.handler")
    person = add_person(database, "Wren", "Watched", date_of_birth=date(1979, 4, 5))
    with database.uow() as uow:  # a look recorded as the person service records it
        audit.record(uow, handler, "person.view", "person", person, justification=HOSTILE)
        uow.commit()
    app = build_app(database, tmp_path, username="who.supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(PersonRecordScreen(person))
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, AuditTrailScreen)
        text = screen_text(app)
        assert "WHO LOOKED AT THIS person: Wren Watched" in text
        assert "nosy.handler" in text
        assert "who.supervisor" in text  # this look, and the record's own view, are listed
        assert "Why: none given" in text  # the newest: this look
        await pilot.press(
            "down", "down", "down"
        )  # the oldest: the call handler's, with its justification
        await settle(pilot)
        assert "Why: [@click=app.quit]neighbour dispute" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PersonRecordScreen) and app.is_running
    assert ("who.supervisor", "audit.view", "success") in events(database, "person", person)


async def test_someone_else_is_told_they_may_not_and_it_is_audited(
    database, database_url, tmp_path
):
    enrol(database_url, Role.INTELLIGENCE, "intel.officer")
    report = add_intel(database, "Van seen at the lock-up")
    app = build_app(database, tmp_path, username="intel.officer")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(IntelligenceReportScreen(report))
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, AuditTrailScreen)
        assert "only supervisors may see who looked at a record" in screen_text(app)
    assert ("intel.officer", "audit.view", "denied") in events(database, "intelligence", report)


async def test_the_incident_view_opens_its_audit_trail(database, database_url, tmp_path):
    supervisor = enrol(database_url, Role.SUPERVISOR, "who.supervisor")
    saved = incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="who-1",
            type_code="DOM",
            location_text="9 Audit Avenue",
            thrive_skipped=True,
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path, username="who.supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(saved.reference)
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        await pilot.press("w")
        await settle(pilot)
        text = screen_text(app)
        assert f"WHO LOOKED AT THIS incident: {saved.reference}" in text
        assert "incident.create" in text and "incident.view" in text
    looks = who_looked(database.uow(), supervisor, "incident", saved.id)
    assert [look.action for look in looks][:2] == ["audit.view", "audit.view"]
