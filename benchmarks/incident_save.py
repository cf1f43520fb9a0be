"""Incident save latency on the large seed: `save_new_incident` against a plain insert of
the rows it writes, in the same run, on the same database.

Each trial saves the incident the entry benchmark types (benchmarks/incident_entry.py: a
domestic at a street address, graded G1, THRIVE skipped, a narrative) through the service
layer, as the form's save key does: permission, the form's idempotency key, type and
location checks, the day's reference, the incident, its opening log entry, routing into
its triage queues with the change announced to every station, the audit event and the
commit. Interleaved with it, so drift in the machine's load hits both alike, the floor:
the same rows inserted plainly in one transaction — the incident (the same columns), its
opening log entry, a queue item for each queue the service put it in, and the audit
event (appended to the chain, which is the only way an event row can be written) — and
committed.

The incidents it adds (opened now) are closed at the end, their queue items done, so the
seeded backlog the other benchmarks count stays as it was.

    .venv/bin/python benchmarks/incident_save.py --database-url sqlite:////work/bench/large.sqlite
    .venv/bin/python benchmarks/incident_save.py --size small      # a quick try (seeds a scratch file)

Seeding is as in benchmarks/search.py (large: about 11 minutes on two cores).
Target (issue 20): p95 at most 5x the plain insert's p95.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, update

from controlroom.config import mask_url
from controlroom.data import audit_log
from controlroom.data.cold_models import IncidentLogEntry, QueueItem
from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB
from controlroom.data.models import Incident
from controlroom.data.uow import Database
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.services.incidents import NewIncident, save_new_incident

GOAL_RATIO = 5.0
LOCATION = "14 Mill Lane, LS6 2AB"
TYPE = "DOM"
GRADE = "G1"
NARRATIVE = "Caller reports shouting next door and a child crying."
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("search_benchmark", _HERE / "search.py")
search_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_benchmark)


def run_service(database: Database, actor) -> tuple[float, int]:
    form = NewIncident(
        idempotency_key=uuid.uuid4().hex,
        type_code=TYPE,
        location_text=LOCATION,
        grade=GRADE,
        thrive_skipped=True,
        narrative=NARRATIVE,
    )
    started = time.perf_counter()
    saved = save_new_incident(database.uow(), actor, form, datetime.now(UTC), GRADE_CODES)
    elapsed = time.perf_counter() - started
    assert saved.created
    return elapsed, saved.id


def written_by_service(database: Database, incident_id: int) -> tuple[dict, list[str], str]:
    """The columns of the incident the service wrote, its queues and its log text."""
    with database.uow() as uow:
        incident = uow.session.get(Incident, incident_id)
        columns = {
            column.key: getattr(incident, column.key)
            for column in Incident.__mapper__.column_attrs
            if column.key not in ("id", "reference", "idempotency_key")
        }
        queues = list(
            uow.session.scalars(
                select(QueueItem.queue)
                .where(QueueItem.incident_id == incident_id)
                .order_by(QueueItem.id)
            )
        )
        log_text = uow.session.scalar(
            select(IncidentLogEntry.text).where(IncidentLogEntry.incident_id == incident_id)
        )
    return columns, queues, log_text


def run_floor(database: Database, actor, shape: tuple[dict, list[str], str]) -> tuple[float, int]:
    """The same rows, inserted plainly and committed."""
    columns, queues, log_text = shape
    now = datetime.now(UTC)
    started = time.perf_counter()
    with database.uow() as uow:
        session = uow.session
        incident_id = session.execute(
            insert(Incident)
            .values(
                **{**columns, "opened_at": now},
                reference=f"CR-BENCH-{uuid.uuid4().hex[:12]}",
                idempotency_key=uuid.uuid4().hex,
            )
            .returning(Incident.id)
        ).scalar_one()
        session.execute(
            insert(IncidentLogEntry).values(
                incident_id=incident_id,
                entered_at=now,
                entered_by_id=actor.staff_id,
                kind="note",
                text=log_text,
            )
        )
        if queues:
            session.execute(
                insert(QueueItem),
                [
                    {
                        "incident_id": incident_id,
                        "queue": queue,
                        "entered_at": now,
                        "state": "open",
                        "version": 1,
                        "change_seq": 0,
                    }
                    for queue in queues
                ],
            )
        audit_log.append(
            session,
            occurred_at=now,
            actor=actor.username,
            staff_id=actor.staff_id,
            terminal=actor.terminal,
            action="incident.create",
            object_type="incident",
            object_id=str(incident_id),
            outcome="success",
            justification=None,
            detail="benchmark floor",
        )
        uow.commit()
    return time.perf_counter() - started, incident_id


def close_added(database: Database, incident_ids: list[int]) -> None:
    """Close what the benchmark added, so the seeded backlog stays as it was."""
    now = datetime.now(UTC)
    with database.uow() as uow:
        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start : start + 500]
            uow.session.execute(
                update(QueueItem)
                .where(QueueItem.incident_id.in_(chunk), QueueItem.state != "done")
                .values(state="done", completed_at=now, resolution="incident_closed")
                .execution_options(synchronize_session=False)
            )
            uow.session.execute(
                update(Incident)
                .where(Incident.id.in_(chunk))
                .values(status="closed", closed_at=now, result="benchmark")
                .execution_options(synchronize_session=False)
            )
        uow.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to use (seeded if empty)")
    parser.add_argument("--size", choices=("small", "large"), default="large")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()

    url = search_benchmark.seeded_database(args.database_url, args.size)
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app reads it
    added: list[int] = []
    try:
        actor = search_benchmark.benchmark_actor(database)
        with database.uow() as uow:
            incidents = uow.session.scalar(select(func.count()).select_from(Incident))
        _, first = run_service(database, actor)
        added.append(first)
        shape = written_by_service(database, first)
        for _ in range(args.warmup):
            added.append(run_service(database, actor)[1])
            added.append(run_floor(database, actor, shape)[1])
        times: list[float] = []
        floors: list[float] = []
        for number in range(args.trials):
            # Alternate which goes first, so neither always meets the warmer cache.
            if number % 2:
                elapsed, incident_id = run_floor(database, actor, shape)
                floors.append(elapsed)
                added.append(incident_id)
            elapsed, incident_id = run_service(database, actor)
            times.append(elapsed)
            added.append(incident_id)
            if not number % 2:
                elapsed, incident_id = run_floor(database, actor, shape)
                floors.append(elapsed)
                added.append(incident_id)
    finally:
        if added:
            close_added(database, added)
        database.dispose()

    percentile = search_benchmark.percentile
    s50, s95 = percentile(times, 0.5), percentile(times, 0.95)
    f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
    print(f"backend: {search_benchmark.describe_backend(database)} ({mask_url(url)})")
    print(
        f"incidents before: {incidents:,}; saves: {len(times)}, {args.warmup} warm-up not "
        f"counted; rows a save writes: 1 incident, 1 log entry, {len(shape[1])} queue items "
        f"({', '.join(shape[1])}), 1 audit event"
    )
    print(f"{'':36}{'p50':>10}{'p95':>10}")
    print(f"{'save_new_incident (service layer)':36}{s50 * 1000:8.1f}ms{s95 * 1000:8.1f}ms")
    print(f"{'plain insert of its rows (floor)':36}{f50 * 1000:8.1f}ms{f95 * 1000:8.1f}ms")
    ratio = s95 / f95
    print(
        f"p95 at most {GOAL_RATIO:.0f}x the plain insert's p95: "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT MET'} ({ratio:.1f}x; p50 {s50 / f50:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    # This script's directory is no import root: benchmarks/queue.py would shadow the
    # standard library's `queue`, which psycopg imports when the engine is made.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    raise SystemExit(main())
