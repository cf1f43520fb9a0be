"""Crime records and the NCRS clock in the database: the offence classes, an incident's
crimes, and the crime-recording queue and its counts (possible crimes whose 24-hour
clock still runs), each a single statement on the `ix_incident_crime_clock` index; the
statistics' and the integrity measure's monthly counts (kept by `data.crime_counts`, and
the recount they are rebuilt from and proven against); the month's open-data rows."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    Interval,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified

from controlroom.data.cold_models import (
    Crime,
    CrimeClassification,
    CrimeMonthCount,
    CrimeOutcome,
    CrimeSuspect,
    IntegrityCheck,
    IntegrityMonthCount,
    OffenceClass,
    OpenDataReturn,
    OpenDataSalt,
    Person,
    Referral,
    StreetCentroid,
)
from controlroom.data.crime_counts import local_month, month_start
from controlroom.data.models import Incident, IncidentType, Location, Staff, UtcDateTime
from controlroom.data.street_centroids import centre_columns, placed, street_on
from controlroom.domain import crime as rules
from controlroom.domain.open_data import next_month

NO_STATION = "(no station)"
REBUILD_MONTHS = 12  # months counted per statement when the kept counts are rebuilt
# Rows of `crime_related` fetched at a time (the unrecorded list of a busy month).
CRIME_RELATED_CHUNK = 500


def month_of(column, bounds: Sequence):
    """Which month of `bounds` (the UTC instants local months start at, the end last)
    `column` falls in, as 0, 1, …: the database groups by it. For rows already limited
    to [bounds[0], bounds[-1]); plain comparisons, so the same on both backends and on
    the column's index order."""
    return case(
        *((column < bound, k) for k, bound in enumerate(bounds[1:-1])),
        else_=len(bounds) - 2,
    )


class CrimeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reference --------------------------------------------------------------------

    def offence_classes(self) -> Sequence[OffenceClass]:
        return self.session.scalars(
            select(OffenceClass).where(OffenceClass.active.is_(True)).order_by(OffenceClass.code)
        ).all()

    def offence(self, code: str) -> OffenceClass | None:
        return self.session.get(OffenceClass, code)

    # --- crimes -------------------------------------------------------------------------

    def add(self, record: object) -> None:
        self.session.add(record)

    def get(self, crime_id: int, *, for_update: bool = False) -> Crime | None:
        if for_update:
            return self.session.scalars(
                select(Crime).where(Crime.id == crime_id).with_for_update()
            ).first()
        return self.session.get(Crime, crime_id)

    def by_reference(self, reference: str) -> Crime | None:
        return self.session.scalars(select(Crime).where(Crime.reference == reference)).first()

    def of_incident(self, incident_id: int) -> Sequence[Crime]:
        return self.session.scalars(
            select(Crime).where(Crime.incident_id == incident_id).order_by(Crime.id)
        ).all()

    def names(self, person_ids: Sequence[int]) -> dict[int, str]:
        if not person_ids:
            return {}
        rows = self.session.execute(
            select(Person.id, Person.forename, Person.surname).where(Person.id.in_(person_ids))
        )
        return {pid: f"{forename} {surname}".strip() for pid, forename, surname in rows}

    def suspects(self, crime_ids: Sequence[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        if not crime_ids:
            return found
        for crime_id, person_id in self.session.execute(
            select(CrimeSuspect.crime_id, CrimeSuspect.person_id)
            .where(CrimeSuspect.crime_id.in_(crime_ids))
            .order_by(CrimeSuspect.id)
        ):
            found.setdefault(crime_id, []).append(person_id)
        return found

    def touch(self, crime: Crime) -> None:
        """Count a change to what hangs off the crime (its suspects) as a change to the
        crime: its version moves on, so a stale screen's change is refused."""
        flag_modified(crime, "state")

    def remove_suspects(self, crime_id: int, person_ids: Sequence[int]) -> None:
        if person_ids:
            self.session.execute(
                delete(CrimeSuspect).where(
                    CrimeSuspect.crime_id == crime_id, CrimeSuspect.person_id.in_(person_ids)
                )
            )

    def classifications(self, crime_id: int) -> Sequence[CrimeClassification]:
        return self.session.scalars(
            select(CrimeClassification)
            .where(CrimeClassification.crime_id == crime_id)
            .order_by(CrimeClassification.id)
        ).all()

    def outcomes(self, crime_id: int) -> Sequence[CrimeOutcome]:
        return self.session.scalars(
            select(CrimeOutcome).where(CrimeOutcome.crime_id == crime_id).order_by(CrimeOutcome.id)
        ).all()

    def pending_outcome(self, crime_id: int) -> CrimeOutcome | None:
        return self.session.scalars(
            select(CrimeOutcome)
            .where(CrimeOutcome.crime_id == crime_id, CrimeOutcome.approval_state == "awaiting")
            .order_by(CrimeOutcome.id.desc())
        ).first()

    def next_number(self, prefix: str) -> int:
        """The next number after the highest reference starting `prefix` ("CRM-2026-").
        Called with the incident row locked, and the reference is unique: two stations
        racing for one number make one of them retry."""
        highest = self.session.scalar(
            select(func.max(Crime.reference)).where(Crime.reference.like(f"{prefix}%"))
        )
        return int(highest.removeprefix(prefix)) + 1 if highest else 1

    # --- crime data integrity --------------------------------------------------------------

    def crime_related(
        self, start: datetime, end: datetime, *, not_within: timedelta | None = None
    ) -> Iterator[tuple[int, str, datetime, str, datetime | None]]:
        """The crime-related incidents reported in [start, end): those whose flag, opening
        type or closing type says possible crime, less LEGACY ones and those whose
        no-crime decision a supervisor signed off with no crime recorded: (id, reference,
        opened_at, the opening operator's station, when a crime was first recorded — its first
        crime record, or its closing with a crime reference, whichever came first: the
        report and the kept `crime_recording_delay`). `not_within`: only those with no
        crime recorded within it of the report (the month's unrecorded list), asked of
        the database as the counts ask it.

        Yielded as the database gives them (iterate within the unit of work): a busy
        month's list runs to thousands, and building it while the rows and a list of
        them were held too was the crime integrity screen's share of the app's peak
        memory (issue 15). The openers' stations are the staff's, a few hundred, read
        first."""
        kept = Incident.crime_recording_delay
        late = (
            []
            if not_within is None
            else [or_(kept.is_(None), kept > bindparam("not_within", not_within, Interval()))]
        )
        stations: dict[int, str | None] = dict(
            self.session.execute(select(Staff.id, Staff.station)).all()
        )
        rows = self.session.execute(
            select(
                Incident.id,
                Incident.reference,
                Incident.opened_at,
                Incident.opened_by_id,
                Incident.crime_recording_delay,
            )
            .where(Incident.opened_at >= start, Incident.opened_at < end, *_counted(), *late)
            .order_by(Incident.opened_at, Incident.id)
            # Fetched a chunk at a time: without it the ORM fetches every row at once, and
            # a month's rows (6,400 on the 1M-person seed) were held whole beside what is
            # built from them (issue 15).
            .execution_options(yield_per=CRIME_RELATED_CHUNK)
        )
        for iid, ref, opened, opener_id, delay in rows:
            yield (
                iid,
                ref,
                opened,
                stations.get(opener_id) or NO_STATION,
                None if delay is None else opened + delay,
            )

    def integrity_counts(
        self, bounds: Sequence[datetime], limits: tuple[timedelta, timedelta]
    ) -> dict[int, tuple[int, int, int]]:
        """Per month k of `bounds` ([bounds[k], bounds[k + 1])), of the crime-related
        incidents reported in it (exactly those `crime_related` lists: LEGACY ones and
        signed-off no-crimes left out): (total, recorded within limits[0], within
        limits[1]), counted by the database from `ix_incident_crime_recording`. The
        recount the kept monthly counts are rebuilt from and proven against; the reads
        take `integrity_months`. Built once per number of months (the bounds are its
        parameters)."""
        statement = _integrity_statement(len(bounds), tuple(limits))
        rows = self.session.execute(statement, _bound_values(bounds)).all()
        return {int(k): (int(n), int(a or 0), int(b or 0)) for k, n, a, b in rows}

    def integrity_by_station(
        self, start: datetime, end: datetime, limits: tuple[timedelta, timedelta]
    ) -> list[tuple[str, int, int, int]]:
        """The integrity counts of [start, end) (as `integrity_counts` takes them) per
        station of the opening operator: (station, total, within limits[0], within
        limits[1]), by station name. Counted per opener by the database from
        `ix_incident_crime_recording` alone, then summed per station over a few hundred
        staff (as `clock_counts`), where reading the month's incidents out cost more
        than everything else the measure reads."""
        delay = Incident.crime_recording_delay
        within = [
            func.sum(case((delay <= bindparam(f"limit_{n}", limit, Interval()), 1), else_=0))
            for n, limit in enumerate(limits)
        ]
        rows = self.session.execute(
            select(Incident.opened_by_id, func.count(), *within)
            .where(
                Incident.opened_at >= start,
                Incident.opened_at < end,
                *_counted(),
            )
            .group_by(Incident.opened_by_id)
        ).all()
        return self._by_station(rows)

    def integrity_months(self, first: date, last: date) -> dict[date, tuple[int, int, int]]:
        """The kept integrity counts (`IntegrityMonthCount`) of the local months `first`
        to `last`: {month: (total, within 24 h, within 7 days)}; a month not there had
        no crime-related incident."""
        return {
            month: (int(n), int(a), int(b))
            for month, n, a, b in self.session.execute(
                select(
                    IntegrityMonthCount.month,
                    IntegrityMonthCount.incidents,
                    IntegrityMonthCount.within_24h,
                    IntegrityMonthCount.within_7d,
                ).where(IntegrityMonthCount.month >= first, IntegrityMonthCount.month <= last)
            )
        }

    def recorded_months(self, first: date, last: date) -> list[tuple[date, str, int, int]]:
        """The kept counts (`CrimeMonthCount`) of crimes recorded, not cancelled, in the
        local months `first` to `last`: (month, offence code, outcome code, crimes)."""
        return [
            (month, code, int(outcome), int(n))
            for month, code, outcome, n in self.session.execute(
                select(
                    CrimeMonthCount.month,
                    CrimeMonthCount.offence_code,
                    CrimeMonthCount.outcome_code,
                    CrimeMonthCount.crimes,
                ).where(
                    CrimeMonthCount.month >= first,
                    CrimeMonthCount.month <= last,
                    CrimeMonthCount.crimes != 0,
                )
            )
        ]

    def rebuild_month_counts(self) -> None:
        """Count every month again from the crimes and incidents themselves (after a
        bulk write the ORM did not see): the kept counts made equal to the recount."""
        self.session.execute(delete(CrimeMonthCount))
        self.session.execute(delete(IntegrityMonthCount))
        ends = [
            self.session.execute(select(func.min(column), func.max(column))).one()
            for column in (Incident.opened_at, Crime.recorded_at)
        ]
        found = [_utc(t) for pair in ends for t in pair if t is not None]
        if not found:
            return
        months = [local_month(min(found))]
        while months[-1] < local_month(max(found)):
            months.append(next_month(months[-1]))
        limits = (rules.RECORDING_LIMIT, rules.WEEK)
        for at in range(0, len(months), REBUILD_MONTHS):
            chunk = months[at : at + REBUILD_MONTHS]
            bounds = [month_start(m) for m in chunk] + [month_start(next_month(chunk[-1]))]
            integrity = [
                {"month": chunk[k], "incidents": n, "within_24h": a, "within_7d": b}
                for k, (n, a, b) in sorted(self.integrity_counts(bounds, limits).items())
                if n
            ]
            recorded = [
                {"month": chunk[k], "offence_code": code, "outcome_code": outcome, "crimes": n}
                for k, code, outcome, n in self.recorded_counts(bounds)
            ]
            if integrity:
                self.session.execute(insert(IntegrityMonthCount), integrity)
            if recorded:
                self.session.execute(insert(CrimeMonthCount), recorded)

    # --- the NCRS clock -------------------------------------------------------------------

    def _running(self):
        return and_(Incident.possible_crime.is_(True), Incident.crime_clock_stopped_at.is_(None))

    def running_clocks(
        self, limit: int
    ) -> Sequence[tuple[int, str, str, str, datetime, str, str | None]]:
        """Possible crimes whose clock runs, the least time left (oldest report) first:
        (incident id, reference, location text, status, opened at, type label, the
        opening operator's station). Only the columns the queue shows: the
        whole incidents, as ORM entities, were 500 rows of every column and their
        session state, read again every 30 s (issue 15, memory)."""
        opener = aliased(Staff)
        return self.session.execute(
            select(
                Incident.id,
                Incident.reference,
                Incident.location_text,
                Incident.status,
                Incident.opened_at,
                IncidentType.label,
                opener.station,
            )
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .join(opener, opener.id == Incident.opened_by_id)
            .where(self._running())
            .order_by(Incident.opened_at, Incident.id)
            .limit(limit)
        ).all()

    def clock_counts(
        self, breached_before: datetime, due_before: datetime, since: datetime | None = None
    ) -> list[tuple[str, int, int, int]]:
        """Per station of the opening operator: (station, running, due soon, breached),
        where a clock started before `breached_before` is breached and one started before
        `due_before` (and not breached) is due soon. Counted per opener from the clock
        index alone (a covering index: no incident row is read), then summed per
        station over a few hundred staff. `since`: only clocks started from then (a
        range of the index, where the whole history is a scan of every clock left
        running)."""
        breached = case((Incident.opened_at < breached_before, 1), else_=0)
        due = case(
            (and_(Incident.opened_at >= breached_before, Incident.opened_at <= due_before), 1),
            else_=0,
        )
        rows = self.session.execute(
            select(Incident.opened_by_id, func.count(), func.sum(due), func.sum(breached))
            .where(self._running(), *([Incident.opened_at >= since] if since else []))
            .group_by(Incident.opened_by_id)
        ).all()
        return self._by_station(rows)

    def _stations_of(self, opener_ids) -> dict[int, str | None]:
        """The openers' stations: a few hundred staff, read once (not joined per row)."""
        return dict(
            self.session.execute(
                select(Staff.id, Staff.station).where(Staff.id.in_(list(opener_ids)))
            ).all()
        )

    def _by_station(self, rows) -> list[tuple[str, int, int, int]]:
        """(opener, n, a, b) rows summed by the opener's station, in station order."""
        stations = self._stations_of({row[0] for row in rows})
        totals: dict[str, list[int]] = {}
        for opener_id, n, a, b in rows:
            total = totals.setdefault(stations.get(opener_id) or NO_STATION, [0, 0, 0])
            total[0] += int(n)
            total[1] += int(a or 0)
            total[2] += int(b or 0)
        return [(name, n, a, b) for name, (n, a, b) in sorted(totals.items())]

    # --- the integrity audit sample ---------------------------------------------------------

    def sample(self, month) -> list[tuple[IntegrityCheck, str, datetime]]:
        """The month's audit sample: (check, incident reference, reported), in the order
        drawn."""
        return [
            (check, reference, opened)
            for check, reference, opened in self.session.execute(
                select(IntegrityCheck, Incident.reference, Incident.opened_at)
                .join(Incident, Incident.id == IntegrityCheck.incident_id)
                .where(IntegrityCheck.month == month)
                .order_by(IntegrityCheck.id)
            )
        ]

    def check(self, check_id: int, *, for_update: bool = False) -> IntegrityCheck | None:
        if for_update:
            return self.session.scalars(
                select(IntegrityCheck).where(IntegrityCheck.id == check_id).with_for_update()
            ).first()
        return self.session.get(IntegrityCheck, check_id)

    # --- statistics -------------------------------------------------------------------------

    def recorded_counts(self, bounds: Sequence[datetime]) -> list[tuple[int, str, int, int]]:
        """Crimes recorded (not cancelled) per month k of `bounds` ([bounds[k],
        bounds[k + 1])), Home Office offence code and outcome, counted by the database:
        (month, offence code, outcome code, crimes). A range of `ix_crime_recorded_at`
        per month (a UNION ALL built once per number of months), where one range grouped
        by month would place each crime among the bounds. The recount the kept
        monthly counts are rebuilt from and proven against (reads: `recorded_months`)."""
        return [
            (int(k), code, int(outcome), int(n))
            for k, code, outcome, n in self.session.execute(
                _recorded_statement(len(bounds)), _bound_values(bounds)
            )
        ]

    def marac_counts(self, bounds: Sequence[datetime]) -> dict[int, int]:
        """Domestic-abuse (MARAC) referrals made per month of `bounds` (see `month_of`)."""
        month = month_of(Referral.created_at, bounds)
        return {
            int(k): int(n)
            for k, n in self.session.execute(
                select(month, func.count())
                .where(
                    Referral.kind == "marac",
                    Referral.created_at >= bounds[0],
                    Referral.created_at < bounds[-1],
                )
                .group_by(month)
            )
        }

    # --- the month's open-data returns ------------------------------------------------------

    def street_crimes(
        self, start: datetime, end: datetime
    ) -> list[tuple[int, str, int, str | None, tuple[float, float] | None]]:
        """Crimes recorded in [start, end), not cancelled, in the order recorded: (crime
        id, open-data type, outcome code, street of the crime's place, else its
        incident's, and that street's centre, `data.street_centroids`)."""
        place = func.coalesce(Crime.location_id, Incident.location_id)
        return list(
            placed(
                self.session.execute(
                    select(
                        Crime.id,
                        OffenceClass.open_data_type,
                        Crime.outcome_code,
                        Location.street,
                        *centre_columns(),
                    )
                    .join(OffenceClass, OffenceClass.code == Crime.offence_code)
                    .join(Incident, Incident.id == Crime.incident_id)
                    .outerjoin(Location, Location.id == place)
                    .outerjoin(StreetCentroid, street_on(Location))
                    .where(
                        Crime.recorded_at >= start,
                        Crime.recorded_at < end,
                        Crime.state != "cancelled",
                    )
                    .order_by(Crime.id)
                ),
                3,
            )
        )

    def month_outcomes(
        self, first: date, following: date
    ) -> list[tuple[int, int, str | None, tuple[float, float] | None]]:
        """Outcomes dated in [first, following) (approved or needing no approval; not
        0) of crimes not cancelled, in the order given: (crime id, outcome code, street
        and its centre, as `street_crimes`)."""
        place = func.coalesce(Crime.location_id, Incident.location_id)
        return list(
            placed(
                self.session.execute(
                    select(
                        CrimeOutcome.crime_id,
                        CrimeOutcome.outcome_code,
                        Location.street,
                        *centre_columns(),
                    )
                    .join(Crime, Crime.id == CrimeOutcome.crime_id)
                    .join(Incident, Incident.id == Crime.incident_id)
                    .outerjoin(Location, Location.id == place)
                    .outerjoin(StreetCentroid, street_on(Location))
                    .where(
                        CrimeOutcome.outcome_date >= first,
                        CrimeOutcome.outcome_date < following,
                        CrimeOutcome.approval_state != "awaiting",
                        CrimeOutcome.outcome_code != 0,
                        Crime.state != "cancelled",
                    )
                    .order_by(CrimeOutcome.id)
                ),
                2,
            )
        )

    def salt(self) -> OpenDataSalt | None:
        return self.session.get(OpenDataSalt, 1)

    def returns_made(self, first: date, following: date) -> dict[date, OpenDataReturn]:
        """The latest return made for each month in [first, following)."""
        found: dict[date, OpenDataReturn] = {}
        for made in self.session.scalars(
            select(OpenDataReturn)
            .where(OpenDataReturn.month >= first, OpenDataReturn.month < following)
            .order_by(OpenDataReturn.id)
        ):
            found[made.month] = made
        return found

    def first_crime_at(self) -> datetime | None:
        return self.session.scalar(select(func.min(Crime.recorded_at)))


@functools.lru_cache(maxsize=16)
def _integrity_statement(bound_count: int, limits: tuple[timedelta, ...]):
    """The integrity counts' statement for `bound_count` month bounds (parameters
    `bound_0` …), built once: the expression is large and the same every time.

    One range of `ix_incident_crime_recording` per month, no incident row read: how long
    after the report a crime was first recorded is kept on the incident
    (`crime_recording_delay`), so each window is one comparison; whether the opening or
    closing type says crime is asked of the few possible-crime types (one small list,
    where a join would search `incident_type` twice per row). A month per branch of a
    UNION ALL, where one range grouped by month would place each row among the bounds."""
    bounds = _bounds(bound_count)
    delay = Incident.crime_recording_delay
    within = [
        func.sum(case((delay <= bindparam(f"limit_{n}", limit, type_=Interval()), 1), else_=0))
        for n, limit in enumerate(limits)
    ]
    return union_all(
        *(
            select(literal(k), func.count(), *within).where(
                Incident.opened_at >= bounds[k],
                Incident.opened_at < bounds[k + 1],
                *_counted(),
            )
            for k in range(bound_count - 1)
        )
    )


def _utc(value) -> datetime:
    """A MIN or MAX of a timestamp column: SQLite's is text, read as UTC (the
    `UtcDateTime` invariant)."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _bounds(bound_count: int) -> list:
    """The month bounds as parameters `bound_0` … (see `_bound_values`)."""
    return [bindparam(f"bound_{k}", type_=UtcDateTime) for k in range(bound_count)]


def _bound_values(bounds: Sequence[datetime]) -> dict[str, datetime]:
    return {f"bound_{k}": bound for k, bound in enumerate(bounds)}


@functools.lru_cache(maxsize=16)
def _recorded_statement(bound_count: int):
    """`recorded_counts`' statement for `bound_count` month bounds, built once."""
    bounds = _bounds(bound_count)
    return union_all(
        *(
            select(literal(k), Crime.offence_code, Crime.outcome_code, func.count())
            .where(
                Crime.recorded_at >= bounds[k],
                Crime.recorded_at < bounds[k + 1],
                Crime.state != "cancelled",
            )
            .group_by(Crime.offence_code, Crime.outcome_code)
            for k in range(bound_count - 1)
        )
    )


def _counted() -> list:
    """An incident counts in the integrity measure (`domain.crime.integrity_count_of`):
    it says crime, is not LEGACY, and is not a signed-off no-crime decision."""
    delay = Incident.crime_recording_delay
    return [
        _says_crime(),
        # An old system's incidents (LEGACY): not this system's recording, as
        # `crime_related` leaves them out.
        Incident.legacy_batch_id.is_(None),
        # a signed-off no-crime decision with no crime recorded: not a crime
        or_(
            delay.is_not(None),
            Incident.signoff_state.is_(None),
            Incident.signoff_state != "approved",
        ),
    ]


def _says_crime():
    """An incident is crime-related: its flag, opening type or closing type says possible
    crime. The opening type is never NULL (a foreign key, once an inner join); a NULL
    closing type says nothing. The possible-crime types are one small list, looked up
    per row, where joining `incident_type` twice would search it twice per row."""
    crime_types = select(IncidentType.code).where(IncidentType.possible_crime.is_(True))
    return or_(
        Incident.possible_crime.is_(True),
        Incident.opening_type_code.in_(crime_types),
        Incident.closing_type_code.in_(crime_types),
    )
