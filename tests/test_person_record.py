"""The person record service on a real database: everything held about a person, and
the justification a restricted record needs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from controlroom.data.cold_models import IncidentPerson, Person
from controlroom.services import incidents, person_record
from controlroom.services.person_record import JustificationRequired, PersonNotFound
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_marker, add_person

TODAY = date(2026, 11, 26)
GRADES = ("G1", "G2", "G3", "G4")


def audit_tail(database, n=1):
    with database.uow() as uow:
        return [(e.action, e.outcome, e.object_id, e.justification) for e in uow.audit.latest(n)]


def test_the_record_holds_markers_addresses_incidents_and_possible_duplicates(database, supervisor):
    home = add_location(database, "8 Record Road", postcode="LS6 1AA")
    subject = add_person(
        database, "Katherine", "Recordson", date_of_birth=date(1990, 4, 7), home=home
    )
    add_marker(database, subject, "VIOLENT", note="[b]assaulted staff[/b]")
    add_marker(database, subject, "DRUGS", valid_from=date(2010, 1, 1), valid_to=date(2015, 1, 1))
    twin = add_person(database, "Kath", "Recordson", date_of_birth=date(1990, 7, 4))
    add_person(database, "Kate", "Other", date_of_birth=date(1990, 4, 7))
    saved = []
    for days, code in ((30, "NOISE"), (2, "DOM")):
        saved.append(
            incidents.save_new_incident(
                database.uow(),
                supervisor,
                incidents.NewIncident(
                    idempotency_key=f"k{days}",
                    type_code=code,
                    location_text="8 Record Road",
                    location_id=home,
                    thrive_skipped=True,
                    persons=((subject, "victim"),),
                ),
                SEED_ANCHOR - timedelta(days=days),
                GRADES,
            )
        )

    record = person_record.view_person(database.uow(), supervisor, subject, today=TODAY)

    assert record.name == "Katherine Recordson"
    assert [(m.label, m.current) for m in record.markers] == [("VIOLENT", True), ("DRUGS", False)]
    assert record.markers[0].note == "[b]assaulted staff[/b]"
    assert [a.text for a in record.addresses] == ["8 Record Road, Leeds, LS6 1AA"]
    assert [i.reference for i in record.incidents] == [saved[1].reference, saved[0].reference]
    assert {i.role for i in record.incidents} == {"victim"} and record.incident_count == 2
    assert [d.person_id for d in record.possible_duplicates] == [twin]
    assert audit_tail(database) == [("person.view", "success", str(subject), None)]


def test_a_restricted_record_needs_a_justification_and_the_audit_keeps_it(database, supervisor):
    subject = add_person(database, "Rae", "Restricted")
    with database.uow() as uow:
        uow.session.get(Person, subject).restricted = True
        uow.commit()
    for attempt in (None, "too short"):
        with pytest.raises(JustificationRequired, match="restricted"):
            person_record.view_person(
                database.uow(), supervisor, subject, justification=attempt, today=date.today()
            )
        assert audit_tail(database)[0][:2] == ("person.view", "denied")
    reason = "Safeguarding check for CR-20261126-0001"
    record = person_record.view_person(
        database.uow(), supervisor, subject, justification=reason, today=date.today()
    )
    assert record.restricted and record.name == "Rae Restricted"
    assert audit_tail(database) == [("person.view", "success", str(subject), reason)]


def test_an_unknown_person_is_reported_and_audited(database, supervisor):
    with pytest.raises(PersonNotFound):
        person_record.view_person(database.uow(), supervisor, 999_999, today=date.today())
    assert audit_tail(database)[0][:3] == ("person.view", "failed", "999999")


def test_every_view_writes_exactly_one_audit_event(seeded_database):
    from controlroom.domain.identity import Actor
    from controlroom.domain.roles import Role

    with seeded_database.uow() as uow:
        staff = uow.staff.by_username("demo.supervisor")
        actor = Actor(staff.id, staff.username, Role(staff.role), "local")
        person_id = (
            uow.session.query(IncidentPerson.person_id)
            .join(Person, Person.id == IncidentPerson.person_id)
            .filter(Person.restricted.is_(False))
            .first()[0]
        )
        before = uow.audit.count()
    record = person_record.view_person(seeded_database.uow(), actor, person_id, today=date.today())
    assert record.incident_count >= 1
    with seeded_database.uow() as uow:
        assert uow.audit.count() == before + 1
