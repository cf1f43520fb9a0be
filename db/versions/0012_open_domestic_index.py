"""command view: the open domestic-abuse incidents without a DASH from one index (issue 20)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 23:30:00

The command view counts the open domestic-abuse incidents that have no DASH and finds
the oldest (`SafeguardingRepository.da_without_dash_summary`). The open incidents are a
range of `ix_incident_status_grade`, but whether each is domestic (its flag or its
type) and when it was opened were read from the incident's own row: some 7,400 rows on
the large seed, 10-16 ms of the view. This index holds the status, the domestic flag,
the opening type and the opening time, so the count reads the index alone (under 1 ms)
and each incident's DASH by `ix_dash_assessment_incident_id`.

Downgrade drops it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_incident_open_domestic"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "incident",
        ["status", "domestic", "opening_type_code", "opened_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="incident")
