"""Migration 0002 upgrades a 0001 database that holds data, on the backend under test.

The rows are written at 0001 with Core against the reflected 0001 tables (the models
describe 0002 now), then the database is upgraded to head: nothing is lost, the new
columns read as "not given", the schema matches the models, and the services work on it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, select
from sqlalchemy.exc import IntegrityError

from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.schema import SCHEMA_HEAD, alembic_config
from controlroom.data.search import include_name
from controlroom.data.uow import Database
from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import incidents, locations
from controlroom.services.incidents import NewIncident

OPENED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def empty_url(databases, tmp_path):
    url = databases.create_empty(tmp_path, "at_0001")
    yield url
    databases.drop(url)


def populate_at_0001(connection) -> dict[str, int]:
    """A small force at 0001: a member of staff, a place, a person, two incidents with a
    log and a linked person."""
    tables = MetaData()
    tables.reflect(bind=connection)
    t = tables.tables
    assert "thrive_skipped" not in t["incident"].c  # really the 0001 shape
    connection.execute(
        t["database_info"]
        .insert()
        .values(
            id=1,
            environment="test",
            synthetic=True,
            force_name="Old Force",
            created_at=OPENED,
            created_by="old.supervisor",
        )
    )
    staff = connection.execute(
        t["staff"]
        .insert()
        .values(
            username="old.supervisor",
            display_name="Old Supervisor",
            role="supervisor",
            active=True,
            locked=False,
            created_at=OPENED,
        )
    ).inserted_primary_key[0]
    connection.execute(
        t["incident_type"].insert(),
        [
            {
                "code": "NOISE",
                "label": "Noise nuisance",
                "heading": "Anti-Social Behaviour",
                "qualifier": "Nuisance",
                "domestic": False,
                "possible_crime": False,
                "suggested_grade": "G4",
                "active": True,
            },
        ],
    )
    location = connection.execute(
        t["location"]
        .insert()
        .values(
            address="12 Mill Lane",
            street="Mill Lane",
            town="Leeds",
            postcode="LS6 2AB",
            latitude=53.82,
            longitude=-1.58,
            verified=True,
            created_at=OPENED,
        )
    ).inserted_primary_key[0]
    person = connection.execute(
        t["person"]
        .insert()
        .values(
            forename="Old",
            surname="Record",
            date_of_birth=date(1970, 1, 1),
            restricted=False,
            created_at=OPENED,
        )
    ).inserted_primary_key[0]
    ids = {"staff": staff, "location": location, "person": person}
    for number, thrive in ((1, "Assessed before 0002"), (7, None)):
        incident = connection.execute(
            t["incident"]
            .insert()
            .values(
                reference=f"CR-20261126-{number:04d}",
                opened_at=OPENED,
                opened_by_id=staff,
                workstation="WS-OLD",
                opening_type_code="NOISE",
                grade="G4",
                status="open",
                location_id=location,
                location_text="12 Mill Lane",
                narrative="Old narrative",
                thrive_threat=thrive,
                domestic=False,
                child_present=False,
                weapons=False,
                possible_crime=False,
                version=3,
            )
        ).inserted_primary_key[0]
        connection.execute(
            t["incident_log_entry"]
            .insert()
            .values(
                incident_id=incident,
                entered_at=OPENED,
                entered_by_id=staff,
                kind="note",
                text=f"Old entry {number}",
            )
        )
        connection.execute(
            t["incident_person"]
            .insert()
            .values(
                incident_id=incident,
                person_id=person,
                role="caller",
                linked_at=OPENED,
                linked_by_id=staff,
            )
        )
        ids[f"incident{number}"] = incident
    return ids


def test_a_populated_0001_database_upgrades_to_head(empty_url):
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            ids = populate_at_0001(connection)
        # Foreign keys are on (SQLite) while it upgrades, as they are for `db upgrade`.
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            assert context.get_current_revision() == SCHEMA_HEAD
            assert compare_metadata(context, all_tables()) == []
            incident = all_tables().tables["incident"]
            rows = connection.execute(select(incident).order_by(incident.c.id)).mappings().all()
            assert [(r["reference"], r["version"], r["thrive_threat"]) for r in rows] == [
                ("CR-20261126-0001", 3, "Assessed before 0002"),
                ("CR-20261126-0007", 3, None),
            ]
            assert {
                (
                    r["thrive_skipped"],
                    r["idempotency_key"],
                    r["caller_phone"],
                    r["postcode"],
                    r["crime_reference"],
                    r["no_crime_reason"],
                )
                for r in rows
            } == {(False, None, None, None, None, None)}
            log = all_tables().tables["incident_log_entry"]
            assert connection.execute(
                select(log.c.text, log.c.idempotency_key).order_by(log.c.id)
            ).all() == [("Old entry 1", None), ("Old entry 7", None)]
            assert connection.execute(select(all_tables().tables["incident_sequence"])).all() == []
            location = all_tables().tables["location"]
            assert connection.execute(select(location.c.street_key)).scalars().all() == [
                "mill lane"
            ]
    finally:
        engine.dispose()

    # The services run on the upgraded database, numbering on from the old references.
    database = Database(empty_url)
    try:
        actor = Actor(ids["staff"], "old.supervisor", Role.SUPERVISOR, "local")
        old = incidents.view_incident_by_id(
            database.uow(), actor, ids["incident1"], today=date.today()
        )
        assert (old.version, old.thrive_skipped, old.thrive["threat"], old.location_verified) == (
            3,
            False,
            "Assessed before 0002",
            True,
        )
        assert [(p.name, p.role) for p in old.persons] == [("Old Record", "caller")]
        form = NewIncident(
            idempotency_key="after-upgrade",
            type_code="NOISE",
            location_text="12 Mill Lane, Leeds LS6 2AB",
            location_id=ids["location"],
        )
        saved = incidents.save_new_incident(
            database.uow(), actor, form, datetime(2026, 11, 26, 12, 0, tzinfo=UTC), grade_codes()
        )
        assert saved.reference == "CR-20261126-0008"
        assert [m.id for m in locations.match_locations(database.uow(), "12 mill")] == [
            ids["location"]
        ]
        regraded = incidents.change_grade(
            database.uow(), actor, ids["incident7"], "G2", "Escalating", 3, OPENED, grade_codes()
        )
        assert regraded.version == 4
        # The new idempotency key is unique in the upgraded schema too.
        with database.uow() as uow:
            uow.incidents.get(ids["incident7"]).idempotency_key = "after-upgrade"
            with pytest.raises(IntegrityError):
                uow.flush()
    finally:
        database.dispose()
