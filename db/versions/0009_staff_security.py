"""staff PIN and lockout for the idle lock (issue #6)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 07:15:00

Reserved in the migration chain so that the work of one session lands in a fixed order;
its content is filled in by the change that needs it.
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
