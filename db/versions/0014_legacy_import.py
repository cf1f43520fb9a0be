"""legacy import: batches and the provenance of every legacy row (issue 19)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:05:51.931413

`controlroom import legacy` brings an old force system's extract in. Two new tables,
nothing existing touched (no SQLite table is rebuilt):
- `import_batch`: one extract, by source system and SHA-256 (a re-run or a resumed run
  finds its batch), who started it, when it finished;
- `import_record`: one row per legacy row: source system, file, id, line and batch, and
  what became of it (imported as which record, matched to which person already here and
  held for the review list, merged into that person by a supervisor, or rejected and
  why); an alias's or marker's row keeps its person's source id. Unique by source system, file and id:
  what makes a re-run change nothing and an interrupted run resume.

Downgrade drops both (and with them the provenance: the imported records stay, no
longer linked to their source ids).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("extract_name", sa.String(length=255), nullable=False),
        sa.Column("extract_digest", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["staff.id"], name=op.f("fk_import_batch_started_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint(
            "source_system", "extract_digest", name=op.f("uq_import_batch_source_system")
        ),
    )
    op.create_table(
        "import_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("source_file", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("person_ref", sa.String(length=64), nullable=True),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("held", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('imported', 'matched', 'merged', 'rejected')",
            name=op.f("ck_import_record_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_import_record_batch_id_import_batch")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"], ["person.id"], name=op.f("fk_import_record_candidate_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_record")),
        sa.UniqueConstraint(
            "source_system", "source_file", "source_id", name=op.f("uq_import_record_source_system")
        ),
    )
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_record_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_import_record_outcome_batch", ["outcome", "batch_id"], unique=False
        )
        batch_op.create_index(
            "ix_import_record_person_ref", ["source_system", "person_ref"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.drop_index("ix_import_record_person_ref")
        batch_op.drop_index("ix_import_record_outcome_batch")
        batch_op.drop_index(batch_op.f("ix_import_record_batch_id"))

    op.drop_table("import_record")
    op.drop_table("import_batch")
