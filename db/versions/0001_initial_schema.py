"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 04:06:19.752899
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "database_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("environment", sa.String(length=16), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("force_name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("seed_size", sa.String(length=16), nullable=True),
        sa.Column("seeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "environment IN ('production', 'training', 'test')",
            name=op.f("ck_database_info_environment"),
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_database_info_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_info")),
    )
    op.create_table(
        "incident_type",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("heading", sa.String(length=40), nullable=False),
        sa.Column("qualifier", sa.String(length=20), nullable=True),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.Column("possible_crime", sa.Boolean(), nullable=False),
        sa.Column("suggested_grade", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_incident_type")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("street", sa.String(length=120), nullable=True),
        sa.Column("town", sa.String(length=80), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_postcode"), ["postcode"], unique=False)
        batch_op.create_index(batch_op.f("ix_location_street"), ["street"], unique=False)

    op.create_table(
        "marker_type",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_marker_type")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("collar_number", sa.String(length=16), nullable=True),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("station", sa.String(length=80), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('call_handler', 'dispatcher', 'supervisor', 'intelligence', 'analyst', 'administrator')",
            name=op.f("ck_staff_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("justification", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_audit_event_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_actor"), ["actor"], unique=False)
        batch_op.create_index("ix_audit_event_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=False),
        sa.Column("workstation", sa.String(length=64), nullable=False),
        sa.Column("opening_type_code", sa.String(length=16), nullable=False),
        sa.Column("closing_type_code", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("location_text", sa.String(length=200), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("thrive_threat", sa.Text(), nullable=True),
        sa.Column("thrive_harm", sa.Text(), nullable=True),
        sa.Column("thrive_risk", sa.Text(), nullable=True),
        sa.Column("thrive_investigation", sa.Text(), nullable=True),
        sa.Column("thrive_vulnerability", sa.Text(), nullable=True),
        sa.Column("thrive_engagement", sa.Text(), nullable=True),
        sa.Column("thrive_assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("thrive_assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("domestic", sa.Boolean(), nullable=False),
        sa.Column("child_present", sa.Boolean(), nullable=False),
        sa.Column("weapons", sa.Boolean(), nullable=False),
        sa.Column("possible_crime", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'dispatched', 'at_scene', 'closed')",
            name=op.f("ck_incident_status"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["staff.id"], name=op.f("fk_incident_closed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["closing_type_code"],
            ["incident_type.code"],
            name=op.f("fk_incident_closing_type_code_incident_type"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_incident_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["staff.id"], name=op.f("fk_incident_opened_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["opening_type_code"],
            ["incident_type.code"],
            name=op.f("fk_incident_opening_type_code_incident_type"),
        ),
        sa.ForeignKeyConstraint(
            ["thrive_assessed_by_id"],
            ["staff.id"],
            name=op.f("fk_incident_thrive_assessed_by_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("reference", name=op.f("uq_incident_reference")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index("ix_incident_status_grade", ["status", "grade"], unique=False)

    op.create_table(
        "intelligence_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=24), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("source_grade", sa.String(length=1), nullable=False),
        sa.Column("intelligence_grade", sa.String(length=1), nullable=False),
        sa.Column("handling_code", sa.String(length=1), nullable=False),
        sa.Column("handling_conditions", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "handling_code = 'P' OR (handling_conditions IS NOT NULL AND handling_conditions <> '')",
            name=op.f("ck_intelligence_report_conditions_required"),
        ),
        sa.CheckConstraint(
            "handling_code IN ('P', 'C')", name=op.f("ck_intelligence_report_handling_code")
        ),
        sa.CheckConstraint(
            "intelligence_grade IN ('A', 'B', 'C', 'D', 'E')",
            name=op.f("ck_intelligence_report_intelligence_grade"),
        ),
        sa.CheckConstraint(
            "source_grade IN ('1', '2', '3')", name=op.f("ck_intelligence_report_source_grade")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["staff.id"],
            name=op.f("fk_intelligence_report_submitted_by_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["intelligence_report.id"],
            name=op.f("fk_intelligence_report_supersedes_id_intelligence_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intelligence_report")),
        sa.UniqueConstraint("reference", name=op.f("uq_intelligence_report_reference")),
    )
    with op.batch_alter_table("intelligence_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intelligence_report_submitted_at"), ["submitted_at"], unique=False
        )

    op.create_table(
        "location_hazard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("hazard", sa.String(length=60), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_location_hazard_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff.id"], name=op.f("fk_location_hazard_set_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location_hazard")),
    )
    with op.batch_alter_table("location_hazard", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_location_hazard_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forename", sa.String(length=80), nullable=False),
        sa.Column("middle_names", sa.String(length=120), nullable=True),
        sa.Column("surname", sa.String(length=80), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_person_created_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_date_of_birth"), ["date_of_birth"], unique=False
        )
        batch_op.create_index("ix_person_surname_forename", ["surname", "forename"], unique=False)

    op.create_table(
        "incident_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("old_value", sa.String(length=80), nullable=True),
        sa.Column("new_value", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["staff.id"], name=op.f("fk_incident_log_entry_entered_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_log_entry_incident_id_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_log_entry")),
    )
    with op.batch_alter_table("incident_log_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_log_entry_incident_id"), ["incident_id"], unique=False
        )

    op.create_table(
        "incident_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('caller', 'victim', 'suspect', 'witness', 'subject')",
            name=op.f("ck_incident_person_role"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_person_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["staff.id"], name=op.f("fk_incident_person_linked_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_incident_person_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_person")),
        sa.UniqueConstraint("incident_id", "person_id", "role", name="incident_person_role"),
    )
    with op.batch_alter_table("incident_person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_person_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incident_person_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "intelligence_subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "person_id IS NOT NULL OR location_id IS NOT NULL",
            name=op.f("ck_intelligence_subject_person_or_location"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_intelligence_subject_location_id_location"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_intelligence_subject_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["intelligence_report.id"],
            name=op.f("fk_intelligence_subject_report_id_intelligence_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intelligence_subject")),
    )
    with op.batch_alter_table("intelligence_subject", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intelligence_subject_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intelligence_subject_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_intelligence_subject_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "person_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"], ["location.id"], name=op.f("fk_person_address_location_id_location")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_address_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_address")),
    )
    with op.batch_alter_table("person_address", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_address_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_person_address_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("forename", sa.String(length=80), nullable=True),
        sa.Column("surname", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_alias_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_alias")),
    )
    with op.batch_alter_table("person_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_alias_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_alias_surname"), ["surname"], unique=False)

    op.create_table(
        "warning_marker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("marker_code", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["marker_code"],
            ["marker_type.code"],
            name=op.f("fk_warning_marker_marker_code_marker_type"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_warning_marker_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff.id"], name=op.f("fk_warning_marker_set_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_marker")),
    )
    with op.batch_alter_table("warning_marker", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_warning_marker_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("warning_marker", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warning_marker_person_id"))

    op.drop_table("warning_marker")
    with op.batch_alter_table("person_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_alias_surname"))
        batch_op.drop_index(batch_op.f("ix_person_alias_person_id"))

    op.drop_table("person_alias")
    with op.batch_alter_table("person_address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_address_person_id"))
        batch_op.drop_index(batch_op.f("ix_person_address_location_id"))

    op.drop_table("person_address")
    with op.batch_alter_table("intelligence_subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intelligence_subject_report_id"))
        batch_op.drop_index(batch_op.f("ix_intelligence_subject_person_id"))
        batch_op.drop_index(batch_op.f("ix_intelligence_subject_location_id"))

    op.drop_table("intelligence_subject")
    with op.batch_alter_table("incident_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_person_person_id"))
        batch_op.drop_index(batch_op.f("ix_incident_person_incident_id"))

    op.drop_table("incident_person")
    with op.batch_alter_table("incident_log_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_log_entry_incident_id"))

    op.drop_table("incident_log_entry")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index("ix_person_surname_forename")
        batch_op.drop_index(batch_op.f("ix_person_date_of_birth"))

    op.drop_table("person")
    with op.batch_alter_table("location_hazard", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_hazard_location_id"))

    op.drop_table("location_hazard")
    with op.batch_alter_table("intelligence_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intelligence_report_submitted_at"))

    op.drop_table("intelligence_report")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_status_grade")
        batch_op.drop_index(batch_op.f("ix_incident_opened_at"))
        batch_op.drop_index(batch_op.f("ix_incident_location_id"))

    op.drop_table("incident")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        batch_op.drop_index("ix_audit_event_object")
        batch_op.drop_index(batch_op.f("ix_audit_event_actor"))

    op.drop_table("audit_event")
    op.drop_table("staff")
    op.drop_table("marker_type")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_street"))
        batch_op.drop_index(batch_op.f("ix_location_postcode"))

    op.drop_table("location")
    op.drop_table("incident_type")
    op.drop_table("database_info")
