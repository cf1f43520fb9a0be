"""street centres kept for the open-data returns

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 16:00:00

A month's data.police.uk files place each crime at the grid point of its street's
centre, the mean of every located address on that street. A force's month names some
18,000 streets, and averaging their addresses (about 370,000 of half a million on the
large seed) was the largest read of the returns. Now `street_centroid` keeps, per
(street, town), how many located addresses there are and the sums of their latitudes
and longitudes, in whole ten-millionths of a degree, so that the kept row equals a
recount in any order. It is kept as locations are written
(`controlroom.data.street_centroids`), and filled here from the addresses by the same
rule, written out again (migrations do not import the program): an address counts when
it has a street and both coordinates; a missing town is kept as "".
`ix_location_street_centroid` (0021), which the averages were read from, goes: no read
uses it now, and every address written paid for it. Downgrade drops the table and makes
the index again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = 10_000_000  # whole ten-millionths of a degree
BATCH = 10_000
CENTROIDS = "ix_location_street_centroid"
CENTROID_COLUMNS = ["street", "town", "id", "latitude", "longitude"]


def upgrade() -> None:
    op.create_table(
        "street_centroid",
        sa.Column("street", sa.String(length=120), nullable=False),
        sa.Column("town", sa.String(length=80), nullable=False),
        sa.Column("addresses", sa.Integer(), nullable=False),
        sa.Column("latitude_sum", sa.BigInteger(), nullable=False),
        sa.Column("longitude_sum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("street", "town", name=op.f("pk_street_centroid")),
        sqlite_with_rowid=False,  # the row in its key's b-tree: one search to place a crime
    )
    bind = op.get_bind()
    location = sa.table(
        "location",
        sa.column("street", sa.String()),
        sa.column("town", sa.String()),
        sa.column("latitude", sa.Float()),
        sa.column("longitude", sa.Float()),
    )
    sums: dict[tuple[str, str], list[int]] = {}
    for street, town, latitude, longitude in bind.execute(
        sa.select(location.c.street, location.c.town, location.c.latitude, location.c.longitude)
        .where(
            location.c.street.is_not(None),
            location.c.street != "",
            location.c.latitude.is_not(None),
            location.c.longitude.is_not(None),
        )
        .execution_options(yield_per=BATCH)
    ):
        kept = sums.setdefault((street, town or ""), [0, 0, 0])
        kept[0] += 1
        kept[1] += round(latitude * UNITS)
        kept[2] += round(longitude * UNITS)
    rows = [
        {
            "street": street,
            "town": town,
            "addresses": n,
            "latitude_sum": latitude,
            "longitude_sum": longitude,
        }
        for (street, town), (n, latitude, longitude) in sorted(sums.items())
    ]
    table = sa.table(
        "street_centroid",
        sa.column("street", sa.String()),
        sa.column("town", sa.String()),
        *(sa.column(name, sa.BigInteger()) for name in ("addresses", "latitude_sum")),
        sa.column("longitude_sum", sa.BigInteger()),
    )
    for start in range(0, len(rows), BATCH):
        bind.execute(sa.insert(table), rows[start : start + BATCH])
    op.drop_index(CENTROIDS, table_name="location")


def downgrade() -> None:
    op.create_index(CENTROIDS, "location", CENTROID_COLUMNS)
    op.drop_table("street_centroid")
