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
from datetime import UTC, date, datetime

from controlroom.domain.local_time import LOCAL_ZONE
from controlroom.domain.postcode import find_postcode
from controlroom.domain.safe_text import unsafe_character

# The files of an extract, in the order they are read (aliases and markers name the
# person they belong to), with the columns each must have.
EXTRACT_FILES: dict[str, tuple[str, ...]] = {
    "persons": ("PERSON_REF", "SURNAME", "FORENAMES", "DOB", "SEX"),
    "aliases": ("ALIAS_REF", "PERSON_REF", "SURNAME", "FORENAMES"),
    "addresses": ("ADDRESS_REF", "PERSON_REF", "ADDRESS", "DATE_FROM", "DATE_TO"),
    "markers": ("MARKER_REF", "PERSON_REF", "WARNING_CODE", "DATE_FROM", "NOTE"),
    # Incidents and intelligence come in read-only and marked LEGACY; a person named
    # (PERSON_REF, may be empty for an incident) is linked in the role given.
    "incidents": (
        "INCIDENT_REF",
        "OPENED",
        "TYPE_CODE",
        "PRIORITY",
        "LOCATION",
        "NARRATIVE",
        "CLOSED",
        "RESULT",
        "PERSON_REF",
        "ROLE",
    ),
    "intelligence": ("INTEL_REF", "PERSON_REF", "RECORDED", "GRADING", "TEXT"),
}
FILE_NAMES = {kind: f"{kind.upper()}.CSV" for kind in EXTRACT_FILES}
SOURCE_ID_MAX = 64
NAME_MAX = 80


# An imported incident's or report's reference: the source system's name and its own
# reference ("OLDCAD-I0000042"), so an officer finds it by the number they knew
# (open by reference takes letters, digits and hyphens).
REFERENCE_MAX = 24
PERSON_ROLES = ("caller", "victim", "suspect", "witness", "subject")
LEGACY_LABEL = "LEGACY"


class MappingError(ValueError):
    """The mapping file is not usable; the message says what is wrong."""


class LegacyReadOnly(PermissionError):
    """A change to an old system's incident or intelligence report: they are kept as
    they came (read-only); the message says what to do instead."""


def read_only_message(kind: str, reference: str) -> str:
    """The operator's words for a refused change to a LEGACY record."""
    return (
        f"{reference} is a LEGACY {kind} from the old system and is read-only:"
        f" record anything new on a new {kind}"
    )


def legacy_reference(source_system: str, source_id: str) -> str | None:
    """The reference an imported record goes by, or None when it would not fit."""
    reference = f"{source_system}-{source_id}".upper()
    return reference if len(reference) <= REFERENCE_MAX else None


@dataclass(frozen=True, slots=True)
class LegacyMapping:
    """What the mapping file says: whose extract it is and how to read it."""

    source_system: str
    date_formats: tuple[str, ...]
    markers: dict[str, str] = field(default_factory=dict)  # their code -> ours
    genders: dict[str, str] = field(default_factory=dict)  # their code -> ours
    encoding: str = "utf-8"
    incident_types: dict[str, str] = field(default_factory=dict)  # their code -> ours
    grades: dict[str, str] = field(default_factory=dict)  # their priority -> our grade
    # Their grading code -> ours: (source, intelligence, handling, conditions or None).
    gradings: dict[str, tuple[str, str, str, str | None]] = field(default_factory=dict)

    @classmethod
    def from_toml(
        cls,
        data: dict,
        known_markers: frozenset[str],
        known_incident_types: frozenset[str] | None = None,
    ) -> LegacyMapping:
        """From the parsed TOML; a marker (or incident type) mapped to a code we do not
        have is an error in the mapping, found before a row is read."""
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
        upper = {
            name: {str(k).strip().upper(): str(v).strip() for k, v in data.get(name, {}).items()}
            for name in ("incident_types", "grades", "gradings")
        }
        if known_incident_types is not None:
            unknown = sorted(set(upper["incident_types"].values()) - known_incident_types)
            if unknown:
                raise MappingError(
                    "[incident_types] maps to types Control Room does not have: "
                    + ", ".join(unknown)
                )
        gradings = {theirs: _grading(theirs, ours) for theirs, ours in upper["gradings"].items()}
        return cls(
            source,
            formats,
            markers,
            genders,
            str(data.get("encoding", "utf-8")),
            upper["incident_types"],
            upper["grades"],
            gradings,
        )

    def parse_instant(self, text: str) -> datetime | None:
        """A date with an optional "HH:MM" after it, in the control room's local time,
        as an aware UTC instant; None when it fits no format."""
        value = " ".join(text.split())
        day_text, _, clock = value.rpartition(" ")
        if not day_text or ":" not in clock:
            day_text, clock = value, "00:00"
        day = self.parse_date(day_text)
        if day is None:
            return None
        try:
            at = datetime.strptime(clock, "%H:%M").time()
        except ValueError:
            return None
        return datetime.combine(day, at, tzinfo=LOCAL_ZONE).astimezone(UTC)

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


def _grading(theirs: str, ours: str) -> tuple[str, str, str, str | None]:
    """Our 3x5x2 grading as the mapping writes it: "1A P", or "2B C: the conditions"."""
    head, _, conditions = ours.partition(":")
    parts = head.split()
    ok = (
        len(parts) == 2
        and len(parts[0]) == 2
        and parts[0][0] in "123"
        and parts[0][1].upper() in "ABCDE"
        and parts[1].upper() in ("P", "C")
        and (parts[1].upper() == "P" or conditions.strip())
    )
    if not ok:
        raise MappingError(
            f'[gradings] {theirs} = "{ours}": write source, intelligence and handling as'
            ' "1A P", or "2B C: the conditions"'
        )
    return parts[0][0], parts[0][1].upper(), parts[1].upper(), conditions.strip() or None


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


@dataclass(frozen=True, slots=True)
class LegacyIncident:
    reference: str
    opened_at: datetime
    type_code: str
    grade: str
    location_text: str
    postcode: str | None
    narrative: str
    closed_at: datetime
    result: str | None
    person_role: str | None  # the role of PERSON_REF, when one is named


def read_incident(row: dict[str, str], mapping: LegacyMapping) -> LegacyIncident | str:
    """The incident an INCIDENTS.CSV row describes, or why it cannot be imported. An old
    incident is closed: it is history, kept read-only."""
    reference = legacy_reference(mapping.source_system, row["INCIDENT_REF"].strip())
    if reference is None:
        return f"INCIDENT_REF makes a reference longer than {REFERENCE_MAX} characters"
    opened = mapping.parse_instant(row["OPENED"])
    if opened is None:
        return f"OPENED {row['OPENED'].strip()!r} fits no date format"
    closed = mapping.parse_instant(row["CLOSED"]) if row["CLOSED"].strip() else opened
    if closed is None:
        return f"CLOSED {row['CLOSED'].strip()!r} fits no date format"
    code = row["TYPE_CODE"].strip().upper()
    ours = mapping.incident_types.get(code)
    if ours is None:
        return f"unknown incident type {code!r}"
    priority = row["PRIORITY"].strip().upper()
    grade = mapping.grades.get(priority)
    if grade is None:
        return f"unknown priority {priority!r}"
    role = row["ROLE"].strip().lower() or None
    if row["PERSON_REF"].strip() and role not in PERSON_ROLES:
        return f"unknown person role {row['ROLE'].strip()!r}"
    place = read_address(row["LOCATION"])
    if isinstance(place, str):  # none given: the incident is still history worth keeping
        location_text, postcode = "(no location in the old system)", None
    else:
        location_text = ", ".join(p for p in (place.address, place.town) if p)[:200]
        postcode = place.postcode
    return LegacyIncident(
        reference=reference,
        opened_at=opened,
        type_code=ours,
        grade=grade,
        location_text=location_text,
        postcode=postcode,
        narrative=row["NARRATIVE"].strip(),
        closed_at=max(closed, opened),
        result=row["RESULT"].strip() or None,
        person_role=role if row["PERSON_REF"].strip() else None,
    )


@dataclass(frozen=True, slots=True)
class LegacyReport:
    reference: str
    submitted_at: datetime
    source_grade: str
    intelligence_grade: str
    handling_code: str
    handling_conditions: str | None
    text: str


def read_report(row: dict[str, str], mapping: LegacyMapping) -> LegacyReport | str:
    """The intelligence report an INTELLIGENCE.CSV row describes, or why not."""
    reference = legacy_reference(mapping.source_system, row["INTEL_REF"].strip())
    if reference is None:
        return f"INTEL_REF makes a reference longer than {REFERENCE_MAX} characters"
    if not row["PERSON_REF"].strip():
        return "no PERSON_REF: a report needs its subject"
    recorded = mapping.parse_instant(row["RECORDED"])
    if recorded is None:
        return f"RECORDED {row['RECORDED'].strip()!r} fits no date format"
    code = row["GRADING"].strip().upper()
    grading = mapping.gradings.get(code)
    if grading is None:
        return f"unknown grading {code!r}"
    text = row["TEXT"].strip()
    if not text:
        return "no TEXT"
    source, intelligence, handling, conditions = grading
    return LegacyReport(reference, recorded, source, intelligence, handling, conditions, text)
