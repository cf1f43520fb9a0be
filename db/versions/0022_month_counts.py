"""monthly crime and integrity counts kept; LEGACY incidents out of the integrity counts

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:00:00

The statistics screen counted a year of crimes and, twice with the integrity screen, a
year of crime-related incidents (some 360,000 index entries on the large seed) on
every read. Now each local month's counts are kept as crimes and incidents are written
(`controlroom.data.crime_counts`), and the reads take a few hundred rows:

- `crime_month_count` (month, offence code, outcome code: crimes recorded, not
  cancelled);
- `integrity_month_count` (month: crime-related incidents, those with a crime recorded
  within 24 hours and within 7 days), which leaves LEGACY (imported) incidents out, as
  the month's unrecorded list always did: an old system's records are not this
  system's recording;
- `ix_incident_crime_recording` gains `legacy_batch_id` and `opened_by_id`, so a
  month's crime-related incidents (and the recount) still read from the index alone.

Both tables are filled here from the rows, by the rule the program keeps them by
(`domain.crime.integrity_count_of`, written out again: migrations do not import the
program). Downgrade drops them and restores the index.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_incident_crime_recording"
OLD_COLUMNS = [
    "opened_at",
    "possible_crime",
    "opening_type_code",
    "closing_type_code",
    "crime_recording_delay",
    "signoff_state",
]
NEW_COLUMNS = [*OLD_COLUMNS, "legacy_batch_id", "opened_by_id"]
LOCAL_ZONE = ZoneInfo("Europe/London")
RECORDING_LIMIT = timedelta(hours=24)
WEEK = timedelta(days=7)
BATCH = 10_000


def _month(instant: datetime):
    if instant.tzinfo is None:  # SQLite: stored UTC
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(LOCAL_ZONE).date().replace(day=1)


def upgrade() -> None:
    op.create_table(
        "crime_month_count",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("offence_code", sa.String(length=8), nullable=False),
        sa.Column("outcome_code", sa.Integer(), nullable=False),
        sa.Column("crimes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "offence_code", "outcome_code", name=op.f("pk_crime_month_count")
        ),
    )
    op.create_table(
        "integrity_month_count",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("within_24h", sa.Integer(), nullable=False),
        sa.Column("within_7d", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_integrity_month_count")),
    )
    op.drop_index(INDEX, table_name="incident")
    op.create_index(INDEX, "incident", NEW_COLUMNS)
    bind = op.get_bind()
    incident_type = sa.table(
        "incident_type", sa.column("code", sa.String()), sa.column("possible_crime", sa.Boolean())
    )
    crime_types = set(
        bind.execute(
            sa.select(incident_type.c.code).where(incident_type.c.possible_crime.is_(True))
        ).scalars()
    )
    incident = sa.table(
        "incident",
        *(sa.column(name) for name in ("possible_crime", "opening_type_code")),
        *(sa.column(name) for name in ("closing_type_code", "signoff_state")),
        sa.column("opened_at", sa.DateTime(timezone=True)),
        sa.column("crime_recording_delay", sa.Interval()),
        sa.column("legacy_batch_id", sa.Integer()),
    )
    months: dict = {}
    for opened, flag, opening, closing, delay, signoff, legacy in bind.execute(
        sa.select(
            incident.c.opened_at,
            incident.c.possible_crime,
            incident.c.opening_type_code,
            incident.c.closing_type_code,
            incident.c.crime_recording_delay,
            incident.c.signoff_state,
            incident.c.legacy_batch_id,
        ).where(incident.c.legacy_batch_id.is_(None))
    ):
        says_crime = bool(flag) or opening in crime_types or closing in crime_types
        if legacy is not None or not says_crime or (delay is None and signoff == "approved"):
            continue
        counts = months.setdefault(_month(opened), [0, 0, 0])
        counts[0] += 1
        counts[1] += int(delay is not None and delay <= RECORDING_LIMIT)
        counts[2] += int(delay is not None and delay <= WEEK)
    crime = sa.table(
        "crime",
        sa.column("recorded_at", sa.DateTime(timezone=True)),
        sa.column("offence_code", sa.String()),
        sa.column("outcome_code", sa.Integer()),
        sa.column("state", sa.String()),
    )
    crimes: dict = {}
    for recorded, code, outcome in bind.execute(
        sa.select(crime.c.recorded_at, crime.c.offence_code, crime.c.outcome_code).where(
            crime.c.state != "cancelled"
        )
    ):
        key = (_month(recorded), code, outcome)
        crimes[key] = crimes.get(key, 0) + 1
    month_rows = [
        {"month": m, "incidents": n, "within_24h": a, "within_7d": b}
        for m, (n, a, b) in sorted(months.items())
    ]
    crime_rows = [
        {"month": m, "offence_code": code, "outcome_code": outcome, "crimes": n}
        for (m, code, outcome), n in sorted(crimes.items())
    ]
    integrity_table = sa.table(
        "integrity_month_count",
        sa.column("month", sa.Date()),
        *(sa.column(name, sa.Integer()) for name in ("incidents", "within_24h", "within_7d")),
    )
    crime_table = sa.table(
        "crime_month_count",
        sa.column("month", sa.Date()),
        sa.column("offence_code", sa.String()),
        sa.column("outcome_code", sa.Integer()),
        sa.column("crimes", sa.Integer()),
    )
    for table, rows in ((integrity_table, month_rows), (crime_table, crime_rows)):
        for start in range(0, len(rows), BATCH):
            bind.execute(sa.insert(table), rows[start : start + BATCH])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="incident")
    op.create_index(INDEX, "incident", OLD_COLUMNS)
    op.drop_table("integrity_month_count")
    op.drop_table("crime_month_count")
