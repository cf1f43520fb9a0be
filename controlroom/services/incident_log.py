"""The incident log: one append, for every service that tells an incident's story.

Every change to an incident (a note, a grade, a status, a DASH, a referral step, a
sign-off, an override) is a line in its log, written in the same unit of work as the
change, so the log and the record never disagree.
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

    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can write to an incident's log")
    entry = IncidentLogEntry(
        incident_id=incident_id,
        entered_at=now,
        entered_by_id=actor.staff_id,
        kind=kind.value,
        text=text,
        old_value=old,
        new_value=new,
        idempotency_key=key,
    )
    uow.incidents.add_log_entry(entry)
    return entry
