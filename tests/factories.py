"""Small, explicit rows for tests that need a few records rather than the synthetic force."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select

from controlroom.data.models import Incident
from controlroom.data.uow import Database
from tests.databases import SEED_ANCHOR, TEST_ADMIN

_numbers = itertools.count(1)


def add_incident(
    database: Database,
    *,
    grade: str = "G2",
    status: str = "open",
    type_code: str = "DOM",
    age: timedelta = timedelta(hours=1),
    location_text: str = "1 Test Street",
    location_id: int | None = None,
) -> str:
    with database.uow() as uow:
        opener = uow.staff.by_username(TEST_ADMIN)
        number = next(_numbers)
        incident = Incident(
            reference=f"CR-20261126-{number:04d}",
            opened_at=SEED_ANCHOR - age,
            opened_by_id=opener.id,
            workstation="WS-TEST",
            opening_type_code=type_code,
            grade=grade,
            status=status,
            location_text=location_text,
            location_id=location_id,
            closed_at=SEED_ANCHOR if status == "closed" else None,
        )
        uow.session.add(incident)
        uow.commit()
        return incident.reference


def set_operator(
    database: Database,
    *,
    display_name: str | None = None,
    station: str | None = None,
    force_name: str | None = None,
    environment: str | None = None,
) -> None:
    with database.uow() as uow:
        operator = uow.staff.by_username(TEST_ADMIN)
        if display_name is not None:
            operator.display_name = display_name
        if station is not None:
            operator.station = station
        info = uow.database.get()
        if force_name is not None:
            info.force_name = force_name
        if environment is not None:
            info.environment = environment
        uow.commit()


def opened_at(age: timedelta) -> datetime:
    return SEED_ANCHOR - age


# --- places and people (appended for the call-handling tests) --------------------------


def add_location(
    database: Database,
    address: str = "12 Mill Lane",
    *,
    street: str | None = "Mill Lane",
    town: str | None = "Leeds",
    postcode: str | None = "LS6 2AB",
    latitude: float | None = 53.8200,
    longitude: float | None = -1.5800,
    hazards: tuple[str, ...] = (),
) -> int:
    from controlroom.data.models import Location, LocationHazard

    with database.uow() as uow:
        location = Location(
            address=address,
            street=street,
            town=town,
            postcode=postcode,
            latitude=latitude,
            longitude=longitude,
            verified=True,
        )
        uow.session.add(location)
        uow.flush()
        for hazard in hazards:
            uow.session.add(LocationHazard(location_id=location.id, hazard=hazard))
        uow.commit()
        return location.id


def add_person(
    database: Database,
    forename: str = "Alex",
    surname: str = "Example",
    *,
    date_of_birth=None,
    home: int | None = None,
    home_from=None,
    home_to=None,
) -> int:
    from controlroom.data.cold_models import Person, PersonAddress

    with database.uow() as uow:
        person = Person(forename=forename, surname=surname, date_of_birth=date_of_birth)
        uow.session.add(person)
        uow.flush()
        if home is not None:
            uow.session.add(
                PersonAddress(
                    person_id=person.id,
                    location_id=home,
                    kind="home",
                    valid_from=home_from,
                    valid_to=home_to,
                )
            )
        uow.commit()
        return person.id


def add_marker(
    database: Database,
    person_id: int,
    code: str = "VIOLENT",
    *,
    valid_from=None,
    valid_to=None,
    note: str | None = None,
) -> int:
    from datetime import date

    from controlroom.data.cold_models import WarningMarker

    with database.uow() as uow:
        marker = WarningMarker(
            person_id=person_id,
            marker_code=code,
            note=note,
            valid_from=valid_from or date(2020, 1, 1),
            valid_to=valid_to,
        )
        uow.session.add(marker)
        uow.commit()
        return marker.id


# --- intelligence (appended for the intelligence tests) ---------------------------------


def add_intel(
    database: Database,
    text: str = "Alex is believed to be dealing from the flat.",
    *,
    persons: tuple[int, ...] = (),
    locations: tuple[int, ...] = (),
    source: str = "2",
    intelligence: str = "B",
    conditions: str | None = None,
    restricted: bool = False,
    age: timedelta = timedelta(hours=1),
    supersedes_id: int | None = None,
    reference: str | None = None,
) -> int:
    """One report written straight to the database (handling C when `conditions` given),
    submitted `age` before the seed anchor by the test administrator."""
    from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject

    with database.uow() as uow:
        submitter = uow.staff.by_username(TEST_ADMIN)
        report = IntelligenceReport(
            reference=reference or f"IR-19000101-{next(_numbers):04d}",
            submitted_at=SEED_ANCHOR - age,
            submitted_by_id=submitter.id,
            source_grade=source,
            intelligence_grade=intelligence,
            handling_code="C" if conditions else "P",
            handling_conditions=conditions,
            text=text,
            restricted=restricted,
            supersedes_id=supersedes_id,
        )
        uow.session.add(report)
        uow.flush()
        for person_id in persons:
            uow.session.add(IntelligenceSubject(report_id=report.id, person_id=person_id))
        for location_id in locations:
            uow.session.add(IntelligenceSubject(report_id=report.id, location_id=location_id))
        uow.commit()
        return report.id


# --- staff of each role (appended for the access-control tests) ---------------------------


def staff_actor(database: Database, role, username: str | None = None, *, terminal: str = "local"):
    """An enrolled, active member of staff with `role` (created on first use: username
    `test.<role>` unless given), as the Actor the services take."""
    from controlroom.data.models import Staff
    from controlroom.domain.identity import Actor
    from controlroom.domain.roles import Role

    role = Role(role)
    username = username or f"test.{role.value}"
    with database.uow() as uow:
        staff = uow.staff.by_username(username)
        if staff is None:
            # Named as the database's creator is: display name = username.
            staff = Staff(
                username=username, display_name=username, role=role.value, active=True, locked=False
            )
            uow.session.add(staff)
            uow.commit()
        return Actor(
            staff_id=staff.id, username=staff.username, role=Role(staff.role), terminal=terminal
        )


def station_database(path, role="call_handler") -> str:
    """An SQLite production station database (as `controlroom` makes one), made by an
    administrator, with the OS user (the operator a real `controlroom` process runs as)
    enrolled as `role`: the creator of a database is its administrator, and
    administrators may not record incidents."""
    from controlroom.config import sqlite_url
    from controlroom.data.engine import make_engine
    from controlroom.data.schema import upgrade
    from controlroom.domain.environment import Environment
    from controlroom.domain.identity import process_account
    from controlroom.domain.roles import Role

    url = sqlite_url(path)
    engine = make_engine(url)
    try:
        upgrade(engine, environment=Environment.PRODUCTION, created_by="station.admin")
    finally:
        engine.dispose()
    database = Database(url)
    try:
        staff_actor(database, Role(role), process_account())
    finally:
        database.dispose()
    return url


# --- crime recording (issue 18) ----------------------------------------------------------


def seed_integrity_month(
    database: Database,
    *,
    month_start: datetime,
    incidents: int = 1000,
    unrecorded: int = 223,
    late: int = 50,
    opened_by: tuple[int, ...] = (),
) -> list[str]:
    """A month of `incidents` possible-crime incidents (one every ~40 minutes from
    `month_start`), of which all but `unrecorded` have a crime recorded within 24 h;
    `late` of the unrecorded have one recorded after 3 days (within 7), the rest none.
    Written with bulk inserts; returns the references of the unrecorded, in order."""
    from sqlalchemy import bindparam, insert, update

    from controlroom.data.cold_models import Crime

    with database.uow() as uow:
        staff = list(opened_by) or [uow.staff.by_username(TEST_ADMIN).id]
        rows = [
            {
                "reference": f"CR-INTEGRITY-{n:05d}",
                "opened_at": month_start + timedelta(minutes=40 * n),
                "opened_by_id": staff[n % len(staff)],
                "workstation": "WS-TEST",
                "opening_type_code": "ASLT",
                "grade": "G2",
                "status": "open",
                "location_text": "1 Test Street",
                "narrative": "",
                "possible_crime": True,
                "version": 1,
            }
            for n in range(incidents)
        ]
        uow.session.execute(insert(Incident.__table__), rows)
        ids = dict(
            uow.session.execute(
                select(Incident.reference, Incident.id).where(
                    Incident.reference.like("CR-INTEGRITY-%")
                )
            ).all()
        )
        # Every fourth-and-a-bit incident is the unrecorded kind, spread over the month.
        missed = {round(k * incidents / unrecorded) for k in range(unrecorded)}
        crimes = []
        for n, row in enumerate(rows):
            if n in missed:
                if late <= 0:
                    continue
                late -= 1
                delay = timedelta(days=3)
            else:
                delay = timedelta(hours=2)
            crimes.append(
                {
                    "reference": f"CRM-T-{n:06d}",
                    "incident_id": ids[row["reference"]],
                    "offence_code": "105A",
                    "recorded_at": row["opened_at"] + delay,
                    "recorded_by_id": staff[0],
                    "committed_from": row["opened_at"],
                    "location_text": "1 Test Street",
                    "domestic": False,
                    "state": "recorded",
                    "outcome_code": 0,
                    "version": 1,
                }
            )
        uow.session.execute(insert(Crime.__table__), crimes)
        # As `crimes.record_crimes` keeps it: how long after the report its crime came.
        table = Incident.__table__
        uow.session.execute(
            update(table)
            .where(table.c.id == bindparam("crime_incident"))
            .values(crime_recording_delay=bindparam("delay")),
            [
                {
                    "crime_incident": c["incident_id"],
                    "delay": c["recorded_at"] - c["committed_from"],
                }
                for c in crimes
            ],
        )
        uow.crimes.rebuild_month_counts()  # written in bulk, past the ORM
        uow.commit()
        return [rows[n]["reference"] for n in sorted(missed)]


# --- units (appended for the dispatch tests) ---------------------------------------------


def add_unit(
    database: Database,
    callsign: str,
    *,
    type_code: str = "IRV",
    status_code: str = "AV",
    latitude: float | None = 53.80,
    longitude: float | None = -1.55,
    skills: tuple[str, ...] = ("TA",),
    station: str = "Test Station",
    area: str = "LS",
) -> int:
    """A unit with one officer holding `skills`, in `status_code` since the seed anchor."""
    from controlroom.data.cold_models import UnitCrew
    from controlroom.data.models import Unit

    with database.uow() as uow:
        unit = Unit(
            callsign=callsign,
            type_code=type_code,
            station=station,
            area=area,
            status_code=status_code,
            status_since=SEED_ANCHOR - timedelta(minutes=30),
            latitude=latitude,
            longitude=longitude,
            change_seq=0,
        )
        uow.session.add(unit)
        uow.flush()
        uow.session.add(
            UnitCrew(unit_id=unit.id, collar_number="1234", name="PC Test", skills=" ".join(skills))
        )
        uow.commit()
        return unit.id
