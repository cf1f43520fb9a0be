"""Open data: the data.police.uk street-level crime file, as pure rules.

- `COLUMNS`: the file's columns, in order.
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
- `crime_id`: an opaque, salted SHA-256 of the incident's id (64 hex digits, as
  data.police.uk's): stable from month to month, never the incident reference.
"""

from __future__ import annotations

import hashlib
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


def on_or_near(street: str | None) -> str:
    street = " ".join((street or "").split())
    return f"On or near {street}" if street else NO_LOCATION


def crime_id(salt: str, incident_id: int) -> str:
    if not salt:
        raise ValueError("a Crime ID needs a salt")
    return hashlib.sha256(f"{salt}:{incident_id}".encode()).hexdigest()


def outcome(crime_type: str) -> str:
    return "" if crime_type == ASB else UNDER_INVESTIGATION
