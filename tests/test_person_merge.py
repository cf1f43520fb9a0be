"""Merging duplicate person records and undoing a merge, on a real database (both
backends): supervisors only, both histories kept, who and why recorded, search shows the
survivor in the merged record's place, and undo restores both records exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import Person, PersonAlias, PersonMerge
from controlroom.data.models import Staff
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import incidents, person_merge, person_record
from controlroom.services.person_merge import MergeNotAllowed, MergeRefused, ReasonRequired
from controlroom.services.person_search import search_persons
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_marker, add_person

TODAY = date(2026, 11, 26)
GRADES = ("G1", "G2", "G3", "G4")
REASON = "same DOB and address; PNC confirms one person"


def add_staff(database, username: str, role: Role) -> Actor:
    with database.uow() as uow:
        staff = Staff(
            username=username, display_name=username.replace(".", " ").title(), role=role.value
        )
        uow.session.add(staff)
        uow.commit()
        return Actor(staff.id, username, role, "10.0.0.7")


@pytest.fixture
def supervisor(database) -> Actor:
    return add_staff(database, "sue.pervisor", Role.SUPERVISOR)


@pytest.fixture
def pair(database, supervisor):
    """Two records of one man: markers, an alias, addresses and an incident on each."""
    home = add_location(database, "3 Twin Terrace", postcode="LS9 8AA")
    flat = add_location(database, "Flat 2, 40 Other Row", postcode="LS9 7BB")
    survivor = add_person(
        database, "Daniel", "Duplicate", date_of_birth=date(1985, 3, 4), home=home
    )
    merged = add_person(database, "Danny", "Duplicate", date_of_birth=date(1985, 3, 4), home=flat)
    add_marker(database, survivor, "VIOLENT")
    add_marker(database, merged, "WEAPONS", note="knife found 2024")
    with database.uow() as uow:
        uow.session.add(
            PersonAlias(person_id=merged, forename="Dan", surname="Dupont", kind="alias")
        )
        uow.commit()
    refs = []
    for days, person in ((5, survivor), (1, merged)):
        refs.append(
            incidents.save_new_incident(
                database.uow(),
                supervisor,
                incidents.NewIncident(
                    idempotency_key=f"pair{days}",
                    type_code="DOM",
                    location_text="3 Twin Terrace",
                    location_id=home,
                    thrive_skipped=True,
                    persons=((person, "suspect"),),
                ),
                SEED_ANCHOR - timedelta(days=days),
                GRADES,
            ).reference
        )
    return survivor, merged, refs


def person_rows(database):
    with database.uow() as uow:
        return [
            tuple(row)
            for row in uow.session.execute(
                select(
                    Person.id,
                    Person.forename,
                    Person.surname,
                    Person.date_of_birth,
                    Person.merged_into_id,
                ).order_by(Person.id)
            )
        ]


def audit_tail(database, n=1):
    with database.uow() as uow:
        return [
            (e.action, e.outcome, e.object_id, e.justification, e.actor)
            for e in uow.audit.latest(n)
        ]


def test_a_merge_shows_both_histories_on_the_survivor_and_records_who_and_why(
    database, supervisor, pair
):
    survivor, merged, refs = pair
    before = person_record.view_person(database.uow(), supervisor, survivor, today=TODAY)
    assert [d.person_id for d in before.possible_duplicates] == [merged]

    info = person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)

    assert (info.survivor_id, info.merged_id, info.reason, info.merged_by, info.live) == (
        survivor,
        merged,
        REASON,
        "Sue Pervisor",
        True,
    )
    assert audit_tail(database) == [
        ("person.merge", "success", str(merged), REASON, "sue.pervisor")
    ]
    record = person_record.view_person(database.uow(), supervisor, survivor, today=TODAY)
    assert {m.label for m in record.markers} == {"VIOLENT", "WEAPONS"}
    assert "Dan Dupont (alias)" in record.aliases
    assert f"Danny Duplicate (merged record {merged})" in record.aliases
    assert {a.text.split(",")[0] for a in record.addresses} == {"3 Twin Terrace", "Flat 2"}
    assert [i.reference for i in record.incidents] == [refs[1], refs[0]]
    assert record.incident_count == 2
    assert record.possible_duplicates == ()  # the merged record is no longer offered
    assert [m.merge_id for m in record.merged_records] == [info.merge_id]

    # The merged record keeps its own data, and says where it went, by whom and why.
    away = person_record.view_person(database.uow(), supervisor, merged, today=TODAY)
    assert away.merged_into is not None
    assert (
        away.merged_into.survivor_id,
        away.merged_into.survivor_name,
        away.merged_into.merged_by,
        away.merged_into.reason,
    ) == (survivor, "Daniel Duplicate", "Sue Pervisor", REASON)
    assert [m.label for m in away.markers] == ["WEAPONS"]
    assert [i.reference for i in away.incidents] == [refs[1]]
    assert away.merged_records == ()


def test_undo_restores_both_records_exactly_and_keeps_the_history(database, supervisor, pair):
    survivor, merged, _refs = pair
    rows = person_rows(database)
    views = [
        person_record.view_person(database.uow(), supervisor, pid, today=TODAY)
        for pid in (survivor, merged)
    ]
    info = person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)

    undone = person_merge.undo_merge(
        database.uow(), supervisor, info.merge_id, "PNC shows two brothers, not one person"
    )

    assert audit_tail(database)[0][:4] == (
        "person.unmerge",
        "success",
        str(merged),
        "PNC shows two brothers, not one person",
    )
    assert person_rows(database) == rows
    assert [
        person_record.view_person(database.uow(), supervisor, pid, today=TODAY)
        for pid in (survivor, merged)
    ] == views
    assert (undone.live, undone.undone_by, undone.undo_reason) == (
        False,
        "Sue Pervisor",
        "PNC shows two brothers, not one person",
    )
    with database.uow() as uow:
        kept = uow.session.scalars(select(PersonMerge)).one()
        assert (kept.reason, kept.undo_reason, kept.undone_at is not None) == (
            REASON,
            "PNC shows two brothers, not one person",
            True,
        )
    with pytest.raises(MergeRefused, match="already undone"):
        person_merge.undo_merge(database.uow(), supervisor, info.merge_id, "once more please")
    # And it can be merged again later: a new row, the old one kept.
    again = person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    assert again.merge_id != info.merge_id


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.SUPERVISOR])
def test_only_a_supervisor_may_merge_or_undo_and_a_refusal_is_audited(
    database, supervisor, pair, role
):
    survivor, merged, _refs = pair
    other = add_staff(database, "not.super", role)
    with pytest.raises(MergeNotAllowed, match="only a supervisor"):
        person_merge.merge_persons(database.uow(), other, survivor, merged, REASON)
    assert audit_tail(database) == [("person.merge", "denied", str(merged), None, "not.super")]
    assert person_rows(database)[1][4] is None

    info = person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    with pytest.raises(MergeNotAllowed):
        person_merge.undo_merge(database.uow(), other, info.merge_id, "I think it is wrong")
    assert audit_tail(database) == [("person.unmerge", "denied", str(merged), None, "not.super")]
    assert person_rows(database)[1][4] == survivor


def test_a_merge_needs_a_reason_and_a_sensible_pair(database, supervisor, pair):
    survivor, merged, _refs = pair
    for reason in (None, "", "   ", "too short"):
        with pytest.raises(ReasonRequired, match="at least 10"):
            person_merge.merge_persons(database.uow(), supervisor, survivor, merged, reason)
    with pytest.raises(MergeRefused, match="into itself"):
        person_merge.merge_persons(database.uow(), supervisor, survivor, survivor, REASON)
    with pytest.raises(MergeRefused, match="no person"):
        person_merge.merge_persons(database.uow(), supervisor, survivor, 999_999, REASON)
    third = add_person(database, "Dan", "Duplicate")
    person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    with pytest.raises(MergeRefused, match="already merged"):
        person_merge.merge_persons(database.uow(), supervisor, third, merged, REASON)
    with pytest.raises(MergeRefused, match="itself merged"):
        person_merge.merge_persons(database.uow(), supervisor, merged, third, REASON)
    with pytest.raises(MergeRefused, match="other records are merged into"):
        person_merge.merge_persons(database.uow(), supervisor, third, survivor, REASON)
    with database.uow() as uow:
        assert len(uow.session.scalars(select(PersonMerge)).all()) == 1


def test_search_shows_the_survivor_in_place_of_a_merged_record(database, supervisor, pair):
    survivor, merged, _refs = pair

    def found(query):
        return [h.person_id for h in search_persons(database.uow(), supervisor, query, today=TODAY)]

    assert set(found("duplicate")) == {survivor, merged}
    person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    assert found("duplicate") == [survivor]
    assert found("danny duplicate") == [survivor]  # the merged record's name finds it
    assert found("dan dupont") == [survivor]  # and so does the merged record's alias


def test_a_survivor_holding_a_restricted_record_is_restricted(database, supervisor, pair):
    survivor, merged, _refs = pair
    with database.uow() as uow:
        uow.session.get(Person, merged).restricted = True
        uow.commit()
    person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    with pytest.raises(person_record.JustificationRequired):
        person_record.view_person(database.uow(), supervisor, survivor, today=TODAY)
    record = person_record.view_person(
        database.uow(),
        supervisor,
        survivor,
        today=TODAY,
        justification="safeguarding check for CR-1",
    )
    assert record.restricted and {m.label for m in record.markers} == {"VIOLENT", "WEAPONS"}
