"""The street centres kept for the open-data returns (migration 0023,
`data.street_centroids`), on both backends: after every kind of location write they
equal summing the addresses again, the migration and a rebuild fill them in as the
writes keep them, and the month's return places each crime at its street's kept
centre, moved when an address is added."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select

from controlroom.data.cold_models import StreetCentroid
from controlroom.data.models import Location
from controlroom.data.street_centroids import centre
from controlroom.domain import open_data
from controlroom.domain.roles import Role
from controlroom.services.open_data import export_month
from tests.factories import add_location, staff_actor

UNITS = 10_000_000  # written out again: the test does not borrow the rule it checks


def _kept(database) -> dict[tuple[str, str], tuple[int, int, int]]:
    with database.uow() as uow:
        return {
            (r.street, r.town): (r.addresses, r.latitude_sum, r.longitude_sum)
            for r in uow.session.scalars(select(StreetCentroid))
            if r.addresses or r.latitude_sum or r.longitude_sum
        }


def _summed_again(database) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Every located address with a street, summed from the rows themselves."""
    sums: dict[tuple[str, str], list[int]] = {}
    with database.uow() as uow:
        for street, town, latitude, longitude in uow.session.execute(
            select(Location.street, Location.town, Location.latitude, Location.longitude)
        ):
            if not street or latitude is None or longitude is None:
                continue
            kept = sums.setdefault((street, town or ""), [0, 0, 0])
            kept[0] += 1
            kept[1] += round(latitude * UNITS)
            kept[2] += round(longitude * UNITS)
    return {key: (n, a, b) for key, (n, a, b) in sums.items()}


def test_the_kept_centres_equal_the_sum_again_after_every_kind_of_write(database):
    first = add_location(database, "1 Wren Close", street="Wren Close", latitude=53.8216)
    add_location(database, "3 Wren Close", street="Wren Close", latitude=53.8218)
    add_location(database, "1 Wren Close", street="Wren Close", town=None, latitude=53.7)
    add_location(database, "Somewhere", street=None)  # no street: counts nowhere
    add_location(database, "2 Mill Lane", latitude=None, longitude=None)  # no point
    moved = add_location(database, "9 Mill Lane", latitude=53.9, longitude=-1.6)
    kept = _kept(database)
    assert kept == _summed_again(database)
    assert kept[("Wren Close", "Leeds")][0] == 2 and kept[("Wren Close", "")][0] == 1
    assert ("Mill Lane", "Leeds") in kept and kept[("Mill Lane", "Leeds")][0] == 1
    with database.uow() as uow:
        location = uow.locations.get(moved)
        location.latitude, location.street, location.town = 53.95, "Wren Close", None
        uow.locations.get(first).longitude = None  # loses its point: counted out
        uow.commit()
    kept = _kept(database)
    assert kept == _summed_again(database)
    assert ("Mill Lane", "Leeds") not in kept and kept[("Wren Close", "")][0] == 2
    assert kept[("Wren Close", "Leeds")][0] == 1
    with database.uow() as uow:
        uow.session.delete(uow.locations.get(moved))
        uow.commit()
    assert _kept(database) == _summed_again(database)


def test_a_bulk_write_counts_through_its_rows_or_a_rebuild(database):
    add_location(database, "1 Kept Row", street="Kept Row", latitude=53.81, longitude=-1.51)
    rows = [
        {
            "address": f"{n} Bulk Row",
            "street": "Bulk Row",
            "town": "Leeds",
            "latitude": 53.8 + n / 1000,
            "longitude": -1.5,
            "verified": True,
            "created_at": datetime(2026, 11, 1, tzinfo=UTC),
        }
        for n in range(1, 4)
    ]
    with database.uow() as uow:
        uow.session.execute(insert(Location.__table__), rows)  # past the ORM
        uow.commit()
    assert ("Bulk Row", "Leeds") not in _kept(database)
    with database.uow() as uow:
        uow.locations.rebuild_street_centroids()
        uow.commit()
    assert _kept(database) == _summed_again(database)
    assert _kept(database)[("Bulk Row", "Leeds")][0] == 3
    # A rebuild over kept rows that drifted gives the recount too (nothing added twice).
    with database.uow() as uow:
        uow.session.execute(delete(StreetCentroid).where(StreetCentroid.street == "Kept Row"))
        uow.locations.rebuild_street_centroids()
        uow.commit()
    assert _kept(database) == _summed_again(database)


def test_copied_locations_count_in_the_copy(databases, database, tmp_path):
    """`db copy` writes locations past the ORM and counts them as it goes."""
    from controlroom.data.uow import Database

    add_location(database, "4 Copied Way", street="Copied Way", latitude=53.83, longitude=-1.52)
    add_location(database, "6 Copied Way", street="Copied Way", latitude=53.84, longitude=-1.53)
    with database.uow() as uow:
        locations, _, _ = uow.copying.read_all()
    (tmp_path / "target").mkdir()
    target_url = databases.create(tmp_path / "target")
    target = Database(target_url)
    try:
        with target.uow() as uow:
            uow.copying.insert_copies(None, locations, [], [])
            uow.commit()
        assert _kept(target) == _summed_again(target)
        assert _kept(target)[("Copied Way", "Leeds")][0] == 2
    finally:
        target.dispose()
        databases.drop(target_url)


def test_the_migration_fills_them_in_as_the_writes_kept_them(database, database_url):
    from controlroom.data.engine import make_engine
    from tests.test_migration_round_trips import _Migrations

    for n, latitude in enumerate((53.81, 53.8125, 53.90003)):
        add_location(database, f"{n} Filled Road", street="Filled Road", latitude=latitude)
    add_location(database, "1 Other Road", street="Other Road", town=None, longitude=-1.7)
    kept = _kept(database)
    assert kept == _summed_again(database) and len(kept) == 2
    database.dispose()
    engine = make_engine(database_url)
    try:
        migrations = _Migrations()
        migrations.downgrade(engine, "0022")
        migrations.upgrade(engine, "head")
    finally:
        engine.dispose()
    assert _kept(database) == kept


def test_a_centre_is_the_mean_of_the_kept_sums():
    assert centre(0, 0, 0) is None
    assert centre(2, 2 * 538_200_000, -2 * 15_800_000) == pytest.approx((53.82, -1.58))


def test_the_return_places_a_crime_at_its_streets_kept_centre(database, supervisor):
    """A street's point in the return is the grid point of its addresses' kept centre,
    and moves when an address far along it is added (kept at that write)."""
    from tests.test_open_data import NOW, SALT, _save

    for n, latitude in enumerate((53.8101, 53.8109)):
        add_location(database, f"{n} Centre Street", street="Centre Street", latitude=latitude)
    place = add_location(database, "7 Centre Street", street="Centre Street", latitude=53.8105)
    handler = staff_actor(database, Role.CALL_HANDLER)
    _save(database, handler, "ASBP", location_id=place, location_text="7 Centre Street")
    analyst = staff_actor(database, Role.ANALYST)
    month = f"{NOW:%Y-%m}"

    def point():
        made = export_month(database.uow(), analyst, month, salt=SALT)
        (row,) = [r for r in made.rows if r.location == "On or near Centre Street"]
        return row.latitude, row.longitude

    assert point() == open_data.snap(53.8105, -1.58)
    add_location(database, "99 Centre Street", street="Centre Street", latitude=53.83)
    assert point() == open_data.snap((53.8101 + 53.8109 + 53.8105 + 53.83) / 4, -1.58)
