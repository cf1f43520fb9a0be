"""SQLite: a station's write waits out another's, with a bound, in the engine.

Another process holds the database's write lock (a raw `sqlite3` connection in BEGIN
IMMEDIATE, as a second station would). The engine's busy timeout is shortened so the
retries of BEGIN IMMEDIATE are what carry the save through; held for ever, the save
fails with "database is locked" after the bounded attempts, never hangs.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from controlroom.data.engine import BEGIN_RETRY_PAUSES, make_engine, make_session_factory
from controlroom.data.uow import SqlAlchemyUnitOfWork
from controlroom.domain.roles import Role
from controlroom.services import incidents
from tests.databases import SEED_ANCHOR, postgres_url
from tests.factories import staff_actor

pytestmark = pytest.mark.skipif(
    postgres_url() is not None, reason="SQLITE_BUSY is SQLite's: PostgreSQL locks rows"
)

BUSY_TIMEOUT_MS = 50


def _short_wait_uow(url: str) -> SqlAlchemyUnitOfWork:
    engine = make_engine(url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    return SqlAlchemyUnitOfWork(make_session_factory(engine))


def _save(url: str, actor, key: str):
    return incidents.save_new_incident(
        _short_wait_uow(url),
        actor,
        incidents.NewIncident(
            idempotency_key=key,
            type_code="NOISE",
            location_text="4 Busy Row",
            caller_name="Wait Forit",
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("COMMIT")
    finally:
        other.close()


def test_a_save_waits_out_another_writer_through_the_retries(database, database_url):
    actor = staff_actor(database, Role.CALL_HANDLER)
    path = make_url(database_url).database
    held = threading.Event()
    # Longer than the busy timeout, shorter than the retries' pauses added up.
    hold_for = BUSY_TIMEOUT_MS / 1000 + sum(BEGIN_RETRY_PAUSES[:3])
    holder = threading.Thread(target=_hold_write_lock, args=(path, hold_for, held))
    holder.start()
    try:
        assert held.wait(5)
        saved = _save(database_url, actor, "busy-1")
    finally:
        holder.join()
    with database.uow() as uow:
        assert uow.incidents.get(saved.id).reference == saved.reference


def test_a_lock_never_released_fails_after_the_bounded_attempts(database, database_url):
    actor = staff_actor(database, Role.CALL_HANDLER)
    path = make_url(database_url).database
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            _save(database_url, actor, "busy-2")
        waited = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Every pause was taken (it retried), and the wait ended (it did not hang).
    assert waited >= sum(BEGIN_RETRY_PAUSES)
    assert waited < sum(BEGIN_RETRY_PAUSES) + 10
    with database.uow() as uow:
        assert uow.incidents.by_idempotency_key("busy-2") is None
    # Once the other writer has gone, the same save goes through.
    assert _save(database_url, actor, "busy-2").created
