"""The tamper-evident audit chain: every event carries its position, the previous hash
and its own; `audit verify` finds an edited, deleted, reordered or cut-off event.

The 100,000-event chain is built once per module with bulk inserts that compute the same
hashes as `services.audit.record` (`data.audit_log.append_many`); each tamper test
changes it inside a transaction, verifies on that same connection and rolls back.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from controlroom.data import audit_log
from controlroom.data.engine import make_engine
from controlroom.data.models import AuditChainHead, AuditEvent, Staff
from controlroom.data.uow import Database
from controlroom.domain.audit_chain import FIELDS, GENESIS, ChainHead, event_hash, verify
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import audit, incidents
from controlroom.services.audit_trail import verify_chain
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import SEED_ANCHOR

CHAIN_LENGTH = 100_000
EVENTS = AuditEvent.__table__
HEAD = AuditChainHead.__table__


def synthetic_events(n: int, start: datetime = SEED_ANCHOR) -> list[dict]:
    """`n` plausible events (synthetic usernames and ids; the same every run)."""
    actions = ("person.view", "incident.view", "person.search", "intel.view", "incident.create")
    return [
        {
            "occurred_at": start + timedelta(seconds=i, microseconds=(i * 7919) % 1_000_000),
            "actor": f"user{i % 199}",
            "staff_id": None,
            "terminal": f"10.0.{i % 7}.{i % 250}",
            "action": actions[i % 5],
            "object_type": "person",
            "object_id": str(i * 31 % 50_000),
            "outcome": "success",
            "justification": "need to know" if i % 97 == 0 else None,
            "detail": f"shown: {i % 1000}" if i % 5 == 0 else None,
        }
        for i in range(n)
    ]


# --- the domain rule on its own ---------------------------------------------------------


def small_chain(n: int = 6):
    rows, previous = [], GENESIS
    for seq, event in enumerate(synthetic_events(n), start=1):
        fields = {**event, "seq": seq, "prev_hash": previous}
        previous = event_hash(fields)
        rows.append((seq * 10, *(fields[name] for name in FIELDS), previous))
    return rows, ChainHead(n, previous)


def test_an_untouched_chain_verifies():
    rows, head = small_chain()
    result = verify(rows, head)
    assert result.intact and result.events == 6


def test_every_field_is_in_the_hash():
    rows, head = small_chain()
    for position, name in enumerate(FIELDS, start=1):
        if name in ("seq", "prev_hash"):
            continue
        tampered = list(rows)
        row = list(tampered[2])
        row[position] = (
            "x"
            if row[position] is None or isinstance(row[position], str)
            else (row[position] + timedelta(microseconds=1) if name == "occurred_at" else 99)
        )
        tampered[2] = tuple(row)
        result = verify(tampered, head)
        assert not result.intact and result.broken.seq == 3, name
        assert "hash differs" in result.broken.problem


def test_a_missing_head_is_a_break():
    rows, _ = small_chain()
    assert verify(rows, None).broken.problem == "the chain head is missing"


# --- services write a chained trail ------------------------------------------------------


def enrol(database, role: Role, username: str) -> Actor:
    """A member of staff with `role`, as the Actor the services take."""
    with database.uow() as uow:
        uow.session.add(
            Staff(
                username=username, display_name=username, role=role.value, active=True, locked=False
            )
        )
        uow.commit()
        staff = uow.staff.by_username(username)
        return Actor(staff_id=staff.id, username=username, role=role, terminal="local")


def test_services_and_the_first_events_of_a_database_chain(database, admin):
    handler = enrol(database, Role.SUPERVISOR, "chain.supervisor")
    incidents.save_new_incident(
        database.uow(),
        handler,
        incidents.NewIncident(
            idempotency_key="chain-1",
            type_code="DOM",
            location_text="1 Chain Row",
            thrive_skipped=True,
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    with database.uow() as uow:
        audit.record(uow, admin, "person.view", "person", 7, justification="[b]why[/b]\x1b[2J")
        uow.commit()
    result = verify_chain(database.uow())
    assert result.intact, result.broken
    with database.engine.connect() as connection:
        seqs = connection.scalars(select(EVENTS.c.chain_seq).order_by(EVENTS.c.id)).all()
        head = audit_log.chain_head(connection)
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 4
    assert head.count == len(seqs)


def test_concurrent_writers_keep_one_unbroken_chain(database, admin):
    """Four stations recording at once: positions stay gap-free and every link holds
    (PostgreSQL queues writers on the chain head's row lock; SQLite on BEGIN IMMEDIATE)."""
    threads, per_thread, errors = 4, 25, []
    start = threading.Barrier(threads)

    def station(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with database.uow() as uow:
                    audit.record(uow, admin, "person.view", "person", n * 1000 + i)
                    uow.commit()
        except Exception as exc:  # surfaced below with the thread's failure
            errors.append(exc)

    workers = [threading.Thread(target=station, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    result = verify_chain(database.uow())
    assert result.intact, result.broken
    with database.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(EVENTS)) == result.events
    assert result.events >= threads * per_thread + 2


def test_the_orm_cannot_edit_an_event(database, admin):
    from controlroom.data.append_only import AppendOnlyViolation

    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        event.detail = "rewritten"
        with pytest.raises(AppendOnlyViolation):
            uow.flush()


# --- 100,000 events: every kind of tampering is found -----------------------------------


@pytest.fixture(scope="module")
def long_chain(databases, tmp_path_factory):
    url = databases.create(tmp_path_factory.mktemp("chain"))
    engine = make_engine(url)
    with engine.begin() as connection:
        audit_log.append_many(connection, synthetic_events(CHAIN_LENGTH))
    yield engine
    engine.dispose()
    databases.drop(url)


def _verify(connection):
    return verify(audit_log.chain_rows(connection), audit_log.chain_head(connection))


def _id_at(connection, seq: int) -> int:
    return connection.scalar(select(EVENTS.c.id).where(EVENTS.c.chain_seq == seq))


def _edit(connection, seq: int) -> None:
    connection.execute(update(EVENTS).where(EVENTS.c.chain_seq == seq).values(actor="someone.else"))


def _edit_and_rehash(connection, seq: int) -> None:
    """A careful forger: changes the row and recomputes its own hash (not the next one's)."""
    row = connection.execute(select(EVENTS).where(EVENTS.c.chain_seq == seq)).one()._mapping
    fields = {name: row["chain_seq" if name == "seq" else name] for name in FIELDS}
    fields["occurred_at"] = fields["occurred_at"].replace(tzinfo=UTC)
    fields["object_id"] = "1"
    connection.execute(
        update(EVENTS)
        .where(EVENTS.c.chain_seq == seq)
        .values(object_id="1", event_hash=event_hash(fields))
    )


def _delete(connection, seq: int) -> None:
    connection.execute(delete(EVENTS).where(EVENTS.c.chain_seq == seq))


def _reorder(connection, seq: int) -> None:
    """Swap the positions of this event and the one before it."""
    connection.execute(update(EVENTS).where(EVENTS.c.chain_seq == seq).values(chain_seq=-1))
    connection.execute(update(EVENTS).where(EVENTS.c.chain_seq == seq - 1).values(chain_seq=seq))
    connection.execute(update(EVENTS).where(EVENTS.c.chain_seq == -1).values(chain_seq=seq - 1))


def _truncate_tail(connection, seq: int) -> None:
    connection.execute(delete(EVENTS).where(EVENTS.c.chain_seq >= seq))


TAMPERING = {
    "edited": _edit,
    "edited and rehashed": _edit_and_rehash,
    "deleted": _delete,
    "reordered": _reorder,
    "truncated tail": _truncate_tail,
}
LAST = CHAIN_LENGTH + 2  # the two events every new database starts with


MIDDLE = LAST // 2 + 17
# Near the start (cheap: verify stops at the first break), in the middle, and at the end
# where only the chain head can tell (a full scan each, so only where it matters).
POSITIONS = {
    "edited": (3, MIDDLE),
    "edited and rehashed": (MIDDLE, LAST),
    "deleted": (3, MIDDLE),
    "reordered": (4, MIDDLE),
    "truncated tail": (MIDDLE, LAST),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_anywhere_in_100k_events_is_found(long_chain, kind):
    positions = POSITIONS[kind]
    with long_chain.connect() as connection:
        for seq in positions:
            with connection.begin() as transaction:
                row_id, next_id = _id_at(connection, seq), _id_at(connection, seq + 1)
                TAMPERING[kind](connection, seq)
                result = _verify(connection)
                transaction.rollback()
            assert not result.intact, f"{kind} at {seq} went unnoticed"
            if kind == "truncated tail":
                assert result.broken.seq == seq and result.broken.event_id is None
                assert "cut off" in result.broken.problem
            elif kind == "reordered":
                assert result.broken.seq == seq - 1
            elif kind == "edited and rehashed" and seq != LAST:
                # Its own hash is right now; the next event no longer follows it.
                assert result.broken.seq == seq + 1
            elif kind == "edited and rehashed":
                assert result.broken.event_id is None  # only the head knows
            else:
                assert result.broken.seq == seq
                assert result.broken.event_id in (row_id, next_id)


def test_the_long_chain_is_intact_and_its_head_matches(long_chain):
    """Runs after the tampering tests: every change they made was rolled back."""
    with long_chain.connect() as connection:
        assert _verify(connection).intact
        head = audit_log.chain_head(connection)
        last = connection.execute(
            select(EVENTS.c.chain_seq, EVENTS.c.event_hash)
            .order_by(EVENTS.c.chain_seq.desc())
            .limit(1)
        ).one()
    assert head == ChainHead(LAST, last.event_hash)
    assert head.count == last.chain_seq


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: "test.admin")
    return database_url


def test_audit_verify_says_intact_and_then_names_the_first_broken_link(cli_env, capsys):
    ok = run_cli(capsys, "audit", "verify", "--database-url", cli_env)
    assert ok.code == 0, ok.err
    assert ok.out.startswith("audit trail intact: ")
    engine = make_engine(cli_env)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(EVENTS).where(EVENTS.c.chain_seq == 2).values(detail="nothing to see")
            )
            second = _id_at(connection, 2)
    finally:
        engine.dispose()
    broken = run_cli(capsys, "audit", "verify", "--database-url", cli_env)
    assert broken.code == 1
    # The first line; the second says how the chain stands against its anchor.
    assert broken.out.splitlines()[0] == (
        f"audit trail BROKEN at event 2 (row id {second}): "
        "content changed after it was written (hash differs)"
    )
    # Both runs were themselves audited (after checking, so never of their own row).
    database = Database(cli_env)
    try:
        with database.uow() as uow:
            outcomes = [
                (e.action, e.outcome) for e in uow.audit.latest(10) if e.action == "audit.verify"
            ]
    finally:
        database.dispose()
    assert outcomes == [("audit.verify", "failed"), ("audit.verify", "success")]


def test_a_row_that_cannot_be_read_back_is_a_break_not_a_crash():
    rows, head = small_chain()

    def reading():
        yield from rows[:2]
        raise ValueError("Invalid isoformat string: 'yesterday'")

    result = verify(reading(), head)
    assert result.broken.seq == 3 and "unreadable row after event 2" in result.broken.problem
