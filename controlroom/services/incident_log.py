"""The incident log: appending a line, for every service that tells an incident's story.

Every change to an incident (a note, a grade, a status, a DASH, a referral step, a
sign-off, an override) is a line in its log, written in the same unit of work as the
change, so the log and the record never disagree.

`append` adds an entry to the unit of work, written at its next flush (where
`data/legacy_guard.py` refuses one on a LEGACY incident); `append_now` is the triage
queue's: one statement at once, carrying the same refusal (a drain of a queue writes
ten thousand lines, and the entry object and its flush were a sixth of each step's time).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from controlroom.domain.identity import Actor
from controlroom.domain.incidents import LogKind

# The data layer loads SQLAlchemy, and the log's model is a cold one
# (`data/cold_models.py`): neither at start-up.
if TYPE_CHECKING:
    from controlroom.data.cold_models import IncidentLogEntry
    from controlroom.services.unit_of_work import UnitOfWork


def append(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    kind: LogKind,
    text: str,
    now: datetime,
    *,
    old: str | None = None,
    new: str | None = None,
    key: str | None = None,
) -> IncidentLogEntry:
    """Add a line to the incident's log (flushed with the caller's unit of work)."""
    from controlroom.data.cold_models import IncidentLogEntry

    entry = IncidentLogEntry(
        incident_id=incident_id,
        entered_at=now,
        entered_by_id=_writer(actor),
        kind=kind.value,
        text=text,
        old_value=old,
        new_value=new,
        idempotency_key=key,
    )
    uow.incidents.add_log_entry(entry)
    return entry


def append_now(
    uow: UnitOfWork, actor: Actor, incident_id: int, kind: LogKind, text: str, now: datetime
) -> None:
    """Write a line to the incident's log at once, in the caller's transaction (a queue
    step's: before its audit event takes the chain head). `LegacyReadOnly` for a LEGACY
    incident, nothing written."""
    uow.queues.log_line(incident_id, _writer(actor), kind.value, text, now)


def _writer(actor: Actor) -> int:
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can write to an incident's log")
    return actor.staff_id
