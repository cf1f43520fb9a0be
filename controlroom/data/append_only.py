"""Append-only tables refuse updates and deletes through the ORM.

The incident log and the audit trail are records of what happened: a correction is a new
entry. (On PostgreSQL the audit issue adds database grants that refuse the same.)
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from controlroom.data.models import AuditEvent, IncidentLogEntry, UnitStatusChange

APPEND_ONLY = (IncidentLogEntry, AuditEvent, UnitStatusChange)
_APPEND_ONLY_TABLES = frozenset(model.__table__ for model in APPEND_ONLY)


class AppendOnlyViolation(Exception):
    """Somebody tried to change or delete an append-only record."""


def _refuse(mapper, connection, target) -> None:
    raise AppendOnlyViolation(f"{type(target).__name__} is append-only; add a new entry instead")


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if table is not None and table in _APPEND_ONLY_TABLES:
        raise AppendOnlyViolation(f"{table.name} is append-only")
