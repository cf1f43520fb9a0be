"""How well a person's names and date of birth answer a search line: pure ranking.

The search service (controlroom.services.person_search) finds candidates in the
database; this module decides, for each, how it ranks against the words typed:

    exact     every name word is a name (or alias) part, spelled the same once case,
              accents, apostrophes and Mc/Mac are folded;
    phonetic  every word at least is another spelling of the same name
              (controlroom.domain.name_variants: Sean for Shaun, Kate for Catherine) or
              sounds like one (the same phonetic key) and is spelled close enough to it
              (Metaphone alone would pair Jane and John) with no more keying slips
              than the name may carry;
    fuzzy     every word at least starts one, is close to one (rapidfuzz), is one
              with no more keying slips than it may carry (controlroom.domain.slips: a
              letter wrong, missing, extra or two swapped, the first letters included),
              or sounds like one with more slips than that ("bukre" and Baker: two,
              where Burke is one slip off and comes first).

A date of birth confirmed (born on the day asked, on its mirror with day and month
swapped, or within the years asked) is one more fact that fits: it lifts a hit above
every hit it does not confirm (DATE_FACT_WEIGHT), so the two facts a caller gives, a
surname and a date of birth, put the one person they name first, whatever else shares
the name. Where every word is the name or another spelling of its family, the day
itself lifts a hit above the same name on the mirrored day (EXACT_DATE_WEIGHT); so
does living at the address asked now, its words whole words of the address
(ADDRESS_FACT_WEIGHT, `at_current_address`). Within that, the rank; within a rank the
closer spelling (by slips: two letters swapped are one), the exact date over its mirror
and the forename-first order come first; a name the person answers to other than their
own (an alias, the name of a record merged into theirs) ranks a little lower.

Every hit says why it fits (`PersonFit.why`: "surname exact", "forename family", "DOB
exact", ...). Nothing here reads the database or the clock: the same words and names
give the same score and the same reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from functools import lru_cache
from typing import Any, NamedTuple

from rapidfuzz import fuzz

from controlroom.domain.name_variants import name_family
from controlroom.domain.phonetics import PersonQuery, name_parts, normalise_name, phonetic_keys
from controlroom.domain.slips import MOST_SLIPS, slips_allowed, slips_apart, within_slips

# A word this close to a name part (rapidfuzz ratio, 0-100) is a fuzzy match.
FUZZY_THRESHOLD = 75
# The least closeness (0-1) of another spelling of the name's family: as close as one
# slip in four letters, whatever letters the two share.
FAMILY_CLOSENESS = 0.75
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
# What a date of birth confirmed adds: more than any rank and closeness, so a hit the
# date confirms comes before every hit it does not.
DATE_FACT_WEIGHT = 4.0
# What the date itself (not its mirror) adds where every word is the name or another
# spelling of its family: more than any rank and closeness, so "reid 02/09/2024" puts
# the Read born that day before a Reid born on 2 September's mirror. A caller says a
# name another way more often than they mix day and month; a name that only sounds
# alike or is near keeps its rank below.
EXACT_DATE_WEIGHT = 2.0


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
    # The normal forms of the other spellings of the name (controlroom.domain.name_variants).
    family: frozenset[str] = frozenset()


@lru_cache(maxsize=4096)
def family_normals(word: str) -> frozenset[str]:
    """The normal forms of the other spellings of the name `word` (none when it is no
    name or has no family), without the word's own."""
    if not is_name(word):
        return frozenset()
    own = normalise_name(word)
    return frozenset(n for n in map(normalise_name, name_family(word)) if n and n != own)


@lru_cache(maxsize=4096)
def family_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of the other spellings of the name `word` that are not its own
    ("shaun" -> SN for Sean; its own is XN), in a fixed order."""
    own = set(word_keys(word))
    keys = (k for spelling in sorted(family_normals(word)) for k in phonetic_keys(spelling))
    return tuple(dict.fromkeys(k for k in keys if k not in own))


def query_words(query: PersonQuery) -> list[QueryWord]:
    """The name words of a parsed line, in the order typed."""
    words = []
    for typed in query.names:
        normal = normalise_name(typed) if is_name(typed) else ""
        words.append(
            QueryWord(
                typed.casefold(),
                normal,
                frozenset(word_keys(typed)),
                normal,
                family_normals(typed),
            )
        )
    return words


# Ranking reads the same few thousand names over and over: their parts and keys are pure
# functions of the text, kept once computed.
@lru_cache(maxsize=65_536)
def _token_keys(token: str) -> frozenset[str]:
    return frozenset(phonetic_keys(token))


def _token_family(token: str) -> frozenset[str]:
    return family_normals(token)


# How a word fits a name part (`word_against_part`), as a hit's reasons say it.
EXACT, FAMILY, SOUNDS_ALIKE, NEAR, START = "exact", "family", "sounds alike", "near", "start"


def word_against_part(word: QueryWord, token: str) -> tuple[Rank, float, str, int]:
    """(rank, closeness 0-1, how, slips) of one query word against one name part. A
    line's ranking (LineRanker) asks once per part of the names its candidates have; the
    next line's words are new words (kept across searches, 25,000 pairs a benchmark run
    were asked for again 630 times, and the collector scanned them all). `how` is EXACT, FAMILY (another spelling of the same name), SOUNDS_ALIKE (the
    same key: PHONETIC with no more slips from the name than it may carry, FUZZY with
    more), NEAR (close, or within the slips the name may carry, itself or a spelling of
    its family), START (the word starts it) or "" (no fit); `slips`, for a NEAR fit, how
    many slips apart they are (0 for the others). Closeness is by letters in common (at
    least FAMILY_CLOSENESS for a spelling of the family), and by slips for a NEAR fit and
    a FUZZY one that sounds alike: two letters swapped are one slip ("luasc" is nearer
    Luacs than Lucas), where letters in common count a swap as two changes."""
    close = fuzz.ratio(word.normal, token) / 100 if word.normal else 0.0
    if word.normal and word.normal == token:
        return Rank.EXACT, close, EXACT, 0
    if token in word.family:
        # Another spelling of the same name is the name said another way: never less
        # close than FAMILY_CLOSENESS ("billy" and William share few letters).
        return Rank.PHONETIC, max(close, FAMILY_CLOSENESS), FAMILY, 0
    # The closeness first: it settles most pairs without the part's keys.
    sounds = close * 100 >= PHONETIC_MIN_RATIO and not word.keys.isdisjoint(_token_keys(token))
    if sounds and slips_apart(word.normal, token) <= slips_allowed(token):
        return Rank.PHONETIC, close, SOUNDS_ALIKE, 0
    if word.prefix and token.startswith(word.prefix):
        return Rank.FUZZY, close, START, 0
    if not word.normal:
        return Rank.NONE, close, "", 0
    # A spelling longer or shorter by more slips than any name may carry is not near: most
    # of a part's family is settled by the lengths alone, without a call.
    length = len(word.normal)
    family = _token_family(token)
    if not family and not sounds and close * 100 < FUZZY_THRESHOLD:
        # Most parts a line's candidates have (every forename of the Rogerses born within
        # the years asked) fit no word at all, and their closeness says so already. It
        # is 1 - (letters left out or put in) / (both lengths), and a slip costs at most
        # two of those (a letter wrong or two swapped: one out, one in), so a spelling
        # within MOST_SLIPS slips is at most 2 * MOST_SLIPS of them away: further, no
        # slips need counting. Half a letter spare for the float's rounding.
        if (1 - close) * (length + len(token)) > 2 * MOST_SLIPS + 0.5:
            return Rank.NONE, close, "", 0
    near = [
        other
        for other in (token, *family)
        if abs(len(other) - length) <= MOST_SLIPS and within_slips(word.normal, other)
    ]
    if sounds and not near:
        # The same key, but more slips from the name than it may carry ("bukre" and
        # Baker, two; Burke is one): no better than a near spelling, and as close as
        # its slips, so the name one slip away comes first.
        return Rank.FUZZY, _slip_closeness(word.normal, token), SOUNDS_ALIKE, 0
    if near or close * 100 >= FUZZY_THRESHOLD:
        apart = min(slips_apart(word.normal, other) for other in (near or [token]))
        return Rank.FUZZY, _slip_closeness(word.normal, token), NEAR, apart
    return Rank.NONE, close, "", 0


def _slip_closeness(typed: str, name: str) -> float:
    """How close a spelling is to a name by its slips (0-1): one less the share of the
    longer's letters the slips change."""
    return max(0.0, 1 - slips_apart(typed, name) / max(len(typed), len(name), 1))


class NameMatch(NamedTuple):
    """How the words match one name: the worst word's rank, the mean closeness, and the
    order bonus (never enough to lift a hit out of its rank); `fits`: for each word, the
    side of the name it fits ("forename", "surname") and how (`word_against_part`).
    A tuple, as `PersonFit`: a search makes one per candidate's name (hundreds), and a
    frozen dataclass took longer to build than the match took to work out."""

    rank: Rank
    closeness: float
    bonus: float
    fits: tuple[tuple[str, str], ...] = ()
    slips: int = 0  # the most slips between a word and the part it fits
    # The slips between every word and the part it fits, added: a word that sounds like
    # the part counts its own (a family spelling and an exact word none).
    apart: int = 0
    # The parts of the name no word fits ("Iain Johnson-Scott" for "iain scott": one).
    unmatched: int = 0
    # Every word fits its part with no more slips than the part may carry (or better).
    in_reach: bool = True


# What `word_against_part` said of each part, for one word: a line's ranking keeps one per
# word (LineRanker), where the same few parts come up in candidate after candidate.
PartFits = dict[str, tuple[Rank, float, str, int]]


# A word's best fit among a name's parts: (rank, closeness, the part's side for the order
# bonus, how, the side a hit's reasons name, slips, the part).
_WordFit = tuple[Rank, float, str | None, str, str, int, str]


def name_match(
    words: list[QueryWord],
    forename: str | None,
    surname: str,
    fits: Sequence[PartFits] | None = None,
    matches: dict[tuple, NameMatch] | None = None,
) -> NameMatch:
    """How `words` match the name (`forename`, `surname`): each word against the name's
    best part for it; the name ranks as its worst-matched word.

    A line's ranking (LineRanker) passes what it keeps across candidates: `fits`, one per
    word, what `word_against_part` said of the parts seen before (added to as parts are
    met), and `matches`, the NameMatch of each way the words fit a name seen before (the
    Adamses born within the years asked fit "adms" alike, whatever their forenames)."""
    best, unmatched = _best_fits(words, forename, surname, fits)
    if matches is None:
        return _name_match_of(words, best, unmatched)
    key = (best, unmatched)
    found = matches.get(key)
    if found is None:
        found = matches[key] = _name_match_of(words, best, unmatched)
    return found


# A part of a name as `_best_fits` tries it: (the part, its side for the order bonus,
# the side a hit's reasons name).
_Token = tuple[str, str, str]


class _Side(NamedTuple):
    """One side of a name (a forename or a surname) as `_best_fits` reads it."""

    parts: tuple[str, ...]
    tokens: tuple[_Token, ...]  # each part, on its own side
    # The parts run together ("johnsonscott"), a surname for the order bonus whichever
    # side it is; none for a side of one part.
    whole: tuple[_Token, ...]
    typed: str  # as stored, casefolded


@lru_cache(maxsize=65_536)
def _side(name: str, forename: bool) -> _Side:
    """`name` as one side of a name: a pure function of the text, kept once worked out
    (the same forenames and surnames come up line after line)."""
    parts = name_parts(name)
    side = "forename" if forename else "surname"
    whole = (("".join(parts), "surname", side),) if len(parts) > 1 else ()
    return _Side(parts, tuple((part, side, side) for part in parts), whole, name.casefold())


@lru_cache(maxsize=65_536)
def _sides(forename: str | None, surname: str) -> tuple[_Side, _Side, tuple[_Token, ...]]:
    """A name's two sides, and its parts in the order tried: the forename's parts, the
    surname's, then each side's parts run together ("johnsonscott"). Kept once worked
    out: a line's ranking asks it twice of every name it reaches."""
    fore, sur = _side(forename or "", True), _side(surname, False)
    return fore, sur, fore.tokens + sur.tokens + fore.whole + sur.whole


def _starts(typed: str, fore: _Side, sur: _Side) -> bool:
    """A word that fits no part (not a name: "o'n", "smi%") still starts the name: the
    characters typed start either side as stored."""
    return bool(typed) and (fore.typed.startswith(typed) or sur.typed.startswith(typed))


def _best_fits(
    words: list[QueryWord],
    forename: str | None,
    surname: str,
    fits: Sequence[PartFits] | None,
) -> tuple[tuple[_WordFit, ...], int]:
    """Each word's best fit among the name's parts (_WordFit), and how many parts of the
    name no word fits ("Iain Johnson-Scott" for "iain scott": one). All `name_match` reads
    of the name itself."""
    # Each part with its side for the order bonus and the side a hit's reasons name, in
    # the order tried. A part met again (a whole of one part, a surname that is also a
    # forename) fits as it did the first time, and only a better fit is taken: it keeps
    # its first side.
    fore, sur, tokens = _sides(forename, surname)
    best: list[_WordFit] = []
    fitted: set[str] = set()
    for word, known in zip(words, fits if fits is not None else [{} for _ in words], strict=True):
        best_rank, best_close, best_side, best_how, best_slips = Rank.NONE, 0.0, None, "", 0
        best_token = ""
        named = "name"
        for token, side, reason_side in tokens:
            fit = known.get(token)
            if fit is None:
                fit = known[token] = word_against_part(word, token)
            found, close, how, apart = fit
            # (found, close) > (best_rank, best_close), without making the tuples.
            if found > best_rank or (found == best_rank and close > best_close):
                best_rank, best_close, best_side, best_how = found, close, side, how
                named, best_slips, best_token = reason_side, apart, token
        if best_rank is Rank.NONE and _starts(word.typed, fore, sur):
            best_rank, best_close, best_how = Rank.FUZZY, 0.5, START
        best.append((best_rank, best_close, best_side, best_how, named, best_slips, best_token))
        fitted.add(best_token)
    covered = fitted
    if fore.whole or sur.whole:
        # A side's parts run together cover each of them (a whole of one part is the part).
        wholes = {"".join(parts): parts for parts in (fore.parts, sur.parts) if parts}
        covered = fitted | {
            part for whole, parts in wholes.items() if whole in fitted for part in parts
        }
    unmatched = 0
    for part in fore.parts + sur.parts:
        if part not in covered:
            unmatched += 1
    return tuple(best), unmatched


def _name_match_of(words: list[QueryWord], best: tuple[_WordFit, ...], unmatched: int) -> NameMatch:
    """The NameMatch of words fitting a name so (`_best_fits`): it reads nothing else of
    the name."""
    rank, closeness, sides = Rank.EXACT, 0.0, []
    fits: list[tuple[str, str]] = []
    most_slips = total_apart = 0
    in_reach = True
    for word, (best_rank, best_close, best_side, best_how, named, best_slips, best_token) in zip(
        words, best, strict=True
    ):
        rank = min(rank, best_rank)
        closeness += best_close
        sides.append(best_side)
        fits.append((named, best_how))
        most_slips = max(most_slips, best_slips)
        if (
            best_rank is Rank.NONE
            or (best_how == NEAR and best_slips > slips_allowed(best_token))
            or (best_how == SOUNDS_ALIKE and best_rank is Rank.FUZZY)
        ):
            in_reach = False
        if best_how == SOUNDS_ALIKE:
            total_apart += slips_apart(word.normal, best_token)
        elif best_how in (NEAR, START):
            total_apart += best_slips if best_how == NEAR else len(best_token) - len(word.normal)
    bonus = SURNAME_LAST_BONUS * (bool(sides) and sides[-1] == "surname")
    if len(sides) > 1 and sides[0] == "forename" and sides[-1] == "surname":
        bonus += FORENAME_FIRST_BONUS
    return NameMatch(
        rank,
        closeness / max(1, len(words)),
        bonus,
        tuple(fits),
        most_slips,
        total_apart,
        unmatched,
        in_reach,
    )


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


def date_fit(query: PersonQuery, value: date | None) -> str | None:
    """How the date of birth fits the line, as a hit's reasons say it: "DOB exact",
    "DOB day/month swapped", "DOB in range", "DOB not recorded"; None when the line gave
    no date. (A candidate found by date was born on a day asked or its mirror.)"""
    if not query.dates_of_birth and query.born_from is None:
        return None
    if value is None:
        return "DOB not recorded"
    if value in query.dates_of_birth:
        return "DOB exact"
    if query.born_from is not None and query.born_to is not None:
        if query.born_from <= value <= query.born_to:
            return "DOB in range"
    if query.dates_of_birth:
        return "DOB day/month swapped"
    return "DOB outside range"


def date_confirmed(query: PersonQuery, value: date | None) -> bool:
    """The line gave a date of birth and the person's confirms it (on the day, its
    mirror, or within the years asked)."""
    return date_fit(query, value) in ("DOB exact", "DOB day/month swapped", "DOB in range")


def address_fit(query: PersonQuery, current: bool = True) -> tuple[str, ...]:
    """What the address asked adds to a hit's reasons. Every candidate of a line with an
    address was found there (controlroom.services.person_search: the address is a filter
    on every stage), now or before (`current` False: "postcode exact, former address")."""
    reasons = []
    if query.postcode:
        reasons.append("postcode area" if query.postcode.endswith(" ") else "postcode exact")
    if query.address_words:
        reasons.append("address")
    if reasons and not current:
        reasons[-1] += ", former address"
    return tuple(reasons)


# What living at the address asked now adds, over having lived there: within a rank.
CURRENT_ADDRESS_BONUS = 0.02
# What the address words add when they are whole words of the current address, in the
# order said ("ash gardens" is 9 Ash Gardens, not Ashfield Gardens; "old lane" is not
# Stone Lane in Woldfield): within a rank.
WHOLE_WORDS_BONUS = 0.01
# What living at the address asked now (its words whole) adds where every word is the
# name or another spelling of its family: more than any rank and closeness, so the
# Davis who lives at the postcode comes before a Davies who once did.
ADDRESS_FACT_WEIGHT = 2.0


def at_address_now(query: PersonQuery, address: str | None) -> bool:
    """The person's current address (one line: "12 Mill Lane, Thornton, LS6 2AB") is the
    one the line asks: its postcode (or outward code) and every address word in it."""
    if not query.postcode and not query.address_words:
        return False
    line = (address or "").casefold()
    if query.postcode and query.postcode.strip().casefold() not in line:
        return False
    return all(word in line for word in query.address_words)


_ADDRESS_WORD = re.compile(r"[\w']+")


def address_words_whole(query: PersonQuery, address: str | None) -> bool:
    """The line's address words are whole words of `address` (one line), one after
    another in the order said; True for a line with none (a postcode alone)."""
    wanted = [word.casefold() for word in query.address_words]
    if not wanted:
        return True
    words = _ADDRESS_WORD.findall((address or "").casefold())
    return any(
        words[start : start + len(wanted)] == wanted
        for start in range(len(words) - len(wanted) + 1)
    )


def at_current_address(query: PersonQuery, fit: PersonFit, address: str | None) -> PersonFit:
    """`fit` for a person found at the address asked, knowing their current address: a
    little higher when they live there now, more when the address words are whole words
    of it (and far more when the name is the same name too: ADDRESS_FACT_WEIGHT), the
    reason saying so when they no longer live there. The same fit for a line with no
    address."""
    if not query.postcode and not query.address_words:
        return fit
    if at_address_now(query, address):
        lift = CURRENT_ADDRESS_BONUS
        if address_words_whole(query, address):
            lift += WHOLE_WORDS_BONUS + (ADDRESS_FACT_WEIGHT if fit.same_name else 0.0)
        return fit._replace(score=round(fit.score + lift, 4))
    place = len(address_fit(query))
    return fit._replace(why=fit.why[: len(fit.why) - place] + address_fit(query, current=False))


class KnownName(NamedTuple):
    """A name a person answers to; `penalty` is 0 for their own, OTHER_NAME_PENALTY for
    an alias or a name of a record merged into theirs (a tuple, as `NameMatch`)."""

    forename: str | None
    surname: str
    penalty: float = 0.0
    # What the name is to the person, as a hit's reasons say it ("" for their own).
    kind: str = ""


class PersonFit(NamedTuple):
    """How a person fits a search line: the score (higher first), the rank of their
    best-matched name, and the reasons in words, one fact each, as shown beside the hit
    ("surname exact", "forename family", "DOB exact")."""

    score: float
    rank: Rank
    why: tuple[str, ...]
    closeness: float = 1.0  # of the spelling, 0-1 (1 with no name words)
    slips: int = 0  # the most slips between a word and the name part it fits
    confirmed: bool = False  # the date of birth asked is the person's (or its mirror)
    apart: int = 0  # the slips between the words and the parts they fit, added
    unmatched: int = 0  # the parts of the name no word fits
    # Every word is the name itself or another spelling of its family (none: False).
    same_name: bool = False
    # Every word fits its name part with no more slips than the part may carry, or
    # better (NameMatch.in_reach; True with no name words).
    in_reach: bool = True


def word_reasons(fits: Iterable[tuple[str, str]], kind: str = "") -> tuple[str, ...]:
    """Each word's fit in words, in the order typed ("forename family"), the name's kind
    ("alias") before them when the name is not the person's own."""
    found = tuple(f"{side} {how}" for side, how in fits if how)
    return ((kind,) if kind and found else ()) + found


class _ByName(NamedTuple):
    """The part of a PersonFit the names alone decide (`_by_name`)."""

    rank: Rank
    score: float  # rank, closeness, order, less the name's penalty: no date yet
    why: tuple[str, ...]
    closeness: float
    slips: int
    apart: int
    unmatched: int
    same_name: bool
    in_reach: bool


def _by_name(words: list[QueryWord], names: Iterable[KnownName], match) -> _ByName | None:
    """How the best of a person's names fits the words, or None when a word matches none
    of them at all (`words` not empty)."""
    best: tuple[NameMatch, KnownName] | None = None
    for name in names:
        found = match(words, name.forename, name.surname)
        if best is None or (found.rank, found.closeness + found.bonus - name.penalty) > (
            best[0].rank,
            best[0].closeness + best[0].bonus - best[1].penalty,
        ):
            best = (found, name)
    if best is None or best[0].rank is Rank.NONE:
        return None
    found, known = best
    rank = found.rank
    return _ByName(
        rank,
        rank + CLOSENESS_WEIGHT * found.closeness + found.bonus - known.penalty,
        word_reasons(found.fits, known.kind),
        found.closeness,
        found.slips,
        found.apart,
        found.unmatched,
        all(how in (EXACT, FAMILY) for _, how in found.fits),
        found.in_reach,
    )


# What each way a date of birth fits adds (`date_bonus`) and whether it confirms the line
# (`date_confirmed`), by `date_fit`'s words: a test holds the three to agree.
_DATE_BONUS = {
    None: 0.0,
    "DOB not recorded": DATE_UNKNOWN_BONUS,
    "DOB exact": DATE_MATCH_BONUS,
    "DOB in range": DATE_MATCH_BONUS,
    "DOB day/month swapped": DATE_TRANSPOSED_BONUS,
    "DOB outside range": DATE_TRANSPOSED_BONUS,
}
_CONFIRMING = frozenset(("DOB exact", "DOB day/month swapped", "DOB in range"))


def _by_date(query: PersonQuery, value: date | None) -> tuple[float, bool, str | None]:
    """What the date of birth adds, whether it confirms the line, and how it fits:
    (`date_bonus`, `date_confirmed`, `date_fit`), the fit worked out once."""
    fit = date_fit(query, value)
    return _DATE_BONUS[fit], fit in _CONFIRMING, fit


def _person_fit(
    query: PersonQuery,
    named: _ByName | None,
    date_of_birth: date | None,
    dated: tuple[float, bool, str | None],
    address: tuple[str, ...],
) -> PersonFit:
    """A PersonFit from its name part (None: the line has no name words) and its date
    part; `address`: `address_fit(query)`."""
    bonus, confirmed, fit = dated
    if named is not None:
        rank, score, why = named.rank, named.score, named.why
        same_name = named.same_name
    else:
        exact_date = not query.dates_of_birth or date_of_birth in query.dates_of_birth
        rank = Rank.EXACT if exact_date else Rank.FUZZY
        score, why, same_name = float(rank), (), False
    score += bonus
    if confirmed:
        score += DATE_FACT_WEIGHT
        if same_name and fit == "DOB exact":
            score += EXACT_DATE_WEIGHT
    why += ((fit,) if fit else ()) + address
    if named is None:
        return PersonFit(round(score, 4), rank, why, confirmed=confirmed)
    return PersonFit(
        round(score, 4),
        rank,
        why,
        named.closeness,
        named.slips,
        confirmed,
        named.apart,
        named.unmatched,
        same_name,
        named.in_reach,
    )


def score_person(
    query: PersonQuery,
    words: list[QueryWord],
    names: Iterable[KnownName],
    date_of_birth: date | None,
    *,
    match=name_match,
) -> PersonFit | None:
    """How a person fits the line (score, rank, reasons), or None when a word matches
    none of their names at all. Without a date of birth on the line the score's integer
    part is the rank; a date the person's confirms adds DATE_FACT_WEIGHT. Closeness,
    order and the date's exactness order hits within it. `match` is `name_match` or a
    caching wrapper of it (a line's many candidates: LineRanker).

    With no name words (a date, a postcode), the person ranks exact when born on a date
    asked (or when none was asked), fuzzy otherwise (the mirrored day and month)."""
    named = _by_name(words, names, match) if words else None
    if words and named is None:
        return None
    return _person_fit(
        query, named, date_of_birth, _by_date(query, date_of_birth), address_fit(query)
    )


# What LineRanker has not worked out yet (None is a name no word fits).
_UNSEEN: Any = object()


class LineRanker:
    """`score_person` for the many candidates of one search line, each fit worked out
    once: a word against a name part (the same forenames and surnames come up candidate
    after candidate), a name, the way the words fit a name (every Adams born within the
    years asked fits "adms" alike, whatever the forename), a date of birth, and the fit
    they make together. The same PersonFit as `score_person` for the same line, names
    and date, always (a test holds the two equal over generated lines and names); a
    search makes one, and drops it."""

    __slots__ = (
        "_address",
        "_by_match",
        "_dates",
        "_fits",
        "_matches",
        "_names",
        "_people",
        "_ranks",
        "_scores",
        "query",
        "words",
    )

    def __init__(self, query: PersonQuery, words: list[QueryWord]) -> None:
        self.query, self.words = query, words
        self._fits: list[PartFits] = [{} for _ in words]
        self._matches: dict[tuple, NameMatch] = {}
        self._names: dict[tuple[str | None, str], NameMatch] = {}
        self._people: dict[tuple[KnownName, ...], _ByName | None] = {}
        self._ranks: dict[tuple[str | None, str], Rank] = {}
        self._by_match: dict[tuple[NameMatch, float, str], _ByName | None] = {}
        self._dates: dict[date | None, tuple[float, bool, str | None]] = {}
        self._scores: dict[tuple, PersonFit] = {}
        self._address = address_fit(query)

    def name_match(self, forename: str | None, surname: str) -> NameMatch:
        """`name_match(self.words, forename, surname)`, once per name."""
        found = self._names.get((forename, surname))
        if found is None:
            found = self._names[forename, surname] = name_match(
                self.words, forename, surname, self._fits, self._matches
            )
        return found

    def _match(self, words: list[QueryWord], forename: str | None, surname: str) -> NameMatch:
        return self.name_match(forename, surname)

    def rank(self, forename: str | None, surname: str) -> Rank:
        """`self.name_match(forename, surname).rank`, the match worked out only for a
        name every word reaches; once per name (a page of strong matches is counted
        again as each stage adds to it, and each candidate is then scored)."""
        key = (forename, surname)
        found = self._ranks.get(key)
        if found is None:
            found = self._ranks[key] = (
                self.name_match(forename, surname).rank
                if self.reached(forename, surname)
                else Rank.NONE
            )
        return found

    def reached(self, forename: str | None, surname: str) -> bool:
        """Every word fits a part of the name, or its parts run together, or starts the
        name as typed: without, the name ranks Rank.NONE (`_best_fits`), and the way the
        words fit it need not be worked out."""
        fore, sur, tokens = _sides(forename, surname)
        for word, known in zip(self.words, self._fits, strict=True):
            for token, _, _ in tokens:
                fit = known.get(token)
                if fit is None:
                    fit = known[token] = word_against_part(word, token)
                if fit[0] is not Rank.NONE:
                    break
            else:
                if not _starts(word.typed, fore, sur):
                    return False
        return True

    def _by_name(self, names: tuple[KnownName, ...]) -> _ByName | None:
        if len(names) != 1:
            if not any(self.reached(name.forename, name.surname) for name in names):
                # Most candidates of a line that finds few hits (a range of years its
                # word's keys reach): no name of theirs is a hit.
                return None
            return _by_name(self.words, names, self._match)
        # One name (most people): its fit is the way the words fit it, and what it is
        # to the person.
        (name,) = names
        if self.rank(name.forename, name.surname) is Rank.NONE:
            return None
        key = (self.name_match(name.forename, name.surname), name.penalty, name.kind)
        if key in self._by_match:
            return self._by_match[key]
        named = self._by_match[key] = _by_name(self.words, names, self._match)
        return named

    def score(self, names: tuple[KnownName, ...], date_of_birth: date | None) -> PersonFit | None:
        """`score_person(self.query, self.words, names, date_of_birth)`."""
        named = None
        if self.words:
            named = self._people.get(names, _UNSEEN)
            if named is _UNSEEN:
                named = self._people[names] = self._by_name(names)
            if named is None:
                return None
        dated = self._dates.get(date_of_birth)
        if dated is None:
            dated = self._dates[date_of_birth] = _by_date(self.query, date_of_birth)
        # The fit is the names' and the date's: how they fit decides it (with no name
        # words, the date alone: born on a day asked is "DOB exact").
        key = (named, dated)
        fit = self._scores.get(key)
        if fit is None:
            fit = self._scores[key] = _person_fit(
                self.query, named, date_of_birth, dated, self._address
            )
        return fit


# A hit's reasons in a few letters, for a column at 80: which fact (F forename, S surname,
# N a name part either side, D date of birth, P postcode, A address; lower case when the
# address is a former one) and how (= exact, ~ the same name spelled another way or
# sounding alike, a day/month swap or a year's range, ? near: slips or the start typed,
# or no date recorded). The status line says the same in words.
_FACT_CODES = {"forename": "F", "surname": "S", "name": "N", "DOB": "D"}
_HOW_CODES = {
    EXACT: "=",
    FAMILY: "~",
    SOUNDS_ALIKE: "~",
    NEAR: "?",
    START: "?",
    "day/month swapped": "~",
    "in range": "~",
    "not recorded": "?",
    "outside range": "?",
}


def why_codes(why: Iterable[str]) -> str:
    """`why` (a PersonFit's reasons) in a few letters: "F~ S= D=" for "forename family ·
    surname exact · DOB exact". A reason it has no code for is left out."""
    codes = []
    for reason in why:
        if reason.startswith(("postcode", "address")):
            letter = "P" if reason.startswith("postcode") else "A"
            how = "~" if reason.startswith("postcode area") else "="
            codes.append((letter.lower() if "former" in reason else letter) + how)
            continue
        fact, _, how = reason.partition(" ")
        if fact in _FACT_CODES and how in _HOW_CODES:
            codes.append(_FACT_CODES[fact] + _HOW_CODES[how])
    return " ".join(codes)
