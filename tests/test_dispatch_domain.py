"""Resources and dispatch, the pure rules: status transitions, the recommendation order
and skill filter, the attendance clock, the command line's grammar and completion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlroom.domain.dispatch_commands import CommandError, DispatchCommand, complete, parse
from controlroom.domain.resources import (
    BoardFilter,
    Candidate,
    StatusKind,
    TransitionRefused,
    attendance,
    check_transition,
    next_value,
    recommend,
)

COMMANDS = ("av", "as", "er", "sc", "bu", "rf", "od")
LEEDS = (53.80, -1.55)


# --- transitions ----------------------------------------------------------------------------


def test_an_available_unit_is_assigned_and_a_committed_one_only_by_override():
    check_transition("MP21", StatusKind.AVAILABLE, StatusKind.ASSIGNED, has_incident=False)
    with pytest.raises(TransitionRefused, match="MP21 is at scene, not available: override"):
        check_transition("MP21", StatusKind.AT_SCENE, StatusKind.ASSIGNED, has_incident=True)
    check_transition(
        "MP21", StatusKind.AT_SCENE, StatusKind.ASSIGNED, has_incident=True, override=True
    )


def test_an_off_duty_unit_is_never_assigned_even_by_override():
    with pytest.raises(TransitionRefused, match="off duty: book it on"):
        check_transition(
            "MP21", StatusKind.OFF_DUTY, StatusKind.ASSIGNED, has_incident=False, override=True
        )


@pytest.mark.parametrize("wanted", [StatusKind.EN_ROUTE, StatusKind.AT_SCENE])
def test_en_route_and_at_scene_need_an_incident(wanted):
    with pytest.raises(TransitionRefused, match="has no incident: assign it first"):
        check_transition("MP21", StatusKind.AVAILABLE, wanted, has_incident=False)
    check_transition("MP21", StatusKind.ASSIGNED, wanted, has_incident=True)


def test_a_committed_unit_clears_before_going_off_duty():
    with pytest.raises(TransitionRefused, match="clear it"):
        check_transition("MP21", StatusKind.EN_ROUTE, StatusKind.OFF_DUTY, has_incident=True)
    check_transition("MP21", StatusKind.AVAILABLE, StatusKind.OFF_DUTY, has_incident=False)


# --- recommendations ---------------------------------------------------------------------------


def unit(callsign, kind=StatusKind.AVAILABLE, skills=("TA",), km_north=0.0):
    # 0.009 degrees of latitude is about a kilometre.
    return Candidate(callsign, kind, frozenset(skills), LEEDS[0] + km_north * 0.009, LEEDS[1])


def test_recommendations_are_nearest_first_and_skip_units_not_available():
    units = [
        unit("FAR", km_north=9),
        unit("NEAR", km_north=1),
        unit("BUSY", StatusKind.BUSY, km_north=0.1),
        unit("OFF", StatusKind.OFF_DUTY, km_north=0.1),
        unit("ONJOB", StatusKind.AT_SCENE, km_north=0.2),
        unit("MID", km_north=4),
    ]
    ranked = recommend(units, latitude=LEEDS[0], longitude=LEEDS[1], needed_skills=frozenset())
    assert [r.callsign for r in ranked] == ["NEAR", "MID", "FAR"]
    assert 900 < ranked[0].distance_m < 1100


def test_the_skill_filter_keeps_only_crews_with_every_needed_skill():
    units = [
        unit("TASER", skills=("TA",), km_north=1),
        unit("ARMED", skills=("FA", "AD"), km_north=5),
        unit("ARMED2", skills=("FA",), km_north=2),
    ]
    ranked = recommend(
        units, latitude=LEEDS[0], longitude=LEEDS[1], needed_skills=frozenset({"FA"})
    )
    assert [r.callsign for r in ranked] == ["ARMED2", "ARMED"]


def test_the_override_adds_committed_units_after_the_available_ones():
    units = [unit("ONJOB", StatusKind.EN_ROUTE, km_north=0.5), unit("FREE", km_north=8)]
    ranked = recommend(
        units,
        latitude=LEEDS[0],
        longitude=LEEDS[1],
        needed_skills=frozenset(),
        include_committed=True,
    )
    assert [(r.callsign, r.committed) for r in ranked] == [("FREE", False), ("ONJOB", True)]


def test_units_or_incidents_without_a_position_come_last_by_callsign():
    units = [Candidate("ZZ", StatusKind.AVAILABLE, frozenset(), None, None), unit("B1", km_north=3)]
    ranked = recommend(units, latitude=LEEDS[0], longitude=LEEDS[1], needed_skills=frozenset())
    assert [r.callsign for r in ranked] == ["B1", "ZZ"]
    unplaced = recommend(units, latitude=None, longitude=None, needed_skills=frozenset())
    assert [(r.callsign, r.distance_m) for r in unplaced] == [("B1", None), ("ZZ", None)]


# --- the attendance clock -----------------------------------------------------------------------

OPENED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_attendance_met_within_the_target_to_the_second_and_missed_after():
    target = timedelta(minutes=15)
    on_time = attendance(OPENED, OPENED + target, target)
    assert on_time.met is True
    assert on_time.words == "Attendance target MET: first unit at scene after 15 min of 15"
    late = attendance(OPENED, OPENED + target + timedelta(seconds=1), target)
    assert late.met is False
    assert late.words.startswith("Attendance target MISSED")


def test_a_grade_without_a_target_is_neither_met_nor_missed():
    clock = attendance(OPENED, OPENED + timedelta(hours=3), None)
    assert clock.met is None
    assert "no attendance target" in clock.words


# --- the command line ---------------------------------------------------------------------------


def test_the_grammar_assign_and_status_commands():
    assert parse("MP21 as CR-20261202-0042", COMMANDS) == DispatchCommand(
        ("MP21",), "as", "CR-20261202-0042"
    )
    assert parse("mp21,Mp22 AS 0042", COMMANDS) == DispatchCommand(("MP21", "MP22"), "as", "0042")
    assert parse("MP21 as! 0042", COMMANDS).override is True
    assert parse("  MP21   sc ", COMMANDS) == DispatchCommand(("MP21",), "sc")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("", "type a callsign"),
        ("MP21", "after MP21, a command"),
        ("MP21 zz", "zz is not a command"),
        ("MP21 as", "which incident"),
        ("MP21 sc 0042", "sc takes no incident"),
        ("MP21 sc! ", "only as! overrides"),
        ("MP21,MP22 av", "one unit at a time"),
        ("M[b]P sc", "is not a callsign"),
    ],
)
def test_the_grammar_says_what_is_wrong(line, words):
    with pytest.raises(CommandError, match=words.replace("[", r"\[")):
        parse(line, COMMANDS)


def test_completion_of_callsign_command_and_reference():
    known = {
        "callsigns": ["AR12", "MP21", "MP22"],
        "commands": COMMANDS,
        "references": ["CR-20261202-0042", "CR-20261202-0107"],
    }
    assert complete("mp2", **known) == "MP21"
    assert complete("MP21,AR", **known) == "MP21,AR12"
    assert complete("MP21 s", **known) == "MP21 sc"
    assert complete("MP21 as 0107", **known) == "MP21 as CR-20261202-0107"
    assert complete("MP21 as CR-20261202-00", **known) == "MP21 as CR-20261202-0042"
    assert complete("MP21 sc ", **known) is None
    assert complete("XX", **known) is None


# --- the board's filters ---------------------------------------------------------------------


def test_board_filter_and_cycling():
    assert BoardFilter().admits("A", "LS", "IRV", "AV")
    only = BoardFilter(station="A", status_code="AV")
    assert only.admits("A", "LS", "IRV", "AV")
    assert not only.admits("B", "LS", "IRV", "AV")
    assert not only.admits("A", "LS", "IRV", "SC")
    assert next_value(["a", "b"], None) == "a"
    assert next_value(["a", "b"], "a") == "b"
    assert next_value(["a", "b"], "b") is None


def test_a_welfare_check_is_due_at_scene_after_the_set_time_only():
    from controlroom.domain.resources import welfare_due

    after = timedelta(minutes=30)
    assert welfare_due(StatusKind.AT_SCENE, OPENED, OPENED + after, after)
    assert not welfare_due(
        StatusKind.AT_SCENE, OPENED, OPENED + after - timedelta(seconds=1), after
    )
    assert not welfare_due(StatusKind.BUSY, OPENED, OPENED + after * 3, after)


def test_a_limit_keeps_the_nearest_in_order():
    units = [unit(f"U{n}", km_north=n * 0.7) for n in range(30, 0, -1)]
    ranked = recommend(
        units, latitude=LEEDS[0], longitude=LEEDS[1], needed_skills=frozenset(), limit=3
    )
    assert [r.callsign for r in ranked] == ["U1", "U2", "U3"]
    assert ranked[0].distance_m < ranked[1].distance_m < ranked[2].distance_m


def test_the_clock_as_it_stands_running_over_stopped_and_without_a_target():
    from controlroom.domain.resources import ClockState, clock_now

    target = timedelta(minutes=15)
    running = clock_now(OPENED, None, None, target, OPENED + timedelta(minutes=9, seconds=59))
    assert (running.state, running.short, running.alarming) == (ClockState.RUNNING, "9m", False)
    on_the_second = clock_now(OPENED, None, None, target, OPENED + target)
    assert on_the_second.state is ClockState.RUNNING  # met to the second, as attendance()
    over = running.at(OPENED + target + timedelta(seconds=1))
    assert (over.state, over.short, over.alarming) == (ClockState.OVER, "!15m", True)
    assert running.at(OPENED + timedelta(hours=5)).short == "!5h"
    met = clock_now(OPENED, OPENED + timedelta(minutes=20), True, target, OPENED)
    assert (met.short, met.at(OPENED + timedelta(days=1))) == ("MET", met)  # stopped
    missed = clock_now(OPENED, OPENED + timedelta(minutes=20), False, target, OPENED)
    assert (missed.short, missed.alarming) == ("MISS", True)
    assert clock_now(OPENED, None, None, None, OPENED + target).state is ClockState.NONE
    assert clock_now(OPENED, OPENED, None, None, OPENED).short == "—"


def test_a_unit_steps_towards_its_incident_and_arrives_within_a_step():
    from controlroom.domain.geo import distance_m, step_towards

    lat, lon, there = step_towards(53.80, -1.55, 53.81, -1.55, 500)
    assert not there and distance_m(53.80, -1.55, lat, lon) == pytest.approx(500, rel=0.01)
    assert step_towards(lat, lon, 53.81, -1.55, 1000) == (53.81, -1.55, True)


def test_the_map_draws_units_as_braille_dots_and_an_incident_as_a_cross_of_its_own():
    from controlroom.domain.unit_map import INCIDENT, Bounds, Layer, MapPoint, counts, draw

    points = [
        MapPoint(53.80, -1.60, Layer.AVAILABLE),  # the south-west corner
        MapPoint(53.90, -1.40, Layer.COMMITTED),  # the north-east corner
        MapPoint(53.90, -1.40, Layer.AVAILABLE),  # the same cell: committed shows
        MapPoint(53.85, -1.50, Layer.INCIDENT),
        MapPoint(54.50, -1.50, Layer.INCIDENT),  # far off the box: left off
    ]
    bounds = Bounds(53.80, -1.60, 53.9001, -1.3999)
    rows = draw(points, bounds, 10, 4)
    text = ["".join(chunk for chunk, _ in row) for row in rows]
    assert all(len(line) == 10 for line in text) and len(text) == 4
    assert text[3][0] == chr(0x2800 + 0x40)  # bottom-left dot of the bottom-left cell
    assert text[0][9] != chr(0x2800) and rows[0][-1][1] is Layer.COMMITTED
    assert sum(line.count(INCIDENT) for line in text) == 1
    assert counts(points, bounds) == {Layer.AVAILABLE: 2, Layer.COMMITTED: 1, Layer.INCIDENT: 1}
    fitted = Bounds.around(points[:3]).fitted(40, 10)
    assert fitted.south < 53.80 and fitted.north > 53.90  # room round the units
