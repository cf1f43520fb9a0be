"""The offline journal: calls recorded on this station while the database cannot be
reached, kept until they have been replayed into it, exactly once.

One SQLite file per operator session, `<data dir>/offline/<username>.<session>.sqlite`
(two sessions never write into one file), readable by its owner only (the directory
0700, the file created 0600 before SQLite opens it; SQLite gives its rollback journal
the file's own mode). Every entry is committed with `synchronous=FULL`: on the disk
(fsync'd) when the operator is told it is saved. Its tables are its own (`metadata`
here, not the main schema's): an entry (`offline_entry`) in the order it was taken,
with the form's idempotency key, what was typed (JSON), its provisional reference, and
once replayed its final reference, or why it could not be.

Nothing is ever deleted: an entry replayed keeps its final reference beside its
provisional one (both findable); one that could not be replayed stays pending, with
its reason, until it is.

**The entry API** (stable: the offline service and the standby's read-only mode both
journal through it): `OfflineJournal(path).record(kind, idempotency_key,
provisional_reference, payload, actor, now)` keeps one entry and returns it; the same
key again returns the entry it made. `kind` is "incident.create" (payload: the entry
form's `NewIncident` as JSON), "incident.note", "incident.status" or "incident.regrade"
(payload: the incident's `reference` and `incident_id` — None for an incident itself
kept offline, named by its provisional reference — its `expected_version`, and what
was typed). "session.end" (payload: the `session_id` and `how` it ended) is a session that ended
while the database did not answer. `actor` is {"staff_id", "username", "role",
"terminal"}.

**Its own audit chain.** Every entry is audited into the journal in the same SQLite
transaction (`offline_audit`, chained like the main trail by `domain/audit_chain.py`,
with a one-row head), the event naming the SHA-256 of the entry; reads made offline are
audited into it with `audit`. `verify` recomputes the chain and every entry's hash: an
edited, deleted or reordered event, or an edited entry, is found. On replay the events
go onto the main chain (`services/offline.py`).

The PRAGMA statements are fixed connection set-up, as in `data/engine.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.pool import NullPool

from controlroom.domain.audit_chain import (
    FIELDS,
    GENESIS,
    BrokenLink,
    ChainHead,
    Verification,
    event_hash,
    verify,
)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600

metadata = MetaData()

offline_entry = Table(
    "offline_entry",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),  # "incident.create"
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("provisional_reference", String(60), nullable=False, unique=True),
    Column("payload", Text, nullable=False),  # what was typed, as JSON
    Column("actor", Text, nullable=False),  # who, at which terminal, as JSON
    Column("recorded_at", DateTime, nullable=False),  # UTC, naive
    Column("replayed_at", DateTime),
    Column("final_reference", String(40)),
    Column("problem", Text),  # why the last replay of it did not go in (kept pending)
)

# A change replayed: the incident's version after it (the next change kept offline on
# the same incident expects it). Its own table: journals made before it gain it.
offline_result = Table(
    "offline_result",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

# The journal's own audit chain (the main trail's fields, hash and links).
offline_audit = Table(
    "offline_audit",
    metadata,
    Column("seq", Integer, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),  # UTC, naive
    Column("actor", Text, nullable=False),
    Column("staff_id", Integer),
    Column("terminal", Text, nullable=False),
    Column("action", String(48), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("justification", Text),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("event_hash", String(64), nullable=False),
    Column("entry_seq", Integer),  # the entry the event records, if any
)

offline_audit_head = Table(
    "offline_audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_count", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)


# How far the journal's events are known to be on the main chain (a local note: the main
# chain's marker event is what a replay trusts; this only spares a journal fully sent a
# round trip at every sign-in).
offline_forwarded = Table(
    "offline_forwarded",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("upto", Integer, nullable=False),
)


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One event of the journal's audit chain, as the main trail records it."""

    seq: int
    occurred_at: datetime
    actor: str
    staff_id: int | None
    terminal: str
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    justification: str | None
    detail: str | None
    event_hash: str


@dataclass(frozen=True, slots=True)
class OfflineEntry:
    seq: int
    kind: str
    idempotency_key: str
    provisional_reference: str
    payload: dict[str, Any]
    actor: dict[str, Any]
    recorded_at: datetime
    replayed_at: datetime | None
    final_reference: str | None
    problem: str | None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _entry(row) -> OfflineEntry:
    return OfflineEntry(
        seq=row.seq,
        kind=row.kind,
        idempotency_key=row.idempotency_key,
        provisional_reference=row.provisional_reference,
        payload=json.loads(row.payload),
        actor=json.loads(row.actor),
        recorded_at=row.recorded_at.replace(tzinfo=UTC),
        replayed_at=None if row.replayed_at is None else row.replayed_at.replace(tzinfo=UTC),
        final_reference=row.final_reference,
        problem=row.problem,
    )


def entry_digest(entry: OfflineEntry) -> str:
    """SHA-256 over what an entry holds (its audit event names it: an edit shows)."""
    body = {
        "seq": entry.seq,
        "kind": entry.kind,
        "idempotency_key": entry.idempotency_key,
        "provisional_reference": entry.provisional_reference,
        "payload": entry.payload,
        "actor": entry.actor,
        "recorded_at": entry.recorded_at.isoformat(),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _event(row) -> JournalEvent:
    return JournalEvent(
        seq=row.seq,
        occurred_at=row.occurred_at.replace(tzinfo=UTC),
        actor=row.actor,
        staff_id=row.staff_id,
        terminal=row.terminal,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        outcome=row.outcome,
        justification=row.justification,
        detail=row.detail,
        event_hash=row.event_hash,
    )


def _append_event(
    connection,
    actor: dict[str, Any],
    action: str,
    object_type: str,
    object_id: str | None,
    detail: str | None,
    now: datetime,
    entry_seq: int | None = None,
) -> int:
    """Chain one event onto the journal's trail (in the caller's transaction)."""
    head = connection.execute(select(offline_audit_head)).first()
    count, previous = (0, GENESIS) if head is None else (head.event_count, head.last_hash)
    # Stored naive and read back aware: the hash is taken over what will be read.
    occurred = _naive_utc(now)
    fields = {
        "seq": count + 1,
        "occurred_at": occurred.replace(tzinfo=UTC),
        "actor": str(actor.get("username") or ""),
        "staff_id": actor.get("staff_id"),
        "terminal": str(actor.get("terminal") or ""),
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": "success",
        "justification": None,
        "detail": detail,
        "prev_hash": previous,
    }
    digest = event_hash(fields)
    connection.execute(
        insert(offline_audit).values(
            **{**fields, "occurred_at": occurred}, event_hash=digest, entry_seq=entry_seq
        )
    )
    if head is None:
        connection.execute(
            insert(offline_audit_head).values(id=1, event_count=count + 1, last_hash=digest)
        )
    else:
        connection.execute(
            update(offline_audit_head)
            .where(offline_audit_head.c.id == 1)
            .values(event_count=count + 1, last_hash=digest)
        )
    return count + 1


def _create_private(path: Path) -> None:
    """The file made 0600 (and its directory 0700) before SQLite first opens it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    os.chmod(path.parent, DIRECTORY_MODE)
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    os.close(descriptor)
    os.chmod(path, FILE_MODE)


class OfflineJournal:
    """One session's journal file: `record` an entry (on disk when it returns), list the
    `pending` ones in order, mark one `replayed` or `refused`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        _create_private(self.path)
        self._engine = create_engine(
            f"sqlite+pysqlite:///{self.path}",
            poolclass=NullPool,
            connect_args={"check_same_thread": False, "timeout": 2.0},
        )

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_connection, connection_record) -> None:
            cursor = dbapi_connection.cursor()
            try:
                # A commit is on the disk (fsync) before the operator is told "saved".
                cursor.execute("PRAGMA synchronous=FULL")
            finally:
                cursor.close()

        metadata.create_all(self._engine)

    def record(
        self,
        kind: str,
        idempotency_key: str,
        provisional_reference: str,
        payload: dict[str, Any],
        actor: dict[str, Any],
        now: datetime,
    ) -> OfflineEntry:
        """Keep one entry; the same idempotency key again returns the entry it made."""
        with self._engine.begin() as connection:
            found = connection.execute(
                select(offline_entry).where(offline_entry.c.idempotency_key == idempotency_key)
            ).first()
            if found is None:
                connection.execute(
                    insert(offline_entry).values(
                        kind=kind,
                        idempotency_key=idempotency_key,
                        provisional_reference=provisional_reference,
                        payload=json.dumps(payload, sort_keys=True),
                        actor=json.dumps(actor, sort_keys=True),
                        recorded_at=_naive_utc(now),
                    )
                )
                found = connection.execute(
                    select(offline_entry).where(offline_entry.c.idempotency_key == idempotency_key)
                ).one()
                kept = _entry(found)
                target = payload.get("reference") if kind != "incident.create" else None
                _append_event(
                    connection,
                    actor,
                    kind,
                    "staff" if kind.startswith("session.") else "incident",
                    str(target or provisional_reference),
                    f"kept offline on this station as {provisional_reference}"
                    f" (entry {kept.seq}, sha256 {entry_digest(kept)})",
                    now,
                    entry_seq=kept.seq,
                )
        return _entry(found)

    def audit(
        self,
        actor: dict[str, Any],
        action: str,
        object_type: str,
        object_id: str | None,
        detail: str | None,
        now: datetime,
    ) -> int:
        """Audit a read (or anything else done offline) into the journal's chain; on
        the disk when it returns. Returns its position."""
        with self._engine.begin() as connection:
            return _append_event(connection, actor, action, object_type, object_id, detail, now)

    def events(self, after: int = 0) -> list[JournalEvent]:
        """The journal's audit events after position `after`, in order."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(offline_audit)
                .where(offline_audit.c.seq > after)
                .order_by(offline_audit.c.seq)
            ).all()
        return [_event(row) for row in rows]

    def verify(self) -> Verification:
        """The journal's chain recomputed against its head, and every entry against the
        hash its event names: the first thing that does not hold, if any."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(offline_audit).order_by(offline_audit.c.seq)).all()
            head_row = connection.execute(select(offline_audit_head)).first()
            entries = connection.execute(select(offline_entry).order_by(offline_entry.c.seq)).all()
        head = None if head_row is None else ChainHead(head_row.event_count, head_row.last_hash)
        if head is None and not rows and not entries:
            return Verification(0, ChainHead(0, GENESIS), None)
        chain_rows = [
            (
                row.seq,
                *(
                    row.occurred_at.replace(tzinfo=UTC)
                    if name == "occurred_at"
                    else row._mapping[name]
                    for name in FIELDS
                ),
                row.event_hash,
            )
            for row in rows
        ]
        result = verify(chain_rows, head)
        if not result.intact:
            return result
        named = {row.entry_seq: row for row in rows if row.entry_seq is not None}
        for row in entries:
            entry = _entry(row)
            event = named.get(entry.seq)
            if event is None or f"sha256 {entry_digest(entry)})" not in (event.detail or ""):
                problem = (
                    f"entry {entry.seq} ({entry.provisional_reference}) has no audit event"
                    if event is None
                    else f"entry {entry.seq} ({entry.provisional_reference}) changed after it "
                    "was kept (its hash differs)"
                )
                return Verification(
                    result.events, head, BrokenLink(event.seq if event else 0, entry.seq, problem)
                )
        return result

    def forwarded_upto(self) -> int:
        with self._engine.connect() as connection:
            return connection.execute(select(offline_forwarded.c.upto)).scalar() or 0

    def mark_forwarded(self, upto: int) -> None:
        """Remember that the main chain has this journal's events up to `upto`. One
        statement (an upsert that never moves the mark back): two replays of the journal
        at once, each with a connection of its own, both found no row and both inserted
        one when this read first and wrote after."""
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(offline_forwarded).values(id=1, upto=upto)
        statement = statement.on_conflict_do_update(
            index_elements=[offline_forwarded.c.id],
            set_={"upto": func.max(offline_forwarded.c.upto, statement.excluded.upto)},
        )
        with self._engine.begin() as connection:
            connection.execute(statement)

    def settled(self) -> bool:
        """Nothing pending and every audit event known to be on the main chain."""
        return not self.pending() and not self.events(after=self.forwarded_upto())

    def result_version(self, seq: int) -> int | None:
        """The incident's version after the replayed change `seq`, if recorded."""
        with self._engine.connect() as connection:
            return connection.execute(
                select(offline_result.c.version).where(offline_result.c.seq == seq)
            ).scalar()

    def count(self) -> int:
        return len(list(self.entries()))

    def entries(self) -> Iterator[OfflineEntry]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(offline_entry).order_by(offline_entry.c.seq)).all()
        return iter([_entry(row) for row in rows])

    def pending(self) -> list[OfflineEntry]:
        """Entries not yet in the database, in the order they were taken."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(offline_entry)
                .where(offline_entry.c.replayed_at.is_(None))
                .order_by(offline_entry.c.seq)
            ).all()
        return [_entry(row) for row in rows]

    def replayed(
        self, seq: int, final_reference: str, now: datetime, version: int | None = None
    ) -> None:
        """In the database as `final_reference` (a change: the incident's, and its
        `version` after the change)."""
        with self._engine.begin() as connection:
            connection.execute(
                update(offline_entry)
                .where(offline_entry.c.seq == seq)
                .values(final_reference=final_reference, replayed_at=_naive_utc(now), problem=None)
            )
            if version is not None:
                connection.execute(insert(offline_result).values(seq=seq, version=version))

    def refused(self, seq: int, problem: str) -> None:
        """The database would not take it: kept pending, with why."""
        with self._engine.begin() as connection:
            connection.execute(
                update(offline_entry).where(offline_entry.c.seq == seq).values(problem=problem)
            )

    def close(self) -> None:
        self._engine.dispose()


def journal_path(data_dir: Path, username: str, session: str) -> Path:
    """Where the journal of `username`'s session `session` lives."""
    for part in (username, session):
        if not part or "/" in part or part in {".", ".."} or not part.isprintable():
            raise ValueError(f"not a name an offline journal can be kept under: {part!r}")
    return Path(data_dir) / "offline" / f"{username}.{session}.sqlite"


def cache_path(data_dir: Path) -> Path:
    """The station's cache of the reference data entry needs (JSON)."""
    return Path(data_dir) / "offline" / "reference.json"


def _write_whole(path: Path, write: Callable[[TextIO], None]) -> None:
    """`write` into a file beside `path`, flushed and renamed over it: whole or not at
    all (a failure part-way leaves the old file and no scratch one)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


def write_cache(path: Path, content: dict[str, Any]) -> None:
    """Written beside and renamed over the old one, flushed: whole or not at all."""
    _write_whole(path, lambda handle: json.dump(content, handle, sort_keys=True))


def write_cache_listing(
    path: Path, content: dict[str, Any], key: str, items: Iterable[dict[str, Any]]
) -> None:
    """As `write_cache`, with `content[key]` the list of `items`, written one item at a
    time as they come: a list of thousands (the station's gazetteer) is never held
    whole, as objects or as text. `items` failing part-way leaves the old file."""

    def write(handle: TextIO) -> None:
        # The head's own keys, then `key` and its list opened: '{"as_of": ..., "places": ['
        handle.write(json.dumps(content, sort_keys=True)[:-1])
        handle.write(f"{', ' if content else ''}{json.dumps(key)}: [")
        for number, item in enumerate(items):
            handle.write(", " if number else "")
            handle.write(json.dumps(item, sort_keys=True))
        handle.write("]}")

    _write_whole(path, write)


def read_cache(path: Path) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None
