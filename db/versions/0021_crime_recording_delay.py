"""statistics and returns from indexes; the crime recording delay kept (issue 18)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:30:00

The integrity counts (of the crime-related incidents reported each month, those with a
crime recorded within 24 hours and within 7 days) found each incident's first crime by
grouping a year of crimes and joining them back, then did date arithmetic on every row:
0.7 s a time on a 500,000-incident seed, twice in every statistics screen's read.

- `incident.crime_recording_delay`: how long after the report a crime was first
  recorded — its first crime record (cancelled ones too) or its closing with a crime
  reference, whichever came first, as the counts always took it; kept by
  `crimes.record_crimes` and `incidents.close_incident`, filled in here;
- `ix_incident_crime_recording` (incident: opened, possible crime, opening and closing
  types, delay, sign-off): the counts read a year of incidents from the index alone,
  each window one comparison;
- `ix_location_street_centroid` (location: street, town, id, latitude, longitude): a
  month's returns place each crime at its street's mean point, which read every address
  on the month's streets (most of 500,000 on the large seed: 0.75 s) row by row; now
  from the index alone (0.17 s), in id order within each street as before, so the
  sums, and the files, are the same to the last bit.

Downgrade drops the indexes and the column (derived from `crime` and the closing: the
upgrade fills it in again, identically).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_incident_crime_recording"
CENTROIDS = "ix_location_street_centroid"
BATCH = 10_000


def upgrade() -> None:
    op.add_column("incident", sa.Column("crime_recording_delay", sa.Interval(), nullable=True))
    # Written out here (migrations do not import the models).
    incident = sa.table(
        "incident",
        sa.column("id", sa.Integer()),
        sa.column("opened_at", sa.DateTime(timezone=True)),
        sa.column("closed_at", sa.DateTime(timezone=True)),
        sa.column("crime_reference", sa.String()),
        sa.column("crime_recording_delay", sa.Interval()),
    )
    crime = sa.table(
        "crime",
        sa.column("incident_id", sa.Integer()),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
    )
    first = (
        sa.select(crime.c.incident_id, sa.func.min(crime.c.recorded_at).label("first_at"))
        .group_by(crime.c.incident_id)
        .subquery()
    )
    bind = op.get_bind()
    # The incidents with a crime or a crime reference; the delay worked out here (the
    # two backends' date arithmetic differs), exactly as `domain.crime.recording_delay`.
    rows = bind.execute(
        sa.select(
            incident.c.id,
            incident.c.opened_at,
            first.c.first_at,
            incident.c.closed_at,
            incident.c.crime_reference,
        )
        .outerjoin(first, first.c.incident_id == incident.c.id)
        .where(
            sa.or_(
                first.c.first_at.is_not(None),
                sa.and_(
                    incident.c.crime_reference.is_not(None),
                    incident.c.crime_reference != "",
                    incident.c.closed_at.is_not(None),
                ),
            )
        )
        .order_by(incident.c.id)
    ).all()
    update = (
        sa.update(incident)
        .where(incident.c.id == sa.bindparam("incident_id"))
        .values(crime_recording_delay=sa.bindparam("delay", type_=sa.Interval()))
    )
    changes = []
    for incident_id, opened_at, first_at, closed_at, crime_reference in rows:
        recorded = [first_at] if first_at is not None else []
        if crime_reference and closed_at is not None:
            recorded.append(closed_at)
        changes.append({"incident_id": incident_id, "delay": min(recorded) - opened_at})
    for start in range(0, len(changes), BATCH):
        bind.execute(update, changes[start : start + BATCH])
    op.create_index(
        INDEX,
        "incident",
        [
            "opened_at",
            "possible_crime",
            "opening_type_code",
            "closing_type_code",
            "crime_recording_delay",
            "signoff_state",
        ],
    )
    op.create_index(CENTROIDS, "location", ["street", "town", "id", "latitude", "longitude"])


def downgrade() -> None:
    op.drop_index(CENTROIDS, table_name="location")
    op.drop_index(INDEX, table_name="incident")
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (as 0010's and 0015's): SQLite 3.35+ drops a plain column in place,
        # where batch mode would rebuild `incident`, which many tables reference.
        op.execute("ALTER TABLE incident DROP COLUMN crime_recording_delay")
    else:
        op.drop_column("incident", "crime_recording_delay")
