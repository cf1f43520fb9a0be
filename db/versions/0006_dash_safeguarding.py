"""DASH assessments, referrals and safeguarding overrides (issue #5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 07:15:00

Three new tables, nothing else touched (so no table is rebuilt on SQLite):
- `dash_assessment`: one row per DASH; a new one supersedes the last (history kept);
- `referral`: MARAC and children's services referrals, created -> sent -> acknowledged;
- `safeguarding_override`: a supervisor's override of the safeguarding rules, with the
  rules, the action, the reason, who and when.
Existing rows need no filling. Downgrade drops the three tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dash_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.String(length=27), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("score_level", sa.String(length=8), nullable=False),
        sa.Column("judgement_level", sa.String(length=8), nullable=True),
        sa.Column("judgement_reason", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("score >= 0 AND score <= 27", name=op.f("ck_dash_assessment_score")),
        sa.CheckConstraint(
            "score_level IN ('standard', 'medium', 'high')",
            name=op.f("ck_dash_assessment_score_level"),
        ),
        sa.CheckConstraint(
            "level IN ('standard', 'medium', 'high')", name=op.f("ck_dash_assessment_level")
        ),
        sa.CheckConstraint(
            "judgement_level IS NULL OR judgement_level IN ('medium', 'high')",
            name=op.f("ck_dash_assessment_judgement_level"),
        ),
        sa.CheckConstraint(
            "(judgement_level IS NULL) = (judgement_reason IS NULL)",
            name=op.f("ck_dash_assessment_judgement_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["staff.id"], name=op.f("fk_dash_assessment_assessed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_dash_assessment_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["dash_assessment.id"],
            name=op.f("fk_dash_assessment_supersedes_id_dash_assessment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dash_assessment")),
    )
    op.create_index(
        op.f("ix_dash_assessment_incident_id"), "dash_assessment", ["incident_id"], unique=False
    )

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("triggers", sa.String(length=80), nullable=False),
        sa.Column("dash_assessment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("send_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledge_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('marac', 'childrens_services')", name=op.f("ck_referral_kind")
        ),
        sa.CheckConstraint(
            "status IN ('created', 'sent', 'acknowledged')", name=op.f("ck_referral_status")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["staff.id"], name=op.f("fk_referral_acknowledged_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_referral_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["dash_assessment_id"],
            ["dash_assessment.id"],
            name=op.f("fk_referral_dash_assessment_id_dash_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_referral_incident_id_incident")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["staff.id"], name=op.f("fk_referral_sent_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    op.create_index("ix_referral_created_at", "referral", ["created_at"], unique=False)
    op.create_index(op.f("ix_referral_incident_id"), "referral", ["incident_id"], unique=False)
    op.create_index(op.f("ix_referral_sent_at"), "referral", ["sent_at"], unique=False)
    op.create_index(
        op.f("ix_referral_acknowledged_at"), "referral", ["acknowledged_at"], unique=False
    )

    op.create_table(
        "safeguarding_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("new_grade", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("overridden_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('grade_no_deployment', 'close')",
            name=op.f("ck_safeguarding_override_action"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_safeguarding_override_incident_id_incident"),
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["staff.id"],
            name=op.f("fk_safeguarding_override_supervisor_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safeguarding_override")),
    )
    op.create_index(
        op.f("ix_safeguarding_override_incident_id"),
        "safeguarding_override",
        ["incident_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_safeguarding_override_overridden_at"),
        "safeguarding_override",
        ["overridden_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_safeguarding_override_overridden_at"), table_name="safeguarding_override"
    )
    op.drop_index(op.f("ix_safeguarding_override_incident_id"), table_name="safeguarding_override")
    op.drop_table("safeguarding_override")
    op.drop_index(op.f("ix_referral_acknowledged_at"), table_name="referral")
    op.drop_index(op.f("ix_referral_sent_at"), table_name="referral")
    op.drop_index(op.f("ix_referral_incident_id"), table_name="referral")
    op.drop_index("ix_referral_created_at", table_name="referral")
    op.drop_table("referral")
    op.drop_index(op.f("ix_dash_assessment_incident_id"), table_name="dash_assessment")
    op.drop_table("dash_assessment")
