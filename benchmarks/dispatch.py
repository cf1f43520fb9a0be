"""Dispatch on a force-sized database: recommendations for an incident against the plain
indexed select of available units, and a status change shown at a second station.

The seeded force (its own units) gets EXTRA_UNITS more, spread over the force's area
and crewed (two officers each, skills as the synthetic force gives them), added for the
run and removed at its end. Then:

1. Recommendations: for incidents open with a known location, `recommendations` (the
   service: permission, the incident with its place and the skills its type needs in
   one statement, the deployable units filtered by kind and skills, ordered by distance
   and cut to a dozen in the database with their crews' skills, the domain's exact
   order, the audit event, the commit) against the floor, the plain select of the available units' ids and
   callsigns by the same index, interleaved so drift in the machine's load hits both.
   Target (issue 17): p95 at most 3x the floor's p95.
2. Status change -> second station: a second station polls the unit change counter as
   the resource board does (every POLL_SECONDS on a connection of its own) and reads
   the units changed since; the time from `set_status` returning to the second station
   holding the unit's new status. Target: p95 at most 2 s.

    .venv/bin/python benchmarks/dispatch.py --database-url sqlite:////work/bench/large.sqlite
    .venv/bin/python benchmarks/dispatch.py --size small      # a quick try (seeds a scratch file)

Seeding is as in benchmarks/search.py (large: about 11 minutes on two cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, func, select

from controlroom.config import mask_url
from controlroom.data.cold_models import UnitCrew, UnitStatusChange
from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB
from controlroom.data.models import Incident, Location, Unit
from controlroom.data.uow import Database
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.incidents import OPEN_STATUSES
from controlroom.screens.resource_board import POLL_SECONDS
from controlroom.services import emergencies, resources

GOAL_RATIO = 3.0
GOAL_SHOWN_SECONDS = 2.0
EXTRA_UNITS = 1_000
PREFIX = "BX"  # the added units' callsigns: BX1 … BX1000

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("search_benchmark", _HERE / "search.py")
search_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(search_benchmark)


def add_units(database: Database, count: int, rng: random.Random) -> None:
    with database.uow() as uow:
        session = uow.session
        lat0, lat1, lon0, lon1 = session.execute(
            select(
                func.min(Unit.latitude),
                func.max(Unit.latitude),
                func.min(Unit.longitude),
                func.max(Unit.longitude),
            )
        ).one()
        stations = list(session.scalars(select(Unit.station).distinct()))
        now = datetime.now(UTC)
        rows = [
            {
                "callsign": f"{PREFIX}{n + 1}",
                "type_code": rng.choice(("IRV", "IRV", "NBH", "ARV", "RPU")),
                "station": rng.choice(stations),
                "area": "Central",
                "status_code": "AV" if rng.random() < 0.6 else rng.choice(("OD", "BU", "RF")),
                "status_since": now,
                "incident_id": None,
                "latitude": rng.uniform(lat0, lat1),
                "longitude": rng.uniform(lon0, lon1),
                "version": 1,
                "change_seq": 0,
            }
            for n in range(count)
        ]
        ids = uow.bulk.rows_with_ids(Unit, rows)
        skills = ("TA", "MD", "AD", "FA", "PO", "SR")
        uow.bulk.rows(
            UnitCrew,
            [
                {
                    "unit_id": unit_id,
                    "collar_number": str(90000 + n),
                    "name": "PC Benchmark",
                    "skills": " ".join(sorted(rng.sample(skills, rng.randint(0, 3)))),
                }
                for unit_id in ids
                for n in range(2)
            ],
        )
        uow.commit()


def remove_units(database: Database) -> None:
    """The added units go, with their crews and history. The history is append-only to
    the program (its sessions refuse the delete): the benchmark's own rows go on a plain
    connection, never the program's way."""
    ids = select(Unit.id).where(Unit.callsign.like(f"{PREFIX}%"))
    with database.engine.begin() as connection:
        connection.execute(delete(UnitCrew.__table__).where(UnitCrew.unit_id.in_(ids)))
        connection.execute(
            delete(UnitStatusChange.__table__).where(UnitStatusChange.unit_id.in_(ids))
        )
        connection.execute(delete(Unit.__table__).where(Unit.callsign.like(f"{PREFIX}%")))


def open_references(database: Database, count: int, rng: random.Random) -> list[str]:
    with database.uow() as uow:
        refs = list(
            uow.session.scalars(
                select(Incident.reference)
                .join(Location, Location.id == Incident.location_id)
                .where(
                    Incident.status.in_([s.value for s in OPEN_STATUSES]),
                    Location.latitude.is_not(None),
                )
            )
        )
    rng.shuffle(refs)
    return refs[:count]


def run_service(database: Database, actor, reference: str) -> float:
    started = time.perf_counter()
    found = resources.recommendations(database.uow(), actor, reference)
    elapsed = time.perf_counter() - started
    assert found.units, f"no unit recommended for {reference}"
    return elapsed


def run_floor(database: Database) -> float:
    started = time.perf_counter()
    with database.uow() as uow:
        rows = uow.resources.plain_available("AV")
    elapsed = time.perf_counter() - started
    assert rows
    return elapsed


def shown_at_second_station(database: Database, actor, trials: int) -> list[float]:
    """Seconds from a status change's commit to a second station holding it."""
    callsign = f"{PREFIX}1"
    with database.uow() as uow:
        unit = uow.resources.by_callsign(callsign)
        assert unit is not None
        if unit.status_code != "AV":
            unit.status_code = "AV"
            uow.commit()
    poll = emergencies.open_counter_poll(database.uow())
    seen = poll.read()
    held: dict[str, str] = {}
    stop = threading.Event()
    changed = threading.Event()

    def second_station() -> None:
        nonlocal seen
        while not stop.is_set():
            counter = poll.read()
            if counter != seen:
                read = resources.board_changes(database.uow(), actor, seen)
                seen = read.counter
                for row in read.units:
                    held[row.callsign] = row.status_code
                changed.set()
            stop.wait(POLL_SECONDS)

    station = threading.Thread(target=second_station, daemon=True)
    station.start()
    times: list[float] = []
    try:
        for number in range(trials):
            wanted = "BU" if number % 2 == 0 else "AV"
            resources.set_status(
                database.uow(), actor, callsign, wanted, datetime.now(UTC), DEFAULT_GRADES
            )
            committed = time.perf_counter()
            while held.get(callsign) != wanted:
                changed.wait(0.01)
                changed.clear()
            times.append(time.perf_counter() - committed)
    finally:
        stop.set()
        station.join()
        poll.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to use (seeded if empty)")
    parser.add_argument("--size", choices=("small", "large"), default="large")
    parser.add_argument("--extra-units", type=int, default=EXTRA_UNITS)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--status-trials", type=int, default=20)
    args = parser.parse_args()

    rng = random.Random(17)
    url = search_benchmark.seeded_database(args.database_url, args.size)
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app
    try:
        actor = search_benchmark.benchmark_actor(database)
        remove_units(database)  # a run stopped half-way left its units behind
        add_units(database, args.extra_units, rng)
        with database.uow() as uow:
            units = uow.resources.count()
            available = len(uow.resources.plain_available("AV"))
        references = open_references(database, 50, rng)
        for number in range(args.warmup):
            run_service(database, actor, references[number % len(references)])
            run_floor(database)
        times: list[float] = []
        floors: list[float] = []
        for number in range(args.trials):
            reference = references[number % len(references)]
            # Alternate which goes first, so neither always meets the warmer cache.
            if number % 2:
                floors.append(run_floor(database))
            times.append(run_service(database, actor, reference))
            if not number % 2:
                floors.append(run_floor(database))
        shown = shown_at_second_station(database, actor, args.status_trials)
    finally:
        remove_units(database)
        database.dispose()

    percentile = search_benchmark.percentile
    s50, s95 = percentile(times, 0.5), percentile(times, 0.95)
    f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
    print(f"backend: {search_benchmark.describe_backend(database)} ({mask_url(url)})")
    print(
        f"units: {units:,} ({args.extra_units:,} added), {available:,} available; "
        f"{len(times)} recommendations over {len(references)} open incidents, "
        f"{args.warmup} warm-up not counted"
    )
    print(f"{'':40}{'p50':>10}{'p95':>10}")
    print(f"{'recommendations (service layer)':40}{s50 * 1000:8.1f}ms{s95 * 1000:8.1f}ms")
    print(f"{'plain select of available units (floor)':40}{f50 * 1000:8.1f}ms{f95 * 1000:8.1f}ms")
    ratio = s95 / f95
    print(
        f"p95 at most {GOAL_RATIO:.0f}x the plain select's p95: "
        f"{'met' if ratio <= GOAL_RATIO else 'NOT MET'} ({ratio:.1f}x; p50 {s50 / f50:.1f}x)"
    )
    t50, t95 = percentile(shown, 0.5), percentile(shown, 0.95)
    print(
        f"status change shown at a second station (poll every {POLL_SECONDS:g} s), "
        f"{len(shown)} changes: p50 {t50:.2f} s, p95 {t95:.2f} s; at most "
        f"{GOAL_SHOWN_SECONDS:g} s: {'met' if t95 <= GOAL_SHOWN_SECONDS else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    # This script's directory is no import root: benchmarks/queue.py would shadow the
    # standard library's `queue`, which psycopg imports when the engine is made.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    raise SystemExit(main())
