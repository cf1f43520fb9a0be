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

Every wait on the database is bounded (`Waits`). The app's engine is built `INTERACTIVE`:
nothing an operator does waits more than a few seconds. On PostgreSQL, libpq's
`connect_timeout` bounds a connection being made (a frozen server still completes the
TCP handshake in its kernel, then never answers); the server's `statement_timeout`
bounds a slow statement; TCP keepalives and `tcp_user_timeout` notice a network that
went away; and, because a server that is frozen (SIGSTOP, a hung host) enforces none of
its own timeouts while its kernel keeps acknowledging every packet, each wait for an
answer on a connection is bounded on this side too (`BoundedConnection`): past
`answer_seconds` the connection is closed and an OperationalError raised, so the pool
makes a new one next time. On SQLite the busy timeout and the retries of BEGIN are
short. Batch work (migrations, seeding, imports: `PATIENT`) keeps the long busy timeout
and no statement limit, but never an unbounded connect.

A PostgreSQL pair (a primary and its hot standby, issue 13 item 4) is named by one
multi-host URL with libpq's `target_session_attrs=read-write` (SQLAlchemy's form:
`postgresql+psycopg://user@/db?host=a:5432&host=b:5432&target_session_attrs=read-write`).
A connection goes to whichever host is the primary, so a promoted standby is found by
the next connection, with no restart. When no host will take writes (the primary
gone, the standby not yet promoted) the connection is made to any host that answers
(`_STANDBY_FALLBACK`): lookups carry on read-only (`on_standby` says so, and the
audit of a read goes to the station, `services/audit.py`). Every
`STANDBY_RECHECK_SECONDS` one connection on a standby is dropped at checkout and made
again, and once one finds a primary all the others follow: the pool is back on the
primary within seconds of there being one.

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
import weakref
from dataclasses import dataclass
from time import monotonic
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Pauses between attempts at BEGIN IMMEDIATE when SQLite says the database is busy: five
# attempts in all, each also waiting up to the busy timeout.
BEGIN_RETRY_PAUSES = (0.05, 0.2, 0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Waits:
    """How long a connection may wait on the database, at most.

    `connect_seconds`: making a PostgreSQL connection (libpq's connect_timeout, which
    counts whole seconds, at least 2). `statement_ms`: the server's statement_timeout
    (0: none). `answer_seconds`: any one wait for an answer on an open PostgreSQL
    connection, measured here (None: unbounded), for a server that cannot enforce its
    own. `busy_timeout_ms` and `begin_pauses`: SQLite's wait for another writer, and the
    retries of BEGIN IMMEDIATE after it.
    """

    connect_seconds: int
    statement_ms: int
    answer_seconds: float | None
    busy_timeout_ms: int
    begin_pauses: tuple[float, ...]
    idle_in_transaction_ms: int = 0


# The app: at most about 4 s for any one wait (a pooled connection to a frozen server:
# 4 s for its ping, then 2 s to fail to make a new one; SQLite: 3 tries of 2 s and
# 0.25 s of pauses); a statement the server is still running after 3 s it cancels.
INTERACTIVE = Waits(
    connect_seconds=2,
    statement_ms=3_000,
    answer_seconds=4.0,
    busy_timeout_ms=2_000,
    begin_pauses=(0.05, 0.2),
    # A station that froze inside a transaction lets go of its locks (the day's
    # reference row) after 30 s, not never.
    idle_in_transaction_ms=30_000,
)
# Migrations, seeding, imports and the CLI's own commands: long statements are expected.
PATIENT = Waits(
    connect_seconds=10,
    statement_ms=0,
    answer_seconds=None,
    busy_timeout_ms=SQLITE_BUSY_TIMEOUT_MS,
    begin_pauses=BEGIN_RETRY_PAUSES,
)
# TCP keepalives and the user timeout: a peer gone from the network is noticed within
# about 10 s on an idle connection, 5 s with data unacknowledged.
_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5_000,
}


def _is_busy(error: OperationalError) -> bool:
    original = error.orig
    return (
        isinstance(original, sqlite3.OperationalError)
        and getattr(original, "sqlite_errorcode", sqlite3.SQLITE_BUSY) == sqlite3.SQLITE_BUSY
        and "locked" in str(original)
    )


# The execution option (and session flag) of a unit of work's read-only part: on SQLite
# its transaction begins DEFERRED instead of IMMEDIATE (`SqlAlchemyUnitOfWork.reading`).
READS_ONLY = "controlroom_reads_only"


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


# SQLite's primary result code for "database or disk is full" (a full disk, a full
# filesystem quota, or the file's `max_page_count`); extended codes keep it in the low byte.
SQLITE_FULL = 13
# Engines that met SQLITE_FULL and have not been found with room again since.
_FULL: weakref.WeakSet[Engine] = weakref.WeakSet()


def is_disk_full(error: BaseException | None) -> bool:
    """Whether `error` (a driver's exception, or SQLAlchemy's wrapping one) is SQLite's
    "database or disk is full" (SQLITE_FULL); by its code, never its text."""
    original = getattr(error, "orig", error)
    code = getattr(original, "sqlite_errorcode", None)
    return isinstance(original, sqlite3.Error) and code is not None and code & 0xFF == SQLITE_FULL


def marked_full(engine: Engine) -> bool:
    """Whether a write on `engine` met SQLITE_FULL and no room has been found since."""
    return engine in _FULL


def mark_room(engine: Engine, full: bool) -> None:
    """What a check for room found (`DatabaseRepository.room_to_write`)."""
    if full:
        _FULL.add(engine)
    else:
        _FULL.discard(engine)


# SQLite's page cache, in KiB, of a connection that reads many rows once and is then
# closed (`SqlAlchemyUnitOfWork.close_connection_after`): pages read once are not kept.
ONE_OFF_CACHE_KIB = 256


def set_cache_kib(dbapi_connection, cache_kib: int) -> None:
    """Set an SQLite connection's page cache, in KiB (SQLite gives back what is over)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
    finally:
        cursor.close()


def _install_sqlite_pragmas(
    engine: Engine, pauses: tuple[float, ...], cache_kib: int, heap_limit_kib: int
) -> None:
    @event.listens_for(engine, "handle_error")
    def _note_full(context) -> None:
        # Any statement or commit that met a full disk: the watch then checks for room
        # on every probe, and says DATABASE DISK FULL until there is (issue 13).
        if is_disk_full(context.original_exception):
            _FULL.add(engine)

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
            if heap_limit_kib:
                # SQLite's soft heap limit is the process's (`APP_HEAP_LIMIT_KIB`).
                cursor.execute(f"PRAGMA soft_heap_limit={int(heap_limit_kib) * 1024}")
        finally:
            cursor.close()
        # SQLite's page cache per connection, in KiB (`make_engine`'s `cache_kib`).
        set_cache_kib(dbapi_connection, cache_kib)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if connection.get_execution_options().get(READS_ONLY):
            # A read-only part of a unit of work (`SqlAlchemyUnitOfWork.reading`): a
            # DEFERRED transaction reads a snapshot and takes no write lock, so another
            # station's save goes on while a long read (a year of statistics) runs.
            connection.exec_driver_sql("BEGIN")
            return
        begin_immediate(connection, pauses)

    path = engine.url.database
    if path and path != ":memory:" and not path.startswith("file:"):

        @event.listens_for(engine, "connect")
        def _note_read_only(dbapi_connection, connection_record) -> None:
            # SQLite opens a file it may not write read-only, and the connection stays
            # so: noted, so that it is replaced once the file can be written again.
            connection_record.info["read_only"] = not os.access(path, os.W_OK)

        @event.listens_for(engine, "checkout")
        def _replace_read_only(dbapi_connection, connection_record, proxy) -> None:
            if connection_record.info.get("read_only") and os.access(path, os.W_OK):
                # The pool drops it and connects again, read-write (issue 13: a file
                # made writable again takes what was kept offline).
                raise DisconnectionError("opened read-only; the file is writable now")


def _bounded_connection_class(answer_seconds: float) -> type:
    """psycopg's Connection, each of whose waits for an answer ends after `answer_seconds`.

    Every statement, commit, rollback and ping goes through `Connection.wait`; a wait
    given its own timeout (LISTEN's `notifies`) keeps it. A connection whose wait ran out
    is in an unknown state: it is closed (`finish`), and the error says so as a psycopg
    OperationalError on a closed connection, which SQLAlchemy takes for a disconnect and
    drops from the pool.
    """
    import psycopg

    class BoundedConnection(psycopg.Connection):
        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            if timeout is not None:
                return super().wait(gen, interval, timeout)
            started = monotonic()
            try:
                return super().wait(gen, interval, answer_seconds)
            except psycopg.OperationalError as exc:
                if monotonic() - started < answer_seconds:
                    raise
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"no answer from the database within {answer_seconds:g} s; "
                    "the connection was closed"
                ) from exc

    return BoundedConnection


# How old a pooled connection on a standby may be before it is dropped at checkout and
# a new one tried (the primary first): how soon the pool notices a primary that is back.
STANDBY_RECHECK_SECONDS = 2.0
# The hosts a multi-host URL names, tried in order, when none takes writes.
_STANDBY_FALLBACK = "any"
_WRITE_ATTRS = ("read-write", "primary")


def on_standby(dbapi_connection: Any) -> bool:
    """Whether a psycopg connection is on a hot standby (read-only), from what the server
    reports of itself (`in_hot_standby`, sent again when it is promoted): no round trip.
    False for anything else (SQLite)."""
    info = getattr(dbapi_connection, "info", None)
    status = getattr(info, "parameter_status", None)
    return status is not None and status("in_hot_standby") == "on"


def _install_standby_fallback(engine: Engine, connect: Any) -> None:
    """Multi-host URLs asking for a primary: with none, a standby (read-only). At most
    one connection on a standby every `STANDBY_RECHECK_SECONDS` is given up at checkout
    to look for a primary again (a frozen primary costs that one its connect timeout,
    not every lookup); once a new connection finds one, every connection on a standby
    made before it is given up."""
    # monotonic times: the last recheck; the last connection made to a primary.
    seen = {"recheck": float("-inf"), "primary": float("-inf")}

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams):  # noqa: ANN001
        import psycopg

        try:
            return connect(*cargs, **cparams)
        except psycopg.OperationalError:
            multi_host = "," in str(cparams.get("host", ""))
            if not multi_host or cparams.get("target_session_attrs") not in _WRITE_ATTRS:
                raise
        # No host takes writes: whichever answers, read-only if it is a standby.
        return connect(*cargs, **{**cparams, "target_session_attrs": _STANDBY_FALLBACK})

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection, connection_record) -> None:  # noqa: ANN001
        now = connection_record.info["connected_at"] = monotonic()
        if not on_standby(dbapi_connection):
            seen["primary"] = now

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, connection_record, connection_proxy) -> None:  # noqa: ANN001
        from sqlalchemy.exc import DisconnectionError

        if not on_standby(dbapi_connection):
            return
        now, made = monotonic(), connection_record.info.get("connected_at", 0.0)
        if made < seen["primary"]:
            # A primary was found since it was made: the pool connects again, to that.
            raise DisconnectionError("on a standby while there is a primary")
        if now - made > STANDBY_RECHECK_SECONDS and now - seen["recheck"] > STANDBY_RECHECK_SECONDS:
            seen["recheck"] = now
            # The pool drops it and connects again: the primary, if there is one now.
            raise DisconnectionError("on a standby: trying for the primary again")


def _postgres_connect_args(waits: Waits) -> dict[str, Any]:
    args: dict[str, Any] = {"connect_timeout": max(2, waits.connect_seconds), **_KEEPALIVES}
    settings = []
    if waits.statement_ms:
        settings.append(f"-c statement_timeout={waits.statement_ms}")
    if waits.idle_in_transaction_ms:
        settings.append(f"-c idle_in_transaction_session_timeout={waits.idle_in_transaction_ms}")
    if settings:
        args["options"] = " ".join(settings)
    return args


# SQLite's page cache per connection, in KiB; allocated only as pages are read, and kept
# while the connection lives in the pool. Batch work (seeding, imports, upgrades) reads a
# force-sized file's indexes over and over: 64 MiB. The app keeps SQLite's own default,
# 2 MiB: on the 1M-person seed, 64 MiB a connection took the app to 283 MiB after one
# visit to every main screen (the crime figures alone read hundreds of MiB of pages), and
# a host serves one process per operator (issue 15: at most 100 MiB). What the app reads
# again comes from the operating system's file cache, shared by every operator.
BATCH_CACHE_KIB = 65_536
APP_CACHE_KIB = 2_048
# SQLite's soft heap limit for the app's whole process, in KiB: every connection's page
# cache and sorts together (0: none, batch work). The app's pool holds three connections
# or so, each allowed its 2 MiB of pages, and a screen's reads on several of them at once
# (the command view, the crime-recording queue) took SQLite to 7-8 MiB, kept by malloc
# after it was freed; near the limit SQLite reuses a connection's own least recently
# used pages and sorts in smaller runs rather than allocate more (issue 15: after every
# main screen on the 1M-person seed, 104.3 -> 101.5 MiB in a pilot walk). One connection
# still gets its whole 2 MiB.
APP_HEAP_LIMIT_KIB = 4_096


def make_engine(
    url: str,
    *,
    echo: bool = False,
    busy_timeout_ms: int | None = None,
    waits: Waits = PATIENT,
    cache_kib: int = BATCH_CACHE_KIB,
    heap_limit_kib: int = 0,
) -> Engine:
    """Create the process's engine for `url` (sqlite+pysqlite or postgresql+psycopg).

    `waits` bounds every wait (`INTERACTIVE` for the app, `PATIENT` for batch work).
    `busy_timeout_ms` overrides its SQLite busy timeout (tests shorten it to watch the
    retries). `cache_kib`: SQLite's page cache per pooled connection (`APP_CACHE_KIB`
    for the app, `BATCH_CACHE_KIB` for batch work). `heap_limit_kib`: SQLite's soft heap
    limit for the whole process, set by each connection (`APP_HEAP_LIMIT_KIB`; 0: none)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        busy_ms = waits.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
        # The driver's timeout is SQLite's busy timeout (sqlite3_busy_timeout), in seconds.
        engine = create_engine(
            parsed,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
        )
        _install_sqlite_pragmas(engine, waits.begin_pauses, cache_kib, heap_limit_kib)
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
        engine = create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args=_postgres_connect_args(waits),
        )
        import psycopg

        connect: Any = psycopg.Connection.connect
        if waits.answer_seconds is not None:
            bounded: Any = _bounded_connection_class(waits.answer_seconds)
            connect = bounded.connect
        _install_standby_fallback(engine, connect)
        return engine
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite+pysqlite:///FILE "
        "or postgresql+psycopg://USER@HOST/DB"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services copy what they return into frozen dataclasses
    # before the session closes, but commit must not force a reload either.
    return sessionmaker(bind=engine, expire_on_commit=False)
