"""Resources and dispatch: unit status kinds and their transitions, the recommendation
order and skill filter, the attendance clock, and the resource board's filters.

Status codes are configuration (`db/unit_status.csv`: code, label, board key, command,
kind); the rules here speak only of a status's *kind*, so a force may call "at scene"
status 6 or "SC" and the rules hold. A unit is *committed* while it is tied to an
incident (assigned, en route, at scene); it is *available* only in an available kind.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from math import cos, radians

from controlroom.domain.geo import distance_m


class StatusKind(StrEnum):
    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    AT_SCENE = "at_scene"
    BUSY = "busy"  # on duty, tied up with something that is not an incident here
    REFRESHMENT = "refreshment"
    OFF_DUTY = "off_duty"

    @property
    def committed(self) -> bool:
        """Tied to an incident: the unit has one, and leaving it needs a clear-down."""
        return self in COMMITTED_KINDS

    @property
    def on_duty(self) -> bool:
        return self is not StatusKind.OFF_DUTY


COMMITTED_KINDS = frozenset({StatusKind.ASSIGNED, StatusKind.EN_ROUTE, StatusKind.AT_SCENE})


@dataclass(frozen=True, slots=True)
class UnitStatus:
    """One configured status code (a row of `db/unit_status.csv`)."""

    code: str  # "SC"
    label: str  # "At scene"
    key: str  # the one key on the resource board: "6"
    command: str  # the word on the command line: "sc"
    kind: StatusKind


class TransitionRefused(ValueError):
    """The unit cannot go from its status to the one asked for; the message says why."""


def check_transition(
    callsign: str,
    current: StatusKind,
    wanted: StatusKind,
    *,
    has_incident: bool,
    override: bool = False,
) -> None:
    """Raise `TransitionRefused` (in words) when a unit may not take status `wanted`.

    - assigned needs an incident (`assign`), and a unit already committed to another
      incident, or on a break, is assigned only when the dispatcher overrides; an
      off-duty unit is never assigned (book it on first);
    - en route and at scene need an incident the unit is assigned to;
    - off duty is refused while the unit is committed: clear it from the incident first.
    """
    if wanted is StatusKind.ASSIGNED:
        if current is StatusKind.OFF_DUTY:
            raise TransitionRefused(f"{callsign} is off duty: book it on before assigning it")
        if current is not StatusKind.AVAILABLE and not override:
            raise TransitionRefused(
                f"{callsign} is {current.value.replace('_', ' ')}, not available:"
                " override to assign it anyway"
            )
        return
    if wanted in (StatusKind.EN_ROUTE, StatusKind.AT_SCENE) and not has_incident:
        raise TransitionRefused(f"{callsign} has no incident: assign it first")
    if wanted is StatusKind.OFF_DUTY and current.committed:
        raise TransitionRefused(
            f"{callsign} is committed to an incident: clear it (available) before off duty"
        )


# --- recommendations --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A unit as the recommendation sees it."""

    callsign: str
    kind: StatusKind
    skills: frozenset[str]  # the union of its crew's skills
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Recommendation:
    callsign: str
    distance_m: float | None  # None: the unit's position is not known
    committed: bool


def recommend(
    candidates: Iterable[Candidate],
    *,
    latitude: float | None,
    longitude: float | None,
    needed_skills: frozenset[str],
    include_committed: bool = False,
    limit: int | None = None,
) -> list[Recommendation]:
    """Units for an incident at (latitude, longitude): every one whose crew has all of
    `needed_skills`, nearest first by straight-line distance (units whose position or
    whose incident's position is unknown last, by callsign). Only available units,
    unless `include_committed` (the dispatcher's override), which adds the committed
    ones after the available ones. Off duty, busy and refreshment units never appear."""
    known = latitude is not None and longitude is not None
    # Ranked first by an equirectangular approximation (exact to well under 0.1% across
    # a force's area, and a fraction of the haversine's cost); the distances reported,
    # and the final order of those chosen, are the haversine's.
    scale = cos(radians(latitude)) if known else 1.0  # type: ignore[arg-type]
    ranked: list[tuple[bool, bool, float, str, Candidate]] = []
    for unit in candidates:
        if unit.kind is StatusKind.AVAILABLE:
            committed = False
        elif include_committed and unit.kind.committed:
            committed = True
        else:
            continue
        if needed_skills and not needed_skills <= unit.skills:
            continue
        placed = known and unit.latitude is not None and unit.longitude is not None
        rough = 0.0
        if placed:
            north = unit.latitude - latitude  # type: ignore[operator]
            east = (unit.longitude - longitude) * scale  # type: ignore[operator]
            rough = north * north + east * east
        ranked.append((committed, not placed, rough, unit.callsign, unit))
    chosen = heapq.nsmallest(limit, ranked) if limit is not None else sorted(ranked)
    exact: list[tuple[bool, bool, float, str, Recommendation]] = []
    for committed, unplaced, _, callsign, unit in chosen:
        distance: float | None = None
        if not unplaced:
            distance = distance_m(latitude, longitude, unit.latitude, unit.longitude)  # type: ignore[arg-type]
        exact.append(
            (
                committed,
                unplaced,
                distance or 0.0,
                callsign,
                Recommendation(callsign, distance, committed),
            )
        )
    exact.sort(key=lambda row: row[:4])
    return [row[4] for row in exact]


# --- the attendance clock -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attendance:
    taken: timedelta
    target: timedelta | None
    met: bool | None  # None: the grade has no attendance target

    @property
    def words(self) -> str:
        minutes = int(self.taken.total_seconds() // 60)
        if self.target is None:
            return f"First unit at scene after {minutes} min (no attendance target)"
        target = int(self.target.total_seconds() // 60)
        verdict = "MET" if self.met else "MISSED"
        return f"Attendance target {verdict}: first unit at scene after {minutes} min of {target}"


def attendance(opened_at: datetime, arrived_at: datetime, target: timedelta | None) -> Attendance:
    """The grade's attendance clock, stopped at the first arrival: met when the first
    unit arrived within the target (to the second), missed after it."""
    taken = max(arrived_at - opened_at, timedelta(0))
    return Attendance(taken, target, None if target is None else taken <= target)


class ClockState(StrEnum):
    """Where an incident's attendance clock stands."""

    MET = "met"  # the first unit arrived within the target
    MISSED = "missed"  # the first unit arrived after it
    RUNNING = "running"  # nobody there yet, still within the target
    OVER = "over"  # nobody there yet and the target has gone: it will be missed
    ARRIVED = "arrived"  # a unit is there; the grade has no target
    NONE = "none"  # nobody there yet; the grade has no target


@dataclass(frozen=True, slots=True)
class ClockNow:
    state: ClockState
    taken: timedelta  # to the first arrival, or to now while nobody is there
    target: timedelta | None
    opened_at: datetime

    def at(self, now: datetime) -> ClockNow:
        """The clock at a later `now`: a stopped clock is as it was, a running one moves."""
        if self.state not in (ClockState.RUNNING, ClockState.NONE, ClockState.OVER):
            return self
        return clock_now(self.opened_at, None, None, self.target, now)

    @property
    def short(self) -> str:
        """Five characters at most, for a queue's column: MET, MISS, 12m, !75m, !3h."""
        if self.state is ClockState.MET:
            return "MET"
        if self.state is ClockState.MISSED:
            return "MISS"
        if self.state in (ClockState.ARRIVED, ClockState.NONE):
            return "—"
        minutes = int(self.taken.total_seconds() // 60)
        mark = "!" if self.state is ClockState.OVER else ""
        if minutes < 100:
            return f"{mark}{minutes}m"
        hours = minutes // 60
        return f"{mark}{hours}h" if hours < 100 else f"{mark}{hours // 24}d"

    @property
    def alarming(self) -> bool:
        """Missed, or running past the target: shown bold."""
        return self.state in (ClockState.MISSED, ClockState.OVER)


def clock_now(
    opened_at: datetime,
    arrived_at: datetime | None,
    met: bool | None,
    target: timedelta | None,
    now: datetime,
) -> ClockNow:
    """The attendance clock as it stands at `now`: stopped at the first arrival (met or
    missed as recorded then), else running from the incident's opening (over once the
    target has gone)."""
    if arrived_at is not None:
        taken = max(arrived_at - opened_at, timedelta(0))
        if met is None:
            return ClockNow(ClockState.ARRIVED, taken, target, opened_at)
        state = ClockState.MET if met else ClockState.MISSED
        return ClockNow(state, taken, target, opened_at)
    taken = max(now - opened_at, timedelta(0))
    if target is None:
        return ClockNow(ClockState.NONE, taken, None, opened_at)
    state = ClockState.OVER if taken > target else ClockState.RUNNING
    return ClockNow(state, taken, target, opened_at)


# --- welfare ---------------------------------------------------------------------------------


def welfare_due(kind: StatusKind, status_since: datetime, now: datetime, after: timedelta) -> bool:
    """A unit at scene for `after` or longer without a status update: the dispatcher
    checks on the officers."""
    return kind is StatusKind.AT_SCENE and now - status_since >= after


# --- the resource board's filters ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoardFilter:
    """What the board shows: None in a field means every value."""

    station: str | None = None
    area: str | None = None
    type_code: str | None = None
    status_code: str | None = None

    def admits(self, station: str, area: str, type_code: str, status_code: str) -> bool:
        return (
            (self.station is None or station == self.station)
            and (self.area is None or area == self.area)
            and (self.type_code is None or type_code == self.type_code)
            and (self.status_code is None or status_code == self.status_code)
        )


def next_value(values: Sequence[str], current: str | None) -> str | None:
    """Cycling a filter: every value (None), then each value in turn, then every again."""
    if current is None:
        return values[0] if values else None
    try:
        index = values.index(current)
    except ValueError:
        return None
    return values[index + 1] if index + 1 < len(values) else None
