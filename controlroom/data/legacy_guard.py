"""LEGACY incidents and intelligence reports are read-only (issue 19): a flush that
would change one, or add anything to one (a log entry, a person, a crime, a unit, a
subject, a correction), is refused with `LegacyReadOnly`, whichever service tried.

The services check first and say so in their own words; this is the backstop that no
path can forget. The import itself writes with Core INSERTs, which do not flush, and an
incident made legacy in the same flush (its batch set just now) is not refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from controlroom.data.models import Incident, cold_models_loaded

if TYPE_CHECKING:
    from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject
    from controlroom.domain.legacy import LegacyReadOnly


def _was_legacy(record: Incident | IntelligenceReport) -> bool:
    history = inspect(record).attrs.legacy_batch_id.history  # type: ignore[attr-defined]
    before = [*history.unchanged, *history.deleted]
    return any(value is not None for value in before)


def _kind(model) -> str:
    return "incident" if model is Incident else "intelligence report"


def refused(kind: str, reference: str) -> LegacyReadOnly:
    """The refusal of a change to the LEGACY record `reference` (an "incident" or an
    "intelligence report"), for this guard and for a write that carries the check in
    its own statement (`QueueRepository.log_line`)."""
    # The words and the error load when a change is refused, not with every session.
    from controlroom.domain.legacy import LegacyReadOnly, read_only_message

    return LegacyReadOnly(read_only_message(kind, reference))


@event.listens_for(Session, "before_flush")
def _refuse_legacy_changes(session: Session, _context, _instances) -> None:
    wanted: dict[type[Incident] | type[IntelligenceReport], set[int]] = {Incident: set()}
    reports: tuple[type[IntelligenceReport], ...] = ()
    subjects: tuple[type[IntelligenceSubject], ...] = ()
    if cold_models_loaded():  # until they are, no session holds a report
        from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject

        reports, subjects = (IntelligenceReport,), (IntelligenceSubject,)
        wanted[IntelligenceReport] = set()
    for record in (*session.dirty, *session.deleted):
        if (isinstance(record, Incident) or isinstance(record, reports)) and _was_legacy(record):
            if record in session.deleted or session.is_modified(record):
                raise refused(_kind(type(record)), record.reference)
    for record in (*session.new, *session.dirty):
        if isinstance(record, Incident):
            continue
        if isinstance(record, reports):
            if record.supersedes_id is not None:
                wanted[reports[0]].add(record.supersedes_id)
            continue
        if isinstance(record, subjects):
            linked = record.report if record.report_id is None else None
            if linked is not None:
                if linked.legacy_batch_id is not None and linked not in session.new:
                    raise refused(_kind(type(linked)), linked.reference)
            elif record.report_id is not None:
                wanted[reports[0]].add(record.report_id)
            continue
        incident_id = getattr(record, "incident_id", None)
        if incident_id is not None:
            wanted[Incident].add(incident_id)
        else:
            linked = getattr(record, "incident", None)
            if isinstance(linked, Incident) and _was_legacy(linked):
                raise refused("incident", linked.reference)
    for model, ids in wanted.items():
        if not ids:
            continue
        with session.no_autoflush:
            reference = session.scalar(
                select(model.reference)
                .where(model.id.in_(sorted(ids)), model.legacy_batch_id.is_not(None))
                .limit(1)
            )
        if reference is not None:
            raise refused(_kind(model), reference)
