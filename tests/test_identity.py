"""Who the operator is: the OS account of the process's real uid, never the environment.

Issue 16: sign-in trusted `getpass.getuser()`, which reads LOGNAME and USER first, so an
unenrolled account ran `LOGNAME=<a supervisor> controlroom audit verify`, and an analyst
enrolled a supervisor with `LOGNAME=root controlroom staff add …` (the audit row named
root). These tests run the real command as real OS accounts made for the test: the
child process gets the account's uid as its real uid (its effective uid stays root, so
it can still read this venv's interpreter, which may sit in root's private home).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from controlroom.cli import common
from controlroom.config import sqlite_url
from controlroom.data.engine import make_engine
from controlroom.data.schema import upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.identity import process_account, under_sshd
from controlroom.domain.roles import Role
from tests.factories import staff_actor

ROOT = Path(__file__).resolve().parents[1]


def test_logname_and_user_do_not_change_the_operator(monkeypatch):
    account = pwd.getpwuid(os.getuid()).pw_name
    monkeypatch.setenv("LOGNAME", "claimed.supervisor")
    monkeypatch.setenv("USER", "claimed.supervisor")
    monkeypatch.setenv("LNAME", "claimed.supervisor")
    monkeypatch.setenv("USERNAME", "claimed.supervisor")
    assert common._os_user() == account
    assert process_account() == account


def test_an_ssh_client_no_sshd_set_is_not_believed(monkeypatch):
    """The test runner has no sshd above it: an SSH_CLIENT here is the caller's claim."""
    if under_sshd() is not False:
        pytest.skip("this process runs under sshd, or the process table cannot be read")
    monkeypatch.setenv("SSH_CLIENT", "203.0.113.9 40000 22")
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.9 40000 198.51.100.1 22")
    assert common._terminal() == "local"


def test_sshd_among_the_ancestors_is_found(tmp_path):
    """A process table where this process's grandparent is sshd (and one where it is
    not), as /proc lays it out: `(comm)` may hold spaces and parentheses."""
    for pid, comm, ppid in ((30, "python3", 20), (20, "bash (x)", 10), (10, "sshd", 1)):
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(f"{pid} ({comm}) S {ppid} 1 1 0 -1\n")
    assert under_sshd(tmp_path, 30) is True
    (tmp_path / "10" / "stat").write_text("10 (systemd) S 1 1 1 0 -1\n")
    assert under_sshd(tmp_path, 30) is False
    (tmp_path / "20" / "stat").unlink()
    assert under_sshd(tmp_path, 30) is None


# --- real OS accounts ------------------------------------------------------------------


@pytest.fixture
def accounts():
    """Makes real OS accounts (no home, no shell) on request; removes them after."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("making an OS account needs root and useradd")
    made: list[str] = []

    def make() -> str:
        name = f"cr16{uuid.uuid4().hex[:8]}"
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            pytest.skip(f"useradd failed here: {result.stderr.strip()}")
        made.append(name)
        return name

    yield make
    for name in made:
        subprocess.run(["userdel", name], capture_output=True)


def run_as(account: str, tmp_path: Path, *argv: str, claim: str) -> subprocess.CompletedProcess:
    """`controlroom ARGV` with `account`'s uid as the real uid, claiming to be `claim`
    in every variable getpass reads."""
    uid = pwd.getpwnam(account).pw_uid
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "CONTROLROOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    } | {name: claim for name in ("LOGNAME", "USER", "LNAME", "USERNAME")}
    return subprocess.run(
        [sys.executable, "-m", "controlroom", *argv],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        # The real uid only: the effective uid stays root, which reads the interpreter.
        preexec_fn=lambda: os.setresuid(uid, 0, 0),
        timeout=120,
    )


@pytest.fixture
def production(tmp_path) -> str:
    """A production SQLite database made by root (its administrator)."""
    url = sqlite_url(tmp_path / "prod.sqlite")
    engine = make_engine(url)
    try:
        upgrade(engine, environment=Environment.PRODUCTION, created_by="root")
    finally:
        engine.dispose()
    return url


def audit_rows(url: str) -> list[tuple[str, str, str]]:
    database = Database(url)
    try:
        with database.uow() as uow:
            return [(e.actor, e.action, e.outcome) for e in reversed(uow.audit.latest(50))]
    finally:
        database.dispose()


def test_an_unenrolled_account_claiming_a_supervisor_is_refused(accounts, production, tmp_path):
    stranger = accounts()
    result = run_as(
        stranger, tmp_path, "audit", "verify", "--database-url", production, claim="root"
    )
    assert result.returncode == 2, result.stdout
    assert f"{stranger!r} is not a Control Room user" in result.stderr
    assert "intact" not in result.stdout
    assert audit_rows(production)[-1] == (stranger, "session.start", "refused")


def test_an_analyst_claiming_root_cannot_enrol_a_supervisor(accounts, production, tmp_path):
    analyst = accounts()
    database = Database(production)
    try:
        staff_actor(database, Role.ANALYST, analyst)
    finally:
        database.dispose()
    result = run_as(
        analyst,
        tmp_path,
        "staff",
        "add",
        "new.super",
        "--role",
        "supervisor",
        "--name",
        "New Super",
        "--database-url",
        production,
        claim="root",
    )
    assert result.returncode != 0, result.stdout
    database = Database(production)
    try:
        with database.uow() as uow:
            assert uow.staff.by_username("new.super") is None
    finally:
        database.dispose()
    rows = audit_rows(production)
    # The refusal names the analyst; nothing on the record is in root's name after the
    # two lines that made the database.
    assert rows[-1][0] == analyst and rows[-1][2] == "denied", rows[-1]
    assert [actor for actor, _, _ in rows[2:]] == [analyst] * (len(rows) - 2)
