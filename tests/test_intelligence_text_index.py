"""Intelligence text search through the trigram index (migration 0005): text found in a
few reports is looked up by id, commoner text by walking the reports newest first with
the substring checked on each (SQLite). Both ways must find exactly the reports the plain
substring finds, newest first. On both backends (PostgreSQL's GIN index serves the
substring directly, so there the two ways are one)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from controlroom.data import intelligence_queries
from controlroom.domain.roles import Role
from controlroom.services import intelligence
from tests.factories import staff_actor


@pytest.mark.parametrize("text", ["knife", "seen", 'a "quoted" AND', "ab", "zqxj"])
def test_rare_and_common_text_find_the_same_reports(seeded_database, monkeypatch, text):
    actor = staff_actor(seeded_database, Role.SUPERVISOR)

    def found() -> list[int]:
        return [
            r.id
            for r in intelligence.search_reports(seeded_database.uow(), actor, text=text, limit=200)
        ]

    by_id = found()
    monkeypatch.setattr(intelligence_queries, "TEXT_RARE", 0)  # every text is common
    walked = found()
    assert walked == by_id
    if text in ("knife", "seen"):
        assert len(by_id) > 1  # the seeded force holds these words: the test means something


@pytest.mark.parametrize(("window", "reach"), [(5, 5), (5, 600), (300, 300)])
@pytest.mark.parametrize("limit", [3, 50])
def test_the_newest_reports_first_find_the_same_page(
    seeded_database, monkeypatch, window, reach, limit
):
    """PostgreSQL looks for text among the newest reports first (RECENT_REPORTS), walks
    on (up to RECENT_REACH) when it found some but less than a page, and asks the
    trigram index only after that: the page is the one a single search of every report
    gives, whichever way it was found."""
    if seeded_database.engine.dialect.name != "postgresql":
        pytest.skip("the newest-first window is PostgreSQL's (SQLite probes its index)")
    actor = staff_actor(seeded_database, Role.SUPERVISOR)
    walked: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "lower(intelligence_report.text) LIKE" in statement:
            walked.append(statement)

    def found(text: str) -> list[int]:
        return [
            r.id
            for r in intelligence.search_reports(
                seeded_database.uow(), actor, text=text, limit=limit
            )
        ]

    texts = ["knife", "seen", "ab", "zqxj", 'a "quoted" AND', "50%_off"]
    monkeypatch.setattr(intelligence_queries, "RECENT_REPORTS", 10**9)  # no window
    whole = {text: found(text) for text in texts}
    monkeypatch.setattr(intelligence_queries, "RECENT_REPORTS", window)
    monkeypatch.setattr(intelligence_queries, "RECENT_REACH", reach)
    event.listen(seeded_database.engine, "before_cursor_execute", seen)
    try:
        assert {text: found(text) for text in texts} == whole
    finally:
        event.remove(seeded_database.engine, "before_cursor_execute", seen)
    assert len(walked) >= len(texts)  # every text was looked for in the window first
    if reach > window and limit == 50:
        assert len(walked) > len(texts)  # and some walked on
    assert len(whole["seen"]) == limit  # a common word fills the page
