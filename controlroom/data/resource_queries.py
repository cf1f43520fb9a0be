"""Units, their crews and status codes: the queries of resources and dispatch (issue 17).

The board reads every unit in two statements (units with their incident's reference,
then the crews of those units), or only the units changed since a counter value it has
seen; recommendations read the units that could go (available or committed) with their
crews' skills, the rest of the rule being `domain.resources.recommend`. No repository
commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from math import cos, radians
from typing import TYPE_CHECKING

from sqlalchemy import Row, case, func, literal, or_, select, update
from sqlalchemy.orm import Session

from controlroom.data.models import (
    Incident,
    Location,
    LocationHazard,
    Staff,
    Unit,
    UnitChangeCounter,
    UnitEmergency,
)

# The cold models (`data/cold_models.py`) are imported by the methods that use them:
# mapped when first asked for, not with the home board (issue 15, start-up memory).
if TYPE_CHECKING:
    from controlroom.data.cold_models import (
        IncidentAttendance,
        Skill,
        UnitAssignment,
        UnitStatusChange,
        UnitStatusCode,
        UnitType,
    )

_CHUNK = 900


class ResourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reference data ------------------------------------------------------------------

    def status_codes(self) -> Sequence[UnitStatusCode]:
        from controlroom.data.cold_models import UnitStatusCode

        return self.session.scalars(
            select(UnitStatusCode).where(UnitStatusCode.active).order_by(UnitStatusCode.key)
        ).all()

    def unit_types(self) -> Sequence[UnitType]:
        from controlroom.data.cold_models import UnitType

        return self.session.scalars(
            select(UnitType).where(UnitType.active).order_by(UnitType.code)
        ).all()

    def skills(self) -> Sequence[Skill]:
        from controlroom.data.cold_models import Skill

        return self.session.scalars(select(Skill).where(Skill.active).order_by(Skill.code)).all()

    def needed_skills(self, type_code: str) -> set[str]:
        from controlroom.data.cold_models import IncidentTypeSkill

        return set(
            self.session.scalars(
                select(IncidentTypeSkill.skill_code).where(IncidentTypeSkill.type_code == type_code)
            )
        )

    # --- the board -----------------------------------------------------------------------

    def units(self, since: int | None = None) -> Sequence[Row]:
        """Every unit (or those changed after counter value `since`) by callsign, as plain
        rows of what the board shows: id, callsign, type_code, station, area,
        status_code, status_since, latitude, longitude and the `reference` of its
        incident. Not ORM objects: a force's 900 units and their crews, loaded as
        objects, were 3.5 MiB of the session's peak memory (issue 15)."""
        query = (
            select(
                Unit.id,
                Unit.callsign,
                Unit.type_code,
                Unit.station,
                Unit.area,
                Unit.status_code,
                Unit.status_since,
                Unit.latitude,
                Unit.longitude,
                Incident.reference,
            )
            .outerjoin(Incident, Incident.id == Unit.incident_id)
            .order_by(Unit.callsign)
        )
        if since is not None:
            query = query.where(Unit.change_seq > since)
        return self.session.execute(query).all()

    def crew_skills(self, unit_ids: Iterable[int]) -> dict[int, list[str]]:
        """The skills (codes, space-separated) of each crew member of `unit_ids`, by
        unit, in crew order: one string per officer, as plain values (see `units`)."""
        from controlroom.data.cold_models import UnitCrew

        ids = sorted(set(unit_ids))
        crews: dict[int, list[str]] = {}
        for start in range(0, len(ids), _CHUNK):
            for unit_id, skills in self.session.execute(
                select(UnitCrew.unit_id, UnitCrew.skills)
                .where(UnitCrew.unit_id.in_(ids[start : start + _CHUNK]))
                .order_by(UnitCrew.unit_id, UnitCrew.id)
            ):
                crews.setdefault(unit_id, []).append(skills)
        return crews

    def incident_place(self, reference: str) -> tuple | None:
        """(id, reference, status, type code, latitude, longitude, skills its type needs
        joined by spaces) of the incident with exactly this reference: what a
        recommendation needs of it, in one statement."""
        from controlroom.data.cold_models import IncidentTypeSkill

        needed = (
            select(func.aggregate_strings(IncidentTypeSkill.skill_code, " "))
            .where(IncidentTypeSkill.type_code == Incident.opening_type_code)
            .scalar_subquery()
        )
        row = self.session.execute(
            select(
                Incident.id,
                Incident.reference,
                Incident.status,
                Incident.opening_type_code,
                Location.latitude,
                Location.longitude,
                needed,
            )
            .outerjoin(Location, Location.id == Incident.location_id)
            .where(Incident.reference == reference)
        ).first()
        return tuple(row) if row is not None else None

    def nearest_deployable(
        self,
        kinds: Sequence[str],
        available_kind: str,
        latitude: float | None,
        longitude: float | None,
        needed_skills: Iterable[str],
        limit: int,
    ) -> Sequence[tuple[int, str, str, str, float | None, float | None, str, str | None]]:
        """(id, callsign, status code, status kind, latitude, longitude, type code, crew
        skills joined by spaces) of the `limit` units first in the recommendation's
        order: status kind in `kinds`, every one of `needed_skills` held by one of the
        crew, available kinds before the rest, placed before unplaced, nearest first by
        the equirectangular approximation `domain.resources.recommend` ranks by, then
        callsign. The database filters, orders and cuts, so only those few rows and their
        crews come back (the domain then puts them in its exact order)."""
        from controlroom.data.cold_models import UnitCrew, UnitStatusCode

        query = (
            select(
                Unit.id,
                Unit.callsign,
                Unit.status_code,
                UnitStatusCode.kind,
                Unit.latitude,
                Unit.longitude,
                Unit.type_code,
            )
            .join(UnitStatusCode, UnitStatusCode.code == Unit.status_code)
            .where(UnitStatusCode.kind.in_(list(kinds)))
        )
        for code in sorted(set(needed_skills)):
            padded = literal(" ") + UnitCrew.skills + literal(" ")
            query = query.where(
                select(UnitCrew.id)
                .where(UnitCrew.unit_id == Unit.id, padded.contains(f" {code} ", autoescape=True))
                .exists()
            )
        order: list = [case((UnitStatusCode.kind == available_kind, 0), else_=1)]
        if latitude is not None and longitude is not None:
            unplaced = or_(Unit.latitude.is_(None), Unit.longitude.is_(None))
            scale = cos(radians(latitude))
            north = Unit.latitude - latitude
            east = (Unit.longitude - longitude) * scale
            order += [case((unplaced, 1), else_=0), north * north + east * east]
        top = query.order_by(*order, Unit.callsign).limit(limit).subquery()
        skills = (
            select(func.aggregate_strings(UnitCrew.skills, " "))
            .where(UnitCrew.unit_id == top.c.id)
            .scalar_subquery()
        )
        rows = self.session.connection().execute(select(top, skills))
        return [tuple(row) for row in rows]

    def open_references(self, statuses: Sequence[str], limit: int) -> list[str]:
        """References of open incidents, newest first (the command line completes them)."""
        return list(
            self.session.scalars(
                select(Incident.reference)
                .where(Incident.status.in_(list(statuses)))
                .order_by(Incident.opened_at.desc(), Incident.id.desc())
                .limit(limit)
            )
        )

    def plain_available(self, status_code: str) -> Sequence[tuple[int, str]]:
        """The benchmark's floor: the indexed select of available units, nothing more."""
        return [
            (row.id, row.callsign)
            for row in self.session.execute(
                select(Unit.id, Unit.callsign).where(Unit.status_code == status_code)
            )
        ]

    # --- one unit -------------------------------------------------------------------------

    def by_callsign(self, callsign: str, *, for_update: bool = False) -> Unit | None:
        """The unit, read afresh; `for_update` locks its row (PostgreSQL), so a second
        dispatcher's assignment waits for the first and then sees it."""
        query = (
            select(Unit).where(Unit.callsign == callsign).execution_options(populate_existing=True)
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def unit(self, unit_id: int) -> Unit | None:
        return self.session.get(Unit, unit_id)

    def callsigns(self) -> list[str]:
        return list(self.session.scalars(select(Unit.callsign).order_by(Unit.callsign)))

    def add(self, record: object) -> None:
        self.session.add(record)

    def announce(self, units: Iterable[Unit]) -> int:
        """Bump the change counter and stamp the units with it, in the caller's
        transaction: boards at every station read them at their next poll."""
        seq = self.session.execute(
            update(UnitChangeCounter)
            .where(UnitChangeCounter.id == 1)
            .values(counter=UnitChangeCounter.counter + 1)
            .returning(UnitChangeCounter.counter)
        ).scalar_one()
        for unit in units:
            unit.change_seq = seq
        return seq

    def counter(self) -> int:
        return (
            self.session.scalar(select(UnitChangeCounter.counter).where(UnitChangeCounter.id == 1))
            or 0
        )

    def open_assignment(self, unit_id: int, incident_id: int) -> UnitAssignment | None:
        from controlroom.data.cold_models import UnitAssignment

        return self.session.scalars(
            select(UnitAssignment)
            .where(
                UnitAssignment.unit_id == unit_id,
                UnitAssignment.incident_id == incident_id,
                UnitAssignment.cleared_at.is_(None),
            )
            .order_by(UnitAssignment.id.desc())
            .limit(1)
        ).one_or_none()

    def assignments_of_incident(
        self, incident_id: int
    ) -> Sequence[tuple[UnitAssignment, str, str]]:
        """(assignment, callsign, status code) of every unit ever sent to the incident."""
        from controlroom.data.cold_models import UnitAssignment

        return [
            (assignment, callsign, status)
            for assignment, callsign, status in self.session.execute(
                select(UnitAssignment, Unit.callsign, Unit.status_code)
                .join(Unit, Unit.id == UnitAssignment.unit_id)
                .where(UnitAssignment.incident_id == incident_id)
                .order_by(UnitAssignment.assigned_at, UnitAssignment.id)
            )
        ]

    def attendance(self, incident_id: int) -> IncidentAttendance | None:
        from controlroom.data.cold_models import IncidentAttendance

        return self.session.get(IncidentAttendance, incident_id)

    def attendance_between(self, start: datetime, end: datetime) -> list[tuple[str, bool | None]]:
        """(grade, met) of every first arrival in [start, end)."""
        from controlroom.data.cold_models import IncidentAttendance

        return [
            (grade, met)
            for grade, met in self.session.execute(
                select(IncidentAttendance.grade, IncidentAttendance.met).where(
                    IncidentAttendance.arrived_at >= start, IncidentAttendance.arrived_at < end
                )
            )
        ]

    def history(
        self, unit_id: int, limit: int
    ) -> Sequence[tuple[UnitStatusChange, str | None, str | None]]:
        """The unit's newest status changes, with the incident's reference and who."""
        from controlroom.data.cold_models import UnitStatusChange

        return [
            (change, reference, who)
            for change, reference, who in self.session.execute(
                select(UnitStatusChange, Incident.reference, Staff.username)
                .outerjoin(Incident, Incident.id == UnitStatusChange.incident_id)
                .outerjoin(Staff, Staff.id == UnitStatusChange.changed_by_id)
                .where(UnitStatusChange.unit_id == unit_id)
                .order_by(UnitStatusChange.id.desc())
                .limit(limit)
            )
        ]

    def assignments_of_unit(
        self, unit_id: int, limit: int
    ) -> Sequence[tuple[UnitAssignment, str, str | None]]:
        """The unit's newest assignments, with the incident's reference and who sent it."""
        from controlroom.data.cold_models import UnitAssignment

        return [
            (assignment, reference, who)
            for assignment, reference, who in self.session.execute(
                select(UnitAssignment, Incident.reference, Staff.username)
                .join(Incident, Incident.id == UnitAssignment.incident_id)
                .outerjoin(Staff, Staff.id == UnitAssignment.assigned_by_id)
                .where(UnitAssignment.unit_id == unit_id)
                .order_by(UnitAssignment.id.desc())
                .limit(limit)
            )
        ]

    def moving(self, status_codes: Sequence[str]) -> Sequence[tuple[Unit, float, float]]:
        """(unit, its incident's latitude, longitude) of the units in `status_codes` whose
        incident has a known place: the ones on their way."""
        return [
            (unit, lat, lon)  # type: ignore[misc]  # the query keeps placed incidents only
            for unit, lat, lon in self.session.execute(
                select(Unit, Location.latitude, Location.longitude)
                .join(Incident, Incident.id == Unit.incident_id)
                .join(Location, Location.id == Incident.location_id)
                .where(
                    Unit.status_code.in_(list(status_codes)),
                    Location.latitude.is_not(None),
                    Location.longitude.is_not(None),
                    Unit.latitude.is_not(None),
                    Unit.longitude.is_not(None),
                )
                .order_by(Unit.id)
            )
        ]

    def incident_points(
        self, statuses: Sequence[str], limit: int
    ) -> list[tuple[str, float, float]]:
        """(reference, latitude, longitude) of open incidents with a known place, newest
        first (the board's map)."""
        return [
            (reference, lat, lon)  # type: ignore[misc]  # placed incidents only
            for reference, lat, lon in self.session.execute(
                select(Incident.reference, Location.latitude, Location.longitude)
                .join(Location, Location.id == Incident.location_id)
                .where(
                    Incident.status.in_(list(statuses)),
                    Location.latitude.is_not(None),
                    Location.longitude.is_not(None),
                )
                .order_by(Incident.opened_at.desc(), Incident.id.desc())
                .limit(limit)
            )
        ]

    def hazards(self, location_id: int) -> list[str]:
        """The hazards recorded at a location, newest first."""
        return list(
            self.session.scalars(
                select(LocationHazard.hazard)
                .where(LocationHazard.location_id == location_id)
                .order_by(LocationHazard.set_at.desc(), LocationHazard.id.desc())
            )
        )

    def markers_by_role(self, incident_id: int, today: date) -> list[tuple[str, str]]:
        """(role in the incident, marker label) in force on `today` on each person linked
        to the incident, most severe first: what an officer sent there must be told."""
        from controlroom.data.cold_models import IncidentPerson, MarkerType, WarningMarker

        return [
            (role, label)
            for role, label, _ in self.session.execute(
                select(IncidentPerson.role, MarkerType.label, MarkerType.severity)
                .join(WarningMarker, WarningMarker.person_id == IncidentPerson.person_id)
                .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
                .where(
                    IncidentPerson.incident_id == incident_id,
                    WarningMarker.valid_from <= today,
                    or_(WarningMarker.valid_to.is_(None), WarningMarker.valid_to >= today),
                )
                .distinct()
                .order_by(MarkerType.severity, MarkerType.label)
            )
        ]

    def open_emergencies(
        self,
    ) -> Sequence[tuple[UnitEmergency, str, str, str, str | None, str]]:
        """(emergency, callsign, type code, station, incident reference, raised by) of
        every emergency not yet acknowledged, oldest first."""
        return [
            (emergency, callsign, type_code, station, reference, who)
            for emergency, callsign, type_code, station, reference, who in self.session.execute(
                select(
                    UnitEmergency,
                    Unit.callsign,
                    Unit.type_code,
                    Unit.station,
                    Incident.reference,
                    Staff.display_name,
                )
                .join(Unit, Unit.id == UnitEmergency.unit_id)
                .join(Staff, Staff.id == UnitEmergency.raised_by_id)
                .outerjoin(Incident, Incident.id == UnitEmergency.incident_id)
                .where(UnitEmergency.acknowledged_at.is_(None))
                .order_by(UnitEmergency.raised_at, UnitEmergency.id)
            )
        ]

    def emergency(self, emergency_id: int) -> UnitEmergency | None:
        return self.session.get(
            UnitEmergency, emergency_id, with_for_update=True, populate_existing=True
        )

    def open_emergency_of(self, unit_id: int) -> UnitEmergency | None:
        return self.session.scalars(
            select(UnitEmergency)
            .where(UnitEmergency.unit_id == unit_id, UnitEmergency.acknowledged_at.is_(None))
            .limit(1)
        ).one_or_none()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Unit)) or 0
