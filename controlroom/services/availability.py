"""Asking the database whether it answers, and whether it can be written.

The app's watch (`screens/database_watch.py`) calls `probe` every second on a thread of
its own; each call is bounded by the engine's waits (`data/engine.py`), and the watch
does not wait for a probe beyond its patience either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controlroom.domain.availability import DatabaseState

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


def probe(uow: UnitOfWork) -> DatabaseState:
    """ANSWERING or READ_ONLY; raises whatever the database raised if it did not answer.
    Not audited: it reads no record."""
    with uow:
        return DatabaseState.ANSWERING if uow.database.writable() else DatabaseState.READ_ONLY
