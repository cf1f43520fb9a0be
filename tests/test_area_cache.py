"""The station's cache of its area's gazetteer and of the warnings last seen (issue 13,
item 2), read from a real database and kept in real files (services/area_cache.py)."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import timedelta

from controlroom.data.models import Staff
from controlroom.domain.roles import Role
from controlroom.services import area_cache, locations
from tests.databases import SEED_ANCHOR, TEST_ADMIN
from tests.factories import add_incident, add_location, add_marker, add_person, staff_actor

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
