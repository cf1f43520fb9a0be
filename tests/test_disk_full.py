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
