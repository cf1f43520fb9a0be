"""Migrations: the models and the Alembic scripts agree, the schema state the app checks at
start-up is right, and `upgrade` is safe to repeat and keeps the reference tables in step
with db/*.csv.

Runs on the backend the fixtures use (PostgreSQL when CONTROLROOM_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import uuid
from importlib import resources

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, func, inspect, select, update

from controlroom.config import sqlite_url
from controlroom.data import schema
from controlroom.data.cold_models import MarkerType, all_tables
from controlroom.data.engine import make_engine
from controlroom.data.models import DatabaseInfo, IncidentType, Staff
from controlroom.data.schema import (
    SCHEMA_HEAD,
    SchemaState,
    SchemaStatus,
    head_revision,
    known_revisions,
    schema_state,
    sync_reference_tables,
    upgrade,
)
from controlroom.data.search import include_name
from controlroom.domain.environment import Environment
from controlroom.domain.roles import Role
from tests.databases import TEST_ADMIN

# Our own handle on Alembic's table, so the tests can stamp revisions without SQL text.
alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


@pytest.fixture
def engine(database_url):
    """An engine on a new database built by the migrations (the `database_url` fixture)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_url(databases, tmp_path):
    """A database with nothing in it, on the backend under test."""
    if databases.backend == "sqlite":
        yield sqlite_url(tmp_path / "empty.sqlite")
        return
    from psycopg import sql

    name = f"{databases.prefix}_empty_{uuid.uuid4().hex[:8]}"
    url = databases.url_for(name)
    with _admin_connection(databases) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield url
    databases.drop(url)


def _admin_connection(databases):
    import psycopg

    base = databases.base
    return psycopg.connect(
        host=base.host,
        port=base.port,
        user=base.username,
        password=base.password,
        dbname=base.database,
        autocommit=True,
    )


@pytest.fixture
def empty_engine(empty_url):
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def stamp(engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(update(alembic_version).values(version_num=revision))


def csv_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("controlroom.db").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model.__table__))


# --- models and migrations agree -------------------------------------------------------


def test_the_migrations_build_exactly_what_the_models_describe(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        differences = compare_metadata(context, all_tables())
    assert differences == [], "models and migrations disagree; write a migration:\n" + "\n".join(
        map(str, differences)
    )


def test_schema_head_is_the_newest_migration():
    assert SCHEMA_HEAD == head_revision()
    assert SCHEMA_HEAD in known_revisions()


def test_every_model_table_is_created(engine):
    tables = {
        name for name in inspect(engine).get_table_names() if include_name(name, "table", {})
    }  # not the full-text tables
    assert set(all_tables().tables) | {"alembic_version"} == tables


def test_the_migrations_downgrade_to_nothing_and_back(empty_engine):
    upgrade(empty_engine, created_by=TEST_ADMIN)
    with empty_engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    with empty_engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), "head")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, all_tables()) == []
        assert context.get_current_revision() == SCHEMA_HEAD


# --- schema state ----------------------------------------------------------------------


def test_a_new_database_is_empty_until_upgraded(empty_engine):
    assert schema_state(empty_engine) == SchemaState(SchemaStatus.EMPTY, None)
    assert upgrade(empty_engine, created_by=TEST_ADMIN) == SchemaState(
        SchemaStatus.CURRENT, SCHEMA_HEAD
    )
    assert schema_state(empty_engine) == SchemaState(SchemaStatus.CURRENT, SCHEMA_HEAD)


def test_a_revision_this_program_does_not_ship_is_unknown(engine):
    stamp(engine, "9f9f9f9f")  # e.g. written by a newer Control Room
    assert schema_state(engine) == SchemaState(SchemaStatus.UNKNOWN, "9f9f9f9f")


def test_tables_without_a_revision_stamp_are_unknown(empty_engine):
    all_tables().create_all(empty_engine)  # made by hand, not by the migrations
    assert schema_state(empty_engine) == SchemaState(SchemaStatus.UNKNOWN, None)


def test_a_known_older_revision_is_behind(engine):
    assert "0001" in known_revisions() and SCHEMA_HEAD != "0001"
    stamp(engine, "0001")  # as a database last migrated by an older Control Room
    assert schema_state(engine) == SchemaState(SchemaStatus.BEHIND, "0001")


NEXT_REVISION = "9001"
NOOP_MIGRATION = f'''"""a later migration that changes nothing

Revision ID: {NEXT_REVISION}
Revises: {SCHEMA_HEAD}
"""

revision = "{NEXT_REVISION}"
down_revision = "{SCHEMA_HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def test_a_database_left_behind_by_a_new_migration_upgrades_to_it(engine, monkeypatch, tmp_path):
    """The real path: this program ships a newer migration than the database has."""
    scripts = tmp_path / "scripts"
    shutil.copytree(
        resources.files("controlroom.db"), scripts, ignore=shutil.ignore_patterns("__pycache__")
    )
    (scripts / "versions" / f"{NEXT_REVISION}_noop.py").write_text(NOOP_MIGRATION, encoding="utf-8")
    real_config = schema.alembic_config

    def config_with_next(connection=None):
        config = real_config(connection)
        config.set_main_option("script_location", str(scripts))
        return config

    monkeypatch.setattr(schema, "alembic_config", config_with_next)
    monkeypatch.setattr(schema, "SCHEMA_HEAD", NEXT_REVISION)
    assert head_revision() == NEXT_REVISION
    assert schema_state(engine) == SchemaState(SchemaStatus.BEHIND, SCHEMA_HEAD)
    assert upgrade(engine) == SchemaState(SchemaStatus.CURRENT, NEXT_REVISION)
    assert count(engine, Staff) == 1  # not a new database: nobody else enrolled


# --- upgrade is idempotent and syncs the reference tables ------------------------------


def test_reference_tables_hold_exactly_the_csv_rows(engine):
    incident_types = csv_rows("incident_type.csv")
    marker_types = csv_rows("marker_type.csv")
    assert count(engine, IncidentType) == len(incident_types) > 0
    assert count(engine, MarkerType) == len(marker_types) > 0
    with engine.connect() as connection:
        labels = dict(connection.execute(select(IncidentType.code, IncidentType.label)).all())
    assert labels == {row["code"]: row["label"] for row in incident_types}


def test_upgrading_again_changes_nothing(engine):
    before = {
        model: count(engine, model) for model in (IncidentType, MarkerType, Staff, DatabaseInfo)
    }
    assert upgrade(engine, created_by="somebody.else") == SchemaState(
        SchemaStatus.CURRENT, SCHEMA_HEAD
    )
    assert upgrade(engine, created_by="somebody.else").status is SchemaStatus.CURRENT
    assert {model: count(engine, model) for model in before} == before
    with engine.begin() as connection:
        assert sync_reference_tables(connection) == 0
        assert connection.scalar(select(Staff.username)) == TEST_ADMIN


def test_upgrade_restores_a_label_changed_in_the_database(engine):
    code, label = next((r["code"], r["label"]) for r in csv_rows("marker_type.csv"))
    with engine.begin() as connection:
        connection.execute(
            update(MarkerType).where(MarkerType.code == code).values(label="tampered", active=False)
        )
    upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(
            select(MarkerType.label, MarkerType.active).where(MarkerType.code == code)
        ).one()
    assert tuple(row) == (label, True)


def test_a_code_dropped_from_the_csv_is_kept_but_made_inactive(engine, monkeypatch):
    retired = csv_rows("incident_type.csv")[0]["code"]
    real_read_csv = schema._read_csv

    def without_retired(name):
        return [row for row in real_read_csv(name) if row.get("code") != retired]

    monkeypatch.setattr(schema, "_read_csv", without_retired)
    with engine.begin() as connection:
        assert sync_reference_tables(connection) == 1
        assert sync_reference_tables(connection) == 0
    upgrade(engine)
    with engine.connect() as connection:
        active = dict(connection.execute(select(IncidentType.code, IncidentType.active)).all())
    assert active.pop(retired) is False  # still there: old incidents point at it
    assert set(active.values()) == {True}

    monkeypatch.setattr(schema, "_read_csv", real_read_csv)
    upgrade(engine)
    with engine.connect() as connection:
        assert (
            connection.scalar(select(IncidentType.active).where(IncidentType.code == retired))
            is True
        )


def test_a_code_added_to_the_csv_is_inserted(engine, monkeypatch):
    real_read_csv = schema._read_csv

    def with_new_marker(name):
        rows = real_read_csv(name)
        if name == "marker_type.csv":
            rows.append({"code": "NEWMK", "label": "NEW MARKER", "severity": "3"})
        return rows

    monkeypatch.setattr(schema, "_read_csv", with_new_marker)
    upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(
            select(MarkerType.label, MarkerType.severity, MarkerType.active).where(
                MarkerType.code == "NEWMK"
            )
        ).one()
    assert tuple(row) == ("NEW MARKER", 3, True)


# --- a new database knows what it is and who made it -----------------------------------


def test_a_new_database_records_its_environment_and_enrols_its_creator(empty_engine):
    upgrade(
        empty_engine,
        environment=Environment.TRAINING,
        synthetic=True,
        created_by="creator.x",
        force_name="Synthetic Shire Constabulary",
    )
    with empty_engine.connect() as connection:
        info = connection.execute(select(DatabaseInfo)).one()
        staff = connection.execute(select(Staff)).all()
    assert (info.environment, info.synthetic, info.created_by, info.force_name) == (
        "training",
        True,
        "creator.x",
        "Synthetic Shire Constabulary",
    )
    assert info.created_at is not None
    assert [(s.username, s.role, s.active, s.locked) for s in staff] == [
        ("creator.x", Role.ADMINISTRATOR.value, True, False)
    ]

    # A later upgrade by someone else neither re-labels the database nor enrols them.
    upgrade(empty_engine, environment=Environment.PRODUCTION, created_by="someone.else")
    with empty_engine.connect() as connection:
        assert connection.scalar(select(DatabaseInfo.environment)) == "training"
        assert connection.scalars(select(Staff.username)).all() == ["creator.x"]


def test_the_creator_defaults_to_the_os_user(empty_engine, monkeypatch):
    # The account of the real uid, not what LOGNAME/USER claim (issue 16).
    monkeypatch.setenv("LOGNAME", "claimed.admin")
    monkeypatch.setenv("USER", "claimed.admin")
    account = pwd.getpwuid(os.getuid()).pw_name
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.scalar(select(DatabaseInfo.environment)) == "production"
        assert connection.scalar(select(DatabaseInfo.created_by)) == account
        assert connection.scalars(select(Staff.username)).all() == [account]
