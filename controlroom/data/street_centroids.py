"""The street centres the open-data returns place crimes at (`StreetCentroid`), kept in
the same transaction as every location written.

A month's returns name some 18,000 streets on a force's database; averaging each one's
addresses (some 370,000 index entries) on every making was the largest read of the
returns. Per (street, town) the number of located addresses and the sums of their
coordinates are kept instead, in whole ten-millionths of a degree (`UNITS`, about a
centimetre), so that adding and taking away in any order gives exactly what summing the
addresses again gives. An address counts when it has a street and both coordinates; an
address with no town counts under the town "".

Every location the ORM writes is counted at its flush (inserted, changed, deleted; the
values before from `active_history` on the columns read). The bulk writers call
`count_inserted_locations` with the rows they inserted (`db copy`, the legacy import)
or `rebuild` after them (the synthetic force).
Streets are visited in order, so two transactions never wait on each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, event, func, insert, select
from sqlalchemy.orm import Session

from controlroom.data.crime_counts import dialect_insert, values_before, values_now
from controlroom.data.models import Location

UNITS = 10_000_000  # whole ten-millionths of a degree (migration 0023 fills by the same)
_COLUMNS = ("street", "town", "latitude", "longitude")
BATCH = 10_000

Key = tuple[str, str]


def counted(values: dict) -> tuple[Key, int, int] | None:
    """Where an address (its `_COLUMNS`) counts: ((street, town), latitude and longitude
    in `UNITS`); None for one without a street or a point."""
    street, latitude, longitude = values["street"], values["latitude"], values["longitude"]
    if not street or latitude is None or longitude is None:
        return None
    return (street, values["town"] or ""), round(latitude * UNITS), round(longitude * UNITS)


def centre(addresses: int, latitude_sum: int, longitude_sum: int) -> tuple[float, float] | None:
    """A kept row's centre as (latitude, longitude) in degrees; None with no address."""
    if not addresses:
        return None
    return latitude_sum / addresses / UNITS, longitude_sum / addresses / UNITS


def placed(rows, street_at: int):
    """`rows` with their last four cells (street, addresses, latitude and longitude sums
    of a kept street joined by `street_on`) made two: the street and its centre (None
    where the street has no located address). Each distinct centre worked out once."""
    centres: dict[tuple, tuple[float, float] | None] = {}
    for row in rows:
        sums = row[street_at + 1 :]
        found = centres.get(sums, False)
        if found is False:
            found = centres[sums] = None if sums[0] is None else centre(*sums)
        yield (*row[:street_at], row[street_at], found)


def street_on(location):
    """The join of a location (an alias, or `Location`) to its kept street."""
    from controlroom.data.cold_models import StreetCentroid

    return and_(
        StreetCentroid.street == location.street,
        StreetCentroid.town == func.coalesce(location.town, ""),
    )


def centre_columns() -> tuple:
    """A kept street's sums, to read with `placed` (a cold model: mapped when asked)."""
    from controlroom.data.cold_models import StreetCentroid

    return (
        StreetCentroid.addresses,
        StreetCentroid.latitude_sum,
        StreetCentroid.longitude_sum,
    )


class StreetChanges:
    """What a flush (or a bulk write) adds to or takes from the kept streets."""

    def __init__(self) -> None:
        self.streets: dict[Key, list[int]] = {}

    def address(self, values: dict, sign: int) -> None:
        found = counted(values)
        if found is not None:
            key, latitude, longitude = found
            kept = self.streets.setdefault(key, [0, 0, 0])
            kept[0] += sign
            kept[1] += sign * latitude
            kept[2] += sign * longitude

    def rows(self) -> list[dict]:
        """The kept rows' columns (changes, or whole sums), streets in order."""
        return [
            {
                "street": street,
                "town": town,
                "addresses": n,
                "latitude_sum": latitude,
                "longitude_sum": longitude,
            }
            for (street, town), (n, latitude, longitude) in sorted(self.streets.items())
        ]

    def apply(self, connection) -> None:
        """Add the changes to their rows (made where missing), streets in order."""
        rows = [
            row
            for row in self.rows()
            if row["addresses"] or row["latitude_sum"] or row["longitude_sum"]
        ]
        adder = _adder(connection.dialect.name)
        for start in range(0, len(rows), BATCH):
            connection.execute(adder, rows[start : start + BATCH])


_ADDERS: dict[str, object] = {}


def _adder(dialect: str):
    """The upsert for `dialect`, built once: `INSERT … ON CONFLICT DO UPDATE` adding the
    change to the row already there."""
    from controlroom.data.cold_models import StreetCentroid

    if dialect not in _ADDERS:
        statement = dialect_insert(dialect)(StreetCentroid)
        _ADDERS[dialect] = statement.on_conflict_do_update(
            index_elements=["street", "town"],
            set_={
                name: getattr(StreetCentroid, name) + getattr(statement.excluded, name)
                for name in ("addresses", "latitude_sum", "longitude_sum")
            },
        )
    return _ADDERS[dialect]


def count_inserted_locations(connection, rows: Iterable[dict]) -> None:
    """Count locations inserted past the ORM (each row's `Location` columns, as
    inserted) into the kept streets."""
    changes = StreetChanges()
    for row in rows:
        changes.address({name: row.get(name) for name in _COLUMNS}, 1)
    changes.apply(connection)


def rebuild(connection) -> None:
    """Sum every street again from the addresses themselves (after a bulk write the ORM
    did not see): the kept rows made equal to the recount."""
    from controlroom.data.cold_models import StreetCentroid

    connection.execute(delete(StreetCentroid))
    changes = StreetChanges()
    for street, town, latitude, longitude in connection.execute(
        select(Location.street, Location.town, Location.latitude, Location.longitude)
        .where(
            Location.street.is_not(None),
            Location.latitude.is_not(None),
            Location.longitude.is_not(None),
        )
        .execution_options(yield_per=BATCH)
    ):
        changes.address(
            {"street": street, "town": town, "latitude": latitude, "longitude": longitude}, 1
        )
    rows = changes.rows()
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(StreetCentroid), rows[start : start + BATCH])


@event.listens_for(Session, "after_flush")
def _keep_street_centroids(session: Session, flush_context) -> None:
    """Count the locations this flush wrote into the kept streets (their rows are
    written, in the same transaction; the session still holds their history)."""
    changes = StreetChanges()
    for target in session.new:
        if isinstance(target, Location):
            changes.address(values_now(target, _COLUMNS), 1)
    for target in session.dirty:
        if isinstance(target, Location):
            before = values_before(target, _COLUMNS)
            if before is not None:
                changes.address(before, -1)
                changes.address(values_now(target, _COLUMNS), 1)
    for target in session.deleted:
        if isinstance(target, Location):
            changes.address(values_before(target, _COLUMNS) or values_now(target, _COLUMNS), -1)
    if changes.streets:
        changes.apply(session.connection())
