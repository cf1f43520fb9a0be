"""UK postcodes: validation, normalisation, and finding one inside a typed address.

A postcode is an outward code (area letters, district digits, sometimes a letter) and an
inward code (a sector digit and two unit letters), written with one space between:
"LS6 2AB", "SW1A 1AA", "M1 1AE", plus the special "GIR 0AA". Callers give them in any
case and spacing; the record keeps the one normal form, so that matching is plain
equality and prefix comparison.

The letter rules are Royal Mail's: the first letter is never Q, V or X; the second
never I, J or Z; the inward letters never C, I, K, M, O or V. A string that has the
shape of a postcode but breaks those rules is a mistyped postcode, not an address
word, and `postcode_problem` says so.
"""

from __future__ import annotations

import re

POSTCODE_MESSAGE = "not a valid UK postcode: use a form like LS6 2AB"

_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?"  # A9, A99
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"  # AA9, AA99
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"  # A9A
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"  # AA9A
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"

_STRICT = re.compile(rf"(?:(?P<outward>{_OUTWARD})(?P<inward>{_INWARD})|(?P<gir>GIR0AA))")
# The shape alone, ignoring the letter rules: what a person meant as a postcode.
_SHAPE = re.compile(r"(?<![A-Z0-9])(GIR|[A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})(?![A-Z0-9])")
# An outward code followed by an inward code missing its last letter or two ("LS6 2A").
_CUT_SHORT = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]?")
# An outward code on its own ("LS6", "SW1A"): enough to narrow a location search.
_OUTWARD_ONLY = re.compile(rf"{_OUTWARD}|GIR")


def _compact(text: str) -> str:
    return "".join(text.split()).upper()


def normalise_postcode(text: str) -> str:
    """`text` as a normal-form UK postcode ("ls62ab", " LS6  2ab " -> "LS6 2AB").

    Raises ValueError(POSTCODE_MESSAGE) when it is not one.
    """
    compact = _compact(text)
    match = _STRICT.fullmatch(compact)
    if match is None:
        raise ValueError(POSTCODE_MESSAGE)
    return f"{compact[:-3]} {compact[-3:]}"


def is_postcode(text: str) -> bool:
    try:
        normalise_postcode(text)
    except ValueError:
        return False
    return True


def _candidates(text: str) -> list[str]:
    # Collapse runs of whitespace so "LS6   2AB" reads as the single-space form; the
    # shape allows that one optional space between outward and inward codes.
    return [f"{m.group(1)}{m.group(2)}" for m in _SHAPE.finditer(" ".join(text.upper().split()))]


def find_postcode(text: str) -> str | None:
    """The first valid postcode written inside `text` (an address as typed), normalised."""
    for candidate in _candidates(text):
        if _STRICT.fullmatch(candidate):
            return normalise_postcode(candidate)
    return None


def postcode_problem(text: str) -> str | None:
    """POSTCODE_MESSAGE when `text` holds something shaped like a postcode that is not
    one ("QQ1 1AA", "LS6 2CI"), or ends in a postcode cut short ("…, LS6 2A"); None
    when every postcode-shaped part is valid, or there is none (an address without a
    postcode is allowed, as an unverified location).

    A cut-short postcode counts only as the last comma-separated part of the address,
    where a postcode is written: "Block B1" or "Flat 2A" inside an address is never
    mistaken for one, so a real address is never refused.
    """
    for candidate in _candidates(text):
        if not _STRICT.fullmatch(candidate):
            return POSTCODE_MESSAGE
    last_part = " ".join(text.upper().split(",")[-1].split())
    if "," in text and _CUT_SHORT.fullmatch(last_part):
        return POSTCODE_MESSAGE
    return None


def outward_code(text: str) -> str | None:
    """`text` as an outward code alone ("ls6" -> "LS6"), or None if it is not one."""
    compact = _compact(text)
    return compact if _OUTWARD_ONLY.fullmatch(compact) else None
