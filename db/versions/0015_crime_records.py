"""crime records: Home Office classification, the NCRS clock, outcomes (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00

- `offence_class`: the Home Office offence classifications in use (db/offence_class.csv,
  loaded by the reference-table sync like the incident types);
- `crime`: one crime recorded from an incident, one per victim, with its classification,
  times, place, state (recorded / cancellation requested / cancelled, with the reason
  and the supervisor's decision) and its current outcome;
- `crime_suspect`, `crime_classification` (every classification, old -> new, with the
  reason) and `crime_outcome` (each outcome given, its date, the victim's decision for
  14 and 16, a supervisor's approval for 16 on domestic abuse);
- `integrity_check`: the crime-related incidents drawn into a month's crime data
  integrity audit sample, and each supervisor's check of one;
- `incident.crime_clock_stopped_at`: when the NCRS 24-hour clock stopped, with an
  index for the crime-recording queue. Existing incidents are filled in: a possible
  crime already closed with a crime reference, or with a signed-off no-crime closure,
  had its clock stopped at its closing (the best time the database holds).

Downgrade drops the tables, then the index and the column.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offence_class",
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("open_data_type", sa.String(40), nullable=False),
        sa.Column("sexual", sa.Boolean(), nullable=False),
        sa.Column("victim_based", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "crime",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(24), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column(
            "offence_code", sa.String(8), sa.ForeignKey("offence_class.code"), nullable=False
        ),
        sa.Column("victim_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("committed_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("location.id"), nullable=True),
        sa.Column("location_text", sa.String(200), nullable=False),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancel_requested_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_decided_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("cancel_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_decision_note", sa.Text(), nullable=True),
        sa.Column("outcome_code", sa.Integer(), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('recorded', 'cancellation_requested', 'cancelled')", name="state"
        ),
        sa.CheckConstraint("outcome_code >= 0 AND outcome_code <= 22", name="outcome_code"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_crime_incident_id", "crime", ["incident_id"])
    op.create_index("ix_crime_victim_id", "crime", ["victim_id"])
    op.create_index("ix_crime_recorded_at", "crime", ["recorded_at"])
    op.create_table(
        "crime_suspect",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crime_id", sa.Integer(), sa.ForeignKey("crime.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.UniqueConstraint("crime_id", "person_id", name="crime_suspect_person"),
    )
    op.create_index("ix_crime_suspect_crime_id", "crime_suspect", ["crime_id"])
    op.create_table(
        "crime_classification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crime_id", sa.Integer(), sa.ForeignKey("crime.id"), nullable=False),
        sa.Column("old_code", sa.String(8), sa.ForeignKey("offence_class.code"), nullable=True),
        sa.Column("new_code", sa.String(8), sa.ForeignKey("offence_class.code"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
    )
    op.create_index("ix_crime_classification_crime_id", "crime_classification", ["crime_id"])
    op.create_table(
        "crime_outcome",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("crime_id", sa.Integer(), sa.ForeignKey("crime.id"), nullable=False),
        sa.Column("outcome_code", sa.Integer(), nullable=False),
        sa.Column("outcome_date", sa.Date(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("given_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("victim_decision", sa.Text(), nullable=True),
        sa.Column("victim_decision_on", sa.Date(), nullable=True),
        sa.Column("victim_decision_by", sa.String(120), nullable=True),
        sa.Column("approval_state", sa.String(12), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("outcome_code >= 0 AND outcome_code <= 22", name="outcome_code"),
        sa.CheckConstraint(
            "approval_state IN ('not_needed', 'awaiting', 'approved')", name="approval_state"
        ),
    )
    op.create_index("ix_crime_outcome_crime_id", "crime_outcome", ["crime_id"])
    op.create_table(
        "integrity_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("incident_id", sa.Integer(), sa.ForeignKey("incident.id"), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("finding", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.UniqueConstraint("month", "incident_id", name="integrity_check_month_incident"),
        sa.CheckConstraint(
            "finding IS NULL OR finding IN ('correct', 'crime_missed', 'misclassified')",
            name="finding",
        ),
    )
    op.create_index("ix_integrity_check_month", "integrity_check", ["month"])

    op.add_column(
        "incident", sa.Column("crime_clock_stopped_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_incident_crime_clock",
        "incident",
        ["possible_crime", "crime_clock_stopped_at", "opened_at", "opened_by_id"],
    )
    # Written out here (migrations do not import the models): the clocks of incidents
    # already decided stop at their closing.
    incident = sa.table(
        "incident",
        sa.column("possible_crime", sa.Boolean()),
        sa.column("crime_reference", sa.String()),
        sa.column("signoff_state", sa.String()),
        sa.column("closed_at", sa.DateTime(timezone=True)),
        sa.column("crime_clock_stopped_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        sa.update(incident)
        .where(
            incident.c.possible_crime.is_(True),
            incident.c.closed_at.is_not(None),
            sa.or_(
                incident.c.crime_reference.is_not(None),
                incident.c.signoff_state == "approved",
            ),
        )
        .values(crime_clock_stopped_at=incident.c.closed_at)
    )


def downgrade() -> None:
    op.drop_index("ix_integrity_check_month", table_name="integrity_check")
    op.drop_table("integrity_check")
    for table in ("crime_outcome", "crime_classification", "crime_suspect"):
        op.drop_index(f"ix_{table}_crime_id", table_name=table)
        op.drop_table(table)
    for index in ("ix_crime_recorded_at", "ix_crime_victim_id", "ix_crime_incident_id"):
        op.drop_index(index, table_name="crime")
    op.drop_table("crime")
    op.drop_table("offence_class")
    op.drop_index("ix_incident_crime_clock", table_name="incident")
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (as 0010's): SQLite 3.35+ drops a plain column in place, where batch
        # mode would rebuild `incident`, which many tables reference.
        op.execute("ALTER TABLE incident DROP COLUMN crime_clock_stopped_at")
    else:
        op.drop_column("incident", "crime_clock_stopped_at")
