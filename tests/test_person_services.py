"""Person services on a real database: the simple name and date-of-birth search, creating
a person with the possible-duplicate check, and markers, each with its audit event.
"""

from __future__ import annotations

from datetime import date

import pytest

from controlroom.data.cold_models import Person
from controlroom.domain.identity import Actor
from controlroom.services import persons
from controlroom.services.persons import PersonInputError, PersonNotFound, PossibleDuplicate
from tests.factories import add_location, add_marker, add_person


@pytest.fixture
def operator(supervisor) -> Actor:
    return Actor(supervisor.staff_id, supervisor.username, supervisor.role, terminal="192.0.2.30")


@pytest.fixture
def people(database):
    home = add_location(database, "12 Mill Lane", town="Leeds", postcode="LS6 2AB")
    ids = {
        "john": add_person(database, "John", "Smith", date_of_birth=date(1984, 3, 2), home=home),
        "jane": add_person(database, "Jane", "Smith", date_of_birth=date(1990, 7, 14)),
        "smithers": add_person(database, "Waylon", "Smithers", date_of_birth=date(1984, 3, 2)),
        "johnson": add_person(database, "Smith", "Johnson", date_of_birth=date(1975, 1, 1)),
        "obrien": add_person(database, "Sean", "O'Brien"),
    }
    add_marker(database, ids["john"], "VIOLENT")
    add_marker(database, ids["john"], "RSO")
    return ids


def found(database, operator, query, limit=10):
    return [
        (p.forename, p.surname)
        for p in persons.find_persons(database.uow(), operator, query, limit, today=date.today())
    ]


# Ranked (person search): exact names first, a surname before a forename, then prefixes.
@pytest.mark.parametrize(
    ("query", "names"),
    [
        (
            "smith",
            [("Jane", "Smith"), ("John", "Smith"), ("Smith", "Johnson"), ("Waylon", "Smithers")],
        ),
        (
            "SMITH",
            [("Jane", "Smith"), ("John", "Smith"), ("Smith", "Johnson"), ("Waylon", "Smithers")],
        ),
        ("smith john", [("John", "Smith"), ("Smith", "Johnson")]),  # either order
        ("john smith", [("John", "Smith"), ("Smith", "Johnson")]),
        ("j smith", [("Jane", "Smith"), ("John", "Smith"), ("Smith", "Johnson")]),
        ("smith 1984-03-02", [("John", "Smith"), ("Waylon", "Smithers")]),
        ("smith 02/03/1984", [("John", "Smith"), ("Waylon", "Smithers")]),
        ("02/03/1984", [("John", "Smith"), ("Waylon", "Smithers")]),
        ("o'brien", [("Sean", "O'Brien")]),
        ("smi%", []),  # a wildcard is a character
        ("nobody", []),
    ],
)
def test_people_are_found_by_name_prefixes_and_date_of_birth(
    database, operator, people, query, names
):
    assert found(database, operator, query) == names


def test_a_result_carries_address_and_markers_and_the_search_is_audited(database, operator, people):
    john = persons.find_persons(
        database.uow(), operator, "smith john 1984-03-02", today=date.today()
    )[0]
    assert (john.id, john.name, john.address) == (
        people["john"],
        "John Smith",
        "12 Mill Lane, Leeds, LS6 2AB",
    )
    assert [m.label for m in john.markers] == ["REGISTERED SEX OFFENDER", "VIOLENT"]
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.object_type, event.terminal) == (
            "person.search",
            "person",
            "192.0.2.30",
        )
        assert event.detail == f"query='smith john 1984-03-02'; shown: {people['john']}"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "type a surname"),
        ("   ", "type a surname"),
        ("smith 31/02/1984", "31/02/1984 is not a real date"),
        ("smith\x1b", "control character"),
    ],
)
def test_a_search_that_cannot_run_says_why(database, operator, query, message):
    with pytest.raises(PersonInputError) as refused:
        persons.find_persons(database.uow(), operator, query, today=date.today())
    assert refused.value.field == "query" and message in refused.value.message


def create(database, operator, **answers):
    fields = dict(forename="John", surname="Smith", date_of_birth=date(1984, 3, 2), gender=None)
    fields.update(answers)
    return persons.create_person(database.uow(), operator, **fields, today=date.today())


@pytest.mark.parametrize(
    ("answers", "why"),
    [
        ({}, "same name and date of birth"),
        ({"forename": "JOHN", "surname": "smith"}, "any case"),
        ({"date_of_birth": date(1984, 2, 3)}, "day and month swapped"),
        ({"forename": "Johnny"}, "first three letters"),
        ({"date_of_birth": None}, "same name, no date of birth given"),
    ],
)
def test_a_likely_duplicate_is_offered_before_a_new_person_is_made(
    database, operator, people, answers, why
):
    before = _count(database)
    with pytest.raises(PossibleDuplicate) as duplicate:
        create(database, operator, **answers)
    assert [c.id for c in duplicate.value.candidates] == [people["john"]], why
    assert duplicate.value.candidates[0].markers  # the operator sees who it may be
    assert _count(database) == before
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.outcome, event.object_id) == (
            "person.create",
            "refused",
            str(people["john"]),
        )


def test_a_person_on_record_without_a_date_of_birth_matches_by_name(database, operator, people):
    with pytest.raises(PossibleDuplicate) as duplicate:
        create(
            database, operator, forename="Sean", surname="O'Brien", date_of_birth=date(1970, 5, 5)
        )
    assert [c.id for c in duplicate.value.candidates] == [people["obrien"]]


def test_a_different_person_is_created_and_a_confirmed_one_too(database, operator, people):
    other = create(database, operator, date_of_birth=date(1985, 3, 2), gender="male")
    assert (other.forename, other.surname, other.date_of_birth, other.markers) == (
        "John",
        "Smith",
        date(1985, 3, 2),
        (),
    )
    confirmed = create(database, operator, confirmed_new=True)
    assert confirmed.id not in (other.id, people["john"])
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.outcome, event.object_id) == (
            "person.create",
            "success",
            str(confirmed.id),
        )
        assert uow.persons.get(confirmed.id).created_by_id == operator.staff_id


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"forename": " "}, "forename", "forename is required"),
        ({"surname": ""}, "surname", "surname is required"),
        ({"surname": "S" * 81}, "surname", "the limit is 80"),
        ({"forename": "Jo\nhn"}, "forename", "single line"),
        ({"surname": "Sm\x00ith"}, "surname", "control character (U+0000)"),
        ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth", "in the future"),
        ({"date_of_birth": date(1850, 1, 1)}, "date_of_birth", "before 1900"),
        ({"gender": "g" * 17}, "gender", "the limit is 16"),
    ],
)
def test_bad_person_input_is_named(database, operator, answers, field, message):
    with pytest.raises(PersonInputError) as refused:
        create(database, operator, **answers)
    assert (refused.value.field, message in refused.value.message) == (field, True)


def test_hostile_names_are_kept_verbatim(database, operator):
    made = create(
        database,
        operator,
        forename="[bold]Bobby[/]",
        surname="Tables'); --\u200b",
        date_of_birth=None,
    )
    again = persons.person_markers(database.uow(), operator, made.id, today=date.today())
    assert (again.forename, again.surname) == ("[bold]Bobby[/]", "Tables'); --\u200b")


def test_markers_of_one_person_are_audited_as_a_view(database, operator, people):
    john = persons.person_markers(database.uow(), operator, people["john"], today=date.today())
    assert [m.code for m in john.markers] == ["RSO", "VIOLENT"]
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.object_id) == ("person.view", str(people["john"]))
    with pytest.raises(PersonNotFound):
        persons.person_markers(database.uow(), operator, 987654, today=date.today())


def _count(database) -> int:
    from sqlalchemy import func, select

    with database.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Person))
