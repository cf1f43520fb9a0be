"""Backups that restore (issue 19, item 5), on the backend under test: `db backup`
writes a file and proves it by restoring it into a scratch database and verifying the
audit chain there; `db restore` puts it into a new or empty database, where `audit
verify` passes; `db upgrade` backs a production database up first. Administrators only,
audited. (PostgreSQL runs the real pg_dump and pg_restore.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import update

from controlroom.data.cold_models import Person
from controlroom.data.models import AuditEvent, Incident
from controlroom.data.schema import alembic_config, schema_state
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from tests.databases import TEST_ADMIN
from tests.factories import add_incident, set_operator, staff_actor
from tests.maintenance import audit_actions, cli_as_operator, count


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    return cli_as_operator(capsys, monkeypatch, tmp_path)


@pytest.fixture
def restored_url(databases, tmp_path):
    """Where a restore goes: a new SQLite file, or an empty PostgreSQL database."""
    url = databases.create_empty(tmp_path, "restored")
    yield url
    databases.drop(url)


def backup_file(databases, tmp_path) -> Path:
    return tmp_path / ("backup.sqlite" if databases.backend == "sqlite" else "backup.dump")


def test_backup_restore_and_audit_verify(
    run, database, database_url, restored_url, databases, tmp_path
):
    references = [add_incident(database, status=s) for s in ("open", "closed", "open")]
    path = backup_file(databases, tmp_path)

    result = run("db", "backup", "--database-url", database_url, "--to", str(path))
    assert result.code == 0, result.err
    assert "restored to a scratch database, audit trail intact" in result.out
    assert path.is_file() and path.stat().st_mode & 0o077 == 0  # the owner's only
    actor, action, outcome, detail = audit_actions(database_url)[-1]
    assert (actor, action, outcome) == (TEST_ADMIN, "database.backup", "success")
    assert path.name in detail and "audit chain intact" in detail

    result = run("db", "restore", "--database-url", restored_url, "--from", str(path))
    assert result.code == 0, result.err
    assert count(restored_url, Incident) == len(references)
    assert audit_actions(restored_url)[-1][1:3] == ("database.restore", "success")
    result = run("audit", "verify", "--database-url", restored_url)
    assert result.code == 0, result.err
    assert "audit trail intact" in result.out

    # A restore never overwrites a database: not the one restored, not the original.
    for target in (restored_url, database_url):
        before = audit_actions(target)
        result = run("db", "restore", "--database-url", target, "--from", str(path))
        assert result.code == 2
        assert "holds a database already" in result.err
        assert audit_actions(target) == before


def test_a_backup_never_overwrites_a_file(run, database_url, tmp_path):
    path = tmp_path / "taken.backup"
    path.write_text("an earlier backup")
    result = run("db", "backup", "--database-url", database_url, "--to", str(path))
    assert result.code == 2
    assert "exists already" in result.err
    assert path.read_text() == "an earlier backup"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CALL_HANDLER, Role.ANALYST])
def test_only_administrators_back_up_and_the_refusal_is_audited(
    run, database, database_url, tmp_path, role
):
    member = staff_actor(database, role)
    path = tmp_path / "refused.backup"
    result = run(
        "db", "backup", "--database-url", database_url, "--to", str(path), as_user=member.username
    )
    assert result.code == 2
    assert "may not back up" in result.err
    assert not path.exists()
    assert audit_actions(database_url)[-1][:3] == (member.username, "database.maintain", "denied")


def test_only_an_administrator_of_the_backup_restores_it(
    run, database, database_url, restored_url, databases, tmp_path
):
    supervisor = staff_actor(database, Role.SUPERVISOR)
    path = backup_file(databases, tmp_path)
    assert run("db", "backup", "--database-url", database_url, "--to", str(path)).code == 0
    result = run(
        "db",
        "restore",
        "--database-url",
        restored_url,
        "--from",
        str(path),
        as_user=supervisor.username,
    )
    assert result.code == 2
    assert "not an active administrator" in result.err
    assert schema_state(Database(restored_url).engine).status.value == "empty"


def test_a_backup_whose_audit_chain_does_not_verify_is_not_kept(
    run, database, database_url, tmp_path
):
    add_incident(database)
    with database.engine.begin() as connection:  # tampering, below the application
        connection.execute(update(AuditEvent).where(AuditEvent.id == 1).values(detail="edited"))
    path = tmp_path / "tampered.backup"
    result = run("db", "backup", "--database-url", database_url, "--to", str(path))
    assert result.code == 2
    assert "audit chain broken" in result.err
    assert not path.exists()
    assert audit_actions(database_url)[-1][1:3] == ("database.backup", "failed")


def test_upgrading_a_production_database_backs_it_up_first(run, database, database_url, tmp_path):
    set_operator(database, environment="production")
    add_incident(database)
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0012")
    path = tmp_path / "before-upgrade.backup"

    result = run("db", "upgrade", "--database-url", database_url, "--backup-to", str(path))
    assert result.code == 0, result.err
    assert f"backed up to {path}" in result.out
    assert schema_state(database.engine).status.value == "current"
    actions = [a[1] for a in audit_actions(database_url)]
    assert "database.backup" in actions

    # The file holds the database as it was before the upgrade.
    restored = tmp_path / "restored.sqlite"
    if database.dialect == "sqlite":
        url = f"sqlite+pysqlite:///{restored}"
        assert run("db", "restore", "--database-url", url, "--from", str(path)).code == 0
        assert schema_state(Database(url).engine).revision == "0012"
        assert count(url, Incident) == 1 and count(url, Person) == 0


def test_a_failed_backup_stops_the_upgrade(run, database, database_url, tmp_path):
    set_operator(database, environment="production")
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0012")
    taken = tmp_path / "taken.backup"
    taken.write_text("in the way")
    result = run("db", "upgrade", "--database-url", database_url, "--backup-to", str(taken))
    assert result.code == 2
    assert "not upgraded" in result.err
    assert schema_state(database.engine).revision == "0012"


def test_a_restore_may_make_its_database(run, database_url, databases, tmp_path):
    """A PostgreSQL database that does not exist yet is created (an SQLite file too)."""
    path = backup_file(databases, tmp_path)
    assert run("db", "backup", "--database-url", database_url, "--to", str(path)).code == 0
    if databases.backend == "sqlite":
        target = f"sqlite+pysqlite:///{tmp_path / 'new' / 'restored.sqlite'}"
    else:
        target = databases.url_for(f"{databases.prefix}_made_by_restore")
    try:
        result = run("db", "restore", "--database-url", target, "--from", str(path))
        assert result.code == 0, result.err
        assert run("audit", "verify", "--database-url", target).code == 0
    finally:
        databases.drop(target)
