"""Crime statistics on the large seed: a year of statistics (F12's read) and one month's
crime data integrity (F9's), through the service layer, against the plain grouped count
of the year's crimes by offence in the same run, on the same database.

Each trial runs `crimes.crime_statistics` (permission; twelve months of crimes recorded
by open-data type and Home Office class, their outcomes, the integrity counts of every
month, the MARAC referrals; the audit event and its commit) and
`crimes.crime_data_integrity` for the last month (with its twelve-month trend and the
unrecorded list). Interleaved with them, the floor: `SELECT offence_code, count(*) FROM
crime WHERE recorded_at in the year GROUP BY offence_code`.

    .venv/bin/python benchmarks/statistics.py --database-url sqlite:////work/bench/large.sqlite
    .venv/bin/python benchmarks/statistics.py --size small      # a quick try

Both services leave the grouping to the database (by local month, offence, outcome;
the integrity counts with their 24-hour and 7-day windows): Python only lays out the
few hundred counts it gets back.

Seeding is as in benchmarks/search.py. Targets (issue 18): at most 3x the floor, and
under 2 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from controlroom.config import mask_url
from controlroom.data.models import Crime
from controlroom.data.uow import Database
from controlroom.domain.local_time import local_day
from controlroom.services import crimes

GOAL_SECONDS = 2.0
GOAL_RATIO = 3.0

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("search_benchmark", _HERE / "search.py")
search_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_benchmark)


def run_statistics(database: Database, actor, now: datetime) -> tuple[float, object]:
    started = time.perf_counter()
    month = local_day(now)
    report = crimes.crime_statistics(database.uow(), actor, month, now)
    crimes.crime_data_integrity(database.uow(), actor, month, now)
    return time.perf_counter() - started, report


def run_floor(database: Database, now: datetime) -> tuple[float, int]:
    started = time.perf_counter()
    with database.uow() as uow:
        rows = uow.session.execute(
            select(Crime.offence_code, func.count())
            .where(Crime.recorded_at >= now - timedelta(days=366), Crime.recorded_at < now)
            .group_by(Crime.offence_code)
        ).all()
    return time.perf_counter() - started, sum(n for _, n in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to use (seeded if empty)")
    parser.add_argument("--size", choices=("small", "large"), default="large")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    url = search_benchmark.seeded_database(args.database_url, args.size)
    database = Database(url)
    now = datetime.now(UTC)
    try:
        actor = search_benchmark.benchmark_actor(database)
        for _ in range(args.warmup):
            run_statistics(database, actor, now)
            run_floor(database, now)
        times: list[float] = []
        floors: list[float] = []
        report = None
        counted = 0
        for number in range(args.trials):
            if number % 2:
                elapsed, counted = run_floor(database, now)
                floors.append(elapsed)
            elapsed, report = run_statistics(database, actor, now)
            times.append(elapsed)
            if not number % 2:
                elapsed, counted = run_floor(database, now)
                floors.append(elapsed)
    finally:
        database.dispose()

    percentile = search_benchmark.percentile
    s50, s95 = percentile(times, 0.5), percentile(times, 0.95)
    f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
    print(f"backend: {search_benchmark.describe_backend(database)} ({mask_url(url)})")
    print(
        f"crimes in the year: {counted:,} (statistics: {sum(report.recorded):,}); "
        f"trials: {len(times)}, {args.warmup} warm-up not counted"
    )
    print(f"{'':40}{'p50':>10}{'p95':>10}")
    print(f"{'statistics + integrity (service)':40}{s50 * 1000:8.1f}ms{s95 * 1000:8.1f}ms")
    print(f"{'grouped count of the year (floor)':40}{f50 * 1000:8.1f}ms{f95 * 1000:8.1f}ms")
    ratio = s95 / f95 if f95 else float("inf")
    print(
        f"under {GOAL_SECONDS:.0f} s: {'met' if s95 <= GOAL_SECONDS else 'NOT MET'}; "
        f"at most {GOAL_RATIO:.0f}x the floor: {'met' if ratio <= GOAL_RATIO else 'NOT MET'} "
        f"({ratio:.1f}x at p95)"
    )
    return 0


if __name__ == "__main__":
    # This script's directory is no import root: benchmarks/queue.py would shadow the
    # standard library's `queue`, which psycopg imports when the engine is made.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    raise SystemExit(main())
