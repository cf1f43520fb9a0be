"""triage queue items, claims and the change counter (issue #5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 07:15:00

Adds `queue_item` (one incident in one triage queue: open, claimed with a heartbeat, done)
and `queue_change_counter`, a single row every queue change bumps so SQLite stations can
poll one row to learn that something changed (PostgreSQL stations LISTEN instead). The
counter's row is inserted here. Two new tables only: nothing existing is altered, so no
SQLite table is rebuilt.

Indexes follow what the queue screen and the command view read: items not done by state
and queue, oldest first (`state, queue, entered_at`); completions over the last 24 hours
for the backlog sparkline (`completed_at`); bulk claiming, the oldest open item of any
queue (`state, entered_at, id`); changes since a counter value (`change_seq`);
an incident's items (`incident_id`).

Existing open incidents are not routed here (migrations do not run the domain rules):
`controlroom.services.queues.route_unrouted` does that, and is safe to re-run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=24), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "queue IN ('general', 'domestic_abuse', 'child_protection', 'missing_persons')",
            name=op.f("ck_queue_item_queue"),
        ),
        sa.CheckConstraint(
            "state IN ('open', 'claimed', 'done')", name=op.f("ck_queue_item_state")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"], ["staff.id"], name=op.f("fk_queue_item_claimed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"], ["staff.id"], name=op.f("fk_queue_item_completed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_queue_item_incident_id_incident")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_item")),
        sa.UniqueConstraint("incident_id", "queue", name="queue_item_incident_queue"),
    )
    op.create_index(op.f("ix_queue_item_incident_id"), "queue_item", ["incident_id"], unique=False)
    op.create_index(
        op.f("ix_queue_item_completed_at"), "queue_item", ["completed_at"], unique=False
    )
    op.create_index(op.f("ix_queue_item_change_seq"), "queue_item", ["change_seq"], unique=False)
    op.create_index(
        "ix_queue_item_state_queue_entered_at",
        "queue_item",
        ["state", "queue", "entered_at"],
        unique=False,
    )
    op.create_index(
        "ix_queue_item_state_entered_at_id",
        "queue_item",
        ["state", "entered_at", "id"],
        unique=False,
    )

    counter = op.create_table(
        "queue_change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_queue_change_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_change_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "counter": 0}])


def downgrade() -> None:
    op.drop_table("queue_change_counter")
    op.drop_index("ix_queue_item_state_entered_at_id", table_name="queue_item")
    op.drop_index("ix_queue_item_state_queue_entered_at", table_name="queue_item")
    op.drop_index(op.f("ix_queue_item_change_seq"), table_name="queue_item")
    op.drop_index(op.f("ix_queue_item_completed_at"), table_name="queue_item")
    op.drop_index(op.f("ix_queue_item_incident_id"), table_name="queue_item")
    op.drop_table("queue_item")
