"""Bulk writing for the synthetic force: many rows a statement, ids handed out here.

The generator (`services/synthetic/generator.py`) decides what the rows are; this writes
them, one executemany per batch, on the unit of work's session. No commit here: the
generator commits a stage at a time through its unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from controlroom.data.cold_models import IntelligenceReport, Person
from controlroom.data.models import Base, Incident, Location, Staff, Unit

# Rows per INSERT statement: large enough to amortise the round trip, small enough that
# PostgreSQL's executemany pages stay modest.
INSERT_BATCH = 10_000


class BulkWriter:
    """Inserts rows in batches; can hand out ids itself so children can point at them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._next_id: dict[str, int] = {}  # table name -> next id this writer gives out
        self._postgresql = session.get_bind().dialect.name == "postgresql"

    def rows(self, model: type[Base], rows: Sequence[dict[str, object]]) -> None:
        """Insert `rows` into `model`'s table."""
        table = model.__table__
        for start in range(0, len(rows), INSERT_BATCH):
            self.session.execute(insert(table), rows[start : start + INSERT_BATCH])

    def rows_with_ids(self, model: type[Base], rows: Sequence[dict[str, object]]) -> list[int]:
        """Insert `rows` with ids given here, in order, and return them (children point at
        them). Handing out the ids keeps each batch one executemany: RETURNING with
        ordered ids makes SQLite insert row by row."""
        table = model.__table__
        if table.name not in self._next_id:
            highest = self.session.scalar(select(func.max(table.c.id)))
            self._next_id[table.name] = (highest or 0) + 1
        first = self._next_id[table.name]
        ids = list(range(first, first + len(rows)))
        for row_id, row in zip(ids, rows, strict=True):
            row["id"] = row_id
        self._next_id[table.name] = first + len(rows)
        if ids and self._postgresql:
            # A PostgreSQL serial sequence does not see ids given explicitly: move it past
            # them in the same transaction, so an insert by the app (or after an
            # interrupted seed) never collides. SQLite's next rowid is max(rowid) + 1.
            self.session.execute(
                select(func.setval(func.pg_get_serial_sequence(table.name, "id"), ids[-1]))
            )
        self.rows(model, rows)
        return ids

    def existing_usernames(self, usernames: Iterable[str]) -> set[str]:
        return set(
            self.session.scalars(select(Staff.username).where(Staff.username.in_(list(usernames))))
        )

    def staff_ids(self, usernames: Iterable[str]) -> dict[str, int]:
        return {
            username: staff_id
            for username, staff_id in self.session.execute(
                select(Staff.username, Staff.id).where(Staff.username.in_(list(usernames)))
            )
        }

    def incidents_in_status(
        self, statuses: Sequence[str]
    ) -> list[tuple[int, str, datetime, float | None, float | None]]:
        """(id, status, opened_at, latitude, longitude) of the incidents in `statuses`
        (the synthetic force sends its units to the ones already dispatched)."""
        return [
            (row.id, row.status, row.opened_at, row.latitude, row.longitude)
            for row in self.session.execute(
                select(
                    Incident.id,
                    Incident.status,
                    Incident.opened_at,
                    Location.latitude,
                    Location.longitude,
                )
                .outerjoin(Location, Location.id == Incident.location_id)
                .where(Incident.status.in_(list(statuses)))
                .order_by(Incident.id)
            )
        ]

    def update_unit(
        self, unit_id: int, status_code: str, since: datetime, incident_id: int
    ) -> None:
        """A seeded unit sent to an incident (status, since when, which incident)."""
        self.session.execute(
            update(Unit)
            .where(Unit.id == unit_id)
            .values(status_code=status_code, status_since=since, incident_id=incident_id)
        )

    def holds_records(self) -> bool:
        """Whether the database holds any person, location, incident or report."""
        return any(
            self.session.scalar(select(func.count()).select_from(model))
            for model in (Person, Location, Incident, IntelligenceReport)
        )
