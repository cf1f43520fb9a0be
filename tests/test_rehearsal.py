"""`controlroom db rehearse` (issue 19, item 4), on the backend under test: the pending
upgrade runs on a copy, the copy is checked (its revision, its audit chain, its rows per
table), the time is printed, and the database itself is not touched. Production's
records are never copied: a rehearsal there runs on a synthetic force of its size.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import column, select, table

from controlroom.data.models import DatabaseInfo
from controlroom.data.schema import (
    SCHEMA_HEAD,
    SchemaState,
    SchemaStatus,
    alembic_config,
    schema_state,
)
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.roles import Role
from controlroom.services.rehearsal import Rehearsal, TableCount, rehearse
from tests.databases import TEST_ADMIN
from tests.factories import add_incident, set_operator, staff_actor
from tests.maintenance import audit_actions, cli_as_operator

PREVIOUS = "0012"


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    return cli_as_operator(capsys, monkeypatch, tmp_path)


def behind(database: Database, revision: str = PREVIOUS) -> None:
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def scratch_databases(database: Database) -> list[str]:
    """PostgreSQL databases a rehearsal made beside this one (none must be left)."""
    if database.dialect == "sqlite":
        return []  # a file in a private temporary directory
    catalog = table("pg_database", column("datname"))
    with database.engine.connect() as connection:
        names = connection.scalars(select(catalog.c.datname)).all()
    own = database.engine.url.database or ""
    return [name for name in names if name.startswith(own) and "_rehearse_" in name]


def test_a_rehearsal_upgrades_a_copy_checks_it_and_leaves_the_database_alone(
    run, database, database_url
):
    for _ in range(3):
        add_incident(database)
    behind(database)

    result = run("db", "rehearse", "--database-url", database_url)
    assert result.code == 0, result.err
    assert f"upgrade {PREVIOUS} -> {SCHEMA_HEAD} on a copy:" in result.out
    assert "db current on the copy: current; audit verify on the copy: intact" in result.out
    assert "rehearsal passed" in result.out
    incident_row = next(line for line in result.out.splitlines() if "│ incident " in line)
    assert incident_row.split("│")[2:4] == [" 3           ", " 3          "]
    assert schema_state(database.engine) == SchemaState(SchemaStatus.BEHIND, PREVIOUS)
    actor, action, outcome, detail = audit_actions(database_url)[-1]
    assert (actor, action, outcome) == (TEST_ADMIN, "database.rehearse", "success")
    assert detail.startswith(f"{PREVIOUS} -> {SCHEMA_HEAD} on a copy in ")
    assert scratch_databases(database) == []


def test_production_records_are_never_copied_for_a_rehearsal(run, database, database_url):
    set_operator(database, environment="production")
    behind(database)
    result = run("db", "rehearse", "--database-url", database_url)
    assert result.code == 2
    assert "never copied" in result.err and "--production-shaped" in result.err
    assert audit_actions(database_url)[-1][1:3] == ("database.rehearse", "refused")


def test_production_is_rehearsed_on_a_synthetic_force_of_its_size(database):
    set_operator(database, environment="production")
    for _ in range(70):  # more than the smallest synthetic force
        add_incident(database)
    behind(database)

    steps: list[str] = []
    result = rehearse(database, TEST_ADMIN, "local", production_shaped=True, progress=steps.append)
    assert result.passed, result.problems
    assert result.production_shaped and result.environment is Environment.PRODUCTION
    assert (result.from_revision, result.to_state.revision) == (PREVIOUS, SCHEMA_HEAD)
    counts = {count.table: count for count in result.counts}
    assert counts["incident"].before == counts["incident"].after == 70
    assert counts["person"].before >= 50  # synthetic people: production has none here
    assert steps[0] == "building a synthetic force of the same size"
    with database.uow() as uow:  # production itself: still behind, still production
        assert uow.session.scalar(select(DatabaseInfo.environment)) == "production"
    assert schema_state(database.engine).revision == PREVIOUS
    assert scratch_databases(database) == []


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.DISPATCHER])
def test_only_administrators_rehearse(database, role):
    member = staff_actor(database, role)
    behind(database)
    with pytest.raises(PermissionError, match="may not back up, restore or rehearse"):
        rehearse(database, member.username, "local")
    assert audit_actions(database.url)[-1][:3] == (member.username, "database.maintain", "denied")


def test_a_migration_that_loses_rows_fails_the_rehearsal():
    state = SchemaState(SchemaStatus.CURRENT, SCHEMA_HEAD)
    kept = Rehearsal(
        environment=Environment.TEST,
        production_shaped=False,
        from_revision=PREVIOUS,
        to_state=state,
        copy_seconds=0.1,
        upgrade_seconds=0.2,
        audit_events=4,
        audit_intact=True,
        counts=(TableCount("person", 5, 5), TableCount("staff_session", 0, 0)),
    )
    assert kept.passed and kept.problems == ()
    lost = Rehearsal(**{**_fields(kept), "counts": (TableCount("person", 5, 4),)})
    assert not lost.passed
    assert lost.problems == ("person lost rows (5 -> 4)",)
    broken = Rehearsal(**{**_fields(kept), "audit_intact": False})
    assert broken.problems == ("the copy's audit chain does not verify",)


def _fields(rehearsal: Rehearsal) -> dict:
    return {name: getattr(rehearsal, name) for name in Rehearsal.__slots__}


LOSING_MIGRATION = f'''"""a later migration that loses every location (a rehearsal must catch it)

Revision ID: 9001
Revises: {SCHEMA_HEAD}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{SCHEMA_HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.delete(sa.table("location")))


def downgrade() -> None:
    pass
'''
FAILING_MIGRATION = LOSING_MIGRATION.replace(
    'op.execute(sa.delete(sa.table("location")))', 'raise RuntimeError("a typo in the migration")'
)


@pytest.fixture
def next_migration(monkeypatch, tmp_path):
    """This program ships migration 9001 (written by the test), so the database is behind."""
    import shutil
    from importlib import resources

    from controlroom.data import schema

    scripts = tmp_path / "scripts"
    shutil.copytree(
        resources.files("controlroom.db"), scripts, ignore=shutil.ignore_patterns("__pycache__")
    )
    real_config = schema.alembic_config

    def config_with_next(connection=None):
        config = real_config(connection)
        config.set_main_option("script_location", str(scripts))
        return config

    monkeypatch.setattr(schema, "alembic_config", config_with_next)
    monkeypatch.setattr(schema, "SCHEMA_HEAD", "9001")
    return lambda text: (scripts / "versions" / "9001_next.py").write_text(text, encoding="utf-8")


def test_a_migration_that_loses_rows_fails_its_rehearsal_and_not_the_database(
    run, database, database_url, next_migration
):
    from tests.factories import add_location

    next_migration(LOSING_MIGRATION)
    add_location(database)
    result = run("db", "rehearse", "--database-url", database_url)
    assert result.code == 1, result.err
    assert "REHEARSAL FAILED: location lost rows (1 -> 0)" in result.out
    assert schema_state(database.engine).revision == SCHEMA_HEAD  # untouched
    assert audit_actions(database_url)[-1][1:3] == ("database.rehearse", "failed")


def test_a_migration_that_fails_is_found_by_the_rehearsal(
    run, database, database_url, next_migration
):
    next_migration(FAILING_MIGRATION)
    result = run("db", "rehearse", "--database-url", database_url)
    assert result.code == 2
    assert "the upgrade failed on the copy: RuntimeError" in result.err
    assert schema_state(database.engine).revision == SCHEMA_HEAD
    assert audit_actions(database_url)[-1][1:3] == ("database.rehearse", "failed")
