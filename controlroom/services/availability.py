"""Asking the database whether it answers, and whether it can be written.

The app's watch (`screens/database_watch.py`) calls `probe` every second on a thread of
its own; each call is bounded by the engine's waits (`data/engine.py`), and the watch
does not wait for a probe beyond its patience either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from controlroom.domain.availability import DatabaseState

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Probed:
    """What a probe found; `data_as_of` on a standby (the last change it received)."""

    state: DatabaseState
    data_as_of: datetime | None = None


def examine(uow: UnitOfWork) -> Probed:
    """ANSWERING, READ_ONLY, DISK_FULL (an SQLite write met a full disk and there is no
    room yet) or STANDBY (a PostgreSQL hot standby, with how fresh its data is); raises whatever the database raised if it did not answer. Not audited: it reads
    no record."""
    with uow:
        if uow.database.writable():
            if not uow.database.room_to_write():
                return Probed(DatabaseState.DISK_FULL)
            return Probed(DatabaseState.ANSWERING)
        if uow.on_standby():
            return Probed(DatabaseState.STANDBY, uow.database.replayed_until())
        return Probed(DatabaseState.READ_ONLY)


def probe(uow: UnitOfWork) -> DatabaseState:
    """`examine`'s state alone."""
    return examine(uow).state
