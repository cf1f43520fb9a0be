"""person merge: a duplicate record points at the record it was merged into, and every
merge (and its undo) is kept with who, when and why

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:00:00

Adds the nullable, indexed `person.merged_into_id` (a foreign key to `person`) and the new
table `person_merge`. On SQLite the column goes in as a plain ALTER TABLE ADD COLUMN
carrying its REFERENCES clause (allowed there for a column whose default is NULL): the
`person` table is NOT rebuilt, so migration 0003's full-text triggers on it survive.
Existing rows need no filling: no record was merged before this revision.

Downgrade drops the table and the column, in place on both backends (on a populated
database too: `tests/test_migration_round_trips.py`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_NAME = "fk_person_merged_into_id_person"
INDEX_NAME = "ix_person_merged_into_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (no value formatted in): Alembic would refuse the foreign key outside
        # batch mode, and batch mode would rebuild `person` and lose its triggers.
        op.execute(
            f"ALTER TABLE person ADD COLUMN merged_into_id INTEGER"
            f" CONSTRAINT {FK_NAME} REFERENCES person (id)"
        )
    else:
        op.add_column("person", sa.Column("merged_into_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, "person", "person", ["merged_into_id"], ["id"])
    op.create_index(INDEX_NAME, "person", ["merged_into_id"], unique=False)

    op.create_table(
        "person_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_by_id"], ["staff.id"], name=op.f("fk_person_merge_merged_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["merged_id"], ["person.id"], name=op.f("fk_person_merge_merged_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["person.id"], name=op.f("fk_person_merge_survivor_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["staff.id"], name=op.f("fk_person_merge_undone_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_merge")),
    )
    op.create_index(op.f("ix_person_merge_merged_id"), "person_merge", ["merged_id"], unique=False)
    op.create_index(
        op.f("ix_person_merge_survivor_id"), "person_merge", ["survivor_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_person_merge_survivor_id"), table_name="person_merge")
    op.drop_index(op.f("ix_person_merge_merged_id"), table_name="person_merge")
    op.drop_table("person_merge")
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL (as 0009's): SQLite 3.35+ drops the column, REFERENCES and all, in
        # place. Batch mode would rebuild `person`, whose DROP TABLE fails with foreign
        # keys on once anything points at a person (addresses, incidents, intelligence),
        # and would lose 0003's full-text triggers.
        op.drop_index(INDEX_NAME, table_name="person")
        op.execute("ALTER TABLE person DROP COLUMN merged_into_id")
    else:
        op.drop_index(INDEX_NAME, table_name="person")
        op.drop_constraint(FK_NAME, "person", type_="foreignkey")
        op.drop_column("person", "merged_into_id")
