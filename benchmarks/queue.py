"""Triage queue responsiveness with 10,000 open items, against the raw query floor measured
in the same run on the same database.

Two figures, each the median of several trials, run in the real app (headless Pilot at
80x24, signed in as a supervisor):

    open     F5 pressed -> the queue's figures and its first rows on screen.
             Floor: one plain SQLAlchemy select of the same rows (items joined to their
             incidents and types, not done: every row the figures count), fetched, in a
             unit of work of its own. Unchanged since the screen read every row.
             Also shown (not the target): the screen's own SQL run bare — the ordered
             LIMIT 200 and the figures' aggregate — the cost of the app around its queries.
    change   another operator's claim committed (through the service, in another
             thread) -> that row on screen showing the new holder.
             Floor: the same detection done raw in a thread of the benchmark: on SQLite
             a loop polling the change counter at the app's interval and then reading the
             changed row by its key; on PostgreSQL a LISTEN connection woken by the
             NOTIFY and then reading the row. Commit-to-row-read, same trials.

    .venv/bin/python benchmarks/queue.py                          # scratch SQLite file
    .venv/bin/python benchmarks/queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/qbench

A PostgreSQL URL must name an existing database that is empty (it is migrated and
filled) or that this benchmark filled before. Target (issue 5): each figure at most 3x
its floor.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py (as the issue asks), and Python puts its directory first on
# sys.path, where it would hide the standard library's `queue` from Textual and friends.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import func, insert, select  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controlroom.config import load_settings, mask_url, sqlite_url  # noqa: E402
from controlroom.data import changes  # noqa: E402
from controlroom.data.cold_models import QueueChangeCounter, QueueItem  # noqa: E402
from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB  # noqa: E402
from controlroom.data.models import Incident, IncidentType, Staff  # noqa: E402
from controlroom.data.schema import SchemaStatus, schema_state, upgrade  # noqa: E402
from controlroom.data.uow import Database  # noqa: E402
from controlroom.domain.environment import Environment  # noqa: E402
from controlroom.domain.identity import Actor  # noqa: E402
from controlroom.domain.roles import Role  # noqa: E402
from controlroom.services import queues  # noqa: E402

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TYPES = ("THEFT", "DOM", "MISP", "CHLD", "BURGR", "ASBP", "WELF")
GRADES = ("G1", "G2", "G3", "G4")


_SHOWN_REFERENCE = re.compile(r"\b\d{4}-\w")


def prepare(database: Database, items: int) -> tuple[Actor, Actor]:
    if schema_state(database.engine).status is SchemaStatus.EMPTY:
        upgrade(database.engine, environment=Environment.TEST, created_by="bench.admin")
    with database.uow() as uow:
        session = uow.session
        for username, name, role in (
            ("bench.super", "Bea Supervisor", Role.SUPERVISOR),
            ("bench.other", "Oli Other", Role.CALL_HANDLER),
        ):
            if uow.staff.by_username(username) is None:
                session.add(
                    Staff(
                        username=username,
                        display_name=name,
                        role=role.value,
                        active=True,
                        locked=False,
                    )
                )
        uow.commit()
        supervisor = uow.staff.by_username("bench.super")
        other = uow.staff.by_username("bench.other")
        have = session.scalar(
            select(func.count()).select_from(QueueItem).where(QueueItem.state != "done")
        )
        if have < items:
            print(f"filling {items - have:,} open incidents and queue items …", flush=True)
            start = session.scalar(select(func.count()).select_from(Incident))
            rows = []
            for n in range(start, start + items - have):
                type_code = TYPES[n % len(TYPES)]
                rows.append(
                    {
                        "reference": f"CR-20260101-B{n:06d}",
                        "opened_by_id": supervisor.id,
                        "opened_at": NOW - timedelta(minutes=7 * (n % 9000) + 1),
                        "workstation": "BENCH",
                        "opening_type_code": type_code,
                        "grade": GRADES[n % 4],
                        "status": "open",
                        "location_text": f"{n} Benchmark Road",
                        "narrative": "",
                        "domestic": type_code == "DOM",
                        "child_present": type_code == "CHLD",
                        "weapons": False,
                        "possible_crime": False,
                        "thrive_skipped": False,
                        "thrive_risk": ("High risk.", "Medium risk.", "Low risk.", None)[n % 4],
                        "version": 1,
                    }
                )
            for chunk in range(0, len(rows), 2_000):
                session.execute(insert(Incident), rows[chunk : chunk + 2_000])
            uow.commit()
        actors = (
            Actor(supervisor.id, supervisor.username, Role.SUPERVISOR, "bench"),
            Actor(other.id, other.username, Role.CALL_HANDLER, "bench-2"),
        )
    queues.route_unrouted(database.uow, NOW)
    return actors


# --- floors ------------------------------------------------------------------------------


def open_floor(database: Database) -> float:
    statement = (
        select(
            QueueItem.id,
            QueueItem.queue,
            QueueItem.entered_at,
            QueueItem.state,
            QueueItem.claimed_by_id,
            QueueItem.heartbeat_at,
            Incident.reference,
            Incident.grade,
            IncidentType.label,
            Incident.location_text,
            Incident.thrive_risk,
        )
        .join(Incident, Incident.id == QueueItem.incident_id)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .where(QueueItem.state.in_(("open", "claimed")))
    )
    started = time.perf_counter()
    with database.uow() as uow:
        rows = uow.session.execute(statement).all()
    elapsed = time.perf_counter() - started
    assert rows
    return elapsed


def screen_sql(database: Database, policy) -> float:
    """The queries the screen now runs (ordered, limited rows; the figures' aggregate),
    bare: no rows built, no audit, no screen."""
    from controlroom.domain.queues import rank_table

    table = rank_table(policy)
    started = time.perf_counter()
    with database.uow() as uow:
        rows = uow.queues.ranked_items(
            table, NOW, NOW - policy.dash_escalation, NOW.date(), limit=200
        )
        uow.queues.open_summary(table, NOW)
    elapsed = time.perf_counter() - started
    assert rows
    return elapsed


class RawWatcher:
    """The floor of 'a change made elsewhere reaches this station': the same detection
    the app uses, done with plain queries and nothing else."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.feed = changes.change_feed(database.engine)
        self.seen_at: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            batch = self.feed.wait(0.2)
            if batch is None:
                continue
            with self.database.uow() as uow:
                for item_id in batch.item_ids:
                    uow.session.execute(select(QueueItem).where(QueueItem.id == item_id)).first()
                    self.seen_at.setdefault(item_id, time.perf_counter())

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.feed.close()


# --- the app -------------------------------------------------------------------------------


async def run_app(
    database: Database, url: str, supervisor: Actor, other: Actor, trials: int, changes_trials: int
):
    from controlroom.app import make_app
    from controlroom.screens.queue import TriageQueue

    workdir = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(workdir), "XDG_CONFIG_HOME": str(workdir)}
    )
    settings = replace(settings, database_url=url)
    # As `controlroom` runs it: the garbage collector settled once signed in.
    app = make_app(
        settings,
        database.uow,
        supervisor.username,
        terminal="bench",
        clock=lambda: NOW,
        steady_gc=True,
    )
    opens, open_floors, shows, show_floors, sqls = [], [], [], [], []

    async def until(pilot, condition, timeout=30.0):
        started = time.perf_counter()
        while not condition():
            if time.perf_counter() - started > timeout:
                raise SystemExit("the screen did not show it in time")
            await asyncio.sleep(0.005)

    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot,
            lambda: (
                app.operator is not None
                and len(app.screen_stack) > 1
                and type(app.screen).__name__ == "HomeBoard"
            ),
        )
        await pilot.pause(0.5)
        for trial in range(trials + 1):
            open_floors.append(open_floor(database))
            sqls.append(screen_sql(database, queues.policy_from(settings)))
            # The F5 action itself (Pilot's key press also waits for the whole process to
            # go idle, which would time the machine's load rather than the screen); the
            # clock stops when a full frame with the figures and rows has been rendered.
            # F5 reads the queue first and then pushes the screen with its rows: the clock
            # runs from the key to a laid-out frame showing them (`loaded` alone may come
            # before the first layout).
            started = time.perf_counter()
            app.action_triage_queue()

            def shown_on_screen() -> bool:
                if not (isinstance(app.screen, TriageQueue) and app.screen.loaded):
                    return False
                frame = "\n".join(s.text for s in app.screen._compositor.render_strips())
                # A row's reference, as the queue shows it (its day and number).
                return "waiting" in frame and _SHOWN_REFERENCE.search(frame) is not None

            await until(pilot, shown_on_screen)
            opens.append(time.perf_counter() - started)
            if trial < trials:
                # Close the task (F5 would switch back to the open one without reading).
                app.end_task("queue")
                await pilot.pause(0.3)
        screen = app.screen
        await pilot.pause(0.3)  # the rows below the first screen follow its frame
        shown = screen.shown_count() if hasattr(screen, "shown_count") else len(screen.rows)
        watcher = RawWatcher(database)
        try:
            await pilot.pause(0.5)
            ids = [
                r.item_id
                for r in sorted(screen.rows.values(), key=lambda r: r.order)
                if r.state == "open"
            ][: changes_trials + 1]
            for item_id in ids:
                committed = {}

                def claim(item_id=item_id, committed=committed):
                    queues.claim(database.uow(), other, item_id, queues.policy_from(settings), NOW)
                    committed["at"] = time.perf_counter()

                thread = threading.Thread(target=claim)
                thread.start()
                await until(
                    pilot,
                    lambda item_id=item_id: (
                        screen.rows[item_id].claimed_by == "Oli Other"
                        and "Oli" in screen.claim_text(item_id)
                    ),
                )
                seen = time.perf_counter()
                thread.join()
                await until(pilot, lambda item_id=item_id: item_id in watcher.seen_at)
                shows.append(seen - committed["at"])
                show_floors.append(watcher.seen_at[item_id] - committed["at"])
        finally:
            watcher.close()
        await pilot.press("ctrl+q")
    # The first open warms caches on both sides: drop it.
    return opens[1:], open_floors[1:], shows[1:], show_floors[1:], shown, sqls[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty (or earlier benchmark) database")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=7, help="opens of the screen")
    parser.add_argument(
        "--changes",
        type=int,
        default=20,
        help="claims by the other operator (more: the poll phase averages out)",
    )
    args = parser.parse_args()
    url = args.database_url or sqlite_url(
        Path(tempfile.mkdtemp(prefix="queue-bench-")) / "bench.sqlite"
    )
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app reads it
    try:
        supervisor, other = prepare(database, args.items)
        with database.uow() as uow:
            waiting = uow.session.scalar(
                select(func.count()).select_from(QueueItem).where(QueueItem.state != "done")
            )
            uow.session.scalar(select(QueueChangeCounter.counter))
        opens, open_floors, shows, show_floors, shown, sqls = asyncio.run(
            run_app(database, url, supervisor, other, args.trials, args.changes)
        )
    finally:
        database.dispose()

    def line(name, values, floors):
        figure, floor = statistics.median(values), statistics.median(floors)
        ratio = figure / floor if floor else float("inf")
        print(
            f"{name:8}{figure * 1000:9.1f} ms  floor {floor * 1000:8.1f} ms  "
            f"ratio {ratio:5.1f}x  {'met' if ratio <= 3 else 'NOT MET'} (target <= 3x)"
        )

    print(
        f"backend: {database.dialect} ({mask_url(url)}); open items: {waiting:,}; "
        f"rows drawn on open: {shown:,}; medians of {len(opens)} opens and "
        f"{len(shows)} changes"
    )
    line("open", opens, open_floors)
    line("change", shows, show_floors)
    print(
        f"(open vs the screen's own SQL run bare: {statistics.median(sqls) * 1000:.1f} ms, "
        f"ratio {statistics.median(opens) / statistics.median(sqls):.1f}x; not the target)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
