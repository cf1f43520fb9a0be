"""Pilot test of person search (F3): a misspelled name finds the right person with their
markers; Enter opens the record with the linked intelligence."""

from __future__ import annotations

from datetime import date

import pytest

from controlroom.screens.person.record import PersonRecordScreen
from controlroom.screens.person.search import PersonSearch
from controlroom.services import intelligence
from tests.apps import build_app, screen_text, settle, until
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_marker, add_person


@pytest.fixture(autouse=True)
def immediate_search(monkeypatch):
    monkeypatch.setattr(PersonSearch, "search_delay", 0.0)


def searchfield(database, supervisor, address: str, markers, report: str) -> int:
    """Muhammad Searchfield, born 03/02/1979, at `address` (LS9 8AB), with `markers` and
    one 1AP intelligence report saying `report`."""
    home = add_location(database, address, postcode="LS9 8AB")
    person = add_person(
        database, "Muhammad", "Searchfield", date_of_birth=date(1979, 2, 3), home=home
    )
    for marker in markers:
        add_marker(database, person, marker)
    intelligence.submit_report(
        database.uow(),
        supervisor,
        source="1",
        intelligence="A",
        handling="P",
        conditions=None,
        text=report,
        person_ids=(person,),
        now=SEED_ANCHOR,
    )
    return person


async def test_a_misspelled_name_finds_the_person_with_markers_and_intelligence(
    database, supervisor, tmp_path
):
    searchfield(database, supervisor, "4 Search Street", ("WEAPONS",), "Carries a blade in his car")
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PersonSearch)
        await pilot.press(*"mohamed searchfeld")
        await settle(pilot)
        text = screen_text(app)
        assert "SEARCHFIELD, Muhammad" in text and "03/02/1979" in text
        assert "!WEAPONS" in text
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonRecordScreen)
        text = screen_text(app)
    assert "Muhammad Searchfield" in text
    assert "1AP" in text and "Carries a blade in his car" in text


async def test_at_80_columns_every_hit_shows_markers_counts_and_match_and_the_highlighted_one_all(
    database, supervisor, tmp_path
):
    """At 80x24 the columns that must show (markers in words, the counts, the match)
    keep their place; the address, cut, and every marker show in full on the status line
    for the highlighted hit."""
    searchfield(
        database,
        supervisor,
        "Flat 12, 145 Longcliffe Gardens",
        ("WEAPONS", "DRUGS"),
        "Carries a blade",
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"mohamed searchfeld")
        await until(pilot, lambda: "1 found" in screen_text(app))
        row = next(line for line in screen_text(app).splitlines() if "SEARCHFIELD, Muhamm" in line)
        assert "03/02/1979" in row and "!WEAPONS" in row
        # No incidents, one report; the forename another spelling, the surname alike.
        assert " 0    1    F~ S~ " in row
        await pilot.press("down")
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert (
            "SEARCHFIELD, Muhammad \u00b7 03/02/1979 \u00b7 !WEAPONS, DRUGS \u00b7 "
            "0 incidents \u00b7 1 intelligence report \u00b7 phonetic match "
            "(forename family \u00b7 surname sounds alike) \u00b7 "
            "Flat 12, 145 Longcliffe Gardens"
        ) in text


async def test_hostile_query_text_is_harmless(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        await pilot.press(*"[@click=app.quit]x '; -- %_")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, PersonSearch)
        assert "SEARCH FAILED" not in screen_text(app)


async def test_a_full_page_says_more_may_match_not_how_many_were_found(
    database, supervisor, tmp_path
):
    for n in range(22):
        add_person(database, f"Alex{chr(97 + n)}", "Pagefull", date_of_birth=date(1980, 1, 1 + n))
    app = build_app(database, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"pagefull")
        await until(pilot, lambda: "shown" in screen_text(app) or "found" in screen_text(app))
        text = screen_text(app)
        assert "the best 20 shown; more may match" in text and "20 found" not in text
