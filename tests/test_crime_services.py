"""Crime recording services on a real database (both backends): crimes from incidents,
one per victim; reclassification and cancellation; outcomes; the NCRS clock, stopped by
a crime or a signed-off no-crime decision, and the recording queue by time left."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import crimes, incidents
from controlroom.services.access import PermissionDenied
from controlroom.services.crimes import CrimeInputError
from tests.factories import add_person, staff_actor

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)


@pytest.fixture
def handler(database):
    return staff_actor(database, Role.CALL_HANDLER)


@pytest.fixture
def dispatcher(database):
    return staff_actor(database, Role.DISPATCHER)


def _incident(database, actor, *, type_code="ASLTI", persons=(), at=NOW, domestic=False):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code=type_code,
            location_text="1 Test Street",
            possible_crime=True,
            domestic=domestic,
            persons=tuple(persons),
        ),
        at,
        GRADES,
    ).id


def _last_audit(database):
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        return event.action, event.outcome, event.detail


def test_a_crime_is_recorded_for_each_victim_and_stops_the_clock(database, handler):
    first, second, suspect = (add_person(database, n, "Victim") for n in ("Ann", "Bea", "Cal"))
    incident_id = _incident(
        database, handler, persons=((first, "victim"), (second, "victim"), (suspect, "suspect"))
    )
    before = crimes.incident_crimes(database.uow(), handler, incident_id, LATER)
    assert before.clock.running and not before.clock.breached and before.crimes == ()
    recorded = crimes.record_crimes(
        database.uow(),
        handler,
        incident_id,
        LATER,
        offence_code="8n",
        victim_ids=(first, second),
        suspect_ids=(suspect,),
    )
    assert [c.victim for c in recorded.crimes] == ["Ann Victim", "Bea Victim"]
    assert all(c.offence_code == "8N" and c.suspects == ("Cal Victim",) for c in recorded.crimes)
    assert all(c.reference.startswith("CRM-2026-") for c in recorded.crimes)
    assert recorded.clock.stopped_at == LATER and not recorded.clock.breached
    assert recorded.clock.words == "stopped after 2h 00m, within 24h"
    action, outcome, detail = _last_audit(database)
    assert (action, outcome) == ("crime.record", "success") and "as 8N" in detail
    view = incidents.view_incident_by_id(database.uow(), handler, incident_id, today=date.today())
    assert view.log[-1].kind == "crime" and "8N Assault with injury" in view.log[-1].text
    # One crime per victim: the same victim again is refused, at the field.
    with pytest.raises(CrimeInputError) as refused:
        crimes.record_crimes(
            database.uow(), handler, incident_id, LATER, offence_code="8N", victim_ids=(first,)
        )
    assert refused.value.field == "victims"


def test_an_offence_with_a_victim_needs_one_and_an_unknown_code_is_refused(database, handler):
    incident_id = _incident(database, handler)
    with pytest.raises(CrimeInputError) as no_victim:
        crimes.record_crimes(database.uow(), handler, incident_id, LATER, offence_code="8N")
    assert no_victim.value.field == "victims"
    with pytest.raises(CrimeInputError) as unknown:
        crimes.record_crimes(database.uow(), handler, incident_id, LATER, offence_code="8Z")
    assert unknown.value.field == "offence_code"
    drugs = crimes.record_crimes(database.uow(), handler, incident_id, LATER, offence_code="92E")
    assert [(c.offence_code, c.victim) for c in drugs.crimes] == [("92E", None)]


def test_reclassification_needs_a_reason_and_keeps_old_and_new(database, handler, dispatcher):
    victim = add_person(database, "Dee", "Victim")
    incident_id = _incident(database, handler, persons=((victim, "victim"),))
    crime = crimes.record_crimes(
        database.uow(), handler, incident_id, LATER, offence_code="105A", victim_ids=(victim,)
    ).crimes[0]
    with pytest.raises(PermissionDenied):
        crimes.reclassify(
            database.uow(),
            handler,
            crime.id,
            crime.version,
            LATER,
            offence_code="8N",
            reason="Injury seen by the attending officer.",
        )
    assert _last_audit(database)[:2] == ("crime.update", "denied")
    with pytest.raises(CrimeInputError) as short:
        crimes.reclassify(
            database.uow(),
            dispatcher,
            crime.id,
            crime.version,
            LATER,
            offence_code="8N",
            reason="hurt",
        )
    assert short.value.field == "reason"
    changed = crimes.reclassify(
        database.uow(),
        dispatcher,
        crime.id,
        crime.version,
        LATER,
        offence_code="8N",
        reason="Injury seen by the attending officer.",
    ).crimes[0]
    assert changed.offence_code == "8N"
    assert changed.reclassifications == ("105A -> 8N: Injury seen by the attending officer.",)
    assert _last_audit(database)[2].endswith("105A -> 8N")
    with pytest.raises(crimes.CrimeConflict):  # the version read before the change
        crimes.reclassify(
            database.uow(),
            dispatcher,
            crime.id,
            crime.version,
            LATER,
            offence_code="5D",
            reason="Serious injury confirmed at hospital.",
        )


def test_cancellation_needs_a_reason_and_a_supervisors_decision(
    database, handler, dispatcher, supervisor
):
    victim = add_person(database, "Eve", "Victim")
    incident_id = _incident(database, handler, persons=((victim, "victim"),))
    crime = crimes.record_crimes(
        database.uow(), handler, incident_id, LATER, offence_code="49", victim_ids=(victim,)
    ).crimes[0]
    with pytest.raises(CrimeInputError):
        crimes.request_cancellation(
            database.uow(), dispatcher, crime.id, crime.version, LATER, reason="no"
        )
    asked = crimes.request_cancellation(
        database.uow(),
        dispatcher,
        crime.id,
        crime.version,
        LATER,
        reason="The item was found at home: additional verifiable information.",
    ).crimes[0]
    assert asked.state == "cancellation_requested"
    with pytest.raises(PermissionDenied):
        crimes.decide_cancellation(
            database.uow(), dispatcher, crime.id, asked.version, LATER, approve=True
        )
    decided = crimes.decide_cancellation(
        database.uow(), supervisor, crime.id, asked.version, LATER, approve=True
    ).crimes[0]
    assert decided.state == "cancelled" and "found at home" in decided.cancel_reason
    assert _last_audit(database)[2] == f"{crime.reference}: cancelled"


def test_outcome_16_on_domestic_abuse_waits_for_a_supervisor(
    database, handler, dispatcher, supervisor
):
    victim = add_person(database, "Fay", "Victim")
    incident_id = _incident(
        database, handler, type_code="DOMV", persons=((victim, "victim"),), domestic=True
    )
    crime = crimes.record_crimes(
        database.uow(), handler, incident_id, LATER, offence_code="8N", victim_ids=(victim,)
    ).crimes[0]
    assert crime.domestic and crime.outcome_code == 0
    later = NOW + timedelta(days=5)
    given = dict(outcome=16, outcome_date=date(2026, 11, 30))
    with pytest.raises(CrimeInputError) as missing:
        crimes.give_outcome(database.uow(), dispatcher, crime.id, crime.version, later, **given)
    assert missing.value.field == "victim_decision"
    decision = dict(
        victim_decision="Does not support a prosecution; safety plan agreed.",
        victim_decision_on=date(2026, 11, 29),
        victim_decision_by="PC 4521 Example",
    )
    waiting = crimes.give_outcome(
        database.uow(), dispatcher, crime.id, crime.version, later, **given, **decision
    ).crimes[0]
    assert waiting.outcome_code == 0 and waiting.outcome_awaiting == 16
    with pytest.raises(PermissionDenied):
        crimes.approve_outcome(database.uow(), dispatcher, crime.id, waiting.version, later)
    approved = crimes.approve_outcome(
        database.uow(), supervisor, crime.id, waiting.version, later
    ).crimes[0]
    assert approved.outcome_code == 16 and approved.outcome_awaiting is None
    assert approved.outcome_date == date(2026, 11, 30)


def test_the_queue_orders_by_time_left_and_a_signed_off_no_crime_stops_the_clock(
    database, handler, supervisor
):
    now = NOW + timedelta(hours=30)
    old = _incident(database, handler, at=NOW)  # breached by 6h at `now`
    new = _incident(database, handler, at=NOW + timedelta(hours=25))
    queue = crimes.recording_queue(database.uow(), supervisor, now)
    assert [line.incident_id for line in queue.lines] == [old, new]
    assert queue.lines[0].clock.breached and "BREACHED by 6h 00m" in queue.lines[0].clock.words
    assert (queue.running, queue.breached) == (2, 1)
    assert _last_audit(database)[0] == "crime.queue"
    # A supervisor closing it without a crime signs the no-crime decision off: it stops.
    current = incidents.view_incident_by_id(database.uow(), supervisor, old, today=date.today())
    incidents.close_incident(
        database.uow(),
        supervisor,
        old,
        current.version,
        now,
        closing_type_code="ASLTI",
        result="Words only.",
        no_crime_reason="Caller confirms no assault took place at all.",
    )
    after = crimes.recording_queue(database.uow(), supervisor, now)
    assert [line.incident_id for line in after.lines] == [new]
    stopped = crimes.incident_crimes(database.uow(), supervisor, old, now).clock
    assert stopped.stopped_at == now and stopped.breached  # stopped late: 24h missed


def test_the_queues_read_holds_no_incident_entities(database, handler):
    # Issue 15, memory: the queue read its 500 incidents whole, as ORM entities, for the
    # six columns it shows; it reads those columns, and the session holds no incident.
    now = NOW + timedelta(hours=30)
    first = _incident(database, handler, at=NOW)
    uow = database.uow()
    with uow:
        rows = uow.crimes.running_clocks(10)
        assert [row[0] for row in rows] == [first]
        assert [type(entity).__name__ for entity in uow.session.identity_map.values()] == []
    line = crimes.recording_queue(database.uow(), handler, now).lines[0]
    assert (line.incident_id, line.clock.breached) == (first, True)


def test_the_command_view_counts_the_months_running_due_and_breached_clocks_by_station(
    database, supervisor
):
    from controlroom.domain.queues import QueuePolicy
    from controlroom.services.command_view import command_view

    north = staff_actor(database, Role.CALL_HANDLER, "north.handler")
    south = staff_actor(database, Role.CALL_HANDLER, "south.handler")
    with database.uow() as uow:
        uow.staff.get(north.staff_id).station = "North"
        uow.staff.get(south.staff_id).station = "South"
        uow.commit()
    now = NOW + timedelta(hours=30)
    _incident(database, north, at=NOW)  # breached
    _incident(database, north, at=NOW + timedelta(hours=10))  # due within 4h
    _incident(database, south, at=NOW + timedelta(hours=29))  # 23h left
    # Older than the view's 31 days: on the F9 queue, not in the command view's counts.
    _incident(database, north, at=NOW - timedelta(days=40))
    policy = QueuePolicy(
        grade_codes=GRADES, stale_after=timedelta(minutes=10), dash_escalation=timedelta(hours=24)
    )
    figures = command_view(database.uow(), supervisor, policy, now)
    assert [(s.station, s.running, s.due_soon, s.breached) for s in figures.crime_clocks] == [
        ("North", 2, 1, 1),
        ("South", 1, 0, 0),
    ]


def test_a_new_crime_takes_the_years_next_number_after_those_already_there(database, handler):
    from controlroom.data.cold_models import Crime

    incident_id = _incident(database, handler)
    with database.uow() as uow:  # a crime seeded or migrated with this year's number 41
        uow.session.add(
            Crime(
                reference="CRM-2026-000041",
                incident_id=incident_id,
                offence_code="92E",
                recorded_at=NOW,
                recorded_by_id=handler.staff_id,
                committed_from=NOW,
                location_text="x",
                domestic=False,
                state="recorded",
                outcome_code=0,
            )
        )
        uow.commit()
    recorded = crimes.record_crimes(database.uow(), handler, incident_id, LATER, offence_code="92D")
    assert [c.reference for c in recorded.crimes] == ["CRM-2026-000041", "CRM-2026-000042"]


def test_a_victim_is_linked_after_recording_and_suspects_added_and_removed(database, handler):
    """A crime recorded with no victim (a drugs offence, later found to have one) takes a
    victim of the incident with no crime from it; once linked its victim stays. Its
    suspects are set from the incident's suspects; a stale version changes nothing."""
    ann, bea, sam, tom = (add_person(database, n, "Party") for n in ("Ann", "Bea", "Sam", "Tom"))
    incident_id = _incident(
        database,
        handler,
        persons=((ann, "victim"), (bea, "victim"), (sam, "suspect"), (tom, "suspect")),
    )
    found = crimes.record_crimes(
        database.uow(), handler, incident_id, NOW, offence_code="92D", victim_ids=()
    )
    first = found.crimes[0]
    assert first.victim_id is None and first.suspect_ids == () and not first.victim_based
    # Found to be an assault: an offence with a victim, and none linked yet.
    first = crimes.reclassify(
        database.uow(),
        staff_actor(database, Role.SUPERVISOR),
        first.id,
        first.version,
        NOW,
        offence_code="8N",
        reason="The drugs were a cover: Ann was assaulted",
    ).crimes[0]
    assert first.victim_based and first.victim_id is None
    crimes.record_crimes(
        database.uow(), handler, incident_id, NOW, offence_code="8N", victim_ids=(bea,)
    )
    with pytest.raises(CrimeInputError, match="already has a crime"):
        crimes.change_parties(
            database.uow(), handler, first.id, first.version, LATER, victim_id=bea, suspect_ids=()
        )
    changed = crimes.change_parties(
        database.uow(), handler, first.id, first.version, LATER, victim_id=ann, suspect_ids=(sam,)
    )
    crime = next(c for c in changed.crimes if c.id == first.id)
    assert (crime.victim_id, crime.victim, crime.suspect_ids) == (ann, "Ann Party", (sam,))
    assert crime.version > first.version
    action, outcome, detail = _last_audit(database)
    assert (action, outcome) == ("crime.parties", "success") and f"victim {ann}" in detail
    with pytest.raises(crimes.CrimeConflict):  # the version read before the change
        crimes.change_parties(
            database.uow(), handler, first.id, first.version, LATER, victim_id=None, suspect_ids=()
        )
    with pytest.raises(CrimeInputError, match="has its victim"):
        crimes.change_parties(
            database.uow(), handler, crime.id, crime.version, LATER, victim_id=bea, suspect_ids=()
        )
    with pytest.raises(CrimeInputError, match="linked to the incident as a suspect"):
        crimes.change_parties(
            database.uow(),
            handler,
            crime.id,
            crime.version,
            LATER,
            victim_id=None,
            suspect_ids=(ann,),
        )
    swapped = crimes.change_parties(
        database.uow(), handler, crime.id, crime.version, LATER, victim_id=None, suspect_ids=(tom,)
    )
    crime = next(c for c in swapped.crimes if c.id == first.id)
    assert crime.suspect_ids == (tom,) and crime.victim_id == ann
    with database.uow() as uow:
        log = [e.text for e, _ in uow.incidents.log_with_authors(incident_id)]
    assert any("1 suspect(s) added; 1 suspect(s) removed" in line for line in log)
    # No names in the crime's log lines (a complainant's would be withheld from some).
    assert not any("Sam" in line or "Tom" in line for line in log if line.startswith("Crime "))
    with pytest.raises(PermissionDenied):
        crimes.change_parties(
            database.uow(),
            staff_actor(database, Role.ANALYST),
            crime.id,
            crime.version,
            LATER,
            victim_id=None,
            suspect_ids=(),
        )
