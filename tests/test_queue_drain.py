"""PostgreSQL only: 20 worker threads drain 10,000 queue items while 3 of them are killed
mid-claim. Every item is completed exactly once, and the claims the killed workers left
behind are reclaimed once they go stale.

Its time is set by the hash-chained audit trail: each of the 20,000 claims and
completions holds the chain head from its audit insert to its commit, so they pass one
at a time (measured 2026-11-26 on the 2-core machine: the head is held 86% of the wall
time; a hold takes 1.0 ms median with one worker and 3.3 ms with twenty threads, which
share one GIL and two cores with their PostgreSQL backends; 70-80 s at load 1-4).

Less Python per item shortens the holds too: a claim and a completion are 8 statements and
2 commits, their statements built once (`data/queue_queries.py`); measured 2026-12-08
alone at load 5-9: 49-67 s, 23-24 s of user CPU (82 s and 51 s before, 12 statements).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import make_url

from controlroom.data.cold_models import QueueItem
from controlroom.data.engine import make_session_factory
from controlroom.data.models import AuditEvent, Incident, Staff
from controlroom.domain.identity import Actor
from controlroom.domain.queues import QueuePolicy
from controlroom.domain.roles import Role
from controlroom.services import queues
from controlroom.services.queues import ClaimLost
from tests.databases import SEED_ANCHOR

ITEMS = 10_000
WORKERS = 20
KILLED = 3
POLICY = QueuePolicy(stale_after=timedelta(seconds=2))


@pytest.fixture
def postgres(databases, database):
    if database.dialect != "postgresql":
        pytest.skip("SKIP LOCKED under load is a PostgreSQL test")
    # Speed only: this throwaway database need not wait for the disk at each of its
    # 20,000 commits (crash safety is not what this test is about).
    databases._execute(
        "ALTER DATABASE {name} SET synchronous_commit = off", make_url(database.url).database
    )
    # Twenty workers in one process need twenty connections (the app's pool is sized for
    # one operator); new connections also pick the setting above up.
    database.engine.dispose()
    # No pre-ping: it is a round trip per checkout (two per item) and the one connection
    # this test kills is invalidated, so the pool never hands it out again.
    database.engine = create_engine(database.engine.url, pool_size=WORKERS + 2, max_overflow=4)
    database.session_factory = make_session_factory(database.engine)
    return database


def bulk_items(database) -> list[Actor]:
    with database.uow() as uow:
        session = uow.session
        session.execute(
            insert(Staff),
            [
                {
                    "username": f"drain.{n}",
                    "display_name": f"Drain {n}",
                    "role": "call_handler",
                    "active": True,
                    "locked": False,
                }
                for n in range(WORKERS)
            ],
        )
        opener = session.scalar(select(Staff.id).where(Staff.username == "drain.0"))
        session.execute(
            insert(Incident),
            [
                {
                    "reference": f"CR-20260101-{n:05d}",
                    "opened_at": SEED_ANCHOR,
                    "opened_by_id": opener,
                    "workstation": "WS",
                    "opening_type_code": "THEFT",
                    "grade": "G3",
                    "status": "open",
                    "location_text": "1 Drain Street",
                    "narrative": "",
                    "domestic": False,
                    "child_present": False,
                    "weapons": False,
                    "possible_crime": True,
                    "thrive_skipped": False,
                    "version": 1,
                }
                for n in range(ITEMS)
            ],
        )
        ids = session.scalars(select(Incident.id).order_by(Incident.id)).all()
        session.execute(
            insert(QueueItem),
            [
                {
                    "incident_id": i,
                    "queue": "general",
                    "entered_at": SEED_ANCHOR,
                    "state": "open",
                    "version": 1,
                    "change_seq": 0,
                }
                for i in ids
            ],
        )
        uow.commit()
        return [
            Actor(staff_id=s.id, username=s.username, role=Role.CALL_HANDLER, terminal=f"ws-{s.id}")
            for s in session.scalars(
                select(Staff).where(Staff.username.like("drain.%")).order_by(Staff.id)
            )
        ]


def now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.slow
def test_twenty_workers_drain_ten_thousand_items_despite_three_killed_mid_claim(postgres):
    database = postgres
    actors = bulk_items(database)
    killed = set(range(KILLED))
    completed: list[int] = []
    lost: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def die_mid_claim(actor: Actor, index: int) -> None:
        if index == 0:
            # Killed inside the claim transaction: the row is locked, then the connection
            # dies without a commit. PostgreSQL drops the lock; the item stays open.
            uow = database.uow()
            with uow:
                item = uow.queues.next_claimable(None, now() - POLICY.stale_after)
                assert item is not None
                uow.session.connection().invalidate()
            return
        # Killed after the claim committed, before completing: the claim goes stale.
        assert queues.claim_next(database.uow(), actor, POLICY, now()) is not None

    def work(actor: Actor, index: int) -> None:
        try:
            done_here = 0
            while True:
                if index in killed and done_here == 5 * (index + 1):
                    die_mid_claim(actor, index)
                    return
                row = queues.claim_next(database.uow(), actor, POLICY, now())
                if row is None:
                    with database.uow() as uow:
                        left = uow.session.scalar(
                            select(func.count()).where(QueueItem.state != "done")
                        )
                    if not left:
                        return
                    time.sleep(0.2)  # only stale-to-be claims remain: wait for them
                    continue
                try:
                    queues.complete(database.uow(), actor, row.item_id, now())
                except ClaimLost:
                    with lock:
                        lost.append(row.item_id)
                    continue
                done_here += 1
                with lock:
                    completed.append(row.item_id)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, i)) for i, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert errors == []
    assert len(completed) == ITEMS and len(set(completed)) == ITEMS

    with database.uow() as uow:
        session = uow.session
        assert session.scalar(select(func.count()).where(QueueItem.state != "done")) == 0
        finishers = session.execute(
            select(AuditEvent.object_id, func.count())
            .where(AuditEvent.action == "queue.complete", AuditEvent.outcome == "success")
            .group_by(AuditEvent.object_id)
        ).all()
        assert len(finishers) == ITEMS and all(n == 1 for _, n in finishers)
        reclaims = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "queue.reclaim")
        ).all()
        killed_names = {f"Drain {n}" for n in killed}
        assert sum(any(name in d for name in killed_names) for d in reclaims) >= KILLED - 1
        dead = [a.staff_id for i, a in enumerate(actors) if i in killed]
        assert session.scalar(
            select(func.count()).where(QueueItem.completed_by_id.in_(dead))
        ) == sum(5 * (i + 1) for i in killed)
