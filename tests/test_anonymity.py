"""Sexual-offence complainants' lifelong anonymity, at the service layer (both backends).

A complainant (a person linked as victim on an incident opened or closed as a sexual
offence: `access.person_marking`, the permission code's one definition) is named only to
the roles the permission table gives need-to-know (reading a sexual-offence complainant's
person record); every other role reads "withheld: sexual-offence complainant — ask ..."
in the incident view (persons, log, caller) and in a location's residents, and the audit
event says which was done.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import incidents, locations
from controlroom.services.incidents import NewIncident, withheld_text
from tests.factories import add_location, add_person, staff_actor

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
NAME = "Rowena Quillfeather"


@pytest.fixture
def case(database):
    """A sexual-offence incident with its complainant (living at the location) linked as
    victim and a suspect linked too; the caller is the complainant."""
    home = add_location(database, "3 Wren Close", street="Wren Close", postcode="LS6 3AB")
    victim = add_person(database, "Rowena", "Quillfeather", home=home)
    suspect = add_person(database, "Barnaby", "Stroud")
    handler = staff_actor(database, Role.CALL_HANDLER)
    saved = incidents.save_new_incident(
        database.uow(),
        handler,
        NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="SEXO",
            location_text="3 Wren Close",
            location_id=home,
            caller_name=NAME,
            caller_phone="07700900461",
            caller_relationship="self",
            narrative=f"{NAME} reports an assault by a man she knows.",
            persons=((victim, "victim"), (suspect, "suspect")),
        ),
        NOW,
        GRADES,
    )
    return dict(home=home, victim=victim, suspect=suspect, incident=saved.id)


def _everything(detail) -> str:
    parts = [
        detail.caller_name or "",
        detail.caller_phone or "",
        detail.caller_relationship or "",
        detail.narrative,
    ]
    parts += [p.name for p in detail.persons]
    parts += [e.text for e in detail.log]
    return "\n".join(parts)


def _last_audit(database):
    from types import SimpleNamespace

    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        return SimpleNamespace(action=event.action, detail=event.detail)


@pytest.mark.parametrize("role", [Role.CALL_HANDLER, Role.DISPATCHER])
def test_denied_roles_read_withheld_in_the_incident_view(database, case, role):
    actor = staff_actor(database, role)
    detail = incidents.view_incident_by_id(
        database.uow(), actor, case["incident"], today=date.today()
    )
    text = _everything(detail)
    assert "Rowena" not in text and "Quillfeather" not in text
    assert "07700900461" not in text
    victim = next(p for p in detail.persons if p.role == "victim")
    assert victim.name == withheld_text() and victim.date_of_birth is None
    assert withheld_text().startswith("withheld: sexual-offence complainant — ask a supervisor")
    assert detail.caller_name == withheld_text()
    assert detail.caller_phone is None and detail.caller_relationship is None
    # The suspect is not a complainant: named.
    assert "Barnaby Stroud" in [p.name for p in detail.persons]
    assert f"Linked {withheld_text()} as victim" in [e.text for e in detail.log]
    event = _last_audit(database)
    assert event.action == "incident.view"
    assert f"identity withheld: persons {case['victim']}" in event.detail


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.INTELLIGENCE])
def test_need_to_know_roles_see_the_name_audited_as_such(database, case, role):
    actor = staff_actor(database, role)
    detail = incidents.view_incident_by_id(
        database.uow(), actor, case["incident"], today=date.today()
    )
    assert NAME in [p.name for p in detail.persons]
    assert detail.caller_name == NAME and detail.caller_phone == "07700900461"
    assert f"Linked {NAME} as victim" in [e.text for e in detail.log]
    assert "withheld" not in _everything(detail)
    event = _last_audit(database)
    assert f"identity shown (need to know): persons {case['victim']}" in event.detail


def test_a_complainant_linked_to_another_incident_stays_withheld(database, case):
    """Anonymity follows the person: on an ordinary incident too, by name in any text."""
    handler = staff_actor(database, Role.CALL_HANDLER)
    other = incidents.save_new_incident(
        database.uow(),
        handler,
        NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="NOISE",
            location_text="3 Wren Close",
            caller_name="Mo Neighbour",
            narrative="Loud music; rowena quillfeather next door.",
            persons=((case["victim"], "witness"),),
        ),
        NOW,
        GRADES,
    )
    detail = incidents.view_incident_by_id(database.uow(), handler, other.id, today=date.today())
    assert "quillfeather" not in _everything(detail).casefold()
    assert detail.caller_name == "Mo Neighbour"  # not a sexual-offence incident
    assert withheld_text() in detail.narrative


def test_the_change_services_return_the_withheld_view_too(database, case):
    handler = staff_actor(database, Role.CALL_HANDLER)
    current = incidents.view_incident_by_id(
        database.uow(), handler, case["incident"], today=date.today()
    )
    changed = incidents.change_status(
        database.uow(), handler, case["incident"], "dispatched", current.version, NOW
    )
    assert "Quillfeather" not in _everything(changed)
    assert "identity withheld" in _last_audit(database).detail


def test_a_victim_of_an_ordinary_incident_is_named(database):
    person = add_person(database, "Ordinary", "Victim")
    handler = staff_actor(database, Role.CALL_HANDLER)
    saved = incidents.save_new_incident(
        database.uow(),
        handler,
        NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="ASLT",
            location_text="1 Test Street",
            caller_name="Ordinary Victim",
            persons=((person, "victim"),),
        ),
        NOW,
        GRADES,
    )
    detail = incidents.view_incident_by_id(database.uow(), handler, saved.id, today=date.today())
    assert [p.name for p in detail.persons] == ["Ordinary Victim"]
    assert detail.caller_name == "Ordinary Victim"
    assert _last_audit(database).detail is None


def test_location_residents_withhold_a_complainant(database, case):
    handler = staff_actor(database, Role.CALL_HANDLER)
    context = locations.location_context(database.uow(), handler, case["home"], NOW)
    assert [p.name for p in context.people] == [withheld_text()]
    assert context.people[0].date_of_birth is None
    assert "identity withheld" in _last_audit(database).detail
    supervisor = staff_actor(database, Role.SUPERVISOR)
    context = locations.location_context(database.uow(), supervisor, case["home"], NOW)
    assert [p.name for p in context.people] == [NAME]
    assert "identity shown (need to know)" in _last_audit(database).detail
