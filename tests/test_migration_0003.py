"""Migration 0003 keys the names of a populated 0002 database, on the backend under test.

People and aliases are written at 0002 with Core against the reflected 0002 tables (no
key columns yet), then the database is upgraded to head: every row gets the keys the
program would have written, the schema matches the models, and person search finds the
old rows by a variant spelling.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, select

from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.schema import SCHEMA_HEAD, alembic_config
from controlroom.data.search import include_name
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.phonetics import name_keys
from controlroom.domain.roles import Role
from controlroom.services.person_search import search_persons

CREATED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NAMES = [
    ("Muhammad", "Smyth"),
    ("Zoë", "O'Brien"),
    ("Kathryn", "Hughes-Whitfield"),
    ("Jon", "Mc Donald"),
]


@pytest.fixture
def empty_url(databases, tmp_path):
    url = databases.create_empty(tmp_path, "at_0002")
    yield url
    databases.drop(url)


def test_a_populated_0002_database_gets_its_name_keys(empty_url):
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0002")
            tables = MetaData()
            tables.reflect(bind=connection)
            person, alias = tables.tables["person"], tables.tables["person_alias"]
            assert "surname_key" not in person.c  # really the 0002 shape
            staff = connection.execute(
                tables.tables["staff"]
                .insert()
                .values(
                    username="old.supervisor",
                    display_name="Old Supervisor",
                    role="supervisor",
                    active=True,
                    locked=False,
                    created_at=CREATED,
                )
            ).inserted_primary_key[0]
            ids = [
                connection.execute(
                    person.insert().values(
                        forename=forename,
                        surname=surname,
                        date_of_birth=date(1980, 1, 2),
                        restricted=False,
                        created_at=CREATED,
                    )
                ).inserted_primary_key[0]
                for forename, surname in NAMES
            ]
            connection.execute(
                alias.insert().values(
                    person_id=ids[0], forename="Mo", surname="Smith", kind="nickname"
                )
            )
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            assert context.get_current_revision() == SCHEMA_HEAD
            assert compare_metadata(context, all_tables()) == []
            person = all_tables().tables["person"]
            rows = connection.execute(select(person).order_by(person.c.id)).mappings().all()
            for row, (forename, surname) in zip(rows, NAMES, strict=True):
                keys = name_keys(surname)
                assert (
                    row["forename_key"],
                    row["surname_key"],
                    row["surname_key_first"],
                    row["surname_key_last"],
                ) == (name_keys(forename).whole, keys.whole, keys.first, keys.last)
            alias = all_tables().tables["person_alias"]
            assert connection.execute(select(alias.c.forename_key, alias.c.surname_key)).one() == (
                name_keys("Mo").whole,
                name_keys("Smith").whole,
            )
    finally:
        engine.dispose()

    database = Database(empty_url)
    try:
        actor = Actor(staff, "old.supervisor", Role.SUPERVISOR, "local")
        today = CREATED.date()
        for query, wanted in (
            ("mohammed smith", ids[0]),
            ("zoe obrien", ids[1]),
            ("catherine whitfield", ids[2]),
            ("john macdonald", ids[3]),
        ):
            assert [h.person_id for h in search_persons(database.uow(), actor, query, today=today)][
                :1
            ] == [wanted]
    finally:
        database.dispose()
