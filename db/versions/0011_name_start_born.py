"""person search: the first letters of a name with the date of birth (issue #4)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 11:20:00

0005 indexed the first three letters of each name (lower case) on
their own, for the words still being typed ("moh smi") and for the first-letters stage
("chalie mooe"). Asked within a range of dates of birth ("haye 1995-1999"), the planner
had to AND that index with the date index: some 86,000 people born in five years read
to keep a handful. These two indexes put the date of birth second, so the letters and
the range (or "no date recorded") are one index range; asked without dates they serve as
0005's did, which they replace. A third puts the surname's first letters before the
forename's, so two words ("chr rob": a Christopher Robinson) are one lookup, where
ANDing the two names' bitmaps read every Chris and every Robinson. A fourth adds the
date of birth to the forename's phonetic key (0003 indexed the key alone), for a lone
word matched within a range of dates ("adasm 2012-2016": every Adam and Adams born then,
not every one ever).

Two more serve what every hit shows: a person's incidents and intelligence reports
counted from (person, incident) and (person, report) indexes alone, which replace the
single-column person indexes of 0001 (the tables are millions of rows; reading each link
row to find its incident or report was most of a hit's cost on a cold cache).

On SQLite, which finds a word's start through FTS5 (0003), only the pair index (for
two words' first letters), the forename key with the date of birth and the link indexes
are made. A later SQLite migration that rebuilds `person` in batch mode loses the pair
index (reflection cannot read an expression index) and must create it again, as it must
0003's triggers.

Downgrade drops all of it and restores the indexes of 0001 and 0005 it replaced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (new index, the 0005 index it replaces, the name column)
START_BORN_INDEXES = (
    ("ix_person_forename_start_born", "ix_person_forename_start", "forename"),
    ("ix_person_surname_start_born", "ix_person_surname_start", "surname"),
)


def _start(column: str):
    # A fixed expression naming a fixed column: no value is formatted in. It must stay
    # the expression `controlroom.data.search.name_start` writes, or no plan uses it.
    return sa.text(f"lower(substr({column}, 1, 3))")


NAME_STARTS_INDEX = "ix_person_name_starts_born"
# (new index, its table, its columns, the 0001 index it replaces)
LINK_INDEXES = (
    (
        "ix_incident_person_person_incident",
        "incident_person",
        ["person_id", "incident_id"],
        "ix_incident_person_person_id",
    ),
    (
        "ix_intelligence_subject_person_report",
        "intelligence_subject",
        ["person_id", "report_id"],
        "ix_intelligence_subject_person_id",
    ),
)
FORENAME_KEY_INDEX = "ix_person_forename_key_born"


def upgrade() -> None:
    for name, table, columns, old in LINK_INDEXES:
        op.create_index(name, table, columns, unique=False)
        op.drop_index(old, table_name=table)
    # Both dialects: SQLite reads a range of dates within a key through it as well.
    op.create_index(FORENAME_KEY_INDEX, "person", ["forename_key", "date_of_birth"], unique=False)
    op.create_index(
        NAME_STARTS_INDEX,
        "person",
        [_start("surname"), _start("forename"), "date_of_birth"],
        unique=False,
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, old, column in START_BORN_INDEXES:
        op.create_index(name, "person", [_start(column), "date_of_birth"], unique=False)
        op.drop_index(old, table_name="person")


def downgrade() -> None:
    for name, table, _columns, old in reversed(LINK_INDEXES):
        op.create_index(old, table, ["person_id"], unique=False)
        op.drop_index(name, table_name=table)
    op.drop_index(FORENAME_KEY_INDEX, table_name="person")
    op.drop_index(NAME_STARTS_INDEX, table_name="person")
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, old, column in reversed(START_BORN_INDEXES):
        op.create_index(old, "person", [_start(column)], unique=False)
        op.drop_index(name, table_name="person")
