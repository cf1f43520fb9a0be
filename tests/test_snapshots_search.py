"""Snapshot tests of the search screens at 80x24, on the seeded synthetic force: person
search with hits (markers in words), the person record, and intelligence search.

The seed, the seeding anchor and the app's clock are fixed, so a snapshot changes only
when the screen does. After a deliberate change: pytest --snapshot-update.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import IntelligenceSubject, Person, WarningMarker
from controlroom.screens.intelligence.search import IntelligenceSearch
from controlroom.screens.person.search import PersonSearch
from tests.apps import build_app, settle

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def immediate_search(monkeypatch):
    monkeypatch.setattr(PersonSearch, "search_delay", 0.0)
    monkeypatch.setattr(IntelligenceSearch, "search_delay", 0.0)


@pytest.fixture
def demo_app(seeded_database, tmp_path):
    return build_app(seeded_database, tmp_path, username="demo.supervisor")


def _marked_subject(database) -> tuple[str, str]:
    """(forename, surname) of the first seeded, unrestricted person who carries a marker
    and is the subject of intelligence: a record with everything on it."""
    with database.uow() as uow:
        return uow.session.execute(
            select(Person.forename, Person.surname)
            .where(
                Person.restricted.is_(False),
                Person.merged_into_id.is_(None),
                Person.id.in_(select(WarningMarker.person_id)),
                Person.id.in_(select(IntelligenceSubject.person_id)),
            )
            .order_by(Person.id)
            .limit(1)
        ).one()


def _person_with_namesakes(database) -> str:
    """The seeded surname most people share, misspelled by one swapped letter pair: a
    search with a full page of hits, fuzzy ones and markers among them."""
    with database.uow() as uow:
        surname = uow.session.execute(
            select(Person.surname)
            .group_by(Person.surname)
            .order_by(func.count().desc(), Person.surname)
            .limit(1)
        ).scalar_one()
    return surname[0] + surname[2] + surname[1] + surname[3:]


def test_person_search_with_hits(snap_compare, demo_app, seeded_database):
    query = _person_with_namesakes(seeded_database)

    async def search(pilot):
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*query.lower())
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=search)


def test_person_record(snap_compare, demo_app, seeded_database):
    forename, surname = _marked_subject(seeded_database)

    async def open_record(pilot):
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*f"{forename} {surname}".lower())
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=open_record)


def test_intelligence_search(snap_compare, demo_app):
    async def search(pilot):
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press(*"knife")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=search)
