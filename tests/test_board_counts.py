"""The home board's counts on a real database: open incidents by grade, status and
heading, and the oldest open one, whatever status it is in (closed ones, however old,
do not count)."""

from __future__ import annotations

from datetime import timedelta

from controlroom.services import board
from tests.databases import SEED_ANCHOR
from tests.factories import add_incident

GRADES = ("G1", "G2", "G3", "G4")


def test_the_oldest_open_incident_is_found_in_any_open_status(database):
    add_incident(database, grade="G4", status="closed", age=timedelta(days=40))
    add_incident(database, grade="G1", status="open", age=timedelta(hours=3))
    add_incident(database, grade="G2", status="dispatched", age=timedelta(hours=7))
    add_incident(database, grade="G3", status="at_scene", age=timedelta(hours=2))
    counts = board.home_counts(database.uow(), GRADES, SEED_ANCHOR)
    assert counts.oldest_open_at == SEED_ANCHOR - timedelta(hours=7)
    assert counts.open_total == 3
    assert dict(counts.by_status) == {"open": 1, "dispatched": 1, "at_scene": 1}
    assert dict(counts.by_grade) == {"G1": 1, "G2": 1, "G3": 1, "G4": 0}


def test_with_nothing_open_there_is_no_oldest(database):
    add_incident(database, status="closed", age=timedelta(days=2))
    counts = board.home_counts(database.uow(), GRADES, SEED_ANCHOR)
    assert counts.oldest_open_at is None and counts.open_total == 0
