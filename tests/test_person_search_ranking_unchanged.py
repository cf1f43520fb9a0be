"""A search ranks its candidates exactly as the straightforward ranking would.

The service ranks every candidate of a line with one LineRanker
(controlroom.domain.person_ranking), which keeps what the candidates share. Here the
same lines are searched twice on the small synthetic force, on the backend under test:
once as the service runs, once with each candidate scored the straightforward way
(tests/ranking_reference.py: the ranking as written before LineRanker, nothing kept),
and the pages must be the same: the same people in the same order, with the same
match, score and reasons. The lines are the recall promise's (two facts each, slips
anywhere, controlroom.domain.search_recall) and the benchmark's kinds (misspelled names,
with a date, a range of years, a postcode).
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import Person
from controlroom.domain.roles import Role
from controlroom.domain.search_recall import KINDS, Caller, caller_lines
from controlroom.domain.slips import misspell
from controlroom.services import person_search
from controlroom.services.person_search import search_persons
from tests import ranking_reference
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor

TODAY = SEED_ANCHOR.date()
SEED = 31


class ReferenceRanker:
    """LineRanker's interface, each candidate scored afresh by the reference."""

    def __init__(self, query, words) -> None:
        self.query, self.words = query, words

    def name_match(self, forename, surname):
        return ranking_reference.name_match(self.words, forename, surname)

    def rank(self, forename, surname):
        return self.name_match(forename, surname).rank

    def score(self, names, date_of_birth):
        return ranking_reference.score_person(self.query, self.words, list(names), date_of_birth)


@pytest.fixture(scope="module")
def lines(force) -> list[str]:
    with force.uow() as uow:
        rows = uow.session.execute(
            select(Person.forename, Person.surname, Person.date_of_birth)
            .where(Person.merged_into_id.is_(None), Person.restricted.is_(False))
            .order_by(Person.id)
        ).all()
    rng = random.Random(SEED)
    callers = [Caller(f, s, born, None, None) for f, s, born in rows]
    made = [line.line for line, _ in caller_lines(callers, rng, 4, KINDS)]
    for forename, surname, born in rng.sample(rows, 16):
        fore, sur = misspell(forename, rng), misspell(surname, rng)
        made.append(f"{fore} {sur}")
        if born is not None:
            made.append(f"{sur} {born.year - 2}-{born.year + 2}")
            made.append(f"{fore} {sur} {born:%d/%m/%Y}")
    return made


def _page(force, operator, line: str):
    return [
        (hit.person_id, hit.match, hit.score, hit.why)
        for hit in search_persons(force.uow(), operator, line, today=TODAY)
    ]


def test_every_page_is_ranked_as_the_straightforward_ranking_ranks_it(force, lines, monkeypatch):
    operator = staff_actor(force, Role.SUPERVISOR, terminal="192.0.2.48")
    assert len(lines) > 60
    pages = {line: _page(force, operator, line) for line in lines}
    assert sum(1 for page in pages.values() if page) > len(lines) // 2  # most find someone
    monkeypatch.setattr(person_search, "LineRanker", ReferenceRanker)
    for line, page in pages.items():
        assert _page(force, operator, line) == page, line
