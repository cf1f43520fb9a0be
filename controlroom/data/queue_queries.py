"""Queries behind the triage queue and the command view.

Claiming is exclusive by two guards that work on both backends:
- `lock_item` reads the item `FOR UPDATE SKIP LOCKED` on PostgreSQL (a row another
  station is claiming right now is simply not returned); on SQLite every transaction
  already began IMMEDIATE, so the reading transaction holds the database's write lock;
- `change_item` is a conditional UPDATE: it changes the row only if its version is
  still the one read (and its state one of those allowed) and says whether it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from controlroom.data.models import (
    Incident,
    IncidentPerson,
    IncidentType,
    MarkerType,
    QueueItem,
    Staff,
    UtcDateTime,
    WarningMarker,
)

NOT_DONE = ("open", "claimed")
_CHUNK = 900


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


class ItemRow(NamedTuple):
    """One queue item with what the queue screen shows of its incident (a named tuple:
    a queue of ten thousand is built from these, and tuples are the cheapest rows)."""

    item_id: int
    incident_id: int
    queue: str
    entered_at: datetime
    state: str
    claimed_by_id: int | None
    claimed_by_name: str | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None
    completed_at: datetime | None
    resolution: str | None
    version: int
    reference: str
    grade: str
    status: str
    type_code: str
    type_label: str
    location_text: str
    thrive_risk: str | None
    thrive_assessed: bool


def _item_select():
    claimant = aliased(Staff)
    assessed = or_(Incident.thrive_threat.is_not(None), Incident.thrive_harm.is_not(None),
                   Incident.thrive_risk.is_not(None), Incident.thrive_investigation.is_not(None),
                   Incident.thrive_vulnerability.is_not(None),
                   Incident.thrive_engagement.is_not(None))
    return (
        select(QueueItem.id, QueueItem.incident_id, QueueItem.queue, QueueItem.entered_at,
               QueueItem.state, QueueItem.claimed_by_id, claimant.display_name,
               QueueItem.claimed_at, QueueItem.heartbeat_at, QueueItem.completed_at,
               QueueItem.resolution, QueueItem.version, Incident.reference, Incident.grade,
               Incident.status, Incident.opening_type_code, IncidentType.label,
               Incident.location_text, Incident.thrive_risk,
               case((assessed, literal(True)), else_=literal(False)))
        .join(Incident, Incident.id == QueueItem.incident_id)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .outerjoin(claimant, claimant.id == QueueItem.claimed_by_id)
    )


def _rows(session: Session, statement) -> list[ItemRow]:
    # Core execution on the session's connection: the same transaction, without the ORM's
    # per-row bookkeeping (these are plain column tuples, not entities).
    make = ItemRow._make
    return [make(row) for row in session.connection().execute(statement)]


def open_items(session: Session, *, queue: str | None = None,
               grade: str | None = None) -> list[ItemRow]:
    """Every item not done, of one queue and grade or all."""
    statement = _item_select().where(QueueItem.state.in_(NOT_DONE))
    if queue is not None:
        statement = statement.where(QueueItem.queue == queue)
    if grade is not None:
        statement = statement.where(Incident.grade == grade)
    return _rows(session, statement)


def items_by_id(session: Session, item_ids: Iterable[int]) -> list[ItemRow]:
    """These items, whatever their state (a done item leaves the screen)."""
    ids = sorted(set(item_ids))
    found: list[ItemRow] = []
    for chunk in _chunks(ids):
        found += _rows(session, _item_select().where(QueueItem.id.in_(chunk)))
    return found


def markers_of_incidents(session: Session, incident_ids: Iterable[int] | None, today: date,
                         ) -> dict[int, list[tuple[str, int]]]:
    """(marker code, severity) in force on `today` on persons linked to each incident;
    `incident_ids` None: every incident with an item not done."""
    base = (
        select(IncidentPerson.incident_id, MarkerType.code, MarkerType.severity)
        .join(WarningMarker, WarningMarker.person_id == IncidentPerson.person_id)
        .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
        .where(WarningMarker.valid_from <= today,
               or_(WarningMarker.valid_to.is_(None), WarningMarker.valid_to >= today))
        .distinct()
    )
    found: dict[int, list[tuple[str, int]]] = {}
    if incident_ids is None:
        queued = select(QueueItem.incident_id).where(QueueItem.state.in_(NOT_DONE))
        statements = [base.where(IncidentPerson.incident_id.in_(queued))]
    else:
        statements = [base.where(IncidentPerson.incident_id.in_(chunk))
                      for chunk in _chunks(sorted(set(incident_ids)))]
    for statement in statements:
        for incident_id, code, severity in session.execute(statement):
            found.setdefault(incident_id, []).append((code, severity))
    return found


# --- routing -----------------------------------------------------------------------------


def incident_for_routing(session: Session, incident_id: int):
    """(incident, its type) or None."""
    row = session.execute(
        select(Incident, IncidentType)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .where(Incident.id == incident_id)).first()
    return None if row is None else (row[0], row[1])


def items_of_incident(session: Session, incident_id: int) -> list[QueueItem]:
    return list(session.scalars(select(QueueItem).where(QueueItem.incident_id == incident_id)))


def add_item(session: Session, item: QueueItem) -> None:
    session.add(item)


def unrouted_open_incidents(session: Session, statuses: Sequence[str]):
    """(incident, type) of open incidents that have never entered any queue."""
    routed = select(QueueItem.id).where(QueueItem.incident_id == Incident.id).exists()
    return session.execute(
        select(Incident, IncidentType)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .where(Incident.status.in_(statuses), ~routed)).all()


# --- claiming ------------------------------------------------------------------------------


def lock_item(session: Session, item_id: int) -> QueueItem | None:
    """The item, locked for this transaction; None if it does not exist or (PostgreSQL)
    another transaction holds it right now."""
    statement = select(QueueItem).where(QueueItem.id == item_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalars(statement.execution_options(populate_existing=True)).first()


def item_exists(session: Session, item_id: int) -> bool:
    return session.scalar(select(func.count()).where(QueueItem.id == item_id)) > 0


def change_item(session: Session, item_id: int, version: int, states: Sequence[str],
                values: dict) -> bool:
    """Apply `values` (and bump the version) only if the item is still at `version` and in
    one of `states`; True when it was."""
    result = session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.version == version,
               QueueItem.state.in_(states))
        .values(version=QueueItem.version + 1, **values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def finish_item(session: Session, item_id: int, staff_id: int, now: datetime,
                resolution: str) -> tuple[str, int] | None:
    """Mark the item done if `staff_id` holds it: (queue, incident id), or None when they
    do not (nothing changed)."""
    return session.execute(
        update(QueueItem)
        .where(QueueItem.id == item_id, QueueItem.state == "claimed",
               QueueItem.claimed_by_id == staff_id)
        .values(state="done", completed_at=now, completed_by_id=staff_id,
                resolution=resolution, version=QueueItem.version + 1)
        .returning(QueueItem.queue, QueueItem.incident_id)
        .execution_options(synchronize_session=False)).first()


def next_claimable(session: Session, queue: str | None, stale_before: datetime,
                   skip: Sequence[int] = ()) -> QueueItem | None:
    """The next item to take: a claim gone stale (heartbeat older than `stale_before`,
    longest quiet first), else the oldest open item. On PostgreSQL locked with SKIP LOCKED
    so concurrent workers each get another. Two indexed queries rather than one OR: each
    reads its rows in index order and stops at the first it can lock."""
    postgres = session.get_bind().dialect.name == "postgresql"
    stale = (select(QueueItem)
             .where(QueueItem.state == "claimed", QueueItem.heartbeat_at < stale_before)
             .order_by(QueueItem.heartbeat_at, QueueItem.id))
    waiting = (select(QueueItem).where(QueueItem.state == "open")
               .order_by(QueueItem.entered_at, QueueItem.id))
    for statement in (stale, waiting):
        if queue is not None:
            statement = statement.where(QueueItem.queue == queue)
        if skip:
            statement = statement.where(QueueItem.id.not_in(list(skip)))
        statement = statement.limit(1)
        if postgres:
            statement = statement.with_for_update(skip_locked=True)
        item = session.scalars(statement.execution_options(populate_existing=True)).first()
        if item is not None:
            return item
    return None


def staff_name(session: Session, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    return session.scalar(select(Staff.display_name).where(Staff.id == staff_id))


# --- the command view ----------------------------------------------------------------------


def open_counts(session: Session) -> list[tuple[str, str, int, datetime]]:
    """(queue, grade, items not done, oldest entered_at) per queue and grade."""
    return [tuple(row) for row in session.execute(
        select(QueueItem.queue, Incident.grade, func.count(), func.min(QueueItem.entered_at))
        .join(Incident, Incident.id == QueueItem.incident_id)
        .where(QueueItem.state.in_(NOT_DONE))
        .group_by(QueueItem.queue, Incident.grade))]


def breach_counts(session: Session, cutoffs: dict[tuple[str, str], datetime],
                  fallback_cutoff: datetime) -> dict[str, int]:
    """Items not done per queue that entered before their (queue, grade) cutoff."""
    whens = [(and_(QueueItem.queue == q, Incident.grade == g), literal(cutoff, UtcDateTime()))
             for (q, g), cutoff in cutoffs.items()]
    fallback = literal(fallback_cutoff, UtcDateTime())
    cutoff = case(*whens, else_=fallback) if whens else fallback
    rows = session.execute(
        select(QueueItem.queue, func.count())
        .join(Incident, Incident.id == QueueItem.incident_id)
        .where(QueueItem.state.in_(NOT_DONE), QueueItem.entered_at < cutoff)
        .group_by(QueueItem.queue))
    return {queue: n for queue, n in rows}


def backlog_spans(session: Session, since: datetime, until: datetime,
                  ) -> list[tuple[str, datetime, datetime | None]]:
    """(queue, entered_at, completed_at) of every item in a queue at some time in
    [since, until]: what a backlog-over-time line is computed from."""
    return [tuple(row) for row in session.execute(
        select(QueueItem.queue, QueueItem.entered_at, QueueItem.completed_at)
        .where(QueueItem.entered_at <= until,
               or_(QueueItem.completed_at.is_(None), QueueItem.completed_at >= since)))]
