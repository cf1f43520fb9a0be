"""Open data: the data.police.uk monthly street-level crime file and outcomes file, as
pure rules.

- `COLUMNS` / `OUTCOME_COLUMNS`: the two files' columns, in order, as data.police.uk
  publishes them (`YYYY-MM-<force>-street.csv`, `YYYY-MM-<force>-outcomes.csv`).
- `OUTCOME_CATEGORY`: each Home Office outcome type (0-22) -> data.police.uk's outcome
  category, the words both files use ("Last outcome category", "Outcome type").
- `street_row_problems` / `outcome_row_problems`: a row checked against its file's
  columns and values before anything is written (`file_problems`: a whole file's).
- `render`: a file's bytes. The same rows give the same bytes: CR LF line ends, cells
  that could start a formula led by `'` (domain/spreadsheet.py), empty cells empty.
- `CRIME_TYPES`: the 14 open-data crime types.
- `OPEN_DATA_TYPE`: our incident types (db/incident_type.csv codes) -> open-data crime type.
  A code missing from it is NOT exportable: welfare, transport and administration
  incidents are not crimes; a domestic incident or a child-protection concern is
  published under the crime type it is closed as, never as itself; fraud is reported
  to Action Fraud and not published by forces (data.police.uk leaves it out too).
  Sexual offences are published only within "Violence and sexual offences", with no more
  than any other row carries (no person, no address).
- `snap`: a map point that names no address: coordinates rounded to a grid
  (`GRID_DEGREES`, about 550 m north-south and 330 m east-west in England), applied to the
  centroid of every known address on the street, so the point is the street's, not a
  house's.
- `crime_id`: an opaque, salted SHA-256 of the crime record's id (64 hex digits, as
  data.police.uk's): stable from month to month, never the crime or incident reference;
  the same in the street file and the outcomes file, so the two join on it.
- `salt_check`: what the database keeps of the salt to know it again (a one-way hash):
  the salt itself is kept only in the keyring.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date

COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)

OUTCOME_COLUMNS: tuple[str, ...] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Outcome type",
)

ASB = "Anti-social behaviour"
VIOLENCE_AND_SEXUAL = "Violence and sexual offences"

CRIME_TYPES: tuple[str, ...] = (
    ASB,
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    VIOLENCE_AND_SEXUAL,
    "Other crime",
)

OPEN_DATA_TYPE: dict[str, str] = {
    "ASBP": ASB,
    "ASBN": ASB,
    "ASBE": ASB,
    "NOISE": ASB,
    "DOMV": VIOLENCE_AND_SEXUAL,
    "ASLT": VIOLENCE_AND_SEXUAL,
    "ASLTI": VIOLENCE_AND_SEXUAL,
    "SEXO": VIOLENCE_AND_SEXUAL,
    "HARA": VIOLENCE_AND_SEXUAL,
    "ROBB": "Robbery",
    "BURGR": "Burglary",
    "BURGB": "Burglary",
    "THEFT": "Other theft",
    "SHOP": "Shoplifting",
    "VEHC": "Vehicle crime",
    "CDAM": "Criminal damage and arson",
    "ARSON": "Criminal damage and arson",
    "DRUG": "Drugs",
    "WEAP": "Possession of weapons",
    "PUBO": "Public order",
}
# The incident types published as anti-social behaviour (by street, with no Crime ID).
ASB_CODES: tuple[str, ...] = tuple(sorted(c for c, t in OPEN_DATA_TYPE.items() if t == ASB))

# Never exported, whatever they are closed as (documented above).
NOT_EXPORTABLE_NOTE: dict[str, str] = {
    "FRAUD": "reported to Action Fraud; not published by forces",
    "DOM": "published under the crime type it is closed as",
    "CHLD": "published under the crime type it is closed as",
}

# data.police.uk's outcome for a crime whose outcome the control room does not hold (the
# NCRS outcome is recorded in the crime system); anti-social behaviour has none.
UNDER_INVESTIGATION = "Under investigation"
NO_LOCATION = "No location"
GRID_DEGREES = 0.005


# Home Office outcome type -> data.police.uk outcome category. A charge is published as
# awaiting its court outcome (the court's result follows from the courts, not from us).
AWAITING_COURT = "Awaiting court outcome"
CAUTION = "Offender given a caution"
UNABLE_TO_PROSECUTE = "Unable to prosecute suspect"
NOT_PUBLIC_INTEREST = "Formal action is not in the public interest"
NO_SUSPECT = "Investigation complete; no suspect identified"
OUTCOME_CATEGORY: dict[int, str] = {
    0: UNDER_INVESTIGATION,
    1: AWAITING_COURT,
    2: CAUTION,
    3: CAUTION,
    4: "Suspect charged as part of another case",
    5: UNABLE_TO_PROSECUTE,
    6: "Offender given penalty notice",
    7: "Offender given a drugs possession warning",
    8: "Local resolution",
    9: NOT_PUBLIC_INTEREST,
    10: NOT_PUBLIC_INTEREST,
    11: UNABLE_TO_PROSECUTE,
    12: UNABLE_TO_PROSECUTE,
    13: UNABLE_TO_PROSECUTE,
    14: NO_SUSPECT,
    15: UNABLE_TO_PROSECUTE,
    16: UNABLE_TO_PROSECUTE,
    17: UNABLE_TO_PROSECUTE,
    18: NO_SUSPECT,
    19: NO_SUSPECT,
    20: "Action to be taken by another organisation",
    21: "Further investigation is not in the public interest",
    22: "Further action is not in the public interest",
}
OUTCOME_CATEGORIES = frozenset(OUTCOME_CATEGORY.values())


def outcome_category(code: int) -> str:
    """data.police.uk's category for Home Office outcome `code`."""
    return OUTCOME_CATEGORY[code]


def open_data_type(code: str | None) -> str | None:
    """The open-data crime type of an incident type, or None when it is not exportable."""
    return OPEN_DATA_TYPE.get((code or "").upper())


def parse_month(text: str) -> date:
    """ "2026-11" -> date(2026, 11, 1); ValueError with plain words otherwise."""
    value = (text or "").strip()
    parts = value.split("-")
    if (
        len(parts) != 2
        or len(parts[0]) != 4
        or len(parts[1]) != 2
        or not (parts[0].isdigit() and parts[1].isdigit())
    ):
        raise ValueError(f"the month must be written YYYY-MM, not {value!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1900:
        raise ValueError(f"not a month: {value!r}")
    return date(year, month, 1)


def next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def snap(latitude: float, longitude: float, grid: float = GRID_DEGREES) -> tuple[float, float]:
    """The grid point nearest to (latitude, longitude), rounded to 6 places."""
    return (round(round(latitude / grid) * grid, 6), round(round(longitude / grid) * grid, 6))


def coordinate(value: float | None) -> str:
    """A map point's coordinate as both files write it: six places, or empty."""
    return "" if value is None else f"{value:.6f}"


def on_or_near(street: str | None) -> str:
    street = " ".join((street or "").split())
    return f"On or near {street}" if street else NO_LOCATION


def crime_id(salt: str, crime_number: int) -> str:
    return crime_ids(salt)(crime_number)


def crime_ids(salt: str) -> Callable[[int], str]:
    """`crime_id` for one salt, for a month's tens of thousands: the salt's part of the
    hash is worked out once (the same digest as hashing "<salt>:<number>" whole)."""
    if not salt:
        raise ValueError("a Crime ID needs a salt")
    salted = hashlib.sha256(f"{salt}:".encode())

    def made(crime_number: int) -> str:
        digest = salted.copy()
        digest.update(b"%d" % crime_number)
        return digest.hexdigest()

    return made


def salt_check(salt: str) -> str:
    """A one-way fingerprint of the Crime-ID salt, for the database to know it again by:
    the salt is 64 random hex digits, so the fingerprint gives nothing back."""
    if not salt:
        raise ValueError("no salt")
    return hashlib.sha256(f"controlroom crime-id salt check:{salt}".encode()).hexdigest()


# --- the rows, checked before writing ----------------------------------------------------------

_CRIME_ID = re.compile(r"[0-9a-f]{64}")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


# Both files begin with the same nine columns, in the same places.
_MONTH_AT, _REPORTED_AT, _FALLS_AT, _LONGITUDE_AT, _LATITUDE_AT, _LOCATION_AT = 1, 2, 3, 4, 5, 6
_LSOA_CODE_AT, _LSOA_NAME_AT = 7, 8
_ON_OR_NEAR = "On or near "


def _common_problems(cells: Sequence[str], columns: Sequence[str], month: str) -> list[str]:
    """The checks both files share. A month's file is tens of thousands of rows, each
    checked: the cells are read by position (the columns' order is fixed above)."""
    if len(cells) != len(columns):
        return [f"{len(cells)} cells where the file has {len(columns)} columns"]
    problems = []
    found_month = cells[_MONTH_AT]
    if found_month != month or not _MONTH.fullmatch(found_month):
        problems.append(f"Month {found_month!r} is not {month}")
    if cells[_FALLS_AT] != cells[_REPORTED_AT]:
        problems.append("Reported by / Falls within: the force's name, both the same")
    longitude, latitude = cells[_LONGITUDE_AT], cells[_LATITUDE_AT]
    location = cells[_LOCATION_AT]
    if (longitude == "") != (latitude == ""):
        problems.append("Longitude and Latitude: both or neither")
    elif longitude:
        try:
            x, y = float(longitude), float(latitude)
        except ValueError:
            problems.append("Longitude/Latitude: not numbers")
        else:
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                problems.append("Longitude/Latitude: off the map")
        if not location.startswith(_ON_OR_NEAR):
            problems.append(f"Location {location!r}: 'On or near <street>' with a point")
    elif location != NO_LOCATION:
        problems.append(f"Location {location!r}: {NO_LOCATION!r} without a point")
    if cells[_LSOA_CODE_AT] or cells[_LSOA_NAME_AT]:
        problems.append("LSOA code / name: not held here, so left empty")
    return problems


_CRIME_TYPES = frozenset(CRIME_TYPES)
_CRIME_ID_AT, _TYPE_AT, _LAST_OUTCOME_AT, _CONTEXT_AT = 0, 9, 10, 11
_OUTCOME_TYPE_AT = 9
_OUTCOME_TYPES = OUTCOME_CATEGORIES - {UNDER_INVESTIGATION}


def street_row_problems(cells: Sequence[str], month: str) -> list[str]:
    """What is wrong with a street-file row (`COLUMNS` order) for `month`: none is right."""
    problems = _common_problems(cells, COLUMNS, month)
    if problems and len(cells) != len(COLUMNS):
        return problems
    crime_type = cells[_TYPE_AT]
    if crime_type not in _CRIME_TYPES:
        problems.append(f"Crime type {crime_type!r} is not one of the 14")
    if crime_type == ASB:
        if cells[_CRIME_ID_AT] or cells[_LAST_OUTCOME_AT]:
            problems.append("anti-social behaviour has no Crime ID and no outcome")
    else:
        if not _CRIME_ID.fullmatch(cells[_CRIME_ID_AT]):
            problems.append("Crime ID: 64 hex digits")
        if cells[_LAST_OUTCOME_AT] not in OUTCOME_CATEGORIES:
            problems.append(f"Last outcome category {cells[_LAST_OUTCOME_AT]!r}")
    if cells[_CONTEXT_AT]:
        problems.append("Context: always empty")
    return problems


def outcome_row_problems(cells: Sequence[str], month: str) -> list[str]:
    """What is wrong with an outcomes-file row (`OUTCOME_COLUMNS` order) for `month`."""
    problems = _common_problems(cells, OUTCOME_COLUMNS, month)
    if problems and len(cells) != len(OUTCOME_COLUMNS):
        return problems
    if not _CRIME_ID.fullmatch(cells[_CRIME_ID_AT]):
        problems.append("Crime ID: 64 hex digits")
    if cells[_OUTCOME_TYPE_AT] not in _OUTCOME_TYPES:
        problems.append(f"Outcome type {cells[_OUTCOME_TYPE_AT]!r}")
    return problems


def file_problems(
    rows: Iterable[Sequence[str]], month: str, check: Callable[[Sequence[str], str], list[str]]
) -> list[tuple[int, str]]:
    """Every problem `check` (`street_row_problems` or `outcome_row_problems`) finds in
    a file's rows, as (row number from 1, problem), rows in order. A month's rows repeat
    the same few places, types and outcomes: each is checked once per distinct row less
    its Crime ID (whose check depends only on whether it is empty or 64 hex digits, and
    no message quotes it), so a month of tens of thousands of rows is checked in a few
    thousand calls, with exactly what row-by-row checking finds."""
    found: list[tuple[int, str]] = []
    seen: dict[tuple, list[str]] = {}
    for number, cells in enumerate(rows, 1):
        crime = cells[0] if cells else ""
        key = (crime == "", _CRIME_ID.fullmatch(crime) is not None, *cells[1:])
        problems = seen.get(key)
        if problems is None:
            problems = seen[key] = check(cells, month)
        found.extend((number, problem) for problem in problems)
    return found


def render(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """A file's bytes: UTF-8, CR LF, the header then the rows. An empty cell stays empty;
    a cell that could start a formula is led by `'` (a number keeps its sign).

    A month's cells are mostly the same few values, and its Crime IDs and map points
    need neither quoting nor a lead: each distinct cell is made safe and written by
    `csv_writer` once (`_CellText`), and a row is its cells' text joined, which is the
    writer's own line (a row of one empty cell excepted, which the writer quotes)."""
    from controlroom.domain.spreadsheet import csv_writer

    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(columns)
    text = _CellText().__getitem__
    lines = [buffer.getvalue()]
    for row in rows:
        if len(row) == 1 and not row[0]:
            lines.append('""\r\n')
        else:
            lines.append(",".join(map(text, row)) + "\r\n")
    return "".join(lines).encode("utf-8")


# The characters `csv_writer` (QUOTE_MINIMAL, CR LF) quotes a cell for.
_QUOTED = re.compile(r'[,"\r\n]')


class _CellText(dict):
    """Each cell as `csv_writer` writes it, made safe (`spreadsheet.safe_cell`) first:
    worked out once per distinct cell, by the writer itself."""

    def __missing__(self, cell: str) -> str:
        from controlroom.domain.spreadsheet import csv_writer, safe_cell

        if cell.isalnum():  # a Crime ID, a word: nothing to quote, no formula lead
            self[cell] = cell
            return cell
        if not _QUOTED.search(cell):  # what the writer leaves unquoted, as it is
            made = self[cell] = str(safe_cell(cell))
            return made
        buffer = io.StringIO()
        csv_writer(buffer).writerow((safe_cell(cell), "."))
        made = self[cell] = buffer.getvalue()[: -len(",.\r\n")]
        return made


def file_name(month: str, force: str, kind: str) -> str:
    """data.police.uk's name for a month's file: 2026-11-west-yorkshire-street.csv."""
    slug = re.sub(r"[^a-z0-9]+", "-", force.lower()).strip("-") or "force"
    return f"{month}-{slug}-{kind}.csv"


def outcome(crime_type: str, code: int = 0) -> str:
    """A street-file row's last outcome category: none for anti-social behaviour."""
    return "" if crime_type == ASB else OUTCOME_CATEGORY[code]
