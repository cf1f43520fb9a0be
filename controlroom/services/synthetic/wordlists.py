"""The synthetic force's words and texts, read once from the data files in `words/`.

A `.txt` file is a list: one entry a line, in file order; blank lines and lines starting
with `#` are skipped. A `.toml` file holds texts by key, in file order (tomllib keeps
it). Every list comes back as a tuple, as the generator draws from tuples; a file that
is missing, empty or of the wrong shape fails on import, before anything is seeded.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

_WORDS = resources.files("controlroom.services.synthetic") / "words"


def _lines(name: str) -> tuple[str, ...]:
    text = (_WORDS / name).read_text(encoding="utf-8")
    entries = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    if not entries:
        raise ValueError(f"words/{name}: no entries")
    return entries


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads((_WORDS / name).read_text(encoding="utf-8"))


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"words/{where}: expected a string")
    return value


def _texts(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"words/{where}: expected a non-empty array of strings")
    return tuple(value)


def _keyed(table: object, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ValueError(f"words/{where}: expected a table")
    return {key: _texts(value, f"{where} {key}") for key, value in table.items()}


def _results(table: object, where: str) -> dict[str, tuple[tuple[str, bool], ...]]:
    """Closing results by group, each as (text, whether it records a crime)."""
    if not isinstance(table, dict):
        raise ValueError(f"words/{where}: expected a table")
    groups: dict[str, tuple[tuple[str, bool], ...]] = {}
    for group, results in table.items():
        if not isinstance(results, list) or not results:
            raise ValueError(f"words/{where} {group}: expected a non-empty array")
        pairs = []
        for result in results:
            if not (
                isinstance(result, dict)
                and isinstance(result.get("text"), str)
                and isinstance(result.get("crime"), bool)
            ):
                raise ValueError(f"words/{where} {group}: expected {{ text = ..., crime = ... }}")
            pairs.append((result["text"], result["crime"]))
        groups[group] = tuple(pairs)
    return groups


def _thrive(table: dict[str, Any]) -> dict[str, Any]:
    """THRIVE text by part; threat and harm further by flavour ("domestic", "other")."""
    return {
        part: _keyed(value, f"thrive.toml {part}")
        if isinstance(value, dict)
        else _texts(value, f"thrive.toml {part}")
        for part, value in table.items()
        if part != "children_present"
    }


# --- places ---------------------------------------------------------------------------------

TOWN_STEMS = _lines("town_stems.txt")
TOWN_SUFFIXES = _lines("town_suffixes.txt")
TOWN_PREFIXES = _lines("town_prefixes.txt")
STREET_STEMS = _lines("street_stems.txt")
STREET_SUFFIXES = _lines("street_suffixes.txt")
HOUSE_NAMES = _lines("house_names.txt")
PUB_NAMES = _lines("pub_names.txt")
SHOP_KINDS = _lines("shop_kinds.txt")
BUSINESS_KINDS = _lines("business_kinds.txt")
PUBLIC_PLACES = _lines("public_places.txt")

# --- people and markers ---------------------------------------------------------------------

EXTRA_FORENAMES = _keyed(_toml("extra_forenames.toml"), "extra_forenames.toml")  # by sex
EXTRA_SURNAMES = _lines("extra_surnames.txt")
MARKER_NOTES = _keyed(_toml("marker_notes.toml"), "marker_notes.toml")
HAZARD_NOTES = _keyed(_toml("hazard_notes.toml"), "hazard_notes.toml")

# --- incidents ------------------------------------------------------------------------------

NARRATIVES = _keyed(_toml("narratives.toml"), "narratives.toml")
_CLOSURES = _toml("closures.toml")
RESULTS_BY_GROUP = _results(_CLOSURES.get("results"), "closures.toml results")
NO_CRIME_REASONS = _texts(_CLOSURES.get("no_crime_reasons"), "closures.toml no_crime_reasons")
REVIEW_CLOSURE = _text(_CLOSURES.get("review_closure"), "closures.toml review_closure")
CALLER_RELATIONSHIPS = _lines("caller_relationships.txt")
REGRADE_REASONS = _keyed(_toml("regrade_reasons.toml"), "regrade_reasons.toml")
_THRIVE = _toml("thrive.toml")
THRIVE_TEXT = _thrive(_THRIVE)
CHILDREN_PRESENT = _text(_THRIVE.get("children_present"), "thrive.toml children_present")
PHONETIC = _lines("phonetic.txt")

# --- intelligence ---------------------------------------------------------------------------

_INTELLIGENCE = _toml("intelligence.toml")
HANDLING_CONDITIONS = _texts(
    _INTELLIGENCE.get("handling_conditions"), "intelligence.toml handling_conditions"
)
THEME_TEMPLATES = _keyed(_INTELLIGENCE.get("themes"), "intelligence.toml themes")
