"""Append-only tables refuse updates and deletes through the ORM.

The incident log and the audit trail are records of what happened: a correction is a new
entry. (On PostgreSQL the audit issue adds database grants that refuse the same.)
"""

from __future__ import annotations

from sqlalchemy import Table, event
from sqlalchemy.orm import Session

from controlroom.data.models import Base

# By table: the incident log and the units' status history are cold models
# (`controlroom.data.cold_models`), mapped after this guard is installed.
APPEND_ONLY_TABLES = frozenset({"incident_log_entry", "audit_event", "unit_status_change"})


class AppendOnlyViolation(Exception):
    """Somebody tried to change or delete an append-only record."""


@event.listens_for(Base, "before_update", propagate=True)
@event.listens_for(Base, "before_delete", propagate=True)
def _refuse(mapper, connection, target) -> None:
    if mapper.local_table.name in APPEND_ONLY_TABLES:
        raise AppendOnlyViolation(
            f"{type(target).__name__} is append-only; add a new entry instead"
        )


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if (
        isinstance(table, Table)
        and table.metadata is Base.metadata
        and table.name in APPEND_ONLY_TABLES
    ):
        raise AppendOnlyViolation(f"{table.name} is append-only")
