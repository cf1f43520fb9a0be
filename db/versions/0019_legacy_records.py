"""an old system's incidents and intelligence come in read-only, marked LEGACY (issue 19)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 05:00:00

`incident.legacy_batch_id` and `intelligence_report.legacy_batch_id`: the import batch
an old system's incident or report came in on (`controlroom import legacy`), NULL for
every record made here. A record with one is read-only (the services refuse changes)
and shown LEGACY; its source system and id are in `import_record`. A plain integer, not
a foreign key: SQLite adds it in place, without rebuilding `incident`, which many tables
reference.

Downgrade drops both columns: the imported rows stay, as ordinary records (the ledger
in `import_record` still says where they came from).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("incident", "intelligence_report")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("legacy_batch_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (as 0010's and 0015's): SQLite 3.35+ drops a plain column in place,
        # where batch mode would rebuild the table.
        op.execute("ALTER TABLE incident DROP COLUMN legacy_batch_id")
        op.execute("ALTER TABLE intelligence_report DROP COLUMN legacy_batch_id")
    else:
        for table in TABLES:
            op.drop_column(table, "legacy_batch_id")
