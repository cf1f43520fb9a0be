"""Intelligence text search through the trigram index (migration 0005): text found in a
few reports is looked up by id, commoner text by walking the reports newest first with
the substring checked on each (SQLite). Both ways must find exactly the reports the plain
substring finds, newest first. On both backends (PostgreSQL's GIN index serves the
substring directly, so there the two ways are one)."""

from __future__ import annotations

import pytest

from controlroom.data import intelligence_queries
from controlroom.domain.roles import Role
from controlroom.services import intelligence
from tests.factories import staff_actor


@pytest.mark.parametrize("text", ["knife", "seen", 'a "quoted" AND', "ab", "zqxj"])
def test_rare_and_common_text_find_the_same_reports(seeded_database, monkeypatch, text):
    actor = staff_actor(seeded_database, Role.SUPERVISOR)

    def found() -> list[int]:
        return [r.id for r in intelligence.search_reports(seeded_database.uow(), actor,
                                                          text=text, limit=200)]

    by_id = found()
    monkeypatch.setattr(intelligence_queries, "TEXT_RARE", 0)  # every text is common
    walked = found()
    assert walked == by_id
    if text in ("knife", "seen"):
        assert len(by_id) > 1  # the seeded force holds these words: the test means something
