"""The triage queues: routing incidents into them, listing them in risk order, and the
claims that make sure one operator — never two — works an item.

Invariants:
- an incident is routed (`route_incident`) in the same unit of work as the change that
  created it or changed its type, flags, links, grade or status: items are created for
  queues it now belongs in, closed as `rerouted` or `closed` where it no longer does;
- every change to an item bumps its version through a conditional UPDATE and is
  announced (`controlroom.data.changes.announce`) in the same transaction (the
  repository's `change_item` and `finish_item` announce what they change themselves);
- claims are exclusive: PostgreSQL locks the row `FOR UPDATE SKIP LOCKED`, SQLite holds
  the write lock (BEGIN IMMEDIATE), and on both the UPDATE carries the version read;
- nothing is reassigned silently: a claim whose holder has gone quiet is only marked
  stale; taking it needs `reclaim=True` (the screen asks first), and is audited as
  `queue.reclaim` naming the previous holder; a supervisor moves a claim to somebody
  else only with a written reason (`queue.reassign`);
- claims, reclaims, reassignments and completions each write one audit event; so does
  opening a queue listing (`queue.list`). Heartbeats and the live refresh of rows
  already listed are not audited: they are liveness, not actions, and would write an
  event per station per change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from controlroom.data import changes, queue_queries
from controlroom.data.changes import ChangeFeed
from controlroom.data.cold_models import QueueItem
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import IncidentStatus, LogKind
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.domain.queues import (
    ItemState,
    Queue,
    QueuePolicy,
    Resolution,
    RiskFacts,
    RoutingFacts,
    assess_risk,
    dash_due,
    is_stale,
    order_key,
    queues_for,
    rank_table,
    through_permille,
)
from controlroom.domain.resources import ClockNow, clock_now
from controlroom.services import access, audit, fields, incident_log
from controlroom.services.audit import Outcome
from controlroom.services.fields import FieldError

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

REASON_MIN = 10
REASON_LIMIT = 500

__all__ = [
    "ChangeFeed",
    "ClaimLost",
    "ClaimRefused",
    "QueueInputError",
    "QueueListing",
    "QueueRow",
    "QueueSummary",
    "ClaimedItem",
    "claim",
    "claim_next",
    "complete",
    "heartbeat",
    "list_queue",
    "open_change_feed",
    "policy_from",
    "queue_summary",
    "reassign",
    "refresh_listing",
    "route_incident",
    "route_unrouted",
    "rows_for",
]


# --- what the screens get ----------------------------------------------------------------


class QueueRow(NamedTuple):
    """One item as the queue shows it. A named tuple rather than a frozen dataclass (it
    is as immutable): a listing builds ten thousand of these, and a frozen dataclass's
    __init__ costs several times a tuple's."""

    item_id: int
    incident_id: int
    reference: str
    queue: Queue
    grade: str
    status: str
    type_label: str
    location_text: str
    entered_at: datetime
    state: str
    claimed_by_id: int | None
    claimed_by: str | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None
    version: int
    risk_words: str  # "HIGH ▲▲▲", "ESCALATED ▲▲▲!"
    risk_level: int  # 1 standard .. 3 high
    risk_reasons: tuple[str, ...]
    escalated: bool
    dash_level: str | None
    age: timedelta  # in the queue, at `read_at`
    target: timedelta
    breached: bool
    stale: bool
    order: tuple
    attendance: ClockNow  # the incident's attendance clock at `read_at`

    @property
    def open(self) -> bool:
        return self.state != ItemState.DONE


@dataclass(frozen=True, slots=True)
class QueueSummary:
    count: int
    oldest_age: timedelta | None
    breaches: int


@dataclass(frozen=True, slots=True)
class QueueListing:
    rows: tuple[QueueRow, ...]  # in queue order
    summary: QueueSummary
    read_at: datetime
    queue: Queue | None
    grade: str | None


class QueueInputError(FieldError):
    pass


class ClaimRefused(Exception):
    """The item could not be taken; `.row` is the item as it now is (None if it is gone).
    `.stale` is True when it is held by somebody gone quiet: claim again with
    `reclaim=True` to take it (after asking the operator)."""

    def __init__(self, message: str, row: QueueRow | None = None, *, stale: bool = False) -> None:
        super().__init__(message)
        self.row = row
        self.stale = stale


class ClaimLost(Exception):
    """The operator no longer holds the item (reclaimed, reassigned or done)."""


def policy_from(settings) -> QueuePolicy:
    """The queue's numbers from the app's Settings."""
    return QueuePolicy(
        grade_codes=tuple(g.code for g in settings.grades),
        attendance_targets=tuple((g.code, g.target) for g in settings.grades),
        stale_after=timedelta(minutes=settings.claim_stale_minutes),
        dash_escalation=timedelta(hours=settings.dash_escalation_hours),
    )


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    return now.astimezone(UTC)


# --- building rows -------------------------------------------------------------------------


def _dash_levels(uow: UnitOfWork, incident_ids: list[int]) -> dict[int, str]:

    return uow.safeguarding.latest_dash_levels(incident_ids)


def _build(
    uow: UnitOfWork,
    items: list[queue_queries.ItemRow],
    policy: QueuePolicy,
    now: datetime,
    *,
    all_open: bool,
) -> list[QueueRow]:
    incident_ids = sorted({i.incident_id for i in items})
    markers = uow.queues.markers_of_incidents(None if all_open else incident_ids, local_day(now))
    da_ids = sorted({i.incident_id for i in items if i.queue == Queue.DOMESTIC_ABUSE})
    dash = _dash_levels(uow, da_ids) if da_ids else {}
    rows = []
    # Most items share their risk facts (no markers, no DASH, THRIVE in a few words) and
    # their queue and grade: work each distinct combination out once.
    assessed: dict[tuple, tuple] = {}
    placed: dict[tuple[str, str], tuple[Queue, timedelta, int]] = {}
    escalation, stale_after = policy.dash_escalation, policy.stale_after
    for item in items:
        where = placed.get((item.queue, item.grade))
        if where is None:
            queue = Queue(item.queue)
            where = placed[(item.queue, item.grade)] = (
                queue,
                policy.target(queue, item.grade),
                policy.grade_rank(item.grade),
            )
        queue, target, rank = where
        level = dash.get(item.incident_id)
        live = item.state != ItemState.DONE
        overdue = live and dash_due(queue, item.entered_at, level, now, escalation)
        facts = (
            item.thrive_risk,
            bool(item.thrive_assessed),
            tuple(markers.get(item.incident_id, ())),
            level,
            overdue,
        )
        risk = assessed.get(facts)
        if risk is None:
            found = assess_risk(RiskFacts(*facts))
            risk = assessed[facts] = (
                found.words,
                int(found.level),
                found.reasons,
                found.escalated,
                found.level,
            )
        words, risk_level, reasons, escalated, risk_enum = risk
        age = now - item.entered_at
        rows.append(
            QueueRow(
                item.item_id,
                item.incident_id,
                item.reference,
                queue,
                item.grade,
                item.status,
                item.type_label,
                item.location_text,
                item.entered_at,
                item.state,
                item.claimed_by_id,
                item.claimed_by_name,
                item.claimed_at,
                item.heartbeat_at,
                item.version,
                words,
                risk_level,
                reasons,
                escalated,
                level,
                age,
                target,
                live and age > target,
                is_stale(item.state, item.heartbeat_at, now, stale_after),
                order_key(
                    escalated=escalated,
                    grade_rank=rank,
                    risk=risk_enum,
                    through=through_permille(item.entered_at, now, target),
                    entered_at=item.entered_at,
                    item_id=item.item_id,
                ),
                clock_now(
                    item.opened_at,
                    item.arrived_at,
                    item.attendance_met,
                    policy.attendance_target(item.grade),
                    now,
                ),
            )
        )
    return rows


def summarise(rows: Iterable[QueueRow]) -> QueueSummary:
    """The figures of these rows (the same as `open_summary` counts in SQL)."""
    live = [r for r in rows if r.open]
    return QueueSummary(
        count=len(live),
        oldest_age=max((r.age for r in live), default=None),
        breaches=sum(1 for r in live if r.breached),
    )


def _listing(
    uow: UnitOfWork,
    policy: QueuePolicy,
    now: datetime,
    wanted: Queue | None,
    grade: str | None,
    limit: int | None,
) -> QueueListing:
    """The ordering, the LIMIT and the figures all come from SQL (`queue_queries`, from the
    domain's `rank_table`); only the rows returned are built here."""
    table = rank_table(policy)
    items = uow.queues.ranked_items(
        table,
        now,
        now - policy.dash_escalation,
        local_day(now),
        queue=wanted.value if wanted else None,
        grade=grade,
        limit=limit,
    )
    rows = _build(uow, items, policy, now, all_open=False)
    count, oldest, breaches = uow.queues.open_summary(
        table, now, queue=wanted.value if wanted else None, grade=grade
    )
    summary = QueueSummary(
        count=count, oldest_age=None if oldest is None else now - oldest, breaches=breaches
    )
    return QueueListing(rows=tuple(rows), summary=summary, read_at=now, queue=wanted, grade=grade)


def list_queue(
    uow: UnitOfWork,
    actor: Actor,
    policy: QueuePolicy,
    now: datetime,
    *,
    queue: Queue | str | None = None,
    grade: str | None = None,
    limit: int | None = None,
) -> QueueListing:
    """The items not done, of one queue and grade or all, in queue order: the first `limit`
    of them (all when None); the summary counts them all (audited)."""
    now = _aware(now)
    wanted = Queue(queue) if queue else None
    grade = grade or None
    with uow:
        access.require(uow, actor, Action.QUEUE_VIEW, "queue", wanted.value if wanted else None)
        listing = _listing(uow, policy, now, wanted, grade, limit)
        audit.record(
            uow,
            actor,
            "queue.list",
            "queue",
            wanted.value if wanted else "all",
            detail=f"grade={grade or 'all'}; {len(listing.rows)} of "
            f"{listing.summary.count} item(s) listed",
        )
        uow.commit()
    return listing


def refresh_listing(
    uow: UnitOfWork,
    policy: QueuePolicy,
    now: datetime,
    *,
    queue: Queue | str | None = None,
    grade: str | None = None,
    limit: int | None = None,
) -> QueueListing:
    """The live refresh of a listing already opened (and audited) by `list_queue`, for a
    screen whose drawn rows or figures changed: the same rows and figures, not audited
    (liveness, like `rows_for`)."""
    now = _aware(now)
    with uow:
        return _listing(uow, policy, now, Queue(queue) if queue else None, grade or None, limit)


def queue_summary(
    uow: UnitOfWork,
    policy: QueuePolicy,
    now: datetime,
    *,
    queue: Queue | str | None = None,
    grade: str | None = None,
) -> QueueSummary:
    """The figures alone (one aggregate query): for a screen whose rows changed."""
    now = _aware(now)
    with uow:
        count, oldest, breaches = uow.queues.open_summary(
            rank_table(policy),
            now,
            queue=Queue(queue).value if queue else None,
            grade=grade or None,
        )
    return QueueSummary(
        count=count, oldest_age=None if oldest is None else now - oldest, breaches=breaches
    )


def rows_for(
    uow: UnitOfWork, policy: QueuePolicy, now: datetime, item_ids: Iterable[int]
) -> list[QueueRow]:
    """These items as they are now (done ones too, so a screen can drop them): the live
    refresh of a listing already opened (and audited) by `list_queue`."""
    now = _aware(now)
    with uow:
        items = uow.queues.items_by_id(item_ids)
        return _build(uow, items, policy, now, all_open=False)


def open_change_feed(uow_factory: UnitOfWorkFactory) -> changes.ChangeFeed:
    """A feed of queue changes made at any station (see `controlroom.data.changes`);
    its blocking `wait(timeout)` belongs in a thread worker. Close it when done."""
    with uow_factory() as uow:
        return uow.change_feed()


# --- routing -------------------------------------------------------------------------------


def route_incident(
    uow: UnitOfWork,
    incident,
    now: datetime,
    *,
    new: bool = False,
    persons_linked: bool = True,
) -> None:
    """Put the incident's queue items in step with it, inside the caller's unit of work
    (which is flushed; the caller commits). Announces every item of the incident, since
    a grade or flag change moves it in the order even where its queues stay the same.

    `new`: the incident was made in this unit of work, so it has no items yet and none
    are read. `persons_linked=False`: no person is linked to it, so it carries no
    marker and none are read. Both only spare reads whose answer the caller knows (a
    saved incident's routing was 41% of its save, issue 20): the items are the same.
    """
    now = _aware(now)
    incident_type = uow.reference.incident_type(incident.opening_type_code)
    markers = (
        uow.queues.markers_of_incidents([incident.id], local_day(now)) if persons_linked else {}
    )
    closed = incident.status == IncidentStatus.CLOSED.value
    wanted = list(
        queues_for(
            RoutingFacts(
                type_code=incident.opening_type_code,
                type_domestic=bool(incident_type.domestic) if incident_type else False,
                domestic=bool(incident.domestic),
                child_present=bool(incident.child_present),
                marker_codes=frozenset(code for code, _ in markers.get(incident.id, ())),
                closed=closed,
            )
        )
    )
    existing = (
        {} if new else {item.queue: item for item in uow.queues.items_of_incident(incident.id)}
    )
    added = []
    for queue in wanted:
        item = existing.get(queue.value)
        if item is None:
            item = QueueItem(
                incident_id=incident.id,
                queue=queue.value,
                entered_at=now,
                state=ItemState.OPEN.value,
                version=1,
                change_seq=0,
            )
            uow.queues.add_item(item)
            added.append(item)
        elif item.state == ItemState.DONE and item.resolution != Resolution.COMPLETED:
            # It had left this queue (rerouted, or the incident was closed) and belongs
            # again: it waits afresh.
            item.state, item.entered_at = ItemState.OPEN.value, now
            item.completed_at = item.completed_by_id = item.resolution = None
            item.claimed_by_id = item.claimed_at = item.heartbeat_at = None
            item.version += 1
    for queue_name, item in existing.items():
        if Queue(queue_name) not in wanted and item.state != ItemState.DONE:
            item.state = ItemState.DONE.value
            item.completed_at = incident.closed_at if closed and incident.closed_at else now
            item.resolution = (Resolution.INCIDENT_CLOSED if closed else Resolution.REROUTED).value
            item.version += 1
    uow.flush()
    # Every item of the incident: those it had and those just added (no read needed).
    uow.queues.announce([i.id for i in (*existing.values(), *added)])


def route_unrouted(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Route every open incident that has never entered a queue (incidents made before
    the queues existed, or bulk-loaded): safe to re-run; returns how many."""
    now = _aware(now)
    with uow_factory() as uow:
        rows = uow.queues.unrouted_open_incidents(
            [
                IncidentStatus.OPEN.value,
                IncidentStatus.DISPATCHED.value,
                IncidentStatus.AT_SCENE.value,
            ]
        )
        markers = uow.queues.markers_of_incidents(
            [incident.id for incident, _ in rows], local_day(now)
        )
        items = []
        for incident, incident_type in rows:
            for queue in queues_for(
                RoutingFacts(
                    type_code=incident.opening_type_code,
                    type_domestic=incident_type.domestic,
                    domestic=incident.domestic,
                    child_present=incident.child_present,
                    marker_codes=frozenset(c for c, _ in markers.get(incident.id, ())),
                )
            ):
                items.append(
                    QueueItem(
                        incident_id=incident.id,
                        queue=queue.value,
                        entered_at=incident.opened_at,
                        state="open",
                        version=1,
                        change_seq=0,
                    )
                )
        uow.add_all(items)
        uow.flush()
        uow.queues.announce([item.id for item in items])
        uow.commit()
        return len(rows)


# --- claims --------------------------------------------------------------------------------


def _row(uow: UnitOfWork, policy: QueuePolicy, now: datetime, item_id: int) -> QueueRow | None:
    items = uow.queues.items_by_id([item_id])
    return _build(uow, items, policy, now, all_open=False)[0] if items else None


def _changed_row(uow: UnitOfWork, policy: QueuePolicy, now: datetime, item_id: int) -> QueueRow:
    """The row of an item this unit of work has just changed (so it exists)."""
    row = _row(uow, policy, now, item_id)
    if row is None:
        raise LookupError(f"no queue item {item_id}")
    return row


def _refuse(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    item_id: int,
    message: str,
    policy,
    now,
    *,
    stale: bool = False,
) -> NoReturn:
    uow.rollback()
    row = _row(uow, policy, now, item_id)
    audit.record(uow, actor, action, "queue_item", item_id, outcome=Outcome.REFUSED, detail=message)
    uow.commit()
    raise ClaimRefused(message, row, stale=stale)


def _take(
    uow: UnitOfWork,
    actor: Actor,
    item: queue_queries.LockedItem,
    policy: QueuePolicy,
    now: datetime,
) -> str | None:
    """Claim the locked `item` for `actor` if the rules allow; returns the audit action
    ("queue.claim" or "queue.reclaim") and leaves a detail, or None when the conditional
    update found the item changed under it."""
    previous = item.claimed_by_id if item.state == ItemState.CLAIMED else None
    ok = uow.queues.change_item(
        item.id,
        item.version,
        (item.state,),
        {
            "state": ItemState.CLAIMED.value,
            "claimed_by_id": actor.staff_id,
            "claimed_at": now,
            "heartbeat_at": now,
        },
    )
    if not ok:
        return None
    return "queue.reclaim" if previous is not None else "queue.claim"


def claim(
    uow: UnitOfWork,
    actor: Actor,
    item_id: int,
    policy: QueuePolicy,
    now: datetime,
    *,
    reclaim: bool = False,
) -> QueueRow:
    """Take the item for `actor`. Refused (ClaimRefused, audited) when it is done, held
    by somebody whose heartbeat is fresh, being claimed at another station this very
    moment, or stale while `reclaim` is not set."""
    now = _aware(now)
    with uow:
        access.require(
            uow, actor, Action.QUEUE_CLAIM, "queue_item", item_id, audit_action="queue.claim"
        )
        item = uow.queues.lock_item(item_id)
        if item is None:
            if uow.queues.item_exists(item_id):
                _refuse(
                    uow,
                    actor,
                    "queue.claim",
                    item_id,
                    "another operator is claiming this item right now",
                    policy,
                    now,
                )
            raise LookupError(f"no queue item {item_id}")
        if item.state == ItemState.DONE:
            _refuse(uow, actor, "queue.claim", item_id, "this item is already done", policy, now)
        if item.state == ItemState.CLAIMED and item.claimed_by_id == actor.staff_id:
            uow.queues.change_item(item.id, item.version, ("claimed",), {"heartbeat_at": now})
            audit.record(
                uow,
                actor,
                "queue.claim",
                "queue_item",
                item.id,
                detail="already held by this operator; heartbeat renewed",
            )
            uow.commit()
            return _changed_row(uow, policy, now, item.id)
        holder = uow.queues.staff_name(item.claimed_by_id) or "nobody"
        if item.state == ItemState.CLAIMED:
            quiet = is_stale(item.state, item.heartbeat_at, now, policy.stale_after)
            if not quiet:
                _refuse(uow, actor, "queue.claim", item_id, f"held by {holder}", policy, now)
            if not reclaim:
                _refuse(
                    uow,
                    actor,
                    "queue.claim",
                    item_id,
                    f"held by {holder}, who has not been heard from since "
                    f"{item.heartbeat_at:%H:%M} UTC: reclaim it to take it over",
                    policy,
                    now,
                    stale=True,
                )
        heard = item.heartbeat_at
        action = _take(uow, actor, item, policy, now)
        if action is None:
            _refuse(
                uow,
                actor,
                "queue.claim",
                item_id,
                "the item changed while you were claiming it; look again",
                policy,
                now,
            )
        detail = (
            f"reclaimed from {holder} (last heartbeat {heard:%Y-%m-%d %H:%M:%S} UTC)"
            if action == "queue.reclaim"
            else f"queue {item.queue}"
        )
        # The log line is written before the audit event takes the chain head.
        incident_log.append_now(
            uow,
            actor,
            item.incident_id,
            LogKind.TRIAGE,
            f"Claimed in the {Queue(item.queue).label} queue"
            + (f" (reclaimed from {holder})" if action == "queue.reclaim" else ""),
            now,
        )
        audit.record(uow, actor, action, "queue_item", item.id, detail=detail)
        uow.commit()
        return _changed_row(uow, policy, now, item.id)


@dataclass(frozen=True, slots=True)
class ClaimedItem:
    """What `claim_next` took (kept small: bulk work claims thousands)."""

    item_id: int
    incident_id: int
    queue: Queue
    reclaimed_from: str | None  # the previous holder's name when it was a stale claim


def claim_next(
    uow: UnitOfWork,
    actor: Actor,
    policy: QueuePolicy,
    now: datetime,
    *,
    queue: Queue | str | None = None,
) -> ClaimedItem | None:
    """Claim the oldest item that is open or whose claim has gone stale (None when there
    is none): for working a queue in bulk. Concurrent callers each get a different item
    (SKIP LOCKED on PostgreSQL; the write lock on SQLite)."""
    now = _aware(now)
    wanted = Queue(queue).value if queue else None
    with uow:
        access.require(uow, actor, Action.QUEUE_CLAIM, "queue", wanted, audit_action="queue.claim")
        skipped: list[int] = []
        while True:
            item = uow.queues.next_claimable(wanted, now - policy.stale_after, skipped)
            if item is None:
                return None
            holder = (
                uow.queues.staff_name(item.claimed_by_id)
                if item.state == ItemState.CLAIMED
                else None
            )
            heard = item.heartbeat_at
            action = _take(uow, actor, item, policy, now)
            if action is None:
                skipped.append(item.id)
                continue
            detail = (
                f"reclaimed from {holder} (last heartbeat {heard:%Y-%m-%d %H:%M:%S} UTC)"
                if action == "queue.reclaim"
                else f"queue {item.queue}; next in line"
            )
            audit.record(uow, actor, action, "queue_item", item.id, detail=detail)
            uow.commit()
            return ClaimedItem(
                item_id=item.id,
                incident_id=item.incident_id,
                queue=Queue(item.queue),
                reclaimed_from=holder,
            )


def heartbeat(uow: UnitOfWork, actor: Actor, item_id: int, now: datetime) -> None:
    """The holder is still working the item. ClaimLost when they no longer hold it."""
    now = _aware(now)
    with uow:
        item = uow.queues.lock_item(item_id)
        if item is None:
            return  # being changed by somebody else this instant: the next beat decides
        if item.state != ItemState.CLAIMED or item.claimed_by_id != actor.staff_id:
            raise ClaimLost(_lost_message(uow, item))
        uow.queues.change_item(item.id, item.version, ("claimed",), {"heartbeat_at": now})
        uow.commit()


def _lost_message(uow: UnitOfWork, item: queue_queries.LockedItem) -> str:
    if item.state == ItemState.DONE:
        return "this item is done"
    if item.state == ItemState.CLAIMED:
        return f"this item is now held by {uow.queues.staff_name(item.claimed_by_id)}"
    return "this item was released"


def complete(uow: UnitOfWork, actor: Actor, item_id: int, now: datetime) -> int:
    """The holder has decided the item: it leaves the queue (audited `queue.complete`).
    Returns the done item's version (a screen keeps reads older than it off its rows)."""
    now = _aware(now)
    with uow:
        access.require(
            uow, actor, Action.QUEUE_CLAIM, "queue_item", item_id, audit_action="queue.complete"
        )
        # One conditional UPDATE: it only matches while this operator holds the item.
        finished = uow.queues.finish_item(item_id, actor.staff_id, now, Resolution.COMPLETED.value)
        if finished is None:
            item = uow.queues.lock_item(item_id)
            message = (
                "another operator is changing this item right now"
                if item is None
                else _lost_message(uow, item)
            )
            uow.rollback()
            audit.record(
                uow,
                actor,
                "queue.complete",
                "queue_item",
                item_id,
                outcome=Outcome.REFUSED,
                detail=message,
            )
            uow.commit()
            raise ClaimLost(message)
        queue_name, incident_id, version = finished
        # The log line is written before the audit event takes the chain head, which on
        # PostgreSQL every station's audited write waits for until this commit.
        incident_log.append_now(
            uow,
            actor,
            incident_id,
            LogKind.TRIAGE,
            f"Decided in the {Queue(queue_name).label} queue: it leaves the queue",
            now,
        )
        audit.record(
            uow,
            actor,
            "queue.complete",
            "queue_item",
            item_id,
            detail=f"queue {queue_name}; incident {incident_id}",
        )
        uow.commit()
        return version


def reassign(
    uow: UnitOfWork,
    actor: Actor,
    item_id: int,
    to_username: str,
    reason: str,
    policy: QueuePolicy,
    now: datetime,
) -> QueueRow:
    """A supervisor gives the item to another operator, with a written reason; the
    previous holder (if any) is named in the audit event."""
    now = _aware(now)
    with uow:
        # A refusal is on the record before anything else is looked at, the reason too.
        access.require(
            uow, actor, Action.QUEUE_REASSIGN, "queue_item", item_id, audit_action="queue.reassign"
        )
        why = fields.text(
            reason,
            "reason",
            "reason for the reassignment",
            limit=REASON_LIMIT,
            error=QueueInputError,
            required=True,
            multiline=True,
        )
        if len(why) < REASON_MIN:
            raise QueueInputError(
                "reason", f"write the reason out: at least {REASON_MIN} characters"
            )
        username = (to_username or "").strip()
        if not username:
            raise QueueInputError("to", "name the operator to give the item to")
        target = uow.staff.by_username(username)
        if target is None or not target.active or target.locked:
            raise QueueInputError("to", f"no active operator {username!r}")
        item = uow.queues.lock_item(item_id)
        if item is None:
            if uow.queues.item_exists(item_id):
                _refuse(
                    uow,
                    actor,
                    "queue.reassign",
                    item_id,
                    "another operator is changing this item right now",
                    policy,
                    now,
                )
            raise LookupError(f"no queue item {item_id}")
        if item.state == ItemState.DONE:
            _refuse(uow, actor, "queue.reassign", item_id, "this item is already done", policy, now)
        previous = uow.queues.staff_name(item.claimed_by_id)
        ok = uow.queues.change_item(
            item.id,
            item.version,
            (item.state,),
            {
                "state": ItemState.CLAIMED.value,
                "claimed_by_id": target.id,
                "claimed_at": now,
                "heartbeat_at": now,
            },
        )
        if not ok:
            _refuse(
                uow,
                actor,
                "queue.reassign",
                item_id,
                "the item changed while you were reassigning it; look again",
                policy,
                now,
            )
        # The log line is written before the audit event takes the chain head.
        incident_log.append_now(
            uow,
            actor,
            item.incident_id,
            LogKind.TRIAGE,
            f"Reassigned in the {Queue(item.queue).label} queue from {previous or 'nobody'} "
            f"to {target.display_name}: {why}",
            now,
        )
        audit.record(
            uow,
            actor,
            "queue.reassign",
            "queue_item",
            item.id,
            justification=why,
            detail=f"from {previous or 'nobody'} to {target.display_name} ({target.username})",
        )
        uow.commit()
        return _changed_row(uow, policy, now, item.id)
