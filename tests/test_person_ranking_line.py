"""One search line's ranker (LineRanker) ranks exactly as the straightforward way.

LineRanker keeps what a line's candidates share (a word against a name part, the way
the words fit a name, a date of birth, the fit they make together) and works each out
once. Whatever it keeps, every candidate's PersonFit (score, rank, reasons and the
order keys) must be the one the ranking before it gave: `tests/ranking_reference.py`,
the code as it was, per candidate with nothing kept. Pure: no database, no clock.
"""

from __future__ import annotations

import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from controlroom.domain import person_ranking
from controlroom.domain.name_variants import FORENAME_FAMILIES, SURNAME_FAMILIES
from controlroom.domain.person_ranking import (
    OTHER_NAME_PENALTY,
    KnownName,
    LineRanker,
    Rank,
    date_bonus,
    date_confirmed,
    date_fit,
    query_words,
    score_person,
)
from controlroom.domain.phonetics import name_parts, parse_person_query
from controlroom.domain.slips import misspell
from tests import ranking_reference

TODAY = date(2026, 11, 26)

FORENAMES = [s for family in FORENAME_FAMILIES for s in family.spellings] + [
    "Zoë",
    "Mary Ann",
    "Jean-Paul",
    "Al",
    "Ed",
]
SURNAMES = [s for family in SURNAME_FAMILIES for s in family] + [
    "O'Brien",
    "McDonald",
    "Mac Donald",
    "Johnson-Scott",
    "Le Tucker",
    "Ng",
    "Smi%th",
    "Adams",
    "Adamson",
    "Addams",
]
NAMES = FORENAMES + SURNAMES


def _typed(rng: random.Random) -> str:
    """A word a caller may type for a name: as stored, with slips, its start, or text
    that is no name."""
    name = rng.choice(NAMES)
    letters = "".join(c for c in name.casefold() if c.isalpha())
    how = rng.randrange(6)
    if how == 0:
        return name.casefold()
    if how == 1 and len(letters) > 3:
        return letters[: rng.randint(2, len(letters) - 1)]
    if how == 2:
        return rng.choice(["smi%", "o'n", "[b]x", "mc", "o'b"])
    return misspell(letters, rng) or letters


def _line(rng: random.Random) -> str:
    words = [_typed(rng) for _ in range(rng.choice([0, 1, 1, 2, 2, 3]))]
    facts = rng.choice(["", "", "12/03/1984", "03/12/1984", "1980-1985", "LS6 2AB", "1984"])
    return " ".join([*words, facts]).strip() or "smith"


def _names(rng: random.Random) -> tuple[KnownName, ...]:
    own = KnownName(rng.choice([*FORENAMES, None]), rng.choice(SURNAMES))
    others = [
        KnownName(rng.choice(FORENAMES), rng.choice(SURNAMES), OTHER_NAME_PENALTY, kind)
        for kind in rng.choice([[], [], [], ["by an alias"], ["by a merged record's name"]])
    ]
    return (own, *others)


def _born(rng: random.Random) -> date | None:
    return rng.choice(
        [None, date(1984, 3, 12), date(1984, 12, 3), date(1982, 7, 1), date(1990, 1, 1)]
    )


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_a_line_ranker_scores_every_candidate_as_the_reference_does(seed):
    rng = random.Random(seed)
    query = parse_person_query(_line(rng), today=TODAY)
    words = query_words(query)
    ranker = LineRanker(query, words)
    # Many candidates, names and dates repeating: what the ranker keeps is used again.
    people = [(_names(rng), _born(rng)) for _ in range(60)]
    people += rng.sample(people, 20)
    for names, born in people:
        expected = ranking_reference.score_person(query, words, list(names), born)
        assert ranker.score(names, born) == expected, (query, names, born)
        assert score_person(query, words, names, born) == expected
        own = names[0]
        expected_match = ranking_reference.name_match(words, own.forename, own.surname)
        assert ranker.rank(own.forename, own.surname) is expected_match.rank
        assert ranker.name_match(own.forename, own.surname) == expected_match


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_every_word_against_every_part_fits_as_the_reference_says(seed):
    rng = random.Random(seed)
    words = query_words(parse_person_query(" ".join(_typed(rng) for _ in range(3)), today=TODAY))
    for word in words:
        for name in NAMES:
            for part in name_parts(name):
                assert person_ranking.word_against_part(
                    word, part
                ) == ranking_reference.word_against_part(word, part)


def test_the_date_parts_agree_with_the_date_rules():
    for text in ["smith 12/03/1984", "smith 1980-1985", "smith", "1984", "smith ~35"]:
        query = parse_person_query(text, today=TODAY)
        for born in [None, date(1984, 3, 12), date(1984, 12, 3), date(1979, 1, 1)]:
            assert person_ranking._by_date(query, born) == (
                date_bonus(query, born),
                date_confirmed(query, born),
                date_fit(query, born),
            )


def test_a_line_ranker_works_out_each_word_against_each_part_once(monkeypatch):
    """Two hundred Adamses born within the years asked, a few dozen forenames: each
    forename and surname is compared with the word once, not once per candidate."""
    calls: list[tuple[str, str]] = []
    real = person_ranking.word_against_part

    def counted(word, token):
        calls.append((word.typed, token))
        return real(word, token)

    monkeypatch.setattr(person_ranking, "word_against_part", counted)
    query = parse_person_query("adms 1984-1988", today=TODAY)
    ranker = LineRanker(query, query_words(query))
    forenames = FORENAMES[:40]
    fits = [
        ranker.score((KnownName(forenames[n % 40], "Adams"),), date(1984 + n % 5, 1 + n % 12, 1))
        for n in range(200)
    ]
    assert all(fit is not None for fit in fits)
    assert len(calls) == len(set(calls))  # each pair once
    assert len(calls) <= len(forenames) + 1  # the forenames' parts and "adams"


def test_a_line_ranker_works_out_no_fit_for_a_name_no_word_reaches(monkeypatch):
    """A range of years read by a key its word only shares ("hason 1984-1988": the
    Hussains born then, Hason's key and nothing more alike): no word fits a part of
    their names, or starts them, so none is a hit, and how the words fit each name is
    not worked out. A candidate the word does reach still is, as the reference says."""
    calls: list[tuple[str | None, str]] = []
    real = person_ranking._best_fits

    def counted(words, forename, surname, fits):
        calls.append((forename, surname))
        return real(words, forename, surname, fits)

    monkeypatch.setattr(person_ranking, "_best_fits", counted)
    query = parse_person_query("hason 1984-1988", today=TODAY)
    words = query_words(query)
    ranker = LineRanker(query, words)
    forenames = FORENAMES[:40]
    people = [
        ((KnownName(forenames[n % 40], "Hussain"),), date(1984 + n % 5, 1 + n % 12, 1))
        for n in range(200)
    ]
    for names, born in people:
        assert ranking_reference.score_person(query, words, list(names), born) is None
        assert ranker.score(names, born) is None
        # As a page of strong matches is counted (person_search: `enough`).
        assert ranker.rank(names[0].forename, names[0].surname) is Rank.NONE
    assert calls == []
    hanson = (KnownName("Ann", "Hanson"),)
    assert ranker.score(hanson, date(1985, 1, 1)) == ranking_reference.score_person(
        query, words, list(hanson), date(1985, 1, 1)
    )
    assert ranker.score(hanson, date(1985, 1, 1)) is not None
    assert ranker.rank("Ann", "Hanson") is Rank.FUZZY  # one slip: a near spelling
    assert calls == [("Ann", "Hanson")]


# Letters of a few names, so that random words land near parts (and just past the
# slips a part may carry) as often as far from them.
_LETTERS = "aehinorst"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=_LETTERS, min_size=1, max_size=9),
    st.lists(st.text(alphabet=_LETTERS, min_size=1, max_size=9), min_size=1, max_size=20),
)
def test_a_part_settled_by_its_closeness_fits_as_the_reference_says(typed, parts):
    """Words and parts of the same few letters, one to five slips apart or more: the
    parts `word_against_part` settles by closeness alone (too few letters in common
    for any slips a name may carry) fit as the reference, which works out every slip,
    says."""
    (word,) = query_words(parse_person_query(typed, today=TODAY)) or [None]
    if word is None:
        return
    for part in parts:
        assert person_ranking.word_against_part(word, part) == (
            ranking_reference.word_against_part(word, part)
        ), (typed, part)


def test_a_part_far_from_the_word_is_settled_without_counting_slips(monkeypatch):
    """Two hundred Rogerses born within the years asked: their forenames share too few
    letters with "rgers" for any slips a name may carry, and no slips are counted for
    them (a range of years reads hundreds of forenames a line)."""
    counted: list[tuple[str, str]] = []
    real = person_ranking.within_slips

    def counting(typed, name):
        counted.append((typed, name))
        return real(typed, name)

    monkeypatch.setattr(person_ranking, "within_slips", counting)
    query = parse_person_query("rgers 1999-2003", today=TODAY)
    ranker = LineRanker(query, query_words(query))
    forenames = ["Olivia", "Oliver", "Amelia", "Isla", "Harry", "Jack", "Freya", "Leo"]
    for n, forename in enumerate(forenames * 25):
        names = (KnownName(forename, "Rogers"),)
        born = date(1999 + n % 5, 1 + n % 12, 1)
        assert ranker.score(names, born) == ranking_reference.score_person(
            query, query_words(query), list(names), born
        )
    assert all(name == "rogers" for _, name in counted), counted


def test_a_name_counted_for_a_page_is_not_reached_again_when_scored(monkeypatch):
    """The service counts a page of strong matches (`rank`) as each stage adds to it,
    then scores every candidate: whether the words reach a name is worked out once per
    name, and the fits are the reference's."""
    reached: list[tuple[str | None, str]] = []
    real = LineRanker.reached

    def counting(self, forename, surname):
        reached.append((forename, surname))
        return real(self, forename, surname)

    monkeypatch.setattr(LineRanker, "reached", counting)
    query = parse_person_query("sanedrs 1977-1981", today=TODAY)
    words = query_words(query)
    ranker = LineRanker(query, words)
    people = [
        (KnownName(forename, surname), date(1977 + n % 5, 1 + n % 12, 1))
        for n, (forename, surname) in enumerate(
            [("Ann", "Sanders"), ("Ben", "Saunders"), ("Cara", "Hussain"), ("Dan", "Sanders")]
        )
    ]
    for _ in range(3):  # a page counted after each stage
        for name, _born in people:
            ranker.rank(name.forename, name.surname)
    for name, born in people:
        assert ranker.score((name,), born) == ranking_reference.score_person(
            query, words, [name], born
        )
        assert ranker.rank(name.forename, name.surname) is (
            ranking_reference.name_match(words, name.forename, name.surname).rank
        )
    assert sorted(reached) == sorted((n.forename, n.surname) for n, _ in people)
