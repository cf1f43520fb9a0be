"""Search stays fast on a force-sized database only while the database answers it from
indexes: every statement a person search or an intelligence text search runs is checked
with the backend's own EXPLAIN, and none may read a whole table of people, addresses or
reports (SQLite: no SCAN of them; PostgreSQL, with sequential scans priced out: no Seq
Scan of them). On the small synthetic force, so the statements are the real ones.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select

from controlroom.data.cold_models import Person, PersonAddress
from controlroom.data.models import Location
from controlroom.domain.roles import Role
from controlroom.services import intelligence, person_record
from controlroom.services.person_search import search_persons
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor

TODAY = SEED_ANCHOR.date()
BIG_TABLES = (
    "person",
    "person_alias",
    "person_address",
    "location",
    "intelligence_report",
    "intelligence_subject",
    "incident_person",
    "warning_marker",
)
TABLES = "|".join(BIG_TABLES)


@pytest.fixture(scope="module")
def operator(force):
    return staff_actor(force, Role.SUPERVISOR, terminal="192.0.2.45")


@contextmanager
def statements(database):
    """The SELECT statements (SQL text and parameters) run inside the block."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)


def full_scans(database, captured) -> list[str]:
    """The plan lines, over all `captured` statements, that read a big table whole."""
    dialect = database.engine.dialect.name
    found = []
    with database.engine.connect() as connection:
        if dialect == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")
            prefix, pattern = "EXPLAIN ", re.compile(rf"Seq Scan on ({TABLES})\b")
        else:
            prefix, pattern = "EXPLAIN QUERY PLAN ", re.compile(rf"\bSCAN ({TABLES})\b")
        for statement, parameters in captured:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            for row in rows:
                line = str(row[-1])
                if pattern.search(line):
                    found.append(f"{line}  <-  {statement[:300]}")
        connection.rollback()
    return found


def a_home(force) -> tuple[str, str]:
    """(surname, postcode) of a seeded person at their current home."""
    with force.uow() as uow:
        return uow.session.execute(
            select(Person.surname, Location.postcode)
            .join(PersonAddress, PersonAddress.person_id == Person.id)
            .join(Location, Location.id == PersonAddress.location_id)
            .where(PersonAddress.valid_to.is_(None), Location.postcode.is_not(None))
            .order_by(Person.id)
            .limit(1)
        ).one()


@pytest.mark.parametrize(
    "query",
    [
        "muhammad smyth",  # names, spelling variants
        "jhon simth",  # both names with letters swapped (near spellings)
        "smiht",  # one short surname, one slip, alone
        "smyth 1980-1985",  # surname and a range of years
        "john smith 02/03/1984",  # names and a date of birth (and its transposition)
        "smith ~40",  # an approximate age
        "whit",  # the start of a name part (full text)
        "smith LS1 ",  # an outward code
        "xqzv wjqk",  # two words nobody has: every stage, down to the last
        "faima smith",  # a letter left out early: the several-word fallback
        "adasm 2012-2016",  # a lone slip within a range (first letters only if few)
        "yrene grai",  # slips at the first letters: the slips stage (key pairs)
        "laua hay",  # a one-letter key among the slips stage's pairs
        "mogan 2006-2010",  # a lone word's one-slip keys within a range
        "wilson sean",  # a family's keys beside the word's own
        "karen ojgnson",  # two slips at a surname's start: the other-word stage
        "maragert wlikisnon",  # two slips in each, past the first two letters: start pairs
    ],
)
def test_person_search_reads_no_table_whole(force, operator, query):
    with statements(force) as captured:
        search_persons(force.uow(), operator, query, today=TODAY)
    assert captured
    assert full_scans(force, captured) == []


def test_a_postcode_search_reads_no_table_whole(force, operator):
    surname, postcode = a_home(force)
    with statements(force) as captured:
        hits = search_persons(force.uow(), operator, f"{surname} {postcode}", today=TODAY)
    assert hits
    assert full_scans(force, captured) == []


@pytest.mark.parametrize("text", ["knife", "seen at", 'a "quoted" AND word'])
def test_intelligence_text_search_reads_no_table_whole(force, operator, text):
    with statements(force) as captured:
        intelligence.search_reports(force.uow(), operator, text=text, date_from=date(2020, 1, 1))
    assert captured
    assert full_scans(force, captured) == []


@pytest.mark.parametrize("born", [True, False])
def test_opening_a_person_record_reads_no_table_whole(force, operator, born):
    """The record (and its possible duplicates: same names, compatible date of birth)
    is read through indexes, with or without a date of birth recorded."""
    with force.uow() as uow:
        person_id = uow.session.scalar(
            select(Person.id)
            .where(
                Person.restricted.is_(False),
                Person.merged_into_id.is_(None),
                Person.date_of_birth.is_not(None) if born else Person.date_of_birth.is_(None),
            )
            .order_by(Person.id)
            .limit(1)
        )
    if person_id is None:
        pytest.skip("the seeded force has no such person")
    with statements(force) as captured:
        person_record.view_person(force.uow(), operator, person_id, today=TODAY)
    assert captured
    assert full_scans(force, captured) == []
    # The possible duplicates by the name-starts index of 0011: "not merged" alone is
    # nearly everyone (SQLite read them all through ix_person_merged_into_id).
    [(statement, parameters)] = [(s, p) for s, p in captured if "person.id !=" in s]
    plan = plan_text(force, statement, parameters)
    assert "ix_person_merged_into_id" not in plan and "start" in plan, plan


def plan_text(database, statement: str, parameters) -> str:
    """The backend's plan of one captured statement, as one string."""
    prefix = "EXPLAIN " if database.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with database.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        connection.rollback()
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    "query",
    [
        "yrene grai",  # the pairs in the index's order
        # the pairs, the likeliest first (the index's order found no one): 220 ms for
        # "mairon wallae" on a million persons, reading the row of everyone with one of
        # a hundred surname keys
        "kmaria imah",
    ],
)
def test_the_slips_stages_pairs_are_checked_on_the_index_of_both_keys(force, operator, query):
    """The slips stage's pairs (a hundred keys a side) are read through the index that
    holds the surname key and the forename key together, each entry checked there:
    asked for a candidate's columns, SQLite took the (surname key, date of birth) index
    and read the row of everyone with one of the surname keys to check the forename key
    (tens of thousands of rows on a million persons)."""
    if force.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans the pairs by its statistics (bitmap scans of both)")
    with statements(force) as captured:
        search_persons(force.uow(), operator, query, today=TODAY)
    pairs = [
        (s, p) for s, p in captured if "json_each" in s and "coalesce(person.forename_key" in s
    ]
    assert pairs, "the slips stage did not run"
    for statement, parameters in pairs:
        plan = plan_text(force, statement, parameters)
        assert "COVERING INDEX ix_person_name_keys" in plan, plan
        assert "ix_person_surname_key_born" not in plan, plan
