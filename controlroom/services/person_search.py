"""Person search: one query line, found however the name was spelled, every hit with its
warning markers.

The line is read by `controlroom.domain.phonetics.parse_person_query` (names in any
order, dates of birth, ages, postcodes, address fragments). This module plans the
search (`candidates`: which of the backend's lookups to ask, in what order, and when to
stop); the data layer's backend (`uow.search`, one per dialect) asks each stage in one
statement; `controlroom.domain.person_ranking` ranks what it found (exact, phonetic,
fuzzy; closeness, order and date of birth within a rank). When the stages found too few
good hits, a slips stage looks for each word one keying slip away, the first letters
included (controlroom.domain.slips); when no hit fits even then, an other-word stage
finds a word with two slips where no key or start reaches by the word it came with.

A record merged into another (controlroom.services.person_merge) is never a hit of its
own: the record it was merged into stands in its place, found by the merged record's
names as by an alias. A date of birth matches with day and month either way round. A
restricted person's hit says only that the record exists and whom to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import jellyfish
from rapidfuzz import process
from rapidfuzz.distance import OSA

from controlroom.data.search import (
    FUZZY_PREFIX,
    START_LETTERS,
    Candidate,
    CandidateGroup,
    Condition,
    NameTerm,
    PersonCriteria,
    PersonSearch,
    all_of,
)
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action
from controlroom.domain.person_ranking import (
    OTHER_NAME_PENALTY,
    STRONG_RANK,
    KnownName,
    LineRanker,
    PersonFit,
    at_current_address,
    family_keys,
    is_name,
    query_words,
    word_keys,
)
from controlroom.domain.phonetics import (
    KEY_LENGTH,
    PersonQuery,
    name_parts,
    normalise_name,
    parse_person_query,
    particles_apart,
    phonetic_keys,
    transposed,
)
from controlroom.domain.slips import MOST_SLIPS, one_slip_away, slips_allowed
from controlroom.services import access, audit
from controlroom.services.fields import FieldError
from controlroom.services.markers import MarkerInfo

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

QUERY_LIMIT = 200
# A caller line gives a few facts: every name word multiplies the lookups of a stage (a
# 15-word line overflowed SQLite's expression tree, "Expression tree is too large"), so
# a line is bounded, with a message, rather than left to fail (issue 16).
NAME_WORD_LIMIT = 6
WORD_LIMIT = 20


class QueryTooLong(FieldError):
    """The search line has more words than a search takes; the message says so."""


RESTRICTED_LABEL = "RESTRICTED \u2014 ask {owner}"
UNKNOWN_OWNER = "a supervisor"


@dataclass(frozen=True, slots=True)
class PersonHit:
    person_id: int
    forename: str
    surname: str
    date_of_birth: date | None
    address: str | None  # the current address, one line
    markers: tuple[MarkerInfo, ...]
    match: str  # "exact" | "phonetic" | "fuzzy"
    score: float  # higher first; the integer part is the rank (3 exact .. 1 fuzzy)
    incident_count: int
    intelligence_count: int
    restricted: bool
    # Whom to ask about a restricted record (its recorder), None on any other hit.
    ask: str | None = None
    # Why it matched, one fact each ("surname exact", "forename family", "DOB exact");
    # empty on a restricted hit (it says nothing of the record).
    why: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}".strip()

    @property
    def why_text(self) -> str:
        """The reasons on one line: "surname exact · forename family · DOB exact"."""
        return WHY_SEPARATOR.join(self.why)


WHY_SEPARATOR = " \u00b7 "


# Words shorter than this have no near spellings looked for (too many names are near).
NEAR_MIN_LETTERS = 4
# Words shorter than this have no letter-left-out spellings looked for.
GAP_MIN_LETTERS = 3
# The letters looked for as left out: consonants (a vowel seldom changes a Metaphone
# key), the ten most common in English names; each more is another key to look up.
GAP_LETTERS = "cdhklmnrst"


def _variant_keys(word: str, min_letters: int, variants) -> list[str]:
    """The phonetic keys, in order and each once, of the spellings `variants(normal)`
    gives for `word`'s normal form, leaving out `word`'s own keys and one-letter keys
    (a key that short finds half the force). Empty for a word that is not a name or is
    shorter than `min_letters`."""
    if not is_name(word):
        return []
    normal = normalise_name(word)
    if len(normal) < min_letters:
        return []
    own = set(phonetic_keys(normal))
    # A variant is already a normal form of one part: its key is Metaphone's.
    keys = (jellyfish.metaphone(variant)[:KEY_LENGTH] for variant in variants(normal))
    return list(dict.fromkeys(key for key in keys if key not in own and len(key) > 1))


# Pure functions of the word, asked again at every keystroke of a line being typed.
@lru_cache(maxsize=4096)
def _near_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of the spellings one keying slip away from `word` that the slip
    could have come from: a letter typed twice or one too many (dropped here), or two
    letters swapped ("smiht" -> "smith"). A letter left out usually keeps the key already
    (Metaphone drops most vowels and doubled letters); `_gap_keys` looks for the rest.
    Callers rarely get the first letter wrong, and slips there make keys so short ("W",
    "SM") that they would find half the force: the first letter stays."""

    def slips(normal: str) -> list[str]:
        variants = {normal[:i] + normal[i + 1 :] for i in range(1, len(normal))}
        variants |= {
            normal[:i] + normal[i + 1] + normal[i] + normal[i + 2 :]
            for i in range(1, len(normal) - 1)
        }
        return sorted(variants)

    return tuple(_variant_keys(word, NEAR_MIN_LETTERS, slips))


# Pure functions of the word, asked again at every keystroke of a line being typed.
@lru_cache(maxsize=4096)
def _gap_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of the spellings with one letter more than `word`: the letter a
    caller left out ("faima" -> "fatima", "sevens" -> "stevens"), anywhere but first."""

    def gaps(normal: str):
        return (
            normal[:i] + letter + normal[i:]
            for i in range(1, len(normal) + 1)
            for letter in GAP_LETTERS
        )

    return tuple(sorted(_variant_keys(word, GAP_MIN_LETTERS, gaps)))


@lru_cache(maxsize=1024)
def _slip_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of every spelling one slip from `word`, the first letters
    included (controlroom.domain.slips), one-letter keys too ("hay" -> M for May):
    asked only by the slips stage, paired with the other word's (alone they would
    reach thousands), or within dates or an address."""
    if not is_name(word):
        return ()
    normal = normalise_name(word)
    if len(normal) < SLIPPED_WORD_LETTERS:
        return ()
    own = set(phonetic_keys(normal))
    keys = {jellyfish.metaphone(spelling)[:KEY_LENGTH] for spelling in one_slip_away(normal)}
    return tuple(sorted(key for key in keys if key and key not in own))


# The other-word stage asks a word's one-slip and letter-left-out keys only when they
# are this long: a shorter key ("RK", "R") is shared by thousands, each read to order them.
OTHER_WORD_KEY_LETTERS = 3


def _other_word_keys(term: NameTerm) -> list[str]:
    """A word's own, family and near keys, then those of its spellings with a letter
    more and one slip away that are OTHER_WORD_KEY_LETTERS long, each once."""
    wider = [k for k in term.gap_keys + term.slip_keys if len(k) >= OTHER_WORD_KEY_LETTERS]
    return list(dict.fromkeys(term.keys + term.near_keys + tuple(wider)))


def _letters(word: str) -> str:
    """The letters of a word as typed, lower case (the other-word stage compares them)."""
    return "".join(c for c in word.casefold() if c.isalpha())


# Words this long are looked for by their first two letters in the other-word stage
# (with two slips each past them: the start alone reaches too many in shorter ones).
START_PAIR_LETTERS = 6

# Words shorter than this take no slip (controlroom.domain.slips.slips_allowed).
SLIP_MIN_LETTERS = 3
# A word this long may be such a name with a letter left out ("ay" for Day): the
# shortest word `_slip_keys` looks one slip from.
SLIPPED_WORD_LETTERS = SLIP_MIN_LETTERS - 1


def _criteria(query: PersonQuery) -> PersonCriteria:
    dates: list[date] = []
    for value in query.dates_of_birth:
        dates.append(value)
        other = transposed(value)
        if other is not None:
            dates.append(other)
    return PersonCriteria(
        names=tuple(
            NameTerm(
                # A word's own keys and those of the other spellings of its name: Shaun
                # (XN) finds Sean (SN) at every stage that asks for keys.
                tuple(dict.fromkeys(word_keys(w) + family_keys(w))),
                w.casefold(),
                _near_keys(w),
                _gap_keys(w),
            )
            for w in query.names
        ),
        dates_of_birth=tuple(dict.fromkeys(dates)),
        born_from=query.born_from,
        born_to=query.born_to,
        postcode_prefix=query.postcode,
        address_words=query.address_words,
    )


# More than any screen shows: the service ranks these and keeps the best. The stages
# run best first, so a cut keeps the better-matched.
CANDIDATE_LIMIT = 200
# The last word is looked for as the start of a later part of a name ("whit":
# "Hughes-Whitfield"; slower on PostgreSQL, by trigram) only when this short: one still
# being typed.
LATER_PART_LETTERS = 5
# At most this many more from each wider stage (they reach further, and find more).
NEAR_LIMIT = 100
# Names are looked for as the starts of name parts (full text) when the keys found fewer
# than this: the words are being typed, or are not names the keys know.
PREFIX_WHEN_FEWER = 20
# A word this long is looked for by one letter more in the first-letters stage: a letter
# left out of a long name is seldom among its first four, and "chr" or "ada" alone reach
# tens of thousands.
LONG_WORD = 7


def first_letters(word: str) -> str:
    """The start of `word` the first-letters stage looks for."""
    return word[: FUZZY_PREFIX + (len(word) >= LONG_WORD)]


def candidates(
    search: PersonSearch,
    criteria: PersonCriteria,
    limit: int = CANDIDATE_LIMIT,
    enough: Callable[[Sequence[Candidate]], bool] | None = None,
    *,
    last_resort: bool = False,
    slips: bool = False,
    likeliest: bool = False,
    other_word: bool = False,
    held: bool = False,
    held_among: Sequence[str] | None = None,
    undated: bool = False,
) -> list[Candidate]:
    """People the criteria may mean, the likeliest first: at most `limit` from the
    narrow and first stages, and NEAR_LIMIT more from each wider one.

    Within the date of birth asked (or none recorded, when names were given) and at
    the address asked. With exact dates of birth or a whole postcode, everyone there
    (the ranking reads their names, however misspelled); then, in stages, each run
    only while the ones before left room, so a cut keeps the better-matched:

    1. every word matched by its phonetic keys (a forename and a surname part, on the
       person or an alias); when that found fewer than a page, every word as the start
       of a name part (full text: words being typed);
    2. unless `enough` says the candidates so far are enough (the caller's page is
       full of hits these stages could not outrank): the same keys with those of the
       words' near spellings (a letter too many, two swapped), and every word by its
       first letters (a letter left out), at most NEAR_LIMIT more each, past the
       first stage's `limit` (a lone word only when the first stage found fewer than
       a page);
    3. with two words, when those left the page short: one word by its spellings with
       a letter more (a letter left out), the other by its own or near keys;
    4. only when nobody was found: any one word matched (the others' first letters
       starting a name, or following its first letter: a first letter left out),
       then near spellings by full text (first letters on SQLite, trigram
       similarity on PostgreSQL).

    Each step is one statement (one round trip): its alternatives and filter sets,
    and stages that run whatever the one before found, are asked together as one
    UNION ALL (within a range of dates, the person's own names first, the rest only
    while they left room).

    `last_resort`: step 4 alone, for a caller whose ranking kept none of what steps
    1-3 found (they found someone, so step 4 did not run: "ohn smith" finds the
    Sam O'Neills by their keys, and no John Smith).

    `likeliest` (with `slips` and two words): the stage's pairs of keys alone, each way
    round read likeliest first by how alike the names are to the words (every pair is
    read to order them), for a caller whose first read of them found no one near enough.
    With a lone word (within dates or at an address): its keys as the forename and as
    the surname, each read likeliest first by how alike that name is to the word: within
    the dates, or (`undated`) among people with no date of birth recorded.

    `held` (two words): the held-names stage alone, for a caller whose ranking found no
    one within reach even after the other-word stage: the names the force holds that
    each word may be typed for with its slips (`_held_names`), as forename and surname
    either way round, everyone so named; with `held_among`, only the names held with
    those surnames.

    `slips`: the slips stage alone, for a caller whose ranking found too few good hits
    among what the others found (two words, each with a slip, the first letters
    included: "yrene grai"), in one statement: one word the forename and the other the
    surname, either way round, each by its own, family, near or one-slip keys
    (`NameTerm.slip_keys`), the surname keys sought in the (surname key, forename key)
    index and the forename keys checked there; or one word by its own keys and the other
    by how its first letters may have started (two slips in it). A lone word only within
    dates or at an address, by its one-slip keys.
    """
    terms = [t for t in criteria.names if t.keys or t.prefix]
    dates = search.born(criteria)
    address = search.at_address(criteria)
    if not terms and dates is None and address is None:
        return []
    at = [address] if address is not None else []
    found: dict[int, Candidate] = {}

    def result() -> list[Candidate]:
        return list(found.values())

    if not terms:
        search.collect(found, [CandidateGroup([all_of([*([dates] if dates else []), *at])])], limit)
        return result()
    # Each name stage asks once per filter set: within the dates asked, then among
    # people with no date of birth recorded. Two plain conditions, not one OR, so
    # the (key, date of birth) indexes serve each.
    filter_sets = [at]
    first: list[CandidateGroup] = []
    if criteria.dates_of_birth:
        # Everyone born on the day (a few dozen in a million), whatever their name;
        # then, by name, people with no date of birth recorded.
        born = search.born_on(criteria.dates_of_birth)
        first.append(CandidateGroup([all_of([born, *at])]))
        filter_sets = [[search.no_date_of_birth(), *at]]
    elif dates is not None:
        filter_sets = [[dates, *at], [search.no_date_of_birth(), *at]]
    elif (
        criteria.postcode_prefix and not criteria.postcode_prefix.endswith(" ") and not last_resort
    ):
        # Everyone ever at the postcode (a few households), whatever their name.
        search.collect(found, [CandidateGroup([all_of(at)])], limit)
        if len(found) < limit:
            return result()

    if held:
        words = [_letters(t.prefix) for t in terms]
        names = _held_names(search, words, held_among) if len(terms) == 2 else []
        if names:
            search.collect(
                found,
                [
                    CandidateGroup(
                        [
                            search.within(filters, search.namesakes(names))
                            for filters in filter_sets
                        ],
                        NEAR_LIMIT,
                    )
                ],
                limit,
            )
        return result()

    if other_word:
        if len(terms) != 2:
            return result()
        conditions = [
            search.other_word(keys, spelled, keyed, f"other_{number}_{keyed}")
            for number, (term, other) in enumerate((terms, terms[::-1]))
            if (keys := _other_word_keys(term)) and len(spelled := _letters(other.prefix)) > 1
            for keyed in ("forename", "surname")
        ]
        # Two slips in each word, one past its first three letters: those letters start
        # the forename or the surname, the other name likeliest the other word.
        conditions += [
            search.other_start(word[:START_LETTERS], other, keyed, f"other_start_{n}_{keyed}")
            for n, (word, other) in enumerate(
                (
                    (_letters(terms[0].prefix), _letters(terms[1].prefix)),
                    (_letters(terms[1].prefix), _letters(terms[0].prefix)),
                )
            )
            if len(word) >= START_PAIR_LETTERS and len(other) > 1
            for keyed in ("forename", "surname")
        ]
        words = [_letters(term.prefix) for term in terms]
        if all(len(word) >= START_PAIR_LETTERS for word in words):
            # Two slips in each word, past their first two letters: those two letters
            # start the forename and the surname.
            conditions += search.start_pairs(words[0], words[1], "start_pair")
        search.collect(
            found,
            [
                # Each filter set's first group finds nobody those of the sets before do.
                CandidateGroup([search.within(filters, condition)], NEAR_LIMIT, apart=not n)
                for filters in filter_sets
                for n, condition in enumerate(conditions)
            ],
            limit,
        )
        return result()

    if slips:

        def near(term: NameTerm) -> list[str]:
            return list(dict.fromkeys(term.keys + term.near_keys))

        def loose(term: NameTerm) -> list[str]:
            return list(dict.fromkeys(near(term) + list(term.gap_keys + term.slip_keys)))

        if len(terms) == 2 and likeliest:
            # Both words by any one slip, as forename and surname either way round,
            # the likeliest first (each way round room of its own): every pair the
            # keys find is read to order them.
            one, two = terms
            search.collect(
                found,
                [
                    CandidateGroup([search.within(filters, pair)], NEAR_LIMIT // 2, apart=not n)
                    for filters in filter_sets
                    for n, pair in enumerate(
                        search.likeliest_key_pairs(
                            loose(one),
                            loose(two),
                            [_letters(one.prefix), _letters(two.prefix)],
                            "slip_keys",
                        )
                    )
                ],
                limit,
            )
            return result()
        if len(terms) == 2:
            # Both words by any one slip, as forename and surname either way round, in
            # the index's order (the cheaper read; `likeliest` when it found no one).
            one, two = terms
            conditions = [search.key_pairs(loose(one), loose(two), "slip_keys")]
            # Two slips in one word where the other has none: the other by its own or
            # family keys, the slipped one by how its first letters may have started.
            for number, (term, other) in enumerate(((one, two), (two, one))):
                if term.keys and other.prefix:
                    conditions += [
                        all_of([condition, search.initial(other, f"slip_initial_{number}")])
                        for condition in search.names(
                            [term.keys], aliases=False, name="slip_own", first=number
                        )
                    ]
        elif len(terms) == 1 and (dates is not None or address is not None) and likeliest:
            # The forename by the lone word's one-slip keys and the surname by them,
            # each read likeliest first (each its own room): every person the keys find
            # within the dates is read to order them. Those with no date of birth
            # recorded (`undated`) only when asked: they rank below anyone the dates
            # confirm, and reading them all doubled the stage (20 ms on a million).
            (term,) = terms
            search.collect(
                found,
                [
                    CandidateGroup([search.within(filters, c)], NEAR_LIMIT // 2, apart=not n)
                    for filters in (filter_sets[1:] if undated else filter_sets[:1])
                    for n, c in enumerate(
                        search.likeliest_any_key(loose(term), _letters(term.prefix), "slip_keys")
                    )
                ],
                limit,
            )
            return result()
        elif len(terms) == 1 and (dates is not None or address is not None):
            # A lone word only within dates or at an address: alone, its one-slip keys
            # reach thousands (in the index's order; `likeliest` when none was near).
            conditions = [search.any_key(loose(terms[0]), "slip_keys")]
        else:
            return result()
        if len(conditions) > 1 and len(filter_sets) == 1:
            # The pairs first, the slipped starts only while the pairs left the stage
            # room: they add only past them, and each reads the row of every person
            # the unslipped word's keys find (a common surname is thousands; 8-13 ms
            # on a million persons, for nothing once the pairs found a hundred).
            pairs, *starts = conditions
            (filters,) = filter_sets
            (added,) = search.collect(
                found, [CandidateGroup([search.within(filters, pairs)], NEAR_LIMIT)], limit
            )
            if added < NEAR_LIMIT:
                # Those the pairs found left out: the starts re-find most of them, and
                # would read as many rows again to add the few left ("triq houghotn":
                # 100 rows to add 4, 3.5 ms on a million persons).
                left_out = search.none_of(list(found))
                search.collect(
                    found,
                    [
                        CandidateGroup(
                            [search.within([*filters, left_out], c) for c in starts],
                            NEAR_LIMIT - added,
                            fresh=True,
                        )
                    ],
                    limit,
                )
            return result()
        search.collect(
            found,
            [
                # Within the dates asked, then among people with none recorded: apart.
                CandidateGroup([search.within(filters, c) for c in conditions], NEAR_LIMIT, True)
                for filters in filter_sets
            ],
            limit,
        )
        return result()

    def group(
        conditions, sets=None, more: int | None = None, *, apart: bool = False
    ) -> CandidateGroup:
        """Every (filter set, condition) pair of a stage, filter sets first; `apart`:
        the first group of a filter set after another's (`CandidateGroup`)."""
        return CandidateGroup(
            [
                search.within(filters, condition)
                for filters in (sets or filter_sets)
                for condition in conditions
            ],
            more,
            apart,
        )

    def stage_groups(
        lists: Sequence[list], lead: Sequence[CandidateGroup] = (), more: int | None = None
    ) -> list[CandidateGroup]:
        """A stage's groups: each list of conditions within each filter set in turn
        (born in the range asked, then no date recorded), each its own part on its
        own index, all in one statement; a set is read only while those before it
        left room."""
        return [
            *lead,
            *(
                # The first of a later filter set's groups is apart from the sets before.
                group(c, [f], more, apart=bool(i) and not n)
                for i, f in enumerate(filter_sets)
                for n, c in enumerate(lists)
            ),
        ]

    def stage(
        conditions,
        lead: Sequence[CandidateGroup] = (),
        more: int | None = None,
        *,
        alternatives: Sequence[list] = (),
    ) -> None:
        """One stage, in one statement: `conditions` (or each of `alternatives`,
        one word's conditions each) within each filter set in turn."""
        lists = list(alternatives) or [conditions]
        if len(filter_sets) == 1 or all(len(c) == 1 for c in lists):
            search.collect(found, stage_groups(lists, lead, more), limit)
            return
        # A range of dates: the person's own names within it first (the cheapest
        # lookup), the rest (aliases, then people with no date recorded) only while
        # that left room. A common name ("hill 2022-2026") fills the page from the
        # first, and its aliases would cost more than all the rest of the search.
        first_set, *other_sets = filter_sets
        added = search.collect(
            found, [*lead, *(group(c[:1], [first_set], more) for c in lists)], limit
        )
        if len(found) < limit if more is None else sum(added[len(lead) :]) < more:
            # People with no date of birth recorded rank below everyone the range
            # confirms (DATE_FACT_WEIGHT): once a page of those the words fit well is
            # in (`enough`), none of them could reach it, and they are not asked for
            # (on a million persons, "sanedrs 1977-1981" read every Sanders' row and
            # alias to find the few with no date). Aliases within the range still are:
            # one spelled as typed outranks a name that only sounds like it.
            undated = not (more is None and enough is not None and enough(result()))
            search.collect(
                found,
                [
                    *(group(c[1:], [first_set], more) for c in lists),
                    *(
                        group(c, [f], more, apart=not n)
                        for f in other_sets
                        if undated
                        for n, c in enumerate(lists)
                    ),
                ],
                limit,
            )

    if not last_resort:
        # Steps 1-3 (`last_resort`: step 4 alone).
        stage(
            search.names([t.keys for t in terms]),
            [*first, *_parts_first(search, terms, filter_sets[0])],
        )
        prefixes = [t.prefix for t in terms if t.prefix]
        # Words being typed ("moh smi"): whole words found people by their keys; the
        # last word may also start a later part of a name, asked only while few are found
        # (it is the costlier lookup).
        typing = len(found) < PREFIX_WHEN_FEWER and len(prefixes) == len(terms)
        later = typing and len(prefixes[-1]) <= LATER_PART_LETTERS
        typed: list[CandidateGroup] = []
        if typing:
            typed = stage_groups([search.prefixes(prefixes, "typed")])
        if typing and criteria.dates_of_birth:
            # No wider stage follows (below): the starts and later parts are asked alone.
            search.collect(found, typed, limit)
            typed = []
            if later and len(found) < PREFIX_WHEN_FEWER:
                stage(search.later_parts(prefixes))
            later = False
        # The wider stages have room of their own (a common name can fill the first), and
        # a lone word takes them only when its keys found few: alone, near spellings
        # and first letters reach thousands.
        # With exact dates everyone born then is in already, whatever their name: the
        # wider stages would only add people with no date recorded, found by their keys.
        # With a range, they look within it.
        wide = (
            (len(terms) > 1 or len(found) < PREFIX_WHEN_FEWER)
            and not criteria.dates_of_birth
            and not (enough is not None and enough(result()))
        )
        wider: list[CandidateGroup] = []
        if wide and any(t.near_keys for t in terms):
            # On the person's own names: an alias is found by its own keys (the first
            # stage); the near keys of every alias reach thousands, and within a range of
            # dates PostgreSQL would read everyone born then to find them.
            wider.append(
                group(
                    search.names(
                        [tuple(dict.fromkeys(t.keys + t.near_keys)) for t in terms],
                        aliases=False,
                        name="near_keys",
                    ),
                    filter_sets[:1],
                    NEAR_LIMIT,
                )
            )
        letters: list[CandidateGroup] = []
        if wide and len(prefixes) == len(terms) and any(len(p) > FUZZY_PREFIX for p in prefixes):
            # A letter left out past the first few ("chalie mooe"): every word by its
            # first letters, the ranking's closeness decides.
            letters.append(
                group(
                    search.first_letters([first_letters(p) for p in prefixes]),
                    filter_sets[:1],
                    NEAR_LIMIT,
                )
            )
        # The starts of names go first in the same statement as the wider stages (one
        # round trip), so a cut still keeps them before near spellings. A lone word's
        # first letters reach thousands (every Adam and Adams for "adasm"): asked only
        # when the nearer stages left the page short.
        alone = len(terms) == 1
        search.collect(found, [*typed, *wider, *(() if alone else letters)], limit)
        if alone and letters and len(found) < PREFIX_WHEN_FEWER:
            search.collect(found, letters, limit)
        if later and len(found) < PREFIX_WHEN_FEWER:
            # Still few: the last word may be the start of a later part of a name.
            stage(search.later_parts(prefixes), more=NEAR_LIMIT)
        if len(terms) == 2 and len(found) < PREFIX_WHEN_FEWER and not criteria.dates_of_birth:
            # A letter left out of one word (its key and first letters both miss):
            # that word by its spellings with one letter more, the other by its own or
            # near keys, as forename and surname either way round (not with exact dates:
            # everyone born then is in already).
            stage([search.gap_pairs(terms[0], terms[1])], more=NEAR_LIMIT)
        if found:
            return result()
    if len(terms) > 1:
        # Any one word (each word's keys in its own parameter), the person's names
        # starting with the other words' first letters: a hit needs every word to
        # match at least loosely, and a misspelling seldom starts with another letter
        # ("maian fox": the Foxes whose forename starts with M, not any 200 Foxes),
        # or going on with them after a first letter left out ("ohn smith": the
        # Smiths named John), at most NEAR_LIMIT a word: a common key reads many to
        # find them.
        initials = [
            search.initial(term, f"initial_{index}") if term.prefix else None
            for index, term in enumerate(terms)
        ]

        def others(number: int) -> list[Condition]:
            return [
                initial
                for index, initial in enumerate(initials)
                if index != number and initial is not None
            ]

        stage(
            [],
            more=NEAR_LIMIT,
            alternatives=[
                [
                    all_of([condition, *others(number)])
                    for condition in search.names([term.keys], first=number)
                ]
                for number, term in enumerate(terms)
            ],
        )
        if found:
            return result()
    stage(
        [
            condition
            for index, term in enumerate(terms)
            if len(term.prefix) >= FUZZY_PREFIX
            for condition in search.near_text(term, f"fuzzy_{index}")
        ]
    )
    return result()


def _part_keys(part: str) -> tuple[str, ...]:
    """A part of a double-barrelled word found by its own, family, near and
    letter-left-out keys (a part is short: they are few)."""
    return tuple(
        dict.fromkeys(word_keys(part) + family_keys(part) + _near_keys(part) + _gap_keys(part))
    )


def _parts_first(
    search: PersonSearch, terms: Sequence[NameTerm], filters: Sequence[Condition]
) -> list[CandidateGroup]:
    """A lone double-barrelled word ("miles-hooper", "mies-hooper"): first, the people
    its two parts name together (the first and last parts of a surname, or a forename
    and a surname). Its keys alone are those of the whole and of each part: every
    Hooper born in the years asked came before the one Miles-Hooper, and a page of them
    was cut before reaching him. Within `filters` (the dates asked, an address): a
    surname with parts is rare, so its index (which holds no date) reads few rows."""
    if len(terms) != 1:
        return []
    parts = name_parts(terms[0].prefix)
    if len(parts) != 2 or not all(keys := [_part_keys(part) for part in parts]):
        return []
    return [
        CandidateGroup(
            [search.within(filters, c) for c in search.names(keys, aliases=False, name="parts")]
        )
    ]


# The held-names stage keeps at most this many surnames near each word, and this many
# (forename, surname) pairs, fewest slips first (`_held_names`): a short word is near
# dozens of names.
HELD_SURNAMES = 20
HELD_NAMES = 20


def _near_held(words: Sequence[str], names: Sequence[str]) -> list[dict[str, int]]:
    """For each word, the `names` (as held) it is within the slips they may carry of
    (controlroom.domain.slips), or spelled as, with the slips between them. Compared
    in bulk (rapidfuzz): 16,000 surnames a word."""
    spelled = [name.casefold() if name.isalpha() else _letters(name) for name in names]
    near: list[dict[str, int]] = []
    for word in words:
        found: dict[str, int] = {}
        for _, apart, place in process.extract_iter(
            word, spelled, scorer=OSA.distance, score_cutoff=MOST_SLIPS
        ):
            if apart <= slips_allowed(spelled[place]):
                found[names[place]] = int(apart)
        near.append(found)
    return near


def _held_names(
    search: PersonSearch, words: Sequence[str], among: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """(forename, surname) pairs the force holds, one word within the slips the forename
    may carry and the other within the surname's, either way round, fewest slips first:
    two slips at the start of both words ("halotte oregrs" for Charlotte Rogers) leave
    no key one slip away and no start of either name, but the names held are few (16,000
    surnames on a million persons, read once from the surname index). With `among`,
    the surnames looked at are those alone (no scan)."""
    if len(words) != 2 or not all(len(word) > 1 for word in words):
        return []
    surnames = search.surnames() if among is None else sorted(set(among))
    kept = [
        dict(sorted(found.items(), key=lambda item: (item[1], item[0]))[:HELD_SURNAMES])
        for found in _near_held(words, surnames)
    ]
    held = search.forenames_with(sorted(set(kept[0]) | set(kept[1])))
    forenames = sorted({forename for _, forename in held if forename})
    near = _near_held(words, forenames)
    pairs: dict[tuple[str, str], int] = {}
    for surname, forename in held:
        for number in (0, 1):
            # One word the forename, the other the surname.
            fore, sur = near[number].get(forename), kept[1 - number].get(surname)
            if fore is not None and sur is not None:
                slips = fore + sur
                pairs[forename, surname] = min(slips, pairs.get((forename, surname), slips))
    ranked = sorted(pairs.items(), key=lambda item: (item[1], item[0]))
    return [name for name, _ in ranked[:HELD_NAMES]]


# The held-names stage runs after the slips stage while fewer than this many hits are
# within the slips their names may carry: the caller's top five.
HELD_WHEN_FEWER = 5

# The namesakes of at most this many names on the page are asked for (`_ranked`).
NAMESAKE_NAMES = 5

# The slips stage runs when no hit sounds like the words and fewer than this many are
# at most one slip from them: the person the caller means may be a slip from each word
# where no stage before looks (the first letters), behind a namesake a slip away.
SLIPS_WHEN_FEWER = 5


def good(fit: PersonFit) -> bool:
    """A hit the slips stage could not better: every word sounds like the name or is
    at most one slip from it (the stage finds people one slip from each word)."""
    return fit.rank >= STRONG_RANK or fit.slips <= 1


def _with_slip_keys(criteria: PersonCriteria) -> PersonCriteria:
    """`criteria` with each name word's one-slip keys (worked out only when asked)."""
    return replace(
        criteria,
        names=tuple(
            replace(term, slip_keys=_slip_keys(term.prefix)) if term.prefix else term
            for term in criteria.names
        ),
    )


def _order(ranked: tuple[PersonFit, Candidate]):
    """The order of hits: score; within a score the fewest slips between the words and
    the name (closeness by letters in common scores "jnue" as near Jane as June, one
    slip from it: on a million persons the Jane Jameses filled the page), then the
    fewest parts of the name no word fits ("iain scott": Iain Scott before Iain
    Johnson-Scott); then (ties broken the same way every time, whatever order the
    database gave the candidates in) name, date of birth, and last the person's id,
    which is unique. A hit every word of which is within the slips its name may carry
    comes before one further off on the same score."""
    fit, person = ranked
    return (
        -fit.score,
        not fit.in_reach,
        fit.apart,
        fit.unmatched,
        person.surname.casefold(),
        person.forename.casefold(),
        person.date_of_birth or date.min,
        person.id,
    )


def _address_of(details) -> str | None:
    return details.address if details is not None else None


def _markers(details) -> tuple[MarkerInfo, ...]:
    if details is None:
        return ()
    return tuple(
        MarkerInfo(code=m.code, label=m.label, severity=m.severity, note=m.note)
        for m in details.markers
    )


def _in_place_of_merged(uow: UnitOfWork, people):
    """The candidates with each record merged away replaced by the record it was merged
    into (never a separate hit), and, per survivor, the merged records found."""
    merged_ids = [p.merged_into_id for p in people if p.merged_into_id is not None]
    if not merged_ids and len({p.id for p in people}) == len(people):
        return list(people), {}  # none merged away, each once: most searches
    survivors = uow.person_records.survivors(merged_ids)
    kept: dict[int, object] = {}
    merged: dict[int, list] = {}
    for person in people:
        if person.merged_into_id is None:
            kept.setdefault(person.id, person)
            continue
        survivor = survivors.get(person.merged_into_id)
        if survivor is not None and survivor.merged_into_id is None:
            kept.setdefault(survivor.id, survivor)
            merged.setdefault(survivor.id, []).append(person)
    return list(kept.values()), merged


def _names_of(person, aliases, merged) -> tuple[KnownName, ...]:
    """Every name a candidate answers to: their own, their aliases, and those of each
    record merged into them (found by its names as by an alias), the others a little
    lower."""
    own = KnownName(person.forename, person.surname)
    if not merged and person.id not in aliases:
        return (own,)  # most candidates
    names = [own]
    names += [
        KnownName(a.forename, a.surname, OTHER_NAME_PENALTY, ALIAS_REASON)
        for a in aliases.get(person.id, [])
    ]
    for other in merged:
        names.append(KnownName(other.forename, other.surname, OTHER_NAME_PENALTY, MERGED_REASON))
        names += [
            KnownName(a.forename, a.surname, OTHER_NAME_PENALTY, MERGED_REASON)
            for a in aliases.get(other.id, [])
        ]
    return tuple(names)


# A hit's first reason when the name that matched is not the person's own.
ALIAS_REASON = "by an alias"
MERGED_REASON = "by a merged record's name"


def _ranked(uow: UnitOfWork, parsed: PersonQuery, limit: int) -> list[tuple[PersonFit, Candidate]]:
    """(fit, person) of everyone the parsed line may mean, unordered: the candidate
    stages, as far as the ones before left the page short, and each candidate ranked."""
    words = query_words(parsed)
    # Every candidate of every stage is ranked by one ranker: namesakes are many, and
    # the same parts (common forenames and surnames) come up in candidate after candidate.
    ranker = LineRanker(parsed, words)

    def enough(rows: Sequence[Candidate]) -> bool:
        """A page of candidates whose own names are phonetic or exact matches: the
        wider stages find only fuzzy ones, which rank below every one of them."""
        if not words:
            return False
        strong = sum(
            1
            for row in rows
            if row.merged_into_id is None and ranker.rank(row.forename, row.surname) >= STRONG_RANK
        )
        return strong >= limit

    def ranked_of(
        people: Sequence[Candidate], *, with_aliases: bool = True
    ) -> list[tuple[PersonFit, Candidate]]:
        """(fit, person) of each candidate a word matches at least loosely; by their
        own names alone without `with_aliases` (found by them, one statement less)."""
        people, merged = _in_place_of_merged(uow, people)
        ids = [p.id for p in people] + [m.id for found in merged.values() for m in found]
        aliases = uow.search.aliases(ids) if with_aliases else {}
        ranked: list[tuple[PersonFit, Candidate]] = []
        for person in people:
            names = _names_of(person, aliases, merged.get(person.id, ()))
            scored = ranker.score(names, person.date_of_birth)
            if scored is not None:
                ranked.append((scored, person))
        return ranked

    cut = False

    def asked(found: list[Candidate]) -> list[Candidate]:
        """What a call of the stages found, noting whether it may have stopped at a
        stage's limit (it keeps the first rows of a part, whoever they are)."""
        nonlocal cut
        cut = cut or len(found) >= NEAR_LIMIT
        return found

    criteria = None if parsed.empty else _criteria(parsed)
    people = [] if criteria is None else asked(candidates(uow.search, criteria, enough=enough))
    ranked = ranked_of(people)
    if people and not ranked and len(words) > 1:
        # The nearer stages found people, but none the words match (the last resort
        # runs only when they find nobody): ask it now ("ohn smith" found the Sam
        # O'Neills by their keys, and no John Smith).
        assert criteria is not None  # people were found by it
        ranked = ranked_of(asked(candidates(uow.search, criteria, last_resort=True)))
    narrowed = parsed.born_from is not None or parsed.postcode or parsed.address_words
    # Everyone ever at a whole postcode is a candidate already, whatever their name.
    whole_postcode = bool(parsed.postcode) and not (parsed.postcode or "").endswith(" ")
    # The later stages look only where no hit sounds right (or better), and with exact
    # dates only while no hit the date confirms (everyone born then is in already).
    later = (
        criteria is not None
        and not whole_postcode
        and (len(words) == 2 or (len(words) == 1 and narrowed))
        and not any(f.rank >= STRONG_RANK for f, _ in ranked)
        and not (parsed.dates_of_birth and any(f.confirmed for f, _ in ranked))
    )
    seen = {person.id for _, person in ranked}

    def rank_more(more: Iterable[Candidate]) -> None:
        """Rank a later stage's people not in already, by their own names (found by them:
        an alias that fits is found by its keys before), the aliases left unread; a
        merged record's survivor may be in already."""
        nonlocal seen
        ranked.extend(
            (fit, person)
            for fit, person in ranked_of([p for p in more if p.id not in seen], with_aliases=False)
            if person.id not in seen
        )
        seen = {person.id for _, person in ranked}

    slipped = False
    # A lone word: only while no hit is good (its namesakes a slip away are many).
    if later and sum(good(f) for f, _ in ranked) < (SLIPS_WHEN_FEWER if len(words) == 2 else 1):
        slipped = True
        # Two words (or one within dates or at an address), none sounding right and
        # few a slip away: each may carry a slip where no stage before looks (its
        # first letters, a letter left out of a lone word): the slips stage, one
        # statement.
        assert criteria is not None  # `later` says so
        more = asked(candidates(uow.search, _with_slip_keys(criteria), slips=True))
        rank_more(more)
        if (len(words) == 2 and not any(fit.in_reach for fit, _ in ranked)) or (
            len(words) == 1 and len(more) >= NEAR_LIMIT and not any(good(f) for f, _ in ranked)
        ):
            # None of them within the slips their names may carry: the pairs may be
            # hundreds, and the index's order kept the first of them whatever their
            # names ("kmaria imah" found a hundred others and no Maria Miah): the same
            # pairs again, read likeliest first. A lone word within dates the same, when
            # its keys filled the stage with no one a slip away ("brue 1955-1959": the
            # key BR kept a hundred Browns, and no Bruce).
            rank_more(
                asked(candidates(uow.search, _with_slip_keys(criteria), slips=True, likeliest=True))
            )
            if (
                len(words) == 1
                and parsed.born_from is not None
                and not any(good(f) for f, _ in ranked)
            ):
                # Nobody born in the years a slip away: those with no date recorded.
                rank_more(
                    asked(
                        candidates(
                            uow.search,
                            _with_slip_keys(criteria),
                            slips=True,
                            likeliest=True,
                            undated=True,
                        )
                    )
                )
    if later and len(words) == 2 and not any(fit.in_reach for fit, _ in ranked):
        # Still no one the words fit within the slips their names may carry (none at
        # all, or only names further off: "sahnnn willlimson" found the Sean
        # Williamsons, four slips from "sahnnn" though they sound alike): one word may
        # carry two slips no key or start can find ("ojgnson" for Johnson): the people
        # the other word finds, likeliest first by how alike their other name is (one
        # statement). Only then: it reads everyone the other word names (a common
        # forename is ten thousand on a million), 50-400 ms.
        assert criteria is not None  # `later` says so
        rank_more(asked(candidates(uow.search, _with_slip_keys(criteria), other_word=True)))
    reached = [person.surname for fit, person in ranked if fit.in_reach]
    if later and len(words) == 2 and (not reached or (slipped and len(reached) < HELD_WHEN_FEWER)):
        # Even the other word found no one within reach: both words may carry two slips
        # at their start ("halotte oregrs" for Charlotte Rogers), leaving no key one slip
        # away and no start of either name. The names the force holds near each word
        # (every surname read once, the forenames held with those near), and everyone
        # so named: 30-60 ms on a million persons, asked only here.
        # Or the slips stage found a few within reach, which stop the other-word stage,
        # and the person may be as near the words as they are, two slips where no key
        # reaches ("reence ay": Reece Day one slip from each word, Terence Day two and
        # one): the same, among the surnames of those found alone (no scan; two
        # statements on the (surname, forename) index).
        assert criteria is not None  # `later` says so
        rank_more(
            asked(
                candidates(uow.search, criteria, held=True, held_among=reached if reached else None)
            )
        )
    if cut and len(words) == 2 and not narrowed and not parsed.dates_of_birth:
        # A stage that stopped at its limit keeps the first rows it reads, whoever they
        # are: of five Denise Palmers, "segise paler" kept the one first in the index
        # and cut the others, who fit the words as well. Where the page has room, the
        # namesakes of its hits within reach (the same forename and surname as
        # stored) are asked for, one statement on the (surname, forename) index.
        page = sorted(ranked, key=_order)[:limit]
        names = list(
            dict.fromkeys((p.forename, p.surname) for f, p in page if f.in_reach and p.forename)
        )[:NAMESAKE_NAMES]
        if names and len(page) < limit:
            found: dict[int, Candidate] = {}
            uow.search.collect(found, [CandidateGroup([uow.search.namesakes(names)])], limit)
            rank_more(found.values())
    return ranked


def search_persons(
    uow: UnitOfWork, actor: Actor, query: str, *, today: date, limit: int = 20
) -> list[PersonHit]:
    """The people `query` may mean, best first, each with markers, address and counts.

    Refuses only a line too long to search (`QueryTooLong`, at the field `query`); text
    it cannot read finds nobody. Audited ("person.search") with the query and the ids
    shown.
    """
    text = (query or "")[:QUERY_LIMIT]
    parsed = parse_person_query(text, today=today)
    words = query_words(parsed)
    names = sum(1 for word in words if word.normal)  # words that are looked up as names
    if names > NAME_WORD_LIMIT or len(text.split()) > WORD_LIMIT:
        raise QueryTooLong(
            "query",
            f"a search takes at most {NAME_WORD_LIMIT} names and {WORD_LIMIT} words in all; "
            f"this one has {names} and {len(text.split())}: give the two or three facts that "
            "matter (a name, a date of birth, a postcode)",
        )
    with uow:
        access.require(uow, actor, Action.PERSON_SEARCH, "person")
        ranked = _ranked(uow, parsed, limit)
        apart = particles_apart(parsed)
        if apart is not None:
            # "le tuckre" is read as one surname (Le Tucker); a caller may have meant
            # two names (Lee Tucker, a letter left out): both are asked.
            seen = {person.id for _, person in ranked}
            ranked += [(f, p) for f, p in _ranked(uow, apart, limit) if p.id not in seen]
        ranked.sort(key=_order)
        shown = ranked[:limit]
        shown_ids = [p.id for _, p in shown]
        details = uow.search.hit_details(shown_ids, today)
        if parsed.postcode or parsed.address_words:
            # Found at the address asked, now or before: who lives there now first
            # within the page (a current address is known only for the page's hits).
            shown = [
                (at_current_address(parsed, fit, _address_of(details.get(person.id))), person)
                for fit, person in shown
            ]
            shown.sort(key=_order)
            shown_ids = [p.id for _, p in shown]
        hits = []
        for (score, rank, why, *_), person in shown:
            found = details.get(person.id)
            if person.restricted:
                owner = (found and found.creator) or UNKNOWN_OWNER
                hits.append(
                    PersonHit(
                        person.id,
                        RESTRICTED_LABEL.format(owner=owner),
                        "",
                        None,
                        None,
                        (),
                        rank.label,
                        score,
                        0,
                        0,
                        True,
                        ask=owner,
                    )
                )
                continue
            hits.append(
                PersonHit(
                    person.id,
                    person.forename,
                    person.surname,
                    person.date_of_birth,
                    found.address if found else None,
                    _markers(found),
                    rank.label,
                    score,
                    found.incidents if found else 0,
                    found.intelligence if found else 0,
                    False,
                    why=why,
                )
            )
        audit.record(
            uow,
            actor,
            "person.search",
            "person",
            None,
            detail=f"query={text!r}; shown: " + (",".join(str(i) for i in shown_ids) or "none"),
        )
        uow.commit()
        return hits
