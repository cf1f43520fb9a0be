"""Resources and dispatch: the resource board, a unit's status, assigning units to an
incident, recommendations, and the attendance clock (issue 17).

Every change is one unit of work: the permission table first (`resource.dispatch`:
dispatchers and supervisors), then the unit's row locked (PostgreSQL; SQLite's writes
are serial already) and read afresh, so two dispatchers sending the same unit at once
are served one after the other — the first wins, the second is told who has it
(`UnitUnavailable`). The unit's history, the incident's log, the audit trail and the
boards' change counter are written in the same transaction as the change.

Status rules are `domain.resources` (by the status's kind: the codes are configuration,
db/unit_status.csv); the first arrival at an incident stops its grade's attendance
clock, met or missed, on the record (`incident_attendance` and a log line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm.exc import StaleDataError

from controlroom.data.models import Incident, Unit, UnitEmergency
from controlroom.domain.dispatch_commands import ASSIGN
from controlroom.domain.geo import step_towards
from controlroom.domain.grades import Grade
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import OPEN_STATUSES, IncidentStatus, LogKind
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.domain.resources import (
    COMMITTED_KINDS,
    Candidate,
    StatusKind,
    TransitionRefused,
    UnitStatus,
    attendance,
    check_transition,
    recommend,
)
from controlroom.services import access, audit, incident_log

# The emergency watch's reads live apart (`services/emergencies.py`), so the watch (from
# every dispatcher's sign-in) does not load the rest of this module.
from controlroom.services.emergencies import Emergency, unacknowledged

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

RECOMMENDATIONS = 12
# Open incidents' references the command line completes, newest first.
REFERENCES = 300
HISTORY_LIMIT = 20
# The unit's history view reads this many status changes and assignments at most.
RECORD_LIMIT = 500


class UnitNotFound(LookupError):
    """No unit has that callsign; the message says which."""


class IncidentNotOpen(LookupError):
    """No open incident has that reference (or its end): the message says so."""


class UnitUnavailable(Exception):
    """The unit cannot take the change (committed elsewhere, off duty, another
    dispatcher was first); the message says why, in words."""


# --- what the services return ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResourceCodes:
    """The configured status codes and unit types, for the board and the command line."""

    statuses: tuple[UnitStatus, ...]
    types: tuple[tuple[str, str], ...]  # (code, label)

    def status(self, code: str) -> UnitStatus | None:
        return next((s for s in self.statuses if s.code == code), None)

    def by_command(self, command: str) -> UnitStatus | None:
        return next((s for s in self.statuses if s.command == command.lower()), None)

    def by_kind(self, kind: StatusKind) -> UnitStatus:
        return next(s for s in self.statuses if s.kind is kind)

    @property
    def commands(self) -> tuple[str, ...]:
        return tuple(s.command for s in self.statuses)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One unit on the resource board."""

    id: int
    callsign: str
    type_code: str
    station: str
    area: str
    status_code: str
    status_since: datetime
    incident_reference: str | None
    skills: tuple[str, ...]  # the crew's skills, each once, in code order
    crew: int
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class BoardRead:
    """Units read for the board, and the change counter they are current to."""

    counter: int
    units: tuple[UnitRow, ...]
    open_references: tuple[str, ...] = ()  # newest first, for the command line


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """What a status change or an assignment did, in words for the operator."""

    callsigns: tuple[str, ...]
    status_code: str
    reference: str | None
    words: str
    attendance: str | None = None  # the first arrival: met or missed, in words
    # Officer safety: the location's hazards and the markers of persons on the incident,
    # in words, given with the assignment.
    warnings: tuple[str, ...] = ()

    @property
    def said(self) -> str:
        """Everything the dispatcher must read, in one line."""
        parts = [self.words]
        if self.warnings:
            parts.append("! WARNINGS: " + "; ".join(self.warnings))
        if self.attendance:
            parts.append(self.attendance)
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class RecommendedUnit:
    callsign: str
    type_code: str
    status_code: str
    distance_m: float | None
    committed: bool
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recommendations:
    reference: str
    needed_skills: tuple[str, ...]
    units: tuple[RecommendedUnit, ...]
    include_committed: bool


@dataclass(frozen=True, slots=True)
class AssignedUnit:
    callsign: str
    status_code: str
    assigned_at: datetime
    arrived_at: datetime | None
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class IncidentResources:
    """The units on an incident and its attendance clock, for the incident view."""

    units: tuple[AssignedUnit, ...]
    attendance: str | None  # "Attendance target MET: …", None before the first arrival
    met: bool | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    changed_at: datetime
    status_code: str
    reference: str | None
    by: str | None
    terminal: str
    override: bool


@dataclass(frozen=True, slots=True)
class AssignmentEntry:
    reference: str
    assigned_at: datetime
    by: str | None
    override: bool
    arrived_at: datetime | None
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit's history for its own view: every status change (who, when, from which
    terminal) and every assignment, newest first, up to the limit asked for."""

    callsign: str
    type_code: str
    station: str
    area: str
    status_code: str
    changes: tuple[HistoryEntry, ...]
    assignments: tuple[AssignmentEntry, ...]
    limit: int

    @property
    def cut(self) -> bool:
        """More may lie beyond what was read."""
        return len(self.changes) >= self.limit or len(self.assignments) >= self.limit


# --- reading ---------------------------------------------------------------------------------


def resource_codes(uow: UnitOfWork) -> ResourceCodes:
    with uow:
        return _codes(uow)


def _codes(uow: UnitOfWork, *, types: bool = True) -> ResourceCodes:
    statuses = tuple(
        UnitStatus(s.code, s.label, s.key, s.command, StatusKind(s.kind))
        for s in uow.resources.status_codes()
    )
    if not types:
        return ResourceCodes(statuses, ())
    unit_types = tuple((t.code, t.label) for t in uow.resources.unit_types())
    return ResourceCodes(statuses, unit_types)


def _skills(codes: str) -> set[str]:
    return {code for code in codes.split() if code}


def _rows(uow: UnitOfWork, since: int | None) -> tuple[UnitRow, ...]:
    units = uow.resources.units(since)
    crews = uow.resources.crew_skills(unit.id for unit in units)
    rows = []
    for unit in units:
        crew = crews.get(unit.id, [])
        skills: set[str] = set()
        for member_skills in crew:
            skills |= _skills(member_skills)
        rows.append(
            UnitRow(
                id=unit.id,
                callsign=unit.callsign,
                type_code=unit.type_code,
                station=unit.station,
                area=unit.area,
                status_code=unit.status_code,
                status_since=unit.status_since,
                incident_reference=unit.reference,
                skills=tuple(sorted(skills)),
                crew=len(crew),
                latitude=unit.latitude,
                longitude=unit.longitude,
            )
        )
    return tuple(rows)


def read_board(uow: UnitOfWork, actor: Actor) -> BoardRead:
    """Every unit, for the resource board (the opening is audited)."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "unit", None)
        counter = uow.resources.counter()
        rows = _rows(uow, None)
        references = _open_references(uow)
        audit.record(uow, actor, "resource.board", "unit", None, detail=f"{len(rows)} units")
        uow.commit()
        return BoardRead(counter, rows, references)


def board_changes(uow: UnitOfWork, actor: Actor, since: int) -> BoardRead:
    """The units changed after counter value `since` (a board's poll found it moved).
    Not audited: the board's opening was, and this reads no record of a person."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "unit", None)
        counter = uow.resources.counter()
        return BoardRead(counter, _rows(uow, since), _open_references(uow))


def _open_references(uow: UnitOfWork) -> tuple[str, ...]:
    return tuple(uow.resources.open_references([s.value for s in OPEN_STATUSES], REFERENCES))


def unit_history(
    uow: UnitOfWork, actor: Actor, callsign: str, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "unit", callsign)
        unit = _unit(uow, callsign)
        entries = [
            HistoryEntry(c.changed_at, c.status_code, reference, who, c.terminal, c.override)
            for c, reference, who in uow.resources.history(unit.id, limit)
        ]
        audit.record(uow, actor, "unit.history", "unit", unit.id, detail=unit.callsign)
        uow.commit()
        return entries


def unit_record(
    uow: UnitOfWork, actor: Actor, callsign: str, limit: int = RECORD_LIMIT
) -> UnitRecord:
    """The unit's history view: its status changes and assignments, newest first
    (audited, as the opening of any record is)."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "unit", callsign)
        unit = _unit(uow, callsign)
        changes = tuple(
            HistoryEntry(c.changed_at, c.status_code, reference, who, c.terminal, c.override)
            for c, reference, who in uow.resources.history(unit.id, limit)
        )
        assignments = tuple(
            AssignmentEntry(reference, a.assigned_at, who, a.override, a.arrived_at, a.cleared_at)
            for a, reference, who in uow.resources.assignments_of_unit(unit.id, limit)
        )
        audit.record(uow, actor, "unit.history", "unit", unit.id, detail=unit.callsign)
        uow.commit()
        return UnitRecord(
            unit.callsign,
            unit.type_code,
            unit.station,
            unit.area,
            unit.status_code,
            changes,
            assignments,
            limit,
        )


def incident_resources(uow: UnitOfWork, actor: Actor, incident_id: int) -> IncidentResources:
    """The units sent to the incident and its attendance clock."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "incident", incident_id)
        units = tuple(
            AssignedUnit(callsign, status, a.assigned_at, a.arrived_at, a.cleared_at)
            for a, callsign, status in uow.resources.assignments_of_incident(incident_id)
        )
        record = uow.resources.attendance(incident_id)
        words: str | None = None
        met: bool | None = None
        if record is not None:
            incident = uow.incidents.get(incident_id)
            target = (
                None if record.target_seconds is None else timedelta(seconds=record.target_seconds)
            )
            if incident is not None:
                clock = attendance(incident.opened_at, record.arrived_at, target)
                words, met = clock.words, clock.met
        return IncidentResources(units, words, met)


# --- recommendations -------------------------------------------------------------------------


def _open_incident(uow: UnitOfWork, typed: str, *, for_update: bool = False) -> Incident:
    """The open incident a dispatcher meant: its whole reference, or the end of one
    (the newest open incident so ending)."""
    typed = typed.strip().upper()
    incident = uow.incidents.by_reference(typed)
    if incident is None and typed:
        matches = [
            i
            for i, _ in uow.incidents.references_ending(typed, 10)
            if i.status != IncidentStatus.CLOSED.value
        ]
        if len(matches) > 1:
            refs = ", ".join(i.reference for i in matches[:3])
            raise IncidentNotOpen(f"several open incidents end {typed}: {refs}; type more of it")
        incident = matches[0] if matches else None
    if incident is None:
        raise IncidentNotOpen(f"no incident {typed}: check the reference")
    if incident.status == IncidentStatus.CLOSED.value:
        raise IncidentNotOpen(f"{incident.reference} is closed: units go to open incidents")
    if for_update:
        locked = uow.incidents.get(incident.id, for_update=True)
        assert locked is not None  # it was read a moment ago in this transaction
        return locked
    return incident


def recommendations(
    uow: UnitOfWork,
    actor: Actor,
    reference: str,
    *,
    include_committed: bool = False,
    limit: int = RECOMMENDATIONS,
) -> Recommendations:
    """Units for an incident: available ones whose crews have the skills its type needs,
    nearest first (straight line from the incident's location); committed ones too only
    when the dispatcher asks (`include_committed`, the override)."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "incident", reference)
        # The incident, its place and the skills its type needs in one statement; a
        # reference typed by its end (or a closed one) goes the long way, worded.
        place = uow.resources.incident_place(reference.strip().upper())
        if place is None or place[2] == IncidentStatus.CLOSED.value:
            place = uow.resources.incident_place(_open_incident(uow, reference).reference)
            assert place is not None  # read a moment ago in this transaction
        incident_id, incident_reference, _, _, latitude, longitude, needed_codes = place
        needed = frozenset(_skills(needed_codes or ""))
        kinds = [StatusKind.AVAILABLE.value]
        if include_committed:
            kinds += sorted(k.value for k in COMMITTED_KINDS)
        # The database filters by kind and skills, orders by distance and keeps the
        # first `limit`; the domain's rule puts those in its exact order.
        rows = uow.resources.nearest_deployable(
            kinds, StatusKind.AVAILABLE.value, latitude, longitude, needed, limit
        )
        by_callsign = {row[1]: row for row in rows}
        ranked = recommend(
            (
                Candidate(callsign, StatusKind(kind), frozenset(_skills(skills or "")), lat, lon)
                for _, callsign, _, kind, lat, lon, _, skills in rows
            ),
            latitude=latitude,
            longitude=longitude,
            needed_skills=needed,
            include_committed=include_committed,
            limit=limit,
        )
        units = tuple(
            RecommendedUnit(
                callsign=r.callsign,
                type_code=by_callsign[r.callsign][6],
                status_code=by_callsign[r.callsign][2],
                distance_m=r.distance_m,
                committed=r.committed,
                skills=tuple(sorted(_skills(by_callsign[r.callsign][7] or ""))),
            )
            for r in ranked
        )
        audit.record(
            uow,
            actor,
            "unit.recommend",
            "incident",
            incident_id,
            detail=f"{len(units)} units" + (", committed included" if include_committed else ""),
        )
        uow.commit()
        return Recommendations(incident_reference, tuple(sorted(needed)), units, include_committed)


# --- changing ---------------------------------------------------------------------------------


def _unit(uow: UnitOfWork, callsign: str, *, for_update: bool = False) -> Unit:
    unit = uow.resources.by_callsign(callsign.strip().upper(), for_update=for_update)
    if unit is None:
        raise UnitNotFound(f"no unit {callsign.strip().upper()}: check the callsign")
    return unit


def _stamp(
    uow: UnitOfWork,
    actor: Actor,
    unit: Unit,
    status: UnitStatus,
    now: datetime,
    *,
    incident_id: int | None,
    override: bool = False,
) -> None:
    from controlroom.data.cold_models import UnitStatusChange

    unit.status_code = status.code
    unit.status_since = now
    unit.incident_id = incident_id
    uow.resources.add(
        UnitStatusChange(
            unit_id=unit.id,
            changed_at=now,
            status_code=status.code,
            incident_id=incident_id,
            changed_by_id=actor.staff_id,
            terminal=actor.terminal,
            override=override,
        )
    )


def _move_incident(
    uow: UnitOfWork, actor: Actor, incident: Incident, status: IncidentStatus, now: datetime
) -> None:
    """Move the incident along (open -> dispatched -> at scene), never back, logged as
    any status change is (the incident view's attendance line reads that entry)."""
    order = (IncidentStatus.OPEN, IncidentStatus.DISPATCHED, IncidentStatus.AT_SCENE)
    current = IncidentStatus(incident.status)
    if current not in order or order.index(status) <= order.index(current):
        return
    incident.status = status.value
    incident_log.append(
        uow,
        actor,
        incident.id,
        LogKind.STATUS_CHANGE,
        f"Status: {current.label} -> {status.label}",
        now,
        old=current.value,
        new=status.value,
    )


def _commit(uow: UnitOfWork, units: Sequence[Unit], callsign: str) -> None:
    try:
        uow.flush()
    except StaleDataError:
        # Another station's change to the unit landed between our read and our write.
        uow.rollback()
        raise UnitUnavailable(
            f"{callsign} was changed by another dispatcher just now: look again"
        ) from None
    uow.resources.announce(units)


def assign(
    uow: UnitOfWork,
    actor: Actor,
    callsigns: Sequence[str],
    reference: str,
    now: datetime,
    *,
    override: bool = False,
) -> StatusChanged:
    """Send one or more units to an open incident, all or none.

    A unit that is not available (committed to another incident, busy, on a break) is
    refused unless `override`; an off-duty unit always. The incident moves from open to
    dispatched; its log gets a line per unit; each unit's history and the audit trail a
    row. Two dispatchers sending the same unit at once: the second is told who has it."""
    from controlroom.data.cold_models import UnitAssignment

    if not callsigns:
        raise TransitionRefused("name a unit to assign")
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can assign units")
    with uow:
        access.require(
            uow, actor, Action.RESOURCE_DISPATCH, "incident", reference, audit_action="unit.assign"
        )
        codes = _codes(uow)
        assigned = codes.by_kind(StatusKind.ASSIGNED)
        incident = _open_incident(uow, reference, for_update=True)
        units: list[Unit] = []
        for callsign in dict.fromkeys(c.strip().upper() for c in callsigns):
            unit = _unit(uow, callsign, for_update=True)
            status = codes.status(unit.status_code)
            kind = status.kind if status is not None else StatusKind.BUSY
            if unit.incident_id == incident.id and kind.committed:
                raise UnitUnavailable(f"{unit.callsign} is already on {incident.reference}")
            try:
                check_transition(
                    unit.callsign,
                    kind,
                    StatusKind.ASSIGNED,
                    has_incident=unit.incident_id is not None,
                    override=override,
                )
            except TransitionRefused as refused:
                elsewhere = ""
                if unit.incident_id is not None:
                    other = uow.incidents.get(unit.incident_id)
                    elsewhere = f" (on {other.reference})" if other is not None else ""
                raise UnitUnavailable(f"{refused}{elsewhere}") from None
            if unit.incident_id is not None:
                # Overridden away from another incident: that assignment ends here.
                previous = uow.resources.open_assignment(unit.id, unit.incident_id)
                if previous is not None:
                    previous.cleared_at = now
            _stamp(uow, actor, unit, assigned, now, incident_id=incident.id, override=override)
            uow.resources.add(
                UnitAssignment(
                    unit_id=unit.id,
                    incident_id=incident.id,
                    assigned_at=now,
                    assigned_by_id=actor.staff_id,
                    override=override,
                )
            )
            incident_log.append(
                uow,
                actor,
                incident.id,
                LogKind.DISPATCH,
                f"{unit.callsign} assigned" + (" (override: was committed)" if override else ""),
                now,
                new=unit.callsign,
            )
            units.append(unit)
        warnings = _warnings(uow, incident, now)
        if warnings:
            incident_log.append(
                uow,
                actor,
                incident.id,
                LogKind.DISPATCH,
                f"Warnings given to {', '.join(u.callsign for u in units)}: " + "; ".join(warnings),
                now,
                new="WARNINGS",
            )
        _move_incident(uow, actor, incident, IncidentStatus.DISPATCHED, now)
        _commit(uow, units, units[0].callsign)
        names = ", ".join(u.callsign for u in units)
        audit.record(
            uow,
            actor,
            "unit.assign",
            "incident",
            incident.id,
            detail=f"{names} -> {incident.reference}" + (" (override)" if override else ""),
        )
        uow.commit()
        return StatusChanged(
            tuple(u.callsign for u in units),
            assigned.code,
            incident.reference,
            f"{names} assigned to {incident.reference}",
            warnings=warnings,
        )


def _warnings(uow: UnitOfWork, incident: Incident, now: datetime) -> tuple[str, ...]:
    """The hazards at the incident's location and the warning markers of the persons on
    it, in words. Persons are named by their part in the incident, never by name: a
    victim may be a sexual-offence complainant, whose anonymity is lifelong."""
    found: list[str] = []
    if incident.location_id is not None:
        found += [f"HAZARD {hazard}" for hazard in uow.resources.hazards(incident.location_id)]
    by_role: dict[str, list[str]] = {}
    for role, label in uow.resources.markers_by_role(incident.id, local_day(now)):
        by_role.setdefault(role, []).append(label.upper())
    found += [f"{role}: {', '.join(labels)}" for role, labels in by_role.items()]
    return tuple(found)


def set_status(
    uow: UnitOfWork,
    actor: Actor,
    callsign: str,
    status_code: str,
    now: datetime,
    grades: Sequence[Grade],
) -> StatusChanged:
    """A unit's new status (not an assignment: that is `assign`). En route and at scene
    are on the unit's incident; the first at scene stops the incident's attendance clock;
    available clears the unit from its incident."""
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can change a unit's status")
    with uow:
        access.require(
            uow, actor, Action.RESOURCE_DISPATCH, "unit", callsign, audit_action="unit.status"
        )
        codes = _codes(uow)
        wanted = codes.status(status_code)
        if wanted is None:
            raise TransitionRefused(f"{status_code} is not a status code")
        if wanted.kind is StatusKind.ASSIGNED:
            raise TransitionRefused(
                f"to assign, name the incident: {callsign} {ASSIGN} <reference>"
            )
        unit = _unit(uow, callsign, for_update=True)
        current = codes.status(unit.status_code)
        kind = current.kind if current is not None else StatusKind.BUSY
        if unit.status_code == wanted.code:
            raise TransitionRefused(f"{unit.callsign} is already {wanted.label.lower()}")
        check_transition(
            unit.callsign, kind, wanted.kind, has_incident=unit.incident_id is not None
        )
        incident = (
            uow.incidents.get(unit.incident_id, for_update=True)
            if unit.incident_id is not None
            else None
        )
        keeps_incident = wanted.kind in COMMITTED_KINDS
        words = f"{unit.callsign} {wanted.label.lower()}"
        clock_words: str | None = None
        if incident is not None:
            assignment = uow.resources.open_assignment(unit.id, incident.id)
            if wanted.kind is StatusKind.AT_SCENE:
                if assignment is not None and assignment.arrived_at is None:
                    assignment.arrived_at = now
                clock_words = _first_arrival(uow, actor, incident, unit, now, grades)
                _move_incident(uow, actor, incident, IncidentStatus.AT_SCENE, now)
            if not keeps_incident and assignment is not None:
                assignment.cleared_at = now
            incident_log.append(
                uow,
                actor,
                incident.id,
                LogKind.DISPATCH,
                f"{unit.callsign} {wanted.label.lower()}"
                + ("" if keeps_incident else " (cleared from the incident)"),
                now,
                old=current.code if current else None,
                new=wanted.code,
            )
            words += (
                f" ({incident.reference})" if keeps_incident else f", clear of {incident.reference}"
            )
        _stamp(
            uow,
            actor,
            unit,
            wanted,
            now,
            incident_id=incident.id if incident is not None and keeps_incident else None,
        )
        _commit(uow, [unit], unit.callsign)
        audit.record(
            uow,
            actor,
            "unit.status",
            "unit",
            unit.id,
            detail=f"{unit.callsign} {kind.value} -> {wanted.code}"
            + (f" on {incident.reference}" if incident is not None else ""),
        )
        uow.commit()
        return StatusChanged(
            (unit.callsign,),
            wanted.code,
            incident.reference if incident is not None else None,
            words,
            clock_words,
        )


def _first_arrival(
    uow: UnitOfWork,
    actor: Actor,
    incident: Incident,
    unit: Unit,
    now: datetime,
    grades: Sequence[Grade],
) -> str | None:
    """Stop the attendance clock if this is the incident's first arrival: met or missed
    against its grade's target, on the record. None when a unit arrived before."""
    from controlroom.data.cold_models import IncidentAttendance

    if uow.resources.attendance(incident.id) is not None:
        return None
    grade = next((g for g in grades if g.code == incident.grade), None)
    target = grade.target if grade is not None else None
    clock = attendance(incident.opened_at, now, target)
    uow.resources.add(
        IncidentAttendance(
            incident_id=incident.id,
            unit_id=unit.id,
            arrived_at=now,
            grade=incident.grade,
            target_seconds=None if target is None else int(target.total_seconds()),
            met=clock.met,
        )
    )
    # The triage queue shows the clock: its items of this incident are read again.
    uow.queues.announce(item.id for item in uow.queues.items_of_incident(incident.id))
    incident_log.append(
        uow,
        actor,
        incident.id,
        LogKind.ATTENDANCE,
        f"{clock.words} ({unit.callsign}, {incident.grade})",
        now,
        new=None if clock.met is None else ("met" if clock.met else "missed"),
    )
    return clock.words


# --- positions ------------------------------------------------------------------------------

# The synthetic force drives at this speed on its way (about 30 mph through towns).
SYNTHETIC_SPEED_MPS = 13.0
# The board's map shows at most this many open incidents, newest first.
MAP_INCIDENTS = 2_000


class NotSynthetic(Exception):
    """Only a synthetic force is moved by the program: real units report their own."""


@dataclass(frozen=True, slots=True)
class Moved:
    moved: int  # units that went some way
    arrived: tuple[str, ...]  # callsigns now at their incident's place


def report_positions(
    uow: UnitOfWork,
    actor: Actor,
    fixes: Sequence[tuple[str, float, float]],
) -> int:
    """Units' positions as their vehicles report them (callsign, latitude, longitude),
    in one transaction; every board sees them at its next poll. A position is not a
    status change: one audit event names the batch. Returns how many moved."""
    with uow:
        access.require(
            uow, actor, Action.RESOURCE_DISPATCH, "unit", None, audit_action="unit.position"
        )
        moved: list[Unit] = []
        for callsign, latitude, longitude in fixes:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError(f"{latitude}, {longitude} is not a position")
            unit = _unit(uow, callsign)
            if (unit.latitude, unit.longitude) != (latitude, longitude):
                unit.latitude, unit.longitude = latitude, longitude
                moved.append(unit)
        if moved:
            _commit(uow, moved, moved[0].callsign)
        audit.record(
            uow,
            actor,
            "unit.position",
            "unit",
            moved[0].id if len(moved) == 1 else None,
            detail=", ".join(u.callsign for u in moved[:20])
            + (f" and {len(moved) - 20} more" if len(moved) > 20 else ""),
        )
        uow.commit()
        return len(moved)


def move_synthetic_force(
    uow: UnitOfWork,
    actor: Actor,
    seconds: float,
    *,
    speed_mps: float = SYNTHETIC_SPEED_MPS,
) -> Moved:
    """The synthetic force on the move: every unit assigned or en route goes
    `speed_mps` x `seconds` in a straight line towards its incident's place (the
    dispatcher still books it at scene). Refused unless the database is synthetic."""
    with uow:
        access.require(
            uow, actor, Action.RESOURCE_DISPATCH, "unit", None, audit_action="unit.position"
        )
        info = uow.database.get()
        if info is None or not info.synthetic:
            raise NotSynthetic(
                "only a synthetic force is moved by the program: real units report"
                " their own positions"
            )
        codes = _codes(uow, types=False)
        on_the_way = [
            s.code for s in codes.statuses if s.kind in (StatusKind.ASSIGNED, StatusKind.EN_ROUTE)
        ]
        moved: list[Unit] = []
        arrived: list[str] = []
        for unit, lat, lon in uow.resources.moving(on_the_way):
            if (unit.latitude, unit.longitude) == (lat, lon):
                continue
            new_lat, new_lon, there = step_towards(
                unit.latitude,  # type: ignore[arg-type]  # the query keeps placed units
                unit.longitude,  # type: ignore[arg-type]
                lat,
                lon,
                speed_mps * seconds,
            )
            unit.latitude, unit.longitude = new_lat, new_lon
            moved.append(unit)
            if there:
                arrived.append(unit.callsign)
        if moved:
            _commit(uow, moved, moved[0].callsign)
            uow.commit()
        return Moved(len(moved), tuple(arrived))


@dataclass(frozen=True, slots=True)
class IncidentPoint:
    reference: str
    latitude: float
    longitude: float


def incident_points(
    uow: UnitOfWork, actor: Actor, *, opening: bool = False
) -> tuple[IncidentPoint, ...]:
    """Open incidents with a known place, for the board's map. The map's opening is
    audited (`unit.map`); its refreshes while it stays open are not, as the board's
    polls are not (the opening named what was shown)."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "incident", None)
        points = tuple(
            IncidentPoint(reference, lat, lon)
            for reference, lat, lon in uow.resources.incident_points(
                [s.value for s in OPEN_STATUSES], MAP_INCIDENTS
            )
        )
        if opening:
            audit.record(
                uow, actor, "unit.map", "incident", None, detail=f"{len(points)} open incidents"
            )
            uow.commit()
        return points


# --- emergencies ------------------------------------------------------------------------------


def raise_emergency(uow: UnitOfWork, actor: Actor, callsign: str, now: datetime) -> Emergency:
    """The radio's emergency button on a unit, entered by a dispatcher: every dispatcher's
    and supervisor's screen shows it until one acknowledges it."""
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can raise an emergency")
    with uow:
        access.require(
            uow, actor, Action.RESOURCE_DISPATCH, "unit", callsign, audit_action="unit.emergency"
        )
        unit = _unit(uow, callsign, for_update=True)
        if uow.resources.open_emergency_of(unit.id) is not None:
            raise UnitUnavailable(f"{unit.callsign} has an emergency already, not yet acknowledged")
        emergency = UnitEmergency(
            unit_id=unit.id,
            incident_id=unit.incident_id,
            raised_at=now,
            raised_by_id=actor.staff_id,
            raised_terminal=actor.terminal,
        )
        uow.resources.add(emergency)
        if unit.incident_id is not None:
            incident_log.append(
                uow,
                actor,
                unit.incident_id,
                LogKind.DISPATCH,
                f"EMERGENCY raised on {unit.callsign}",
                now,
                new="EMERGENCY",
            )
        uow.flush()
        uow.resources.announce([unit])
        audit.record(uow, actor, "unit.emergency", "unit", unit.id, detail=unit.callsign)
        uow.commit()
        raised = next(e for e in unacknowledged(uow) if e.id == emergency.id)
        return raised


def acknowledge_emergency(uow: UnitOfWork, actor: Actor, emergency_id: int, now: datetime) -> str:
    """Acknowledge an emergency (once: a second acknowledgement is told who was first)."""
    with uow:
        access.require(
            uow,
            actor,
            Action.RESOURCE_DISPATCH,
            "unit_emergency",
            emergency_id,
            audit_action="unit.emergency_ack",
        )
        emergency = uow.resources.emergency(emergency_id)
        if emergency is None:
            raise UnitNotFound("no such emergency")
        if emergency.acknowledged_at is not None:
            return "already acknowledged"
        emergency.acknowledged_at = now
        emergency.acknowledged_by_id = actor.staff_id
        unit = uow.resources.unit(emergency.unit_id)
        uow.flush()
        # Every board and alert hears of it at its next poll, and closes the alert.
        uow.resources.announce([unit] if unit is not None else [])
        audit.record(uow, actor, "unit.emergency_ack", "unit", emergency.unit_id)
        uow.commit()
        return "acknowledged"


# --- attendance for the command view ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttendanceToday:
    """First arrivals today (the control room's local day, midnight to now): how many
    met their grade's target and how many missed it, by grade."""

    met: int
    missed: int
    by_grade: tuple[tuple[str, int, int], ...]  # (grade, met, missed), by grade code

    @property
    def words(self) -> str:
        if not self.met and not self.missed:
            return ""
        grades = " · ".join(f"{g} {m} met, {x} missed" for g, m, x in self.by_grade)
        return (
            f"Attendance today: {self.met} met, {self.missed} missed"
            + (" !" if self.missed else "")
            + (f" ({grades})" if grades else "")
        )


def attendance_today(uow: UnitOfWork, actor: Actor, now: datetime) -> AttendanceToday:
    from datetime import time as clock_time

    from controlroom.domain.incidents import REFERENCE_ZONE

    start = datetime.combine(local_day(now), clock_time(0), tzinfo=REFERENCE_ZONE)
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "incident", None)
        counts: dict[str, list[int]] = {}
        for grade, met in uow.resources.attendance_between(start, now + timedelta(seconds=1)):
            if met is None:
                continue  # a grade without a target is neither met nor missed
            counts.setdefault(grade, [0, 0])[0 if met else 1] += 1
        by_grade = tuple((g, m, x) for g, (m, x) in sorted(counts.items()))
        return AttendanceToday(
            sum(m for _, m, _ in by_grade), sum(x for _, _, x in by_grade), by_grade
        )
