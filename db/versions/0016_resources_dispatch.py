"""resources and dispatch: units, crews, status codes, assignments, attendance (issue 17)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00

Reference tables filled from db/*.csv by `sync_reference_tables` (as incident types are):
`skill`, `unit_type`, `unit_status` (the configurable status codes, each with its board
key, command word and the kind the rules read) and `incident_type_skill` (the skills a
type of incident needs of every unit sent to it).

`unit` holds each resource's state now; `unit_crew` its officers and their skills;
`unit_status_change` every status it took (who, when, from which terminal);
`unit_assignment` each unit sent to an incident, its arrival and clear-down;
`incident_attendance` the grade's attendance clock, met or missed at the first arrival;
`unit_emergency` an emergency on a unit until it is acknowledged;
`unit_change_counter` a single row every unit change bumps (its row inserted here) so a
resource board polls one row to learn that something moved.

New tables only: nothing existing is altered. Downgrade drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred, _, key = target.partition(".")
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def upgrade() -> None:
    op.create_table(
        "skill",
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_skill")),
    )
    op.create_table(
        "unit_type",
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("prefix", sa.String(4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unit_type")),
    )
    op.create_table(
        "unit_status",
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("key", sa.String(1), nullable=False),
        sa.Column("command", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unit_status")),
    )
    op.create_table(
        "incident_type_skill",
        sa.Column("type_code", sa.String(16), nullable=False),
        sa.Column("skill_code", sa.String(8), nullable=False),
        _fk("incident_type_skill", "type_code", "incident_type.code"),
        _fk("incident_type_skill", "skill_code", "skill.code"),
        sa.PrimaryKeyConstraint("type_code", "skill_code", name=op.f("pk_incident_type_skill")),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callsign", sa.String(12), nullable=False),
        sa.Column("type_code", sa.String(8), nullable=False),
        sa.Column("station", sa.String(80), nullable=False),
        sa.Column("area", sa.String(40), nullable=False),
        sa.Column("status_code", sa.String(8), nullable=False),
        sa.Column("status_since", _TZ, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.Integer(), nullable=False),
        _fk("unit", "type_code", "unit_type.code"),
        _fk("unit", "status_code", "unit_status.code"),
        _fk("unit", "incident_id", "incident.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("callsign", name=op.f("uq_unit_callsign")),
    )
    op.create_index(op.f("ix_unit_station"), "unit", ["station"])
    op.create_index(op.f("ix_unit_status_code"), "unit", ["status_code"])
    op.create_index(op.f("ix_unit_incident_id"), "unit", ["incident_id"])
    op.create_index(op.f("ix_unit_change_seq"), "unit", ["change_seq"])
    op.create_table(
        "unit_crew",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("collar_number", sa.String(16), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("skills", sa.String(120), nullable=False),
        _fk("unit_crew", "unit_id", "unit.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_crew")),
    )
    op.create_index(op.f("ix_unit_crew_unit_id"), "unit_crew", ["unit_id"])
    op.create_table(
        "unit_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", _TZ, nullable=False),
        sa.Column("status_code", sa.String(8), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("terminal", sa.String(64), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        _fk("unit_status_change", "unit_id", "unit.id"),
        _fk("unit_status_change", "status_code", "unit_status.code"),
        _fk("unit_status_change", "incident_id", "incident.id"),
        _fk("unit_status_change", "changed_by_id", "staff.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_status_change")),
    )
    op.create_index(op.f("ix_unit_status_change_unit_id"), "unit_status_change", ["unit_id"])
    op.create_table(
        "unit_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", _TZ, nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("arrived_at", _TZ, nullable=True),
        sa.Column("cleared_at", _TZ, nullable=True),
        _fk("unit_assignment", "unit_id", "unit.id"),
        _fk("unit_assignment", "incident_id", "incident.id"),
        _fk("unit_assignment", "assigned_by_id", "staff.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_assignment")),
    )
    op.create_index(op.f("ix_unit_assignment_unit_id"), "unit_assignment", ["unit_id"])
    op.create_index(op.f("ix_unit_assignment_incident_id"), "unit_assignment", ["incident_id"])
    op.create_table(
        "incident_attendance",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("arrived_at", _TZ, nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        _fk("incident_attendance", "incident_id", "incident.id"),
        _fk("incident_attendance", "unit_id", "unit.id"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_attendance")),
    )
    op.create_table(
        "unit_emergency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", _TZ, nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=False),
        sa.Column("raised_terminal", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", _TZ, nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        _fk("unit_emergency", "unit_id", "unit.id"),
        _fk("unit_emergency", "incident_id", "incident.id"),
        _fk("unit_emergency", "raised_by_id", "staff.id"),
        _fk("unit_emergency", "acknowledged_by_id", "staff.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_emergency")),
    )
    op.create_index(op.f("ix_unit_emergency_unit_id"), "unit_emergency", ["unit_id"])
    op.create_index(
        op.f("ix_unit_emergency_acknowledged_at"), "unit_emergency", ["acknowledged_at"]
    )
    counter = op.create_table(
        "unit_change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_unit_change_counter_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_change_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "counter": 0}])


def downgrade() -> None:
    for table in (
        "unit_change_counter",
        "unit_emergency",
        "incident_attendance",
        "unit_assignment",
        "unit_status_change",
        "unit_crew",
        "unit",
        "incident_type_skill",
        "unit_status",
        "unit_type",
        "skill",
    ):
        op.drop_table(table)
