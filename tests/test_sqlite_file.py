"""The embedded SQLite file is the whole security boundary (issue 16, item 4): it is made
readable and writable by its owner only, and a production file other accounts can read
is said out loud, by every command and by the app."""

from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest

from controlroom.app import make_app
from controlroom.config import load_settings, sqlite_url
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from tests.apps import settle
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import postgres_url
from tests.factories import staff_actor

pytestmark = pytest.mark.skipif(
    postgres_url() is not None, reason="an SQLite file's mode: backend-independent"
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The usual umask (022), under which SQLite made the file 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_a_new_database_file_is_private(monkeypatch, tmp_path, capsys, open_umask):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    path = tmp_path / "new" / "controlroom.sqlite"
    result = run_cli(capsys, "db", "upgrade", "--database-url", sqlite_url(path))
    assert result.code == 0, result.err
    assert mode(path) == 0o600
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            assert mode(side) & 0o077 == 0


def test_a_production_file_others_can_read_is_warned_about(monkeypatch, tmp_path, capsys):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    path = tmp_path / "prod.sqlite"
    url = sqlite_url(path)
    assert run_cli(capsys, "db", "upgrade", "--database-url", url).code == 0
    quiet = run_cli(capsys, "staff", "list", "--database-url", url)
    assert quiet.code == 0 and "WARNING" not in quiet.err
    path.chmod(0o644)
    warned = run_cli(capsys, "staff", "list", "--database-url", url)
    assert warned.code == 0
    assert f"WARNING: {path} can be read or changed by other accounts" in warned.err
    assert "mode 0644" in warned.err and "PostgreSQL" in warned.err


async def test_the_app_warns_on_signing_in_to_an_exposed_production_file(
    monkeypatch, tmp_path, capsys
):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    path = tmp_path / "prod.sqlite"
    url = sqlite_url(path)
    assert run_cli(capsys, "db", "upgrade", "--database-url", url).code == 0
    database = Database(url)
    staff_actor(database, Role.SUPERVISOR, "file.super")
    path.chmod(0o640)
    settings = replace(
        load_settings(environ={"CONTROLROOM_DATA_DIR": str(tmp_path)}), database_url=url
    )
    app = make_app(settings, database.uow, "file.super", term="xterm-256color")
    try:
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            said = [n.message for n in app._notifications]
            assert any("can be read or changed by other accounts" in m for m in said), said
    finally:
        database.dispose()
