"""Keying slips, name families and the caller lines written from them: pure rules."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.domain.name_variants import name_family
from controlroom.domain.search_recall import (
    KINDS,
    Caller,
    caller_line,
    caller_lines,
    named_by,
)
from controlroom.domain.slips import (
    SLIP_KINDS,
    misspell,
    one_slip_away,
    slip,
    slips_allowed,
    slips_apart,
    within_slips,
)

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@pytest.mark.parametrize(
    ("name", "allowed"), [("al", 0), ("yan", 1), ("james", 1), ("jordan", 2), ("catherine", 2)]
)
def test_a_name_may_carry_one_slip_per_three_letters_and_two_at_most(name, allowed):
    assert slips_allowed(name) == allowed


@pytest.mark.parametrize(
    ("typed", "name", "apart"),
    [
        ("yrene", "irene", 1),  # a first letter wrong
        ("lnog", "long", 1),  # two swapped at the start
        ("jaems", "james", 1),
        ("rene", "irene", 1),  # a first letter missing
        ("pakrer", "parker", 1),
        ("jrodna", "jordan", 2),
    ],
)
def test_slips_are_counted_anywhere_the_first_letters_included(typed, name, apart):
    assert slips_apart(typed, name) == apart
    assert within_slips(typed, name) is (apart <= slips_allowed(name))


def test_a_name_is_not_within_slips_of_itself_nor_too_far():
    assert not within_slips("james", "james")
    assert not within_slips("jon", "ian")  # two slips in three letters
    assert not within_slips("", "al")


@given(word=words, seed=st.integers(0, 2**32 - 1), kind=st.sampled_from(SLIP_KINDS))
def test_one_slip_is_one_slip_away(word, seed, kind):
    typed = slip(word, random.Random(seed), kind)
    assert slips_apart(typed, word) == 1
    if typed:
        assert typed in one_slip_away(word)


@given(word=words, seed=st.integers(0, 2**32 - 1))
def test_a_misspelling_carries_at_most_the_slips_the_name_may(word, seed):
    typed = misspell(word, random.Random(seed))
    assert slips_apart(typed, word) <= slips_allowed(word)
    if slips_allowed(word):
        assert typed != word


def test_misspellings_come_the_same_from_the_same_seed():
    assert [misspell("catherine", random.Random(4)) for _ in range(3)] == [
        misspell("catherine", random.Random(4)) for _ in range(3)
    ]


def test_one_slip_away_includes_every_kind_at_the_first_letter():
    found = one_slip_away("irene")
    assert {"yrene", "rene", "xirene", "riene"} <= found
    assert "irene" not in found


def test_a_name_family_holds_spellings_and_short_forms_not_the_name():
    assert set(name_family("shaun")) == {"Sean", "Seán", "Shawn"}
    assert "Catherine" in name_family("kate") and "Kathryn" in name_family("kate")
    assert "William" in name_family("Bill")
    assert name_family("Zebedee") == ()


PERSON = Caller("Shaun", "Walton", date(1989, 8, 5), "LS6 2AB", "Mill Lane")


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("surname + DOB", "walton 05/08/1989"),
        ("surname + DOB swapped", "walton 08/05/1989"),
        ("surname + year", "walton 1989"),
        ("surname + postcode", "walton LS6 2AB"),
        ("surname + street", "walton mill lane"),
    ],
)
def test_a_caller_line_says_two_facts(kind, pattern):
    assert caller_line(kind, PERSON, random.Random(1)).line == pattern


def test_a_caller_line_needs_its_facts():
    bare = Caller("Ann", "Lee")
    rng = random.Random(1)
    assert caller_line("surname + DOB", bare, rng) is None
    assert caller_line("surname + street", bare, rng) is None
    assert caller_line("surname + DOB swapped", Caller("A", "B", date(2000, 3, 3)), rng) is None


def test_names_are_said_with_slips_or_another_spelling():
    lines = {caller_line("forename + surname", PERSON, random.Random(s)).line for s in range(40)}
    forenames = {line.split()[0] for line in lines}
    assert {"sean", "shawn"} & forenames  # another spelling of the family
    assert all(within_slips(line.split()[1], "walton") for line in lines)


def test_caller_lines_take_each_kind_from_a_different_person():
    people = [Caller(f"Ann{c}", f"Lee{c}", date(1990, 1, 2)) for c in "abcdefgh"]
    lines = caller_lines(people, random.Random(3), 2, ("surname + DOB", "surname + year"))
    assert len(lines) == 4
    assert {made.kind for made, _ in lines} == {"surname + DOB", "surname + year"}
    assert len({id(p) for made, p in lines if made.kind == "surname + DOB"}) == 2
    assert set(KINDS) >= {made.kind for made, _ in lines}


def test_the_facts_name_everyone_they_fit():
    twin = Caller("Sean", "Walton", date(1989, 8, 5))
    other = Caller("Shaun", "Walton", date(1990, 1, 1))
    people = [PERSON, twin, other]
    assert named_by("surname + DOB", PERSON, people) == 2
    assert named_by("forename + surname", PERSON, people) == 3  # Sean is Shaun
    assert named_by("surname + year", other, people) == 1


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "forename + surname"])
def test_a_lone_name_word_names_whoever_bears_it_as_either_name(kind):
    # A line with one name word says nothing of which name it is: "martin 26/01/2005"
    # names Martin Davies and Carl Martin, both born that day. Whoever bears the word
    # as the other name, and shares the other fact, is named as well (the search
    # cannot put one of them first but by luck).
    born = date(2005, 1, 26)
    said, place = ("Martin", "LS6 2AB"), "Mill Lane"
    person = (
        Caller(said[0], "Davies", born, said[1], place)
        if kind == "forename + DOB"
        else Caller("Carl", said[0], born, said[1], place)
    )
    other = (
        Caller("Carl", said[0], born, said[1], place)
        if kind == "forename + DOB"
        else Caller(said[0], "Davies", born, said[1], place)
    )
    stranger = Caller("Martina", "Hughes", born, said[1], place)
    assert named_by(kind, person, [person, other, stranger]) == 2
