"""The legacy import's reads and writes (`services.legacy_import`): batches, the
provenance ledger (`import_record`), probable matches among the people already here,
and the imported rows themselves.

Imported rows go in a batch a statement, with their ids in order (`_insert_returning`:
the database's own sequence on PostgreSQL, where the app may be adding people at the
same time; on SQLite, under the write lock, after the highest id there is); their phonetic
keys are computed by the columns' own defaults (`cold_models._name_key_columns`), as for
every other writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from controlroom.data.cold_models import (
    ImportBatch,
    ImportRecord,
    IncidentPerson,
    IntelligenceReport,
    IntelligenceSubject,
    MarkerType,
    Person,
    PersonAddress,
    PersonAlias,
    WarningMarker,
)
from controlroom.data.models import Incident, IncidentType, Location
from controlroom.data.street_centroids import count_inserted_locations


class LegacyImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- batches ------------------------------------------------------------------------

    def batch(self, source_system: str, digest: str) -> ImportBatch | None:
        return self.session.scalar(
            select(ImportBatch).where(
                ImportBatch.source_system == source_system, ImportBatch.extract_digest == digest
            )
        )

    def start_batch(
        self, source_system: str, name: str, digest: str, staff_id: int | None, at: datetime
    ) -> ImportBatch:
        batch = ImportBatch(
            source_system=source_system,
            extract_name=name[:255],
            extract_digest=digest,
            started_at=at,
            started_by_id=staff_id,
        )
        self.session.add(batch)
        self.session.flush()
        return batch

    def finish_batch(self, batch_id: int, at: datetime) -> None:
        self.session.execute(
            update(ImportBatch).where(ImportBatch.id == batch_id).values(finished_at=at)
        )

    # --- the ledger ---------------------------------------------------------------------

    def accounted(
        self, source_system: str, source_file: str, source_ids: Iterable[str]
    ) -> dict[str, tuple[str, int | None]]:
        """The rows of these ids already accounted for: id -> (outcome, target id)."""
        ids = list(set(source_ids))
        found: dict[str, tuple[str, int | None]] = {}
        for start in range(0, len(ids), 5_000):
            rows = self.session.execute(
                select(ImportRecord.source_id, ImportRecord.outcome, ImportRecord.target_id).where(
                    ImportRecord.source_system == source_system,
                    ImportRecord.source_file == source_file,
                    ImportRecord.source_id.in_(ids[start : start + 5_000]),
                )
            )
            found.update({row.source_id: (row.outcome, row.target_id) for row in rows})
        return found

    def record(self, rows: Sequence[dict]) -> None:
        if rows:
            self.session.execute(insert(ImportRecord), list(rows))

    def outcomes(self, batch_id: int) -> dict[tuple[str, str], int]:
        """(file, outcome) -> rows, for a batch."""
        rows = self.session.execute(
            select(ImportRecord.source_file, ImportRecord.outcome, func.count())
            .where(ImportRecord.batch_id == batch_id)
            .group_by(ImportRecord.source_file, ImportRecord.outcome)
        )
        return {(row[0], row[1]): row[2] for row in rows}

    def review_list(self, limit: int = 500) -> Sequence[ImportRecord]:
        """Probable matches held for a supervisor, oldest batch first."""
        return self.session.scalars(
            select(ImportRecord)
            .where(ImportRecord.outcome == "matched", ImportRecord.source_file == "persons")
            .order_by(ImportRecord.batch_id, ImportRecord.line)
            .limit(limit)
        ).all()

    def held_person(self, record_id: int) -> ImportRecord | None:
        """A person on the review list, locked until the decision commits (PostgreSQL)."""
        return self.session.scalar(
            select(ImportRecord)
            .where(
                ImportRecord.id == record_id,
                ImportRecord.source_file == "persons",
                ImportRecord.outcome == "matched",
            )
            .with_for_update()
        )

    def waiting_with(self, source_system: str, person_ref: str) -> Sequence[ImportRecord]:
        """The aliases and markers held with a person on the review list."""
        return self.session.scalars(
            select(ImportRecord)
            .where(
                ImportRecord.source_system == source_system,
                ImportRecord.person_ref == person_ref,
                ImportRecord.outcome == "matched",
            )
            .order_by(ImportRecord.source_file, ImportRecord.line)
        ).all()

    def settle(
        self, record: ImportRecord, outcome: str, target_id: int | None, reason: str
    ) -> None:
        record.outcome = outcome
        record.target_id = target_id
        record.reason = reason

    def people(self, ids: Iterable[int]) -> dict[int, Person]:
        wanted = sorted(set(ids))
        return {p.id: p for p in self.session.scalars(select(Person).where(Person.id.in_(wanted)))}

    # --- matching -----------------------------------------------------------------------

    def people_by_keys_and_birth(
        self, surname_keys: Iterable[str], born: Iterable[date]
    ) -> Sequence[tuple[int, str | None, str | None, date | None]]:
        """(id, surname key, forename key, date of birth) of the people (not merged into
        another) with one of these surname keys and one of these dates of birth: by
        `ix_person_surname_key_born`."""
        return [
            (row.id, row.surname_key, row.forename_key, row.date_of_birth)
            for row in self.session.execute(
                select(Person.id, Person.surname_key, Person.forename_key, Person.date_of_birth)
                .where(
                    Person.surname_key.in_(sorted(set(surname_keys))),
                    Person.date_of_birth.in_(sorted(set(born))),
                    Person.merged_into_id.is_(None),
                )
                .order_by(Person.id)
            )
        ]

    # --- the records themselves ---------------------------------------------------------

    def insert_persons(self, rows: Sequence[dict]) -> list[int]:
        return self._insert_returning(Person, rows)

    def insert_aliases(self, rows: Sequence[dict]) -> list[int]:
        return self._insert_returning(PersonAlias, rows)

    def insert_addresses(self, rows: Sequence[dict]) -> list[int]:
        """Each row's person at its location: an existing location with the same address
        line and postcode, or a new one (unverified: it came as free text)."""
        if not rows:
            return []
        wanted = {(row["address"], row["postcode"]): row for row in rows}
        found: dict[tuple[str, str | None], int] = {}
        postcodes = sorted({p for _a, p in wanted if p is not None})
        lines = sorted({a for a, _p in wanted})
        for start in range(0, len(lines), 5_000):
            for location_id, address, postcode in self.session.execute(
                select(Location.id, Location.address, Location.postcode)
                .where(
                    Location.address.in_(lines[start : start + 5_000]),
                    (Location.postcode.in_(postcodes) | Location.postcode.is_(None)),
                )
                .order_by(Location.id)
            ):
                found.setdefault((address, postcode), location_id)
        new = [key for key in wanted if key not in found]
        places = [
            {
                "address": address,
                "street": wanted[(address, postcode)]["street"],
                "town": wanted[(address, postcode)]["town"],
                "postcode": postcode,
                "verified": False,
            }
            for address, postcode in new
        ]
        made = self._insert_returning(Location, places)
        # Past the ORM: the kept street centres (no map point comes with an old address,
        # so none counts today; the rule is the one every writer follows).
        count_inserted_locations(self.session.connection(), places)
        found.update(zip(new, made, strict=True))
        return self._insert_returning(
            PersonAddress,
            [
                {
                    "person_id": row["person_id"],
                    "location_id": found[(row["address"], row["postcode"])],
                    "kind": row["kind"],
                    "valid_from": row["valid_from"],
                    "valid_to": row["valid_to"],
                }
                for row in rows
            ],
        )

    def insert_markers(self, rows: Sequence[dict]) -> list[int]:
        return self._insert_returning(WarningMarker, rows)

    def insert_incidents(self, rows: Sequence[dict]) -> list[int]:
        """Old incidents (each row's `person_id`, when not None, linked in its `role`)."""
        ids = self._insert_returning(
            Incident,
            [{k: v for k, v in row.items() if k not in ("person_id", "role")} for row in rows],
        )
        links = [
            {
                "incident_id": incident_id,
                "person_id": row["person_id"],
                "role": row["role"] or "subject",
                "linked_at": row["opened_at"],
                "linked_by_id": row["opened_by_id"],
            }
            for row, incident_id in zip(rows, ids, strict=True)
            if row.get("person_id") is not None
        ]
        if links:
            self.session.execute(insert(IncidentPerson), links)
        return ids

    def insert_reports(self, rows: Sequence[dict]) -> list[int]:
        """Old intelligence reports, each about its row's `person_id`."""
        ids = self._insert_returning(
            IntelligenceReport, [{k: v for k, v in row.items() if k != "person_id"} for row in rows]
        )
        subjects = [
            {"report_id": report_id, "person_id": row["person_id"]}
            for row, report_id in zip(rows, ids, strict=True)
        ]
        if subjects:
            self.session.execute(insert(IntelligenceSubject), subjects)
        return ids

    def incident_types(self) -> dict[str, bool]:
        """Our incident type codes, each with whether it is domestic."""
        return {
            row.code: bool(row.domestic)
            for row in self.session.execute(select(IncidentType.code, IncidentType.domestic))
        }

    def _insert_returning(self, model, rows: Sequence[dict]) -> list[int]:
        """Insert `rows`; their ids, in order.

        PostgreSQL: one INSERT ... RETURNING a batch, ids from the sequence. SQLite:
        RETURNING with ordered ids makes SQLite insert row by row (and SQLAlchemy splice
        every row's result onto the others': a chunk's cost grows with its square), so
        the ids are given here, after the highest there is, and the rows go in as one
        executemany. That is safe because every SQLite transaction begins IMMEDIATE
        (`data.engine`): this one holds the write lock, so nobody else adds a row
        between the read of the highest id and the insert."""
        if not rows:
            return []
        if self.session.get_bind().dialect.name == "sqlite":
            highest = self.session.scalar(select(func.max(model.id)))
            first = (highest or 0) + 1
            ids = list(range(first, first + len(rows)))
            self.session.execute(
                insert(model.__table__),
                [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)],
            )
            return ids
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(self.session.scalars(statement, list(rows)))

    def marker_codes(self) -> frozenset[str]:
        return frozenset(self.session.scalars(select(MarkerType.code)))

    def some_people(self, count: int) -> Sequence[tuple[str, str, date]]:
        """(forename, surname, date of birth) of `count` people with a date of birth, by
        id: for the synthetic extract's duplicates of people already here."""
        return [
            (row.forename, row.surname, row.date_of_birth)
            for row in self.session.execute(
                select(Person.forename, Person.surname, Person.date_of_birth)
                .where(Person.date_of_birth.is_not(None), Person.merged_into_id.is_(None))
                .order_by(Person.id)
                .limit(count)
            )
        ]
