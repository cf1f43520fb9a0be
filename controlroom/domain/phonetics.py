"""How names sound, and what an operator typed into the person-search line.

A caller says "Mohammed Smith"; the record says "Muhammad Smyth". Two names are the same
name for search when their *normal forms* are equal (case, accents, apostrophes and the
Mc/Mac prefix folded away) or when their *phonetic keys* are (Metaphone, through
jellyfish, on the normal form). The keys are what the database stores and indexes, so
the rule here is the one rule: change it and every stored key must be recomputed (a
migration).

The query parser reads one line in any order: names (whole or the start of one),
dates of birth (exact, a year, a range, an approximate age), a postcode or outward code,
and address fragments after a house number or before a street word.

Pure: imports nothing of ours but the postcode rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta

from controlroom.domain.postcode import find_postcode, is_postcode, normalise_postcode, outward_code
from controlroom.domain.safe_text import match_form

# Stored keys are cut to this length (a Metaphone key is never longer than its name).
KEY_LENGTH = 16

_APOSTROPHES = "'\u2019\u2018`\u00b4"
# Particles written apart or together ("Mc Donald", "O Brien", "De Souza"): joined to
# the next part, so the spaced and unspaced spellings have the same normal form.
_PARTICLES = frozenset({"o", "mc", "mac", "d", "de", "da", "di", "du", "le", "la", "van", "von"})
_NOT_LETTER = re.compile(r"[^a-z]+")


def _fold(text: str) -> str:
    """Casefolded, accents stripped (Zoë -> zoe, Núñez -> nunez), apostrophes dropped."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    for apostrophe in _APOSTROPHES:
        plain = plain.replace(apostrophe, "")
    return plain.replace("ß", "ss")


def _fold_mac(part: str) -> str:
    # MacDonald, Macdonald, McDonald: one spelling. Only before a name of three or more
    # letters, so "Mace" or "Mack" stay themselves.
    if part.startswith("mac") and len(part) >= 6:
        return "mc" + part[3:]
    return part


def name_parts(name: str) -> tuple[str, ...]:
    """The normal form of each part of `name`, split at spaces and hyphens, particles
    joined on ("Hughes-Whitfield" -> ("hughes", "whitfield"); "Mc Donald" -> ("mcdonald",);
    "O'Brien" -> ("obrien",)). Letters a-z only; empty when nothing is left."""
    raw = [_NOT_LETTER.sub("", word) for word in re.split(r"[\s\-\u2010-\u2015]+", _fold(name))]
    words = [w for w in raw if w]
    parts: list[str] = []
    pending = ""
    for index, word in enumerate(words):
        if word in _PARTICLES and index < len(words) - 1:
            pending += word
            continue
        parts.append(_fold_mac(pending + word))
        pending = ""
    return tuple(parts)


def normalise_name(name: str) -> str:
    """The whole name in normal form, parts run together ("Mc Donald" -> "mcdonald")."""
    return "".join(name_parts(name))


def _key(normal: str) -> str | None:
    if not normal:
        return None
    # jellyfish is loaded by the first key made, not by every process that maps the
    # tables (a station that never searches or saves a person does without it).
    from jellyfish import metaphone

    return metaphone(normal)[:KEY_LENGTH] or None


@dataclass(frozen=True, slots=True)
class NameKeys:
    """The stored keys of one name: of the whole, and of its first and last parts when
    it has more than one (so "Whitfield" finds "Hughes-Whitfield")."""

    whole: str | None
    first: str | None
    last: str | None


def name_keys(name: str | None) -> NameKeys:
    parts = name_parts(name or "")
    if len(parts) < 2:
        return NameKeys(_key("".join(parts)), None, None)
    return NameKeys(_key("".join(parts)), _key(parts[0]), _key(parts[-1]))


def phonetic_keys(name: str) -> tuple[str, ...]:
    """Every phonetic key `name` is found by: the whole, then each part; no repeats.

    Mohammed/Muhammad/Mohamed, Smith/Smyth, Catherine/Kathryn/Katherine and Jon/John
    each share their first key.
    """
    parts = name_parts(name)
    keys = [_key("".join(parts))] + ([_key(p) for p in parts] if len(parts) > 1 else [])
    return tuple(dict.fromkeys(k for k in keys if k))


# --- the query line ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonQuery:
    """What one search line asked for. Empty fields were not asked."""

    names: tuple[str, ...] = ()  # words as typed (apostrophes, hyphens kept)
    dates_of_birth: tuple[date, ...] = ()  # exact dates
    born_from: date | None = None  # a range: a year, "1980-1985", "~35"
    born_to: date | None = None
    postcode: str | None = None  # "LS6 2AB", or an outward code and space "LS6 "
    address_words: tuple[str, ...] = ()  # "12", "mill", "lane"
    invalid_dates: tuple[str, ...] = ()  # date-shaped words that are no date ("31/02/1984")

    @property
    def empty(self) -> bool:
        return not (
            self.names
            or self.dates_of_birth
            or self.born_from
            or self.postcode
            or self.address_words
        )


_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_UK_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YEAR = re.compile(r"(\d{4})")
_YEAR_RANGE = re.compile(r"(\d{4})-(\d{4})")
_AGE = re.compile(r"~\s*(\d{1,3})")
_HOUSE_NUMBER = re.compile(r"\d{1,4}[a-z]?", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Words that end a street name: the word before one is part of the address too.
STREET_WORDS = frozenset(
    {
        "road",
        "rd",
        "street",
        "st",
        "lane",
        "ln",
        "avenue",
        "ave",
        "close",
        "drive",
        "way",
        "court",
        "crescent",
        "place",
        "terrace",
        "gardens",
        "grove",
        "square",
        "walk",
        "mews",
        "row",
        "fold",
        "hill",
        "park",
        "view",
        "rise",
        "green",
        "parade",
    }
)
# A person's age, for "~35": at most this many years either way.
AGE_TOLERANCE_YEARS = 2


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _exact_date(word: str) -> date | str | None:
    """A date, the word itself when it is date-shaped but no date, or None."""
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_UK_DATE, (2, 1, 0))):
        match = pattern.fullmatch(word)
        if match:
            parts = [int(g) for g in match.groups()]
            year, month, day = (parts[i] for i in order)
            try:
                return date(year, month, day)
            except ValueError:
                return word
    return None


def transposed(value: date) -> date | None:
    """`value` with day and month the other way round, when that is another real date."""
    try:
        other = date(value.year, value.day, value.month)
    except ValueError:
        return None
    return other if other != value else None


def _join_particles(words: list[str]) -> list[str]:
    """ "Mc Donald", "O Brien", "De Souza" typed apart are one name word."""
    joined: list[str] = []
    for word in words:
        if joined and _fold(joined[-1]) in _PARTICLES and joined[-1].isalpha():
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


# Particles that are forenames too, or one letter from one (Di, Lee, Dee, Van): a word
# of these joined to the next may be two names ("le tuckre" for Lee Tucker).
_NAME_LIKE_PARTICLES = frozenset({"d", "de", "da", "di", "du", "le", "la", "van", "von"})


def particles_apart(query: PersonQuery) -> PersonQuery | None:
    """`query` with each particle that may be a forename joined to the word after it set
    apart again ("le tuckre" -> "le", "tuckre": Lee Tucker, a letter left out, as well
    as Le Tucker); None when no such particle was joined. "Mc" and "O" stay joined."""
    names: list[str] = []
    for name in query.names:
        first, space, rest = name.partition(" ")
        if space and _fold(first) in _NAME_LIKE_PARTICLES and first.isalpha():
            names += [first, rest]
        else:
            names.append(name)
    if len(names) == len(query.names):
        return None
    return replace(query, names=tuple(names))


def parse_person_query(text: str, *, today: date) -> PersonQuery:
    """Read a search line. Never raises: what it cannot read is a name word."""
    # NFC and no zero-width characters: a decomposed "Zoë" or a "Whit\u200bfield" is the
    # name it looks like (issue 16).
    text = match_form(_CONTROL.sub(" ", text or "")).replace(",", " ")
    names: list[str] = []
    dates: list[date] = []
    invalid: list[str] = []
    address: list[str] = []
    born_from = born_to = None
    postcode = find_postcode(text)
    if postcode is not None:
        # Take the postcode out however it was spaced ("LS6 2AB", "ls62ab").
        outward, inward = postcode.split(" ")
        text = re.sub(rf"(?i)\b{outward}\s*{inward}\b", " ", text, count=1)
    text = _AGE.sub(lambda m: f" ~{m.group(1)} ", text)
    words = text.split()
    in_address = False
    numbered = False  # an address begun by a house number ("12 mill lane")
    street_typed: list[str] = []  # the address words as typed
    for index, word in enumerate(words):
        lowered = word.casefold()
        exact = _exact_date(word)
        if isinstance(exact, date):
            dates.append(exact)
            continue
        if isinstance(exact, str):
            invalid.append(exact)
            continue
        if (match := _YEAR_RANGE.fullmatch(word)) is not None:
            low, high = sorted(int(g) for g in match.groups())
            if 1850 <= low and high <= today.year:
                born_from, born_to = date(low, 1, 1), date(high, 12, 31)
                continue
        if (match := _YEAR.fullmatch(word)) is not None and 1850 <= int(word) <= today.year:
            born_from, born_to = date(int(word), 1, 1), date(int(word), 12, 31)
            continue
        if (match := _AGE.fullmatch(word)) is not None:
            age = int(match.group(1))
            born_from = _years_before(today, age + 1 + AGE_TOLERANCE_YEARS) + timedelta(days=1)
            born_to = _years_before(today, max(0, age - AGE_TOLERANCE_YEARS))
            continue
        if (
            postcode is None
            and (district := outward_code(word)) is not None
            and any(c.isdigit() for c in word)
        ):
            postcode = district + " "
            continue
        if _HOUSE_NUMBER.fullmatch(word):
            in_address = numbered = True
            address.append(lowered)
            street_typed.append(word)
            continue
        following = words[index + 1].casefold() if index + 1 < len(words) else ""
        after = words[index + 2].casefold() if index + 2 < len(words) else ""
        # A word before a street word starts the street, unless that street word starts
        # it itself ("greenwood green lane": Green Lane, and a Greenwood).
        starts_street = following in STREET_WORDS and after not in STREET_WORDS
        if in_address or lowered in STREET_WORDS and address or starts_street:
            in_address = in_address or starts_street
            address.append(lowered)
            street_typed.append(word)
            continue
        names.append(word)
    if address and not names and not numbered:
        # Words read as a street only because a street word followed ("michael hill",
        # "anne green 1984"), and nothing else names anyone: Hill, Green, Lane and Park
        # are surnames too, and a line of names is the likelier. A street is asked with
        # its house number ("12 mill lane") or beside a name ("smith mill lane").
        names, address = street_typed, []
    names = _join_particles(names)
    if postcode is not None and not postcode.endswith(" ") and not is_postcode(postcode):
        postcode = None
    if postcode is not None and not postcode.endswith(" "):
        postcode = normalise_postcode(postcode)
    return PersonQuery(
        names=tuple(names),
        dates_of_birth=tuple(dict.fromkeys(dates)),
        born_from=born_from,
        born_to=born_to,
        postcode=postcode,
        address_words=tuple(address),
        invalid_dates=tuple(invalid),
    )
