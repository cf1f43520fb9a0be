"""no-crime closure sign-off (issue #6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 08:50:00

NCRS: closing a possible-crime incident without a crime needs a reason and a
supervisor's sign-off. One column on `incident`:

- `signoff_state`: NULL when no sign-off is needed, `awaiting` while a no-crime closure
  waits for a supervisor, `approved` once signed off (a closure returned by the
  supervisor reopens the incident and clears it). Who signed off, and when, is the
  incident log's entry and the audit event.

and an index on it, so the board counts the closures awaiting sign-off without reading
every incident. A plain ADD COLUMN (no foreign key, no default) on both backends: the
table is not rebuilt. Downgrade drops the index and the column in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incident", sa.Column("signoff_state", sa.String(length=16), nullable=True))
    op.create_index("ix_incident_signoff_state", "incident", ["signoff_state"])


def downgrade() -> None:
    op.drop_index("ix_incident_signoff_state", table_name="incident")
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (as 0009's): SQLite 3.35+ drops a plain column in place, where batch
        # mode would rebuild `incident`, which log entries and queue items reference.
        op.execute("ALTER TABLE incident DROP COLUMN signoff_state")
    else:
        op.drop_column("incident", "signoff_state")
