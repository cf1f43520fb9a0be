"""person search: phonetic keys of person and alias names, and full-text name indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 05:40:00

Adds, to `person` and `person_alias`, the indexed phonetic keys person search finds
spelling variants by (forename; surname whole, first part, last part), and keys every
existing row. Every change is an added nullable column or a new index, so SQLite takes
them as plain ALTER TABLE ADD COLUMN / CREATE INDEX: no table is rebuilt.

The keys are computed in Python by controlroom.domain.phonetics (the domain is stable;
the models are not imported), the same rule the program writes new rows with.

Full text, per dialect (controlroom.data.search queries it):
- SQLite: FTS5 tables `person_name_fts` (rowid = person.id) and `person_alias_name_fts`
  (rowid = person_alias.id), kept in step by triggers on insert, name update and delete,
  so every writer (ORM, the seeder's bulk Core inserts) maintains them. INVARIANT: a later
  migration that rebuilds `person` or `person_alias` in batch mode loses the triggers and
  must call `create_sqlite_full_text()` again.
- PostgreSQL: the pg_trgm extension and GIN trigram indexes on the name columns, which
  serve ILIKE 'prefix%' and the similarity operator `%`.

Downgrade drops all of it (the extension stays: other databases' objects may use it),
in place on SQLite too, so it works on a populated database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from controlroom.domain.phonetics import name_keys

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_BATCH = 5_000
KEY_COLUMNS = ("forename_key", "surname_key", "surname_key_first", "surname_key_last")
TABLES = ("person", "person_alias")


def _fill_keys(table_name: str) -> None:
    """Key every existing row, a batch at a time in id order (keyset, not OFFSET)."""
    table = sa.table(
        table_name,
        sa.column("id", sa.Integer),
        sa.column("forename", sa.String),
        sa.column("surname", sa.String),
        *(sa.column(name, sa.String) for name in KEY_COLUMNS),
    )
    connection = op.get_bind()
    keyed = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in KEY_COLUMNS})
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.forename, table.c.surname)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(KEY_BATCH)
        ).all()
        if not rows:
            return
        parameters = []
        for row in rows:
            forename, surname = name_keys(row.forename), name_keys(row.surname)
            parameters.append(
                {
                    "row_id": row.id,
                    "new_forename_key": forename.whole,
                    "new_surname_key": surname.whole,
                    "new_surname_key_first": surname.first,
                    "new_surname_key_last": surname.last,
                }
            )
        connection.execute(keyed, parameters)
        last = rows[-1].id


# SQLAlchemy has no construct for an FTS5 virtual table, a trigger or an extension, so
# these are fixed DDL strings: no value is ever formatted into them.
SQLITE_FULL_TEXT = (
    "CREATE VIRTUAL TABLE person_name_fts USING fts5(forename, surname,"
    " tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE VIRTUAL TABLE person_alias_name_fts USING fts5(person_id UNINDEXED, forename,"
    " surname, tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER person_name_fts_insert AFTER INSERT ON person BEGIN"
    " INSERT INTO person_name_fts(rowid, forename, surname)"
    " VALUES (new.id, new.forename, new.surname); END",
    "CREATE TRIGGER person_name_fts_update AFTER UPDATE OF forename, surname ON person BEGIN"
    " DELETE FROM person_name_fts WHERE rowid = old.id;"
    " INSERT INTO person_name_fts(rowid, forename, surname)"
    " VALUES (new.id, new.forename, new.surname); END",
    "CREATE TRIGGER person_name_fts_delete AFTER DELETE ON person BEGIN"
    " DELETE FROM person_name_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER person_alias_name_fts_insert AFTER INSERT ON person_alias BEGIN"
    " INSERT INTO person_alias_name_fts(rowid, person_id, forename, surname)"
    " VALUES (new.id, new.person_id, new.forename, new.surname); END",
    "CREATE TRIGGER person_alias_name_fts_update AFTER UPDATE ON person_alias BEGIN"
    " DELETE FROM person_alias_name_fts WHERE rowid = old.id;"
    " INSERT INTO person_alias_name_fts(rowid, person_id, forename, surname)"
    " VALUES (new.id, new.person_id, new.forename, new.surname); END",
    "CREATE TRIGGER person_alias_name_fts_delete AFTER DELETE ON person_alias BEGIN"
    " DELETE FROM person_alias_name_fts WHERE rowid = old.id; END",
    "INSERT INTO person_name_fts(rowid, forename, surname) SELECT id, forename, surname"
    " FROM person",
    "INSERT INTO person_alias_name_fts(rowid, person_id, forename, surname)"
    " SELECT id, person_id, forename, surname FROM person_alias",
)
SQLITE_FULL_TEXT_DROP = (
    "DROP TRIGGER IF EXISTS person_alias_name_fts_delete",
    "DROP TRIGGER IF EXISTS person_alias_name_fts_update",
    "DROP TRIGGER IF EXISTS person_alias_name_fts_insert",
    "DROP TRIGGER IF EXISTS person_name_fts_delete",
    "DROP TRIGGER IF EXISTS person_name_fts_update",
    "DROP TRIGGER IF EXISTS person_name_fts_insert",
    "DROP TABLE IF EXISTS person_alias_name_fts",
    "DROP TABLE IF EXISTS person_name_fts",
)
TRIGRAM_INDEXES = tuple(
    (f"ix_{table}_{column}_trgm", table, column)
    for table in TABLES
    for column in ("forename", "surname")
)


def create_sqlite_full_text() -> None:
    """The FTS5 tables, their triggers, and their rows from the tables as they stand."""
    for statement in SQLITE_FULL_TEXT_DROP + SQLITE_FULL_TEXT:
        op.execute(statement)


def _create_postgresql_full_text() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def upgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for name in KEY_COLUMNS:
                batch_op.add_column(sa.Column(name, sa.String(length=16), nullable=True))
        _fill_keys(table_name)
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for name in KEY_COLUMNS:
                batch_op.create_index(batch_op.f(f"ix_{table_name}_{name}"), [name], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_full_text()
    elif op.get_bind().dialect.name == "postgresql":
        _create_postgresql_full_text()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_FULL_TEXT_DROP:
            op.execute(statement)
    elif op.get_bind().dialect.name == "postgresql":
        for name, table, _column in reversed(TRIGRAM_INDEXES):
            op.drop_index(name, table_name=table)
    for table_name in reversed(TABLES):
        for name in reversed(KEY_COLUMNS):
            op.drop_index(op.f(f"ix_{table_name}_{name}"), table_name=table_name)
        for name in reversed(KEY_COLUMNS):
            if op.get_bind().dialect.name == "sqlite":
                # Fixed DDL naming fixed columns (as 0009's): SQLite 3.35+ drops a plain
                # column in place. Batch mode would rebuild `person`, whose DROP TABLE
                # fails with foreign keys on once anything points at a person.
                op.execute(f"ALTER TABLE {table_name} DROP COLUMN {name}")
            else:
                op.drop_column(table_name, name)
