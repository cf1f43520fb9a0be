"""staff PIN and lockout for the idle lock (issue #6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 07:15:00

Three columns on `staff` for re-authenticating at the idle lock:

- `pin_hash`: the argon2id hash of the operator's PIN (`controlroom staff set-pin`), NULL
  until one is set; the PIN itself is never stored;
- `failed_pin_attempts`: wrong PINs since the last right one (NOT NULL, 0 for every
  existing row through its server default);
- `pin_locked_until`: after five wrong PINs the account is locked until this UTC time.

Plain ADD COLUMNs on both backends (SQLite allows them: no foreign key, a constant
default), so the table is not rebuilt. Downgrade drops the three columns, in place on
SQLite too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("pin_hash", sa.String(length=200), nullable=True))
    op.add_column(
        "staff", sa.Column("failed_pin_attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("staff", sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True))


COLUMNS = ("pin_locked_until", "failed_pin_attempts", "pin_hash")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL, no value formatted in: SQLite (3.35+) drops a plain column in place,
        # where batch mode would rebuild `staff`, which every audit event and incident
        # references (the rebuild's DROP TABLE fails with foreign keys on).
        for column in COLUMNS:
            op.execute(f"ALTER TABLE staff DROP COLUMN {column}")
    else:
        for column in COLUMNS:
            op.drop_column("staff", column)
