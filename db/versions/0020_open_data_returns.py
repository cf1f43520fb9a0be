"""the month's data.police.uk returns: files made, and the shared Crime-ID salt (issue 18)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 05:00:00

- `open_data_return`: each making of a month's street and outcomes files (who, when,
  rows, each file's SHA-256): a month with none is flagged on the command view;
- `open_data_salt`: one row, the fingerprint (a one-way hash) of the force's Crime-ID
  salt, so that every analyst's files carry the same Crime IDs. The salt itself is
  kept only in the keyring;
- `ix_crime_incident_recorded` (crime: incident, recorded): each incident's first crime
  for the crime data integrity counts, read from the index alone.

New tables and an index only. Downgrade drops them and the index (what the tables held is listed in the migration
round-trip test's LOST_ON_DOWNGRADE).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "open_data_return",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("street_rows", sa.Integer(), nullable=False),
        sa.Column("outcome_rows", sa.Integer(), nullable=False),
        sa.Column("street_sha256", sa.String(64), nullable=False),
        sa.Column("outcomes_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_open_data_return_month", "open_data_return", ["month"])
    op.create_table(
        "open_data_salt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
    )
    op.create_index("ix_crime_incident_recorded", "crime", ["incident_id", "recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_crime_incident_recorded", table_name="crime")
    op.drop_table("open_data_salt")
    op.drop_index("ix_open_data_return_month", table_name="open_data_return")
    op.drop_table("open_data_return")
