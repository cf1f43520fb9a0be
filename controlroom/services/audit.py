"""The audit primitive every read and change calls.

An event is added to the same unit of work as the change it records, so both commit
together or neither does (a change can never land without its audit row). Reads that
change nothing commit the unit of work just for the audit row.

Each event is chained (`controlroom.data.audit_log.append`): it carries its position,
the previous event's hash and its own, so an edit, a deletion, a reordering or a cut-off
tail is found by `controlroom audit verify` (`services.audit_trail`).

Fail closed: when the database refuses the audit row (a revoked grant, a full disk),
`record` raises `AuditUnavailable` at once; a connection lost under it raises the
database's own error (the database not answering: a new incident is kept offline).
The caller has not committed, so the change it records rolls back with the unit of
work, and a read returns nothing: the operator sees `AuditUnavailable`'s message (or
that the database is not answering) instead of the record.

On a hot standby (the primary gone, issue 13 item 4) nothing can be written to the
database: an event goes instead to the unit of work's `standby_audit` (the station's
offline journal, chained, `services/standby.py`), on the disk before the read returns.
Without one, the read is refused as above.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from controlroom.data.models import AuditEvent, utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.safe_text import printable

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


class AuditUnavailable(Exception):
    """The audit trail could not be written, so what it would record did not happen."""

    def __init__(self, action: str, cause: str) -> None:
        self.action = action
        self.cause = cause
        super().__init__(
            f"The audit trail cannot be written ({cause}), so nothing was read or changed;"
            " tell your supervisor or the system administrator"
        )


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # the operator may not do this
    REFUSED = "refused"  # the request was turned away (unknown user, locked account)
    FAILED = "failed"  # it was allowed but did not succeed


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
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    outcome: Outcome = Outcome.SUCCESS,
    justification: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one audit event to `uow`; the caller commits it with the work it records.

    Call it last, just before the commit: on PostgreSQL the chain head stays locked from
    here to the end of the transaction, so every other station's audit write waits for
    this one. Raises `AuditUnavailable` when the event cannot be written (fail closed).

    Its text is stored through `printable`: a justification or a detail quoting typed
    text never puts a control character into the trail (or into an export of it)."""
    if not action or not object_type:
        raise ValueError("an audit event needs an action and an object type")
    event: dict[str, object] = {
        "occurred_at": utcnow(),
        "actor": printable(actor.username),
        "staff_id": actor.staff_id,
        "terminal": printable(actor.terminal),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else printable(object_id),
        "outcome": outcome.value,
        "justification": None
        if justification is None
        else printable(justification, multiline=True),
        "detail": None if detail is None else printable(detail, multiline=True),
    }
    station = getattr(uow, "standby_audit", None)
    if station is not None and uow.on_standby():
        # A change on a standby: the database's own refusal (read-only), which callers
        # take for the database not answering; never an event for what did not happen.
        uow.flush()
        try:
            station(event)
        except (OSError, SQLAlchemyError) as exc:  # the station's journal: not written
            raise AuditUnavailable(action, "this station's journal cannot be written") from exc
        return
    try:
        uow.audit.append(**event)
    except SQLAlchemyError as exc:
        if getattr(exc, "connection_invalidated", False):
            # The connection was lost under it (the server crashed, a failover): the
            # database not answering, which the entry form keeps offline, not the trail
            # refusing. Nothing was committed either way.
            raise
        raise AuditUnavailable(action, _cause(exc)) from exc


def _cause(exc: SQLAlchemyError) -> str:
    """A short reason for the operator: the kind of failure, never the statement or its
    parameters (they may hold record data)."""
    original = getattr(exc, "orig", None)
    name = type(original or exc).__name__
    text = str(original or "").strip().splitlines()[0] if original is not None else ""
    if "permission denied" in text.lower() or name == "InsufficientPrivilege":
        return "the database refused permission"
    return f"database error {name}"


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


def latest(uow: UnitOfWork, limit: int = 50) -> list[AuditRecord]:
    return [to_record(e) for e in uow.audit.latest(limit)]
