"""The `controlroom` command, driven in-process through `cli.main([...])` and, where the
process boundary matters, as `python -m controlroom`.

Every test gets its own data dir and config home, and SQLite files in tmp_path. The TUI
is never started here: `make_app` builds a headless stand-in that does exactly what the
app's sign-in worker does (`services.session.open_session` on the CLI's deferred
database) and draws nothing, so the CLI's own part — the schema check and its message,
the exit status, the session's audit rows — runs for real.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, update
from sqlalchemy.engine import make_url

from controlroom import __version__, cli
from controlroom.config import mask_url, sqlite_path, sqlite_url
from controlroom.data import schema
from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.schema import SCHEMA_HEAD
from controlroom.data.uow import Database
from controlroom.domain.identity import process_account
from controlroom.domain.roles import Role
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import postgres_url
from tests.factories import staff_actor

ROOT = Path(__file__).resolve().parents[1]
OS_USER = process_account()

alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch, tmp_path):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)


class HeadlessApp:
    """ControlRoomApp's contract with the CLI, without Textual: `run()` opens the session as
    the sign-in screen's worker does; `operator`, `refusal`, `return_code`,
    `availability` and `leaves_hung_workers` as the app's."""

    def __init__(
        self, settings, uow_factory, operator, *, terminal="local", term=None, demo_for=None, **_
    ):
        self.settings = settings
        self.demo_for = demo_for
        self.uow_factory = uow_factory
        self.username = operator
        self.terminal = terminal
        self.operator = None
        self.session_id = None
        self.refusal = None
        self.return_code = None
        # The database as the app's watch last found it, and whether the CLI may leave
        # hung workers behind (a real terminal only): issue 13.
        from controlroom.domain.availability import Availability

        self.availability = Availability()
        self.leaves_hung_workers = False

    def run(self) -> None:
        from controlroom.services.session import SessionRefused, open_session

        try:
            opened = open_session(
                self.uow_factory, self.username, self.terminal, demo_for=self.demo_for
            )
            self.operator, self.session_id = opened.operator, opened.session_id
            self.return_code = 0
        except SessionRefused as exc:
            self.refusal = str(exc)
            self.return_code = 2


@pytest.fixture
def apps(monkeypatch) -> list[HeadlessApp]:
    """Every app the CLI builds, in order."""
    import controlroom.app

    built: list[HeadlessApp] = []

    def make_app(*args, **kwargs) -> HeadlessApp:
        built.append(HeadlessApp(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(controlroom.app, "make_app", make_app)
    return built


def signed_in(apps: list[HeadlessApp]) -> list[str]:
    """Who got past sign-in: for a refusal this must stay empty."""
    return [app.operator.username for app in apps if app.operator is not None]


@pytest.fixture
def run(capsys):
    return lambda *argv: run_cli(capsys, *argv)


@pytest.fixture
def url(tmp_path) -> str:
    return sqlite_url(tmp_path / "cr.sqlite")


@pytest.fixture
def upgraded(run, url) -> str:
    """A database made by `controlroom db upgrade` as the OS user, its administrator."""
    result = run("db", "upgrade", "--database-url", url)
    assert result.code == 0, result.err
    return url


def fix_command(url: str) -> str:
    return shlex.join(["controlroom", "db", "upgrade", "--database-url", mask_url(url)])


def stamp(url: str, revision: str) -> None:
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            connection.execute(update(alembic_version).values(version_num=revision))
    finally:
        database.dispose()


def audit_trail(url: str) -> list[tuple[str, str, str]]:
    database = Database(url)
    try:
        with database.uow() as uow:
            return [(e.actor, e.action, e.outcome) for e in reversed(uow.audit.latest(200))]
    finally:
        database.dispose()


def environment_of(url: str) -> tuple[str, bool]:
    database = Database(url)
    try:
        with database.uow() as uow:
            info = uow.database.get()
            return info.environment, info.synthetic
    finally:
        database.dispose()


def controlroom(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "controlroom", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


# --- version and the process boundary --------------------------------------------------


def test_version(run):
    result = run("--version")
    assert (result.code, result.out) == (0, f"controlroom {__version__}\n")


def test_python_dash_m_runs_the_same_command(tmp_path):
    env = {**os.environ}
    version = controlroom("--version", env=env)
    assert (version.returncode, version.stdout.strip()) == (0, f"controlroom {__version__}")

    db_url = sqlite_url(tmp_path / "sub.sqlite")
    empty = controlroom("db", "current", "--database-url", db_url, env=env)
    assert empty.returncode == 1
    assert empty.stdout.strip() == f"{db_url}: empty"
    upgraded = controlroom("db", "upgrade", "--database-url", db_url, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    current = controlroom("db", "current", "--database-url", db_url, env=env)
    assert (current.returncode, current.stdout.strip()) == (
        0,
        f"{db_url}: current at revision {SCHEMA_HEAD}",
    )


# The real app, in a real process, on Textual's headless driver: a refused session must
# end the process with status 2 and the reason on stderr, and nothing may stay open.
HEADLESS = "textual.drivers.headless_driver:HeadlessDriver"


def test_the_real_app_refuses_an_unknown_schema_and_exits_2(tmp_path):
    env = {**os.environ, "TEXTUAL_DRIVER": HEADLESS, "CONTROLROOM_DATA_DIR": str(tmp_path)}
    db_url = sqlite_url(tmp_path / "foreign.sqlite")
    assert controlroom("db", "upgrade", "--database-url", db_url, env=env).returncode == 0
    stamp(db_url, "ffffffffffff")
    result = controlroom("--database-url", db_url, env=env)
    assert result.returncode == 2
    assert "schema (ffffffffffff) is not one this program" in result.stderr


def test_the_real_app_refuses_an_os_user_who_is_not_enrolled(tmp_path):
    env = {**os.environ, "TEXTUAL_DRIVER": HEADLESS, "CONTROLROOM_DATA_DIR": str(tmp_path)}
    db_url = sqlite_url(tmp_path / "other.sqlite")
    engine = make_engine(db_url)
    schema.upgrade(engine, created_by="somebody.else")
    engine.dispose()
    result = controlroom("--database-url", db_url, env=env)
    assert result.returncode == 2
    assert f"{process_account()!r} is not a Control Room user" in result.stderr
    assert f"controlroom staff add {process_account()}" in result.stderr


def test_usage_errors_exit_2_without_a_traceback(run):
    result = run("db")
    assert result.code == 2
    assert "usage:" in result.err and "Traceback" not in result.err


# --- db current / db upgrade -----------------------------------------------------------


def test_db_current_says_empty_then_current_after_upgrade(run, url):
    empty = run("db", "current", "--database-url", url)
    assert (empty.code, empty.out) == (1, f"{url}: empty\n")

    upgrade = run("db", "upgrade", "--database-url", url)
    assert (upgrade.code, upgrade.out) == (0, f"{url}: empty -> {SCHEMA_HEAD}\n")
    current = run("db", "current", "--database-url", url)
    assert (current.code, current.out) == (0, f"{url}: current at revision {SCHEMA_HEAD}\n")


def test_db_upgrade_records_the_environment_and_is_safe_to_repeat(run, url):
    assert run("db", "upgrade", "--environment", "training", "--database-url", url).code == 0
    again = run("db", "upgrade", "--database-url", url)
    assert (again.code, again.out) == (0, f"{url}: {SCHEMA_HEAD} -> {SCHEMA_HEAD}\n")
    assert environment_of(url) == ("training", False)


def test_without_a_url_the_database_lives_in_the_data_dir(run, tmp_path):
    result = run("db", "upgrade")
    expected = tmp_path / "data" / "controlroom.sqlite"
    assert result.code == 0, result.err
    assert expected.is_file()
    assert result.out.startswith(f"{sqlite_url(expected)}: empty -> ")


def test_db_upgrade_refuses_a_schema_it_does_not_know(run, upgraded):
    stamp(upgraded, "9f9f9f9f")
    current = run("db", "current", "--database-url", upgraded)
    assert (current.code, current.out) == (1, f"{upgraded}: unknown at revision 9f9f9f9f\n")
    refused = run("db", "upgrade", "--database-url", upgraded)
    assert refused.code == 2
    assert "refusing to upgrade" in refused.err and "9f9f9f9f" in refused.err


# --- the app refuses a schema it cannot run on -----------------------------------------


def test_the_app_refuses_a_database_from_a_newer_program(run, upgraded, apps):
    stamp(upgraded, "9f9f9f9f")
    result = run("--database-url", upgraded)
    assert result.code == 2
    assert "9f9f9f9f" in result.err and f"controlroom {__version__}" in result.err
    assert "not one this program" in result.err
    assert signed_in(apps) == []


def test_the_app_refuses_tables_it_did_not_make(run, url, apps):
    database = Database(url)
    all_tables().create_all(database.engine)
    database.dispose()
    result = run("--database-url", url)
    assert result.code == 2
    assert "no revision stamp" in result.err
    assert signed_in(apps) == []


def test_the_app_refuses_an_older_schema_and_prints_the_upgrade_command(run, upgraded, apps):
    stamp(upgraded, "0001")  # last migrated by an older Control Room
    result = run("--database-url", upgraded)
    assert result.code == 2
    assert "schema revision 0001, older than this program" in result.err
    assert fix_command(upgraded) in result.err.splitlines()[-1]
    assert f"controlroom db upgrade --database-url {upgraded}" in result.err
    assert signed_in(apps) == []


def test_the_app_never_makes_a_database_and_says_what_does(run, url, apps):
    """A first `controlroom` once made an empty PRODUCTION database owned by whoever ran
    it; now it says how to make one, and `db upgrade` does."""
    path = sqlite_path(url)
    result = run("--database-url", url)
    assert result.code == 2
    assert f"there is no database at {path}" in result.err
    assert "controlroom demo" in result.err and "controlroom db upgrade" in result.err
    assert apps == [] and not path.exists()
    assert run("db", "upgrade", "--database-url", url).code == 0
    result = run("--database-url", url)
    assert result.code == 0, result.err
    [app] = apps
    assert app.settings.database_url == url
    assert (app.operator.username, app.operator.role) == (OS_USER, Role.ADMINISTRATOR)
    assert environment_of(url) == ("production", False)
    session = [
        (actor, action) for actor, action, _ in audit_trail(url) if action.startswith("session.")
    ]
    assert session == [(OS_USER, "session.start"), (OS_USER, "session.end")]


@pytest.fixture
def empty_postgres_url(databases, tmp_path):
    """A new, empty PostgreSQL database; the URL carries a password (trust auth ignores it)."""
    if not postgres_url():
        pytest.skip("CONTROLROOM_TEST_DATABASE_URL is not set")
    url = databases.create_empty(tmp_path, "cli")
    yield make_url(url).set(password="s3cret").render_as_string(hide_password=False)
    databases.drop(url)


def test_the_app_refuses_an_empty_postgresql_database(run, empty_postgres_url, apps):
    url = empty_postgres_url
    result = run("--database-url", url)
    assert result.code == 2
    assert "this database is empty" in result.err
    assert fix_command(url) in result.err
    assert "controlroom db upgrade --database-url 'postgresql+psycopg://" in result.err
    assert "s3cret" not in result.err and ":***@" in result.err
    assert signed_in(apps) == []

    upgraded = run("db", "upgrade", "--database-url", url)
    assert upgraded.code == 0, upgraded.err
    assert "s3cret" not in upgraded.out and upgraded.out.endswith(f"-> {SCHEMA_HEAD}\n")
    assert run("--database-url", url).code == 0
    assert signed_in(apps) == [OS_USER]


# --- bad URLs and unreachable databases: clear, and never a password -------------------


@pytest.mark.parametrize("command", [(), ("db", "current"), ("db", "upgrade"), ("staff", "list")])
def test_an_unreachable_database_is_named_without_its_password(run, command, apps):
    url = "postgresql+psycopg://app:s3cret@127.0.0.1:1/controlroom"  # nothing listens on port 1
    result = run(*command, "--database-url", url)
    assert result.code == 2
    assert "cannot open database postgresql+psycopg://app:***@127.0.0.1:1/controlroom" in result.err
    assert "s3cret" not in result.err + result.out
    assert "Traceback" not in result.err
    assert signed_in(apps) == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://app:s3cret@db.example/cr", "unsupported database 'mysql'"),
    ],
)
@pytest.mark.parametrize("command", [(), ("db", "current")])
def test_a_url_this_program_cannot_use_is_refused(run, url, message, command):
    result = run(*command, "--database-url", url)
    assert result.code == 2
    assert message in result.err and "s3cret" not in result.err


def test_a_missing_config_file_is_refused(run, tmp_path):
    result = run("db", "current", "--config", str(tmp_path / "typo.toml"))
    assert result.code == 2
    assert "configuration:" in result.err and "typo.toml" in result.err


# --- staff commands, as the OS user ----------------------------------------------------


def test_staff_add_list_lock_unlock_as_the_database_creator(run, upgraded):
    added = run(
        "staff",
        "add",
        "jsmith",
        "--role",
        "call handler",
        "--name",
        "J Smith",
        "--collar",
        "4512",
        "--station",
        "Central",
        "--database-url",
        upgraded,
    )
    assert (added.code, added.out) == (0, "enrolled jsmith as call_handler\n")

    listed = run("staff", "list", "--database-url", upgraded)
    assert listed.code == 0
    [row] = [line for line in listed.out.splitlines() if "jsmith" in line]
    assert [
        cell for cell in ("J Smith", "call_handler", "4512", "Central", "active") if cell not in row
    ] == []
    assert any(OS_USER in line and "administrator" in line for line in listed.out.splitlines())

    locked = run("staff", "lock", "jsmith", "--database-url", upgraded)
    assert (locked.code, locked.out) == (0, "jsmith is now locked\n")
    listed = run("staff", "list", "--database-url", upgraded)
    assert "locked" in next(line for line in listed.out.splitlines() if "jsmith" in line)

    unlocked = run("staff", "unlock", "jsmith", "--database-url", upgraded)
    assert (unlocked.code, unlocked.out) == (0, "jsmith is now unlocked\n")

    actions = [
        (actor, action)
        for actor, action, outcome in audit_trail(upgraded)
        if action.startswith("staff.") and outcome == "success"
    ]
    assert [a for a in actions if a[1] in {"staff.add", "staff.lock", "staff.unlock"}] == [
        (OS_USER, "staff.add"),
        (OS_USER, "staff.lock"),
        (OS_USER, "staff.unlock"),
    ]


def test_staff_commands_refuse_a_missing_database_and_leave_no_file(run, url):
    result = run("staff", "list", "--database-url", url)
    assert result.code == 2
    assert "there is no database at" in result.err
    assert fix_command(url) in result.err
    assert not sqlite_path(url).exists()  # nothing a later command could take for one


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("staff", "add", "x", "--role", "chief", "--name", "X"), "unknown role 'chief'"),
        (("staff", "add", "two words", "--role", "analyst", "--name", "X"), "without spaces"),
        (("staff", "lock", "nobody"), "'nobody' is not enrolled"),
    ],
)
def test_bad_staff_input_is_refused_with_a_clear_message(run, upgraded, argv, message):
    result = run(*argv, "--database-url", upgraded)
    assert result.code == 2
    assert message in result.err


def test_an_unknown_os_user_is_refused_and_the_refusal_audited(run, upgraded, monkeypatch, apps):
    monkeypatch.setattr(cli.common, "_os_user", lambda: "intruder")
    for argv in (("staff", "list"), ()):
        result = run(*argv, "--database-url", upgraded)
        assert result.code == 2
        assert "'intruder' is not a Control Room user" in result.err
        assert "controlroom staff add intruder" in result.err
    assert signed_in(apps) == []
    assert audit_trail(upgraded)[-2:] == [("intruder", "session.start", "refused")] * 2


def test_only_an_administrator_manages_staff(run, upgraded, monkeypatch):
    assert (
        run(
            "staff",
            "add",
            "sup",
            "--role",
            "supervisor",
            "--name",
            "A Supervisor",
            "--database-url",
            upgraded,
        ).code
        == 0
    )
    monkeypatch.setattr(cli.common, "_os_user", lambda: "sup")
    result = run(
        "staff", "add", "x", "--role", "analyst", "--name", "X", "--database-url", upgraded
    )
    assert result.code == 2
    assert "'sup' may not manage staff" in result.err
    assert audit_trail(upgraded)[-1] == ("sup", "staff.add", "denied")


def test_a_locked_operator_cannot_start_the_app(run, upgraded, monkeypatch, apps):
    run("staff", "add", "jsmith", "--role", "dispatcher", "--name", "J", "--database-url", upgraded)
    assert run("staff", "lock", "jsmith", "--database-url", upgraded).code == 0
    monkeypatch.setattr(cli.common, "_os_user", lambda: "jsmith")
    result = run("--database-url", upgraded)
    assert result.code == 2
    assert "locked" in result.err and "controlroom staff unlock jsmith" in result.err
    assert signed_in(apps) == []


HOSTILE_NAME = "[@click=app.quit]x\x1b[2J\x1b]52;c;SGVsbG8=\x07\x9b31m\u202eevil"
HOSTILE_SHOWN = "[@click=app.quit]x\u241b[2J\u241b]52;c;SGVsbG8=\u2407\u27e8U+009B\u27e931m\u27e8U+202E\u27e9evil"


def test_staff_add_refuses_control_characters_in_a_name(run, upgraded):
    result = run(
        "staff",
        "add",
        "mallory",
        "--role",
        "analyst",
        "--name",
        HOSTILE_NAME,
        "--database-url",
        upgraded,
    )
    assert result.code == 2
    assert "name contains control characters" in result.err


def test_staff_list_shows_a_hostile_name_literally_with_visible_markers(run, upgraded):
    # Names with control characters are refused at entry; one that got in another way
    # (an import, an older version) must still print harmlessly.
    assert (
        run(
            "staff",
            "add",
            "mallory",
            "--role",
            "analyst",
            "--name",
            "placeholder",
            "--database-url",
            upgraded,
        ).code
        == 0
    )
    database = Database(upgraded)
    try:
        with database.uow() as uow:
            uow.staff.by_username("mallory").display_name = HOSTILE_NAME
            uow.commit()
    finally:
        database.dispose()
    listed = run("staff", "list", "--database-url", upgraded)
    assert listed.code == 0
    assert HOSTILE_SHOWN in listed.out
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in listed.out


# --- the demo --------------------------------------------------------------------------


def test_demo_seed_only_builds_a_synthetic_training_database_once(run, tmp_path):
    url = sqlite_url(tmp_path / "demo.sqlite")
    first = run("demo", "--seed-only", "--database-url", url)
    assert first.code == 0, first.err
    assert f"Demo database ready: {url}" in first.out
    assert environment_of(url) == ("training", True)

    again = run("demo", "--seed-only", "--database-url", url)
    assert again.code == 0, again.err
    assert "already seeded" in again.out


def test_demo_reset_refuses_to_wipe_a_database_that_is_not_training(run, upgraded, apps):
    result = run("demo", "--reset", "--seed-only", "--database-url", upgraded)
    assert result.code == 2
    assert "--reset only wipes a training database" in result.err
    assert environment_of(upgraded) == ("production", False)
    assert Path(make_url(upgraded).database).is_file()
    assert signed_in(apps) == []


def test_staff_set_role_and_deactivate_a_leaver(run, upgraded):
    run(
        "staff",
        "add",
        "rleaver",
        "--role",
        "call handler",
        "--name",
        "R Leaver",
        "--database-url",
        upgraded,
    )
    changed = run(
        "staff", "set-role", "rleaver", "--role", "dispatcher", "--database-url", upgraded
    )
    assert (changed.code, changed.out) == (0, "rleaver is now dispatcher\n")
    ended = run("staff", "deactivate", "rleaver", "--database-url", upgraded)
    assert ended.code == 0 and "no longer has access" in ended.out
    listed = run("staff", "list", "--database-url", upgraded)
    row = next(line for line in listed.out.splitlines() if "rleaver" in line)
    assert "dispatcher" in row and "inactive" in row
    again = run("staff", "deactivate", "rleaver", "--database-url", upgraded)
    assert again.code != 0 and "no longer has access" in again.err
    nobody = run("staff", "set-role", "nobody", "--role", "analyst", "--database-url", upgraded)
    assert nobody.code != 0 and "not enrolled" in nobody.err
    own = run("staff", "deactivate", OS_USER, "--database-url", upgraded)
    assert own.code != 0 and "your own access" in own.err
    actions = [a for _, a, o in audit_trail(upgraded) if o == "success"]
    assert "staff.set_role" in actions and "staff.deactivate" in actions


def test_staff_set_pin_checks_the_account_before_asking(run, upgraded, monkeypatch):
    import getpass as getpass_module

    asked = []
    monkeypatch.setattr(getpass_module, "getpass", lambda prompt="": asked.append(prompt) or "")
    refused = run("staff", "set-pin", "nobody", "--database-url", upgraded)
    assert refused.code != 0 and "not an enrolled, active account" in refused.err
    assert asked == []  # never asked for a PIN for nobody


def test_staff_set_pin_without_a_terminal_says_so_without_a_traceback(run, upgraded, monkeypatch):
    import getpass as getpass_module

    def no_terminal(prompt=""):
        raise EOFError

    monkeypatch.setattr(getpass_module, "getpass", no_terminal)
    result = run("staff", "set-pin", "--database-url", upgraded)
    assert result.code != 0 and "needs a terminal" in result.err
    assert "Traceback" not in result.err and "EOFError" not in result.err


def test_global_options_work_before_the_command_as_after_it(run, upgraded):
    before = run("--database-url", upgraded, "staff", "list")
    after = run("staff", "list", "--database-url", upgraded)
    assert before.code == after.code == 0
    assert OS_USER in before.out and before.out == after.out


def test_after_the_demo_a_command_without_a_url_says_where_the_demo_database_is(run, tmp_path):
    data = tmp_path / "data"
    (data).mkdir(parents=True, exist_ok=True)
    demo = data / "demo.sqlite"
    demo.write_bytes(b"")  # what `controlroom demo` leaves in the data directory
    result = run("search", "person", "smith")
    assert result.code == 2
    assert f"The demo's training database is {demo}" in result.err
    assert "--database-url sqlite+pysqlite:///" in result.err


def _step_back(url: str, revision: str) -> None:
    """Take a database's schema back to `revision`, as an older Control Room left it."""
    from alembic import command

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(schema.alembic_config(connection), revision)
    finally:
        engine.dispose()


def test_the_demo_brings_its_own_training_database_up_to_date(run, url, apps):
    """After an upgrade of Control Room the demo's database is a schema behind: the demo
    migrates it (synthetic training data), where any other database is refused."""
    assert run("demo", "--seed-only", "--database-url", url).code == 0
    _step_back(url, "0011")
    result = run("demo", "--database-url", url)
    assert result.code == 0, result.err
    assert [app.operator.username for app in apps] == ["demo.supervisor"]
    engine = make_engine(url)
    try:
        assert schema.schema_state(engine).revision == SCHEMA_HEAD
    finally:
        engine.dispose()


def test_the_demo_never_migrates_a_production_database(run, upgraded, apps):
    _step_back(upgraded, "0011")
    result = run("demo", "--database-url", upgraded)
    assert result.code == 2
    assert "older than this program expects" in result.err
    assert apps == [] or all(app.operator is None for app in apps)


def test_the_demo_account_never_signs_in_on_production(run, upgraded, apps):
    """`controlroom demo --database-url X` signed in as demo.supervisor whoever ran it, on
    any database that has that account, production included (issue 16)."""
    database = Database(upgraded)
    try:
        staff_actor(database, Role.SUPERVISOR, "demo.supervisor")
    finally:
        database.dispose()
    result = run("demo", "--database-url", upgraded)
    assert result.code == 2
    assert "the demo account signs in only on a synthetic training database" in result.err
    assert "production database" in result.err
    assert signed_in(apps) == []
    # On the record as the OS account that tried, not as the demo account.
    assert audit_trail(upgraded)[-1] == (OS_USER, "session.start", "refused")


def test_the_demo_account_never_signs_in_on_unmarked_training_data(run, tmp_path, apps):
    """A training database that holds no synthetic force (made by `db upgrade`, its
    records typed by people) is not the demo's either."""
    url = sqlite_url(tmp_path / "training.sqlite")
    assert run("db", "upgrade", "--environment", "training", "--database-url", url).code == 0
    database = Database(url)
    try:
        staff_actor(database, Role.SUPERVISOR, "demo.supervisor")
    finally:
        database.dispose()
    result = run("demo", "--database-url", url)
    assert result.code == 2
    assert "this is a training database" in result.err
    assert signed_in(apps) == []


def test_the_apps_start_loads_no_other_command():
    """`controlroom` and `controlroom demo` load the parser and the app's command, not the
    database, staff or units commands (issue 15: every operator's memory); each command
    still finds its function when it runs."""
    probe = (
        "import json, sys\n"
        "from controlroom import cli\n"
        "args = cli._parser().parse_args(['demo'])\n"
        "assert cli._handler(args.command).__name__ == 'cmd_demo'\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(json.loads(proc.stdout))
    assert "controlroom.cli.app" in loaded
    assert (
        sorted({"controlroom.cli.db", "controlroom.cli.staff", "controlroom.cli.units"} & loaded)
        == []
    )
    for command, (_, name) in cli.COMMANDS.items():
        assert cli._handler(command).__name__ == name
