"""a session locked when it ended stays locked: the PIN is asked at the next start (issue 16)

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-07 02:10:00

The idle lock was bypassed by quitting and starting again. `staff.session_locked_at` is
set when an operator's session locks and cleared by the right PIN; while it is set, the
operator's next start opens on the lock screen.

Downgrade drops the column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "staff", sa.Column("session_locked_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # As 0009: SQLite (3.35+) drops a plain column in place, where batch mode would
        # rebuild `staff`, which every audit event references (foreign keys on).
        op.execute("ALTER TABLE staff DROP COLUMN session_locked_at")
    else:
        op.drop_column("staff", "session_locked_at")
