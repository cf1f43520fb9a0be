"""Person search: one query line, found however the name was spelled, every hit with its
warning markers.

The line is read by `controlroom.domain.phonetics.parse_person_query` (names in any
order, dates of birth, ages, postcodes, address fragments); the data layer's search
backend (`uow.search`, one per dialect) finds the candidates through indexed phonetic
keys, prefixes, dates and addresses; this module ranks them:

    exact     every name word is a name (or alias) part, spelled the same once case,
              accents, apostrophes and Mc/Mac are folded;
    phonetic  every word at least sounds like one (the same phonetic key);
    fuzzy     every word at least starts one or is close to one (rapidfuzz).

Within a rank the closer spelling, a matching date of birth and the forename-first
order come first. A record merged into another (controlroom.services.person_merge) is
never a hit of its own: the record it was merged into stands in its place, found by the
merged record's names as by an alias. A date of birth matches with day and month either way round. A
restricted person's hit says only that the record exists and whom to ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import jellyfish
from rapidfuzz import fuzz

from controlroom.data.search import Candidate, NameTerm, PersonCriteria
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action
from controlroom.domain.phonetics import (
    KEY_LENGTH,
    PersonQuery,
    name_parts,
    normalise_name,
    parse_person_query,
    phonetic_keys,
    transposed,
)
from controlroom.services import access, audit
from controlroom.services.markers import MarkerInfo

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

QUERY_LIMIT = 200
# A word this close to a name part (rapidfuzz ratio, 0-100) is a fuzzy match.
FUZZY_THRESHOLD = 75
# Metaphone keeps consonants only, so Jane and John share a key: a shared key counts
# only between spellings this close (Catherine/Kathryn 62, Jane/John 50).
PHONETIC_MIN_RATIO = 55
RESTRICTED_LABEL = "RESTRICTED \u2014 ask {owner}"
UNKNOWN_OWNER = "a supervisor"

_RANKS = {3: "exact", 2: "phonetic", 1: "fuzzy"}
# A hit of this rank or better outranks anything the near-spelling and first-letter
# stages add (fuzzy at best: their keys are not the words' own): a page of them is enough.
STRONG_RANK = 2


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

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


@dataclass(frozen=True, slots=True)
class _Word:
    typed: str  # casefolded, as typed
    normal: str  # normal form ("" when it has no letters)
    keys: frozenset[str]
    prefix: str  # the normal form, when the word may start a name part


def _words(query: PersonQuery) -> list[_Word]:
    words = []
    for typed in query.names:
        normal = normalise_name(typed) if _is_name(typed) else ""
        words.append(_Word(typed.casefold(), normal, frozenset(_keys(typed)), normal))
    return words


_NAME_PUNCTUATION = str.maketrans("", "", "'\u2019- ")


def _is_name(word: str) -> bool:
    """Letters, apostrophes, hyphens and spaces only: a word that may be spelled another way.
    Anything else ("smi%", "[b]x") is matched only as the characters typed."""
    return word.translate(_NAME_PUNCTUATION).isalpha()


def _keys(word: str) -> tuple[str, ...]:
    return phonetic_keys(word) if _is_name(word) else ()


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
    if not _is_name(word):
        return []
    normal = normalise_name(word)
    if len(normal) < min_letters:
        return []
    own = set(phonetic_keys(normal))
    # A variant is already a normal form of one part: its key is Metaphone's.
    keys = (jellyfish.metaphone(variant)[:KEY_LENGTH] for variant in variants(normal))
    return list(dict.fromkeys(key for key in keys if key not in own and len(key) > 1))


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


def _criteria(query: PersonQuery) -> PersonCriteria:
    dates: list[date] = []
    for value in query.dates_of_birth:
        dates.append(value)
        other = transposed(value)
        if other is not None:
            dates.append(other)
    return PersonCriteria(
        names=tuple(
            NameTerm(_keys(w), w.casefold(), _near_keys(w), _gap_keys(w)) for w in query.names
        ),
        dates_of_birth=tuple(dict.fromkeys(dates)),
        born_from=query.born_from,
        born_to=query.born_to,
        postcode_prefix=query.postcode,
        address_words=query.address_words,
    )


# Ranking reads the same few thousand names over and over: their parts and keys are pure
# functions of the text, kept once computed.
_parts = lru_cache(maxsize=65_536)(name_parts)


@lru_cache(maxsize=65_536)
def _token_keys(token: str) -> frozenset[str]:
    return frozenset(phonetic_keys(token))


@lru_cache(maxsize=65_536)
def _word_token(word: _Word, token: str) -> tuple[int, float]:
    """(rank 0-3, closeness 0-1) of one query word against one name part: the same few
    thousand parts come up search after search, so each pair is worked out once."""
    close = fuzz.ratio(word.normal, token) / 100 if word.normal else 0.0
    if word.normal and word.normal == token:
        return 3, close
    if word.keys & _token_keys(token) and close * 100 >= PHONETIC_MIN_RATIO:
        return 2, close
    if (word.prefix and token.startswith(word.prefix)) or close * 100 >= FUZZY_THRESHOLD:
        return 1, close
    return 0, close


def _name_match(words: list[_Word], forename: str | None, surname: str) -> tuple[int, float, float]:
    """(rank 0-3, closeness 0-1, order bonus) of the query words against one name.

    The order bonus prefers forename-first ("john smith") and a last word that is the
    surname (a lone word is most often one), without ever lifting a hit out of its rank.
    """
    fore_parts, sur_parts = _parts(forename or ""), _parts(surname)
    side_of: dict[str, str] = {}
    for part in fore_parts:
        side_of.setdefault(part, "forename")
    for part in sur_parts:
        side_of.setdefault(part, "surname")
    for whole in ("".join(fore_parts), "".join(sur_parts)):
        if whole:
            side_of.setdefault(whole, "surname")
    typed_names = ((forename or "").casefold(), surname.casefold())
    rank, closeness, sides = 3, 0.0, []
    for word in words:
        best_rank, best_close, best_side = 0, 0.0, None
        for token, side in side_of.items():
            found, close = _word_token(word, token)
            if (found, close) > (best_rank, best_close):
                best_rank, best_close, best_side = found, close, side
        if best_rank == 0 and word.typed and any(n.startswith(word.typed) for n in typed_names):
            best_rank, best_close = 1, 0.5
        rank = min(rank, best_rank)
        closeness += best_close
        sides.append(best_side)
    bonus = 0.03 * (bool(sides) and sides[-1] == "surname")
    if len(sides) > 1 and sides[0] == "forename" and sides[-1] == "surname":
        bonus += 0.05
    return rank, closeness / max(1, len(words)), bonus


def _date_bonus(query: PersonQuery, value: date | None) -> float:
    if not query.dates_of_birth and query.born_from is None:
        return 0.0
    if value is None:
        return 0.05
    if value in query.dates_of_birth:
        return 0.3
    if (
        query.born_from is not None
        and query.born_to is not None
        and query.born_from <= value <= query.born_to
    ):
        return 0.3
    return 0.15  # day and month the other way round


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
    survivors = uow.person_records.survivors(
        [p.merged_into_id for p in people if p.merged_into_id is not None]
    )
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


# A name the person answers to other than their own ranks this little lower.
OTHER_NAME_PENALTY = 0.05


def _names_of(person, aliases, merged) -> list[tuple[str | None, str, float]]:
    """(forename, surname, penalty) of every name a candidate answers to: their own,
    their aliases, and those of each record merged into them (found by its names as by
    an alias), the others a little lower."""
    names = [(person.forename, person.surname, 0.0)]
    names += [(a.forename, a.surname, OTHER_NAME_PENALTY) for a in aliases.get(person.id, [])]
    for other in merged:
        names.append((other.forename, other.surname, OTHER_NAME_PENALTY))
        names += [(a.forename, a.surname, OTHER_NAME_PENALTY) for a in aliases.get(other.id, [])]
    return names


def search_persons(
    uow: UnitOfWork, actor: Actor, query: str, *, today: date, limit: int = 20
) -> list[PersonHit]:
    """The people `query` may mean, best first, each with markers, address and counts.

    Never refuses a query: text it cannot read finds nobody. Audited ("person.search")
    with the query and the ids shown.
    """
    text = (query or "")[:QUERY_LIMIT]
    parsed = parse_person_query(text, today=today)
    words = _words(parsed)
    with uow:
        access.require(uow, actor, Action.PERSON_SEARCH, "person")
        matches: dict[tuple[str | None, str], tuple[int, float, float]] = {}

        def match(forename: str | None, surname: str) -> tuple[int, float, float]:
            if (forename, surname) not in matches:  # namesakes are many
                matches[forename, surname] = _name_match(words, forename, surname)
            return matches[forename, surname]

        def enough(rows) -> bool:
            """A page of candidates whose own names are phonetic or exact matches: the
            wider stages find only fuzzy ones, which rank below every one of them."""
            if not words:
                return False
            strong = sum(
                1
                for row in rows
                if row.merged_into_id is None and match(row.forename, row.surname)[0] >= STRONG_RANK
            )
            return strong >= limit

        def ranked_of(people: Sequence[Candidate]) -> list[tuple[float, int, Candidate]]:
            """(score, rank, person) of each candidate a word matches at least loosely."""
            people, merged = _in_place_of_merged(uow, people)
            ids = [p.id for p in people] + [m.id for found in merged.values() for m in found]
            aliases = uow.search.aliases(ids)
            ranked: list[tuple[float, int, Candidate]] = []
            for person in people:
                if words:
                    rank, close, bonus, penalty = max(
                        (
                            (*match(forename, surname), penalty)
                            for forename, surname, penalty in _names_of(
                                person, aliases, merged.get(person.id, ())
                            )
                        ),
                        key=lambda m: (m[0], m[1] + m[2] - m[3]),
                    )
                    if rank == 0:
                        continue
                    score = rank + 0.5 * close + bonus - penalty
                else:
                    exact_date = (
                        not parsed.dates_of_birth or person.date_of_birth in parsed.dates_of_birth
                    )
                    rank = 3 if exact_date else 1
                    score = float(rank)
                score += _date_bonus(parsed, person.date_of_birth)
                ranked.append((round(score, 4), rank, person))
            return ranked

        criteria = None if parsed.empty else _criteria(parsed)
        people = [] if criteria is None else uow.search.candidates(criteria, enough=enough)
        ranked = ranked_of(people)
        if people and not ranked and len(words) > 1:
            # The nearer stages found people, but none the words match (the last resort
            # runs only when they find nobody): ask it now ("ohn smith" found the Sam
            # O'Neills by their keys, and no John Smith).
            assert criteria is not None  # people were found by it
            ranked = ranked_of(uow.search.candidates(criteria, last_resort=True))
        ranked.sort(
            key=lambda r: (
                -r[0],
                r[2].surname.casefold(),
                r[2].forename.casefold(),
                r[2].date_of_birth or date.min,
                r[2].id,
            )
        )
        shown = ranked[:limit]
        shown_ids = [p.id for _, _, p in shown]
        details = uow.search.hit_details(shown_ids, today)
        hits = []
        for score, rank, person in shown:
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
                        _RANKS[rank],
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
                    _RANKS[rank],
                    score,
                    found.incidents if found else 0,
                    found.intelligence if found else 0,
                    False,
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
