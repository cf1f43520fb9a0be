"""Opening a database for use: build the engine, check the schema, create a new SQLite file.

Importing this module is cheap (no SQLAlchemy until a database is actually opened), so
the CLI can hand the app a `DeferredDatabase` and draw the first frame before paying
for SQLAlchemy; the app's sign-in worker opens it on its thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from controlroom import __version__
from controlroom.domain.environment import Environment


def no_database(path: str, upgrade_command: str) -> str:
    """What to say where a command finds no database file: the two commands that make one."""
    return (
        f"there is no database at {path}. To try Control Room on synthetic data: "
        "controlroom demo. To make a new database (you become its administrator):\n"
        f"  {upgrade_command}"
    )


def _environment_of(database) -> str | None:
    """The environment a database recorded when it was made (None if it recorded none)."""
    from sqlalchemy import select

    from controlroom.data.models import DatabaseInfo

    with database.engine.connect() as connection:
        table = DatabaseInfo.__table__
        return connection.scalar(select(table.c.environment).where(table.c.id == 1))


class DatabaseNotReady(Exception):
    """The database cannot be used as it is; the message says why and what fixes it."""


class DatabaseUnreachable(DatabaseNotReady):
    """The database could not be opened at all (refused, unreachable, a disk too full for
    SQLite to open its file): an outage, which may end, not a database to fix. Screens
    word it as the database not answering (`screens/seam.py`), its text (the driver's)
    kept for the log and for a sign-in it stops."""

    database_failure = True


def open_database(
    url: str,
    *,
    create: bool,
    environment: Environment = Environment.PRODUCTION,
    any_backend: bool = False,
    upgrade_command: str | Callable[[], str] = "controlroom db upgrade",
    terminal: str = "local",
    upgrade_training: bool = False,
    interactive: bool = False,
):
    """Return a `Database` at this program's schema revision, or raise DatabaseNotReady.

    With `upgrade_training` (the demo's own database), a TRAINING database whose schema is
    behind is migrated to this program's: it holds a synthetic force, nothing to back up,
    and after an upgrade of Control Room `controlroom demo` should simply run.

    With `create`, an empty SQLite file (or, with `any_backend`, any empty database —
    the demo's own) is migrated and recorded as `environment`. A database that is
    behind, empty or unknown is refused with the exact command that fixes it.

    `interactive` (the app): every wait on it is short (`data.engine.INTERACTIVE`);
    a migration made on the way uses an engine of its own without the limits.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from controlroom.config import mask_url
    from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB, INTERACTIVE, PATIENT
    from controlroom.data.schema import SchemaStatus, schema_state, upgrade
    from controlroom.data.uow import Database

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseNotReady(f"not a database URL: {mask_url(url)}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not create and not Path(parsed.database).exists():
            # Connecting would leave an empty file behind, which the next command that
            # may create a database would then take for a new production one.
            fix = upgrade_command() if callable(upgrade_command) else upgrade_command
            raise DatabaseNotReady(no_database(parsed.database, fix))
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        database = Database(url, waits=PATIENT)
    except ValueError as exc:
        raise DatabaseNotReady(str(exc)) from None
    try:
        state = schema_state(database.engine)
        if (
            state.status is SchemaStatus.EMPTY
            and create
            and (any_backend or database.dialect == "sqlite")
        ):
            state = upgrade(database.engine, environment=environment, terminal=terminal)
        elif (
            state.status is SchemaStatus.BEHIND
            and upgrade_training
            and _environment_of(database) == Environment.TRAINING.value
        ):
            state = upgrade(database.engine, environment=environment, terminal=terminal)
    except Exception as exc:  # connection refused, bad credentials, unreadable file
        database.dispose()
        from controlroom.config import scrub_secrets

        raise DatabaseUnreachable(
            f"cannot open database {mask_url(url)}: {exc.__class__.__name__}: "
            + scrub_secrets(str(exc), url)
        ) from None
    if callable(upgrade_command):
        upgrade_command = upgrade_command()
    message = None
    if state.status is SchemaStatus.EMPTY:
        message = (
            f"this database is empty. Create the Control Room schema with:\n  {upgrade_command}"
        )
    elif state.status is SchemaStatus.BEHIND:
        message = (
            f"this database is at schema revision {state.revision}, older than this program "
            f"expects. Upgrade it (back it up first) with:\n  {upgrade_command}"
        )
    elif state.status is SchemaStatus.UNKNOWN:
        message = (
            f"this database's schema ({state.revision or 'no revision stamp'}) is not one this "
            f"program (controlroom {__version__}) knows. If a newer Control Room created it, "
            "install that version; if it is not a Control Room database, point --database-url "
            "elsewhere."
        )
    if message is not None:
        database.dispose()
        raise DatabaseNotReady(message)
    if interactive:
        database.dispose()
        database = Database(
            url, waits=INTERACTIVE, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
        )
    return database


class DeferredDatabase:
    """A unit-of-work factory that opens its database on first use, on whichever thread.

    `uow()` raises DatabaseNotReady (every time) if the database cannot be used.
    """

    def __init__(self, url: str, **open_options) -> None:
        self.url = url
        self._open_options = open_options
        self._database = None
        self._lock = threading.Lock()

    @property
    def database(self):
        with self._lock:
            if self._database is None:
                self._database = open_database(self.url, **self._open_options)
            return self._database

    def uow(self):
        return self.database.uow()

    def dispose(self) -> None:
        with self._lock:
            if self._database is not None:
                self._database.dispose()
                self._database = None
