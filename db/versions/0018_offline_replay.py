"""what became of each entry a station kept offline (issue 13)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 05:00:00

`offline_replay`: one row per entry of a station's offline journal that a replay
reached. Its provisional reference (unique) maps to the final one, so both stay
findable; an entry that went in with a doubt (`duplicate`: another call at the same
place) or did not go in (`conflicted`, `refused`, with why and what was typed) is on the
supervisors' list until one of them resolves it (who, when, why).

A new table only: nothing existing is altered. Downgrade drops it (the entries stay in
the stations' journals).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "offline_replay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provisional_reference", sa.String(60), nullable=False),
        sa.Column("journal", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("final_reference", sa.String(40), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("typed", sa.Text(), nullable=True),
        sa.Column("kept_at", _TZ, nullable=False),
        sa.Column("kept_by_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", _TZ, nullable=False),
        sa.Column("resolved_at", _TZ, nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_offline_replay_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["kept_by_id"], ["staff.id"], name=op.f("fk_offline_replay_kept_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["staff.id"], name=op.f("fk_offline_replay_resolved_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_replay")),
        sa.UniqueConstraint(
            "provisional_reference", name=op.f("uq_offline_replay_provisional_reference")
        ),
    )
    with op.batch_alter_table("offline_replay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offline_replay_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_offline_replay_final_reference"), ["final_reference"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("offline_replay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_replay_final_reference"))
        batch_op.drop_index(batch_op.f("ix_offline_replay_state"))
    op.drop_table("offline_replay")
