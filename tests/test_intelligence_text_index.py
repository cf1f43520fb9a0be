"""Intelligence text search through the trigram index (migration 0005): text found in a
few reports is looked up by id, commoner text by walking the reports newest first with
the substring checked on each, and where that walk stops short every report the index
finds is checked (SQLite). Every way must find exactly the reports the plain substring
finds, newest first. On both backends (PostgreSQL's GIN index serves the substring
directly, after its own look among the newest reports)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from controlroom.data import intelligence_queries
from controlroom.domain.roles import Role
from controlroom.services import intelligence
from tests.databases import SEED_ANCHOR
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
    actor = staff_actor(seeded_database, Role.SUPERVISOR)
    walked: list[str] = []
    if seeded_database.engine.dialect.name == "sqlite":
        # SQLite walks the newest reports for text its trigram index finds common, and
        # checks every report the index finds where the walk stops short.
        monkeypatch.setattr(intelligence_queries, "TEXT_RARE", 0)  # every text is common

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "intelligence_report.submitted_at >=" in statement and "LIKE" in statement:
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
    # Every text was looked for in the window first (on SQLite, every text its index
    # finds: "ab" has no trigram and "zqxj" is in no report).
    looked_for = ["knife", "seen"] if seeded_database.engine.dialect.name == "sqlite" else texts
    assert len(walked) >= len(looked_for)
    if reach > window and limit == 50:
        assert len(walked) > len(looked_for)  # and some walked on
    assert len(whole["seen"]) == limit  # a common word fills the page


def test_sqlite_like_finds_what_lowered_like_found(seeded_database):
    """SQLite's text check is LIKE as it stands, where it was lower(text) LIKE
    lower(pattern): both fold ASCII letters and nothing else, so they find the same
    reports, whatever the letters (on PostgreSQL the check is ILIKE, unchanged)."""
    from sqlalchemy import func, literal, select

    from controlroom.data.cold_models import IntelligenceReport
    from controlroom.data.like import LIKE_ESCAPE, like_pattern

    if seeded_database.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's LIKE")
    texts = [
        "ÉIRE and éire",
        "Straße, STRASSE",
        "İstanbul ıstanbul ISTANBUL",
        "ǅemal Ǆemal",
        "Ölçü 50%_off",
        "plain words",
    ]
    actor = staff_actor(seeded_database, Role.SUPERVISOR)
    with seeded_database.uow() as uow:
        staff = uow.staff.by_username(actor.username).id
        for text in texts:
            uow.session.add(
                IntelligenceReport(
                    reference=f"IR-20261126-9{len(text):03d}{texts.index(text)}",
                    submitted_at=SEED_ANCHOR,
                    submitted_by_id=staff,
                    source_grade="2",
                    intelligence_grade="B",
                    handling_code="P",
                    text=text,
                    restricted=False,
                )
            )
        uow.commit()
    asked = [
        "éire",
        "ÉIRE",
        "eire",
        "straße",
        "STRASSE",
        "strasse",
        "i̇stanbul",
        "ıstanbul",
        "istanbul",
        "ǆemal",
        "ölçü",
        "ÖLÇÜ",
        "50%_o",
        "PLAIN W",
    ]
    report = IntelligenceReport
    with seeded_database.uow() as uow:
        for text in asked:
            pattern = like_pattern(text, before="%")
            lowered = set(
                uow.session.scalars(
                    select(report.id).where(
                        func.lower(report.text).like(
                            func.lower(literal(pattern)), escape=LIKE_ESCAPE
                        )
                    )
                )
            )
            plain = set(
                uow.session.scalars(
                    select(report.id).where(
                        intelligence_queries._text_contains(report.text, text, "sqlite")
                    )
                )
            )
            assert plain == lowered, text
            if text in ("ÉIRE", "STRASSE", "PLAIN W"):
                assert plain, text  # the test means something
