"""Lookups while only a standby answers (issue 13, item 4): the primary is gone and its
hot standby not yet promoted, so the database can be read but not written.

A read is audited before the record is shown (`services/audit.py`, fail closed); on a
standby that event cannot go into the database, so it goes into this station's offline
journal instead (`data/offline_journal.py`, chained there, on the disk before the read
returns) and onto the main trail with the journal's replay. The station's units of
work carry that journal as their `standby_audit` (`with_station_audit`); a unit of
work on the primary never uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from controlroom.data.offline_journal import OfflineJournal

if TYPE_CHECKING:
    from controlroom.services.unit_of_work import StandbyAudit, UnitOfWork, UnitOfWorkFactory

__all__ = ["journal_event", "with_station_audit"]


def with_station_audit(
    uow_factory: Callable[[], UnitOfWork], station: StandbyAudit
) -> UnitOfWorkFactory:
    """`uow_factory`'s units of work, each auditing to `station` while on a standby."""

    def make() -> UnitOfWork:
        uow = uow_factory()
        uow.standby_audit = station
        return uow

    return make


def journal_event(journal: OfflineJournal, event: dict[str, object]) -> int:
    """Audit one event (`services.audit.record`'s fields) into the station's journal;
    returns its position in the journal's chain. The journal's chain keeps no outcome
    or justification of its own: both go into the detail, so nothing is lost."""
    extra = []
    if event.get("outcome") not in (None, "success"):
        extra.append(f"outcome: {event['outcome']}")
    if event.get("justification"):
        extra.append(f"justification: {event['justification']}")
    extra.append(str(event.get("read_from") or "read on a standby (the primary not answering)"))
    detail = "; ".join(filter(None, [_text(event.get("detail")), *extra]))
    occurred = event.get("occurred_at")
    now = occurred if isinstance(occurred, datetime) else datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    actor = {
        "username": event.get("actor"),
        "staff_id": event.get("staff_id"),
        "terminal": event.get("terminal"),
    }
    object_id = event.get("object_id")
    return journal.audit(
        actor,
        str(event["action"]),
        str(event["object_type"]),
        None if object_id is None else str(object_id),
        detail,
        now,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
