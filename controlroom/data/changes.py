"""Live queue changes across stations: announcing a change, and hearing of changes.

One interface, one implementation per dialect:

- `announce(session, item_ids)` runs inside the transaction that changed the queue items,
  so the news and the change commit together (or neither does):
  PostgreSQL sends `pg_notify` on `CHANNEL` with the item ids (delivered on commit);
  SQLite bumps the one-row `queue_change_counter` and stamps the items' `change_seq`
  with the new value. A statement changing one item on PostgreSQL may instead return
  `notified(id)`: the same notification, in the change's own round trip.
- `change_feed(engine)` gives a `ChangeFeed` whose blocking `wait(timeout)` (called from
  a thread worker, never the UI thread) returns the next `ChangeBatch` or None:
  PostgreSQL LISTENs on a connection of its own (taken out of the pool);
  SQLite polls the counter every `POLL_SECONDS` (a one-row read on a connection of its
  own that never begins a write transaction, so polling stations never queue behind
  writers) and, when it moved, reads the ids of the items changed since.

The LISTEN / UNLISTEN statements are composed with psycopg's `sql` module (an identifier,
never formatted text): SQLAlchemy has no expression for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    Text,
    bindparam,
    cast,
    create_engine,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from controlroom.data.cold_models import QueueChangeCounter, QueueItem

CHANNEL = "controlroom_queue"
EVERYTHING = "*"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more: beyond this, say "reload".
PAYLOAD_LIMIT = 7_000
POLL_SECONDS = 0.25
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Queue items that changed; `everything` when the listener cannot say which."""

    item_ids: frozenset[int]
    everything: bool = False


class ChangeFeed(Protocol):
    def wait(self, timeout: float) -> ChangeBatch | None: ...

    def close(self) -> None: ...


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# `announce`'s statements, built once (every queue change runs them): a statement used
# again keeps its cache key and compiled form. On table columns, through the session (its
# guards see them: no write inside a unit of work's read-only part).
_counter = QueueChangeCounter.__table__
_items = QueueItem.__table__
_CHANNEL = bindparam("channel", CHANNEL, type_=String)
_NOTIFY = select(func.pg_notify(_CHANNEL, bindparam("payload", type_=String)))
_BUMP_COUNTER = (
    update(_counter)
    .where(_counter.c.id == 1)
    .values(counter=_counter.c.counter + 1)
    .returning(_counter.c.counter)
)
_STAMP_ITEMS = (
    update(_items)
    .where(_items.c.id.in_(bindparam("ids", expanding=True)))
    .values(change_seq=bindparam("seq"))
)


def notified(item_id: ColumnElement[int]) -> ColumnElement[Any]:
    """PostgreSQL: `announce`'s notification of one item, as an expression, for the
    RETURNING of the statement that changes the item: the same news (the channel, the
    id as its payload) without a round trip of its own."""
    return func.pg_notify(_CHANNEL, cast(item_id, Text))


def announce(session: Session, item_ids: Iterable[int]) -> None:
    """Tell every station that these queue items changed, in the caller's transaction."""
    ids = sorted(set(item_ids))
    if not ids:
        return
    if _dialect(session) == "postgresql":
        payload = ",".join(map(str, ids))
        if len(payload) > PAYLOAD_LIMIT:
            payload = EVERYTHING
        session.execute(_NOTIFY, {"payload": payload})
        return
    seq = session.execute(_BUMP_COUNTER).scalar_one()
    for start in range(0, len(ids), _CHUNK):
        session.execute(_STAMP_ITEMS, {"ids": ids[start : start + _CHUNK], "seq": seq})


# --- SQLite: poll the counter ----------------------------------------------------------


class SqliteChangeFeed:
    def __init__(self, engine: Engine, poll_seconds: float = POLL_SECONDS) -> None:
        # An engine of its own without the application's BEGIN IMMEDIATE hook: pysqlite
        # runs a plain SELECT outside any transaction, so a poll takes no write lock and
        # sees the newest committed state (WAL) every time.
        self._engine = create_engine(
            engine.url, poolclass=NullPool, connect_args={"check_same_thread": False}
        )
        self._connection = self._engine.connect()
        self._poll = poll_seconds
        self._seen = self._counter()

    def _counter(self) -> int:
        try:
            return (
                self._connection.scalar(
                    select(QueueChangeCounter.counter).where(QueueChangeCounter.id == 1)
                )
                or 0
            )
        finally:
            self._connection.rollback()

    def wait(self, timeout: float) -> ChangeBatch | None:
        deadline = time.monotonic() + timeout
        while True:
            current = self._counter()
            if current != self._seen:
                try:
                    ids = self._connection.scalars(
                        select(QueueItem.id).where(QueueItem.change_seq > self._seen)
                    ).all()
                finally:
                    self._connection.rollback()
                self._seen = current
                return ChangeBatch(frozenset(ids))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self._poll, remaining))

    def close(self) -> None:
        self._connection.close()
        self._engine.dispose()


# --- PostgreSQL: LISTEN ------------------------------------------------------------------


class PostgresChangeFeed:
    def __init__(self, engine: Engine) -> None:
        from psycopg import sql

        pooled = engine.raw_connection()
        pooled.detach()  # ours alone until closed: never handed back to the pool
        self._pooled = pooled
        connection = pooled.dbapi_connection
        if connection is None:
            raise RuntimeError("the database connection closed before LISTEN")
        self._connection: Any = connection  # psycopg's: notifies() is not on the DB-API
        self._connection.autocommit = True
        self._connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))

    def wait(self, timeout: float) -> ChangeBatch | None:
        ids: set[int] = set()
        everything = False
        got = False
        # The first notification ends the wait; whatever arrives just behind it joins
        # the same batch.
        for window, limit in ((timeout, 1), (0.02, None)):
            for note in self._connection.notifies(timeout=window, stop_after=limit):
                got = True
                if note.payload == EVERYTHING:
                    everything = True
                    continue
                ids.update(int(part) for part in note.payload.split(",") if part.isdigit())
            if not got:
                return None
        return ChangeBatch(frozenset(ids), everything)

    def close(self) -> None:
        try:
            self._pooled.close()
        except Exception:  # closing a dead connection is not worth an error
            pass


def change_feed(engine: Engine) -> ChangeFeed:
    if engine.dialect.name == "postgresql":
        return PostgresChangeFeed(engine)
    return SqliteChangeFeed(engine)
