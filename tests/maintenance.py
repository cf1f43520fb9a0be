"""What the backup and rehearsal tests share: the CLI run as a chosen OS user, and the
audit trail and row counts of a database read back."""

from __future__ import annotations

from sqlalchemy import func, select

from controlroom.data.uow import Database
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import TEST_ADMIN


def cli_as_operator(capsys, monkeypatch, tmp_path):
    """`run(*argv, as_user=...)`: the `controlroom` command in this process, run by
    `as_user` (the OS user the CLI takes as the operator; the test admin by default)."""
    isolate_cli_environment(monkeypatch, tmp_path, columns=100)
    operator = {"name": TEST_ADMIN}
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: operator["name"])

    def run(*argv: str, as_user: str = TEST_ADMIN):
        operator["name"] = as_user
        return run_cli(capsys, *argv)

    return run


def audit_actions(url: str) -> list[tuple[str, str, str, str]]:
    """(actor, action, outcome, detail) of every audit event, oldest first."""
    database = Database(url)
    try:
        with database.uow() as uow:
            return [
                (e.actor, e.action, e.outcome, e.detail or "")
                for e in reversed(uow.audit.latest(200))
            ]
    finally:
        database.dispose()


def count(url: str, model) -> int:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model.__table__))
    finally:
        database.dispose()
