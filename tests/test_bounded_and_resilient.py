"""The smaller holes of issue 16 ("Why" 8 and 10): queries bounded with a message,
settings validated at load, secrets masked whatever characters they hold, and one bad
audit row (or a deleted chain head) no longer making every command fail, while `audit
verify` always runs and reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, insert

from controlroom.config import ConfigError, load_settings, scrub_secrets
from controlroom.data.models import AuditChainHead, AuditEvent
from controlroom.domain.roles import Role
from controlroom.services import person_search
from controlroom.services.person_search import QueryTooLong
from tests.audit_stations import enrol, station_url, take_audit_offline
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.factories import add_person, staff_actor

SURNAMES = (
    "smith jones taylor brown wilson evans thomas roberts johnson walker wright robinson "
    "thompson white hughes"
).split()


# --- queries bounded ---------------------------------------------------------------


def test_a_fifteen_word_person_query_is_refused_with_a_message(database):
    """It crashed SQLite ("Expression tree is too large") and printed the SQL."""
    add_person(database, "Zoe", "Smith", date_of_birth=date(1990, 1, 2))
    actor = staff_actor(database, Role.SUPERVISOR)
    with pytest.raises(QueryTooLong) as refused:
        person_search.search_persons(
            database.uow(), actor, " ".join(SURNAMES), today=date(2026, 1, 1)
        )
    assert refused.value.field == "query"
    assert "at most 6 names" in refused.value.message
    # Six names still search.
    hits = person_search.search_persons(
        database.uow(), actor, " ".join(SURNAMES[:6]), today=date(2026, 1, 1)
    )
    assert isinstance(hits, list)


def test_the_command_says_so_and_prints_no_sql(monkeypatch, tmp_path, capsys, database_url):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    enrol(database_url, Role.SUPERVISOR, "bounded.super")
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: "bounded.super")
    result = run_cli(capsys, "search", "person", " ".join(SURNAMES), "--database-url", database_url)
    assert result.code == 2
    assert "search person: a search takes at most 6 names" in result.err
    assert "SELECT" not in result.err + result.out and "Traceback" not in result.err


def test_an_unexpected_failure_prints_its_kind_never_its_text(monkeypatch, tmp_path, capsys):
    """Whatever fails, the command prints the kind of failure and where the details
    are, never the exception's text (a database error carries its SQL and parameters)."""
    from controlroom.cli import search

    isolate_cli_environment(monkeypatch, tmp_path, columns=200)

    def boom(args):
        raise RuntimeError("SELECT secret FROM person WHERE name = 'Zoe Smith'")

    # The command's function is looked up in its module when the command runs.
    monkeypatch.setattr(search, "cmd_search", boom)
    result = run_cli(capsys, "search", "person", "x")
    assert result.code == 1
    assert "the command failed (RuntimeError)" in result.err
    assert "SELECT" not in result.err and "Zoe" not in result.err


# --- settings validated at load ----------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "0.1", "99999", "fast"])
def test_a_board_refresh_out_of_range_is_refused_at_load(tmp_path, value):
    """-1 gave a blank board at 89% CPU."""
    environ = {
        "CONTROLROOM_DATA_DIR": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CONTROLROOM_BOARD_REFRESH_SECONDS": value,
    }
    with pytest.raises(ConfigError, match="CONTROLROOM_BOARD_REFRESH_SECONDS must be"):
        load_settings(environ=environ)
    config = tmp_path / "config.toml"
    config.write_text(f'board_refresh_seconds = "{value}"\nclaim_stale_minutes = 10\n')
    with pytest.raises(ConfigError, match="board_refresh_seconds must be"):
        load_settings(config_path=config, environ={"CONTROLROOM_DATA_DIR": str(tmp_path)})


def test_a_sensible_refresh_and_other_numbers_load(tmp_path):
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "CONTROLROOM_BOARD_REFRESH_SECONDS": "2"}
    )
    assert settings.board_refresh_seconds == 2.0
    config = tmp_path / "config.toml"
    config.write_text("claim_stale_minutes = nan\n")
    with pytest.raises(ConfigError, match="claim_stale_minutes must be more than 0"):
        load_settings(config_path=config, environ={"CONTROLROOM_DATA_DIR": str(tmp_path)})


# --- secrets masked whatever they hold ---------------------------------------------


@pytest.mark.parametrize("password", ["se@cr3t", "a@b@c0ffee", "p:ss@w0rd", "plain"])
def test_a_password_never_shows_in_an_error_text(password):
    url = f"postgresql+psycopg://app:{password}@dbhost/controlroom"
    # What the driver said when the URL parser cut the password at its first "@".
    tail = password.split("@", 1)[-1]
    said = f"failed to resolve host '{tail}@dbhost': Name or service not known ({password})"
    scrubbed = scrub_secrets(said, url)
    assert password not in scrubbed and f"{tail}@" not in scrubbed, scrubbed
    assert "'***@dbhost'" in scrubbed


def test_the_command_never_prints_the_tail_of_a_password(monkeypatch, tmp_path, capsys):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    url = "postgresql+psycopg://app:se@cr3tpw@nonexistent.invalid/controlroom"
    result = run_cli(capsys, "db", "current", "--database-url", url)
    assert result.code != 0
    assert "cr3tpw" not in result.err + result.out and "se@" not in result.err + result.out


# --- one bad audit row ----------------------------------------------------------------


def verify(monkeypatch, tmp_path, capsys, url: str, user: str):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: user)
    return run_cli(capsys, "audit", "verify", "--database-url", url)


def test_an_unexpected_row_and_a_deleted_head_leave_commands_working(
    monkeypatch, tmp_path, capsys, database, database_url
):
    """A row inserted behind the program's back took the next position, and a deleted
    head sent the chain back to 1: every audited command failed, `audit verify` too."""
    enrol(database_url, Role.SUPERVISOR, "chain.super")
    with database.engine.begin() as connection:
        last = max(
            connection.scalars(
                AuditEvent.__table__.select().with_only_columns(AuditEvent.__table__.c.chain_seq)
            ).all()
        )
        connection.execute(
            insert(AuditEvent.__table__).values(
                chain_seq=last + 1,
                occurred_at=datetime(2026, 11, 26, tzinfo=UTC),
                actor="intruder",
                staff_id=None,
                terminal="local",
                action="person.view",
                object_type="person",
                object_id="1",
                outcome="success",
                justification=None,
                detail=None,
                prev_hash="0" * 64,
                event_hash="f" * 64,
            )
        )
    result = verify(monkeypatch, tmp_path, capsys, database_url, "chain.super")
    assert result.code == 1, result.err
    assert f"audit trail BROKEN at event {last + 1}" in result.out
    # Commands go on working (this one signed in and audited itself), and so does the
    # next verify, with the head deleted as well.
    with database.engine.begin() as connection:
        connection.execute(delete(AuditChainHead.__table__))
    again = verify(monkeypatch, tmp_path, capsys, database_url, "chain.super")
    assert again.code == 1, again.err
    assert "audit trail BROKEN" in again.out
    assert "could not be written" not in again.err


def test_verify_runs_and_reports_when_the_trail_cannot_be_written(
    monkeypatch, tmp_path, capsys, database_url
):
    enrol(database_url, Role.SUPERVISOR, "chain.super")
    enrol(database_url, Role.CALL_HANDLER, "chain.handler")
    take_audit_offline(database_url)
    url = station_url(database_url)
    result = verify(monkeypatch, tmp_path, capsys, url, "chain.super")
    assert result.code == 0, result.err
    assert "audit trail intact" in result.out
    assert "this check could not be written to the audit trail" in result.err
    refused = verify(monkeypatch, tmp_path, capsys, url, "chain.handler")
    assert refused.code == 2 and "intact" not in refused.out
    assert "only supervisors and administrators" in refused.err
