"""The PostgreSQL password lives in the keyring and nowhere else.

`controlroom db set-password` prompts (never an argument) and stores it under service
"controlroom", username "user@host:port/database"; every connection fetches it; with no
keyring backend the program stops with a message saying how to set one up and writes no
file; and a canary password shows up in no output, log, traceback, error screen or audit
row. Each test has its own in-memory keyring (tests/conftest.py `memory_keyring`).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy.engine import make_url

from controlroom import cli
from controlroom.app import make_app
from controlroom.config import load_settings, mask_url
from controlroom.data.opening import DeferredDatabase
from controlroom.data.uow import Database
from controlroom.services import secrets
from tests.apps import screen_text, settle
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import postgres_url

CANARY = "Canary-q7Z3-NotARealPassword"
UNREACHABLE = "postgresql+psycopg://controlroom_app@127.0.0.1:1/controlroom"  # nothing on port 1


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def run(capsys):
    return lambda *argv: run_cli(capsys, *argv)


@pytest.fixture
def typed(monkeypatch):
    """What the operator types at getpass prompts, in order; the prompts are recorded."""
    answers: list[str] = []
    prompts: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream=None) -> str:
        prompts.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return answers, prompts


def files_under(*roots: Path) -> set[Path]:
    return {p for root in roots if root.exists() for p in root.rglob("*")}


def test_set_password_prompts_twice_and_keeps_it_in_the_keyring(run, typed, memory_keyring):
    answers, prompts = typed
    answers += [CANARY, CANARY]
    result = run("db", "set-password", "--database-url", UNREACHABLE)
    assert result.code == 0, result.err
    assert memory_keyring.entries == {
        ("controlroom", "controlroom_app@127.0.0.1:1/controlroom"): CANARY
    }
    assert prompts == [f"PostgreSQL password for {UNREACHABLE}: ", "The same password again: "]
    assert "service 'controlroom', username 'controlroom_app@127.0.0.1:1/controlroom'" in result.out
    assert CANARY not in result.out + result.err


def test_two_different_passwords_store_nothing(run, typed, memory_keyring):
    answers, _ = typed
    answers += [CANARY, CANARY + "x"]
    result = run("db", "set-password", "--database-url", UNREACHABLE)
    assert result.code == 2 and "differ" in result.err
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite+pysqlite:////tmp/cr.sqlite", "only a PostgreSQL database"),
        ("postgresql+psycopg://app:inline@db.example/cr", "carries a password"),
        ("postgresql+psycopg://db.example/cr", "names no user"),
    ],
)
def test_what_cannot_be_stored_is_refused_before_the_prompt(
    run, typed, memory_keyring, url, message
):
    _answers, prompts = typed
    result = run("db", "set-password", "--database-url", url)
    assert result.code == 2 and message in result.err
    assert prompts == [] and memory_keyring.entries == {}
    assert "inline" not in result.err


def test_the_connection_gets_the_password_from_the_keyring(memory_keyring):
    url = "postgresql+psycopg://app@db.example:6432/cr"
    assert secrets.connection_url(url) == url  # nothing stored: trust/peer auth
    secrets.store_password(url, CANARY)
    assert make_url(secrets.connection_url(url)).password == CANARY
    assert memory_keyring.entries[("controlroom", "app@db.example:6432/cr")] == CANARY
    sqlite = "sqlite+pysqlite:////tmp/x.sqlite"
    assert secrets.connection_url(sqlite) == sqlite


@pytest.mark.parametrize(
    "command",
    [("db", "set-password"), ("db", "current"), ("staff", "list"), ("search", "person", "smith")],
)
def test_with_no_keyring_backend_it_stops_says_how_and_writes_no_file(
    run, typed, tmp_path, command
):
    answers, prompts = typed
    answers += [CANARY, CANARY]
    keyring.set_keyring(fail.Keyring())  # what keyring gives when it finds no backend
    before = files_under(tmp_path)
    result = run(*command, "--database-url", UNREACHABLE)
    assert result.code == 2
    assert "no keyring backend is available" in result.err
    assert "keyringrc.cfg" in result.err and "controlroom db set-password" in result.err
    assert "never keeps it in a file" in result.err
    assert "Traceback" not in result.err and CANARY not in result.out + result.err
    assert prompts == []  # not even asked for
    assert files_under(tmp_path) == before  # no file written, no plaintext fallback


def test_the_app_stops_with_no_keyring_backend(run, tmp_path):
    keyring.set_keyring(fail.Keyring())
    result = run("--database-url", UNREACHABLE)
    assert result.code == 2 and "no keyring backend is available" in result.err


def test_a_canary_password_appears_in_no_output_log_or_traceback(run, typed, caplog):
    answers, _ = typed
    answers += [CANARY, CANARY]
    caplog.set_level(logging.DEBUG)
    assert run("db", "set-password", "--database-url", UNREACHABLE).code == 0
    seen = []
    for command in (
        ("db", "current"),
        ("db", "upgrade"),
        ("staff", "list"),
        ("search", "person", "smith"),
        ("audit", "verify"),
    ):
        result = run(*command, "--database-url", UNREACHABLE)
        assert result.code != 0, command
        seen.append(result.out + result.err)
    everything = "\n".join(seen) + caplog.text
    assert "controlroom_app:***@127.0.0.1:1/controlroom" in everything  # masked, still named
    assert CANARY not in everything
    assert "Traceback" not in everything


async def test_a_canary_password_is_not_on_the_error_screen(tmp_path):
    secrets.store_password(UNREACHABLE, CANARY)
    url = cli.common._connect_url(UNREACHABLE)
    assert make_url(url).password == CANARY  # the engine gets it...
    settings = replace(
        load_settings(
            environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        ),
        database_url=UNREACHABLE,
    )
    database = DeferredDatabase(url, create=False, upgrade_command="controlroom db upgrade")
    app = make_app(settings, database.uow, "test.supervisor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
    assert app.refusal and "cannot open database" in app.refusal  # ...the screen does not
    assert CANARY not in (app.refusal + shown)
    assert "***" in app.refusal


@pytest.mark.skipif(postgres_url() is None, reason="needs CONTROLROOM_TEST_DATABASE_URL")
def test_on_postgresql_the_canary_is_used_and_lands_in_no_audit_row(
    run, typed, databases, tmp_path, memory_keyring
):
    url = databases.create(tmp_path, seeded=False)
    try:
        answers, _ = typed
        answers += [CANARY, CANARY]
        assert run("db", "set-password", "--database-url", url).code == 0
        for command in (("db", "current"), ("staff", "list"), ("audit", "verify")):
            result = run(*command, "--database-url", url)
            assert CANARY not in result.out + result.err, command
        database = Database(url)
        try:
            with database.uow() as uow:
                rows = uow.audit.latest(1000)
                text = repr(
                    [(e.actor, e.action, e.object_id, e.detail, e.justification) for e in rows]
                )
        finally:
            database.dispose()
        assert rows and CANARY not in text
    finally:
        databases.drop(url)


def test_the_database_url_is_masked_wherever_it_is_shown():
    assert (
        mask_url(f"postgresql+psycopg://app:{CANARY}@db/cr") == "postgresql+psycopg://app:***@db/cr"
    )
    assert (
        mask_url(f"postgresql+psycopg://app:{CANARY}@db/cr?sslmode=require")
        == "postgresql+psycopg://app:***@db/cr?sslmode=require"
    )


async def test_a_crash_report_shows_no_local_variables(database, tmp_path, capsys):
    """Textual prints a crash with every frame's locals; ours does not, so a URL with the
    keyring password (or a record) in a local variable never reaches the terminal."""
    from tests.apps import build_app

    app = build_app(database, tmp_path)

    def crash() -> None:
        connect_with = f"postgresql+psycopg://app:{CANARY}@db/cr"  # a local, as in a frame
        raise RuntimeError(f"crashed near {connect_with[:10]}")

    with pytest.raises(RuntimeError, match="crashed near"):
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.call_later(crash)
            await pilot.pause()
    report = capsys.readouterr().err  # Textual prints the report on stderr at exit
    assert "RuntimeError" in report and "crashed near" in report  # the report is there...
    assert CANARY not in report  # ...without the locals
