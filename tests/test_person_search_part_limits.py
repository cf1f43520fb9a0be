"""A stage's part reads no more rows than it may add, and those found before may repeat.

`collect` asks each part for as many rows as could be wanted: those found already may
come again, so a part reads its group's room past every one found before it. A group
`apart` from those before it in the statement (another filter set: people with no date
of birth recorded, after those born in the range asked) can meet again only those found
before the statement, and reads no further: on a million persons the slips stage of a
lone word within a range ("brue 1955-1959") read 200 people with no date recorded to
keep 100. Its people are the same; on the small synthetic force, on the backend under
test.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from controlroom.data import search as search_module
from controlroom.data.cold_models import Person
from controlroom.data.search import Candidate, CandidateGroup, PersonCriteria
from controlroom.domain.phonetics import phonetic_keys
from controlroom.domain.roles import Role
from controlroom.services.person_search import NEAR_LIMIT, search_persons
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor

TODAY = SEED_ANCHOR.date()


@pytest.fixture(scope="module")
def surname(force) -> str:
    """The surname most people with no date of birth recorded bear."""
    with force.uow() as uow:
        return uow.session.scalar(
            select(Person.surname)
            .where(Person.date_of_birth.is_(None))
            .group_by(Person.surname)
            .order_by(func.count().desc(), Person.surname)
            .limit(1)
        )


def _keyed_and_dated(search, surname: str):
    """The conditions: the person's own surname by its keys; born since 1900."""
    keyed = search.names([phonetic_keys(surname)], aliases=False)[0]
    dated = search.born(PersonCriteria(born_from=date(1900, 1, 1), born_to=TODAY))
    assert dated is not None
    return keyed, dated


def _reads(search, monkeypatch) -> list[dict]:
    """The parameters of every statement `search` sends from now on."""
    sent: list[dict] = []
    rows = search._rows

    def spy(statement, params=None):
        sent.append(dict(params or {}))
        return rows(statement, params)

    monkeypatch.setattr(search, "_rows", spy)
    return sent


def _collect(force, surname: str, apart: bool, monkeypatch):
    """Three born on a known day found first; then in one statement five more of them
    and two with no date recorded (`apart` or not): the people found, what each group
    added, and the parts' limits."""
    with force.uow() as uow:
        search = uow.search
        keyed, dated = _keyed_and_dated(search, surname)
        found: dict = {}
        search.collect(found, [CandidateGroup([search.within([dated], keyed)], 3)], 200)
        sent = _reads(search, monkeypatch)
        added = search.collect(
            found,
            [
                CandidateGroup([search.within([dated], keyed)], 5),
                CandidateGroup([search.within([search.no_date_of_birth()], keyed)], 2, apart=apart),
            ],
            200,
        )
        monkeypatch.undo()
    (params,) = sent
    return list(found), added, (params["limit_0"], params["limit_1"])


def test_a_group_apart_reads_only_its_room_past_those_found_before(force, surname, monkeypatch):
    together, added, limits = _collect(force, surname, False, monkeypatch)
    assert added == [5, 2]
    assert limits == (3 + 5, 3 + 5 + 2)  # the second part may meet the first's five again
    apart, added, limits = _collect(force, surname, True, monkeypatch)
    assert added == [5, 2]
    assert limits == (3 + 5, 3 + 2)  # only the three found before may come again
    assert apart == together  # the same people, in the same order


def _parameters_sent(force, monkeypatch, line: str) -> list[dict]:
    """Search `line` as a supervisor: the parameters of each statement the stages sent."""
    operator = staff_actor(force, Role.SUPERVISOR, terminal="192.0.2.49")
    sent: list[dict] = []
    rows = search_module._IndexedSearch._rows

    def spy(self, statement, params=None):
        sent.append(dict(params or {}))
        return rows(self, statement, params)

    monkeypatch.setattr(search_module._IndexedSearch, "_rows", spy)
    search_persons(force.uow(), operator, line, today=TODAY)
    return sent


def test_a_lone_word_within_a_range_reads_a_stages_room_of_the_undated(force, surname, monkeypatch):
    """The slips stage of a lone word within a range (no hit one slip from it or
    sounding like it): within the range, then with no date recorded, a part each,
    each reading at most NEAR_LIMIT rows."""
    sent = _parameters_sent(force, monkeypatch, "zqxvw 1960-1990")
    slips = [params for params in sent if "slip_keys" in params]
    assert slips, "the slips stage ran"
    (params,) = slips
    assert [params[f"limit_{n}"] for n in range(2)] == [NEAR_LIMIT, NEAR_LIMIT]


def _fresh_collect(force, surname: str, fresh: bool, monkeypatch):
    """Five born on a known day found first; then in one statement two more of them,
    those five left out and the group `fresh` or not: the people found, what the group
    added, and the part's limit."""
    with force.uow() as uow:
        search = uow.search
        keyed, dated = _keyed_and_dated(search, surname)
        found: dict = {}
        search.collect(found, [CandidateGroup([search.within([dated], keyed)], 5)], 200)
        filters = [dated, search.none_of(list(found))] if fresh else [dated]
        sent = _reads(search, monkeypatch)
        added = search.collect(
            found, [CandidateGroup([search.within(filters, keyed)], 2, fresh=fresh)], 200
        )
        monkeypatch.undo()
    (params,) = sent
    return list(found), added, params["limit_0"]


def test_a_fresh_group_reads_only_its_room(force, surname, monkeypatch):
    """Its parts leave out those found before: the rows it reads are its room alone,
    and it adds the people it added when it read past those found."""
    again, added, limit = _fresh_collect(force, surname, False, monkeypatch)
    assert (added, limit) == ([2], 5 + 2)
    fresh, added, limit = _fresh_collect(force, surname, True, monkeypatch)
    assert (added, limit) == ([2], 2)
    assert fresh == again


def test_the_slipped_starts_leave_out_those_the_pairs_found(force, monkeypatch):
    """Two words, neither sounding like a name held: the slips stage's pairs first, then
    (the pairs leaving room) the slipped starts, those the pairs found left out, each
    part reading only the room the pairs left."""
    sent = _parameters_sent(force, monkeypatch, "jhon simth")
    assert len([p for p in sent if "slip_keys_0" in p and "slip_initial_0" not in p]) == 1
    starts = [p for p in sent if "slip_initial_0" in p]
    assert starts, "the slipped starts were asked"
    (params,) = starts
    left_out = params["found_ids"]
    left_out = json.loads(left_out) if isinstance(left_out, str) else left_out
    limits = {v for k, v in params.items() if k.startswith("limit_")}
    assert left_out and limits == {NEAR_LIMIT - len(left_out)}


def test_candidates_are_plain_tuples_of_their_columns(force, surname):
    """What `collect` finds comes back as `Candidate` tuples, not database rows (ranking
    reads each field a dozen times, a row's by name at ten times the cost), holding the
    person's own columns, dates and flags typed as on a plain select, from a single
    part and from a union of parts alike."""
    with force.uow() as uow:
        search = uow.search
        keyed, dated = _keyed_and_dated(search, surname)
        alone: dict = {}
        search.collect(alone, [CandidateGroup([search.within([dated], keyed)], 3)], 200)
        found: dict = {}
        search.collect(
            found,
            [
                CandidateGroup([search.within([dated], keyed)], 3),
                CandidateGroup([search.within([search.no_date_of_birth()], keyed)], 2, True),
            ],
            200,
        )
        assert len(alone) == 3 and len(found) == 5
        people = {
            person.id: (
                person.id,
                person.forename,
                person.surname,
                person.date_of_birth,
                person.restricted,
                person.merged_into_id,
            )
            for person in uow.session.scalars(select(Person).where(Person.id.in_([*alone, *found])))
        }
    for person_id, candidate in [*alone.items(), *found.items()]:
        assert type(candidate) is Candidate
        assert candidate == people[person_id]
        assert candidate.date_of_birth is None or type(candidate.date_of_birth) is date
