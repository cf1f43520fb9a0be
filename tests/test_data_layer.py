"""The data layer on a real database: engine settings, UTC times, optimistic versions,
append-only tables and the unit of work. Behaviour is tested, not configuration."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from controlroom.data.append_only import AppendOnlyViolation
from controlroom.data.cold_models import IncidentLogEntry
from controlroom.data.models import AuditEvent, Incident, Staff
from tests.databases import TEST_ADMIN
from tests.factories import add_incident


def test_foreign_keys_are_enforced(database):
    with database.uow() as uow:
        uow.session.add(
            Incident(
                reference="CR-20261126-9999",
                opened_at=datetime.now(UTC),
                opened_by_id=999_999,
                workstation="WS",
                opening_type_code="DOM",
                grade="G2",
                location_text="x",
            )
        )
        with pytest.raises(IntegrityError):
            uow.flush()


def test_times_go_in_and_come_back_as_aware_utc(database):
    reference = add_incident(database, age=timedelta(hours=2))
    with database.uow() as uow:
        incident = uow.session.scalars(
            select(Incident).where(Incident.reference == reference)
        ).one()
        assert incident.opened_at.tzinfo is not None
        assert incident.opened_at.utcoffset() == timedelta(0)
        assert incident.opened_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_a_naive_time_is_refused(database):
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN)
        uow.session.add(
            AuditEvent(
                occurred_at=datetime(2026, 1, 1),
                actor="x",
                staff_id=staff.id,
                terminal="local",
                action="a",
                object_type="t",
                outcome="success",
            )
        )
        with pytest.raises(Exception, match="naive datetime"):
            uow.flush()


def test_the_unit_of_work_rolls_back_unless_committed(database):
    with database.uow() as uow:
        uow.staff.add(Staff(username="uncommitted", display_name="U", role="analyst"))
        uow.flush()
    with database.uow() as uow:
        assert uow.staff.by_username("uncommitted") is None


def test_a_stale_incident_update_fails_instead_of_overwriting(database):
    reference = add_incident(database)
    by_reference = select(Incident).where(Incident.reference == reference)
    with database.uow() as mine:
        # This operator read the incident (version 1) and ended that transaction...
        incident = mine.session.scalars(by_reference).one()
        mine.commit()
        # ...meanwhile another station saved a change (version 2)...
        with database.uow() as theirs:
            theirs.session.scalars(by_reference).one().grade = "G1"
            theirs.commit()
        # ...so this operator's save, made against version 1, must not land.
        incident.grade = "G3"
        with pytest.raises(StaleDataError):
            mine.commit()
    with database.uow() as uow:
        kept = uow.session.scalars(by_reference).one()
        assert (kept.grade, kept.version) == ("G1", 2)


def test_log_entries_and_audit_events_are_append_only(database):
    reference = add_incident(database)
    with database.uow() as uow:
        incident = uow.session.scalars(
            select(Incident).where(Incident.reference == reference)
        ).one()
        entry = IncidentLogEntry(
            incident_id=incident.id,
            entered_by_id=incident.opened_by_id,
            kind="note",
            text="first account",
        )
        uow.session.add(entry)
        uow.commit()
        entry.text = "rewritten"
        with pytest.raises(AppendOnlyViolation):
            uow.commit()
        uow.rollback()
        with pytest.raises(AppendOnlyViolation):
            uow.session.execute(update(IncidentLogEntry).values(text="bulk rewrite"))
        with pytest.raises(AppendOnlyViolation):
            uow.session.execute(update(AuditEvent).values(outcome="success"))
        audit = uow.audit.latest(1)[0]
        uow.session.delete(audit)
        with pytest.raises(AppendOnlyViolation):
            uow.flush()


# The cold models (`data/cold_models.py`) are mapped after the guard is installed, as in
# the app, where the board's process installs it and maps them only when first used.
_GUARD_BEFORE_COLD_MODELS = """
import sys
from controlroom.data.append_only import AppendOnlyViolation
assert "controlroom.data.cold_models" not in sys.modules
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from controlroom.data.cold_models import IncidentLogEntry, all_tables
engine = create_engine("sqlite://")
all_tables().create_all(engine)
with Session(engine) as session:
    entry = IncidentLogEntry(incident_id=1, entered_by_id=1, kind="note", text="first")
    session.add(entry)
    session.commit()
    entry.text = "rewritten"
    try:
        session.commit()
    except AppendOnlyViolation:
        print("refused")
"""


def test_log_entries_mapped_after_the_guard_are_append_only_too():
    proc = subprocess.run(
        [sys.executable, "-c", _GUARD_BEFORE_COLD_MODELS],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["refused"]


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite+pysqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def test_sqlite_runs_in_wal_mode(database):
    path = _sqlite_path(database.url)
    if path is None:
        pytest.skip("SQLite only")
    add_incident(database)
    # In WAL mode a committed write lands in the -wal file beside the database.
    assert Path(f"{path}-wal").exists()


def test_two_writers_serialise_instead_of_failing(database):
    """Writes begin IMMEDIATE (SQLite) and wait on the busy timeout: both commit."""
    started = threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with database.uow() as uow:
                uow.staff.add(Staff(username="writer.one", display_name="One", role="analyst"))
                uow.flush()
                started.set()
                threading.Event().wait(0.5)  # hold the write transaction open
                uow.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(10)
    with database.uow() as uow:
        uow.staff.add(Staff(username="writer.two", display_name="Two", role="analyst"))
        uow.commit()
    thread.join(10)
    assert not errors
    with database.uow() as uow:
        assert uow.staff.by_username("writer.one") and uow.staff.by_username("writer.two")


def test_the_apps_engine_keeps_a_small_page_cache_and_batch_work_a_large_one(tmp_path):
    # Issue 15, memory: 64 MiB of SQLite page cache per pooled connection took the app to
    # 283 MiB on the 1M-person seed; the app keeps SQLite's default, batch work 64 MiB.
    from controlroom.data.engine import APP_CACHE_KIB, BATCH_CACHE_KIB
    from controlroom.data.opening import open_database
    from controlroom.domain.environment import Environment

    url = f"sqlite:///{tmp_path / 'station.sqlite'}"

    def cache_of(database) -> int:
        # A PRAGMA, as the engine sets it (data/engine.py: the only literal SQL).
        with database.engine.raw_connection() as connection:
            return connection.driver_connection.execute("PRAGMA cache_size").fetchone()[0]

    batch = open_database(url, create=True, environment=Environment.TRAINING)
    assert cache_of(batch) == -BATCH_CACHE_KIB
    batch.dispose()
    app = open_database(url, create=False, environment=Environment.TRAINING, interactive=True)
    assert cache_of(app) == -APP_CACHE_KIB
    assert APP_CACHE_KIB < BATCH_CACHE_KIB
    app.dispose()


def test_the_apps_connections_share_a_soft_heap_limit_and_batch_work_has_none(tmp_path):
    # Issue 15, memory: the app's pooled connections, each with its 2 MiB of pages, took
    # SQLite to 7-8 MiB on the 1M-person seed while a screen read on several at once; the
    # app bounds SQLite's memory for the whole process, batch work does not.
    from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB
    from controlroom.data.opening import open_database
    from controlroom.domain.environment import Environment

    url = f"sqlite:///{tmp_path / 'station.sqlite'}"

    def limit_of(database, set_to: int | None = None) -> int:
        # A PRAGMA, as the engine sets it (data/engine.py: the only literal SQL).
        with database.engine.raw_connection() as connection:
            pragma = "PRAGMA soft_heap_limit" + ("" if set_to is None else f"={set_to}")
            return connection.driver_connection.execute(pragma).fetchone()[0]

    batch = open_database(url, create=True, environment=Environment.TRAINING)
    try:
        limit_of(batch, set_to=0)  # the process's: another test's app may have set it
        batch.engine.dispose()
        assert limit_of(batch) == 0  # a new batch connection leaves it alone
        app = open_database(url, create=False, environment=Environment.TRAINING, interactive=True)
        assert limit_of(app) == APP_HEAP_LIMIT_KIB * 1024
        # One connection may still fill its whole page cache, with room for the others.
        assert APP_HEAP_LIMIT_KIB >= 2 * APP_CACHE_KIB
        app.dispose()
    finally:
        # The limit is the process's: the rest of this test run goes without it.
        limit_of(batch, set_to=0)
        batch.dispose()
