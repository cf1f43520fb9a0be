"""An old force system's extract, read by its own rules (issue 19): the mapping from its
codes to ours, its dates, its names, and what makes one of its rows unusable.

Old systems export upper-case names ("O'BRIEN-SMITH", "MCDONALD"), dates in several
formats within one file, and codes of their own. The mapping file (TOML) says which
formats and which codes; a row that fits none is rejected with the reason, never
guessed at. Pure rules: no I/O (the service reads the files and the TOML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from controlroom.domain.postcode import find_postcode
from controlroom.domain.safe_text import unsafe_character

# The files of an extract, in the order they are read (aliases and markers name the
# person they belong to), with the columns each must have.
EXTRACT_FILES: dict[str, tuple[str, ...]] = {
    "persons": ("PERSON_REF", "SURNAME", "FORENAMES", "DOB", "SEX"),
    "aliases": ("ALIAS_REF", "PERSON_REF", "SURNAME", "FORENAMES"),
    "addresses": ("ADDRESS_REF", "PERSON_REF", "ADDRESS", "DATE_FROM", "DATE_TO"),
    "markers": ("MARKER_REF", "PERSON_REF", "WARNING_CODE", "DATE_FROM", "NOTE"),
}
FILE_NAMES = {kind: f"{kind.upper()}.CSV" for kind in EXTRACT_FILES}
SOURCE_ID_MAX = 64
NAME_MAX = 80


class MappingError(ValueError):
    """The mapping file is not usable; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class LegacyMapping:
    """What the mapping file says: whose extract it is and how to read it."""

    source_system: str
    date_formats: tuple[str, ...]
    markers: dict[str, str] = field(default_factory=dict)  # their code -> ours
    genders: dict[str, str] = field(default_factory=dict)  # their code -> ours
    encoding: str = "utf-8"

    @classmethod
    def from_toml(cls, data: dict, known_markers: frozenset[str]) -> LegacyMapping:
        """From the parsed TOML; a marker mapped to a code we do not have is an error
        in the mapping, found before a row is read."""
        source = str(data.get("source_system", "")).strip()
        if not source or len(source) > 40:
            raise MappingError("source_system must name the old system (1 to 40 characters)")
        formats = tuple(data.get("dates", {}).get("formats", ()))
        if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
            raise MappingError('[dates] formats must list strptime formats, e.g. ["%d/%m/%Y"]')
        markers = {str(k).strip().upper(): str(v) for k, v in data.get("markers", {}).items()}
        unknown = sorted(set(markers.values()) - known_markers)
        if unknown:
            raise MappingError(
                "[markers] maps to codes Control Room does not have: " + ", ".join(unknown)
            )
        genders = {str(k).strip().upper(): str(v) for k, v in data.get("genders", {}).items()}
        return cls(source, formats, markers, genders, str(data.get("encoding", "utf-8")))

    def parse_date(self, text: str) -> date | None:
        """The date in the first format that reads it; None for none (an empty field is
        for the caller to allow or not)."""
        value = text.strip()
        for form in self.date_formats:
            try:
                parsed = datetime.strptime(value, form).date()
            except ValueError:
                continue
            if parsed.year < 100:  # "%y" gives 1969-2068: nobody alive was born after today
                continue
            return parsed
        return None


def tidy_name(text: str) -> str:
    """An upper-case legacy name in the case people write it: "O'BRIEN-SMITH" ->
    "O'Brien-Smith", "MCDONALD" -> "McDonald". A name already in mixed case is kept."""
    name = " ".join(text.split())
    if name != name.upper():
        return name
    words = []
    for word in name.split(" "):
        parts = []
        for part in _split_keep(word.lower(), "-'"):
            if part in "-'":
                parts.append(part)
                continue
            part = part.upper() if part[:1].isdigit() else part[:1].upper() + part[1:]  # 7A
            if part.startswith("Mc") and len(part) > 2:
                part = "Mc" + part[2].upper() + part[3:]
            parts.append(part)
        words.append("".join(parts))
    return " ".join(words)


def _split_keep(text: str, separators: str) -> list[str]:
    parts, current = [], ""
    for character in text:
        if character in separators:
            parts += [current, character] if current else [character]
            current = ""
        else:
            current += character
    return [*parts, current] if current else parts


@dataclass(frozen=True, slots=True)
class LegacyPerson:
    source_id: str
    forename: str
    middle_names: str | None
    surname: str
    date_of_birth: date | None
    gender: str | None


def read_person(row: dict[str, str], mapping: LegacyMapping) -> LegacyPerson | str:
    """The person a PERSONS.CSV row describes, or why it cannot be imported."""
    source_id = row["PERSON_REF"].strip()
    surname, forenames = tidy_name(row["SURNAME"]), tidy_name(row["FORENAMES"])
    if not surname:
        return "no surname"
    if len(surname) > NAME_MAX or len(forenames) > NAME_MAX:
        return f"a name longer than {NAME_MAX} characters"
    born = None
    if row["DOB"].strip():
        born = mapping.parse_date(row["DOB"])
        if born is None:
            return f"date of birth {row['DOB'].strip()!r} fits no date format"
    first, _, middle = forenames.partition(" ")
    sex = row["SEX"].strip().upper()
    return LegacyPerson(
        source_id=source_id,
        forename=first or "Unknown",
        middle_names=middle or None,
        surname=surname,
        date_of_birth=born,
        gender=mapping.genders.get(sex) if sex else None,
    )


def check_source_id(row: dict[str, str], column: str) -> str | None:
    """Why the row's own id is unusable, or None."""
    source_id = row[column].strip()
    if not source_id:
        return f"no {column}"
    if len(source_id) > SOURCE_ID_MAX:
        return f"{column} longer than {SOURCE_ID_MAX} characters"
    return None


def fields_missing(row: dict[str, str | None], columns: tuple[str, ...]) -> str | None:
    """A row cut short (a truncated file's last line) has fewer fields than the header."""
    present = sum(1 for column in columns if row.get(column) is not None)
    if present < len(columns):
        return f"truncated line: {present} of {len(columns)} fields"
    return None


def unsafe_field(row: dict[str, str | None], columns: tuple[str, ...]) -> str | None:
    """A field holding a control, C1, DEL or bidirectional character is refused, as it
    would be at an operator's field (`domain.safe_text`): an old system's extract is
    stored text like any other, and must not reach a terminal raw."""
    for column in columns:
        char = unsafe_character(row.get(column) or "")
        if char is not None:
            return f"{column} holds a control character (U+{ord(char):04X})"
    return None


@dataclass(frozen=True, slots=True)
class LegacyAddress:
    address: str  # "12 Mill Lane"
    street: str | None  # "Mill Lane"
    town: str | None
    postcode: str | None  # normalised, when the text holds a valid one


_FLAT = re.compile(r"^(flat|unit|apartment|room)\s+\w+$", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"^(flat \d+\w?,?\s+)?\d+[a-z]?(-\d+[a-z]?)?\s+", re.IGNORECASE)


def read_address(text: str) -> LegacyAddress | str:
    """A free-text legacy address ("12 MILL LANE, HEADINGLEY, LEEDS LS6 2AB") as our
    parts: the first part is the address line, the last (less its postcode) the town.
    Or why it cannot be read."""
    raw = " ".join((text or "").split())
    if not raw:
        return "no address"
    postcode = find_postcode(raw)
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if postcode is not None:
        words = parts[-1].split()
        for take in (1, 2):
            if "".join(words[-take:]).upper() == postcode.replace(" ", ""):
                words = words[:-take]
                break
        parts[-1] = " ".join(words)
        parts = [part for part in parts if part]
    if not parts:
        return "an address with nothing but a postcode"
    if len(parts) > 2 and _FLAT.match(parts[0]):  # "FLAT 3, 7A KING STREET, ..."
        parts = [f"{parts[0]}, {parts[1]}", *parts[2:]]
    address = tidy_name(parts[0])
    if len(address) > 200:
        return "an address line longer than 200 characters"
    # The street is what follows a house number; "Rose Cottage" names no street.
    numbered = _HOUSE_NUMBER.match(address)
    street = address[numbered.end() :].strip() or None if numbered else None
    town = tidy_name(parts[-1])[:80] if len(parts) > 1 else None
    return LegacyAddress(address, street[:120] if street else None, town, postcode)
