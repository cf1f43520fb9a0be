"""Seconds from the database stopping, or freezing, to the words on the operator's screen.

On a throwaway PostgreSQL cluster of its own (initdb on a free loopback port, as the
outage tests make one; never the machine's own cluster), the app runs headless at 80x24
with the waits it has in production (`data.engine.INTERACTIVE`) and its database watch.
Each round stops the server (pg_ctl stop -m fast) or freezes it (SIGSTOP on the
postmaster and every backend: a hung host), and times the first frame whose text says
DATABASE NOT ANSWERING; then starts or thaws it and times the banner's going. The
floor, in the same run: one probe's round trip while the server answers.

Then the replay: 100 incidents kept in an offline journal (as the entry form keeps them
while the database is away) are replayed into it (`services.offline.replay`), against
the floor of the same 100 incidents saved straight into the database by the same
service, in the same run.

Then the failover (issue 13, item 4), on a pair of its own (a primary and a synchronous
hot standby made with pg_basebackup, tests/clusters.py `StandbyPair`): a station saves
incidents in a loop on the pair's multi-host URL (`target_session_attrs=read-write`);
the primary is stopped (immediate: a crash) and the standby promoted at once; the
figure is the seconds from `pg_ctl promote` being issued to the first successful save
on the same engine, against the floor of one save's median while the primary answers.

    .venv/bin/python benchmarks/outage.py            # 3 rounds of each
    .venv/bin/python benchmarks/outage.py --rounds 5

Target (issue 13): every round under 5 s.
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# benchmarks/statistics.py (issue 18) and queue.py would hide the standard library's
# modules of those names while this script's own directory is first on sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import tempfile
import time

ROOT = Path(__file__).resolve().parents[1]
# The repository, not this folder, on the path: benchmarks/queue.py would shadow the
# standard library's queue (which psycopg imports).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

# After the path is set: benchmarks/statistics.py would be found first.
import statistics  # noqa: E402

from controlroom.data.engine import INTERACTIVE  # noqa: E402
from controlroom.data.uow import Database  # noqa: E402
from controlroom.domain.roles import Role  # noqa: E402
from controlroom.services import availability  # noqa: E402
from tests.apps import build_app, screen_text, settle  # noqa: E402
from tests.clusters import StandbyPair, ThrowawayCluster, unavailable_reason  # noqa: E402
from tests.databases import _migrate  # noqa: E402
from tests.factories import staff_actor  # noqa: E402

GOAL_SECONDS = 5.0
BANNER = "DATABASE NOT ANSWERING"


async def _seconds_until(pilot, condition, timeout: float = 20.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"not seen within {timeout} s")
        await pilot.pause(0.02)
    return time.monotonic() - started


async def _rounds(cluster: ThrowawayCluster, database: Database, rounds: int) -> dict:
    username = staff_actor(database, Role.SUPERVISOR).username
    results: dict[str, list[float]] = {"stop": [], "freeze": [], "back": []}
    with tempfile.TemporaryDirectory() as data_dir:
        app = build_app(database, Path(data_dir), username=username)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)

            def shown() -> bool:
                return BANNER in screen_text(app)

            def gone() -> bool:
                return BANNER not in screen_text(app)

            for _ in range(rounds):
                for how in ("stop", "freeze"):
                    (cluster.stop if how == "stop" else cluster.freeze)()
                    results[how].append(await _seconds_until(pilot, shown))
                    (cluster.start if how == "stop" else cluster.thaw)()
                    results["back"].append(await _seconds_until(pilot, gone))
    return results


REPLAYED = 100


def _replay_against_saves(database: Database, data_dir: Path) -> tuple[float, float]:
    """Seconds to replay REPLAYED journaled incidents, and to save as many straight."""
    import uuid
    from datetime import UTC, datetime

    from controlroom.domain.grades import grade_codes
    from controlroom.domain.identity import Actor
    from controlroom.services import incidents, offline
    from controlroom.services.incidents import NewIncident

    member = staff_actor(database, Role.SUPERVISOR)
    actor = Actor(member.staff_id, member.username, member.role, "bench")
    codes = grade_codes()

    def calls() -> list[NewIncident]:
        taken = datetime.now(UTC)
        return [
            NewIncident(
                uuid.uuid4().hex,
                "NOISE",
                f"{number} Mill Lane, Leeds LS6 2AB",
                narrative="Music from next door.",
                call_taken_at=taken,
            )
            for number in range(1, REPLAYED + 1)
        ]

    journal = offline.open_journal(data_dir, member.username, "BENCH-000000000000-1")
    for call in calls():
        offline.record_incident(journal, actor, call, datetime.now(UTC), "BENCH-000000000000-1")
    started = time.perf_counter()
    report = offline.replay(journal, database.uow, actor, lambda: datetime.now(UTC), codes)
    replayed = time.perf_counter() - started
    journal.close()
    assert len(report.replayed) == REPLAYED and not report.refused
    started = time.perf_counter()
    for call in calls():
        incidents.save_new_incident(database.uow(), actor, call, datetime.now(UTC), codes)
    return replayed, time.perf_counter() - started


def _failover(rounds: int) -> tuple[list[float], float]:
    """Seconds from each promotion to the first save that went through, and one save's
    median while the primary answers (the floor), on one engine throughout."""
    import threading
    import uuid
    from datetime import UTC, datetime

    from controlroom.domain.grades import grade_codes
    from controlroom.services import incidents
    from controlroom.services.incidents import NewIncident

    def station_database(primary: ThrowawayCluster) -> None:
        primary.create_database("station")
        _migrate(primary.url("station"))

    pair = StandbyPair(prepare=station_database)
    try:
        database = Database(pair.url("station"), waits=INTERACTIVE)
        try:
            actor = staff_actor(database, Role.SUPERVISOR)
            codes = grade_codes()

            def save() -> None:
                call = NewIncident(uuid.uuid4().hex, "NOISE", "12 Mill Lane, Leeds LS6 2AB")
                incidents.save_new_incident(database.uow(), actor, call, datetime.now(UTC), codes)

            floor_times = []
            for _ in range(30):
                started = time.perf_counter()
                save()
                floor_times.append(time.perf_counter() - started)
            figures = []
            for _ in range(rounds):
                saved_at: list[float] = []
                stop = threading.Event()

                def writer(saved_at: list[float] = saved_at, stop: threading.Event = stop) -> None:
                    while not stop.is_set():
                        try:
                            save()
                        except Exception:  # noqa: BLE001 - no primary yet: try again
                            time.sleep(0.02)
                            continue
                        saved_at.append(time.monotonic())

                thread = threading.Thread(target=writer, daemon=True)
                thread.start()
                while not saved_at:
                    time.sleep(0.01)
                pair.primary.stop("immediate")
                promoted = time.monotonic()  # `pg_ctl promote` issued (it waits until done)
                pair.promote()
                deadline = promoted + 60
                while not [t for t in saved_at if t > promoted] and time.monotonic() < deadline:
                    time.sleep(0.01)
                stop.set()
                thread.join(timeout=10)
                after = [t for t in saved_at if t > promoted]
                figures.append(after[0] - promoted if after else float("inf"))
                pair.rejoin()
        finally:
            database.dispose()
    finally:
        pair.remove()
    return figures, statistics.median(floor_times)


def _floor(database: Database, trials: int = 50) -> float:
    times = []
    for _ in range(trials):
        started = time.perf_counter()
        availability.probe(database.uow())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _print_failover(failovers: list[float], save_floor: float) -> None:
    print(
        f"promotion -> first save  max {max(failovers):.2f} s  median "
        f"{statistics.median(failovers):.2f} s  ({', '.join(f'{s:.2f}' for s in failovers)});"
        f" floor: one save while the primary answers, median {save_floor * 1000:.1f} ms"
    )


def main() -> int:
    import logging

    # The app's warnings (and the probes' failures) belong in a log file, not in the figures.
    logging.getLogger("controlroom").addHandler(logging.NullHandler())
    logging.getLogger("controlroom").propagate = False
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--failover-only", action="store_true", help="only the promotion -> first save figure"
    )
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        print(f"outage benchmark: {reason}", file=sys.stderr)
        return 2
    if args.failover_only:
        failovers, save_floor = _failover(args.rounds)
        _print_failover(failovers, save_floor)
        return 0
    cluster = ThrowawayCluster()
    try:
        cluster.start()
        cluster.create_database("station")
        _migrate(cluster.url("station"))
        database = Database(cluster.url("station"), waits=INTERACTIVE)
        try:
            floor = _floor(database)
            results = asyncio.run(_rounds(cluster, database, args.rounds))
            with tempfile.TemporaryDirectory() as data_dir:
                replayed, saved = _replay_against_saves(database, Path(data_dir))
        finally:
            database.dispose()
    finally:
        cluster.remove()
    print(f"floor: one probe while the server answers, median {floor * 1000:.1f} ms")
    for how, label in (
        ("stop", "stopped -> banner"),
        ("freeze", "frozen  -> banner"),
        ("back", "back    -> banner gone"),
    ):
        seconds = results[how]
        print(
            f"{label:<24} max {max(seconds):.2f} s  median {statistics.median(seconds):.2f} s"
            f"  ({', '.join(f'{s:.2f}' for s in seconds)})"
        )
    print(
        f"replay of {REPLAYED} journaled incidents {replayed:.2f} s; the same saved straight "
        f"{saved:.2f} s; ratio {replayed / saved:.2f}x"
    )
    failovers, save_floor = _failover(args.rounds)
    _print_failover(failovers, save_floor)
    worst = max(results["stop"] + results["freeze"])
    print(f"target: under {GOAL_SECONDS:g} s — {'met' if worst < GOAL_SECONDS else 'MISSED'}")
    return 0 if worst < GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
