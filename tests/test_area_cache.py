"""The station's cache of its area's gazetteer and of the warnings last seen (issue 13,
item 2), read from a real database and kept in real files (services/area_cache.py)."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event

from controlroom.data.engine import INTERACTIVE
from controlroom.data.models import Staff
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from controlroom.services import area_cache, locations
from tests.apps import build_app, burst, screen_text, settle, until
from tests.databases import SEED_ANCHOR, TEST_ADMIN
from tests.factories import add_incident, add_location, add_marker, add_person, staff_actor
from tests.test_outage import SIZE, _make_unwritable, _make_writable, words

STATION = "Leeds North"


def _area(database):
    """LS6 is the station's area (an incident its staff opened there); LS7 is not."""
    staff_actor(database, Role.CALL_HANDLER)
    mill = add_location(database, "12 Mill Lane", hazards=("DOG ON PREMISES",))
    add_location(database, "14 Mill Lane")
    add_location(database, "3 Cardigan Road", street="Cardigan Road", postcode="LS6 1QT")
    away = add_location(database, "9 Chapel Street", street="Chapel Street", postcode="LS7 3AA")
    add_incident(database, location_id=mill, location_text="12 Mill Lane")
    add_incident(database, location_id=away, age=timedelta(days=400))  # too long ago
    with database.uow() as uow:
        for name in (TEST_ADMIN, "test.call_handler"):
            uow.staff.by_username(name).station = STATION
        uow.commit()
    return mill


def _cache(database, tmp_path, cap=area_cache.GAZETTEER_CAP) -> int:
    actor = staff_actor(database, Role.CALL_HANDLER)
    with database.uow() as uow:
        station = uow.session.get(Staff, actor.staff_id).station
    return area_cache.cache_area(
        database.uow, tmp_path, actor.username, actor.staff_id, station, SEED_ANCHOR, cap
    )


def test_the_gazetteer_of_the_station_area_is_kept_private_and_bounded(database, tmp_path):
    staff_actor(database, Role.CALL_HANDLER)
    _area(database)
    assert _cache(database, tmp_path) == 3  # LS6's three places, not LS7's
    path = area_cache.area_path(tmp_path, "test.call_handler")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = area_cache.match_cached(tmp_path, "test.call_handler", "12 mill")
    assert found is not None and found.as_of == SEED_ANCHOR
    assert [m.address for m in found.matches] == ["12 Mill Lane"]
    assert [
        m.address for m in area_cache.match_cached(tmp_path, "test.call_handler", "LS6 1").matches
    ] == ["3 Cardigan Road"]
    assert area_cache.match_cached(tmp_path, "test.call_handler", "chapel").matches == []
    assert _cache(database, tmp_path, cap=2) == 2  # the cap holds
    assert area_cache.match_cached(tmp_path, "nobody", "mill") is None  # no cache: None


def test_warnings_last_seen_come_back_as_they_were_with_when(database, tmp_path):
    supervisor = staff_actor(database, Role.SUPERVISOR)
    staff_actor(database, Role.CALL_HANDLER)
    mill = _area(database)
    person = add_person(database, "Dana", "Rowe", home=mill)
    add_marker(database, person, "VIOLENT")
    context = locations.location_context(database.uow(), supervisor, mill, SEED_ANCHOR)
    area_cache.remember_seen(tmp_path, "test.call_handler", context, SEED_ANCHOR)
    kept = area_cache.cached_context(tmp_path, "test.call_handler", mill)
    assert kept is not None and kept.seen and kept.as_of == SEED_ANCHOR
    assert kept.context == context  # hazards, history, people and their markers
    path = area_cache.seen_path(tmp_path, "test.call_handler")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Never picked while the database answered: the gazetteer's hazards alone.
    _cache(database, tmp_path)
    other = area_cache.match_cached(tmp_path, "test.call_handler", "14 mill").matches[0]
    hazards_only = area_cache.cached_context(tmp_path, "test.call_handler", other.id)
    assert hazards_only is not None and not hazards_only.seen
    assert area_cache.cached_context(tmp_path, "test.call_handler", 999_999) is None


def test_the_warnings_last_seen_keep_only_the_newest(database, tmp_path, monkeypatch):
    supervisor = staff_actor(database, Role.SUPERVISOR)
    mill = _area(database)
    context = locations.location_context(database.uow(), supervisor, mill, SEED_ANCHOR)
    monkeypatch.setattr(area_cache, "SEEN_CAP", 3)

    for n in range(5):
        moved = replace(context, location=replace(context.location, id=1000 + n))
        area_cache.remember_seen(tmp_path, "u", moved, SEED_ANCHOR + timedelta(minutes=n))
    kept = [n for n in range(5) if area_cache.cached_context(tmp_path, "u", 1000 + n)]
    assert kept == [2, 3, 4]


# --- on screen ---------------------------------------------------------------------------


def status(app) -> str:
    """The location field's status line, unwrapped."""
    return " ".join(str(app.screen.query_one("#location-status").content).split())


@pytest.mark.skipif(
    os.environ.get("CONTROLROOM_TEST_DATABASE_URL") is not None, reason="an SQLite file"
)
async def test_offline_the_form_offers_cached_addresses_and_warnings_as_last_seen(
    databases, tmp_path
):
    """Signed in while the database answers, the station keeps its area; a place picked
    then keeps its warnings. The database file made unwritable (saves kept offline):
    the form offers the cached addresses, saying so and how old, and shows the place's
    warnings as last seen, saying when; the read is audited into the journal."""
    folder = tmp_path / "db"
    folder.mkdir()
    database = Database(databases.create(folder), waits=INTERACTIVE)
    mill = _area(database)
    add_marker(database, add_person(database, "Dana", "Rowe", home=mill), "VIOLENT")
    path = folder / "test.sqlite"
    now = [SEED_ANCHOR]
    app = build_app(database, tmp_path / "data", username="test.call_handler")
    app.clock = lambda: now[0]
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            area = area_cache.area_path(tmp_path / "data", "test.call_handler")
            await until(pilot, area.exists)
            await pilot.press("f2")
            await settle(pilot)
            await burst(pilot, "alt+l", *"12 Mill")
            await until(pilot, lambda: "12 Mill Lane, Leeds" in screen_text(app))
            await pilot.press("enter")  # picked while the database answers: seen
            await until(pilot, lambda: "VIOLENT" in screen_text(app))
            await settle(pilot)
            await pilot.press("escape", "y")
            await settle(pilot)
            _make_unwritable(path)
            now[0] = SEED_ANCHOR + timedelta(hours=2)
            await until(pilot, lambda: "DATABASE READ-ONLY" in screen_text(app))
            await pilot.press("f2")
            await settle(pilot)
            await burst(pilot, "alt+l", *"12 Mill")
            await until(pilot, lambda: "from this station's cache, 2 h 0 min old" in status(app))
            await pilot.press("enter")
            await until(pilot, lambda: "AS LAST SEEN 26/11 09:00" in screen_text(app))
            text_now = words(app)
            assert "VIOLENT" in text_now and "DOG ON PREMISES" in text_now
            assert status(app) == "✓ known address (from this station's cache, 2 h 0 min old)"
            await settle(pilot)
            events = app._offline_journal.events(after=0)
            assert any(
                e.action == "location.context" and "station's cache" in (e.detail or "")
                for e in events
            )
    finally:
        _make_writable(path)
        database.dispose()


def test_a_cache_age_reads_in_words():
    from controlroom.domain.availability import cache_age

    said = [cache_age(SEED_ANCHOR, SEED_ANCHOR + timedelta(minutes=m)) for m in (0, 25, 125, 3000)]
    assert said == ["under a minute", "25 min", "2 h 5 min", "2 days"]


def test_the_area_read_leaves_no_connection_holding_its_pages(database, tmp_path):
    # Issue 15: on SQLite the read filled a pooled connection's page cache (2.3 MiB on
    # the demo force), which every operator's process then kept for the session. It
    # reads with a small cache, on a connection closed when it is done.
    if database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache is in the process; PostgreSQL's is the server's")
    _area(database)
    closed = []

    def note(dbapi_connection) -> None:
        closed.append(dbapi_connection)

    event.listen(database.engine, "close_detached", note)
    try:
        assert _cache(database, tmp_path) == 3
    finally:
        event.remove(database.engine, "close_detached", note)
    assert len(closed) == 1  # not back in the pool with its pages: closed
    with database.uow() as uow:  # the next unit of work has a connection as before
        assert uow.staff.by_username("test.call_handler") is not None


def test_the_area_read_keeps_none_of_its_statements_compiled(database, tmp_path):
    # Issue 15: read once per sign-in, its four statements stayed compiled in the
    # engine's cache for the session (about 250 KiB of every operator's memory).
    _area(database)
    actor = staff_actor(database, Role.CALL_HANDLER)
    caching: list[object] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if context is not None and context.compiled is not None:
            caching.append(context.cache_hit)

    event.listen(database.engine, "before_cursor_execute", note)
    try:
        kept = area_cache.cache_area(
            database.uow, tmp_path, actor.username, actor.staff_id, STATION, SEED_ANCHOR
        )
    finally:
        event.remove(database.engine, "before_cursor_execute", note)
    assert kept == 3
    disabled = database.engine.dialect.CACHING_DISABLED
    assert caching and all(hit is disabled for hit in caching)


def test_the_area_is_read_a_hundred_places_at_a_time(database, tmp_path, monkeypatch):
    # Issue 15: each chunk of places read for the gazetteer grows the heap of every
    # operator's process for the session; 500 at a time cost 0.55 MiB of peak memory.
    from controlroom.data.repositories import LocationRepository

    _area(database)
    for number in range(150):
        add_location(database, f"{number + 20} Mill Lane")
    sizes: list[int] = []
    places = LocationRepository.places

    def counted(self, location_ids):
        sizes.append(len(location_ids))
        return places(self, location_ids)

    monkeypatch.setattr(LocationRepository, "places", counted)
    assert _cache(database, tmp_path) == 153
    assert sum(sizes) == 153 and max(sizes) <= 100
