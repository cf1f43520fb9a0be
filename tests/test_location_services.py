"""Location services on a real database: matching typed text to known places as the
operator types, and the context the entry form shows by itself (history, hazards and
the markers of the people who live there), with its audit event.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.services import incidents, locations
from controlroom.services.incidents import NewIncident
from controlroom.services.locations import LocationNotFound
from tests.factories import add_location, add_marker, add_person

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


@pytest.fixture
def operator(supervisor) -> Actor:
    return Actor(supervisor.staff_id, supervisor.username, supervisor.role, terminal="192.0.2.20")


@pytest.fixture
def streets(database):
    ids = {
        "mill12": add_location(database, "12 Mill Lane", street="Mill Lane", postcode="LS6 2AB"),
        "mill14": add_location(database, "14 Mill Lane", street="Mill Lane", postcode="LS6 2AD"),
        "oak": add_location(database, "3 Oak Road", street="Oak Road", postcode="LS6 3QQ"),
        "ls60": add_location(database, "9 Elm Grove", street="Elm Grove", postcode="LS60 1AA"),
        "york": add_location(
            database, "1 Mill Lane", street="Mill Lane", town="York", postcode="YO1 7HH"
        ),
        "odd": add_location(
            database, "Unit 100% Trading Estate", street="Trading Estate", postcode="LS9 8AA"
        ),
        "flat": add_location(
            database, "Flat A1, 5 Station Road", street="Station Road", postcode="LS1 4DY"
        ),
    }
    return ids


def matched(database, text, limit=8):
    return [m.address for m in locations.match_locations(database.uow(), text, limit)]


@pytest.mark.parametrize(
    ("typed", "addresses"),
    [
        ("LS6 2AB", ["12 Mill Lane"]),
        ("ls62ab", ["12 Mill Lane"]),
        ("LS6", ["12 Mill Lane", "14 Mill Lane", "3 Oak Road"]),  # the district, not LS60
        ("ls6 2", ["12 Mill Lane", "14 Mill Lane"]),
        ("14 LS6", ["14 Mill Lane"]),  # other words narrow it
        ("oak ls6", ["3 Oak Road"]),
        ("mill lane", ["1 Mill Lane", "12 Mill Lane", "14 Mill Lane"]),
        ("MILL   La", ["1 Mill Lane", "12 Mill Lane", "14 Mill Lane"]),
        ("mill lane york", ["1 Mill Lane"]),  # the town narrows it
        ("MILL york", ["1 Mill Lane"]),
        ("12 mill", ["12 Mill Lane"]),
        ("1 mill", ["1 Mill Lane", "12 Mill Lane", "14 Mill Lane"]),  # "1" starts 12 and 14
        ("lane", []),  # the start of a street name
        ("100% trading", ["Unit 100% Trading Estate"]),  # % is a character, not a wildcard
        ("1_ trading", []),
        ("a1 station", ["Flat A1, 5 Station Road"]),  # A1 is an outward code too
        ("LS9 9ZZ", []),  # a postcode with nothing in it
        ("12", []),
        ("nowhere", []),
        ("", []),
        ("   ", []),
    ],
)
def test_typed_text_matches_known_locations(database, streets, typed, addresses):
    assert matched(database, typed) == addresses


def test_matches_are_limited_and_carry_coordinates(database, streets):
    assert len(matched(database, "mill", limit=2)) == 2
    match = locations.match_locations(database.uow(), "LS6 2AB")[0]
    assert (match.id, match.postcode, match.town, match.latitude) == (
        streets["mill12"],
        "LS6 2AB",
        "Leeds",
        53.82,
    )
    assert match.label == "12 Mill Lane, Leeds LS6 2AB"


def test_matching_writes_no_audit_event(database, streets):
    with database.uow() as uow:
        before = uow.audit.count()
    matched(database, "mill")
    with database.uow() as uow:
        assert uow.audit.count() == before


def _incident_at(database, operator, location_id, opened_at, type_code="NOISE"):
    form = NewIncident(
        idempotency_key=uuid.uuid4().hex,
        type_code=type_code,
        location_text="12 Mill Lane",
        location_id=location_id,
    )
    return incidents.save_new_incident(database.uow(), operator, form, opened_at, grade_codes())


def test_the_context_of_a_location(database, operator):
    home = add_location(database, "12 Mill Lane", hazards=("DOG ON PREMISES",))
    with database.uow() as uow:
        from controlroom.data.models import LocationHazard

        uow.session.add(
            LocationHazard(
                location_id=home, hazard="FIREARMS HELD", note="Shotgun certificate", set_at=NOW
            )
        )
        uow.commit()
    elsewhere = add_location(database, "1 Elsewhere")
    made = [
        _incident_at(database, operator, home, NOW - timedelta(days=d))
        for d in (300, 200, 100, 50, 20, 10, 1)
    ]
    _incident_at(database, operator, home, NOW - timedelta(days=400))  # older than a year
    _incident_at(database, operator, elsewhere, NOW - timedelta(days=1))

    offender = add_person(
        database,
        "Violet",
        "Offender",
        date_of_birth=date(1980, 1, 2),
        home=home,
        home_from=date(2020, 1, 1),
    )
    add_marker(database, offender, "VIOLENT", note="Assaulted officers 2024")
    add_marker(database, offender, "RSO")
    add_marker(database, offender, "DRUGS", valid_to=date(2025, 1, 1))  # expired
    quiet = add_person(database, "Quinn", "Adams", home=home)
    moved = add_person(database, "Mo", "Ved", home=home, home_to=date(2025, 6, 1))
    add_marker(database, moved, "FIREARMS")
    future = add_person(database, "Fu", "Ture", home=home, home_from=date(2027, 1, 1))
    add_marker(database, future, "WEAPONS", valid_from=date(2020, 1, 1))
    add_person(database, "Else", "Where", home=elsewhere)

    context = locations.location_context(database.uow(), operator, home, NOW)
    assert context.location.id == home and context.location.address == "12 Mill Lane"
    assert context.incidents_12m == 7
    assert [r.reference for r in context.recent] == [m.reference for m in made[::-1][:5]]
    assert set(context.hazards) == {"DOG ON PREMISES", "FIREARMS HELD — Shotgun certificate"}
    assert [(p.name, [m.label for m in p.markers]) for p in context.people] == [
        ("Violet Offender", ["REGISTERED SEX OFFENDER", "VIOLENT"]),
        ("Quinn Adams", []),
    ]
    assert context.people[0].markers[1].note == "Assaulted officers 2024"
    assert context.people[0].date_of_birth == date(1980, 1, 2)
    assert quiet in {p.person_id for p in context.people}

    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.object_type, event.object_id, event.terminal, event.detail) == (
            "location.context",
            "location",
            str(home),
            "192.0.2.20",
            f"markers shown for persons: {offender}",
        )


def test_a_quiet_location_has_an_empty_context(database, operator):
    place = add_location(database, "7 Quiet Close", latitude=None, longitude=None)
    context = locations.location_context(database.uow(), operator, place, NOW)
    assert (context.incidents_12m, context.recent, context.hazards, context.people) == (
        0,
        (),
        (),
        (),
    )


def test_an_unknown_location(database, operator):
    with pytest.raises(LocationNotFound):
        locations.location_context(database.uow(), operator, 987654, NOW)


def test_every_writer_keys_a_location_for_matching(database):
    """Bulk inserts (the synthetic generator's) and ORM changes keep the street key."""
    from sqlalchemy import insert, select

    from controlroom.data.models import Location

    with database.uow() as uow:
        uow.session.execute(
            insert(Location.__table__),
            [
                {
                    "address": "2 Bulk Row",
                    "street": "Bulk  Row",
                    "postcode": "LS2 7AA",
                    "verified": True,
                    "created_at": NOW,
                },
                {
                    "address": "The Old Mill",
                    "street": None,
                    "postcode": None,
                    "verified": True,
                    "created_at": NOW,
                },
            ],
        )
        uow.commit()
    assert matched(database, "bulk r") == ["2 Bulk Row"]
    assert matched(database, "the old") == ["The Old Mill"]  # no street: keyed by address
    with database.uow() as uow:
        renamed = uow.session.scalars(
            select(Location).where(Location.address == "2 Bulk Row")
        ).one()
        renamed.street = "Renamed Street"
        uow.commit()
    assert matched(database, "bulk") == []
    assert matched(database, "renamed") == ["2 Bulk Row"]
