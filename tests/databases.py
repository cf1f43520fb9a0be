"""Throwaway databases for the tests, on SQLite or PostgreSQL.

Each backend keeps a migrated template (and a seeded one, made on first use) for the
whole session; every test gets its own copy, so tests never see each other's rows.
SQLite copies the template file into the test's tmp_path. PostgreSQL creates a new
database `<name>_<n>` from a template database next to the one named by
CONTROLROOM_TEST_DATABASE_URL, and drops it afterwards.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import shutil
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from controlroom.config import sqlite_url
from controlroom.data.engine import make_engine
from controlroom.data.schema import upgrade
from controlroom.domain.environment import Environment

TEST_ADMIN = "test.admin"
# Fixed so seeded tests see the same data on every run, whatever the date.
SEED_ANCHOR = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def postgres_url() -> str | None:
    return os.environ.get("CONTROLROOM_TEST_DATABASE_URL") or None


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine, environment=Environment.TEST, created_by=TEST_ADMIN)
    finally:
        engine.dispose()


def _seed(url: str) -> None:
    from controlroom.data.uow import Database
    from controlroom.services import synthetic

    database = Database(url)
    try:
        synthetic.seed(database.uow, size="small", anchor=SEED_ANCHOR)
    finally:
        database.dispose()


class SqliteDatabases:
    backend = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._templates: dict[str, Path] = {}

    def _template(self, seeded: bool) -> Path:
        """The migrated (and seeded) template, made once per test run: `workdir` is
        shared by the run's xdist workers, and the first to ask makes it under a file
        lock while the others wait (seeding the small force costs seconds a worker)."""
        key = "seeded" if seeded else "empty"
        if key not in self._templates:
            path = self.workdir / f"template-{key}.sqlite"
            with open(self.workdir / f"template-{key}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not path.exists():
                    making = self.workdir / f"making-{key}-{os.getpid()}.sqlite"
                    url = sqlite_url(making)
                    _migrate(url)
                    if seeded:
                        _seed(url)
                    making.rename(path)  # whole or not at all
            self._templates[key] = path
        return self._templates[key]

    def create(self, directory: Path, *, seeded: bool = False) -> str:
        target = directory / ("seeded.sqlite" if seeded else "test.sqlite")
        shutil.copyfile(self._template(seeded), target)
        return sqlite_url(target)

    def create_empty(self, directory: Path, label: str) -> str:
        """A database with nothing in it at all (not even a schema), for migration tests."""
        return sqlite_url(directory / f"{label}.sqlite")

    def drop(self, url: str) -> None:
        pass  # tmp_path goes with the test

    def close(self) -> None:
        pass


# Copies made ahead per template, and the threads making them (PostgreSQL's copying is
# mostly waiting on the disk: two at once take little longer than one).
AHEAD = 2
BACKGROUND_THREADS = 2


class PostgresDatabases:
    """Test databases on PostgreSQL, each a copy of a template (CREATE DATABASE ...
    TEMPLATE), made and dropped ahead of time in threads of their own.

    A copy costs PostgreSQL a few hundred milliseconds, most of it writing and syncing
    files: done while a test runs, the next test finds its database ready. So `create`
    hands out a copy made in the background (and asks for the next one), and `drop`
    leaves the dropping to the same threads. Each thread has an admin connection of its
    own (a psycopg connection is not to be shared between threads); the main one only
    makes templates and bare databases."""

    backend = "postgresql"

    def __init__(self, url: str, shared: Path | None = None) -> None:
        self.base = make_url(url)
        if self.base.drivername == "postgresql":
            self.base = self.base.set(drivername="postgresql+psycopg")
        self.prefix = f"{self.base.database}_{os.getpid()}"
        # The directory the run's xdist workers share: the templates are made once per
        # run there (see `_shared_template`), and dropped by `drop_shared_templates`.
        self.shared = shared
        self._admin = self._connect()
        self._counter = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._created: list[str] = []
        self._lock = threading.Lock()
        # The background threads: copies made ahead (AHEAD per template), drops.
        self._background = ThreadPoolExecutor(
            max_workers=BACKGROUND_THREADS, thread_name_prefix="test-db"
        )
        self._local = threading.local()
        self._background_admins: list = []
        self._ready: dict[str, deque[Future[str]]] = {}

    def _connect(self):
        import psycopg

        return psycopg.connect(
            host=self.base.host,
            port=self.base.port,
            user=self.base.username,
            password=self.base.password,
            dbname=self.base.database,
            autocommit=True,
        )

    @staticmethod
    def _run(connection, statement: str, name: str, template: str | None = None) -> None:
        from psycopg import sql

        # Identifiers are composed by psycopg's sql module, never by string formatting.
        query = sql.SQL(statement).format(
            name=sql.Identifier(name), template=sql.Identifier(template or name)
        )
        connection.execute(query)

    def _execute(self, statement: str, name: str, template: str | None = None) -> None:
        self._run(self._admin, statement, name, template)

    def _in_background(self, statement: str, name: str, template: str | None = None) -> None:
        # Called on a background thread only: each has a connection of its own.
        connection = getattr(self._local, "admin", None)
        if connection is None:
            connection = self._local.admin = self._connect()
            with self._lock:
                self._background_admins.append(connection)
        self._run(connection, statement, name, template)

    def url_for(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _template(self, seeded: bool) -> str:
        key = "seeded" if seeded else "empty"
        if key not in self._templates and self.shared is not None:
            self._templates[key] = self._shared_template(key, seeded)
        if key not in self._templates:
            name = f"{self.prefix}_tpl_{key}"
            self._execute("DROP DATABASE IF EXISTS {name}", name)
            self._execute("CREATE DATABASE {name}", name)
            self._remember(name)
            url = self.url_for(name)
            _migrate(url)
            if seeded:
                _seed(url)
            self._templates[key] = name
        return self._templates[key]

    def _shared_template(self, key: str, seeded: bool) -> str:
        """The run's template, made by the first worker to ask under a file lock while
        the others wait (migrating and seeding cost each worker seconds of the run).
        PostgreSQL copies one template into several databases at once."""
        assert self.shared is not None
        record = self.shared / f"pg-template-{key}.name"
        with open(self.shared / f"pg-template-{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if record.exists():
                return record.read_text()
            name = f"{self.base.database}_{self.shared.parent.name.replace('-', '')}_tpl_{key}"
            self._execute("DROP DATABASE IF EXISTS {name}", name)
            self._execute("CREATE DATABASE {name}", name)
            url = self.url_for(name)
            _migrate(url)
            if seeded:
                _seed(url)
            record.write_text(name)
            return name

    def _remember(self, name: str) -> None:
        with self._lock:
            self._created.append(name)

    def _copy(self, template: str) -> str:
        """A new copy of `template` (on the background thread)."""
        name = f"{self.prefix}_{next(self._counter)}"
        self._in_background("DROP DATABASE IF EXISTS {name}", name)
        self._in_background("CREATE DATABASE {name} TEMPLATE {template}", name, template)
        return name

    def create(self, directory: Path, *, seeded: bool = False) -> str:
        template = self._template(seeded)
        ready = self._ready.setdefault(template, deque())
        # The next tests' copies, made while this one runs.
        while len(ready) < AHEAD + 1:
            ready.append(self._background.submit(self._copy, template))
        name = ready.popleft().result()
        self._remember(name)
        return self.url_for(name)

    def create_empty(self, directory: Path, label: str) -> str:
        """A database with nothing in it at all (not even a schema), for migration tests."""
        name = f"{self.prefix}_{label}_{next(self._counter)}"
        self._execute("CREATE DATABASE {name}", name)
        self._remember(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        """Drop the test's database, in the background: the next test need not wait."""
        name = make_url(url).database
        assert name is not None
        with self._lock:
            if name in self._created:
                self._created.remove(name)
        self._background.submit(
            self._in_background, "DROP DATABASE IF EXISTS {name} WITH (FORCE)", name
        )

    def close(self) -> None:
        ready = [future.result() for waiting in self._ready.values() for future in waiting]
        self._background.shutdown(wait=True)  # every drop asked for has run
        for connection in self._background_admins:
            connection.close()
        for name in [*ready, *reversed(self._created)]:
            self._execute("DROP DATABASE IF EXISTS {name} WITH (FORCE)", name)
        self._admin.close()


def drop_shared_templates(base_url: str, shared: Path) -> None:
    """At the end of the run (the xdist controller, once every worker is done): drop
    the templates `PostgresDatabases` made in `shared`."""
    records = sorted(shared.glob("pg-template-*.name"))
    if not records:
        return
    maker = PostgresDatabases(base_url)
    try:
        for record in records:
            maker._execute("DROP DATABASE IF EXISTS {name} WITH (FORCE)", record.read_text())
            record.unlink()
    finally:
        maker.close()
