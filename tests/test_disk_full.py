"""An SQLite database whose disk is full (issue 13, "Must show": "its disk full → offline
capture as above"): a save that meets SQLite's "database or disk is full" (SQLITE_FULL)
goes to the station's offline journal as for a read-only file, every screen says why,
and what was kept goes in once there is room again.

The disk is made full by SQLite itself: the file's `max_page_count` is set, on every
connection the app takes from its pool, to the pages the file has (after a VACUUM has
packed them), so the next write that needs a page fails with SQLITE_FULL exactly as on
a full disk; raising it is the room coming back. No mock: the real file, the real
driver's error.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from textual.widgets import TextArea

from controlroom.data.engine import INTERACTIVE, is_disk_full, marked_full
from controlroom.data.models import Incident
from controlroom.data.uow import Database
from controlroom.domain.availability import DatabaseState
from controlroom.domain.roles import Role
from controlroom.screens.home_board import HomeBoard
from controlroom.services import availability
from tests.apps import build_app, screen_text, settle, until
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor
from tests.test_outage import SIZE, _fill, _no_raw_error, told, words

pytestmark = pytest.mark.skipif(
    os.environ.get("CONTROLROOM_TEST_DATABASE_URL") is not None, reason="an SQLite file"
)
NARRATIVE = "Caller reports a break-in at the rear of the premises. " * 100
ROOM = 1_000_000  # pages: room enough
FULL = 1  # below the file's size: SQLite takes it as "the pages it has now"


class Disk:
    """The file's room, as every pooled connection of `database` sees it at checkout."""

    def __init__(self, database: Database) -> None:
        self.pages = ROOM

        @event.listens_for(database.engine, "checkout")
        def _limit(dbapi_connection, connection_record, proxy) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count={int(self.pages)}")


@pytest.fixture
def full_disk(databases, tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    url = databases.create(folder)
    packed = sqlite3.connect(folder / "test.sqlite")  # no free page left to reuse
    packed.execute("VACUUM")
    packed.close()
    database = Database(url, waits=INTERACTIVE)
    disk = Disk(database)
    yield database, disk
    database.dispose()


def _write(database: Database) -> None:
    """A write that needs new pages (a save's size, and more)."""
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (b BLOB)"))
        connection.execute(text("INSERT INTO filler VALUES (zeroblob(200000))"))


def test_a_full_disk_is_found_by_its_code_and_said_until_there_is_room(full_disk):
    """The probe says DISK_FULL after a write met SQLITE_FULL, and ANSWERING once a real
    write of a save's size fits again (and not before)."""
    database, disk = full_disk
    assert availability.probe(database.uow()) is DatabaseState.ANSWERING
    disk.pages = FULL
    with pytest.raises(Exception) as raised:
        _write(database)
    assert is_disk_full(raised.value)  # SQLite's own SQLITE_FULL, by its code
    assert marked_full(database.engine)
    assert availability.probe(database.uow()) is DatabaseState.DISK_FULL
    assert availability.probe(database.uow()) is DatabaseState.DISK_FULL  # still no room
    disk.pages = ROOM
    assert availability.probe(database.uow()) is DatabaseState.ANSWERING
    assert not marked_full(database.engine)
    _write(database)  # and a write really fits


def test_other_errors_are_not_a_full_disk(full_disk):
    database, _ = full_disk
    with pytest.raises(Exception) as raised:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))
    assert not is_disk_full(raised.value)
    assert not marked_full(database.engine)


async def test_a_call_saved_on_a_full_disk_is_kept_offline_and_goes_in_with_room(
    full_disk, tmp_path
):
    """ctrl+s on a full disk: the save meets SQLITE_FULL and the call is kept on the
    station (OFFLINE — SAVED ON THIS STATION); the frame says DATABASE DISK FULL; room
    back, the call goes in by itself, once, and the frame clears."""
    database, disk = full_disk
    username = staff_actor(database, Role.SUPERVISOR).username
    app = build_app(database, tmp_path / "data", username=username)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await _fill(pilot, "Full Disk Caller")
        # An account longer than a page (as a real one may be): its save needs new pages.
        app.screen.query_one("#narrative", TextArea).text = NARRATIVE
        disk.pages = FULL
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "OFFLINE — SAVED ON THIS STATION as OFF-" in told(app))
        assert isinstance(app.screen, HomeBoard)
        await until(pilot, lambda: "DATABASE DISK FULL since 09:00" in screen_text(app))
        text_now = words(app)
        assert "kept on this station (OFFLINE)" in text_now
        _no_raw_error(text_now)
        disk.pages = ROOM
        await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
        await until(pilot, lambda: "DISK FULL" not in screen_text(app))
    with database.uow() as uow:
        kept = uow.session.scalars(
            select(Incident).where(Incident.caller_name == "Full Disk Caller")
        ).all()
        assert len(kept) == 1
        assert kept[0].narrative == NARRATIVE.strip()  # nothing typed lost


async def test_a_note_on_a_full_disk_is_kept_offline_and_lands_once_with_room(full_disk, tmp_path):
    """On an incident on screen: a note whose save meets SQLITE_FULL is kept on the
    station; the frame then says DISK FULL and a status change goes straight to the
    journal; room back, both land once, in order."""
    from controlroom.services import incidents

    database, disk = full_disk
    actor = staff_actor(database, Role.SUPERVISOR)
    saved = incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident("note-full-1", "NOISE", "3 Mill Lane, Leeds LS6 2AB"),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path / "data", username=actor.username)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_incident(saved.reference)
        await until(pilot, lambda: saved.reference in screen_text(app))
        disk.pages = FULL
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one(TextArea).text = NARRATIVE  # longer than a page
        await pilot.press("ctrl+s")
        await until(pilot, lambda: told(app).count("OFFLINE — SAVED ON THIS STATION") == 1)
        await until(pilot, lambda: "DATABASE DISK FULL since 09:00" in screen_text(app))
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("d")
        await until(pilot, lambda: told(app).count("OFFLINE — SAVED ON THIS STATION") == 2)
        disk.pages = ROOM
        await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
    detail = incidents.view_incident(database.uow(), actor, saved.reference, today=SEED_ANCHOR)
    notes = [e for e in detail.log if e.text == NARRATIVE.strip()]
    assert len(notes) == 1
    assert detail.status == "dispatched"
    assert [e.kind for e in detail.log][-2:] == ["note", "status_change"]


# --- a disk so full SQLite cannot open the file (a real filesystem, full) ------------------


@pytest.fixture
def full_filesystem(tmp_path):
    """A 4 MiB tmpfs of this test's own (root only), unmounted after."""
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill_up(path) -> None:
    """Every free byte of the filesystem taken by one file."""
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


async def test_a_station_started_on_a_full_disk_takes_calls_from_its_cache(
    databases, tmp_path, full_filesystem
):
    """The database's filesystem so full that SQLite cannot even open the file (its
    -shm cannot be made: a disk I/O error, not SQLITE_FULL): the app, opening its
    database as the CLI does, signs the operator in from the station's cache and keeps
    a call on the station; space freed, the database opens and the call goes in once."""
    import shutil

    from controlroom.app import make_app
    from controlroom.config import load_settings
    from controlroom.data.opening import DeferredDatabase
    from controlroom.services import offline
    from controlroom.services.session import open_session

    source = Path(databases.create(tmp_path).removeprefix("sqlite+pysqlite:///"))
    target = full_filesystem / "station.sqlite"
    shutil.copyfile(source, target)
    url = f"sqlite+pysqlite:///{target}"
    data = tmp_path / "data"
    first = Database(url)
    actor = staff_actor(first, Role.SUPERVISOR)
    offline.cache_identity(data, open_session(first.uow, actor.username, "local"))
    offline.incident_types_or_cached(first.uow, data)
    first.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    _fill_up(full_filesystem / "filler")
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(data), "XDG_CONFIG_HOME": str(data)}
    )
    database = DeferredDatabase(
        url, create=False, upgrade_command="controlroom db upgrade", interactive=True
    )
    app = make_app(
        settings, database.uow, actor.username, terminal="local", clock=lambda: SEED_ANCHOR
    )
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(pilot, lambda: "DATABASE NOT ANSWERING" in screen_text(app), 8.0)
            assert "STATION'S CACHE" in told(app)
            await pilot.press("f2")
            await settle(pilot)
            await _fill(pilot, "Full Start Caller")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "OFFLINE — SAVED ON THIS STATION as OFF-" in told(app))
            (full_filesystem / "filler").unlink()
            await until(pilot, lambda: "now in the database" in told(app), timeout=10.0)
    finally:
        database.dispose()
    check = Database(url)
    try:
        with check.uow() as uow:
            callers = uow.session.scalars(select(Incident.caller_name)).all()
        assert callers.count("Full Start Caller") == 1
    finally:
        check.dispose()
