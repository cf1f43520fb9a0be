"""The two facts a caller gives about a person, written as a search line: what person
search is held to (issue 20: any two facts find the person).

Each kind is one row of the promise, in the words a caller would use:

    surname + DOB          "walton 17/08/1989"     the surname as said (its own spelling
    surname + DOB swapped  "walton 08/17/1989"     or another of its family's), the date
    surname + year         "walton 1989"           exact, mirrored or the year alone
    forename + surname     "shuan wlaton"          each with the slips it may carry
                                                   (controlroom.domain.slips), or one
                                                   another spelling of its family and
                                                   the other slipped
    forename + DOB         "shaun 17/08/1989"      the forename as said, the exact date
    surname + postcode     "walton LS6 2AB"        the home postcode
    surname + street       "walton mill lane"      the home street

`caller_lines` writes them for one person from a seeded random source, so the tests and
the benchmark (benchmarks/search.py) draw the same kind of lines from the synthetic
force, and neither from examples the search was tuned on. Pure: no database, no clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from controlroom.domain.name_variants import name_family, surname_family
from controlroom.domain.phonetics import STREET_WORDS, normalise_name, transposed
from controlroom.domain.slips import misspell

KINDS = (
    "surname + DOB",
    "surname + DOB swapped",
    "surname + year",
    "forename + surname",
    "forename + DOB",
    "surname + postcode",
    "surname + street",
)
# Kinds whose facts are said right (a spelling of the name's family at most): the
# person comes first wherever the facts, spelled as stored, name one person only.
EXACT_FACT_KINDS = frozenset(KINDS) - {"forename + surname"}


@dataclass(frozen=True, slots=True)
class Caller:
    """What a caller may know of a person: the facts a line is written from."""

    forename: str
    surname: str
    date_of_birth: date | None = None
    postcode: str | None = None
    street: str | None = None


@dataclass(frozen=True, slots=True)
class CallerLine:
    kind: str
    line: str


def plain(name: str) -> bool:
    """A name a caller says as one word of letters (no hyphen, space or apostrophe)."""
    return name.isalpha()


def said(name: str, rng: random.Random, *, surname: bool = False) -> str:
    """`name` as a caller says it: another spelling of its family (a forename's short or
    formal forms too) half the time when it has one, else as stored; lower case."""
    spellings = surname_family(name) if surname else name_family(name)
    family = [s for s in spellings if plain(s) and s.casefold() != name.casefold()]
    if family and rng.random() < 0.5:
        return rng.choice(family).casefold()
    return name.casefold()


def slipped(name: str, rng: random.Random) -> str:
    """`name` typed with the slips it may carry (at least one where it may carry any)."""
    return misspell(name, rng)


def caller_line(kind: str, person: Caller, rng: random.Random) -> CallerLine | None:
    """The line of `kind` for `person`, or None when they lack the facts it needs (no date
    of birth, a date with no mirror, no address, a name that is not one plain word)."""
    fore, sur = person.forename, person.surname
    born = person.date_of_birth
    if kind == "forename + surname":
        if not (plain(fore) and plain(sur)):
            return None
        family = [s for s in name_family(fore) if plain(s)]
        if family and rng.random() < 0.5:
            # One word another spelling of its family, the other slipped: both count.
            return CallerLine(kind, f"{rng.choice(family).casefold()} {slipped(sur, rng)}")
        return CallerLine(kind, f"{slipped(fore, rng)} {slipped(sur, rng)}")
    if kind == "forename + DOB":
        if born is None or not plain(fore):
            return None
        return CallerLine(kind, f"{said(fore, rng)} {born:%d/%m/%Y}")
    if not plain(sur):
        return None
    name = said(sur, rng, surname=True)
    if kind == "surname + DOB":
        return None if born is None else CallerLine(kind, f"{name} {born:%d/%m/%Y}")
    if kind == "surname + DOB swapped":
        mirror = transposed(born) if born is not None else None
        if born is None or mirror is None:
            return None
        # The caller says the day as the month and the month as the day.
        return CallerLine(kind, f"{name} {born.month:02d}/{born.day:02d}/{born.year}")
    if kind == "surname + year":
        return None if born is None else CallerLine(kind, f"{name} {born.year}")
    if kind == "surname + postcode":
        return None if not person.postcode else CallerLine(kind, f"{name} {person.postcode}")
    if kind == "surname + street":
        street = (person.street or "").casefold().split()
        if len(street) < 2 or street[-1] not in STREET_WORDS or not all(map(plain, street)):
            return None
        return CallerLine(kind, f"{name} {' '.join(street)}")
    raise ValueError(f"no such kind of line: {kind!r}")


def caller_lines(
    people: list[Caller], rng: random.Random, per_kind: int, kinds=KINDS
) -> list[tuple[CallerLine, Caller]]:
    """`per_kind` lines of each kind (fewer where too few people have the facts), each
    for a different person drawn in turn from `people`, kinds interleaved."""
    lines: list[tuple[CallerLine, Caller]] = []
    pools = {kind: iter(rng.sample(people, len(people))) for kind in kinds}
    wanted = dict.fromkeys(kinds, per_kind)
    while any(wanted.values()):
        for kind in kinds:
            if not wanted[kind]:
                continue
            for person in pools[kind]:
                made = caller_line(kind, person, rng)
                if made is not None:
                    lines.append((made, person))
                    wanted[kind] -= 1
                    break
            else:
                wanted[kind] = 0
    return lines


def _same_name(one: str, other: str) -> bool:
    """Two names the same once normal forms and families are folded."""
    mine = {normalise_name(one)} | {normalise_name(s) for s in name_family(one)}
    return normalise_name(other) in mine


def named_by(kind: str, person: Caller, people: list[Caller]) -> int:
    """How many of `people` the facts of a line of `kind` name, spelled as `person`'s
    are stored (another spelling of the same name counts; a line's lone name word
    names whoever has it as a forename or as a surname): where one, the person comes
    first."""
    born = person.date_of_birth

    def either(word: str, other: Caller) -> bool:
        # A lone name word says nothing of which name it is: "martin 26/01/2005" names
        # Martin Davies and Carl Martin, both born that day, alike.
        return _same_name(word, other.forename) or _same_name(word, other.surname)

    def fits(other: Caller) -> bool:
        if kind == "forename + surname":
            return _same_name(person.forename, other.forename) and _same_name(
                person.surname, other.surname
            )
        if kind == "forename + DOB":
            return either(person.forename, other) and other.date_of_birth == born
        if not either(person.surname, other):
            return False
        if kind == "surname + DOB":
            return other.date_of_birth == born
        if kind == "surname + DOB swapped":
            # The date said (the mirror) names whoever was born on it as well.
            mirror = transposed(born) if born is not None else None
            return other.date_of_birth is not None and other.date_of_birth in (born, mirror)
        if kind == "surname + year":
            return (
                born is not None
                and other.date_of_birth is not None
                and other.date_of_birth.year == born.year
            )
        if kind == "surname + postcode":
            return other.postcode == person.postcode
        if kind == "surname + street":
            return (other.street or "").casefold() == (person.street or "").casefold()
        raise ValueError(f"no such kind of line: {kind!r}")

    return sum(1 for other in people if fits(other))


def with_a_double(people: list[Caller]) -> set[int]:
    """The places in `people` of those who share a home postcode and a date of birth (or
    its mirror) with another: the synthetic force plants near-duplicate records of some
    people (a slip in the name, the date mirrored), and a line for either names both, so
    the tests and the benchmark leave them out of the draw."""
    groups: dict[tuple[str, frozenset], list[int]] = {}
    for place, person in enumerate(people):
        born = person.date_of_birth
        if born is None or not person.postcode:
            continue
        days = frozenset(d for d in (born, transposed(born)) if d is not None)
        for day in days:
            groups.setdefault((person.postcode, frozenset({day})), []).append(place)
    return {place for places in groups.values() if len(places) > 1 for place in places}
