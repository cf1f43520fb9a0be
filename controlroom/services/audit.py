"""The audit primitive every read and change calls.

An event is added to the same unit of work as the change it records, so both commit
together or neither does (a change can never land without its audit row). Reads that
change nothing commit the unit of work just for the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from controlroom.data.models import AuditEvent, utcnow
from controlroom.domain.identity import Actor


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"      # the operator may not do this
    REFUSED = "refused"    # the request was turned away (unknown user, locked account)
    FAILED = "failed"      # it was allowed but did not succeed


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    occurred_at: datetime
    actor: str
    terminal: str
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    justification: str | None
    detail: str | None


def record(
    uow,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    justification: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one audit event to `uow`; the caller commits it with the work it records."""
    if not action or not object_type:
        raise ValueError("an audit event needs an action and an object type")
    uow.audit.add(
        AuditEvent(
            occurred_at=utcnow(),
            actor=actor.username,
            staff_id=actor.staff_id,
            terminal=actor.terminal,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            outcome=outcome.value,
            justification=justification,
            detail=detail,
        )
    )


def to_record(event: AuditEvent) -> AuditRecord:
    return AuditRecord(
        id=event.id,
        occurred_at=event.occurred_at,
        actor=event.actor,
        terminal=event.terminal,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        outcome=event.outcome,
        justification=event.justification,
        detail=event.detail,
    )


def latest(uow, limit: int = 50) -> list[AuditRecord]:
    return [to_record(e) for e in uow.audit.latest(limit)]
