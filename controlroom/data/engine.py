"""The engine and session factory: built once per process and injected.

SQLite is the embedded default: WAL so readers never block the writer, foreign keys on,
a busy timeout so a second station waits instead of failing, and every transaction
begins IMMEDIATE so two writers serialise at BEGIN rather than deadlocking at their
first write (almost every user action writes, since every read writes an audit event).
PostgreSQL is the shared multi-station engine, through psycopg 3.

The PRAGMA and BEGIN statements below are the only literal SQL in the program: fixed
connection set-up with no data in them, as the SQLAlchemy documentation prescribes for
pysqlite.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _install_sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        # Hand transaction control to SQLAlchemy: pysqlite's own would issue a deferred
        # BEGIN behind our back.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")  # = SQLITE_BUSY_TIMEOUT_MS
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the process's engine for `url` (sqlite+pysqlite or postgresql+psycopg)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, echo=echo, connect_args={"check_same_thread": False})
        _install_sqlite_pragmas(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite+pysqlite:///FILE "
        "or postgresql+psycopg://USER@HOST/DB"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services copy what they return into frozen dataclasses
    # before the session closes, but commit must not force a reload either.
    return sessionmaker(bind=engine, expire_on_commit=False)
