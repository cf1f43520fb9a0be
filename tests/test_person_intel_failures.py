"""Pilot tests: person search (F3) and intelligence search (F4) meet a real database error
underneath the running app. The screen says the operator's sentence and no exception text;
the log file holds the details. At 80x24."""

from __future__ import annotations

import logging
import re

import pytest

from controlroom.data.cold_models import all_tables
from controlroom.logs import configure_file_log
from controlroom.screens.intelligence.search import IntelligenceSearch
from controlroom.screens.person.search import PersonSearch
from tests.apps import build_app, screen_text, settle, until
from tests.factories import staff_actor

SIZE = (80, 24)
# What must never reach an operator's screen from a database failure.
EXCEPTION_WORDS = (
    "OperationalError",
    "ProgrammingError",
    "sqlalchemy",
    "no such table",
    "does not exist",
    "Traceback",
    "SELECT",
)


@pytest.fixture(autouse=True)
def immediate_searches(monkeypatch):
    monkeypatch.setattr(PersonSearch, "search_delay", 0.0)
    monkeypatch.setattr(IntelligenceSearch, "search_delay", 0.0)


@pytest.fixture
def file_log(tmp_path):
    path = configure_file_log(tmp_path / "logdir", "someone")
    yield path
    # The handler is the process's; later tests must not write into this file.
    logger = logging.getLogger("controlroom")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


async def test_a_person_search_the_database_does_not_answer_says_so_in_words(
    database, tmp_path, file_log
):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PersonSearch)
        # A real failure: the schema disappears underneath the running app.
        all_tables().drop_all(database.engine)
        await pilot.press(*"smith")
        await until(pilot, lambda: "SEARCH FAILED" in screen_text(app))
        text = screen_text(app)
        assert "Could not search for the person" in text
        assert not any(word in text for word in EXCEPTION_WORDS), text
        assert app.screen.query_one("#person-search-query").value == "smith"
        # The sentence's reference finds the details of this very failure in the log.
        ref = re.search(r"\(ref ([0-9a-f]+)\)", " ".join(text.split()))
        assert ref is not None, text
    logged = file_log.read_text(encoding="utf-8")
    assert f"could not search for the person [ref {ref.group(1)}]" in logged
    assert "Traceback" in logged and "Error" in logged


async def test_an_intelligence_search_the_database_does_not_answer_says_so_in_words(
    database, tmp_path, file_log
):
    app = build_app(database, tmp_path, username=staff_actor(database, "intelligence").username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, IntelligenceSearch)
        all_tables().drop_all(database.engine)
        await pilot.press(*"knife")
        await until(pilot, lambda: "Could not search the intelligence" in screen_text(app))
        text = screen_text(app)
        assert not any(word in text for word in EXCEPTION_WORDS), text
    logged = file_log.read_text(encoding="utf-8")
    assert "could not search the intelligence" in logged
    assert "Traceback" in logged
