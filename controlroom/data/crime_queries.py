"""Crime records and the NCRS clock in the database: the offence classes, an incident's
crimes, and the crime-recording queue and its counts (possible crimes whose 24-hour
clock still runs), each a single statement on the `ix_incident_crime_clock` index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from controlroom.data.models import (
    Crime,
    CrimeClassification,
    CrimeOutcome,
    CrimeSuspect,
    Incident,
    IncidentType,
    IntegrityCheck,
    OffenceClass,
    Person,
    Referral,
    Staff,
)

NO_STATION = "(no station)"


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
        self, start: datetime, end: datetime
    ) -> list[tuple[int, str, datetime, str, datetime | None]]:
        """The crime-related incidents reported in [start, end): those whose flag, opening
        type or closing type says possible crime, less LEGACY ones and those whose
        no-crime decision a supervisor signed off with no crime recorded: (id, reference,
        opened_at, the opening operator's station, when a crime was first recorded — the first crime
        record, or the closing for an incident closed with a crime reference)."""
        opening = aliased(IncidentType)
        closing = aliased(IncidentType)
        opener = aliased(Staff)
        first = (
            select(Crime.incident_id, func.min(Crime.recorded_at).label("first_at"))
            .group_by(Crime.incident_id)
            .subquery()
        )
        rows = self.session.execute(
            select(
                Incident.id,
                Incident.reference,
                Incident.opened_at,
                opener.station,
                first.c.first_at,
                Incident.crime_reference,
                Incident.closed_at,
                Incident.signoff_state,
            )
            .join(opening, opening.code == Incident.opening_type_code)
            .outerjoin(closing, closing.code == Incident.closing_type_code)
            .join(opener, opener.id == Incident.opened_by_id)
            .outerjoin(first, first.c.incident_id == Incident.id)
            .where(
                Incident.opened_at >= start,
                Incident.opened_at < end,
                # An old system's incidents (LEGACY) had their crimes recorded there.
                Incident.legacy_batch_id.is_(None),
                (Incident.possible_crime.is_(True))
                | (opening.possible_crime.is_(True))
                | (closing.possible_crime.is_(True)),
            )
            .order_by(Incident.opened_at, Incident.id)
        )
        found = []
        for iid, ref, opened, station, first_at, crime_ref, closed_at, signoff in rows:
            if first_at is not None and first_at.tzinfo is None:  # SQLite's MIN is text
                first_at = first_at.replace(tzinfo=opened.tzinfo)
            recorded = first_at
            if crime_ref and closed_at is not None:
                recorded = min(recorded, closed_at) if recorded else closed_at
            if recorded is None and signoff == "approved":
                continue  # a signed-off no-crime decision: not a crime
            found.append((iid, ref, opened, station or NO_STATION, recorded))
        return found

    # --- the NCRS clock -------------------------------------------------------------------

    def _running(self):
        return and_(Incident.possible_crime.is_(True), Incident.crime_clock_stopped_at.is_(None))

    def running_clocks(self, limit: int) -> Sequence[tuple[Incident, str, str | None]]:
        """Possible crimes whose clock runs, the least time left (oldest report) first:
        (incident, type label, the opening operator's station)."""
        opener = aliased(Staff)
        return [
            (incident, label, station)
            for incident, label, station in self.session.execute(
                select(Incident, IncidentType.label, opener.station)
                .join(IncidentType, IncidentType.code == Incident.opening_type_code)
                .join(opener, opener.id == Incident.opened_by_id)
                .where(self._running())
                .order_by(Incident.opened_at, Incident.id)
                .limit(limit)
            )
        ]

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
        stations = dict(
            self.session.execute(
                select(Staff.id, Staff.station).where(Staff.id.in_([r[0] for r in rows]))
            ).all()
        )
        totals: dict[str, list[int]] = {}
        for opener_id, n, d, b in rows:
            total = totals.setdefault(stations.get(opener_id) or NO_STATION, [0, 0, 0])
            total[0] += int(n)
            total[1] += int(d or 0)
            total[2] += int(b or 0)
        return [(name, n, d, b) for name, (n, d, b) in sorted(totals.items())]

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

    def crimes_recorded(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, str, str, int]]:
        """Crimes recorded in [start, end), not cancelled: (recorded_at, offence code,
        open-data type, outcome code)."""
        return [
            (recorded_at, code, open_type, outcome)
            for recorded_at, code, open_type, outcome in self.session.execute(
                select(
                    Crime.recorded_at,
                    Crime.offence_code,
                    OffenceClass.open_data_type,
                    Crime.outcome_code,
                )
                .join(OffenceClass, OffenceClass.code == Crime.offence_code)
                .where(
                    Crime.recorded_at >= start,
                    Crime.recorded_at < end,
                    Crime.state != "cancelled",
                )
            )
        ]

    def marac_referrals(self, start: datetime, end: datetime) -> list[datetime]:
        """When each domestic-abuse (MARAC) referral made in [start, end) was made."""
        return list(
            self.session.scalars(
                select(Referral.created_at).where(
                    Referral.kind == "marac",
                    Referral.created_at >= start,
                    Referral.created_at < end,
                )
            )
        )
