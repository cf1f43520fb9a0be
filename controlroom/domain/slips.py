"""Keying slips: how a name typed in a hurry differs from the name, and how far is too far.

A slip is one of four things, anywhere in a word, the first letters included: a letter
wrong ("yrene" for Irene), a letter missing ("jams"), a letter extra ("jamess"), or two
adjacent letters swapped ("jaems", "lnog"). Two spellings are `slips_apart` by the
fewest slips turning one into the other (optimal string alignment distance), and a word
may carry at most `slips_allowed` of them and still mean the name: one in a name of
three to five letters, two in a longer one (more, and "Jon" is "Jan", "Ian" and "Joe").

`misspell` writes slips by those rules, from a seeded random source: the search tests
and benchmark draw their misspelled queries from it, so the rules the search is held to
are written down once. Its wrong and extra letters are the likely ones (a neighbouring
key, a vowel for a vowel or `y`, a letter typed twice), never an arbitrary one.

Pure: no database, no clock; the same seed gives the same slips.
"""

from __future__ import annotations

import random

from rapidfuzz.distance import OSA

SLIP_KINDS = ("wrong", "missing", "extra", "swapped")
# Names shorter than this take no slip at all; up to LONG_NAME - 1 letters, one.
SHORT_NAME = 3
LONG_NAME = 6
MOST_SLIPS = 2

VOWELS = "aeiouy"
# Each letter's neighbours on a UK QWERTY keyboard: a finger landing one key off.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEY_NEIGHBOURS: dict[str, str] = {}
for _row_number, _row in enumerate(_ROWS):
    for _column, _letter in enumerate(_row):
        _near = {_row[i] for i in (_column - 1, _column + 1) if 0 <= i < len(_row)}
        for _other in (_row_number - 1, _row_number + 1):
            if 0 <= _other < len(_ROWS):
                _near |= {
                    _ROWS[_other][i]
                    for i in (_column - 1, _column, _column + 1)
                    if 0 <= i < len(_ROWS[_other])
                }
        KEY_NEIGHBOURS[_letter] = "".join(sorted(_near))


def slips_allowed(name: str) -> int:
    """How many slips a word standing for `name` may carry: none in a name of one or
    two letters, one up to five, two from six."""
    length = len(name)
    if length < SHORT_NAME:
        return 0
    return 1 if length < LONG_NAME else MOST_SLIPS


def slips_apart(typed: str, name: str) -> int:
    """The fewest slips (wrong, missing, extra, two swapped) turning `name` into `typed`."""
    return OSA.distance(typed, name)


def within_slips(typed: str, name: str) -> bool:
    """`typed` is `name` with no more slips than `name` may carry (and not `name` itself,
    nor empty)."""
    if not typed or typed == name:
        return False
    allowed = slips_allowed(name)
    # The lengths alone bound the distance: most pairs are settled without computing it.
    if abs(len(typed) - len(name)) > allowed:
        return False
    return OSA.distance(typed, name, score_cutoff=allowed) <= allowed


def _wrong_letter(letter: str, rng: random.Random) -> str:
    if letter in VOWELS and rng.random() < 0.5:
        return rng.choice([v for v in VOWELS if v != letter])
    return rng.choice(KEY_NEIGHBOURS.get(letter, VOWELS))


def slip(word: str, rng: random.Random, kind: str | None = None) -> str:
    """`word` (lower case letters) with one slip of `kind` (a SLIP_KINDS entry; drawn
    when None) at a drawn place, the first letter as likely as any. Where no two letters
    differ to swap ("aaa"), a letter is wrong instead. Only an empty word comes back
    unchanged."""
    kind = kind or rng.choice(SLIP_KINDS)
    if kind == "swapped":
        places = [i for i in range(len(word) - 1) if word[i] != word[i + 1]]
        if places:
            i = rng.choice(places)
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        kind = "wrong"
    if not word:
        return word
    i = rng.randrange(len(word))
    if kind == "missing":
        return word[:i] + word[i + 1 :]
    if kind == "extra":
        # The letter typed twice, or a neighbour of it struck as well.
        extra = word[i] if rng.random() < 0.4 else _wrong_letter(word[i], rng)
        return word[:i] + extra + word[i:]
    return word[:i] + _wrong_letter(word[i], rng) + word[i + 1 :]


# Draws of a slip tried before giving the slip up (each rarely needs a second).
MISSPELL_ATTEMPTS = 20


def misspell(name: str, rng: random.Random, slips: int | None = None) -> str:
    """`name` (lower-cased, letters only) as typed with `slips` slips (at most as many as
    it may carry; drawn from 1 to that when None). Each slip is real: the result is
    exactly that many slips from the name when the draws allow, and never the name."""
    word = "".join(c for c in name.casefold() if c.isalpha())
    most = slips_allowed(word)
    wanted = min(most, rng.randint(1, most) if slips is None else slips) if most else 0
    typed = word
    for _ in range(wanted):
        for _attempt in range(MISSPELL_ATTEMPTS):
            candidate = slip(typed, rng)
            # A slip that undoes another, or lands on a spelling no further away (or,
            # the distance being no metric, further by more than one), is drawn again:
            # the word carries the slips it says.
            if slips_apart(candidate, word) == slips_apart(typed, word) + 1:
                typed = candidate
                break
    return typed


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_slip_away(word: str) -> set[str]:
    """Every spelling one slip from `word` (lower case letters), the first letter as any
    other: the names `word` may have been typed for with a slip. Not `word` itself."""
    spellings: set[str] = set()
    for i in range(len(word) + 1):
        spellings.update(word[:i] + letter + word[i:] for letter in LETTERS)
    for i in range(len(word)):
        spellings.add(word[:i] + word[i + 1 :])
        spellings.update(word[:i] + letter + word[i + 1 :] for letter in LETTERS)
    for i in range(len(word) - 1):
        spellings.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    spellings.discard(word)
    spellings.discard("")
    return spellings
