"""Migration 0004 adds person merging to a populated 0003 database, on the backend under
test, without rebuilding `person`: 0003's full-text triggers keep working (SQLite), the
schema matches the models, old rows read as not merged, and a merge works at once.
Downgrading to 0003 and back keeps the full text too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, column, inspect, select, table

from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.schema import SCHEMA_HEAD, alembic_config
from controlroom.data.search import include_name
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import person_merge
from controlroom.services.person_search import search_persons

CREATED = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
TODAY = CREATED.date()
FTS_TRIGGERS = {
    "person_name_fts_insert",
    "person_name_fts_update",
    "person_name_fts_delete",
    "person_alias_name_fts_insert",
    "person_alias_name_fts_update",
    "person_alias_name_fts_delete",
}


@pytest.fixture
def empty_url(databases, tmp_path):
    url = databases.create_empty(tmp_path, "at_0003")
    yield url
    databases.drop(url)


def triggers(connection) -> set[str]:
    if connection.dialect.name != "sqlite":
        return set(FTS_TRIGGERS)  # PostgreSQL has no triggers to lose
    sqlite_master = table("sqlite_master", column("type"), column("name"))
    return set(
        connection.scalars(select(sqlite_master.c.name).where(sqlite_master.c.type == "trigger"))
    )


def assert_matches_models(connection) -> None:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    assert compare_metadata(context, all_tables()) == []


def test_a_populated_0003_database_takes_person_merging(empty_url):
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0003")
            tables = MetaData()
            tables.reflect(bind=connection)
            person = tables.tables["person"]
            assert "merged_into_id" not in person.c  # really the 0003 shape
            assert "person_merge" not in tables.tables
            staff = connection.execute(
                tables.tables["staff"]
                .insert()
                .values(
                    username="old.super",
                    display_name="Old Super",
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
                        surname="Premerge",
                        date_of_birth=date(1979, 2, 3),
                        restricted=False,
                        created_at=CREATED,
                    )
                ).inserted_primary_key[0]
                for forename in ("Oliver", "Olly")
            ]
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == SCHEMA_HEAD
            assert_matches_models(connection)
            assert FTS_TRIGGERS <= triggers(connection)  # person was not rebuilt
            person = all_tables().tables["person"]
            assert connection.execute(select(person.c.merged_into_id)).scalars().all() == [
                None,
                None,
            ]
            assert "ix_person_merged_into_id" in {
                i["name"] for i in inspect(connection).get_indexes("person")
            }
    finally:
        engine.dispose()

    database = Database(empty_url)
    try:
        actor = Actor(staff, "old.super", Role.SUPERVISOR, "local")
        # Full text still finds old rows by a prefix, and new rows through the triggers.
        assert {
            h.person_id for h in search_persons(database.uow(), actor, "premer", today=TODAY)
        } == set(ids)
        person_merge.merge_persons(
            database.uow(), actor, ids[0], ids[1], "one man recorded twice in 2019"
        )
        assert [
            h.person_id for h in search_persons(database.uow(), actor, "olly premerge", today=TODAY)
        ] == [ids[0]]
    finally:
        database.dispose()


def test_down_to_0003_and_back_keeps_the_full_text(empty_url):
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0003")
            assert FTS_TRIGGERS <= triggers(connection)
            assert "merged_into_id" not in {
                c["name"] for c in inspect(connection).get_columns("person")
            }
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
            assert_matches_models(connection)
            assert FTS_TRIGGERS <= triggers(connection)
    finally:
        engine.dispose()
