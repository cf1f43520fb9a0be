"""A real process on a real terminal: type into a new incident, SIGKILL the app, start it
again, restore the draft, save — exactly one incident, with what was typed."""

from __future__ import annotations

import json
import sys
import time

import pytest
from sqlalchemy import select

from controlroom.data.models import Incident
from controlroom.data.uow import Database
from controlroom.domain.identity import process_account
from tests.apps import draft_paths
from tests.databases import postgres_url
from tests.factories import station_database
from tests.terminal import TerminalSession, alt, station_env

pytestmark = pytest.mark.skipif(
    postgres_url() is not None,
    reason="the embedded SQLite path is the one a station crashes on; "
    "the save itself is covered on PostgreSQL by the service and Pilot tests",
)


def wait_for_draft(data_dir, username: str, *texts: str, timeout: float = 15.0) -> dict:
    """The one draft `username` has on disk, once it holds every one of `texts`."""
    deadline = time.monotonic() + timeout
    paths: list = []
    while time.monotonic() < deadline:
        paths = draft_paths(data_dir, username)
        if len(paths) == 1:
            try:
                draft = json.loads(paths[0].read_text())
            except (OSError, ValueError):
                draft = None  # mid-replace: read again
            if draft and all(t in json.dumps(draft) for t in texts):
                return draft
        time.sleep(0.05)
    raise AssertionError(f"the draft never held {texts}: drafts on disk {paths}")


def test_typing_survives_sigkill_and_saves_exactly_once(tmp_path):
    url = station_database(tmp_path / "station.sqlite")  # the OS user a call handler
    env = station_env(tmp_path)
    argv = [sys.executable, "-m", "controlroom", "--database-url", url]

    first = TerminalSession(argv, env)
    try:
        first.wait_for("Open incidents:")
        first.send("f2")
        first.wait_for("Narrative")
        first.type("Kill Test Caller")
        # Tab, not alt+l: an alt key is ESC + letter, and on a loaded machine the next
        # bytes can reach the parser in the same read. Single-byte keys cannot be split.
        first.send("tab", "tab", "tab")
        first.type("7 Crash Street")
        first.send("tab")
        first.type("dom")
        first.drain(0.5)
        first.send("tab")
        draft = wait_for_draft(
            tmp_path, process_account(), "Kill Test Caller", "7 Crash Street", "DOM"
        )
        first.kill()
    finally:
        first.close()
    assert first.status == -9
    # On a real terminal the app keeps the operator's log file (details of any failure).
    log_file = tmp_path / "logs" / f"{process_account()}.log"
    assert log_file.exists() and (log_file.stat().st_mode & 0o777) == 0o600

    database = Database(url)
    try:
        with database.uow() as uow:
            assert uow.session.scalars(select(Incident)).all() == []

        second = TerminalSession(argv, env)
        try:
            second.wait_for("Restore the incident")
            second.mark()
            second.send("y")
            # The form's own footer, painted only once the restore dialog has gone: until
            # then the dialog holds the keys (and may itself name the caller), so an alt+k
            # sent on seeing the name alone could land on the dialog and be lost.
            second.wait_for("alt+k Skip THRIVE")
            second.wait_for("Kill Test Caller")
            second.mark()
            second.send(alt("k"))
            second.wait_for("[x] Skip")  # the key has landed before the next one goes
            second.mark()
            second.send("ctrl+s")
            second.wait_for("CR-")
            second.send("ctrl+q")
            assert second.wait() == 0
        finally:
            second.close()

        with database.uow() as uow:
            rows = uow.session.execute(
                select(
                    Incident.caller_name,
                    Incident.location_text,
                    Incident.opening_type_code,
                    Incident.idempotency_key,
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("Kill Test Caller", "7 Crash Street", "DOM", draft["idempotency_key"])
        ]
        assert draft_paths(tmp_path, process_account()) == []
    finally:
        database.dispose()
