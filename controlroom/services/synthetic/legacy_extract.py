"""A synthetic old-system extract with the faults real ones have (issue 19), for the
tests, the demo and the benchmark of `controlroom import legacy`.

It writes PERSONS.CSV, ALIASES.CSV, ADDRESSES.CSV and MARKERS.CSV as an old force system
exports them (upper-case names, free-text addresses, dates in three formats, its own
warning codes, Windows-1252) and a mapping file for them, and plants, in known numbers:

- duplicates of people already in the database (the same person, the old system's
  spelling of the date), which must land on the review list, not as second records;
- bad dates of birth ("31/02/1987", "UNKNOWN") and bad marker dates;
- warning codes the mapping does not know;
- aliases and markers of a person the extract does not have, and empty addresses;
- a truncated file: MARKERS.CSV's last line cut off half-way, as a copy that ran out
  of space leaves it.

`Planted` says how many of each went in, so a test checks the reconciliation against
it. Names come from Faker en_GB with a fixed seed: no real person.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from controlroom.domain.legacy import EXTRACT_FILES, FILE_NAMES

if TYPE_CHECKING:
    from controlroom.services.unit_of_work import UnitOfWorkFactory

SOURCE_SYSTEM = "OLDCAD"
ENCODING = "cp1252"
# Their codes -> ours; XWIB and GANG are codes the mapping leaves out on purpose.
MARKER_CODES = {"VIOL": "VIOLENT", "WEAP": "WEAPONS", "SUIC": "SUICIDE", "DRUG": "DRUGS"}
UNMAPPED_CODES = ("XWIB", "GANG")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y")
# Their incident types, priorities and intelligence gradings -> ours; ZZOLD and X9 are
# left out of the mapping on purpose.
INCIDENT_TYPES = {"DOMESTIC": "DOM", "ASSAULT": "ASLT", "BURGLARY": "BURGR", "CONCERN": "WELF"}
UNMAPPED_TYPE = "ZZOLD"
PRIORITIES = {"E": "G1", "P": "G2", "S": "G3", "R": "G4"}
GRADINGS = {"A1": "1A P", "B2": "2B P", "C3": "3C P", "B3": "2C C: police use only (synthetic)"}
UNMAPPED_GRADING = "X9"
ROLES = ("VICTIM", "SUSPECT", "WITNESS", "CALLER")
MAPPING = f'''# How to read an {SOURCE_SYSTEM} extract (synthetic).
source_system = "{SOURCE_SYSTEM}"
encoding = "{ENCODING}"

[dates]
formats = [{", ".join(f'"{f}"' for f in DATE_FORMATS)}]

[genders]
M = "male"
F = "female"

[markers]
{chr(10).join(f'{theirs} = "{ours}"' for theirs, ours in MARKER_CODES.items())}

[incident_types]
{chr(10).join(f'{theirs} = "{ours}"' for theirs, ours in INCIDENT_TYPES.items())}

[grades]
{chr(10).join(f'{theirs} = "{ours}"' for theirs, ours in PRIORITIES.items())}

[gradings]
{chr(10).join(f'{theirs} = "{ours}"' for theirs, ours in GRADINGS.items())}
'''


@dataclass(frozen=True, slots=True)
class Planted:
    """What the extract holds, by kind: the reconciliation must come to these."""

    persons: int  # rows in PERSONS.CSV
    new_persons: int  # to be imported
    duplicates: int  # of people already here: to the review list
    bad_dates: int  # persons rejected for their date of birth
    aliases: int
    aliases_imported: int
    aliases_matched: int  # of a duplicate person: wait with them
    aliases_orphaned: int  # of a person the extract lacks
    addresses: int
    addresses_imported: int
    addresses_matched: int
    addresses_empty: int
    markers: int  # rows in MARKERS.CSV, the truncated one included
    markers_imported: int
    markers_matched: int
    markers_unknown_code: int
    markers_bad_date: int
    markers_truncated: int
    incidents: int = 0  # rows in INCIDENTS.CSV (read-only, LEGACY, when imported)
    incidents_imported: int = 0
    incidents_matched: int = 0  # of a duplicate person: wait with them
    incidents_unknown_type: int = 0
    incidents_bad_date: int = 0
    incidents_orphaned: int = 0
    reports: int = 0  # rows in INTELLIGENCE.CSV
    reports_imported: int = 0
    reports_matched: int = 0
    reports_unknown_grading: int = 0
    reports_bad_date: int = 0
    reports_orphaned: int = 0


def write_extract(
    path: Path,
    *,
    persons: int = 100,
    duplicates_of: UnitOfWorkFactory | None = None,
    duplicates: int = 5,
    bad_dates: int = 4,
    seed: int = 19,
    legacy_records: bool = True,
) -> Planted:
    """Write an extract of `persons` people into the directory `path` (and mapping.toml
    beside the CSV files). With `duplicates_of`, `duplicates` of them are people of that
    database (read from it), spelled the old system's way. With `legacy_records`, their
    old incidents and intelligence too (about one of each for every four people)."""
    from faker import Faker

    fake = Faker("en_GB")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    path.mkdir(parents=True, exist_ok=True)
    (path / "mapping.toml").write_text(MAPPING, encoding="utf-8")

    existing: list[tuple[str, str, date]] = []
    if duplicates_of is not None and duplicates:
        with duplicates_of() as uow:
            existing = list(uow.legacy.some_people(duplicates))
    duplicates = len(existing)
    bad_dates = min(bad_dates, persons - duplicates)

    people: list[list[str]] = []
    kinds: list[str] = []  # new, duplicate, bad_date
    for index in range(persons):
        ref = f"P{index + 1:07d}"
        if index < duplicates:
            forename, surname, born = existing[index]
            people.append([ref, surname.upper(), forename.upper(), born.strftime("%d-%b-%Y"), ""])
            kinds.append("duplicate")
            continue
        sex = rng.choice("MF")
        forename = fake.first_name_male() if sex == "M" else fake.first_name_female()
        surname = fake.last_name()
        if index < duplicates + bad_dates:
            dob = rng.choice(("31/02/1987", "UNKNOWN", "1985-13-01", "00/00/0000"))
            kinds.append("bad_date")
        else:
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(70 * 365))
            dob = born.strftime(rng.choice(DATE_FORMATS))
            kinds.append("new")
        middle = f" {fake.first_name().upper()}" if rng.random() < 0.3 else ""
        people.append([ref, surname.upper(), forename.upper() + middle, dob, sex])
    _write(path, "persons", people)

    aliases: list[list[str]] = []
    alias_counts = {"imported": 0, "matched": 0, "orphaned": 0}
    for index, person in enumerate(people):
        if kinds[index] == "bad_date" or rng.random() > 0.3:
            continue
        aliases.append([f"A{len(aliases) + 1:07d}", person[0], fake.last_name().upper(), ""])
        alias_counts["matched" if kinds[index] == "duplicate" else "imported"] += 1
    for _ in range(2):
        aliases.append([f"A{len(aliases) + 1:07d}", "P9999999", fake.last_name().upper(), ""])
        alias_counts["orphaned"] += 1
    _write(path, "aliases", aliases)

    addresses: list[list[str]] = []
    address_counts = {"imported": 0, "matched": 0, "empty": 0}
    for index, person in enumerate(people):
        if kinds[index] == "bad_date" or rng.random() > 0.6:
            continue
        text = (
            f"{fake.building_number()} {fake.street_name()}, {fake.city()} {fake.postcode()}"
        ).upper()
        moved = rng.random() < 0.2  # a former address, with the day they left
        since = date(2010, 1, 1) + timedelta(days=rng.randrange(4000))
        addresses.append(
            [
                f"D{len(addresses) + 1:07d}",
                person[0],
                text,
                since.strftime("%d/%m/%Y"),
                (since + timedelta(days=400)).strftime("%d/%m/%Y") if moved else "",
            ]
        )
        address_counts["matched" if kinds[index] == "duplicate" else "imported"] += 1
    for index in (duplicates + bad_dates, duplicates + bad_dates + 1):  # two new people's
        if index < persons:
            addresses.append([f"D{len(addresses) + 1:07d}", people[index][0], "  ", "", ""])
            address_counts["empty"] += 1
    _write(path, "addresses", addresses)

    markers: list[list[str]] = []
    marker_counts = {"imported": 0, "matched": 0, "unknown": 0, "bad_date": 0}
    usable = [i for i, kind in enumerate(kinds) if kind != "bad_date"]
    for number, index in enumerate(usable[: max(8, len(usable) // 2)]):
        ref = f"M{len(markers) + 1:07d}"
        when = (date(2015, 1, 1) + timedelta(days=rng.randrange(3000))).strftime("%d/%m/%Y")
        if number % 7 == 3:
            code, outcome = rng.choice(UNMAPPED_CODES), "unknown"
        elif number % 7 == 5:
            code, when, outcome = rng.choice(list(MARKER_CODES)), "32/01/2019", "bad_date"
        else:
            code = rng.choice(list(MARKER_CODES))
            outcome = "matched" if kinds[index] == "duplicate" else "imported"
        markers.append([ref, people[index][0], code, when, "HISTORIC MARKER (SYNTHETIC)"])
        marker_counts[outcome] += 1
    # The last line, cut off half-way: its person and code are whole, the rest is lost.
    markers.append([f"M{len(markers) + 1:07d}", people[-1][0], "VIOL"])
    _write(path, "markers", markers, truncate_last=True)

    incidents = _Records("incidents") if legacy_records else None
    reports = _Records("intelligence") if legacy_records else None
    if incidents is not None and reports is not None:
        _write_records(path, fake, rng, people, kinds, incidents, reports)
    return Planted(
        persons=persons,
        new_persons=persons - duplicates - bad_dates,
        duplicates=duplicates,
        bad_dates=bad_dates,
        aliases=len(aliases),
        aliases_imported=alias_counts["imported"],
        aliases_matched=alias_counts["matched"],
        aliases_orphaned=alias_counts["orphaned"],
        addresses=len(addresses),
        addresses_imported=address_counts["imported"],
        addresses_matched=address_counts["matched"],
        addresses_empty=address_counts["empty"],
        markers=len(markers),
        markers_imported=marker_counts["imported"],
        markers_matched=marker_counts["matched"],
        markers_unknown_code=marker_counts["unknown"],
        markers_bad_date=marker_counts["bad_date"],
        markers_truncated=1,
        **(incidents.planted("incidents", "unknown_type") if incidents else {}),
        **(reports.planted("reports", "unknown_grading") if reports else {}),
    )


@dataclass
class _Records:
    """One file of old incidents or intelligence, and how many of each fault."""

    kind: str
    rows: list[list[str]] = field(default_factory=list)
    imported: int = 0
    matched: int = 0
    unknown: int = 0
    bad_date: int = 0
    orphaned: int = 0

    def planted(self, name: str, unknown: str) -> dict[str, int]:
        return {
            name: len(self.rows),
            f"{name}_imported": self.imported,
            f"{name}_matched": self.matched,
            f"{name}_{unknown}": self.unknown,
            f"{name}_bad_date": self.bad_date,
            f"{name}_orphaned": self.orphaned,
        }


def _write_records(path, fake, rng, people, kinds, incidents: _Records, reports: _Records):
    """INCIDENTS.CSV and INTELLIGENCE.CSV: about one of each for every four usable people
    (the duplicates' all among them, so some wait on the review list), every seventh
    with an unknown code, every seventh (another) with a bad date, and one of each about
    a person the extract does not have."""
    usable = [i for i, kind in enumerate(kinds) if kind != "bad_date"]
    chosen = sorted({*(i for i in usable if kinds[i] == "duplicate"), *usable[::4]})
    for number, index in enumerate(chosen):
        person_ref = people[index][0]
        opened = datetime(2012, 1, 1, 8, 0) + timedelta(minutes=rng.randrange(5_000_000))
        when = opened.strftime(rng.choice(DATE_FORMATS)) + opened.strftime(" %H:%M")
        closed = (opened + timedelta(hours=rng.randrange(1, 30))).strftime("%d/%m/%Y %H:%M")
        code = rng.choice(list(INCIDENT_TYPES))
        outcome = "matched" if kinds[index] == "duplicate" else "imported"
        if outcome == "imported" and number % 7 == 3:
            code, outcome = UNMAPPED_TYPE, "unknown"
        elif outcome == "imported" and number % 7 == 5:
            when, outcome = "30/02/2015 10:00", "bad_date"
        street = f"{fake.building_number()} {fake.street_name()}, {fake.city()}".upper()
        incidents.rows.append(
            [
                f"I{len(incidents.rows) + 1:07d}",
                when,
                code,
                rng.choice(list(PRIORITIES)),
                f"{street} {fake.postcode()}",
                f"SYNTHETIC OLD INCIDENT: {fake.sentence(nb_words=8).upper()}",
                closed,
                "NO FURTHER ACTION",
                person_ref,
                rng.choice(ROLES),
            ]
        )
        setattr(incidents, outcome, getattr(incidents, outcome) + 1)

        grading = rng.choice(list(GRADINGS))
        recorded = opened.strftime("%d/%m/%Y %H:%M")
        outcome = "matched" if kinds[index] == "duplicate" else "imported"
        if outcome == "imported" and number % 7 == 2:
            grading, outcome = UNMAPPED_GRADING, "unknown"
        elif outcome == "imported" and number % 7 == 6:
            recorded, outcome = "UNKNOWN", "bad_date"
        reports.rows.append(
            [
                f"R{len(reports.rows) + 1:07d}",
                person_ref,
                recorded,
                grading,
                f"SYNTHETIC OLD INTELLIGENCE: subject seen at {street} with"
                f" {fake.color_name().lower()} vehicle",
            ]
        )
        setattr(reports, outcome, getattr(reports, outcome) + 1)
    incidents.rows.append(
        ["I9999999", "01/01/2015 09:00", "CONCERN", "S", "", "", "", "", "P9999999", "CALLER"]
    )
    incidents.orphaned += 1
    reports.rows.append(["R9999999", "P9999999", "01/01/2015 09:00", "A1", "SYNTHETIC ORPHAN"])
    reports.orphaned += 1
    _write(path, "incidents", incidents.rows)
    _write(path, "intelligence", reports.rows)


def _write(path: Path, kind: str, rows: list[list[str]], *, truncate_last: bool = False) -> None:
    with (path / FILE_NAMES[kind]).open("w", encoding=ENCODING, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(EXTRACT_FILES[kind])
        writer.writerows(rows)
    if truncate_last:  # no line ending after the cut
        data = (path / FILE_NAMES[kind]).read_bytes()
        (path / FILE_NAMES[kind]).write_bytes(data.rstrip(b"\r\n"))
