"""incident entry: caller, location postcode, idempotency keys, per-day references,
closure, and a street key for matching locations as the operator types

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 04:28:51.458622

Upgrades a populated 0001 database in place. Every change is an added nullable column,
an added column with a literal server default, a new index or a new table, so SQLite
takes them as plain ALTER TABLE ADD COLUMN / CREATE INDEX: no table is rebuilt, and
foreign keys into `incident` and `location` are never disturbed. The uniqueness of the
idempotency keys is a unique index for the same reason (SQLite cannot add a constraint
without a rebuild). Existing locations get their street key here.

Downgrade drops the columns, in place on SQLite too (ALTER TABLE DROP COLUMN), so it
works on a populated database with foreign keys on.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STREET_KEY_BATCH = 5_000


def _street_key(text: str | None) -> str | None:
    # The rule of controlroom.data.models.street_key, as it stood at this revision.
    if text is None:
        return None
    return " ".join(text.split()).lower()[:120] or None


def _fill_street_keys() -> None:
    """Key every existing location, a batch at a time in id order (keyset, not OFFSET).

    Done in Python rather than with SQL lower(), which on SQLite folds ASCII only and
    would key "Ävenue" differently from a location added later by the program.
    """
    location = sa.table(
        "location",
        sa.column("id", sa.Integer),
        sa.column("street", sa.String),
        sa.column("address", sa.String),
        sa.column("street_key", sa.String),
    )
    connection = op.get_bind()
    keyed = (
        sa.update(location)
        .where(location.c.id == sa.bindparam("location_id"))
        .values(street_key=sa.bindparam("key"))
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(location.c.id, location.c.street, location.c.address)
            .where(location.c.id > last)
            .order_by(location.c.id)
            .limit(STREET_KEY_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            keyed,
            [
                {"location_id": row.id, "key": _street_key(row.street or row.address)}
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("street_key", sa.String(length=120), nullable=True))
    _fill_street_keys()
    if op.get_bind().dialect.name == "postgresql":
        # Rebuilt with the pattern operator class so LIKE 'LS6 %' can use it under any
        # database collation; on SQLite the 0001 index already serves a range scan.
        op.drop_index("ix_location_postcode", table_name="location")
        op.create_index(
            "ix_location_postcode",
            "location",
            ["postcode"],
            unique=False,
            postgresql_ops={"postcode": "varchar_pattern_ops"},
        )
    op.create_index(
        "ix_location_street_key",
        "location",
        ["street_key", "address"],
        unique=False,
        postgresql_ops={"street_key": "varchar_pattern_ops"},
    )

    op.create_table(
        "incident_sequence",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_incident_sequence")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postcode", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("caller_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("caller_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("caller_relationship", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        # Existing incidents were not skipped, so they read "not assessed" where empty.
        # A literal '0' (false on both backends), not an expression: SQLite adds a column
        # with a literal default in place, but rebuilds the table for an expression.
        batch_op.add_column(
            sa.Column("thrive_skipped", sa.Boolean(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("crime_reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("no_crime_reason", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_incident_caller_phone"), ["caller_phone"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_incident_idempotency_key"), ["idempotency_key"], unique=True
        )

    with op.batch_alter_table("incident_log_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_incident_log_entry_idempotency_key"), ["idempotency_key"], unique=True
        )


def _drop_columns(table_name: str, columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Fixed DDL naming fixed columns (as 0009's): SQLite 3.35+ drops a plain column
        # in place. Batch mode would rebuild the table, whose DROP TABLE fails with
        # foreign keys on once anything points at its rows.
        for name in columns:
            op.execute(f"ALTER TABLE {table_name} DROP COLUMN {name}")
    else:
        for name in columns:
            op.drop_column(table_name, name)


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_log_entry_idempotency_key"), table_name="incident_log_entry")
    _drop_columns("incident_log_entry", ("idempotency_key",))

    op.drop_index(op.f("ix_incident_idempotency_key"), table_name="incident")
    op.drop_index(op.f("ix_incident_caller_phone"), table_name="incident")
    _drop_columns(
        "incident",
        (
            "no_crime_reason",
            "crime_reference",
            "thrive_skipped",
            "idempotency_key",
            "caller_relationship",
            "caller_phone",
            "caller_name",
            "postcode",
        ),
    )

    op.drop_table("incident_sequence")

    op.drop_index("ix_location_street_key", table_name="location")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_location_postcode", table_name="location")
        op.create_index("ix_location_postcode", "location", ["postcode"], unique=False)
    _drop_columns("location", ("street_key",))
