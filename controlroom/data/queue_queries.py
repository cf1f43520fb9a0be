"""Queries behind the triage queue and the command view.

Claiming is exclusive by two guards that work on both backends:
- `lock_item` reads the item `FOR UPDATE SKIP LOCKED` on PostgreSQL (a row another
  station is claiming right now is simply not returned); on SQLite every transaction
  already began IMMEDIATE, so the reading transaction holds the database's write lock;
- `change_item` is a conditional UPDATE: it changes the row only if its version is
  still the one read (and its state one of those allowed) and says whether it did.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from controlroom.data import changes, legacy_guard
from controlroom.data.cold_models import (
    DashAssessment,
    IncidentAttendance,
    IncidentLogEntry,
    IncidentPerson,
    MarkerType,
    QueueItem,
    WarningMarker,
)
from controlroom.data.models import Incident, IncidentType, Staff, UtcDateTime
from controlroom.domain.queues import RankTable, whole_seconds

NOT_DONE = ("open", "claimed")
_CHUNK = 900


def _chunks(ids: Sequence[int]):
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


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
    # The attendance clock: the incident's opening and its first arrival, if any.
    opened_at: datetime
    arrived_at: datetime | None
    attendance_met: bool | None


def _item_select():
    claimant = aliased(Staff)
    assessed = or_(
        Incident.thrive_threat.is_not(None),
        Incident.thrive_harm.is_not(None),
        Incident.thrive_risk.is_not(None),
        Incident.thrive_investigation.is_not(None),
        Incident.thrive_vulnerability.is_not(None),
        Incident.thrive_engagement.is_not(None),
    )
    return (
        select(
            QueueItem.id,
            QueueItem.incident_id,
            QueueItem.queue,
            QueueItem.entered_at,
            QueueItem.state,
            QueueItem.claimed_by_id,
            claimant.display_name,
            QueueItem.claimed_at,
            QueueItem.heartbeat_at,
            QueueItem.completed_at,
            QueueItem.resolution,
            QueueItem.version,
            Incident.reference,
            Incident.grade,
            Incident.status,
            Incident.opening_type_code,
            IncidentType.label,
            Incident.location_text,
            Incident.thrive_risk,
            case((assessed, literal(True)), else_=literal(False)),
            Incident.opened_at,
            IncidentAttendance.arrived_at,
            IncidentAttendance.met,
        )
        .join(Incident, Incident.id == QueueItem.incident_id)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .outerjoin(claimant, claimant.id == QueueItem.claimed_by_id)
        .outerjoin(IncidentAttendance, IncidentAttendance.incident_id == Incident.id)
    )


# --- the order, in SQL ----------------------------------------------------------------------
#
# `controlroom.domain.queues.order_key` is the rule; `RankTable` gives it as tables and
# these expressions turn the tables into CASEs, so the database orders (and LIMITs) exactly
# as the domain would: escalated first, grade rank, risk (highest first), thousandths of
# the target gone (most first), entered_at, id. Ages are whole seconds between epoch
# seconds with the fraction dropped, in integer arithmetic on both backends.


def _epoch_seconds(column, dialect: str):
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    if sqlite3.sqlite_version_info >= (3, 38):
        return func.unixepoch(column, type_=BigInteger)  # integer seconds, the fraction dropped
    return cast(func.strftime("%s", column), BigInteger)


def _glob_class(characters: str) -> str:
    """A GLOB character class matching exactly `characters` ("-" last, where it is
    itself; "]" and "^" would need more rules, and THRIVE's separators have neither)."""
    if "]" in characters or "^" in characters:
        raise ValueError(f"no GLOB class here for {characters!r}")
    return "[" + "".join(sorted(set(characters), key=lambda c: c == "-")) + "]"


def _thrive_risk(table: RankTable, dialect: str):
    """THRIVE's first word as a level (`domain.queues.thrive_level`), unstated as the
    table says."""
    assessed = or_(
        Incident.thrive_threat.is_not(None),
        Incident.thrive_harm.is_not(None),
        Incident.thrive_risk.is_not(None),
        Incident.thrive_investigation.is_not(None),
        Incident.thrive_vulnerability.is_not(None),
        Incident.thrive_engagement.is_not(None),
    )
    whens = [(~assessed, literal(table.thrive_unstated))]
    seps = table.thrive_separators
    # A word is the text's start up to a separator, a space appended for a text that is
    # the word alone. Evaluated for every item not done, to order them (issue 20).
    if dialect == "sqlite":
        # One GLOB per word, its letters in either case ("[Hh][Ii][Gg][Hh][ .,-]*"):
        # SQLite's lower() folds ASCII only, as `thrive_level` reads ASCII words only.
        # Half the cost of the substr of lower() below: about 5 ms of 35 on 10,000 items.
        text = func.ltrim(Incident.thrive_risk, literal(seps), type_=String) + literal(" ", String)
        for word, level in table.thrive_words.items():
            letters = "".join(f"[{c.upper()}{c.lower()}]" for c in word)
            whens.append(
                (text.op("GLOB")(literal(letters + _glob_class(seps) + "*")), literal(level))
            )
        return case(*whens, else_=literal(table.thrive_unstated))
    # Compare the start with the word followed by each separator (one substr per word).
    text = func.lower(func.ltrim(Incident.thrive_risk, literal(seps)), type_=String) + literal(
        " ", String
    )
    for word, level in table.thrive_words.items():
        whens.append(
            (
                func.substr(text, 1, len(word) + 1).in_([word + sep for sep in seps]),
                literal(level),
            )
        )
    return case(*whens, else_=literal(table.thrive_unstated))


def _open_incidents(queue: str | None = None):
    statement = select(QueueItem.incident_id).where(QueueItem.state.in_(NOT_DONE))
    return statement if queue is None else statement.where(QueueItem.queue == queue)


def _marker_risks(table: RankTable, today: date):
    """Per incident with an item not done: the highest level the markers in force on its
    linked persons make it (a derived table, joined once rather than asked per row)."""
    level = case(
        (MarkerType.severity <= table.high_marker_severity, literal(3)),
        (MarkerType.severity == table.medium_marker_severity, literal(2)),
        else_=literal(1),
    )
    return (
        select(IncidentPerson.incident_id, func.max(level).label("risk"))
        .join(WarningMarker, WarningMarker.person_id == IncidentPerson.person_id)
        .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
        .where(
            IncidentPerson.incident_id.in_(_open_incidents()),
            WarningMarker.valid_from <= today,
            or_(WarningMarker.valid_to.is_(None), WarningMarker.valid_to >= today),
        )
        .group_by(IncidentPerson.incident_id)
        .subquery("marker_risk")
    )


def _dash_levels(table: RankTable):
    """Per incident with a domestic-abuse item not done: the DASH level in force (its
    newest assessment). Joined to domestic-abuse items only."""
    newest = (
        select(func.max(DashAssessment.id))
        .where(DashAssessment.incident_id.in_(_open_incidents(table.dash_queue)))
        .group_by(DashAssessment.incident_id)
    )
    return (
        select(DashAssessment.incident_id, DashAssessment.level)
        .where(DashAssessment.id.in_(newest))
        .subquery("dash_level")
    )


def _target_seconds(table: RankTable):
    whens = [
        (and_(QueueItem.queue == q, Incident.grade == g), literal(seconds))
        for (q, g), seconds in table.target_seconds.items()
    ]
    return case(*whens, else_=literal(table.fallback_target_seconds))


# --- routing -----------------------------------------------------------------------------


# --- claiming ------------------------------------------------------------------------------
#
# A claim and a completion run these statements once per item, and a drain of a queue runs
# them tens of thousands of times: each is built once, every value a bound parameter, so a
# statement used again keeps its cache key and compiled form (as `audit_log` does for the
# chain). On table columns, so the rows are plain tuples and the UPDATEs skip the ORM's
# bulk-update machinery; still through the session, so its guards see every statement (a
# write inside a unit of work's read-only part is refused, `data/uow.py`).

_items = QueueItem.__table__
_incidents = Incident.__table__
_log = IncidentLogEntry.__table__
_staff = Staff.__table__


class LockedItem(NamedTuple):
    """A queue item as read to change it (`lock_item`, `next_claimable`)."""

    id: int
    incident_id: int
    queue: str
    entered_at: datetime
    state: str
    claimed_by_id: int | None
    claimed_at: datetime | None
    heartbeat_at: datetime | None
    version: int


_LOCKED = select(*(_items.c[name] for name in LockedItem._fields))
# By "on PostgreSQL": there, the row is locked, and one locked elsewhere is passed over.
_LOCK_ITEM = {
    False: _LOCKED.where(_items.c.id == bindparam("item_id")),
    True: _LOCKED.where(_items.c.id == bindparam("item_id")).with_for_update(skip_locked=True),
}
_STAFF_NAME = select(_staff.c.display_name).where(_staff.c.id == bindparam("staff_id"))


def _claimable(postgres: bool, by_queue: bool, skipping: bool) -> Select:
    """`next_claimable`'s statement: the stalest claim gone quiet, else the oldest open item.

    Two subqueries, each reading its own index in order and stopping at the first row it
    can lock (rather than one OR), in one round trip: COALESCE evaluates the second only
    when the first found nothing, so one row at most is locked."""
    stale, waiting = _items.alias("stale"), _items.alias("waiting")
    firsts = []
    for table, statement in (
        (
            stale,
            select(stale.c.id)
            .where(stale.c.state == "claimed", stale.c.heartbeat_at < bindparam("stale_before"))
            .order_by(stale.c.heartbeat_at, stale.c.id),
        ),
        (
            waiting,
            select(waiting.c.id)
            .where(waiting.c.state == "open")
            .order_by(waiting.c.entered_at, waiting.c.id),
        ),
    ):
        if by_queue:
            statement = statement.where(table.c.queue == bindparam("queue"))
        if skipping:
            statement = statement.where(table.c.id.not_in(bindparam("skip", expanding=True)))
        statement = statement.limit(1)
        if postgres:
            statement = statement.with_for_update(skip_locked=True)
        firsts.append(statement.scalar_subquery())
    found = _LOCKED.where(_items.c.id == func.coalesce(*firsts))
    # The row is this transaction's already: read as it is now (a newer version than the
    # statement's snapshot, if one was committed meanwhile), as a locking read does.
    return found.with_for_update() if postgres else found


# By (on PostgreSQL, of one queue, passing some items over).
_CLAIMABLE = {
    (postgres, by_queue, skipping): _claimable(postgres, by_queue, skipping)
    for postgres in (False, True)
    for by_queue in (False, True)
    for skipping in (False, True)
}

# By the names of the columns set and "on PostgreSQL": the few shapes of change the
# services make. Each returns the row it changed; on PostgreSQL with its announcement.
_CHANGES: dict[tuple[tuple[str, ...], bool], Update] = {}


def _change(names: tuple[str, ...], postgres: bool) -> Update:
    statement = _CHANGES.get((names, postgres))
    if statement is None:
        statement = _CHANGES[names, postgres] = (
            update(_items)
            .where(
                _items.c.id == bindparam("item_id"),
                _items.c.version == bindparam("read_version"),
                _items.c.state.in_(bindparam("states", expanding=True)),
            )
            .values(
                {_items.c.version: _items.c.version + 1}
                | {_items.c[name]: bindparam(f"new_{name}") for name in names}
            )
            .returning(_items.c.id, *_announced(postgres))
        )
    return statement


def _announced(postgres: bool) -> tuple:
    return (changes.notified(_items.c.id),) if postgres else ()


def _finish(holder, postgres: bool) -> Update:
    return (
        update(_items)
        .where(_items.c.id == bindparam("item_id"), _items.c.state == "claimed", holder)
        .values(
            state="done",
            completed_at=bindparam("finished_at"),
            completed_by_id=bindparam("holder"),
            resolution=bindparam("new_resolution"),
            version=_items.c.version + 1,
        )
        .returning(_items.c.queue, _items.c.incident_id, _items.c.version, *_announced(postgres))
    )


# By (nobody enrolled, on PostgreSQL): a holder of None is matched as IS NULL, as an ORM
# comparison does.
_FINISH_ITEM = {
    (nobody, postgres): _finish(
        _items.c.claimed_by_id.is_(None)
        if nobody
        else _items.c.claimed_by_id == bindparam("holder"),
        postgres,
    )
    for nobody in (False, True)
    for postgres in (False, True)
}

# The incident's log line, inserted only while the incident is not LEGACY (issue 19): the
# flush's guard (`data/legacy_guard.py`) never sees a Core insert, so the insert carries
# the same refusal itself, at no extra round trip. (Its row count tells: kept on purpose,
# as an INSERT's is not by default.)
_LOG_LINE = (
    insert(_log)
    .from_select(
        ["incident_id", "entered_at", "entered_by_id", "kind", "text"],
        select(
            _incidents.c.id,
            bindparam("log_at", type_=_log.c.entered_at.type),
            bindparam("log_by", type_=_log.c.entered_by_id.type),
            bindparam("log_kind", type_=_log.c.kind.type),
            bindparam("log_text", type_=_log.c.text.type),
        ).where(
            _incidents.c.id == bindparam("log_incident"), _incidents.c.legacy_batch_id.is_(None)
        ),
    )
    .execution_options(preserve_rowcount=True)
)


# --- the command view ----------------------------------------------------------------------


class QueueRepository:
    """The triage queue's reads and writes, on one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._on_postgres: bool | None = None

    def _postgres(self) -> bool:
        if self._on_postgres is None:
            self._on_postgres = self.session.get_bind().dialect.name == "postgresql"
        return self._on_postgres

    def announce(self, item_ids: Iterable[int]) -> None:
        """Tell every station's change feed these items changed (on commit)."""
        changes.announce(self.session, item_ids)

    def _rows(self, statement) -> list[ItemRow]:
        # Core execution on the session's connection: the same transaction, without the ORM's
        # per-row bookkeeping (these are plain column tuples, not entities).
        make = ItemRow._make
        return [make(row) for row in self.session.connection().execute(statement)]

    def open_items(self, *, queue: str | None = None, grade: str | None = None) -> list[ItemRow]:
        """Every item not done, of one queue and grade or all."""
        statement = _item_select().where(QueueItem.state.in_(NOT_DONE))
        if queue is not None:
            statement = statement.where(QueueItem.queue == queue)
        if grade is not None:
            statement = statement.where(Incident.grade == grade)
        return self._rows(statement)

    def items_by_id(self, item_ids: Iterable[int]) -> list[ItemRow]:
        """These items, whatever their state (a done item leaves the screen)."""
        ids = sorted(set(item_ids))
        found: list[ItemRow] = []
        for chunk in _chunks(ids):
            found += self._rows(_item_select().where(QueueItem.id.in_(chunk)))
        return found

    def markers_of_incidents(
        self,
        incident_ids: Iterable[int] | None,
        today: date,
    ) -> dict[int, list[tuple[str, int]]]:
        """(marker code, severity) in force on `today` on persons linked to each incident;
        `incident_ids` None: every incident with an item not done."""
        base = (
            select(IncidentPerson.incident_id, MarkerType.code, MarkerType.severity)
            .join(WarningMarker, WarningMarker.person_id == IncidentPerson.person_id)
            .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
            .where(
                WarningMarker.valid_from <= today,
                or_(WarningMarker.valid_to.is_(None), WarningMarker.valid_to >= today),
            )
            .distinct()
        )
        found: dict[int, list[tuple[str, int]]] = {}
        if incident_ids is None:
            queued = select(QueueItem.incident_id).where(QueueItem.state.in_(NOT_DONE))
            statements = [base.where(IncidentPerson.incident_id.in_(queued))]
        else:
            statements = [
                base.where(IncidentPerson.incident_id.in_(chunk))
                for chunk in _chunks(sorted(set(incident_ids)))
            ]
        for statement in statements:
            for incident_id, code, severity in self.session.execute(statement):
                found.setdefault(incident_id, []).append((code, severity))
        return found

    def rank_columns(self, table: RankTable, now: datetime, escalate_before: datetime, today: date):
        """(escalated 0/1, grade rank, risk level, thousandths of target) as SQL expressions
        over QueueItem joined to Incident, and `join(statement)` adding the derived tables
        they read: `order_key`'s parts."""
        dialect = self.session.get_bind().dialect.name
        markers, dashes = _marker_risks(table, today), _dash_levels(table)
        dash = dashes.c.level
        overdue = and_(
            QueueItem.queue == table.dash_queue,
            QueueItem.state.in_(NOT_DONE),
            dash.is_(None),
            QueueItem.entered_at <= literal(escalate_before, UtcDateTime()),
        )
        escalated = case((overdue, literal(0)), else_=literal(1))
        grade_rank = case(
            *[(Incident.grade == g, literal(r)) for g, r in table.grade_ranks.items()],
            else_=literal(table.unknown_grade_rank),
        )
        thrive = _thrive_risk(table, dialect)
        dash_risk = case(
            *[(func.lower(dash) == lv, literal(r)) for lv, r in table.dash_risk.items()],
            else_=literal(1),
        )
        overdue_risk = case((overdue, literal(table.escalated_risk)), else_=literal(1))
        # The highest of the parts, each evaluated once (SQLite's max(a, b, ...) is scalar).
        highest = func.greatest if dialect == "postgresql" else func.max
        risk = highest(thrive, func.coalesce(markers.c.risk, literal(1)), dash_risk, overdue_risk)
        now_s = whole_seconds(now)
        age = literal(now_s, BigInteger) - _epoch_seconds(QueueItem.entered_at, dialect)
        age = case((age < 0, literal(0, BigInteger)), else_=age)
        through = (age * 1000) // _target_seconds(table)

        def join(statement):
            return statement.outerjoin(
                markers, markers.c.incident_id == QueueItem.incident_id
            ).outerjoin(
                dashes,
                and_(
                    dashes.c.incident_id == QueueItem.incident_id,
                    QueueItem.queue == table.dash_queue,
                ),
            )

        return escalated, grade_rank, risk, through, join

    def ranked_items(
        self,
        table: RankTable,
        now: datetime,
        escalate_before: datetime,
        today: date,
        *,
        queue: str | None = None,
        grade: str | None = None,
        limit: int | None = None,
    ) -> list[ItemRow]:
        """Items not done, of one queue and grade or all, in queue order (`order_key`), the
        first `limit` of them (all when None)."""
        escalated, grade_rank, risk, through, join = self.rank_columns(
            table, now, escalate_before, today
        )
        statement = (
            join(_item_select())
            .where(QueueItem.state.in_(NOT_DONE))
            .order_by(
                escalated,
                grade_rank,
                risk.desc(),
                through.desc(),
                QueueItem.entered_at,
                QueueItem.id,
            )
        )
        if queue is not None:
            statement = statement.where(QueueItem.queue == queue)
        if grade is not None:
            statement = statement.where(Incident.grade == grade)
        if limit is not None:
            statement = statement.limit(limit)
        return self._rows(statement)

    def open_summary(
        self,
        table: RankTable,
        now: datetime,
        *,
        queue: str | None = None,
        grade: str | None = None,
    ) -> tuple[int, datetime | None, int]:
        """(items not done, the oldest entered_at, how many are past their target) of one queue
        and grade or all: one aggregate over the rows, none of them fetched. Past target: waited
        longer than the target (`now - entered_at > target`), to the microsecond."""
        cutoffs = [
            (
                and_(QueueItem.queue == q, Incident.grade == g),
                literal(now - timedelta(seconds=seconds), UtcDateTime()),
            )
            for (q, g), seconds in table.target_seconds.items()
        ]
        cutoff = case(
            *cutoffs,
            else_=literal(now - timedelta(seconds=table.fallback_target_seconds), UtcDateTime()),
        )
        statement = (
            select(
                func.count(),
                func.min(QueueItem.entered_at),
                func.coalesce(func.sum(case((QueueItem.entered_at < cutoff, 1), else_=0)), 0),
            )
            .select_from(QueueItem)
            .join(Incident, Incident.id == QueueItem.incident_id)
            .where(QueueItem.state.in_(NOT_DONE))
        )
        if queue is not None:
            statement = statement.where(QueueItem.queue == queue)
        if grade is not None:
            statement = statement.where(Incident.grade == grade)
        count, oldest, breaches = self.session.execute(statement).one()
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest, int(breaches)

    def incident_for_routing(self, incident_id: int):
        """(incident, its type) or None."""
        row = self.session.execute(
            select(Incident, IncidentType)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(Incident.id == incident_id)
        ).first()
        return None if row is None else (row[0], row[1])

    def items_of_incident(self, incident_id: int) -> list[QueueItem]:
        return list(
            self.session.scalars(select(QueueItem).where(QueueItem.incident_id == incident_id))
        )

    def add_item(self, item: QueueItem) -> None:
        self.session.add(item)

    def unrouted_open_incidents(self, statuses: Sequence[str]):
        """(incident, type) of open incidents that have never entered any queue."""
        routed = select(QueueItem.id).where(QueueItem.incident_id == Incident.id).exists()
        return self.session.execute(
            select(Incident, IncidentType)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(Incident.status.in_(statuses), ~routed)
        ).all()

    def lock_item(self, item_id: int) -> LockedItem | None:
        """The item, locked for this transaction; None if it does not exist or (PostgreSQL)
        another transaction holds it right now."""
        row = self.session.execute(_LOCK_ITEM[self._postgres()], {"item_id": item_id}).first()
        return None if row is None else LockedItem._make(row)

    def item_exists(self, item_id: int) -> bool:
        return bool(self.session.scalar(select(func.count()).where(QueueItem.id == item_id)))

    def change_item(self, item_id: int, version: int, states: Sequence[str], values: dict) -> bool:
        """Apply `values` (and bump the version) only if the item is still at `version` and in
        one of `states`, and announce the change (`changes.announce`); True when it was."""
        postgres = self._postgres()
        changed = self.session.execute(
            _change(tuple(values), postgres),
            {
                "item_id": item_id,
                "read_version": version,
                "states": list(states),
                **{f"new_{name}": value for name, value in values.items()},
            },
        ).first()
        if changed is None:
            return False
        if not postgres:  # PostgreSQL's announcement rode in the UPDATE
            changes.announce(self.session, [item_id])
        return True

    def finish_item(
        self, item_id: int, staff_id: int | None, now: datetime, resolution: str
    ) -> tuple[str, int, int] | None:
        """Mark the item done if `staff_id` holds it, and announce the change: (queue,
        incident id, the done item's version), or None when they do not (nothing
        changed)."""
        postgres = self._postgres()
        row = self.session.execute(
            _FINISH_ITEM[staff_id is None, postgres],
            {
                "item_id": item_id,
                "holder": staff_id,
                "finished_at": now,
                "new_resolution": resolution,
            },
        ).first()
        if row is None:
            return None
        if not postgres:  # PostgreSQL's announcement rode in the UPDATE
            changes.announce(self.session, [item_id])
        return row[0], row[1], row[2]

    def next_claimable(
        self, queue: str | None, stale_before: datetime, skip: Sequence[int] = ()
    ) -> LockedItem | None:
        """The next item to take: a claim gone stale (heartbeat older than `stale_before`,
        longest quiet first), else the oldest open item. On PostgreSQL locked with SKIP LOCKED
        so concurrent workers each get another (`_claimable`)."""
        row = self.session.execute(
            _CLAIMABLE[self._postgres(), queue is not None, bool(skip)],
            {"stale_before": stale_before, "queue": queue, "skip": list(skip)},
        ).first()
        return None if row is None else LockedItem._make(row)

    def staff_name(self, staff_id: int | None) -> str | None:
        if staff_id is None:
            return None
        return self.session.execute(_STAFF_NAME, {"staff_id": staff_id}).scalar()

    def log_line(
        self, incident_id: int, staff_id: int, kind: str, text: str, now: datetime
    ) -> None:
        """Append a line to the incident's log at once (`incident_log.append` adds one to the
        next flush instead): one INSERT, which writes nothing for a LEGACY incident, and
        then `LegacyReadOnly` is raised, as `data/legacy_guard.py` would at a flush."""
        result = self.session.execute(
            _LOG_LINE,
            {
                "log_incident": incident_id,
                "log_at": now,
                "log_by": staff_id,
                "log_kind": kind,
                "log_text": text,
            },
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]  # a CursorResult
            return
        reference = self.session.scalar(
            select(Incident.reference).where(Incident.id == incident_id)
        )
        if reference is None:
            raise LookupError(f"no incident {incident_id}")
        raise legacy_guard.refused("incident", reference)

    def queue_figures(
        self, cutoffs: dict[tuple[str, str], datetime], fallback_cutoff: datetime
    ) -> list[tuple[str, int, datetime, int]]:
        """(queue, items not done, the oldest entered_at, how many entered before their
        (queue, grade) cutoff) per queue with items not done.

        An item's grade is its incident's, one lookup an item; but an item that entered
        before every cutoff of its queue is past its target whatever the grade, and one
        that entered after all of them is within it. So the items are counted by queue
        alone, and only those that entered between their queue's earliest and latest
        cutoff are read with their grade: on the large seed nearly every waiting item is
        months old, and looking up 7,500 incidents was most of the command view on
        PostgreSQL (issue 20)."""
        queues = {queue for queue, _ in cutoffs}
        earliest = {
            q: min([c for (cq, _), c in cutoffs.items() if cq == q] + [fallback_cutoff])
            for q in queues
        }
        latest = {
            q: max([c for (cq, _), c in cutoffs.items() if cq == q] + [fallback_cutoff])
            for q in queues
        }

        def by_queue(bounds: dict[str, datetime]):
            return case(
                *[(QueueItem.queue == q, literal(at, UtcDateTime())) for q, at in bounds.items()],
                else_=literal(fallback_cutoff, UtcDateTime()),
            )

        first, last = by_queue(earliest), by_queue(latest)
        figures = {
            queue: [int(n), oldest, int(late)]
            for queue, n, oldest, late in self.session.execute(
                select(
                    QueueItem.queue,
                    func.count(),
                    func.min(QueueItem.entered_at),
                    func.coalesce(func.sum(case((QueueItem.entered_at < first, 1), else_=0)), 0),
                )
                .where(QueueItem.state.in_(NOT_DONE))
                .group_by(QueueItem.queue)
            )
        }
        whens = [
            (and_(QueueItem.queue == q, Incident.grade == g), literal(cutoff, UtcDateTime()))
            for (q, g), cutoff in cutoffs.items()
        ]
        fallback = literal(fallback_cutoff, UtcDateTime())
        cutoff = case(*whens, else_=fallback) if whens else fallback
        for queue, late in self.session.execute(
            select(QueueItem.queue, func.count())
            .join(Incident, Incident.id == QueueItem.incident_id)
            .where(
                QueueItem.state.in_(NOT_DONE),
                QueueItem.entered_at >= first,
                QueueItem.entered_at < last,
                QueueItem.entered_at < cutoff,
            )
            .group_by(QueueItem.queue)
        ):
            figures[queue][2] += int(late)
        return [(queue, n, oldest, late) for queue, (n, oldest, late) in figures.items()]

    def backlog_steps(self, moments: Sequence[datetime]) -> list[tuple[str, int, int, int]]:
        """The items in a queue at some time in [moments[0], moments[-1]] (entered by
        the last, not completed before the first), counted by when they came and went:
        (queue, came, went, how many). `came` is the index of the first of `moments`
        (ascending) at or after the item's entered_at, `went` the first at or after its
        completed_at (len(moments) for neither). An item was waiting at moment k exactly
        when came <= k < went, so a backlog line is a few sums over these rows, which
        are at most a few hundred however many items there are: fetching every item to
        place it at each point was 29 ms of the command view on the large seed (issue
        20)."""
        if not moments:
            return []
        edges = [literal(moment, UtcDateTime()) for moment in moments]

        def first_at_or_after(column):
            # NULL (not completed) first: most items are still waiting, and this spares
            # each of them a comparison with every edge.
            return case(
                (column.is_(None), len(edges)),
                *[(column <= edge, k) for k, edge in enumerate(edges)],
                else_=len(edges),
            )

        came = first_at_or_after(QueueItem.entered_at).label("came")
        went = first_at_or_after(QueueItem.completed_at).label("went")
        rows = self.session.execute(
            select(QueueItem.queue, came, went, func.count())
            .where(
                QueueItem.entered_at <= moments[-1],
                or_(QueueItem.completed_at.is_(None), QueueItem.completed_at >= moments[0]),
            )
            .group_by(QueueItem.queue, came, went)
        )
        return [(queue, int(c), int(w), int(n)) for queue, c, w, n in rows]
