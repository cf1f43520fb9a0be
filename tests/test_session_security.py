"""Session security: the idle-lock setting, the PIN (argon2-hashed, set by prompt), the
five-strikes lockout and its audit trail, the sign-in refused while locked out, drafts
private per operator, and a dropped SSH connection (SIGHUP) that ends the session and
keeps the draft."""

from __future__ import annotations

import getpass
import json
import os
import signal
import stat
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.config import IDLE_LOCK_MAXIMUM, ConfigError, load_settings
from controlroom.data.models import AuditEvent, Staff
from controlroom.data.uow import Database
from controlroom.domain.identity import process_account
from controlroom.domain.roles import Role
from controlroom.services import session_lock, staff
from controlroom.services.access import PermissionDenied
from controlroom.services.drafts import draft_journal
from controlroom.services.session_lock import PinError, UnlockRefused
from controlroom.services.staff import AccessRefused
from tests.apps import draft_paths
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import SEED_ANCHOR, TEST_ADMIN, postgres_url
from tests.factories import staff_actor, station_database
from tests.terminal import TerminalSession, station_env

PIN = "482915"


def settings_with(tmp_path, **environ):
    return load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), **environ}
    )


def test_the_idle_lock_defaults_to_15_minutes_and_takes_up_to_30(tmp_path):
    assert settings_with(tmp_path).idle_lock_minutes == 15
    assert settings_with(tmp_path, CONTROLROOM_IDLE_LOCK_MINUTES="30").idle_lock_minutes == 30
    assert settings_with(tmp_path, CONTROLROOM_IDLE_LOCK_MINUTES="2.5").idle_lock_minutes == 2.5
    config = tmp_path / "controlroom" / "config.toml"
    config.parent.mkdir()
    config.write_text("idle_lock_minutes = 5\n")
    assert settings_with(tmp_path).idle_lock_minutes == 5
    assert IDLE_LOCK_MAXIMUM == 30


@pytest.mark.parametrize("value", ["31", "0", "-5", "abc", "nan", "inf", "true"])
def test_an_idle_lock_longer_than_30_minutes_or_not_a_number_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="idle_lock_minutes|IDLE_LOCK_MINUTES"):
        settings_with(tmp_path, CONTROLROOM_IDLE_LOCK_MINUTES=value)
    config = tmp_path / "controlroom" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(
        f"idle_lock_minutes = {value if value != 'abc' else chr(34) + value + chr(34)}\n"
    )
    with pytest.raises(ConfigError, match="idle_lock_minutes"):
        settings_with(tmp_path)


# --- the PIN ---------------------------------------------------------------------------


def staff_row(database, username: str) -> Staff:
    with database.uow() as uow:
        row = uow.staff.by_username(username)
        uow.session.expunge(row)
        return row


def audit_tail(database, n: int) -> list[tuple[str, str, str | None]]:
    with database.uow() as uow:
        return [(e.action, e.outcome, e.detail) for e in reversed(uow.audit.latest(n))]


def test_the_pin_is_stored_only_as_an_argon2id_hash(database, supervisor):
    session_lock.set_pin(database.uow(), supervisor, supervisor.username, PIN)
    row = staff_row(database, supervisor.username)
    assert row.pin_hash.startswith("$argon2id$") and PIN not in row.pin_hash
    with database.uow() as uow:
        events = uow.session.scalars(select(AuditEvent)).all()
        assert all(PIN not in repr((e.detail, e.justification, e.object_id)) for e in events)
    assert audit_tail(database, 1) == [("staff.set_pin", "success", "own PIN")]


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("12a4", "digits only"),
        ("123", "4 to 12"),
        ("1234567890123", "4 to 12"),
        ("1111", "too easy"),
        ("", "digits only"),
        ("１２３４", "digits only"),
    ],
)
def test_a_pin_must_be_4_to_12_digits_and_not_one_digit_repeated(
    database, supervisor, pin, message
):
    with pytest.raises(PinError, match=message):
        session_lock.set_pin(database.uow(), supervisor, supervisor.username, pin)
    assert staff_row(database, supervisor.username).pin_hash is None


def test_only_an_administrator_sets_another_accounts_pin(database, supervisor, admin):
    handler = staff_actor(database, Role.CALL_HANDLER)
    with pytest.raises(PermissionDenied, match="may not manage staff accounts"):
        session_lock.set_pin(database.uow(), supervisor, handler.username, PIN)
    assert audit_tail(database, 1)[0][:2] == ("staff.set_pin", "denied")
    assert staff_row(database, handler.username).pin_hash is None
    session_lock.set_pin(database.uow(), admin, handler.username, PIN)
    assert staff_row(database, handler.username).pin_hash.startswith("$argon2id$")


def test_five_wrong_pins_lock_the_account_and_the_sign_in_for_ten_minutes(database, supervisor):
    session_lock.set_pin(database.uow(), supervisor, supervisor.username, PIN)
    now = SEED_ANCHOR
    for attempt in range(1, 5):
        with pytest.raises(UnlockRefused) as refused:
            session_lock.unlock(database.uow(), supervisor, "999999", now=now)
        assert refused.value.attempts_left == 5 - attempt
    with pytest.raises(UnlockRefused, match="locked until 09:10 UTC") as refused:
        session_lock.unlock(database.uow(), supervisor, "999999", now=now)
    assert refused.value.locked_until == now + timedelta(minutes=10)
    with pytest.raises(UnlockRefused, match="locked until"):
        session_lock.unlock(database.uow(), supervisor, PIN, now=now + timedelta(minutes=9))
    # The sign-in is refused as well while the lockout lasts (real time).
    with database.uow() as uow:
        uow.staff.by_username(supervisor.username).pin_locked_until = (
            session_lock.utcnow() + timedelta(minutes=10)
        )
        uow.commit()
    with pytest.raises(AccessRefused, match="too many wrong PINs"):
        staff.sign_in(database.uow(), supervisor.username, "local")
    with database.uow() as uow:
        uow.staff.by_username(supervisor.username).pin_locked_until = now + timedelta(minutes=10)
        uow.commit()
    session_lock.unlock(database.uow(), supervisor, PIN, now=now + timedelta(minutes=10))
    outcomes = [(a, o) for a, o, _ in audit_tail(database, 8)]
    assert outcomes == [("session.unlock", "denied")] * 5 + [
        ("session.unlock", "refused"),
        ("session.start", "refused"),
        ("session.unlock", "success"),
    ]
    row = staff_row(database, supervisor.username)
    assert (row.failed_pin_attempts, row.pin_locked_until) == (0, None)


def test_with_no_pin_set_the_lock_says_how_to_set_one(database, supervisor):
    with pytest.raises(UnlockRefused, match="controlroom staff set-pin"):
        session_lock.unlock(database.uow(), supervisor, PIN, now=SEED_ANCHOR)
    assert audit_tail(database, 1) == [("session.unlock", "refused", "no PIN set")]


# --- controlroom staff set-pin -----------------------------------------------------------


@pytest.fixture
def cli_database(database, monkeypatch, tmp_path):
    """The empty test database with the OS user enrolled as a supervisor."""
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    if process_account() == TEST_ADMIN:
        pytest.skip("the OS user is the test administrator")
    staff_actor(database, Role.SUPERVISOR, process_account())
    return database


def test_set_pin_prompts_twice_and_never_takes_the_pin_as_an_argument(
    cli_database, capsys, monkeypatch
):
    answers = [PIN, PIN]
    prompts = []
    monkeypatch.setattr(
        getpass, "getpass", lambda prompt="": prompts.append(prompt) or answers.pop(0)
    )
    result = run_cli(capsys, "staff", "set-pin", "--database-url", cli_database.url)
    assert result.code == 0, result.err
    assert prompts == [
        f"New PIN for {process_account()} (4 to 12 digits): ",
        "The same PIN again: ",
    ]
    assert PIN not in result.out + result.err
    assert staff_row(cli_database, process_account()).pin_hash.startswith("$argon2id$")
    # A PIN on the command line is not an option: argparse refuses the extra argument.
    refused = run_cli(
        capsys, "staff", "set-pin", "someone", PIN, "--database-url", cli_database.url
    )
    assert refused.code == 2


def test_set_pin_with_two_different_pins_changes_nothing(cli_database, capsys, monkeypatch):
    answers = [PIN, "573920"]
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": answers.pop(0))
    result = run_cli(capsys, "staff", "set-pin", "--database-url", cli_database.url)
    assert result.code == 2 and "differ" in result.err
    assert staff_row(cli_database, process_account()).pin_hash is None


# --- local files -------------------------------------------------------------------------


def test_drafts_are_private_to_each_operator(tmp_path):
    old = os.umask(0o022)
    try:
        first = draft_journal(tmp_path, "call.handler.one")
        second = draft_journal(tmp_path, "call.handler.two")
        first.save({"caller_name": "One"})
        second.save({"caller_name": "Two"})
    finally:
        os.umask(old)
    assert first.path != second.path and first.path.parent == second.path.parent
    assert (first.load(), second.load()) == ({"caller_name": "One"}, {"caller_name": "Two"})
    for path in (first.path, second.path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.path.parent.stat().st_mode) == 0o700


# --- a dropped connection ----------------------------------------------------------------


@pytest.mark.skipif(
    postgres_url() is not None, reason="a real process on the embedded SQLite station database"
)
@pytest.mark.parametrize(
    ("signal_number", "status"),
    [(signal.SIGHUP, 129), (signal.SIGTERM, 143)],
    ids=["SIGHUP-dropped-connection", "SIGTERM-told-to-stop"],
)
def test_a_dropped_connection_ends_the_session_and_keeps_the_draft(tmp_path, signal_number, status):
    """SIGHUP (sshd, when the connection drops) and SIGTERM (a shutdown, `kill`) both
    write the draft as typed and end the session on the record."""
    url = station_database(tmp_path / "station.sqlite")
    env = station_env(tmp_path)
    session = TerminalSession([sys.executable, "-m", "controlroom", "--database-url", url], env)
    try:
        session.wait_for("Open incidents:")
        session.send("f2")
        session.wait_for("Narrative")
        # No pause after typing: the form's 2-second draft timer has not fired yet, so
        # the draft must come from the hang-up itself.
        typed_at = time.monotonic()
        session.type("Hangup Caller")
        session.wait_for("Hangup Caller")  # on the screen: in the form
        if time.monotonic() - typed_at < 1.5:  # (a loaded machine may be slower)
            assert draft_paths(tmp_path, process_account()) == []
        os.kill(session.pid, signal_number)
        ended = session.wait(20)
    finally:
        session.close()
    assert ended == status  # ended by the app on the signal (128 + its number), not killed
    [draft_path] = draft_paths(tmp_path, process_account())
    draft = json.loads(draft_path.read_text())
    assert draft["caller_name"] == "Hangup Caller"
    assert stat.S_IMODE(draft_path.stat().st_mode) == 0o600
    database = Database(url)
    try:
        with database.uow() as uow:
            actions = [
                (e.actor, e.action)
                for e in uow.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            ]
    finally:
        database.dispose()
    assert actions[-1] == (process_account(), "session.end")
