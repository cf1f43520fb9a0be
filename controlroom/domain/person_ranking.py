"""How well a person's names and date of birth answer a search line: pure ranking.

The search service (controlroom.services.person_search) finds candidates in the
database; this module decides, for each, how it ranks against the words typed:

    exact     every name word is a name (or alias) part, spelled the same once case,
              accents, apostrophes and Mc/Mac are folded;
    phonetic  every word at least sounds like one (the same phonetic key) and is spelled
              close enough to it (Metaphone alone would pair Jane and John);
    fuzzy     every word at least starts one or is close to one (rapidfuzz).

Within a rank the closer spelling, a matching date of birth and the forename-first
order come first; a name the person answers to other than their own (an alias, the name
of a record merged into theirs) ranks a little lower. Nothing here reads the database
or the clock: the same words and names give the same score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from functools import lru_cache

from rapidfuzz import fuzz

from controlroom.domain.phonetics import PersonQuery, name_parts, normalise_name, phonetic_keys

# A word this close to a name part (rapidfuzz ratio, 0-100) is a fuzzy match.
FUZZY_THRESHOLD = 75
# Metaphone keeps consonants only, so Jane and John share a key: a shared key counts
# only between spellings this close (Catherine/Kathryn 62, Jane/John 50).
PHONETIC_MIN_RATIO = 55
# A name the person answers to other than their own ranks this little lower.
OTHER_NAME_PENALTY = 0.05
# How much the closeness of the spelling (0-1) adds within a rank.
CLOSENESS_WEIGHT = 0.5
# The order bonus: the last word is a surname (a lone word is most often one), and,
# with two words or more, the first is a forename as well ("john smith").
SURNAME_LAST_BONUS = 0.03
FORENAME_FIRST_BONUS = 0.05
# The date bonus: born on a date asked or within the range asked; born on a date asked
# with day and month the other way round; no date of birth recorded.
DATE_MATCH_BONUS = 0.3
DATE_TRANSPOSED_BONUS = 0.15
DATE_UNKNOWN_BONUS = 0.05


class Rank(IntEnum):
    """How well every word matched; the integer part of a score. NONE is not a hit."""

    NONE = 0
    FUZZY = 1
    PHONETIC = 2
    EXACT = 3

    @property
    def label(self) -> str:
        return self.name.lower()


# A hit of this rank or better outranks anything the near-spelling and first-letter
# stages add (fuzzy at best: their keys are not the words' own): a page of them is enough.
STRONG_RANK = Rank.PHONETIC

_NAME_PUNCTUATION = str.maketrans("", "", "'\u2019- ")


def is_name(word: str) -> bool:
    """Letters, apostrophes, hyphens and spaces only: a word that may be spelled another
    way. Anything else ("smi%", "[b]x") is matched only as the characters typed."""
    return word.translate(_NAME_PUNCTUATION).isalpha()


def word_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of a name word; none for a word that is not a name."""
    return phonetic_keys(word) if is_name(word) else ()


@dataclass(frozen=True, slots=True)
class QueryWord:
    """One name word of a search line, as ranking compares it."""

    typed: str  # casefolded, as typed
    normal: str  # normal form ("" when it is not a name)
    keys: frozenset[str]
    prefix: str  # the normal form, when the word may start a name part


def query_words(query: PersonQuery) -> list[QueryWord]:
    """The name words of a parsed line, in the order typed."""
    words = []
    for typed in query.names:
        normal = normalise_name(typed) if is_name(typed) else ""
        words.append(QueryWord(typed.casefold(), normal, frozenset(word_keys(typed)), normal))
    return words


# Ranking reads the same few thousand names over and over: their parts and keys are pure
# functions of the text, kept once computed.
_parts = lru_cache(maxsize=65_536)(name_parts)


@lru_cache(maxsize=65_536)
def _token_keys(token: str) -> frozenset[str]:
    return frozenset(phonetic_keys(token))


@lru_cache(maxsize=65_536)
def word_against_part(word: QueryWord, token: str) -> tuple[Rank, float]:
    """(rank, closeness 0-1) of one query word against one name part: the same few
    thousand parts come up search after search, so each pair is worked out once."""
    close = fuzz.ratio(word.normal, token) / 100 if word.normal else 0.0
    if word.normal and word.normal == token:
        return Rank.EXACT, close
    if word.keys & _token_keys(token) and close * 100 >= PHONETIC_MIN_RATIO:
        return Rank.PHONETIC, close
    if (word.prefix and token.startswith(word.prefix)) or close * 100 >= FUZZY_THRESHOLD:
        return Rank.FUZZY, close
    return Rank.NONE, close


@dataclass(frozen=True, slots=True)
class NameMatch:
    """How the words match one name: the worst word's rank, the mean closeness, and the
    order bonus (never enough to lift a hit out of its rank)."""

    rank: Rank
    closeness: float
    bonus: float


def name_match(words: list[QueryWord], forename: str | None, surname: str) -> NameMatch:
    """How `words` match the name (`forename`, `surname`): each word against the name's
    best part for it; the name ranks as its worst-matched word."""
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
    rank, closeness, sides = Rank.EXACT, 0.0, []
    for word in words:
        best_rank, best_close, best_side = Rank.NONE, 0.0, None
        for token, side in side_of.items():
            found, close = word_against_part(word, token)
            if (found, close) > (best_rank, best_close):
                best_rank, best_close, best_side = found, close, side
        if (
            best_rank is Rank.NONE
            and word.typed
            and any(n.startswith(word.typed) for n in typed_names)
        ):
            # Not a name ("o'n", "smi%"), but the characters typed start the name.
            best_rank, best_close = Rank.FUZZY, 0.5
        rank = min(rank, best_rank)
        closeness += best_close
        sides.append(best_side)
    bonus = SURNAME_LAST_BONUS * (bool(sides) and sides[-1] == "surname")
    if len(sides) > 1 and sides[0] == "forename" and sides[-1] == "surname":
        bonus += FORENAME_FIRST_BONUS
    return NameMatch(rank, closeness / max(1, len(words)), bonus)


def date_bonus(query: PersonQuery, value: date | None) -> float:
    """What the date of birth adds: nothing when the line gave no date."""
    if not query.dates_of_birth and query.born_from is None:
        return 0.0
    if value is None:
        return DATE_UNKNOWN_BONUS
    if value in query.dates_of_birth:
        return DATE_MATCH_BONUS
    if (
        query.born_from is not None
        and query.born_to is not None
        and query.born_from <= value <= query.born_to
    ):
        return DATE_MATCH_BONUS
    return DATE_TRANSPOSED_BONUS  # candidates by date were born on a day asked or its mirror


@dataclass(frozen=True, slots=True)
class KnownName:
    """A name a person answers to; `penalty` is 0 for their own, OTHER_NAME_PENALTY for
    an alias or a name of a record merged into theirs."""

    forename: str | None
    surname: str
    penalty: float = 0.0


def score_person(
    query: PersonQuery,
    words: list[QueryWord],
    names: Iterable[KnownName],
    date_of_birth: date | None,
    *,
    match=name_match,
) -> tuple[float, Rank] | None:
    """(score, rank) of a person for the line, or None when a word matches none of their
    names at all. The score's integer part is the rank; closeness, order and date of
    birth order hits within it. `match` is `name_match` or a caching wrapper of it.

    With no name words (a date, a postcode), the person ranks exact when born on a date
    asked (or when none was asked), fuzzy otherwise (the mirrored day and month)."""
    if words:
        best: tuple[NameMatch, float] | None = None
        for name in names:
            found = match(words, name.forename, name.surname)
            if best is None or (found.rank, found.closeness + found.bonus - name.penalty) > (
                best[0].rank,
                best[0].closeness + best[0].bonus - best[1],
            ):
                best = (found, name.penalty)
        if best is None or best[0].rank is Rank.NONE:
            return None
        found, penalty = best
        rank = found.rank
        score = rank + CLOSENESS_WEIGHT * found.closeness + found.bonus - penalty
    else:
        exact_date = not query.dates_of_birth or date_of_birth in query.dates_of_birth
        rank = Rank.EXACT if exact_date else Rank.FUZZY
        score = float(rank)
    score += date_bonus(query, date_of_birth)
    return round(score, 4), rank
