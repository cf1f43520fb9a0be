"""Every session ends on the record (issue 15, item 1): a run of the app is a row from
sign-in to its end and how it ended; a run whose process died is ended by the operator's
next sign-in on the same host. Services on the database under test; the real program on
a real terminal for quit, SIGTERM, SIGHUP, kill -9 and a terminal that hangs up."""

from __future__ import annotations

import os
import select as io
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select

from controlroom.data.models import AuditEvent, StaffSession
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from controlroom.services import staff
from controlroom.services.session import process_running
from tests.databases import postgres_url
from tests.factories import staff_actor, station_database
from tests.terminal import TerminalSession, station_env


def member_of(database, role=Role.CALL_HANDLER):
    actor = staff_actor(database, role)
    return staff.sign_in(database.uow(), actor.username, "10.0.0.7")


def sessions(database) -> list[StaffSession]:
    with database.uow() as uow:
        rows = uow.session.scalars(select(StaffSession).order_by(StaffSession.id)).all()
        uow.session.expunge_all()
        return list(rows)


def ends(database) -> list[tuple[str, str | None]]:
    with database.uow() as uow:
        return [
            (e.object_type, e.detail)
            for e in uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "session.end").order_by(AuditEvent.id)
            )
        ]


def test_a_session_is_a_row_from_sign_in_to_its_end(database):
    member = member_of(database)
    session_id = staff.begin_session(
        database.uow(), member, "10.0.0.7", host="station-1", pid=4242, running=lambda pid: True
    )
    [row] = sessions(database)
    assert (row.id, row.staff_id, row.terminal, row.host, row.pid) == (
        session_id,
        member.id,
        "10.0.0.7",
        "station-1",
        4242,
    )
    assert row.started_at is not None and row.ended_at is None
    staff.sign_out(
        database.uow(), member, "10.0.0.7", session_id=session_id, how="terminal lost (hang-up)"
    )
    [row] = sessions(database)
    assert row.ended_at is not None and row.end_reason == "terminal lost (hang-up)"
    assert ends(database) == [("staff", "terminal lost (hang-up)")]


def test_a_run_whose_process_died_is_ended_by_the_next_sign_in_on_that_host(database):
    member = member_of(database)
    alive = {1001}

    def begin(host: str, pid: int) -> int:
        return staff.begin_session(
            database.uow(), member, "local", host=host, pid=pid, running=alive.__contains__
        )

    killed = begin("station-1", 1000)  # kill -9: no end recorded
    live = begin("station-1", 1001)  # another window, still running
    elsewhere = begin("station-2", 1000)  # another host's pid says nothing here
    begin("station-1", 1002)
    rows = {row.id: row for row in sessions(database)}
    assert rows[killed].ended_at is not None
    assert rows[killed].end_reason.startswith("process died (pid 1000 on station-1)")
    assert rows[live].ended_at is None and rows[elsewhere].ended_at is None
    [(kind, detail)] = ends(database)
    assert kind == "staff_session" and "closed at the next sign-in" in detail


def test_process_running_asks_the_operating_system():
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)  # controlroom"],
    )
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert process_running(holder.pid)
        assert not process_running(other.pid)  # a reused pid: not Control Room
    finally:
        holder.kill()
        other.kill()
        holder.wait()
        other.wait()
    assert not process_running(holder.pid)


@pytest.mark.skipif(
    postgres_url() is not None,
    reason="a real process on the embedded SQLite station database (as test_draft_recovery)",
)
@pytest.mark.parametrize(
    ("ending", "how", "code"),
    [
        ("quit", "quit", 0),
        ("sigterm", "stopped (SIGTERM)", 143),
        ("sighup", "terminal lost (hang-up)", 129),
    ],
)
def test_the_real_program_records_how_each_session_ended(tmp_path, ending, how, code):
    url = station_database(tmp_path / "station.sqlite")
    env = station_env(tmp_path)
    argv = [sys.executable, "-m", "controlroom", "--database-url", url]
    database = Database(url)
    try:
        killed = TerminalSession(argv, env)
        try:
            killed.wait_for("Open incidents:")
            killed.kill()  # kill -9: nothing of the app runs
        finally:
            killed.close()
        [row] = sessions(database)
        assert row.ended_at is None  # nobody could say so yet

        run = TerminalSession(argv, env)
        try:
            run.wait_for("Open incidents:")
            if ending == "quit":
                run.send("ctrl+q")
            else:
                os.kill(run.pid, signal.SIGTERM if ending == "sigterm" else signal.SIGHUP)
            assert run.wait() == code
        finally:
            run.close()
        first, second = sessions(database)
        assert first.end_reason.startswith(f"process died (pid {killed.pid}")
        assert second.ended_at is not None and second.end_reason == how
        assert [detail for _, detail in ends(database)][-1] == how
    finally:
        database.dispose()


@pytest.mark.skipif(postgres_url() is not None, reason="a real process on SQLite, as above")
def test_a_terminal_that_hangs_up_without_a_signal_ends_the_session(tmp_path):
    """`ssh -T`: no pty, so no SIGHUP when the client leaves; the app's stdin hangs up."""
    url = station_database(tmp_path / "station.sqlite")
    env = station_env(tmp_path)
    read_end, write_end = os.pipe()
    program = subprocess.Popen(
        [sys.executable, "-m", "controlroom", "--database-url", url],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,  # Textual draws on stderr
        env=env,
    )
    os.close(read_end)
    database = Database(url)
    try:
        seen = b""
        while b"Open incidents:" not in seen:
            ready, _, _ = io.select([program.stderr], [], [], 30)
            assert ready, "the board did not show within 30 s"
            chunk = os.read(program.stderr.fileno(), 65536)
            assert chunk, "the program ended before its board showed"
            seen += chunk
        os.close(write_end)  # the client is gone
        program.stderr.close()
        assert program.wait(timeout=20) == 129
        [row] = sessions(database)
        assert row.end_reason == "terminal lost (hang-up)"
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
        database.dispose()
