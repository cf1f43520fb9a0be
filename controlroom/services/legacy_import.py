"""Old records in (issue 19, items 1-3): `controlroom import legacy PATH`.

Reads an old system's extract (PERSONS, ALIASES, ADDRESSES, MARKERS, INCIDENTS and
INTELLIGENCE .CSV; the rules of its dates, names and codes in `domain.legacy` and the
mapping file) a chunk at a time, one transaction a chunk, and accounts for every row in
the provenance ledger (`import_record`: source system, file, id, line, batch, outcome):

- imported: a new person (alias, address, warning marker; incident or intelligence
  report, read-only and LEGACY by its `legacy_batch_id`), the ledger pointing at it;
- matched: a person probably already here (the same surname and forename keys as person
  search uses, and the same date of birth, or its day and month swapped) is not
  imported: the row goes to the review list for a supervisor to merge or keep apart,
  held whole; everything of that person's waits with them (matched too), and follows
  the decision (`services.legacy_review`);
- rejected: with the reason and the line (a bad date, an unknown code, a truncated line,
  a row of a person the extract does not have).

Every row already in the ledger is skipped, so a re-run of the same extract changes
nothing and a run interrupted half-way (committed chunks stay) resumes where it
stopped. The batch is found again by the extract's SHA-256.

Administrators only (DATABASE_MAINTAIN: the import writes records but shows none),
audited as `legacy.import` with the counts. LEGACY records are written with Core
INSERTs; once in, `data.legacy_guard` refuses any change to them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from controlroom.data.models import utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.legacy import (
    EXTRACT_FILES,
    FILE_NAMES,
    LegacyMapping,
    LegacyPerson,
    check_source_id,
    fields_missing,
    read_address,
    read_incident,
    read_person,
    read_report,
    tidy_name,
    unsafe_field,
)
from controlroom.domain.permissions import Action
from controlroom.domain.phonetics import name_keys
from controlroom.services import access, audit

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWorkFactory

CHUNK = 2_000
Progress = Callable[[str, int, int], None]  # file, rows done, rows in the file
OUTCOMES = ("imported", "matched", "rejected")


@dataclass(frozen=True, slots=True)
class Rejection:
    source_file: str
    line: int
    source_id: str
    reason: str


@dataclass(slots=True)
class FileCount:
    """One file's reconciliation: every row read is imported, matched, rejected or was
    accounted for by an earlier run."""

    source_file: str
    read: int = 0
    imported: int = 0
    matched: int = 0
    rejected: int = 0
    earlier: int = 0

    def add(self, outcome: str) -> None:
        """One more row with `outcome` (imported, matched or rejected)."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def balances(self) -> bool:
        return self.read == self.imported + self.matched + self.rejected + self.earlier


@dataclass(frozen=True, slots=True)
class Reconciliation:
    batch_id: int
    source_system: str
    files: tuple[FileCount, ...]
    rejections: tuple[Rejection, ...]
    resumed: bool  # the batch existed: an earlier run of this extract

    def count(self, source_file: str) -> FileCount:
        return next(f for f in self.files if f.source_file == source_file)

    def write_csv(self, out: io.TextIOBase) -> None:
        """The report as CSV: a summary row per file, then every rejection."""
        writer = csv.writer(out)
        writer.writerow(["file", "read", "imported", "matched", "rejected", "earlier runs"])
        for f in self.files:
            writer.writerow([f.source_file, f.read, f.imported, f.matched, f.rejected, f.earlier])
        writer.writerow([])
        writer.writerow(["file", "line", "source id", "reason"])
        for r in self.rejections:
            writer.writerow([r.source_file, r.line, r.source_id, r.reason])


class ImportRefused(PermissionError):
    """The import may not run; the message says why."""


def extract_digest(path: Path) -> str:
    """SHA-256 over the extract's files, in order: the same extract, the same batch."""
    digest = hashlib.sha256()
    for kind in EXTRACT_FILES:
        file = path / FILE_NAMES[kind]
        digest.update(FILE_NAMES[kind].encode())
        if file.exists():
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _rows(path: Path, kind: str, encoding: str) -> Iterator[tuple[int, dict]]:
    """(line number, row) of one file; a file that is missing reads as empty."""
    file = path / FILE_NAMES[kind]
    if not file.exists():
        return
    with file.open(encoding=encoding, errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(EXTRACT_FILES[kind]) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{file.name} lacks the columns {', '.join(sorted(missing))}")
        for row in reader:
            yield reader.line_num, row


def count_lines(path: Path, kind: str, encoding: str) -> int:
    return sum(1 for _ in _rows(path, kind, encoding))


def import_extract(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    path: Path,
    mapping: LegacyMapping,
    *,
    progress: Progress | None = None,
    chunk: int = CHUNK,
) -> Reconciliation:
    """Import the extract in the directory `path`; see the module's docstring."""
    with uow_factory() as uow:
        access.require(uow, actor, Action.DATABASE_MAINTAIN, "import", str(path.name))
        digest = extract_digest(path)
        batch = uow.legacy.batch(mapping.source_system, digest)
        resumed = batch is not None
        if batch is None:
            batch = uow.legacy.start_batch(
                mapping.source_system, path.name, digest, actor.staff_id, utcnow()
            )
        batch_id = batch.id
        uow.commit()
    counts = {kind: FileCount(kind) for kind in EXTRACT_FILES}
    rejections: list[Rejection] = []
    run = _Run(uow_factory, mapping, batch_id, counts, rejections, actor.staff_id)
    for kind in EXTRACT_FILES:
        total = count_lines(path, kind, mapping.encoding) if progress else 0
        pending: list[tuple[int, dict]] = []
        for numbered in _rows(path, kind, mapping.encoding):
            pending.append(numbered)
            if len(pending) >= chunk:
                run.chunk(kind, pending)
                pending = []
                if progress:
                    progress(kind, counts[kind].read, total)
        run.chunk(kind, pending)
        if progress:
            progress(kind, counts[kind].read, total)
    with uow_factory() as uow:
        uow.legacy.finish_batch(batch_id, utcnow())
        summary = "; ".join(
            f"{c.source_file}: {c.read} read, {c.imported} imported, {c.matched} matched,"
            f" {c.rejected} rejected, {c.earlier} earlier"
            for c in counts.values()
        )
        audit.record(
            uow, actor, "legacy.import", "import_batch", batch_id, detail=f"{path.name}: {summary}"
        )
        uow.commit()
    order = list(EXTRACT_FILES)
    rejections.sort(key=lambda r: (order.index(r.source_file), r.line))
    return Reconciliation(
        batch_id, mapping.source_system, tuple(counts.values()), tuple(rejections), resumed
    )


@dataclass
class _Run:
    uow_factory: UnitOfWorkFactory
    mapping: LegacyMapping
    batch_id: int
    counts: dict[str, FileCount]
    rejections: list[Rejection]
    staff_id: int | None = None
    marker_codes: frozenset[str] = field(default_factory=frozenset)
    incident_types: dict[str, bool] = field(default_factory=dict)  # code -> domestic

    def chunk(self, kind: str, numbered: list[tuple[int, dict]]) -> None:
        if not numbered:
            return
        id_column = EXTRACT_FILES[kind][0]
        with self.uow_factory() as uow:
            done = uow.legacy.accounted(
                self.mapping.source_system,
                kind,
                ((row.get(id_column) or "").strip() for _line, row in numbered),
            )
            ledger: list[dict] = []
            fresh: list[tuple[int, dict]] = []
            seen: set[str] = set()
            count = self.counts[kind]
            for line, row in numbered:
                count.read += 1
                source_id = (row.get(id_column) or "").strip()
                if source_id in done:
                    count.earlier += 1
                    continue
                reason = (
                    fields_missing(row, EXTRACT_FILES[kind])
                    or unsafe_field(row, EXTRACT_FILES[kind])
                    or check_source_id(row, id_column)
                )
                if reason is None and source_id in seen:
                    reason = f"{id_column} {source_id!r} appears twice in the file"
                if reason is not None:
                    self._reject(kind, line, source_id, reason, ledger, seen)
                    continue
                seen.add(source_id)
                fresh.append((line, row))
            if kind == "persons":
                self._persons(uow, fresh, ledger)
            elif kind in LEGACY_RECORDS:
                self._legacy_records(uow, kind, fresh, ledger)
            else:
                self._belongings(uow, kind, fresh, ledger)
            uow.legacy.record(ledger)
            uow.commit()

    def _entry(self, kind: str, line: int, source_id: str, outcome: str, **rest) -> dict:
        self.counts[kind].add(outcome)
        return {
            "batch_id": self.batch_id,
            "source_system": self.mapping.source_system,
            "source_file": kind,
            "source_id": source_id,
            "person_ref": rest.get("person_ref"),
            "line": line,
            "outcome": outcome,
            "target_id": rest.get("target_id"),
            "candidate_id": rest.get("candidate_id"),
            "reason": rest.get("reason"),
            "held": rest.get("held"),
        }

    def _reject(
        self, kind: str, line: int, source_id: str, reason: str, ledger: list, seen: set[str]
    ) -> None:
        self.rejections.append(Rejection(kind, line, source_id, reason))
        # A row without a usable id of its own cannot be kept in the ledger (its key):
        # it is reported, and reported again by a re-run, but changes nothing.
        if source_id and len(source_id) <= 64 and source_id not in seen:
            seen.add(source_id)
            ledger.append(self._entry(kind, line, source_id, "rejected", reason=reason))
        else:
            self.counts[kind].add("rejected")

    def _persons(self, uow, fresh: list[tuple[int, dict]], ledger: list[dict]) -> None:
        people: list[tuple[int, LegacyPerson]] = []
        for line, row in fresh:
            person = read_person(row, self.mapping)
            if isinstance(person, str):
                source_id = row["PERSON_REF"].strip()
                self._reject("persons", line, source_id, person, ledger, set())
            else:
                people.append((line, person))
        matches = self._probable_matches(uow, [p for _line, p in people])
        new: list[tuple[int, LegacyPerson]] = []
        for line, person in people:
            candidate = matches.get(person.source_id)
            if candidate is not None:
                held = json.dumps(_as_row(person), ensure_ascii=True)
                ledger.append(
                    self._entry(
                        "persons",
                        line,
                        person.source_id,
                        "matched",
                        candidate_id=candidate,
                        held=held,
                    )
                )
            else:
                new.append((line, person))
        ids = uow.legacy.insert_persons(
            [
                {
                    "forename": p.forename,
                    "middle_names": p.middle_names,
                    "surname": p.surname,
                    "date_of_birth": p.date_of_birth,
                    "gender": p.gender,
                    "restricted": False,
                    "created_at": utcnow(),
                    "created_by_id": None,
                }
                for _line, p in new
            ]
        )
        for (line, person), person_id in zip(new, ids, strict=True):
            ledger.append(
                self._entry("persons", line, person.source_id, "imported", target_id=person_id)
            )

    def _probable_matches(self, uow, people: list[LegacyPerson]) -> dict[str, int]:
        """source id -> the id of a person probably the same: surname and forename keys
        equal, and the date of birth equal or with day and month swapped (person search's
        rules for two facts). People without a date of birth are never matched."""
        keyed = []
        for person in people:
            if person.date_of_birth is None:
                continue
            keys = (name_keys(person.surname).whole, name_keys(person.forename).whole)
            keyed.append((person, keys, _dates(person.date_of_birth)))
        if not keyed:
            return {}
        found = uow.legacy.people_by_keys_and_birth(
            (keys[0] for _p, keys, _d in keyed if keys[0]),
            (born for _p, _k, dates in keyed for born in dates),
        )
        by_key: dict[tuple, int] = {}
        for person_id, surname_key, forename_key, born in found:
            by_key.setdefault((surname_key, forename_key, born), person_id)
        matches = {}
        for person, keys, dates in keyed:
            for born in dates:
                hit = by_key.get((*keys, born))
                if hit is not None:
                    matches[person.source_id] = hit
                    break
        return matches

    def _belongings(self, uow, kind: str, fresh: list[tuple[int, dict]], ledger) -> None:
        """Aliases and markers: each goes with its person (imported, or waiting on the
        review list), or is rejected when the extract has no such person."""
        owners = uow.legacy.accounted(
            self.mapping.source_system, "persons", (row["PERSON_REF"].strip() for _l, row in fresh)
        )
        if kind == "markers" and not self.marker_codes:
            self.marker_codes = uow.legacy.marker_codes()
        inserts: list[tuple[int, str, str, dict]] = []
        for line, row in fresh:
            source_id = row[EXTRACT_FILES[kind][0]].strip()
            owner = owners.get(row["PERSON_REF"].strip())
            if owner is None or owner[0] == "rejected":
                why = "not in the extract" if owner is None else "rejected"
                self._reject(kind, line, source_id, f"its person is {why}", ledger, set())
                continue
            values = self._values(kind, row)
            if isinstance(values, str):
                self._reject(kind, line, source_id, values, ledger, set())
                continue
            person_ref = row["PERSON_REF"].strip()
            if owner[0] == "matched":  # waits with its person on the review list
                ledger.append(
                    self._entry(
                        kind,
                        line,
                        source_id,
                        "matched",
                        person_ref=person_ref,
                        held=held_values(values),
                    )
                )
                continue
            inserts.append((line, source_id, person_ref, {**values, "person_id": owner[1]}))
        rows = [values for _line, _id, _ref, values in inserts]
        ids = insert_belongings(uow, kind, rows)
        for (line, source_id, person_ref, _values), target in zip(inserts, ids, strict=True):
            ledger.append(
                self._entry(
                    kind, line, source_id, "imported", target_id=target, person_ref=person_ref
                )
            )

    def _legacy_records(self, uow, kind: str, fresh: list[tuple[int, dict]], ledger) -> None:
        """Incidents and intelligence reports: imported read-only (`legacy_batch_id`),
        each linked to its person when one is named; a person waiting on the review list
        keeps them waiting too (released by the supervisor's decision)."""
        owners = uow.legacy.accounted(
            self.mapping.source_system,
            "persons",
            (row["PERSON_REF"].strip() for _l, row in fresh if row["PERSON_REF"].strip()),
        )
        if kind == "incidents" and not self.incident_types:
            self.incident_types = uow.legacy.incident_types()
        inserts: list[tuple[int, str, str | None, dict]] = []
        for line, row in fresh:
            source_id = row[EXTRACT_FILES[kind][0]].strip()
            values = self._record_values(kind, row)
            if isinstance(values, str):
                self._reject(kind, line, source_id, values, ledger, set())
                continue
            person_ref = row["PERSON_REF"].strip() or None
            owner = owners.get(person_ref) if person_ref else None
            if person_ref and (owner is None or owner[0] == "rejected"):
                why = "not in the extract" if owner is None else "rejected"
                self._reject(kind, line, source_id, f"its person is {why}", ledger, set())
                continue
            if owner is not None and owner[0] == "matched":
                ledger.append(
                    self._entry(
                        kind,
                        line,
                        source_id,
                        "matched",
                        person_ref=person_ref,
                        held=held_values(values),
                    )
                )
                continue
            person_id = owner[1] if owner is not None else None
            inserts.append((line, source_id, person_ref, {**values, "person_id": person_id}))
        ids = insert_belongings(uow, kind, [values for _l, _s, _r, values in inserts])
        for (line, source_id, person_ref, _values), target in zip(inserts, ids, strict=True):
            ledger.append(
                self._entry(
                    kind, line, source_id, "imported", target_id=target, person_ref=person_ref
                )
            )

    def _record_values(self, kind: str, row: dict) -> dict | str:
        if kind == "intelligence":
            report = read_report(row, self.mapping)
            if isinstance(report, str):
                return report
            return {
                "reference": report.reference,
                "submitted_at": report.submitted_at,
                "submitted_by_id": self.staff_id,
                "source_grade": report.source_grade,
                "intelligence_grade": report.intelligence_grade,
                "handling_code": report.handling_code,
                "handling_conditions": report.handling_conditions,
                "text": report.text,
                "restricted": False,
                "legacy_batch_id": self.batch_id,
            }
        incident = read_incident(row, self.mapping)
        if isinstance(incident, str):
            return incident
        domestic = self.incident_types.get(incident.type_code)
        if domestic is None:
            return f"incident type {incident.type_code!r} is not one of ours"
        return {
            "reference": incident.reference,
            "opened_at": incident.opened_at,
            "opened_by_id": self.staff_id,
            "workstation": self.mapping.source_system,
            "opening_type_code": incident.type_code,
            "closing_type_code": incident.type_code,
            "grade": incident.grade,
            "status": "closed",
            "location_text": incident.location_text,
            "postcode": incident.postcode,
            "narrative": incident.narrative,
            "domestic": domestic,
            # The old system's crimes were recorded there: no 24-hour clock starts here.
            "possible_crime": False,
            "closed_at": incident.closed_at,
            "closed_by_id": self.staff_id,
            "result": incident.result,
            "legacy_batch_id": self.batch_id,
            "role": incident.person_role,
        }

    def _values(self, kind: str, row: dict) -> dict | str:
        if kind == "addresses":
            return self._address(row)
        if kind == "aliases":
            surname = tidy_name(row["SURNAME"])
            if not surname:
                return "no surname"
            return {
                "forename": tidy_name(row["FORENAMES"]).partition(" ")[0] or None,
                "surname": surname[:80],
                "kind": "alias",
            }
        code = row["WARNING_CODE"].strip().upper()
        ours = self.mapping.markers.get(code)
        if ours is None or ours not in self.marker_codes:
            return f"unknown warning code {code!r}"
        valid_from = self.mapping.parse_date(row["DATE_FROM"])
        if valid_from is None:
            return f"DATE_FROM {row['DATE_FROM'].strip()!r} fits no date format"
        return {
            "marker_code": ours,
            "note": (row["NOTE"] or "").strip() or None,
            "set_by_id": None,
            "set_at": utcnow(),
            "valid_from": valid_from,
            "valid_to": None,
        }

    def _address(self, row: dict) -> dict | str:
        address = read_address(row["ADDRESS"])
        if isinstance(address, str):
            return address
        dates = {}
        for column, name in (("DATE_FROM", "valid_from"), ("DATE_TO", "valid_to")):
            text = (row[column] or "").strip()
            dates[name] = self.mapping.parse_date(text) if text else None
            if text and dates[name] is None:
                return f"{column} {text!r} fits no date format"
        return {
            "address": address.address,
            "street": address.street,
            "town": address.town,
            "postcode": address.postcode,
            "kind": "home" if dates["valid_to"] is None else "previous",
            **dates,
        }


DATE_FIELDS = ("valid_from", "valid_to")
INSTANT_FIELDS = ("opened_at", "closed_at", "submitted_at")
LEGACY_RECORDS = ("incidents", "intelligence")


def held_values(values: dict) -> str:
    """An alias's, address's, marker's, incident's or report's checked values as JSON,
    held until its person is decided."""
    kept = {k: v for k, v in values.items() if k not in ("set_at", "set_by_id")}
    for name in (*DATE_FIELDS, *INSTANT_FIELDS):
        if kept.get(name) is not None:
            kept[name] = kept[name].isoformat()
    return json.dumps(kept, ensure_ascii=True)


def released_values(held: str) -> dict:
    """The values `held_values` kept, ready to insert (a marker set now, by nobody)."""
    values = json.loads(held)
    for name in DATE_FIELDS:
        if values.get(name) is not None:
            values[name] = date.fromisoformat(values[name])
    for name in INSTANT_FIELDS:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    if "marker_code" in values:
        values["set_at"] = utcnow()
        values["set_by_id"] = None
    return values


def insert_belongings(uow, kind: str, rows: list[dict]) -> list[int]:
    """Insert a person's aliases, addresses (finding or making their locations) or
    markers; their ids, in order."""
    if kind == "aliases":
        return uow.legacy.insert_aliases(rows)
    if kind == "addresses":
        return uow.legacy.insert_addresses(rows)
    if kind == "incidents":
        return uow.legacy.insert_incidents(rows)
    if kind == "intelligence":
        return uow.legacy.insert_reports(rows)
    return uow.legacy.insert_markers(rows)


def _dates(born: date) -> list[date]:
    dates = [born]
    if born.day <= 12 and born.day != born.month:
        try:
            dates.append(born.replace(day=born.month, month=born.day))
        except ValueError:
            pass
    return dates


def _as_row(person: LegacyPerson) -> dict:
    return {
        "source_id": person.source_id,
        "forename": person.forename,
        "middle_names": person.middle_names,
        "surname": person.surname,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else None,
        "gender": person.gender,
    }
