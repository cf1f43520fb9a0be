"""Repositories: the queries the services need, one class per aggregate.

They hand ORM objects to the service layer, which copies what it returns into frozen
dataclasses before the unit of work closes. No repository commits.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Executable, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from controlroom.data import audit_log
from controlroom.data.like import LIKE_ESCAPE, like_pattern
from controlroom.data.models import (
    AuditEvent,
    DatabaseInfo,
    Incident,
    IncidentType,
    Location,
    LocationHazard,
    Staff,
    StaffSession,
    street_key,
)
from controlroom.domain.incidents import (
    SIGNOFF_AWAITING,
    incident_reference,
    reference_number,
)

# The cold models (`data/cold_models.py`) are imported by the methods that use them:
# mapped when first asked for, not with the home board (issue 15, start-up memory). So
# are the street centres, the monthly crime counts and the crime rules, which only the
# statistics and the copies between environments use.
if TYPE_CHECKING:
    from controlroom.data.cold_models import (
        IncidentLogEntry,
        IncidentPerson,
        MarkerType,
        OfflineReplay,
        Person,
        WarningMarker,
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _prefix(column, prefix: str, dialect: str):
    """`column` starts with `prefix` (case as stored), in a form the backend can index.

    On SQLite (binary collation) a range comparison walks the index where LIKE cannot;
    LIKE alone on PostgreSQL, whose collation may not order a prefix contiguously.
    """
    like = column.startswith(prefix, autoescape=True)
    if dialect != "sqlite" or not prefix:
        return like
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper, like)


def _current(valid_from, valid_to, today: date):
    """A dated row in force on `today`: started (or undated) and not yet ended."""
    return and_(
        or_(valid_from.is_(None), valid_from <= today), or_(valid_to.is_(None), valid_to >= today)
    )


class DatabaseInfoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self) -> DatabaseInfo | None:
        return self.session.get(DatabaseInfo, 1)

    def add(self, info: DatabaseInfo) -> None:
        self.session.add(info)

    def writable(self) -> bool:
        """One short read that proves the database answers; whether it can be written.

        PostgreSQL: False on a hot standby (in recovery). SQLite: False when the file or
        its directory (where the WAL lives) cannot be written by this process, or the
        connection was opened read-only."""
        bind = self.session.get_bind()
        # A table of ours, not a constant: a database that lost its schema is as unusable
        # as one that does not answer.
        self.session.scalar(select(DatabaseInfo.id).limit(1))
        if bind.dialect.name == "postgresql":
            return not self.session.scalar(select(func.pg_is_in_recovery()))
        path = bind.engine.url.database
        if not path or path == ":memory:":
            return True
        # The kernel's answer for this process: also False for an immutable file or a
        # read-only mount, which permissions alone would not show.
        folder = os.path.dirname(os.path.abspath(path))
        return os.access(path, os.W_OK) and os.access(folder, os.W_OK)

    def room_to_write(self) -> bool:
        """Whether there is room to write, after a write met SQLite's "database or disk is
        full" (else True at once, nothing tried). Tried for real, as a save would: a
        scratch table and a blob of `ROOM_PROBE_BYTES` in a savepoint rolled back (what
        the file's `max_page_count` allows), and as much free on the file's filesystem
        (what a full disk has not: a rolled-back write never reaches it)."""
        from sqlalchemy import Column, LargeBinary, MetaData, Table
        from sqlalchemy.exc import OperationalError

        from controlroom.data.engine import is_disk_full, mark_room, marked_full

        engine = self.session.get_bind().engine
        if not marked_full(engine):
            return True
        scratch = Table("room_probe", MetaData(), Column("b", LargeBinary))
        savepoint = self.session.begin_nested()
        try:
            scratch.create(self.session.connection())
            self.session.execute(insert(scratch).values(b=func.zeroblob(ROOM_PROBE_BYTES)))
        except OperationalError as exc:
            if not is_disk_full(exc):
                raise
            savepoint.rollback()
            mark_room(engine, True)
            return False
        savepoint.rollback()
        path = engine.url.database
        if path and path != ":memory:":
            folder = os.statvfs(os.path.dirname(os.path.abspath(path)))
            if folder.f_bavail * folder.f_frsize < ROOM_PROBE_BYTES:
                return False
        mark_room(engine, False)
        return True

    def replayed_until(self) -> datetime | None:
        """On a PostgreSQL hot standby: when the last change it replayed was committed on
        the primary (how fresh its data is); None when not known, or not a standby."""
        if self.session.get_bind().dialect.name != "postgresql":
            return None
        return self.session.scalar(select(func.pg_last_xact_replay_timestamp()))


# How much a check for room writes (and rolls back) after a disk was found full: more
# than a save with a long narrative writes.
ROOM_PROBE_BYTES = 64 * 1024


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, staff_id: int | None) -> Staff | None:
        return None if staff_id is None else self.session.get(Staff, staff_id)

    def by_username(self, username: str) -> Staff | None:
        return self.session.scalars(select(Staff).where(Staff.username == username)).one_or_none()

    def add(self, staff: Staff) -> None:
        self.session.add(staff)

    def list(self) -> Sequence[Staff]:
        return self.session.scalars(select(Staff).order_by(Staff.username)).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Staff)) or 0


class SessionRepository:
    """Runs of the app (`StaffSession`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: StaffSession) -> None:
        self.session.add(row)
        self.session.flush()

    def get(self, session_id: int) -> StaffSession | None:
        return self.session.get(StaffSession, session_id)

    def open_on_host(self, staff_id: int, host: str) -> Sequence[StaffSession]:
        """The operator's sessions on `host` that have no end on the record, oldest first."""
        return self.session.scalars(
            select(StaffSession)
            .where(
                StaffSession.staff_id == staff_id,
                StaffSession.host == host,
                StaffSession.ended_at.is_(None),
            )
            .order_by(StaffSession.id)
        ).all()


class ReferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def incident_types(self) -> Sequence[IncidentType]:
        return self.session.scalars(select(IncidentType).order_by(IncidentType.code)).all()

    def marker_types(self) -> Sequence[MarkerType]:
        from controlroom.data.cold_models import MarkerType

        return self.session.scalars(select(MarkerType).order_by(MarkerType.severity)).all()

    def incident_type(self, code: str) -> IncidentType | None:
        return self.session.get(IncidentType, code)

    def active_incident_types_by_label(self) -> Sequence[IncidentType]:
        return self.session.scalars(
            select(IncidentType).where(IncidentType.active.is_(True)).order_by(IncidentType.label)
        ).all()


class IncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count_opened_without_crime(
        self, start: datetime, end: datetime, left_aside: Sequence[str]
    ) -> int:
        """How many incidents opened in [start, end), whose effective type (closing, else
        opening) is none of `left_aside`, have no crime recorded in [start, end) that is
        not cancelled: counted by the database (the month's incidents from
        `ix_incident_crime_recording`, each asked of `ix_crime_incident_recorded`),
        where reading them all out cost more than the rest of the month's returns'
        queries together."""
        from controlroom.data.cold_models import Crime

        effective = func.coalesce(Incident.closing_type_code, Incident.opening_type_code)
        recorded = (
            select(Crime.id)
            .where(
                Crime.incident_id == Incident.id,
                Crime.recorded_at >= start,
                Crime.recorded_at < end,
                Crime.state != "cancelled",
            )
            .exists()
        )
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.opened_at >= start,
                    Incident.opened_at < end,
                    effective.not_in(list(left_aside)),
                    ~recorded,
                )
            )
            or 0
        )

    def opened_between_with_streets(
        self, start: datetime, end: datetime, type_codes: Sequence[str]
    ) -> list[tuple[int, str | None, tuple[float, float] | None]]:
        """(id, street, the street's centre: `data.street_centroids`) of the incidents
        opened in [start, end) whose effective type (closing, else opening) is one of
        `type_codes`, in the order they were opened: only these are joined to their
        places."""
        from controlroom.data.cold_models import StreetCentroid
        from controlroom.data.street_centroids import centre_columns, placed, street_on

        effective = func.coalesce(Incident.closing_type_code, Incident.opening_type_code)
        return list(
            placed(
                self.session.execute(
                    select(Incident.id, Location.street, *centre_columns())
                    .outerjoin(Location, Location.id == Incident.location_id)
                    .outerjoin(StreetCentroid, street_on(Location))
                    .where(
                        Incident.opened_at >= start,
                        Incident.opened_at < end,
                        effective.in_(list(type_codes)),
                    )
                    .order_by(Incident.opened_at, Incident.id)
                ),
                1,
            )
        )

    def count_by(self, column_name: str, statuses: Sequence[str]) -> dict[str, int]:
        """Open incidents counted by `grade` or `status`."""
        column = {"grade": Incident.grade, "status": Incident.status}[column_name]
        rows = self.session.execute(
            select(column, func.count()).where(Incident.status.in_(list(statuses))).group_by(column)
        ).all()
        return {str(key): int(count) for key, count in rows}

    def count_awaiting_signoff(self) -> int:
        """No-crime closures waiting for a supervisor's sign-off (NCRS), by its index."""
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(Incident.signoff_state == SIGNOFF_AWAITING)
            )
            or 0
        )

    def count_open_by_heading(self, statuses: Sequence[str]) -> dict[str, int]:
        rows = self.session.execute(
            select(IncidentType.heading, func.count())
            .join(Incident, Incident.opening_type_code == IncidentType.code)
            .where(Incident.status.in_(list(statuses)))
            .group_by(IncidentType.heading)
        ).all()
        return {str(key): int(count) for key, count in rows}

    def oldest_open_at(self, statuses: Sequence[str]):
        """When the oldest open incident was opened (None when none is open).

        Asked per status, then the earliest taken: a plain min() let PostgreSQL walk the
        opened_at index from the oldest incident ever until it met an open one (86 ms
        through 500,000 closed ones); grouped, it reads the few open ones by status."""
        earliest = self.session.scalars(
            select(func.min(Incident.opened_at))
            .where(Incident.status.in_(list(statuses)))
            .group_by(Incident.status)
        ).all()
        return min(earliest, default=None)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Incident)) or 0

    # --- one incident ----------------------------------------------------------------

    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None:
        """The incident, read afresh; `for_update` locks its row (PostgreSQL) so a
        concurrent change waits and then sees this one's new version."""
        return self.session.get(
            Incident, incident_id, with_for_update=for_update or None, populate_existing=True
        )

    def by_reference(self, reference: str) -> Incident | None:
        return self.session.scalars(
            select(Incident).where(Incident.reference == reference)
        ).one_or_none()

    def by_idempotency_key(self, key: str) -> Incident | None:
        return self.session.scalars(
            select(Incident).where(Incident.idempotency_key == key)
        ).one_or_none()

    def add(self, incident: Incident) -> None:
        self.session.add(incident)

    def add_log_entry(self, entry: IncidentLogEntry) -> None:
        self.session.add(entry)

    def add_person_link(self, link: IncidentPerson) -> None:
        self.session.add(link)

    def log_entry_by_key(self, key: str) -> IncidentLogEntry | None:
        from controlroom.data.cold_models import IncidentLogEntry

        return self.session.scalars(
            select(IncidentLogEntry).where(IncidentLogEntry.idempotency_key == key)
        ).one_or_none()

    def log_with_authors(self, incident_id: int) -> Sequence[tuple[IncidentLogEntry, str]]:
        """The log in the order it was written, each entry with its author's display name."""
        from controlroom.data.cold_models import IncidentLogEntry

        rows = self.session.execute(
            select(IncidentLogEntry, Staff.display_name)
            .join(Staff, Staff.id == IncidentLogEntry.entered_by_id)
            .where(IncidentLogEntry.incident_id == incident_id)
            .order_by(IncidentLogEntry.id)
        ).all()
        return [(entry, name) for entry, name in rows]

    def person_links(self, incident_id: int) -> Sequence[tuple[IncidentPerson, Person]]:
        from controlroom.data.cold_models import IncidentPerson, Person

        rows = self.session.execute(
            select(IncidentPerson, Person)
            .join(Person, Person.id == IncidentPerson.person_id)
            .where(IncidentPerson.incident_id == incident_id)
            .order_by(IncidentPerson.id)
        ).all()
        return [(link, person) for link, person in rows]

    def is_linked(self, incident_id: int, person_id: int, role: str) -> bool:
        from controlroom.data.cold_models import IncidentPerson

        return bool(
            self.session.scalar(
                select(func.count())
                .select_from(IncidentPerson)
                .where(
                    IncidentPerson.incident_id == incident_id,
                    IncidentPerson.person_id == person_id,
                    IncidentPerson.role == role,
                )
            )
        )

    # --- references --------------------------------------------------------------------

    def next_reference(self, day: date) -> str:
        """Allocate the next reference of `day` in the caller's transaction.

        The day's row is created if missing (ON CONFLICT DO NOTHING, so two stations
        creating it at once both carry on) and incremented with UPDATE ... RETURNING,
        which takes the row's lock until commit: a second station's increment waits and
        then reads the first one's number. On SQLite the transaction already holds the
        write lock (BEGIN IMMEDIATE). A reference somebody else already used (an import,
        the synthetic generator) is skipped, never duplicated.
        """
        from controlroom.data.cold_models import IncidentSequence

        table = IncidentSequence.__table__
        increment = (
            update(table)
            .where(table.c.day == day)
            .values(last_number=table.c.last_number + 1)
            .returning(table.c.last_number)
        )
        while True:
            # The increment first: the day's row exists for every save but its first, so
            # asking whether it exists beforehand was a statement spent on every save.
            number = self.session.execute(increment).scalar()
            if number is None:
                # Imported here: SQLAlchemy's PostgreSQL dialect costs an SQLite station
                # 2.4 MiB of memory if loaded at start (issue 15).
                first: Executable
                if _dialect(self.session) == "postgresql":
                    from sqlalchemy.dialects.postgresql import insert as pg_insert

                    first = pg_insert(table).on_conflict_do_nothing(index_elements=[table.c.day])
                else:
                    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                    first = sqlite_insert(table).on_conflict_do_nothing(
                        index_elements=[table.c.day]
                    )
                self.session.execute(
                    first, {"day": day, "last_number": self._highest_number_used(day)}
                )
                continue
            reference = incident_reference(day, number)
            taken = self.session.scalar(
                select(func.count()).select_from(Incident).where(Incident.reference == reference)
            )
            if not taken:
                return reference

    def _highest_number_used(self, day: date) -> int:
        prefix = incident_reference(day, 1).rsplit("-", 1)[0] + "-"
        # Longest first: "-10000" sorts before "-9999" as text but is the higher number.
        reference = self.session.scalar(
            select(Incident.reference)
            .where(_prefix(Incident.reference, prefix, _dialect(self.session)))
            .order_by(func.length(Incident.reference).desc(), Incident.reference.desc())
            .limit(1)
        )
        return (reference_number(reference) or 0) if reference else 0

    # --- lists ---------------------------------------------------------------------------

    def opened_between(
        self, start: datetime, end: datetime, statuses: Sequence[str]
    ) -> Sequence[tuple[Incident, IncidentType, float | None, float | None]]:
        """Incidents in `statuses` opened in [start, end], with their type and the
        coordinates of their location (None when unverified), newest first."""
        rows = self.session.execute(
            select(Incident, IncidentType, Location.latitude, Location.longitude)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .outerjoin(Location, Location.id == Incident.location_id)
            .where(
                Incident.opened_at >= start,
                Incident.opened_at <= end,
                Incident.status.in_(list(statuses)),
            )
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
        ).all()
        return [(incident, kind, lat, lon) for incident, kind, lat, lon in rows]

    def listing(
        self,
        *,
        statuses: Sequence[str],
        grades: Sequence[str] = (),
        limit: int,
    ) -> Sequence[tuple[Incident, str]]:
        """Incidents in `statuses` (and `grades`, when given), oldest first: the longest
        waiting at the top."""
        query = (
            select(Incident, IncidentType.label)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(Incident.status.in_(list(statuses)))
        )
        if grades:
            query = query.where(Incident.grade.in_(list(grades)))
        rows = self.session.execute(
            query.order_by(Incident.opened_at, Incident.id).limit(limit)
        ).all()
        return [(incident, label) for incident, label in rows]

    def references_ending(self, text: str, limit: int) -> Sequence[tuple[Incident, str]]:
        """Incidents whose reference ends with `text` (any case), newest first."""
        rows = self.session.execute(
            select(Incident, IncidentType.label)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(
                Incident.reference.like(
                    like_pattern(text.upper(), before="%", after=""), escape=LIKE_ESCAPE
                )
            )
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
            .limit(limit)
        ).all()
        return [(incident, label) for incident, label in rows]

    def recent(self, limit: int) -> Sequence[tuple[Incident, str]]:
        rows = self.session.execute(
            select(Incident, IncidentType.label)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
            .limit(limit)
        ).all()
        return [(incident, label) for incident, label in rows]

    def at_location(
        self, location_id: int, since: datetime, until: datetime, limit: int
    ) -> Sequence[tuple[Incident, str]]:
        """The newest incidents at a location opened in [since, until], newest first."""
        rows = self.session.execute(
            select(Incident, IncidentType.label)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(
                Incident.location_id == location_id,
                Incident.opened_at >= since,
                Incident.opened_at <= until,
            )
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
            .limit(limit)
        ).all()
        return [(incident, label) for incident, label in rows]

    def count_at_location(self, location_id: int, since: datetime, until: datetime) -> int:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.location_id == location_id,
                    Incident.opened_at >= since,
                    Incident.opened_at <= until,
                )
            )
            or 0
        )


class LocationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, location_id: int) -> Location | None:
        return self.session.get(Location, location_id)

    def rebuild_street_centroids(self) -> None:
        """Sum every street's located addresses again (after a bulk write the ORM did
        not see): `data.street_centroids`."""
        from controlroom.data.street_centroids import rebuild

        rebuild(self.session.connection())

    def by_postcode_prefix(
        self, prefix: str, words: Sequence[str], limit: int
    ) -> Sequence[Location]:
        """Locations whose normalised postcode starts with `prefix` ("LS6 ", "LS6 2AB")
        and whose address holds every one of `words`."""
        return self.session.scalars(
            select(Location)
            .where(
                _prefix(Location.postcode, prefix, _dialect(self.session)),
                *self._word_filters(words),
            )
            .order_by(Location.postcode, Location.address, Location.id)
            .limit(limit)
        ).all()

    def ids_by_postcode_prefix(self, prefix: str, limit: int) -> list[int]:
        """The ids of the locations whose normalised postcode starts with `prefix`, in
        `by_postcode_prefix`'s order: a whole area's worth is a list of numbers, where
        its records would be thousands of objects held at once (issue 15, memory)."""
        return list(
            self.session.scalars(
                select(Location.id)
                .where(_prefix(Location.postcode, prefix, _dialect(self.session)))
                .order_by(Location.postcode, Location.address, Location.id)
                .limit(limit)
            )
        )

    def places(self, location_ids: Sequence[int]):
        """What the station's gazetteer keeps of each of `location_ids` (a few hundred at
        a time): plain rows of id, address, street, town, postcode, latitude and
        longitude, in no particular order."""
        return self.session.execute(
            select(
                Location.id,
                Location.address,
                Location.street,
                Location.town,
                Location.postcode,
                Location.latitude,
                Location.longitude,
            ).where(Location.id.in_(location_ids))
        ).all()

    def by_street(
        self, street_prefix: str, numbers: Sequence[str], others: Sequence[str], limit: int
    ) -> Sequence[Location]:
        """Locations on a street starting with `street_prefix` ("mill la"), whose address
        has a word starting with each of `numbers` ("12", "3a") and whose address, street
        or town holds each of `others` ("leeds").

        The street prefix walks `ix_location_street_key`; the rest only filters what it
        found, so the cost follows the street, not the size of the force.
        """
        key = street_key(street_prefix)
        if not key:
            return []
        number_filters = [
            or_(
                Location.address.istartswith(number, autoescape=True),
                Location.address.icontains(" " + number, autoescape=True),
            )
            for number in numbers
        ]
        return self.session.scalars(
            select(Location)
            .where(
                _prefix(Location.street_key, key, _dialect(self.session)),
                *number_filters,
                *self._word_filters(others),
            )
            .order_by(Location.street_key, Location.address, Location.id)
            .limit(limit)
        ).all()

    @staticmethod
    def _word_filters(words: Iterable[str]):
        return [
            or_(
                Location.address.icontains(word, autoescape=True),
                Location.street.icontains(word, autoescape=True),
                Location.town.icontains(word, autoescape=True),
            )
            for word in words
        ]

    def station_postcodes(
        self, station: str | None, staff_id: int, since: datetime, limit: int
    ) -> Sequence[str | None]:
        """The postcodes of known places where incidents opened since `since` by the
        staff of `station` (None: by `staff_id` alone) happened: the station's area."""
        who = Staff.station == station if station else Staff.id == staff_id
        return self.session.scalars(
            select(Location.postcode)
            .join(Incident, Incident.location_id == Location.id)
            .join(Staff, Staff.id == Incident.opened_by_id)
            .where(who, Incident.opened_at >= since, Location.postcode.is_not(None))
            .distinct()
            .limit(limit)
        ).all()

    def hazards_of(self, location_ids: Sequence[int]) -> Sequence[LocationHazard]:
        """The hazards of all of `location_ids` (a few hundred at a time)."""
        return self.session.scalars(
            select(LocationHazard)
            .where(LocationHazard.location_id.in_(location_ids))
            .order_by(LocationHazard.location_id, LocationHazard.id)
        ).all()

    def hazards(self, location_id: int) -> Sequence[LocationHazard]:
        return self.session.scalars(
            select(LocationHazard)
            .where(LocationHazard.location_id == location_id)
            .order_by(LocationHazard.set_at.desc(), LocationHazard.id.desc())
        ).all()

    def residents(self, location_id: int, today: date) -> Sequence[Person]:
        """People whose address on `today` is this location."""
        from controlroom.data.cold_models import Person, PersonAddress

        return self.session.scalars(
            select(Person)
            .join(PersonAddress, PersonAddress.person_id == Person.id)
            .where(
                PersonAddress.location_id == location_id,
                _current(PersonAddress.valid_from, PersonAddress.valid_to, today),
            )
            .distinct()
            .order_by(Person.surname, Person.forename, Person.id)
        ).all()


class PersonRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def any_victim_of(self, person_ids: Sequence[int], type_codes: Iterable[str]) -> bool:
        """Whether any of the persons is the victim on an incident opened or closed as one
        of `type_codes`."""
        from controlroom.data.cold_models import IncidentPerson

        codes = sorted(type_codes)
        return (
            bool(person_ids)
            and self.session.scalar(
                select(IncidentPerson.id)
                .join(Incident, Incident.id == IncidentPerson.incident_id)
                .where(
                    IncidentPerson.person_id.in_(list(person_ids)),
                    IncidentPerson.role == "victim",
                    or_(
                        Incident.opening_type_code.in_(codes), Incident.closing_type_code.in_(codes)
                    ),
                )
                .limit(1)
            )
            is not None
        )

    def count(self) -> int:
        from controlroom.data.cold_models import Person

        return self.session.scalar(select(func.count()).select_from(Person)) or 0

    def get(self, person_id: int) -> Person | None:
        from controlroom.data.cold_models import Person

        return self.session.get(Person, person_id)

    def add(self, person: Person) -> None:
        self.session.add(person)

    def existing_ids(self, person_ids: Iterable[int]) -> set[int]:
        from controlroom.data.cold_models import Person

        ids = list(set(person_ids))
        if not ids:
            return set()
        return set(self.session.scalars(select(Person.id).where(Person.id.in_(ids))))

    def by_name_prefixes(
        self,
        name_pairs: Sequence[tuple[str, str | None]],
        dates_of_birth: Sequence[date],
        limit: int,
    ) -> Sequence[Person]:
        """People matching any (surname prefix, forename prefix or None) pair, any case,
        born on one of `dates_of_birth` when any are given."""
        from controlroom.data.cold_models import Person

        if not name_pairs and not dates_of_birth:
            return []
        conditions = []
        for surname, forename in name_pairs:
            condition = func.lower(Person.surname).startswith(surname.lower(), autoescape=True)
            if forename:
                condition = and_(
                    condition,
                    func.lower(Person.forename).startswith(forename.lower(), autoescape=True),
                )
            conditions.append(condition)
        statement = select(Person)
        if conditions:
            statement = statement.where(or_(*conditions))
        if dates_of_birth:
            statement = statement.where(Person.date_of_birth.in_(list(dates_of_birth)))
        return self.session.scalars(
            statement.order_by(
                Person.surname, Person.forename, Person.date_of_birth, Person.id
            ).limit(limit)
        ).all()

    def by_surname(self, surname: str) -> Sequence[Person]:
        """Everyone with this surname, any case (the possible-duplicate check)."""
        from controlroom.data.cold_models import Person

        return self.session.scalars(
            select(Person)
            .where(func.lower(Person.surname) == surname.lower())
            .order_by(Person.forename, Person.id)
        ).all()

    def current_markers(
        self, person_ids: Iterable[int], today: date
    ) -> Sequence[tuple[WarningMarker, MarkerType]]:
        """Warning markers in force on `today` for these people, most severe first."""
        from controlroom.data.cold_models import MarkerType, WarningMarker

        ids = list(set(person_ids))
        if not ids:
            return []
        rows = self.session.execute(
            select(WarningMarker, MarkerType)
            .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
            .where(
                WarningMarker.person_id.in_(ids),
                _current(WarningMarker.valid_from, WarningMarker.valid_to, today),
            )
            .order_by(
                WarningMarker.person_id, MarkerType.severity, MarkerType.code, WarningMarker.id
            )
        ).all()
        return [(marker, kind) for marker, kind in rows]

    def current_homes(self, person_ids: Iterable[int], today: date) -> dict[int, Location]:
        """Each person's address on `today` (home before other kinds, newest first)."""
        from controlroom.data.cold_models import PersonAddress

        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(PersonAddress.person_id, Location)
            .join(Location, Location.id == PersonAddress.location_id)
            .where(
                PersonAddress.person_id.in_(ids),
                _current(PersonAddress.valid_from, PersonAddress.valid_to, today),
            )
            .order_by(
                PersonAddress.person_id,
                (PersonAddress.kind != "home"),
                PersonAddress.valid_from.desc(),
                PersonAddress.id.desc(),
            )
        ).all()
        homes: dict[int, Location] = {}
        for person_id, location in rows:
            homes.setdefault(person_id, location)
        return homes


class IntelligenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        from controlroom.data.cold_models import IntelligenceReport

        return self.session.scalar(select(func.count()).select_from(IntelligenceReport)) or 0


class OfflineReplayRepository:
    """What became of the entries stations kept offline (`OfflineReplay`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def by_provisional(self, provisional_reference: str) -> OfflineReplay | None:
        from controlroom.data.cold_models import OfflineReplay

        return self.session.scalars(
            select(OfflineReplay).where(
                OfflineReplay.provisional_reference == provisional_reference
            )
        ).one_or_none()

    def get(self, replay_id: int, *, for_update: bool = False) -> OfflineReplay | None:
        from controlroom.data.cold_models import OfflineReplay

        return self.session.get(OfflineReplay, replay_id, with_for_update=for_update or None)

    def add(self, row: OfflineReplay) -> None:
        self.session.add(row)

    def unresolved(self, limit: int = 500) -> Sequence[OfflineReplay]:
        """Entries that went in with a doubt or not at all, not yet resolved, oldest first."""
        from controlroom.data.cold_models import OfflineReplay

        return self.session.scalars(
            select(OfflineReplay)
            .where(OfflineReplay.state != "replayed", OfflineReplay.resolved_at.is_(None))
            .order_by(OfflineReplay.kept_at, OfflineReplay.id)
            .limit(limit)
        ).all()


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> None:
        self.session.add(event)

    def for_object(self, object_type: str, object_id: str) -> Sequence[AuditEvent]:
        return self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        ).all()

    def latest(self, limit: int = 50) -> Sequence[AuditEvent]:
        return self.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        ).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(AuditEvent)) or 0

    def lock_chain(self) -> None:
        audit_log.lock_head(self.session)

    def append(self, **event: object) -> None:
        """Chain one event onto the trail (`audit_log.append`: hash, sequence, head)."""
        audit_log.append(self.session, **event)  # type: ignore[arg-type]  # checked there

    def chain_rows(self) -> Iterator[tuple[object, ...]]:
        return audit_log.chain_rows(self.session)

    def chain_head(self) -> audit_log.ChainHead | None:
        return audit_log.chain_head(self.session)

    def hash_at(self, seq: int) -> str | None:
        """The stored hash of the event at chain position `seq`, None if there is none."""
        return self.session.scalar(select(AuditEvent.event_hash).where(AuditEvent.chain_seq == seq))

    def on_object(self, object_type: str, object_id: str, limit: int) -> Sequence[AuditEvent]:
        """Events on one object, newest first."""
        return self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.chain_seq.desc())
            .limit(limit)
        ).all()

    def since(self, start: datetime, person_id: int | None = None) -> Sequence[AuditEvent]:
        """Events from `start` on (only those on one person, if given), oldest first."""
        query = select(AuditEvent).where(AuditEvent.occurred_at >= start)
        if person_id is not None:
            query = query.where(
                AuditEvent.object_type == "person", AuditEvent.object_id == str(person_id)
            )
        return self.session.scalars(query.order_by(AuditEvent.chain_seq)).all()

    def protected_ids(self, sexual_offence_codes: Iterable[str]) -> dict[str, set[str]]:
        """The ids (as audit events store them) of protected persons (restricted, or the
        victim of an incident opened or closed as a sexual offence) and reports."""
        from controlroom.data.cold_models import IncidentPerson, IntelligenceReport, Person

        codes = sorted(sexual_offence_codes)
        persons = set(self.session.scalars(select(Person.id).where(Person.restricted.is_(True))))
        persons |= set(
            self.session.scalars(
                select(IncidentPerson.person_id)
                .join(Incident, Incident.id == IncidentPerson.incident_id)
                .where(
                    IncidentPerson.role == "victim",
                    or_(
                        Incident.opening_type_code.in_(codes),
                        and_(
                            Incident.closing_type_code.is_not(None),
                            Incident.closing_type_code.in_(codes),
                        ),
                    ),
                )
            )
        )
        reports = set(
            self.session.scalars(
                select(IntelligenceReport.id).where(IntelligenceReport.restricted.is_(True))
            )
        )
        return {"person": {str(i) for i in persons}, "intelligence": {str(i) for i in reports}}


class RecordCopyRepository:
    """Whole tables of locations, persons and incidents, read from one database and
    written into another (training and test databases only: `services.environments`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def read_all(self) -> tuple[list[dict[str, object]], ...]:
        """Every location, person and incident as column dictionaries, in id order."""
        from controlroom.data.cold_models import Person

        return tuple(
            [
                dict(r._mapping)
                for r in self.session.execute(select(model.__table__).order_by(model.id))
            ]
            for model in (Location, Person, Incident)
        )

    def insert_copies(
        self,
        copier_id: int | None,
        locations: list[dict[str, object]],
        persons: list[dict[str, object]],
        incidents: list[dict[str, object]],
    ) -> tuple[tuple[str, int], ...]:
        """Insert copies with new ids, owned by `copier_id`; an incident whose reference is
        already taken here is left out. Returns how many of each were copied."""
        from controlroom.data.cold_models import Person
        from controlroom.data.crime_counts import count_inserted_incidents
        from controlroom.data.street_centroids import count_inserted_locations
        from controlroom.domain.crime import closed_as_crime, recording_delay

        location_ids: dict[object, object] = {}
        for row in locations:
            old = row.pop("id")
            inserted = self.session.execute(insert(Location.__table__).values(**row))
            location_ids[old] = inserted.inserted_primary_key[0]  # type: ignore[attr-defined]
        for row in persons:
            row.pop("id")
            row.update(created_by_id=copier_id, merged_into_id=None)
            self.session.execute(insert(Person.__table__).values(**row))
        taken = set(self.session.scalars(select(Incident.reference)))
        copied: list[dict[str, object]] = []
        for row in incidents:
            row.pop("id")
            if row["reference"] in taken:
                continue
            row.update(
                opened_by_id=copier_id,
                idempotency_key=None,
                location_id=location_ids.get(row["location_id"]) if row["location_id"] else None,
                thrive_assessed_by_id=copier_id if row["thrive_assessed_by_id"] else None,
                closed_by_id=copier_id if row["closed_by_id"] else None,
                # Its crimes stay behind: only a closing with a crime reference recorded one.
                crime_recording_delay=recording_delay(
                    row["opened_at"],  # type: ignore[arg-type]
                    None,
                    closed_as_crime(row["crime_reference"], row["closed_at"]),  # type: ignore[arg-type]
                ),
            )
            self.session.execute(insert(Incident.__table__).values(**row))
            copied.append(row)
        # Written past the ORM: counted into the monthly integrity counts and the kept
        # street centres here.
        count_inserted_incidents(self.session.connection(), copied)
        count_inserted_locations(self.session.connection(), locations)
        return (
            ("locations", len(locations)),
            ("persons", len(persons)),
            ("incidents", len(copied)),
        )
