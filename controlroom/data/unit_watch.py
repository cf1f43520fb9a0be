"""The boards' and the emergency watch's poll of the units: the one-row unit change
counter, and whether any emergency is open, read on a connection of the poll's own.

Apart from the resource board's queries (`data/resource_queries.py`): the emergency
watch of every dispatcher's and supervisor's session polls from sign-in, and needs
only these two reads until an emergency is raised (issue 15, start-up memory).
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from controlroom.data.models import UnitChangeCounter, UnitEmergency


class UnitCounterPoll:
    """Reads the one-row unit change counter on a connection of its own, for a board's
    poll: on SQLite an engine without the application's BEGIN IMMEDIATE hook (a poll
    never queues behind writers, nor they behind it), on PostgreSQL a pooled connection.
    Blocking: call it from a thread worker. Close it when done."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name == "sqlite":
            self._engine: Engine | None = create_engine(
                engine.url, poolclass=NullPool, connect_args={"check_same_thread": False}
            )
            self._connection = self._engine.connect()
        else:
            self._engine = None
            self._connection = engine.connect()

    def _scalar(self, statement):
        # Each read is a transaction of its own, ended at once: the next sees the newest.
        try:
            return self._connection.scalar(statement)
        finally:
            self._connection.rollback()

    def read(self) -> int:
        return self._scalar(select(UnitChangeCounter.counter).where(UnitChangeCounter.id == 1)) or 0

    def any_emergency_open(self) -> bool:
        """Whether any emergency on a unit is not yet acknowledged: one id at most, no
        record loaded (the open emergencies themselves are the resource queries')."""
        return (
            self._scalar(
                select(UnitEmergency.id).where(UnitEmergency.acknowledged_at.is_(None)).limit(1)
            )
            is not None
        )

    def close(self) -> None:
        self._connection.close()
        if self._engine is not None:
            self._engine.dispose()


def counter_poll(session: Session) -> UnitCounterPoll:
    return UnitCounterPoll(session.get_bind())  # type: ignore[arg-type]  # an Engine
