"""The monthly counts the statistics and the integrity measure read (`CrimeMonthCount`,
`IntegrityMonthCount`), kept in the same transaction as every write of a crime or an
incident.

Counting a year of crimes and of crime-related incidents on every read cost a scan of
some 360,000 index entries twice per statistics screen; the counts per local month are
a few hundred rows. They are kept at each flush, by the change each written row makes
to its month (its part before, counted out, and after, counted in), from the ORM's own
record of what changed (`active_history` on the columns read, so the value before is
known even where it was never loaded). Every service writes crimes and incidents through
the ORM; the few bulk writers call `CrimeRepository.rebuild_month_counts` (the
synthetic force, the tests' factories) or `count_inserted_incidents` (`db copy`). LEGACY
incidents count nowhere, so an import leaves the counts as they are.

The change to a month is added to its row in one statement (INSERT … ON CONFLICT DO
UPDATE SET n = n + change), which holds that row until the transaction ends: two
stations writing in one month queue on it (as they already do on the audit chain's
head, which every service locks after its flush), and neither's change is lost. Months
are visited in order, so two transactions never wait on each other's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, attributes

from controlroom.data.models import Incident, IncidentType, cold_models_loaded
from controlroom.domain import crime as rules
from controlroom.domain.local_time import LOCAL_ZONE, local_day

CANCELLED = rules.CrimeState.CANCELLED.value
SIGNED_OFF = "approved"  # `domain.incidents.SIGNOFF_APPROVED` (data may not import services)

_CRIME_COLUMNS = ("recorded_at", "offence_code", "outcome_code", "state")
_INCIDENT_COLUMNS = (
    "opened_at",
    "possible_crime",
    "opening_type_code",
    "closing_type_code",
    "crime_recording_delay",
    "signoff_state",
    "legacy_batch_id",
)


def local_month(instant: datetime) -> date:
    """The first of the control room's month at `instant`."""
    return local_day(instant).replace(day=1)


def month_start(first: date) -> datetime:
    """The UTC instant the local month beginning `first` starts at."""
    return datetime.combine(first, time(0), tzinfo=LOCAL_ZONE).astimezone(UTC)


def crime_key(values: dict) -> tuple[date, str, int] | None:
    """Where a crime (its `_CRIME_COLUMNS`) counts: (month, offence, outcome); None for a
    cancelled one, which counts nowhere."""
    if values["state"] == CANCELLED or values["recorded_at"] is None:
        return None
    return (local_month(values["recorded_at"]), values["offence_code"], values["outcome_code"])


def incident_part(values: dict, crime_types: frozenset[str]) -> tuple[date, rules.IntegrityCount]:
    """An incident's (its `_INCIDENT_COLUMNS`) month and part in that month's counts."""
    return local_month(values["opened_at"]), rules.integrity_count_of(
        says_crime=bool(values["possible_crime"])
        or values["opening_type_code"] in crime_types
        or values["closing_type_code"] in crime_types,
        delay=values["crime_recording_delay"],
        signed_off=values["signoff_state"] == SIGNED_OFF,
        legacy=values["legacy_batch_id"] is not None,
    )


class MonthChanges:
    """The changes a flush (or a bulk write) makes to the monthly counts."""

    def __init__(self) -> None:
        self.crimes: dict[tuple[date, str, int], int] = {}
        self.integrity: dict[date, list[int]] = {}

    def crime(self, values: dict, sign: int) -> None:
        key = crime_key(values)
        if key is not None:
            self.crimes[key] = self.crimes.get(key, 0) + sign

    def incident(self, values: dict, crime_types: frozenset[str], sign: int) -> None:
        month, part = incident_part(values, crime_types)
        if part.total:
            counts = self.integrity.setdefault(month, [0, 0, 0])
            counts[0] += sign * part.total
            counts[1] += sign * part.within_24h
            counts[2] += sign * part.within_7d

    def apply(self, connection) -> None:
        """Add the changes to their rows (made where missing), months in order."""
        crimes = [
            {"month": m, "offence_code": code, "outcome_code": outcome, "crimes": n}
            for (m, code, outcome), n in sorted(self.crimes.items())
            if n
        ]
        months = [
            {"month": m, "incidents": n, "within_24h": a, "within_7d": b}
            for m, (n, a, b) in sorted(self.integrity.items())
            if n or a or b
        ]
        if not (crimes or months):
            return
        add_crimes, add_months = _adders(connection.dialect.name)
        if crimes:
            connection.execute(add_crimes, crimes)
        if months:
            connection.execute(add_months, months)


_ADDERS: dict[str, tuple] = {}


def dialect_insert(dialect: str) -> Callable[..., Any]:
    """The `insert` of `dialect` that can say ON CONFLICT DO UPDATE. Imported when first
    asked for: SQLAlchemy's PostgreSQL dialect costs an SQLite station 2.3 MiB of memory
    if loaded at start (issue 15), and the SQLite one is not needed on PostgreSQL."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _adders(dialect: str) -> tuple:
    """The two upserts for `dialect`, built once (each `INSERT … ON CONFLICT DO UPDATE`
    adding the change to the row already there)."""
    from controlroom.data.cold_models import CrimeMonthCount, IntegrityMonthCount

    if dialect not in _ADDERS:
        insert = dialect_insert(dialect)
        crimes = insert(CrimeMonthCount)
        crimes = crimes.on_conflict_do_update(
            index_elements=["month", "offence_code", "outcome_code"],
            set_={"crimes": CrimeMonthCount.crimes + crimes.excluded.crimes},
        )
        months = insert(IntegrityMonthCount)
        months = months.on_conflict_do_update(
            index_elements=["month"],
            set_={
                name: getattr(IntegrityMonthCount, name) + getattr(months.excluded, name)
                for name in ("incidents", "within_24h", "within_7d")
            },
        )
        _ADDERS[dialect] = (crimes, months)
    return _ADDERS[dialect]


def possible_crime_types(connection) -> frozenset[str]:
    return frozenset(
        connection.execute(
            select(IncidentType.code).where(IncidentType.possible_crime.is_(True))
        ).scalars()
    )


def count_inserted_incidents(connection, rows: Iterable[dict]) -> None:
    """Count incidents inserted past the ORM (each row's `Incident` columns, as
    inserted) into the monthly integrity counts."""
    changes = MonthChanges()
    crime_types = possible_crime_types(connection)
    for row in rows:
        values = {name: row.get(name) for name in _INCIDENT_COLUMNS}
        changes.incident(values, crime_types, 1)
    changes.apply(connection)


def values_before(target, names: Iterable[str]) -> dict | None:
    """The values of `names` before this flush's changes; None when none of them changed."""
    changed = False
    values = {}
    for name in names:
        history = attributes.get_history(target, name)
        if history.deleted:
            changed = True
            values[name] = history.deleted[0]
        elif history.added:
            changed = True
            values[name] = None  # it had no value before
        else:
            values[name] = getattr(target, name)
    return values if changed else None


def values_now(target, names: Iterable[str]) -> dict:
    return {name: getattr(target, name) for name in names}


@event.listens_for(Session, "after_flush")
def _keep_month_counts(session: Session, flush_context) -> None:
    """Count what this flush wrote into the monthly counts (the session still holds each
    row's history here; its rows are written, in the same transaction)."""
    # Until the cold models are mapped no session holds a crime (`models.cold_models_loaded`).
    crimes: tuple[type, ...] = ()
    if cold_models_loaded():
        from controlroom.data.cold_models import Crime

        crimes = (Crime,)
    changes = MonthChanges()
    incidents: list[tuple[dict | None, dict | None]] = []
    for target in session.new:
        if isinstance(target, crimes):
            changes.crime(values_now(target, _CRIME_COLUMNS), 1)
        elif isinstance(target, Incident):
            incidents.append((None, values_now(target, _INCIDENT_COLUMNS)))
    for target in session.dirty:
        if isinstance(target, crimes):
            before = values_before(target, _CRIME_COLUMNS)
            if before is not None:
                changes.crime(before, -1)
                changes.crime(values_now(target, _CRIME_COLUMNS), 1)
        elif isinstance(target, Incident):
            before = values_before(target, _INCIDENT_COLUMNS)
            if before is not None:
                incidents.append((before, values_now(target, _INCIDENT_COLUMNS)))
    for target in session.deleted:
        if isinstance(target, crimes):
            changes.crime(
                values_before(target, _CRIME_COLUMNS) or values_now(target, _CRIME_COLUMNS), -1
            )
        elif isinstance(target, Incident):
            before = values_before(target, _INCIDENT_COLUMNS) or values_now(
                target, _INCIDENT_COLUMNS
            )
            incidents.append((before, None))
    if not (incidents or changes.crimes):
        return  # nothing this flush wrote is counted (most flushes)
    connection = session.connection()
    if incidents:
        crime_types = possible_crime_types(connection)
        for before, after in incidents:
            if before is not None:
                changes.incident(before, crime_types, -1)
            if after is not None:
                changes.incident(after, crime_types, 1)
    changes.apply(connection)
