"""Running the app: on the configured database, or the synthetic training force (`demo`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from controlroom.cli import common
from controlroom.cli.common import (
    CliError,
    _console,
    _deferred_database,
    _open_database,
    _settings,
    _terminal,
)
from controlroom.cli.parser import _parser

DEMO_SUPERVISOR = "demo.supervisor"


def _build_app(settings, database, username: str, demo_for: str | None = None):
    """The app for `username`; with `demo_for`, `username` is the shared demo account
    standing in for the OS account `demo_for` (refused but on synthetic training data)."""
    from controlroom.app import make_app

    return make_app(
        settings,
        database.uow,
        username,
        terminal=_terminal(),
        term=os.environ.get("TERM"),
        over_ssh=bool(os.environ.get("SSH_CONNECTION")),
        steady_gc=True,
        demo_for=demo_for,
    )


# How a run of the app ended, by its return code, for the session's end on the record.
ENDINGS = {
    0: "quit",
    129: "terminal lost (hang-up)",
    143: "stopped (SIGTERM)",
}


def _run_app(settings, database, username: str, demo_for: str | None = None) -> int:
    app = _build_app(settings, database, username, demo_for)
    how = "ended by a fault in the app"
    try:
        app.run()
        how = ENDINGS.get(app.return_code or 0, f"exit status {app.return_code}")
    finally:
        from controlroom.domain.availability import DatabaseState

        if app.availability.state is not DatabaseState.ANSWERING:
            # Not answering (or read-only): trying would only hold the quit for the
            # engine's bounds. The end is kept in the session's offline journal and put
            # on the record by the next replay (the next sign-in on this station).
            kept = app.operator is not None and app.record_session_end(how)
            logging.getLogger("controlroom.cli").warning(
                "the end of the session is %s: the database is %s",
                "kept on this station" if kept else "not recorded now",
                app.availability.state.value,
            )
        elif app.operator is not None:
            from controlroom.services import staff

            # However it ended — quit, a dropped connection, a stop, a fault — on the
            # record, against this run's session row.
            try:
                staff.sign_out(
                    database.uow(),
                    app.operator,
                    app.terminal,
                    session_id=app.session_id,
                    how=how,
                )
            except Exception:  # noqa: BLE001 - the next sign-in ends it on the record
                logging.getLogger("controlroom.cli").exception(
                    "could not record the end of the session"
                )
        database.dispose()
    if app.refusal:
        raise CliError(app.refusal)
    code = app.return_code or 0
    if app.leaves_hung_workers:
        _leave_without_hung_workers(code)
    return code


def _leave_without_hung_workers(code: int) -> None:
    """A database call still waiting (a save sent to a frozen server) would hold the
    process at exit until its bound runs out: the drafts are written and the terminal
    given back, so the process ends now, without it (its transaction never committed:
    the server rolls it back, and the form's draft keeps its idempotency key)."""
    import sys
    import threading

    waiting = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and thread.is_alive() and not thread.daemon
    ]
    if not waiting:
        return
    log = logging.getLogger("controlroom.cli")
    log.warning("leaving %d call(s) still waiting on the database", len(waiting))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def cmd_run(args) -> int:
    """The app on the configured database, which must exist: `controlroom` never makes a
    database (a first run as root once made an empty PRODUCTION one, owned by root).
    `controlroom db upgrade` makes one; `controlroom demo` the training force."""
    settings = _settings(args)
    url = settings.database_url
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        from controlroom.data.opening import no_database

        raise CliError(
            no_database(str(path), common._fix_command(args, "db", "upgrade"))
            + common._demo_hint(url, args)
        )
    return _run_app(settings, _deferred_database(url, args, create=False), common._os_user())


def _sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (a cheap test, no SQLAlchemy); None for any other URL
    or an in-memory database."""
    scheme, _, path = url.partition(":///")
    if scheme.startswith("sqlite") and path and not path.startswith(":memory:"):
        return Path(path.split("?", 1)[0])
    return None


def _existing_sqlite_file(url: str) -> bool:
    """True when `url` names an SQLite file that exists.

    Only decides whether the demo may skip the seeding check before the first frame;
    a wrong "False" merely takes the slower, eager path.
    """
    path = _sqlite_file(url)
    return path is not None and path.is_file()


def _prepare_demo(args):
    """The demo database, created and seeded on first use, and its supervisor's username.

    Returns (settings, database, username, the OS account behind it), or None after
    `--seed-only`. A demo file that
    already exists opens in the app's sign-in worker, so the first frame comes at once.
    """
    from controlroom.config import mask_url
    from controlroom.domain.environment import Environment

    settings = _settings(args)
    url = args.database_url or settings.demo_database_url
    if args.reset:
        _reset_demo(url)
    if args.seed_only or not _existing_sqlite_file(url):
        from controlroom.services.database import profile

        database = _open_database(
            url,
            args,
            create_sqlite=True,
            environment=Environment.TRAINING,
            any_backend=True,
            upgrade_training=True,
        )
        try:
            # The profile says whether it was ever seeded, without importing the
            # generator (and Faker) on every start.
            if profile(database.uow()).seed is None:
                from controlroom.services import synthetic

                try:
                    summary = _seed_with_progress(database, args.size)
                except synthetic.SeedRefused as exc:
                    raise CliError(f"demo: {exc}") from None
                _print_seed_summary(summary)
            elif args.seed_only:
                _console().print(
                    "Demo database already seeded (use --reset to start again).",
                    markup=False,
                    highlight=False,
                )
        finally:
            database.dispose()
        if args.seed_only:
            _console().print(f"Demo database ready: {mask_url(url)}", markup=False, highlight=False)
            return None
    database = _deferred_database(
        url, args, environment=Environment.TRAINING, any_backend=True, upgrade_training=True
    )
    return settings.with_database(url), database, DEMO_SUPERVISOR, common._os_user()


def demo_app(argv: list[str]):
    """The app exactly as `controlroom demo ARGV` builds it, not yet running.

    benchmarks/startup.py times this path to the first frame.
    """
    prepared = _prepare_demo(_parser().parse_args(["demo", *argv]))
    if prepared is None:
        raise CliError("demo_app needs an app, not --seed-only")
    return _build_app(*prepared)


def cmd_demo(args) -> int:
    prepared = _prepare_demo(args)
    if prepared is None:
        return 0
    return _run_app(*prepared)


def _reset_demo(url: str) -> None:
    """Delete a demo SQLite file; refuse to wipe anything that is not a training database."""
    from sqlalchemy.engine import make_url

    from controlroom.data.schema import SchemaStatus, schema_state
    from controlroom.data.uow import Database
    from controlroom.services.database import profile

    parsed = make_url(url)
    database = Database(common._connect_url(url))
    try:
        if schema_state(database.engine).status is SchemaStatus.CURRENT:
            if profile(database.uow()).environment.value != "training":
                raise CliError("--reset only wipes a training database; this one is not")
        if parsed.get_backend_name() == "sqlite":
            database.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        else:
            from controlroom.data.cold_models import all_tables

            all_tables().drop_all(database.engine)
            from controlroom.data.schema import drop_version_table

            drop_version_table(database.engine)
    finally:
        database.dispose()


def _seed_with_progress(database, size: str):
    """Seed with a rich.progress bar: one task per stage, advanced by the service's callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from controlroom.services import synthetic

    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summary = synthetic.seed(database.uow, size=size, progress=progress)
    # The generator writes incidents in bulk, outside the services that route them: put
    # the open ones in their triage queues (entered when they were opened).
    from datetime import UTC, datetime

    from controlroom.services import queues

    queues.route_unrouted(database.uow, datetime.now(UTC))
    return summary


def _print_seed_summary(summary) -> None:
    from rich.table import Table

    table = Table("synthetic force", "rows", title=f"Seeded ({summary.size}, seed {summary.seed})")
    for name, count in summary.counts:
        table.add_row(name, f"{count:,}")
    table.add_row("seconds", f"{summary.seconds:.1f}")
    _console().print(table)
