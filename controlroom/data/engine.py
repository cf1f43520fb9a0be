"""The engine and session factory: built once per process and injected.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys on,
a busy timeout so a second station waits instead of failing, and every transaction
begins IMMEDIATE so two writers serialise at BEGIN rather than deadlocking at their
first write (almost every user action writes, since every read writes an audit event).
PostgreSQL is the shared multi-station engine, through psycopg 3.

BEGIN IMMEDIATE waits up to the busy timeout for another station's write to finish.
Under heavy load that wait can run out, or SQLite can answer SQLITE_BUSY at BEGIN without
waiting at all (a checkpoint in progress): BEGIN is then tried again a few times with a
growing pause (`BEGIN_RETRY_PAUSES`), and only after the last does "database is locked"
reach the caller. Nothing has happened in the transaction yet, so a retry is always safe.

Errors never carry the values bound to a statement (`hide_parameters`): they may be
record data, and a failure's text goes to the operator's log file.

The PRAGMA and BEGIN statements below are the only literal SQL in the program: fixed
connection set-up with no data in them, as the SQLAlchemy documentation prescribes for
pysqlite.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Pauses between attempts at BEGIN IMMEDIATE when SQLite says the database is busy: five
# attempts in all, each also waiting up to the busy timeout.
BEGIN_RETRY_PAUSES = (0.05, 0.2, 0.5, 1.0)


def _is_busy(error: OperationalError) -> bool:
    original = error.orig
    return (
        isinstance(original, sqlite3.OperationalError)
        and getattr(original, "sqlite_errorcode", sqlite3.SQLITE_BUSY) == sqlite3.SQLITE_BUSY
        and "locked" in str(original)
    )


def begin_immediate(connection: Connection, pauses: tuple[float, ...] = BEGIN_RETRY_PAUSES) -> None:
    """BEGIN IMMEDIATE, tried again after each pause while SQLite answers SQLITE_BUSY."""
    for pause in (*pauses, None):
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if pause is None or not _is_busy(exc):
                raise
            time.sleep(pause)


# An SQLite file holds every record: created readable and writable by its owner only
# (SQLite makes its -wal and -shm files with the same mode). Group/other bits on it are
# an administrator's deliberate choice (`exposed_sqlite_file` warns on production).
SQLITE_FILE_MODE = 0o600


def _create_private(path: str) -> None:
    """Create the SQLite file `path` (mode 0600) if it does not exist yet, before SQLite
    opens it: SQLite itself creates it with the process's umask (0644 by default)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, SQLITE_FILE_MODE)
    except FileExistsError:
        return
    except OSError:
        return  # SQLite will say what is wrong with the path when it opens it
    os.close(fd)


def exposed_sqlite_file(url: str) -> tuple[str, int] | None:
    """(path, mode) of the SQLite file `url` names when other accounts on the host may
    read or write it (a group or other permission bit on the file, its -wal or -shm);
    None when it is private, or not an SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    for suffix in ("", "-wal", "-shm"):
        path = f"{parsed.database}{suffix}"
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & 0o077:
            return path, mode
    return None


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        # Hand transaction control to SQLAlchemy: pysqlite's own would issue a deferred
        # BEGIN behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache per connection (the default is 2 MiB): a station's
            # searches read the same name indexes over and over, and a force-sized file
            # is gigabytes. Allocated only as pages are read.
            cursor.execute("PRAGMA cache_size=-65536")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        begin_immediate(connection)


def make_engine(
    url: str, *, echo: bool = False, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    """Create the process's engine for `url` (sqlite+pysqlite or postgresql+psycopg).

    `busy_timeout_ms` is how long an SQLite BEGIN waits for another writer (tests shorten
    it to watch the retries)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # The driver's timeout is SQLite's busy timeout (sqlite3_busy_timeout), in seconds.
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        _install_sqlite_pragmas(engine)
        if parsed.database not in (None, "", ":memory:") and not parsed.database.startswith(
            "file:"
        ):
            path = parsed.database

            @event.listens_for(engine, "do_connect")
            def _private_file(dialect, conn_rec, cargs, cparams) -> None:
                _create_private(path)

        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, echo=echo, pool_pre_ping=True, hide_parameters=True)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite+pysqlite:///FILE "
        "or postgresql+psycopg://USER@HOST/DB"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services copy what they return into frozen dataclasses
    # before the session closes, but commit must not force a reload either.
    return sessionmaker(bind=engine, expire_on_commit=False)
