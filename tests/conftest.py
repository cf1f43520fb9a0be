"""Shared fixtures: a fresh database per test on the backend under test.

With CONTROLROOM_TEST_DATABASE_URL set, every database fixture runs on PostgreSQL;
otherwise on an SQLite file in the test's tmp_path.
"""

from __future__ import annotations

import gc
import inspect

import pytest

from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from tests.databases import (
    TEST_ADMIN,
    PostgresDatabases,
    SqliteDatabases,
    drop_shared_templates,
    postgres_url,
)
from tests.shared_install import run_directory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first: xdist hands the front of the list to one worker while the
    other takes the rest, so a two-minute test runs beside the suite, not after it.
    (The order is the same in every worker: a stable sort on the marker.)

    On the PostgreSQL run (CONTROLROOM_TEST_DATABASE_URL set), a test that asks for no
    database (every database fixture rests on `databases`) is left out: it ran, the same,
    on the SQLite run, and would only spend the PostgreSQL run's time budget again. So is
    a screen test outside `SCREENS_ON_BOTH` (below)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if postgres_url():
        backend_free = [
            item for item in items if "databases" not in _fixtures(item) or _screen_only(item)
        ]
        if backend_free:
            config.hook.pytest_deselected(items=backend_free)
            chosen = set(map(id, backend_free))
            items[:] = [item for item in items if id(item) not in chosen]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After each test, its garbage is collected and what outlives it is frozen out of
    the collector's sight (as the program does once a session is open:
    `controlroom.app.steady_collector`). Without it, every full collection in a worker
    walked everything the tests before had left in module caches and compiled-statement
    caches, and the more tests a worker had run, the longer each took: on the Pilot
    tests, half their CPU was the collector (29 of 58 s for test_incident_entry_screen
    and test_app_shell). Frozen objects are still freed when nothing refers to them."""
    yield
    gc.collect()
    gc.freeze()


def _share_parsed_css() -> None:
    """Each test's app parsed the same stylesheets again (Textual keeps parsed rules per
    app): a sixth of a Pilot test's CPU. In this process the parsed rules of a source
    are kept for every app after, keyed on all that `_parse_rules` reads: the text, where
    it came from, its rank, its scope and the theme's variables. Textual already shares
    them across an app's re-parses, so they are never changed once parsed. A source that
    fails to parse raises as before, and is not kept."""
    from textual.css.stylesheet import Stylesheet

    parse = Stylesheet._parse_rules
    parsed: dict[tuple, list] = {}

    def parse_once(self, css, read_from, is_default_rules=False, tie_breaker=0, scope=""):
        key = (css, read_from, is_default_rules, tie_breaker, scope, *self._variables.items())
        rules = parsed.get(key)
        if rules is None:
            rules = parsed[key] = parse(self, css, read_from, is_default_rules, tie_breaker, scope)
        return rules

    Stylesheet._parse_rules = parse_once  # type: ignore[method-assign]


_share_parsed_css()


def _fixtures(item: pytest.Item) -> list[str]:
    return list(getattr(item, "fixturenames", ()))


# Screen tests that meet PostgreSQL's own behaviour (another station's change arriving,
# the audit trail failing closed, a refusal that depends on the backend): they run on
# both passes. Every other Pilot test and every snapshot drives the same services on
# either backend, and those services are tested on PostgreSQL themselves; on the
# PostgreSQL pass the screens would only be driven a second time (half its time budget).
SCREENS_ON_BOTH = {
    "test_app_shell",
    "test_audit_fail_closed",
    "test_emergency_screen",
    "test_outage",
    "test_queue_screens",
    "test_refusals_audited",
    "test_resource_board_screen",
}


def _screen_only(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    name = module.__name__.rsplit(".", 1)[-1] if module is not None else ""
    if name in SCREENS_ON_BOTH:
        return False
    function = getattr(item, "function", None)
    return name.startswith("test_snapshots") or inspect.iscoroutinefunction(function)


@pytest.fixture(autouse=True)
def memory_keyring():
    """Every test gets an empty in-memory keyring (tests/keyrings.py): the machine's own
    keyring is never read or written, and PostgreSQL URLs without a password (the test
    server trusts its clients) find no password there and connect as they are."""
    import keyring

    from tests.keyrings import MemoryKeyring

    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    url = postgres_url()
    # The templates are made once per run, in a directory the run's workers share.
    shared = run_directory(tmp_path_factory) / "templates"
    shared.mkdir(exist_ok=True)
    maker = PostgresDatabases(url, shared) if url else SqliteDatabases(shared)
    yield maker
    maker.close()


@pytest.fixture
def database_url(databases, tmp_path) -> str:
    """A new, migrated, empty database (environment: test; one administrator)."""
    url = databases.create(tmp_path)
    yield url
    databases.drop(url)


@pytest.fixture
def seeded_database_url(databases, tmp_path) -> str:
    """A new database holding the small synthetic force (fixed seed, fixed anchor)."""
    url = databases.create(tmp_path, seeded=True)
    yield url
    databases.drop(url)


@pytest.fixture(scope="module")
def force(databases, tmp_path_factory) -> Database:
    """The small synthetic force, one database for a whole test module (for modules
    that only read it, such as the person-search tests)."""
    url = databases.create(tmp_path_factory.mktemp("force"), seeded=True)
    db = Database(url)
    yield db
    db.dispose()
    databases.drop(url)


@pytest.fixture
def database(database_url) -> Database:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def seeded_database(seeded_database_url) -> Database:
    db = Database(seeded_database_url)
    yield db
    db.dispose()


@pytest.fixture
def supervisor(database) -> Actor:
    """A supervisor (`test.supervisor`): the role that may read and change every kind
    of record in the permission table, for tests about records rather than roles.
    Administrators may not read records (controlroom.domain.permissions)."""
    from tests.factories import staff_actor

    return staff_actor(database, Role.SUPERVISOR)


@pytest.fixture
def admin(database) -> Actor:
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN)
        return Actor(
            staff_id=staff.id, username=staff.username, role=Role(staff.role), terminal="local"
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    from tests.shared_install import remove_shared_installs

    remove_shared_installs(session.config)
    # The run's shared PostgreSQL templates, once no worker can copy them any more.
    url = postgres_url()
    factory = getattr(session.config, "_tmp_path_factory", None)
    if url and factory is not None and not hasattr(session.config, "workerinput"):
        drop_shared_templates(url, factory.getbasetemp() / "templates")
