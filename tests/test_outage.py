"""The database stopped or frozen mid-shift (issue 13, item 1): every wait is bounded,
every screen's frame says so within 5 s, and quitting never hangs.

On a throwaway PostgreSQL cluster made by this module (initdb on a free loopback port,
never the machine's own): stopped with pg_ctl, frozen with SIGSTOP on the postmaster and
every backend (a hung host, as its clients see it). And an SQLite file that cannot be
written: the app starts and says why nothing can be saved.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, literal, select

from controlroom.data.engine import INTERACTIVE, make_engine
from controlroom.data.models import Incident
from controlroom.data.uow import Database
from controlroom.domain.availability import (
    Availability,
    DatabaseState,
    banner_words,
)
from controlroom.domain.local_time import LOCAL_ZONE
from controlroom.domain.roles import Role
from controlroom.screens.home_board import HomeBoard
from controlroom.screens.incident.entry import EntryState, IncidentEntry
from tests.apps import build_app, burst, screen_text, settle, until
from tests.clusters import ThrowawayCluster, unavailable_reason
from tests.databases import SEED_ANCHOR, _migrate
from tests.factories import staff_actor
from tests.terminal import TerminalSession, station_env

SIZE = (80, 24)
# The app's waits, with a shorter cut-off for an unanswered call: the Pilot tests wait
# out hung saves, and the bound itself is tested on INTERACTIVE below.
QUICK = replace(INTERACTIVE, answer_seconds=1.5)
BANNER = "DATABASE NOT ANSWERING since 09:00"  # the tests' clock: SEED_ANCHOR, GMT
CALLS = 50
# The must-show demos with 50 calls take minutes (50 forms filled by keys, on
# a loaded host 3-7 s each while every lookup meets the stopped server; two starts of the
# program): beyond the suite's time budget, they run when asked for —
# CONTROLROOM_MUST_SHOW=1 pytest -n 0 tests/test_outage.py -k must_show
must_show = pytest.mark.skipif(
    not os.environ.get("CONTROLROOM_MUST_SHOW"),
    reason="a must-show demo of minutes: CONTROLROOM_MUST_SHOW=1 runs it",
)


# --- the words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [DatabaseState.NOT_ANSWERING, DatabaseState.READ_ONLY, DatabaseState.DISK_FULL]
)
def test_the_banner_says_what_since_when_and_what_works_in_two_lines(state):
    words = banner_words(Availability(state, SEED_ANCHOR), LOCAL_ZONE)
    assert "since 09:00" in words and "on this station" in words
    assert len(textwrap.wrap(words, 78)) <= 2  # 80 columns less the banner's padding
    assert banner_words(Availability(), LOCAL_ZONE) == ""


def test_an_outage_keeps_the_time_it_started():
    later = datetime(2026, 11, 26, 9, 5, tzinfo=UTC)
    down = Availability().became(DatabaseState.NOT_ANSWERING, SEED_ANCHOR)
    assert down.became(DatabaseState.NOT_ANSWERING, later).since == SEED_ANCHOR
    assert down.became(DatabaseState.ANSWERING, later) == Availability()


def test_an_incident_opens_when_its_call_was_taken_not_when_it_was_saved(database, supervisor):
    """A save that got through only after an outage (or from a restored draft) keeps the
    call's time; a call time from the future (a wrong clock) is not believed."""
    from controlroom.domain.grades import grade_codes
    from controlroom.domain.identity import Actor
    from controlroom.services import incidents
    from controlroom.services.incidents import NewIncident

    operator = Actor(supervisor.staff_id, supervisor.username, supervisor.role, "local")
    saved_at = SEED_ANCHOR + timedelta(minutes=40)
    for key, taken, expected in (
        ("call-earlier", SEED_ANCHOR, SEED_ANCHOR),
        ("call-future", saved_at + timedelta(hours=1), saved_at),
        ("call-unknown", None, saved_at),
    ):
        call = NewIncident(key, "NOISE", "12 Mill Lane, Leeds LS6 2AB", call_taken_at=taken)
        incidents.save_new_incident(database.uow(), operator, call, saved_at, grade_codes())
        with database.uow() as uow:
            row = uow.incidents.by_idempotency_key(key)
            assert row is not None and row.opened_at == expected


def test_the_call_time_travels_with_the_draft():
    state = EntryState(caller_name="Pat", call_taken_at=SEED_ANCHOR)
    assert EntryState.from_draft(state.to_draft()).call_taken_at == SEED_ANCHOR
    assert EntryState.from_draft({"call_taken_at": "not a time"}).call_taken_at is None


# --- a throwaway PostgreSQL cluster ------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    made = ThrowawayCluster()
    try:
        made.start()
        made.create_database("station")
        _migrate(made.url("station"))
        yield made
    finally:
        made.remove()


@pytest.fixture
def station(cluster):
    """The station's database as the app opens it (bounded waits); the cluster running
    and thawed again after each test, whatever the test did to it."""
    database = Database(cluster.url("station"), waits=QUICK)
    try:
        yield database
    finally:
        database.dispose()
        cluster.thaw()
        cluster.ensure_running()


@pytest.mark.slow
def test_a_statement_on_a_frozen_server_ends_within_its_bound(cluster, station):
    engine = make_engine(cluster.url("station"), waits=INTERACTIVE)
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(literal(1))) == 1
            cluster.freeze()
            started = time.monotonic()
            with pytest.raises(Exception):  # noqa: B017 - the driver's OperationalError
                connection.scalar(select(literal(2)))
            waited = time.monotonic() - started
    finally:
        cluster.thaw()
        engine.dispose()
    assert INTERACTIVE.answer_seconds is not None
    assert waited < INTERACTIVE.answer_seconds + 1


def words(app) -> str:
    """The screen's text with its line breaks and runs of spaces as single spaces."""
    return " ".join(screen_text(app).split())


def told(app) -> str:
    """Every notification the operator has been shown (its text whole: on screen a toast
    is wrapped beside the board's columns)."""
    return " ".join(f"{n.title} {n.message}" for n in app._notifications)


def shown(app, selector: str) -> str:
    """The text of one widget on the active screen (a field's error line)."""
    return str(app.screen.query_one(selector).render())


def _no_raw_error(text: str) -> None:
    for word in ("OperationalError", "psycopg", "sqlalchemy", "Traceback", "sqlalche.me"):
        assert word not in text


@pytest.mark.slow
async def test_a_frozen_database_is_said_on_every_screen_within_5_s(cluster, station, tmp_path):
    app = build_app(station, tmp_path, username=staff_actor(station, Role.SUPERVISOR).username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        assert "DATABASE" not in screen_text(app)
        cluster.freeze()
        seconds = await until(pilot, lambda: BANNER in screen_text(app), timeout=5.0)
        text = words(app)
        assert "kept on this station (OFFLINE) and sent when it answers" in text
        _no_raw_error(text)
        await pilot.press("escape")  # the blank form closes: the board, in the same frame
        await until(pilot, lambda: isinstance(app.screen, HomeBoard) and BANNER in screen_text(app))
        # The board's own line: one line, whole, worded (it once showed the driver's
        # error cut off at 80 columns).
        await pilot.press("r")
        # Whole: its reference's closing bracket is on screen.
        await until(pilot, lambda: re.search(r"database not answering \(ref \w+\)", words(app)), 8)
        _no_raw_error(screen_text(app))
        cluster.thaw()
        await until(pilot, lambda: "DATABASE" not in screen_text(app), timeout=8.0)
    assert seconds < 5.0


@pytest.mark.slow
async def test_a_stopped_database_is_said_and_its_return_clears_it(cluster, station, tmp_path):
    app = build_app(station, tmp_path, username=staff_actor(station, Role.SUPERVISOR).username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cluster.stop()
        seconds = await until(pilot, lambda: BANNER in screen_text(app), timeout=5.0)
        await pilot.press("r")
        await until(pilot, lambda: "may be out of date" in screen_text(app))
        cluster.start()
        await until(pilot, lambda: "DATABASE" not in screen_text(app), timeout=8.0)
        # The board reads its figures again at once (its own refresh is every 5 s).
        await until(pilot, lambda: "may be out of date" not in screen_text(app), timeout=2.0)
    assert seconds < 5.0


def _station_env(tmp_path) -> dict[str, str]:
    env = station_env(tmp_path)
    # The cluster trusts its clients: an empty keyring of the tests' own, no password.
    env["PYTHON_KEYRING_BACKEND"] = "tests.keyrings.MemoryKeyring"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl+q", "SIGTERM"])
def test_quitting_during_a_frozen_database_never_hangs(cluster, station, tmp_path, how):
    """A real process on a pty: the database freezes, the frame says so, the operator
    saves (the save hangs on the frozen server) and quits, or the process is told to
    stop: it ends within a few seconds, with the typing kept as a draft."""
    import getpass

    staff_actor(station, Role.CALL_HANDLER, getpass.getuser())
    url = cluster.url("station")
    session = TerminalSession(
        [sys.executable, "-m", "controlroom", "--database-url", url], _station_env(tmp_path)
    )
    try:
        session.wait_for("Open incidents:")
        session.send("f2")
        session.wait_for("Narrative")
        session.type("Frozen Caller")
        session.send("\x1bl")  # alt+l: the location
        session.type("14 Mill Lane")
        session.send("tab")
        session.type("dom")
        session.send("tab", "tab", "\x1bk")  # alt+k: THRIVE skipped
        session.mark()
        cluster.freeze()
        session.wait_for("DATABASE NOT ANSWERING", timeout=6)
        session.send("ctrl+s")  # sent to a frozen server: it hangs until its bound
        session.drain(0.3)
        started = time.monotonic()
        if how == "ctrl+q":
            session.send("ctrl+q", "y")
        else:
            os.kill(session.pid, signal.SIGTERM)
        status = session.wait(15)
        took = time.monotonic() - started
    finally:
        session.close()
        cluster.thaw()
    assert status == (0 if how == "ctrl+q" else 143)
    assert took < 3.0, f"quitting took {took:.1f} s"
    # The end of the session, kept on the station for the next replay (issue 15).
    from controlroom.data.offline_journal import OfflineJournal

    ends = []
    for path in (tmp_path / "offline").glob("*.sqlite"):
        journal = OfflineJournal(path)
        ends += [e.payload["how"] for e in journal.entries() if e.kind == "session.end"]
        journal.close()
    assert ends == ["quit" if how == "ctrl+q" else "stopped (SIGTERM)"]


@pytest.mark.slow
def test_a_real_station_keeps_a_call_offline_and_sends_it_when_the_database_returns(
    cluster, station, tmp_path
):
    """The real program on a pty, as over SSH: the database stops mid-shift, a call is
    taken and kept on the station; the database back, it goes in by itself, once."""
    import getpass

    staff_actor(station, Role.CALL_HANDLER, getpass.getuser())
    before = len(_incidents(station))
    session = TerminalSession(
        [sys.executable, "-m", "controlroom", "--database-url", cluster.url("station")],
        _station_env(tmp_path),
    )
    try:
        session.wait_for("Open incidents:")
        session.send("f2")  # a first form reads the incident types, and caches them
        session.wait_for("Narrative")
        session.send("escape")
        session.mark()
        cluster.stop()
        session.wait_for("DATABASE NOT ANSWERING", timeout=6)
        session.send("f2")
        session.wait_for("Narrative")
        session.type("Pty Outage Caller")
        session.send("tab", "tab", "tab")
        session.type("7 Outage Street")
        session.send("tab")
        session.type("dom")
        session.drain(0.5)
        session.send("tab", "tab", "\x1bk")  # alt+k: THRIVE skipped
        session.wait_for("[x] Skip")
        session.mark()
        session.send("ctrl+s")
        session.wait_for("SAVED ON THIS STATION", timeout=10)
        session.mark()
        cluster.start()
        session.wait_for("now in the database", timeout=15)
        session.send("ctrl+q")
        status = session.wait(15)
    finally:
        session.close()
        cluster.ensure_running()
    assert status == 0
    with station.uow() as uow:
        rows = uow.session.scalars(select(Incident.caller_name).order_by(Incident.id)).all()
    assert len(rows) == before + 1 and rows[-1] == "Pty Outage Caller"


# --- recovery without a restart (item 5) -------------------------------------------------


def _incidents(database) -> list[tuple[str, datetime, str]]:
    with database.uow() as uow:
        return [
            (row.reference, row.opened_at, row.idempotency_key)
            for row in uow.session.scalars(select(Incident).order_by(Incident.id))
        ]


async def _fill(pilot, caller: str) -> None:
    # In one read, as a lagging link delivers them (and without Pilot's idle wait per key).
    await burst(pilot, *caller, "alt+l", *"14 Mill Lane", "tab", *"burg")
    await burst(pilot, "alt+k")


@pytest.mark.slow
async def test_a_call_taken_in_an_outage_is_kept_offline_and_replayed(cluster, station, tmp_path):
    """Stopped: the form takes its incident types from the station's cache, ctrl+s keeps
    the call on this station (OFFLINE — SAVED ON THIS STATION); the database back, it is
    replayed by itself, once, with the time the call was taken."""
    taken = SEED_ANCHOR
    now = [taken]
    app = build_app(station, tmp_path, username=staff_actor(station, Role.SUPERVISOR).username)
    app.clock = lambda: now[0]
    before = len(_incidents(station))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")  # a first form reads the types (and caches them)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        cluster.stop()
        await until(pilot, lambda: BANNER in screen_text(app))
        await pilot.press("f2")
        await settle(pilot)
        await _fill(pilot, "Outage Caller")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await until(pilot, lambda: "OFFLINE — SAVED ON THIS STATION as OFF-" in told(app))
        assert isinstance(app.screen, HomeBoard)  # the form gave way: the call is kept
        now[0] = taken + timedelta(minutes=7)  # the database answers 7 minutes later
        cluster.start()
        await until(pilot, lambda: len(_incidents(station)) == before + 1, timeout=10.0)
        await until(pilot, lambda: "now in the database" in told(app))
        reference, opened_at, _ = _incidents(station)[-1]
        assert f"is {reference}" in told(app)  # the provisional reference, mapped
    assert opened_at == taken  # the call's time, not the replay's


@must_show
@pytest.mark.slow
async def test_must_show_fifty_calls_taken_in_an_outage_are_all_in_once_at_their_times(
    cluster, station, tmp_path
):
    """The must-show: the database stopped mid-shift, 50 calls taken on the entry form
    (each kept on the station), the database back: all 50 in, once each, at the time
    each call was taken, their journal audit events on the main chain, which verifies.
    Slow (2.5-6 min at load 9-12): fifty forms filled by keys, and one stop and start."""
    from controlroom.data.models import AuditEvent
    from controlroom.services.audit_trail import verify_chain

    now = [SEED_ANCHOR]
    app = build_app(station, tmp_path, username=staff_actor(station, Role.SUPERVISOR).username)
    app.clock = lambda: now[0]
    taken: dict[str, datetime] = {}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")  # a first form reads the types (and caches them)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        cluster.stop()
        await until(pilot, lambda: BANNER in screen_text(app))
        for number in range(1, CALLS + 1):
            now[0] = SEED_ANCHOR + timedelta(minutes=number)
            await pilot.press("f2")
            await settle(pilot)
            taken[app.screen.state.idempotency_key] = now[0]
            await _fill(pilot, f"Outage Caller {number}")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, HomeBoard))
        assert f"({CALLS} waiting)" in told(app)  # each kept: the last says so
        cluster.start()
        await until(pilot, lambda: "now in the database" in told(app), timeout=20.0)
    with station.uow() as uow:
        rows = uow.session.execute(
            select(Incident.idempotency_key, Incident.opened_at).where(
                Incident.idempotency_key.in_(list(taken))
            )
        ).all()
        forwarded = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.detail.like("offline, journal %"))
            .where(AuditEvent.action == "incident.create")
            .where(AuditEvent.object_id.like("OFF-%"))
        )
    assert sorted(rows) == sorted(taken.items())
    assert forwarded >= CALLS
    assert verify_chain(station.uow()).intact


@pytest.mark.slow
async def test_a_save_hung_on_a_frozen_database_is_kept_offline_and_lands_once(
    cluster, station, tmp_path
):
    """The save goes to a server that froze: when its bound runs out the call is kept on
    this station; the server back, the replay makes exactly one incident of it, whether
    or not the first try got through (the form's idempotency key)."""
    app = build_app(station, tmp_path, username=staff_actor(station, Role.SUPERVISOR).username)
    before = len(_incidents(station))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await _fill(pilot, "Frozen Caller")
        key = app.screen.state.idempotency_key
        cluster.freeze()
        await pilot.press("ctrl+s")  # sent before the watch noticed: it hangs
        await until(pilot, lambda: "SAVED ON THIS STATION" in told(app), timeout=10.0)
        _no_raw_error(words(app))
        cluster.thaw()
        await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
    saved = [row for row in _incidents(station) if row[2] == key]
    assert len(saved) == 1 and len(_incidents(station)) == before + 1


@pytest.mark.slow
async def test_a_note_and_a_status_change_in_an_outage_are_kept_and_replayed_once(
    cluster, station, tmp_path
):
    """On an incident on screen when the database stopped: a note (n) and a status
    change (s d) are kept on this station (OFFLINE — SAVED ON THIS STATION); the database
    back, both land once, in order, the note with the time it was written. Slow (about
    8 s): the cluster is stopped and started once."""
    from controlroom.services import incidents

    actor = staff_actor(station, Role.SUPERVISOR)
    saved = incidents.save_new_incident(
        station.uow(),
        actor,
        incidents.NewIncident("note-outage-1", "NOISE", "3 Mill Lane, Leeds LS6 2AB"),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    written = SEED_ANCHOR + timedelta(minutes=3)
    now = [written]
    app = build_app(station, tmp_path, username=actor.username)
    app.clock = lambda: now[0]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_incident(saved.reference)
        await until(pilot, lambda: saved.reference in screen_text(app))
        cluster.stop()
        await until(pilot, lambda: "DATABASE NOT ANSWERING since 09:03" in screen_text(app))
        await pilot.press("n")
        await settle(pilot)
        await burst(pilot, *"Caller rang back: all quiet")
        await pilot.press("ctrl+s")

        await until(pilot, lambda: told(app).count("OFFLINE — SAVED ON THIS STATION") == 1)
        now[0] = written + timedelta(minutes=1)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("d")
        await until(pilot, lambda: told(app).count("OFFLINE — SAVED ON THIS STATION") == 2)
        now[0] = written + timedelta(minutes=9)
        cluster.start()
        await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
    detail = incidents.view_incident(station.uow(), actor, saved.reference, today=SEED_ANCHOR)
    notes = [e for e in detail.log if e.text == "Caller rang back: all quiet"]
    assert len(notes) == 1 and notes[0].entered_at == written
    assert detail.status == "dispatched"
    assert [e.kind for e in detail.log][-2:] == ["note", "status_change"]


def _journal_of_calls(data_dir, actor, count: int) -> list:
    """`count` calls kept offline by an earlier session of `actor` on this station (its
    journal left in the data directory), each with its own call time."""
    from controlroom.services import offline
    from controlroom.services.incidents import NewIncident

    token = offline.session_token(SEED_ANCHOR, pid=4242, host="earlier")
    journal = offline.open_journal(data_dir, actor.username, token)
    calls = [
        NewIncident(
            f"crash-replay-{number}",
            "NOISE",
            f"{number} Outage Street, Leeds LS6 2AB",
            caller_name=f"Crash Caller {number}",
            call_taken_at=SEED_ANCHOR + timedelta(minutes=number),
        )
        for number in range(1, count + 1)
    ]
    for call in calls:
        offline.record_incident(journal, actor, call, SEED_ANCHOR, token)
    journal.close()
    return calls


def _kept(database, calls) -> list[tuple[str, datetime]]:
    keys = [call.idempotency_key for call in calls]
    with database.uow() as uow:
        return list(
            uow.session.execute(
                select(Incident.idempotency_key, Incident.opened_at).where(
                    Incident.idempotency_key.in_(keys)
                )
            ).all()
        )


@must_show
@pytest.mark.slow
def test_must_show_a_replay_killed_half_way_resumes_without_doubling(cluster, station, tmp_path):
    """50 calls kept offline by a session that ended in the outage; the next start of
    the real program (on a pty) replays them and is killed (SIGKILL) half-way; the start
    after that finishes: each call present once, at its call time, its journal audit
    event on the main chain once, and the chain verifies. Slow (12-25 s, load 4-11): two
    starts of the program and a replay of 50 — the issue's must-show."""
    import getpass

    from controlroom.data.models import AuditEvent
    from controlroom.services.audit_trail import verify_chain

    actor = staff_actor(station, Role.CALL_HANDLER, getpass.getuser())
    calls = _journal_of_calls(tmp_path, actor, CALLS)
    command = [sys.executable, "-m", "controlroom", "--database-url", cluster.url("station")]
    session = TerminalSession(command, _station_env(tmp_path))
    try:
        deadline = time.monotonic() + 60
        while not _kept(station, calls) and time.monotonic() < deadline:
            time.sleep(0.02)
        session.kill()  # mid-replay: some calls in, the rest not
    finally:
        session.close()
    killed_at = len(_kept(station, calls))
    assert 0 < killed_at < CALLS, f"the kill came at {killed_at} of {CALLS}"
    again = TerminalSession(command, _station_env(tmp_path))
    try:
        again.wait_for("Open incidents:")
        deadline = time.monotonic() + 60
        while len(_kept(station, calls)) < CALLS and time.monotonic() < deadline:
            time.sleep(0.1)
        again.wait_for("Offline incidents sent", timeout=20)
        again.send("ctrl+q")
        assert again.wait(15) == 0
    finally:
        again.close()
    kept = _kept(station, calls)
    assert sorted(kept) == sorted((c.idempotency_key, c.call_taken_at) for c in calls)
    with station.uow() as uow:
        forwarded = uow.session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "incident.create",
                AuditEvent.detail.like("offline, journal %"),
            )
        ).all()
    assert len(forwarded) == CALLS  # each journal event on the main chain once
    assert verify_chain(station.uow()).intact


# --- SQLite that cannot be written -------------------------------------------------------


def _make_unwritable(path) -> None:
    """The file read-only for this process: immutable as root (who ignores modes)."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("cannot make a file immutable here (chattr)")
    else:
        path.chmod(0o444)


def _make_writable(path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    else:
        path.chmod(0o644)


@pytest.mark.skipif(
    os.environ.get("CONTROLROOM_TEST_DATABASE_URL") is not None, reason="an SQLite file"
)
@pytest.mark.slow
async def test_a_read_only_sqlite_file_starts_and_keeps_calls_offline(databases, tmp_path):
    """An SQLite file the operator cannot write: the app starts, says so, and a call
    taken is kept on the station; the file writable again, the call goes in, once.
    Slow (about 10 s on a loaded host): the watch must find the file writable again."""
    folder = tmp_path / "db"
    folder.mkdir()
    url = databases.create(folder)
    database = Database(url, waits=INTERACTIVE)
    username = staff_actor(database, Role.SUPERVISOR).username
    path = folder / "test.sqlite"
    database.dispose()
    _make_unwritable(path)
    try:
        app = build_app(database, tmp_path / "data", username=username)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, HomeBoard)  # started: signed in, on the board
            await until(pilot, lambda: "DATABASE READ-ONLY since 09:00" in screen_text(app))
            text = words(app)
            assert "nothing can be opened" in text and "Open incidents:" in text
            _no_raw_error(text)
            await pilot.press("f2")
            await settle(pilot)
            await _fill(pilot, "Read Only Caller")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "OFFLINE — SAVED ON THIS STATION as OFF-" in told(app))
            _make_writable(path)
            await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
        with database.uow() as uow:
            callers = uow.session.scalars(select(Incident.caller_name)).all()
        assert callers.count("Read Only Caller") == 1
    finally:
        _make_writable(path)
        database.dispose()
