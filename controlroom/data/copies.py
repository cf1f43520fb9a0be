"""Whole-database copies: backup files, restores, scratch databases.

SQLite: the online backup API of the standard `sqlite3` module (a consistent copy while
stations keep working; WAL readers and writers are not stopped). PostgreSQL: the client
programs `pg_dump` (custom format, consistent under concurrent use), `pg_restore`,
`createdb` and `dropdb` (package `postgresql-client`). No SQL text is written here:
database creation and dropping go through the client programs.

A password never appears on a command line (where `ps` shows it) nor in a message: the
programs get it in their environment (PGPASSWORD), from the URL the engine connects with
(`controlroom.services.secrets` fills it from the keyring).

Restores go only into a database that is new or empty: a restore never overwrites a
database that holds anything (`RestoreRefused`), so a slip of the URL cannot replace
production with last night's copy.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url

# The client programs get this long per run (a force-sized dump takes minutes, not hours).
CLIENT_TIMEOUT_SECONDS = 6 * 60 * 60
PG_NAME_MAX = 63  # PostgreSQL truncates longer identifiers: keep scratch names distinct


class CopyFailed(Exception):
    """A backup, restore or scratch database could not be made; the message says why."""


class RestoreRefused(CopyFailed):
    """The restore's target holds something already."""


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise CopyFailed("an in-memory SQLite database has no file to copy")
    return Path(database)


# --- PostgreSQL client programs -------------------------------------------------------


def client_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise CopyFailed(
            f"the PostgreSQL client program {name} is not installed"
            " (Debian and Ubuntu: apt-get install postgresql-client)"
        )
    return found


def _pg_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for a client program, and its environment (the password)."""
    arguments = []
    if url.host:
        arguments += ["--host", url.host]
    if url.port:
        arguments += ["--port", str(url.port)]
    if url.username:
        arguments += ["--username", url.username]
    environment = dict(os.environ)
    environment.pop("PGPASSWORD", None)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    environment.setdefault("PGCONNECT_TIMEOUT", "10")
    return [*arguments, "--no-password"], environment


def _run(program: str, url: URL, *arguments: str) -> None:
    connection, environment = _pg_arguments(url)
    try:
        completed = subprocess.run(
            [client_program(program), *connection, *arguments],
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CopyFailed(f"{program} did not finish within {CLIENT_TIMEOUT_SECONDS} s") from None
    if completed.returncode != 0:
        # The programs' own first lines (they name objects, never row data or passwords).
        said = " ".join(completed.stderr.strip().splitlines()[:3]) or "no message"
        raise CopyFailed(f"{program} failed (exit {completed.returncode}): {said}")


# --- what a database holds ------------------------------------------------------------


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: Control Room's tables (not SQLite's full-text shadow tables,
    which follow the tables they index), as the database has them."""
    from controlroom.data.search import include_name

    counts = {}
    with engine.connect() as connection:
        for name in sorted(inspect(connection).get_table_names()):
            if include_name(name, "table", {}):
                counted = select(func.count()).select_from(table(name))
                counts[name] = connection.scalar(counted) or 0
    return counts


def holds_tables(url: str) -> bool:
    """Whether the database exists and has any table (a missing SQLite file has none)."""
    from controlroom.data.engine import make_engine

    if backend(url) == "sqlite":
        if not sqlite_file(url).exists():
            return False
    elif not _pg_database_exists(url):
        return False
    engine = make_engine(url)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _pg_database_exists(url: str) -> bool:
    from sqlalchemy.exc import OperationalError

    from controlroom.data.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError as exc:
        if "does not exist" in str(exc.orig):
            return False
        raise CopyFailed(f"cannot connect to {mask(url)}: {exc.orig.__class__.__name__}") from None
    finally:
        engine.dispose()


def mask(url: str) -> str:
    from controlroom.config import mask_url

    return mask_url(url)


# --- backups --------------------------------------------------------------------------


def write_backup(url: str, path: Path) -> None:
    """A consistent copy of the database at `url` into the new file `path` (mode 0600).

    Written beside `path` under a temporary name and renamed at the end, so a backup
    file either is whole or is not there."""
    if path.exists():
        raise CopyFailed(f"{path} exists already; a backup never overwrites a file")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if backend(url) == "sqlite":
            _sqlite_copy(sqlite_file(url), partial)
        else:
            parsed = make_url(url)
            _run(
                "pg_dump",
                parsed,
                "--format=custom",
                "--file",
                str(partial),
                "--dbname",
                str(parsed.database),
            )
        partial.chmod(0o600)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.exists():
        raise CopyFailed(f"there is no database file at {source}")
    # Read-only on the source: a backup must never change what it copies.
    reading = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writing = sqlite3.connect(target)
        try:
            reading.backup(writing)
        finally:
            writing.close()
    except sqlite3.Error as exc:
        raise CopyFailed(f"the SQLite backup failed: {exc.__class__.__name__}: {exc}") from None
    finally:
        reading.close()


def restore_backup(path: Path, url: str) -> None:
    """Restore the backup file `path` into the new or empty database at `url`
    (a PostgreSQL database that does not exist is created)."""
    if not path.is_file():
        raise CopyFailed(f"there is no backup file at {path}")
    if backend(url) == "sqlite":
        target = sqlite_file(url)
        if holds_tables(url):
            raise RestoreRefused(
                f"{target} holds a database already; restore into a new file (move the"
                " damaged one aside first)"
            )
        for leftover in _sqlite_files(target):
            leftover.unlink(missing_ok=True)  # an empty file and its journals
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _sqlite_copy(path, target)
        target.chmod(0o600)
        return
    parsed = make_url(url)
    if not _pg_database_exists(url):
        _run("createdb", parsed, str(parsed.database))
    elif holds_tables(url):
        raise RestoreRefused(
            f"{mask(url)} holds tables already; restore into a new or empty database"
            " (rename or drop the damaged one first)"
        )
    # One transaction (one commit, not one per object), which also stops at the first error.
    _run("pg_restore", parsed, "--single-transaction", "--dbname", str(parsed.database), str(path))


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


# --- scratch databases ----------------------------------------------------------------


def scratch_url(url: str, label: str) -> str:
    """A database beside `url`'s for a while (a rehearsal, a backup's check): a file in
    a new private directory for SQLite, `<name>_<label>_<pid>` on the same PostgreSQL
    server. It does not exist yet; `drop` removes it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix=f"controlroom-{label}-"))
        return parsed.set(database=str(directory / f"{label}.sqlite")).render_as_string(
            hide_password=False
        )
    suffix = f"_{label}_{os.getpid()}"
    name = f"{parsed.database}"[: PG_NAME_MAX - len(suffix)] + suffix
    return parsed.set(database=name).render_as_string(hide_password=False)


@contextmanager
def private_directory(label: str) -> Iterator[Path]:
    """A new directory only this user can read, removed with all it holds afterwards."""
    directory = Path(tempfile.mkdtemp(prefix=f"controlroom-{label}-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def create_empty(url: str) -> None:
    """Make the empty database `url` (PostgreSQL: createdb; an SQLite file is made by
    its first connection)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        _run("createdb", parsed, str(parsed.database))


def drop(url: str) -> None:
    """Remove a scratch database made by `scratch_url` (and anything restored into it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        target = sqlite_file(url)
        for leftover in _sqlite_files(target):
            leftover.unlink(missing_ok=True)
        if target.parent.name.startswith("controlroom-"):
            shutil.rmtree(target.parent, ignore_errors=True)
        return
    _run("dropdb", parsed, "--if-exists", "--force", str(parsed.database))
