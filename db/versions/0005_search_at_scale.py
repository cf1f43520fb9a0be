"""search at scale: indexes for person and intelligence search (issue #4)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:15:00

Person search on a force of a million people asks the database for a forename key and a
surname key together, or a surname key and a range of dates of birth (controlroom.data.
search): composite indexes serve both, so neither backend reads everyone called Smith or
Mohammed. On `person`: (surname key, forename key, date of birth), (surname key, date of
birth), and (first / last part's surname key, forename key) for double-barrelled names;
on `person_alias`: (surname key, forename key). SQLite keeps no statistics, so it picks
the index that matches the most columns: these make that the right one. All are plain
CREATE INDEX on both backends: `person` and `person_alias` are NOT rebuilt, so migration
0003's full-text triggers survive. On PostgreSQL only, expression indexes on the first
three letters of forename and surname, lower case (`ix_person_forename_start`,
`ix_person_surname_start`, outside the models like the trigram ones), serve the search
by first letters that catches a letter left out ("chalie mooe"), and names being typed;
SQLite's FTS5 prefix index (0003) does both there.

Intelligence search:
- `ix_intelligence_report_supersedes_id`: "not superseded" looks up the few reports
  another one supersedes instead of reading them all;
- text (a case-insensitive substring) through a trigram index, per dialect:
  - SQLite: the FTS5 table `intelligence_text_fts` (trigram tokenizer, external content
    on `intelligence_report`, detail=none so it holds only which reports hold each
    trigram), kept in step by triggers on insert, text update and delete, so every writer
    (ORM, the seeder's bulk Core inserts) maintains it. The search asks for every
    trigram of the text typed and confirms the substring on the report itself.
  - PostgreSQL: a GIN trigram index on `intelligence_report.text` (pg_trgm, made by
    0003), which serves ILIKE '%text%' directly.
  Both sit outside the models (controlroom.data.search.include_name leaves them out of
  schema comparison), like 0003's. INVARIANT: a later migration that rebuilds
  `intelligence_report` in batch mode on SQLite loses the triggers and must call
  `create_sqlite_text_index()` again.

Downgrade drops all of it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_INDEXES = (
    ("ix_person_name_keys", "person", ["surname_key", "forename_key", "date_of_birth"]),
    ("ix_person_surname_key_born", "person", ["surname_key", "date_of_birth"]),
    ("ix_person_surname_first_keys", "person", ["surname_key_first", "forename_key"]),
    ("ix_person_surname_last_keys", "person", ["surname_key_last", "forename_key"]),
    ("ix_person_alias_name_keys", "person_alias", ["surname_key", "forename_key"]),
)
SUPERSEDES_INDEX = "ix_intelligence_report_supersedes_id"
# PostgreSQL: the first three letters of each name, lower case (controlroom.data.search.
# name_start): the first-letters search ("chalie mooe") by btree, not trigram.
START_INDEXES = (("ix_person_forename_start", "forename"), ("ix_person_surname_start", "surname"))
TEXT_TRIGRAM_INDEX = "ix_intelligence_report_text_trgm"

# SQLAlchemy has no construct for an FTS5 virtual table or a trigger, so these are fixed
# DDL strings: no value is ever formatted into them.
SQLITE_TEXT_INDEX = (
    "CREATE VIRTUAL TABLE intelligence_text_fts USING fts5(text,"
    " content='intelligence_report', content_rowid='id', tokenize='trigram',"
    " detail='none')",
    "CREATE TRIGGER intelligence_text_fts_insert AFTER INSERT ON intelligence_report BEGIN"
    " INSERT INTO intelligence_text_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER intelligence_text_fts_update AFTER UPDATE OF text ON intelligence_report"
    " BEGIN"
    " INSERT INTO intelligence_text_fts(intelligence_text_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text);"
    " INSERT INTO intelligence_text_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER intelligence_text_fts_delete AFTER DELETE ON intelligence_report BEGIN"
    " INSERT INTO intelligence_text_fts(intelligence_text_fts, rowid, text)"
    " VALUES ('delete', old.id, old.text); END",
    "INSERT INTO intelligence_text_fts(intelligence_text_fts) VALUES ('rebuild')",
)
SQLITE_TEXT_INDEX_DROP = (
    "DROP TRIGGER IF EXISTS intelligence_text_fts_delete",
    "DROP TRIGGER IF EXISTS intelligence_text_fts_update",
    "DROP TRIGGER IF EXISTS intelligence_text_fts_insert",
    "DROP TABLE IF EXISTS intelligence_text_fts",
)


def create_sqlite_text_index() -> None:
    """The FTS5 trigram table, its triggers, and its index of the reports as they stand."""
    for statement in SQLITE_TEXT_INDEX_DROP + SQLITE_TEXT_INDEX:
        op.execute(statement)


def upgrade() -> None:
    for name, table, columns in NAME_INDEXES:
        op.create_index(name, table, columns, unique=False)
    op.create_index(SUPERSEDES_INDEX, "intelligence_report", ["supersedes_id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        create_sqlite_text_index()
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            TEXT_TRIGRAM_INDEX,
            "intelligence_report",
            ["text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"text": "gin_trgm_ops"},
        )
        for name, column in START_INDEXES:
            # A fixed expression naming a fixed column: no value is formatted in.
            op.create_index(
                name, "person", [sa.text(f"lower(substr({column}, 1, 3))")], unique=False
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_TEXT_INDEX_DROP:
            op.execute(statement)
    elif dialect == "postgresql":
        for name, _column in reversed(START_INDEXES):
            op.drop_index(name, table_name="person")
        op.drop_index(TEXT_TRIGRAM_INDEX, table_name="intelligence_report")
    op.drop_index(SUPERSEDES_INDEX, table_name="intelligence_report")
    for name, table, _columns in reversed(NAME_INDEXES):
        op.drop_index(name, table_name=table)
