"""Command view latency on the large seed: the figures F6 shows, through the service layer,
against a plain indexed count of the open incidents, in the same run, on the same database.

Each trial runs `command_view.command_view` as opening the view does (permission check;
every queue's count, oldest, breaches and 24-hour backlog; the open domestic-abuse
incidents without a DASH, counted with the oldest; referrals this week and the four
before; today's overrides; the audit event and its commit). Interleaved with it, so drift
in the machine's load hits both alike, the floor: `SELECT count(*) FROM incident WHERE
status IN (open statuses)` by ix_incident_status_grade, in a unit of work of its own —
what knowing how many incidents are open costs before any figure is worked out.

    .venv/bin/python benchmarks/command_view.py --database-url sqlite:////work/bench/large.sqlite
    .venv/bin/python benchmarks/command_view.py --size small      # a quick try (seeds a scratch file)

Seeding is as in benchmarks/search.py (large: about 11 minutes on two cores).
Target (issue 20): p95 at most 100 ms on the large seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from controlroom.config import load_settings, mask_url
from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB
from controlroom.data.models import Incident
from controlroom.data.uow import Database
from controlroom.domain.incidents import OPEN_STATUSES
from controlroom.services import queues
from controlroom.services.command_view import command_view

GOAL = 0.100

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("search_benchmark", _HERE / "search.py")
search_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_benchmark)


def run_service(database: Database, actor, policy) -> tuple[float, object]:
    started = time.perf_counter()
    figures = command_view(database.uow(), actor, policy, datetime.now(UTC))
    return time.perf_counter() - started, figures


def run_floor(database: Database) -> tuple[float, int]:
    started = time.perf_counter()
    with database.uow() as uow:
        count = uow.session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        )
    return time.perf_counter() - started, count or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to use (seeded if empty)")
    parser.add_argument("--size", choices=("small", "large"), default="large")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    url = search_benchmark.seeded_database(args.database_url, args.size)
    workdir = tempfile.mkdtemp(prefix="command-view-bench-")
    settings = load_settings(environ={"CONTROLROOM_DATA_DIR": workdir, "XDG_CONFIG_HOME": workdir})
    policy = queues.policy_from(replace(settings, database_url=url))
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app reads it
    try:
        actor = search_benchmark.benchmark_actor(database)
        with database.uow() as uow:
            incidents = uow.session.scalar(select(func.count()).select_from(Incident))
        for _ in range(args.warmup):
            run_service(database, actor, policy)
            run_floor(database)
        times: list[float] = []
        floors: list[float] = []
        figures = None
        open_count = 0
        for number in range(args.trials):
            # Alternate which goes first, so neither always meets the warmer cache.
            if number % 2:
                elapsed, open_count = run_floor(database)
                floors.append(elapsed)
            elapsed, figures = run_service(database, actor, policy)
            times.append(elapsed)
            if not number % 2:
                elapsed, open_count = run_floor(database)
                floors.append(elapsed)
    finally:
        database.dispose()

    percentile = search_benchmark.percentile
    s50, s95 = percentile(times, 0.5), percentile(times, 0.95)
    f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
    print(f"backend: {search_benchmark.describe_backend(database)} ({mask_url(url)})")
    print(
        f"incidents: {incidents:,}, open: {open_count:,}; DA without a DASH: "
        f"{figures.da_without_dash:,}; trials: {len(times)}, {args.warmup} warm-up not counted"
    )
    print(f"{'':36}{'p50':>10}{'p95':>10}")
    print(f"{'command_view (service layer)':36}{s50 * 1000:8.1f}ms{s95 * 1000:8.1f}ms")
    print(f"{'count of open incidents (floor)':36}{f50 * 1000:8.1f}ms{f95 * 1000:8.1f}ms")
    print(
        f"p95 at most 100 ms: {'met' if s95 <= GOAL else 'NOT MET'} ({s95 * 1000:.1f} ms; "
        f"{s95 / f95:.1f}x the floor's p95)"
    )
    return 0


if __name__ == "__main__":
    # This script's directory is no import root: benchmarks/queue.py would shadow the
    # standard library's `queue`, which psycopg imports when the engine is made.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    raise SystemExit(main())
