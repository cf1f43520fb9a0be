"""Thin clients over SSH, end to end (issue 15): a real sshd, a real OS account, the
README's install and its `Match Group` + `ForceCommand` block.

The test starts its own sshd on a loopback port with its own config and host key, makes
an operator account in a group made for it, enrols the account as a call handler, and
connects with the real `ssh` client on an 80x24 pseudo-terminal. The operator signs in
as the OS account, types and saves an incident, starts a second one, and the connection
is killed mid-typing (the client process is SIGKILLed: sshd sees the connection go and
hangs up on the app). On reconnecting, the draft is offered back. The audit trail names
the account, the client address sshd reported, and each session's start and end.

It runs once, on the SQLite pass: it tests the session path through sshd, which is the
same on either backend (the sessions' rows and events are covered on PostgreSQL by
test_staff_sessions). It needs root (to make the account), `useradd`, `sshd` and `ssh`:
`.ci/run` installs openssh-server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from controlroom.config import sqlite_url
from controlroom.data.engine import make_engine
from controlroom.data.models import AuditEvent, Incident, StaffSession
from controlroom.data.schema import upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.roles import Role
from tests.factories import staff_actor
from tests.shared_install import runnable_by_every_account, shared_install
from tests.sshd import SSHD, ThrowawaySshd
from tests.terminal import TerminalSession, alt

OPERATOR = "crsshtest"
GROUP = "crsshops"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("CONTROLROOM_TEST_DATABASE_URL")),
        reason="the session path through sshd is backend-independent; runs on the SQLite pass",
    ),
]


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "making an OS account and running sshd need root"
    for tool in ("useradd", "groupadd", "usermod", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not os.path.exists(SSHD):
        return "sshd is not installed (openssh-server; .ci/run installs it)"
    if not runnable_by_every_account():
        return "no Python every account can run on this host"
    return None


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.fixture
def world():
    """A directory every account can reach (pytest's own are 0700 to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="controlroom-ssh-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def operator():
    """A real OS account in a group of its own, as README's operators are: a shell sshd
    can run the ForceCommand with, no home, no password (key only)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    _run("userdel", OPERATOR)  # left by an interrupted run
    _run("groupdel", GROUP)
    made = _run("groupadd", GROUP)
    assert made.returncode == 0, made.stderr
    made = _run(
        "useradd",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/bin/sh",
        "--groups",
        GROUP,
        OPERATOR,
    )
    assert made.returncode == 0, made.stderr
    # Not "!": sshd without PAM refuses a locked account even for key sign-in.
    assert _run("usermod", "--password", "*", OPERATOR).returncode == 0
    yield OPERATOR
    _run("pkill", "-KILL", "-u", OPERATOR)
    _run("userdel", OPERATOR)
    _run("groupdel", GROUP)


@pytest.fixture
def station(world, operator):
    """The station's database and data directory, owned by the operator as a single
    station's embedded file is; the account enrolled as a call handler."""
    home = world / "station"
    home.mkdir()
    url = sqlite_url(home / "station.sqlite")
    engine = make_engine(url)
    try:
        upgrade(engine, environment=Environment.PRODUCTION, created_by="station.admin")
    finally:
        engine.dispose()
    database = Database(url)
    staff_actor(database, Role.CALL_HANDLER, operator)
    database.dispose()  # no file of the database left open (or owned) by root
    data = world / "data"
    data.mkdir()
    for path in (home, data, *home.iterdir()):
        shutil.chown(path, user=operator)
    # Root's reads below are safe: SQLite gives the files it makes as root (the WAL,
    # its index) to the database file's owner.
    database = Database(url)
    yield url, data, database
    database.dispose()


@pytest.fixture
def sshd(world, operator, station, tmp_path_factory):
    """sshd on a loopback port: its own config and host key, README's sshd block."""
    installed = shared_install(tmp_path_factory)
    url, data, _ = station
    server = ThrowawaySshd(
        world / "sshd",
        user=operator,
        match=f"Group {GROUP}",
        force_command=str(installed / "controlroom"),
        env={"CONTROLROOM_DATABASE_URL": url, "CONTROLROOM_DATA_DIR": str(data)},
    )
    yield server.client_argv(), server.log
    server.stop()


def _client_env() -> dict[str, str]:
    """The thin client's own environment: a terminal type, nothing of Control Room."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLROOM_", "SSH_"))}
    return env | {"TERM": "xterm-256color"}


def _draft_holding(data: Path, text: str, timeout: float = 15.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in (data / "drafts").glob(f"{OPERATOR}.*.json"):
            try:
                if text in json.dumps(json.loads(path.read_text())):
                    return path
            except (OSError, ValueError):
                pass  # mid-replace: read again
        time.sleep(0.05)
    raise AssertionError(f"no draft of {OPERATOR} held {text!r}")


def _sessions(database: Database) -> list[StaffSession]:
    with database.uow() as uow:
        rows = list(uow.session.scalars(select(StaffSession).order_by(StaffSession.id)))
        uow.session.expunge_all()
        return rows


def _until_ended(database: Database, count: int, timeout: float = 30.0) -> list[StaffSession]:
    deadline = time.monotonic() + timeout
    while True:
        rows = _sessions(database)
        if len(rows) >= count and all(row.ended_at is not None for row in rows[:count]):
            return rows
        assert time.monotonic() < deadline, [(r.id, r.end_reason) for r in rows]
        time.sleep(0.1)


def test_an_operator_over_ssh_keeps_typing_through_a_lost_connection(station, sshd):
    url, data, database = station
    argv, sshd_log = sshd

    first = TerminalSession(argv, _client_env())
    try:
        first.wait_for("Open incidents:", timeout=60)
        first.send("f2")
        first.wait_for("Narrative", timeout=60)
        first.type("Wire Test Caller")
        first.send("tab", "tab", "tab")
        first.type("1 Wire Street")
        first.send("tab")
        first.type("dom")
        first.drain(0.5)
        first.send("tab")
        _draft_holding(data, "1 Wire Street")
        first.mark()
        first.send(alt("k"))
        first.wait_for("[x] Skip")
        first.mark()
        first.send("ctrl+s")
        first.wait_for("CR-", timeout=60)

        first.mark()
        first.send("f2")
        first.wait_for("Narrative", timeout=60)
        first.type("Cut Off Caller")
        first.send("tab", "tab", "tab")
        first.type("2 Lost Stre")  # mid-word, when the line goes
        _draft_holding(data, "2 Lost Stre")
        first.kill()  # the thin client's end is gone: no goodbye from it
    finally:
        first.close()

    # sshd sees the connection drop and hangs up on the app, which keeps the draft and
    # ends its session on the record.
    [cut_off] = _until_ended(database, 1)
    assert cut_off.end_reason == "terminal lost (hang-up)", sshd_log.read_text()[-2000:]

    second = TerminalSession(argv, _client_env())
    try:
        # Signed in again, the operator is offered the call the line took away.
        second.wait_for("Restore the incident", timeout=60)
        second.wait_for("2 Lost Stre · Cut Off Caller")
        second.mark()
        second.send("y")
        second.wait_for("alt+k Skip THRIVE")
        second.wait_for("Cut Off Caller")
        second.wait_for("2 Lost Stre")
        second.mark()
        second.send("ctrl+q")
        second.wait_for("not saved?")
        second.send("y")
        assert second.wait() == 0
    finally:
        second.close()

    first_run, second_run = _until_ended(database, 2)
    assert second_run.end_reason == "quit"
    assert {first_run.terminal, second_run.terminal} == {"127.0.0.1"}
    with database.uow() as uow:
        saved = uow.session.execute(select(Incident.caller_name, Incident.location_text)).all()
        events = uow.session.execute(
            select(AuditEvent.actor, AuditEvent.terminal, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.actor == OPERATOR)
            .order_by(AuditEvent.chain_seq)
        ).all()
    assert [tuple(row) for row in saved] == [("Wire Test Caller", "1 Wire Street")]
    assert events, "nothing audited as the operator's account"
    assert {terminal for _, terminal, _, _ in events} == {"127.0.0.1"}
    sessions = [
        (action, detail) for _, _, action, detail in events if action.startswith("session.")
    ]
    assert [action for action, _ in sessions] == [
        "session.start",
        "session.end",
        "session.start",
        "session.end",
    ]
    assert [detail for action, detail in sessions if action == "session.end"] == [
        "terminal lost (hang-up)",
        "quit",
    ]
    assert any(action == "incident.create" for _, _, action, _ in events)
