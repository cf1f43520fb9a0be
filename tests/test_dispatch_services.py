"""Resources and dispatch services on a real database (SQLite; PostgreSQL when
CONTROLROOM_TEST_DATABASE_URL is set): assigning, status changes and the attendance
clock on the record, recommendations, permissions, the boards' change counter, and two
dispatchers sending the same unit at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import IncidentLogEntry, UnitStatusChange
from controlroom.data.models import AuditEvent, Incident
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.resources import TransitionRefused
from controlroom.domain.roles import Role
from controlroom.services import emergencies, resources
from controlroom.services.access import PermissionDenied
from tests.databases import SEED_ANCHOR
from tests.factories import add_incident, add_location, add_unit, staff_actor

# The incident was opened an hour before the anchor (add_incident's default age).
OPENED = SEED_ANCHOR - timedelta(hours=1)


@pytest.fixture
def dispatcher(database):
    return staff_actor(database, Role.DISPATCHER, terminal="10.0.0.7")


def _incident(database, **kwargs):
    place = add_location(database, latitude=53.80, longitude=-1.55)
    return add_incident(database, location_id=place, **kwargs)


def _log(database, reference):
    with database.uow() as uow:
        incident = uow.incidents.by_reference(reference)
        return (incident.id, incident.status), [
            (e.kind, e.text, e.new_value)
            for e in uow.session.scalars(
                select(IncidentLogEntry)
                .where(IncidentLogEntry.incident_id == incident.id)
                .order_by(IncidentLogEntry.id)
            )
        ]


def _audit(database, action):
    with database.uow() as uow:
        return [
            (e.actor, e.terminal, e.outcome, e.detail)
            for e in uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


def test_assign_then_en_route_then_at_scene_stops_the_clock_met(database, dispatcher):
    reference = _incident(database, grade="G2")  # 60 min target; opened 60 min ago
    add_unit(database, "MP21")
    add_unit(database, "MP22")
    done = resources.assign(
        database.uow(), dispatcher, ["mp21", "MP22"], reference, OPENED + timedelta(minutes=2)
    )
    assert done.words == f"MP21, MP22 assigned to {reference}"
    resources.set_status(
        database.uow(), dispatcher, "MP21", "ER", OPENED + timedelta(minutes=3), DEFAULT_GRADES
    )
    arrived = resources.set_status(
        database.uow(), dispatcher, "MP21", "SC", OPENED + timedelta(minutes=40), DEFAULT_GRADES
    )
    assert arrived.attendance == "Attendance target MET: first unit at scene after 40 min of 60"
    # A second arrival does not move the clock.
    later = resources.set_status(
        database.uow(), dispatcher, "MP22", "SC", OPENED + timedelta(minutes=90), DEFAULT_GRADES
    )
    assert later.attendance is None

    (incident_id, status), log = _log(database, reference)
    assert status == "at_scene"
    kinds = [(kind, new) for kind, _, new in log]
    assert kinds == [
        ("dispatch", "MP21"),
        ("dispatch", "MP22"),
        ("status_change", "dispatched"),
        ("dispatch", "ER"),
        ("attendance", "met"),
        ("status_change", "at_scene"),
        ("dispatch", "SC"),
        ("dispatch", "SC"),
    ]
    with database.uow() as uow:
        record = uow.resources.attendance(incident_id)
        assert (record.met, record.grade, record.target_seconds) == (True, "G2", 3600)
        history = uow.session.scalars(select(UnitStatusChange).order_by(UnitStatusChange.id)).all()
        assert [(h.status_code, h.terminal, h.changed_by_id) for h in history][:3] == [
            ("AS", "10.0.0.7", dispatcher.staff_id),
            ("AS", "10.0.0.7", dispatcher.staff_id),
            ("ER", "10.0.0.7", dispatcher.staff_id),
        ]
    assert [a[:3] for a in _audit(database, "unit.assign")] == [
        ("test.dispatcher", "10.0.0.7", "success")
    ]
    assert len(_audit(database, "unit.status")) == 3
    shown = resources.incident_resources(database.uow(), dispatcher, incident_id)
    assert shown.met is True
    assert [(u.callsign, u.status_code) for u in shown.units] == [("MP21", "SC"), ("MP22", "SC")]


def test_a_late_first_arrival_is_missed_on_the_record(database, dispatcher):
    reference = _incident(database, grade="G1")  # 15 min target
    add_unit(database, "AR1")
    resources.assign(database.uow(), dispatcher, ["AR1"], reference, OPENED)
    arrived = resources.set_status(
        database.uow(), dispatcher, "AR1", "SC", OPENED + timedelta(minutes=16), DEFAULT_GRADES
    )
    assert arrived.attendance.startswith("Attendance target MISSED")
    _, log = _log(database, reference)
    assert ("attendance", "missed") in [(kind, new) for kind, _, new in log]


def test_clearing_the_unit_frees_it_and_keeps_its_history(database, dispatcher):
    reference = _incident(database)
    add_unit(database, "MP21")
    resources.assign(database.uow(), dispatcher, ["MP21"], reference, OPENED)
    cleared = resources.set_status(
        database.uow(), dispatcher, "MP21", "AV", OPENED + timedelta(minutes=30), DEFAULT_GRADES
    )
    assert cleared.words == f"MP21 available, clear of {reference}"
    board = resources.read_board(database.uow(), dispatcher)
    (row,) = board.units
    assert (row.status_code, row.incident_reference) == ("AV", None)
    history = resources.unit_history(database.uow(), dispatcher, "MP21")
    assert [(h.status_code, h.reference) for h in history] == [("AV", None), ("AS", reference)]


def test_a_committed_unit_needs_the_override_and_the_other_incident_is_named(database, dispatcher):
    first, second = _incident(database), _incident(database)
    add_unit(database, "MP21")
    resources.assign(database.uow(), dispatcher, ["MP21"], first, OPENED)
    with pytest.raises(resources.UnitUnavailable, match=f"override.*on {first}"):
        resources.assign(database.uow(), dispatcher, ["MP21"], second, OPENED)
    resources.assign(database.uow(), dispatcher, ["MP21"], second, OPENED, override=True)
    board = resources.read_board(database.uow(), dispatcher)
    assert board.units[0].incident_reference == second


def test_status_rules_are_refused_in_words(database, dispatcher):
    add_unit(database, "MP21")
    add_unit(database, "OFF1", status_code="OD")
    reference = _incident(database)
    with pytest.raises(TransitionRefused, match="MP21 has no incident: assign it first"):
        resources.set_status(database.uow(), dispatcher, "MP21", "SC", OPENED, DEFAULT_GRADES)
    with pytest.raises(resources.UnitUnavailable, match="off duty"):
        resources.assign(database.uow(), dispatcher, ["OFF1"], reference, OPENED, override=True)
    with pytest.raises(resources.UnitNotFound, match="no unit XX9"):
        resources.assign(database.uow(), dispatcher, ["xx9"], reference, OPENED)
    # All or none: the good unit named with the bad one was not assigned.
    with pytest.raises(resources.UnitUnavailable):
        resources.assign(database.uow(), dispatcher, ["MP21", "OFF1"], reference, OPENED)
    assert resources.read_board(database.uow(), dispatcher).units[0].status_code == "AV"


def test_recommendations_nearest_first_filtered_by_the_types_skills(database, dispatcher):
    # WEAP (possession of weapons) needs firearms officers (db/incident_type_skill.csv).
    reference = _incident(database, type_code="WEAP")
    add_unit(database, "NEAR", skills=("TA",), latitude=53.801)
    add_unit(database, "AR2", type_code="ARV", skills=("FA", "AD"), latitude=53.85)
    add_unit(database, "AR1", type_code="ARV", skills=("FA",), latitude=53.82)
    add_unit(database, "AR0", type_code="ARV", skills=("FA",), latitude=53.805, status_code="RF")
    found = resources.recommendations(database.uow(), dispatcher, reference)
    assert found.needed_skills == ("FA",)
    assert [u.callsign for u in found.units] == ["AR1", "AR2"]
    assert found.units[0].distance_m == pytest.approx(2224, rel=0.01)

    resources.assign(database.uow(), dispatcher, ["AR1"], _incident(database), OPENED)
    again = resources.recommendations(database.uow(), dispatcher, reference)
    assert [u.callsign for u in again.units] == ["AR2"]
    overridden = resources.recommendations(
        database.uow(), dispatcher, reference, include_committed=True
    )
    assert [(u.callsign, u.committed) for u in overridden.units] == [
        ("AR2", False),
        ("AR1", True),
    ]


def test_the_database_keeps_the_nearest_dozen_with_skills_held_across_the_crew(
    database, dispatcher
):
    """The selection is the database's (filter, order, limit): the nearest `limit` in
    the domain's order, a skill held by any one of the crew, a code inside another
    never taken for it, an unplaced unit last, in a fixed number of statements."""
    from sqlalchemy import event

    from controlroom.data.cold_models import UnitCrew

    reference = _incident(database, type_code="WEAP")  # needs FA
    for n in range(14):  # 14 firearms units, 0.001 degrees of latitude apart
        add_unit(database, f"AR{n}", skills=("FA",), latitude=53.80 + 0.001 * (n + 1))
    add_unit(database, "TRAP", skills=("XFA", "FAX"), latitude=53.80)  # no FA of its own
    pair = add_unit(database, "PAIR", skills=("TA",), latitude=53.8005)
    with database.uow() as uow:  # the second officer holds the firearms
        uow.session.add(UnitCrew(unit_id=pair, collar_number="9", name="PC Two", skills="FA"))
        uow.commit()
    add_unit(database, "LOST", skills=("FA",), latitude=None, longitude=None)

    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(database.engine, "before_cursor_execute", capture)
    try:
        found = resources.recommendations(database.uow(), dispatcher, reference[-4:], limit=12)
    finally:
        event.remove(database.engine, "before_cursor_execute", capture)
    assert found.reference == reference
    assert [u.callsign for u in found.units] == ["PAIR", *(f"AR{n}" for n in range(11))]
    assert found.units[0].skills == ("FA", "TA")
    # The reference typed by its end takes the long way (two reads more); the unit
    # reads are one statement however many units there are, plus the audit's.
    assert len([s for s in seen if "unit_crew" in s]) == 1

    everyone = resources.recommendations(database.uow(), dispatcher, reference, limit=20)
    assert [u.callsign for u in everyone.units][-1] == "LOST"
    assert everyone.units[-1].distance_m is None
    assert "TRAP" not in {u.callsign for u in everyone.units}

    closed = add_incident(database, status="closed")
    with pytest.raises(resources.IncidentNotOpen, match="closed"):
        resources.recommendations(database.uow(), dispatcher, closed)


def test_call_handlers_see_the_board_but_may_not_dispatch_and_the_attempt_is_audited(database):
    handler = staff_actor(database, Role.CALL_HANDLER)
    reference = _incident(database)
    add_unit(database, "MP21")
    assert [u.callsign for u in resources.read_board(database.uow(), handler).units] == ["MP21"]
    with pytest.raises(PermissionDenied, match="may not assign units"):
        resources.assign(database.uow(), handler, ["MP21"], reference, OPENED)
    assert [a[2] for a in _audit(database, "unit.assign")] == ["denied"]
    analyst = staff_actor(database, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        resources.read_board(database.uow(), analyst)


def test_the_board_reads_only_what_changed_since_its_counter(database, dispatcher):
    reference = _incident(database)
    for callsign in ("A1", "A2", "A3"):
        add_unit(database, callsign)
    board = resources.read_board(database.uow(), dispatcher)
    poll = emergencies.open_counter_poll(database.uow())
    try:
        assert poll.read() == board.counter
        resources.assign(database.uow(), dispatcher, ["A2"], reference, OPENED)
        assert poll.read() == board.counter + 1
    finally:
        poll.close()
    changed = resources.board_changes(database.uow(), dispatcher, board.counter)
    assert [(u.callsign, u.status_code, u.incident_reference) for u in changed.units] == [
        ("A2", "AS", reference)
    ]


def test_the_board_reads_plain_rows_not_unit_or_crew_objects(database, dispatcher):
    """A force's 900 units and their crews, loaded as ORM objects for the board's read,
    were 3.5 MiB of a session's peak memory (issue 15): the board reads plain values,
    and shows the same units, skills, crews and incidents."""
    from sqlalchemy import event

    from controlroom.data.cold_models import UnitCrew
    from controlroom.data.models import Unit

    reference = _incident(database)
    add_unit(database, "A1", skills=("TA", "FA"))
    add_unit(database, "A2", skills=())
    resources.assign(database.uow(), dispatcher, ["A1"], reference, OPENED)
    loaded: list[object] = []

    def count(target, context) -> None:
        loaded.append(target)

    event.listen(Unit, "load", count)
    event.listen(UnitCrew, "load", count)
    try:
        board = resources.read_board(database.uow(), dispatcher)
        changed = resources.board_changes(database.uow(), dispatcher, board.counter - 1)
    finally:
        event.remove(Unit, "load", count)
        event.remove(UnitCrew, "load", count)
    assert loaded == []
    assert [(u.callsign, u.skills, u.crew, u.incident_reference) for u in board.units] == [
        ("A1", ("FA", "TA"), 1, reference),
        ("A2", (), 1, None),
    ]
    assert [u.callsign for u in changed.units] == ["A1"]


def test_two_dispatchers_sending_the_same_unit_at_once_one_wins_the_other_is_told(database):
    first = staff_actor(database, Role.DISPATCHER, "dispatcher.one")
    second = staff_actor(database, Role.DISPATCHER, "dispatcher.two")
    incidents = {first: _incident(database), second: _incident(database)}
    add_unit(database, "MP21")
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def send(actor):
        start.wait()
        try:
            outcomes[actor.username] = resources.assign(
                database.uow(), actor, ["MP21"], incidents[actor], OPENED
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what is asserted
            outcomes[actor.username] = exc

    threads = [threading.Thread(target=send, args=(actor,)) for actor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [o for o in outcomes.values() if isinstance(o, resources.StatusChanged)]
    told = [o for o in outcomes.values() if isinstance(o, resources.UnitUnavailable)]
    assert len(won) == 1 and len(told) == 1, outcomes
    assert f"on {won[0].reference}" in str(told[0])
    with database.uow() as uow:
        unit = uow.resources.by_callsign("MP21")
        incident = uow.session.get(Incident, unit.incident_id)
        assert incident.reference == won[0].reference
        assert len(uow.session.scalars(select(UnitStatusChange)).all()) == 1


def test_the_synthetic_force_has_a_few_hundred_units_at_every_towns_station(force):
    dispatcher = staff_actor(force, Role.DISPATCHER)
    board = resources.read_board(force.uow(), dispatcher)
    assert len(board.units) == 240
    stations = {u.station for u in board.units}
    assert len(stations) == 8 and all(s.endswith(" Police Station") for s in stations)
    assert {u.area for u in board.units} <= {"Central", "North", "South", "East", "West"}
    armed = [u for u in board.units if u.type_code == "ARV"]
    assert armed and all("FA" in u.skills for u in armed)
    statuses = {u.status_code for u in board.units}
    assert {"AV", "OD"} <= statuses
    assert all(u.crew >= 1 and u.latitude is not None for u in board.units)


def test_the_assignment_carries_the_hazards_and_markers_in_words_never_a_name(database, dispatcher):
    from controlroom.data.cold_models import IncidentPerson
    from tests.factories import add_marker, add_person

    place = add_location(database, hazards=("DOG ON PREMISES",))
    reference = add_incident(database, location_id=place)
    suspect = add_person(database, "Kieran", "Hostile")
    add_marker(database, suspect, "WEAPONS")
    add_marker(database, suspect, "VIOLENT")
    with database.uow() as uow:
        incident = uow.incidents.by_reference(reference)
        uow.session.add(IncidentPerson(incident_id=incident.id, person_id=suspect, role="suspect"))
        uow.commit()
    add_unit(database, "MP21")
    done = resources.assign(database.uow(), dispatcher, ["MP21"], reference, OPENED)
    assert done.warnings == ("HAZARD DOG ON PREMISES", "suspect: VIOLENT, WEAPONS")
    assert done.said == (
        f"MP21 assigned to {reference} · ! WARNINGS: HAZARD DOG ON PREMISES; "
        "suspect: VIOLENT, WEAPONS"
    )
    _, log = _log(database, reference)
    given = [text for kind, text, new in log if new == "WARNINGS"]
    assert given == ["Warnings given to MP21: HAZARD DOG ON PREMISES; suspect: VIOLENT, WEAPONS"]
    assert "Hostile" not in given[0]


def test_attendance_today_for_the_command_view(database, dispatcher):
    for grade, minutes, callsign in (("G1", 10, "A1"), ("G1", 20, "A2"), ("G2", 30, "A3")):
        reference = _incident(database, grade=grade)
        add_unit(database, callsign)
        resources.assign(database.uow(), dispatcher, [callsign], reference, OPENED)
        resources.set_status(
            database.uow(),
            dispatcher,
            callsign,
            "SC",
            OPENED + timedelta(minutes=minutes),
            DEFAULT_GRADES,
        )
    today = resources.attendance_today(database.uow(), dispatcher, SEED_ANCHOR)
    assert (today.met, today.missed) == (2, 1)
    assert today.words == (
        "Attendance today: 2 met, 1 missed ! (G1 1 met, 1 missed · G2 1 met, 0 missed)"
    )
    nothing = resources.attendance_today(
        database.uow(), dispatcher, SEED_ANCHOR + timedelta(days=2)
    )
    assert nothing.words == ""


def test_the_triage_queue_shows_the_attendance_clock_running_then_met_or_missed(
    database, dispatcher
):
    """Each queue row carries its incident's clock: running (over once the grade's
    target has gone), then stopped at the first arrival, met or missed as recorded; the
    arrival announces the incident's items so every station's queue reads them again."""
    from controlroom.domain.queues import QueuePolicy
    from controlroom.domain.resources import ClockState
    from controlroom.services import queues

    policy = QueuePolicy()
    on_time = _incident(database, grade="G2", age=timedelta(minutes=10))  # 60 min target
    late = _incident(database, grade="G1", age=timedelta(minutes=40))  # 15 min target
    with database.uow() as uow:
        for reference in (on_time, late):
            queues.route_incident(uow, uow.incidents.by_reference(reference), SEED_ANCHOR)
        uow.commit()
    supervisor = staff_actor(database, Role.SUPERVISOR)

    def clocks():
        listing = queues.list_queue(database.uow(), supervisor, policy, SEED_ANCHOR)
        return {r.reference: (r.attendance.state, r.attendance.short) for r in listing.rows}

    assert clocks() == {on_time: (ClockState.RUNNING, "10m"), late: (ClockState.OVER, "!40m")}

    def items(reference):
        with database.uow() as uow:
            incident = uow.incidents.by_reference(reference)
            return {item.id for item in uow.queues.items_of_incident(incident.id)}

    add_unit(database, "MP21")
    add_unit(database, "MP22")
    feed = queues.open_change_feed(database.uow)
    try:
        for callsign, reference in (("MP21", on_time), ("MP22", late)):
            resources.assign(database.uow(), dispatcher, [callsign], reference, SEED_ANCHOR)
            while feed.wait(0.3) is not None:
                pass  # what the assignment announced, if anything
            resources.set_status(
                database.uow(), dispatcher, callsign, "SC", SEED_ANCHOR, DEFAULT_GRADES
            )
            heard = feed.wait(2.0)  # the queue's change feed hears of the arrival
            assert heard is not None and (heard.everything or items(reference) <= heard.item_ids)
    finally:
        feed.close()
    assert clocks() == {on_time: (ClockState.MET, "MET"), late: (ClockState.MISSED, "MISS")}


def test_a_units_record_has_every_change_and_assignment_newest_first_audited(database, dispatcher):
    first, second = _incident(database), _incident(database)
    add_unit(database, "MP21")
    later = OPENED + timedelta(minutes=5)
    resources.assign(database.uow(), dispatcher, ["MP21"], first, OPENED)
    resources.set_status(database.uow(), dispatcher, "MP21", "SC", later, DEFAULT_GRADES)
    resources.assign(database.uow(), dispatcher, ["MP21"], second, later, override=True)
    record = resources.unit_record(database.uow(), dispatcher, "mp21")
    assert (record.callsign, record.status_code, record.cut) == ("MP21", "AS", False)
    assert [(c.status_code, c.reference, c.override) for c in record.changes] == [
        ("AS", second, True),
        ("SC", first, False),
        ("AS", first, False),
    ]
    assert {(c.by, c.terminal) for c in record.changes} == {(dispatcher.username, "10.0.0.7")}
    assert [
        (a.reference, a.by, a.override, a.arrived_at, a.cleared_at) for a in record.assignments
    ] == [
        (second, dispatcher.username, True, None, None),
        (first, dispatcher.username, False, later, later),  # taken off by the override
    ]
    assert _audit(database, "unit.history") == [
        (dispatcher.username, "10.0.0.7", "success", "MP21")
    ]
    assert resources.unit_record(database.uow(), dispatcher, "MP21", limit=2).cut


def test_the_synthetic_force_moves_units_on_their_way_and_boards_hear_of_it(database, dispatcher):
    """Assigned and en-route units go towards their incident at the synthetic speed;
    the others stay; every board reads the moved units at its next poll. A database
    that is not synthetic is refused: real units report their own positions."""
    reference = _incident(database)  # at 53.80, -1.55
    add_unit(database, "MP21", latitude=53.82)  # 2.2 km north of it
    add_unit(database, "MP22", latitude=53.83)  # stays: available
    resources.assign(database.uow(), dispatcher, ["MP21"], reference, OPENED)
    with pytest.raises(resources.NotSynthetic):
        resources.move_synthetic_force(database.uow(), dispatcher, 60)
    with database.uow() as uow:
        uow.database.get().synthetic = True
        uow.commit()
    seen = resources.read_board(database.uow(), dispatcher).counter
    moved = resources.move_synthetic_force(database.uow(), dispatcher, 60, speed_mps=13)
    assert moved == resources.Moved(1, ())
    changed = resources.board_changes(database.uow(), dispatcher, seen)
    (row,) = changed.units
    assert row.callsign == "MP21" and row.latitude == pytest.approx(53.82 - 780 / 111_195, 1e-4)
    arrived = resources.move_synthetic_force(database.uow(), dispatcher, 600)
    assert arrived.arrived == ("MP21",)
    assert resources.report_positions(database.uow(), dispatcher, [("MP22", 53.9, -1.5)]) == 1
    assert _audit(database, "unit.position") == [
        (dispatcher.username, "10.0.0.7", "success", "MP22")
    ]
    points = resources.incident_points(database.uow(), dispatcher, opening=True)
    assert [(p.reference, p.latitude) for p in points] == [(reference, 53.80)]
    resources.incident_points(database.uow(), dispatcher)  # a refresh: not audited again
    assert _audit(database, "unit.map") == [
        (dispatcher.username, "10.0.0.7", "success", "1 open incidents")
    ]
