"""staff sessions: every run of the app on the record from sign-in to its end (issue 15)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:30:00

A session's start and end were audit events only, and an end nobody recorded (kill -9,
a lost terminal) could not be told from a session still open. `staff_session` holds
each run of the app: who, from which terminal, on which host and process, when it
started and how it ended. The operator's next sign-in on the same host ends a run whose
process is gone.

Downgrade drops the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("terminal", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(120), nullable=True),
    )
    op.create_index("ix_staff_session_staff_id", "staff_session", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_session_staff_id", table_name="staff_session")
    op.drop_table("staff_session")
