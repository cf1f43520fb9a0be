"""Appending to the audit chain and reading it back, on a Session or a Connection.

`append` is the one place an audit row is written (`services.audit.record` and the first
events `schema.upgrade` writes both come here). It reads the chain head, computes the
new event's position and hash (`controlroom.domain.audit_chain`), inserts the event and
moves the head, all in the caller's transaction:

- on PostgreSQL the head row is read FOR UPDATE, so concurrent writers queue on it until
  the holder commits or rolls back: positions are gap-free and every `prev_hash` names
  the event really before it;
- on SQLite every transaction begins IMMEDIATE (`data.engine`), so there is one writer.

The insert runs at once (not at the next flush), so a refusal by the database (a revoked
grant, a full disk) surfaces inside `append`, before the caller returns anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from controlroom.data.models import AuditChainHead, AuditEvent
from controlroom.domain.audit_chain import FIELDS, GENESIS, ChainHead, event_hash

_events = AuditEvent.__table__
_head = AuditChainHead.__table__

# (id, *FIELDS, event_hash) in chain order: what domain.audit_chain.verify reads.
_CHAIN_COLUMNS = (
    _events.c.id,
    _events.c.chain_seq,
    *(_events.c[name] for name in FIELDS[1:]),
    _events.c.event_hash,
)

# `append`'s three statements, built once with every value a parameter: every audited
# action runs them, and a statement object used again keeps its compiled form and cache
# key (building and keying them afresh cost more than SQLite took to run them).
_LAST_SEQ = select(func.max(_events.c.chain_seq))
# The head (locked: it serialises writers on PostgreSQL) and the last position taken,
# in one round trip: every audited action pays for this statement.
_READ_HEAD = (
    select(_head.c.event_count, _head.c.last_hash, _LAST_SEQ.scalar_subquery().label("last"))
    .where(_head.c.id == 1)
    .with_for_update()
)
_INSERT_EVENT = insert(_events)
_INSERT_HEAD = insert(_head).values(id=1)
_MOVE_HEAD = (
    update(_head)
    .where(_head.c.id == 1)
    .values(event_count=bindparam("count"), last_hash=bindparam("digest"))
)
# PostgreSQL: the event's insert rides in the head's update as a data-modifying CTE, one
# round trip instead of two while the head is locked (every other station's audited
# write waits that long). SQLite has no INSERT in a WITH, and one writer anyway.
_EVENT_COLUMNS = ("chain_seq", *FIELDS[1:], "event_hash")
_INSERT_EVENT_AND_MOVE_HEAD = _MOVE_HEAD.add_cte(
    insert(_events)
    .values({name: bindparam(f"event_{name}") for name in _EVENT_COLUMNS})
    .cte("new_event")
)


def append(
    executor,
    *,
    occurred_at: datetime,
    actor: str,
    staff_id: int | None,
    terminal: str,
    action: str,
    object_type: str,
    object_id: str | None,
    outcome: str,
    justification: str | None,
    detail: str | None,
) -> int:
    """Insert one chained audit event through `executor` (a Session or Connection);
    returns its position in the chain."""
    head = executor.execute(_READ_HEAD).first()
    if head is None:  # the first event (or a head deleted under existing rows)
        count, previous, last = 0, GENESIS, executor.execute(_LAST_SEQ).scalar()
    else:
        count, previous, last = head.event_count, head.last_hash, head.last
    # A row the head does not know (inserted behind the application's back) or a head
    # deleted under existing rows made this position taken, and every audited action
    # (`audit verify` too) failed on it. The event goes after the last row, still linked
    # to what the head says came before: the mismatch stays where `audit verify` finds
    # and reports it, and the program keeps working.
    position = max(count, last or 0) + 1
    fields = {
        "seq": position,
        "occurred_at": occurred_at,
        "actor": actor,
        "staff_id": staff_id,
        "terminal": terminal,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "justification": justification,
        "detail": detail,
        "prev_hash": previous,
    }
    digest = event_hash(fields)
    values = {**fields, "event_hash": digest}
    values["chain_seq"] = values.pop("seq")
    if head is not None and _dialect(executor) == "postgresql":
        executor.execute(
            _INSERT_EVENT_AND_MOVE_HEAD,
            {
                "count": position,
                "digest": digest,
                **{f"event_{name}": value for name, value in values.items()},
            },
        )
        return position
    executor.execute(_INSERT_EVENT, values)
    if head is None:
        executor.execute(_INSERT_HEAD, {"event_count": position, "last_hash": digest})
    else:
        executor.execute(_MOVE_HEAD, {"count": position, "digest": digest})
    return position


def _dialect(executor) -> str:
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    return bind.dialect.name


_LOCK_HEAD = select(_head.c.id).where(_head.c.id == 1).with_for_update()


def lock_head(executor) -> None:
    """Hold the chain head until the transaction ends (PostgreSQL; SQLite's writer
    already holds the file from BEGIN IMMEDIATE): a writer that must read the trail
    before deciding what to append (the offline journal's forwarding, which looks for
    its own marker first) does both as one, and a second such writer waits and then
    sees what the first committed."""
    executor.execute(_LOCK_HEAD)


def append_many(connection, events: list[dict], *, batch: int = 10_000) -> int:
    """Append many events in one go (bulk inserts, the same hashes as `append`): for
    bringing in a trail from elsewhere, and for building long chains in tests and
    benchmarks. Each dict holds the fields of `append`. Returns the new chain length."""
    head = connection.execute(
        select(_head.c.event_count, _head.c.last_hash).where(_head.c.id == 1).with_for_update()
    ).one()
    count, previous = head.event_count, head.last_hash
    rows = []
    for event in events:
        count += 1
        fields = {**event, "seq": count, "prev_hash": previous}
        previous = event_hash(fields)
        row = {**fields, "event_hash": previous}
        row["chain_seq"] = row.pop("seq")
        rows.append(row)
        if len(rows) >= batch:
            connection.execute(insert(_events), rows)
            rows = []
    if rows:
        connection.execute(insert(_events), rows)
    connection.execute(
        update(_head).where(_head.c.id == 1).values(event_count=count, last_hash=previous)
    )
    return count


def chain_head(executor) -> ChainHead | None:
    row = executor.execute(
        select(_head.c.event_count, _head.c.last_hash).where(_head.c.id == 1)
    ).first()
    return None if row is None else ChainHead(row.event_count, row.last_hash)


def chain_rows(executor, *, batch: int = 5000) -> Iterator[tuple]:
    """Every event as (id, *FIELDS, event_hash), in chain order, read in batches."""
    result = executor.execute(
        select(*_CHAIN_COLUMNS).order_by(_events.c.chain_seq).execution_options(yield_per=batch)
    )
    for row in result:
        yield tuple(row)


def chain_rows_plain(executor, *, batch: int = 5000) -> int:
    """Read the same rows without hashing (the verify benchmark's floor); returns the count."""
    return sum(1 for _ in chain_rows(executor, batch=batch))


def event_count(executor) -> int:
    return executor.execute(select(func.count()).select_from(_events)).scalar_one()
