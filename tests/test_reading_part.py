"""A unit of work's read-only part (`SqlAlchemyUnitOfWork.reading`).

On SQLite every unit of work begins IMMEDIATE (it holds the write lock from its first
statement), so a long read held every other station's save back until it ended. A
read-only part begins DEFERRED: it reads one snapshot and holds no write lock.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import MarkerType
from controlroom.data.engine import INTERACTIVE
from controlroom.data.models import AuditEvent
from controlroom.data.uow import Database, ReadOnlyPart

# Another station that waits at most a tenth of a second for SQLite's write lock.
IMPATIENT = dataclasses.replace(INTERACTIVE, busy_timeout_ms=100, begin_pauses=())


def _marker(code: str) -> MarkerType:
    return MarkerType(code=code, label=f"test {code}", severity=9)


def _count(uow, model) -> int:
    return uow.session.scalar(select(func.count()).select_from(model))


def test_a_read_only_part_holds_no_write_lock_on_sqlite(database):
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL readers never hold writers back (MVCC)")
    # Another station: its unit of work begins IMMEDIATE and waits at most 0.2 s.
    other = Database(database.url, waits=IMPATIENT)
    try:
        with database.uow() as reader:
            with reader.reading():
                before = _count(reader, MarkerType)
                # While the read's transaction is open, a save elsewhere goes through.
                with other.uow() as writer:
                    writer.session.add(_marker("TSTA"))
                    writer.commit()
                # The read goes on in its snapshot.
                assert _count(reader, MarkerType) == before
            # Once the part ends, the next statement sees the new row.
            assert _count(reader, MarkerType) == before + 1
    finally:
        other.dispose()


def test_without_a_read_only_part_a_read_holds_the_write_lock_on_sqlite(database):
    """The behaviour the part avoids (so the test above can fail for the right reason)."""
    if database.dialect != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy.exc import OperationalError

    other = Database(database.url, waits=IMPATIENT)
    try:
        with database.uow() as reader:
            _count(reader, MarkerType)
            with pytest.raises(OperationalError), other.uow() as writer:
                writer.session.add(_marker("TSTB"))
                writer.commit()
    finally:
        other.dispose()


def test_a_write_inside_a_read_only_part_is_refused_and_nothing_is_written(database):
    from sqlalchemy import insert

    with database.uow() as uow:
        events = _count(uow, AuditEvent)
        with pytest.raises(ReadOnlyPart), uow.reading():
            uow.session.add(_marker("TSTC"))
            uow.flush()
    with database.uow() as uow:
        with pytest.raises(ReadOnlyPart), uow.reading():
            uow.session.execute(insert(MarkerType).values(code="TSTD", label="d", severity=9))
    with database.uow() as uow:
        assert (
            uow.session.scalar(
                select(func.count())
                .select_from(MarkerType)
                .where(MarkerType.code.in_(["TSTC", "TSTD"]))
            )
            == 0
        )
        assert _count(uow, AuditEvent) == events


def test_what_comes_after_a_read_only_part_is_written(database):
    with database.uow() as uow:
        with uow.reading():
            _count(uow, MarkerType)
        uow.session.add(_marker("TSTE"))
        uow.commit()
    with database.uow() as uow:
        assert (
            uow.session.scalar(
                select(func.count()).select_from(MarkerType).where(MarkerType.code == "TSTE")
            )
            == 1
        )
