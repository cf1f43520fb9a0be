"""The incident services on a real database (SQLite, or PostgreSQL when
CONTROLROOM_TEST_DATABASE_URL is set): validation at the field, hostile text, idempotent
saves, per-day references, duplicate calls, linked calls, the log, regrading, status,
assessment, closing, edit conflicts, and one audit event per call.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from controlroom.data.cold_models import IncidentLogEntry, IncidentPerson, IncidentSequence
from controlroom.data.models import AuditEvent, Incident
from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.services import incidents
from controlroom.services.incidents import (
    EditConflict,
    IncidentInputError,
    IncidentNotFound,
    NewIncident,
)
from tests.factories import add_incident, add_location, add_marker, add_person

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
MILL_LANE = "12 Mill Lane, Leeds LS6 2AB"


@pytest.fixture
def operator(supervisor) -> Actor:
    return Actor(supervisor.staff_id, supervisor.username, supervisor.role, terminal="192.0.2.10")


def new(**fields) -> NewIncident:
    answers = dict(idempotency_key=uuid.uuid4().hex, type_code="NOISE", location_text=MILL_LANE)
    answers.update(fields)
    return NewIncident(**answers)


def save(database, operator, *, now=NOW, **fields):
    return incidents.save_new_incident(database.uow(), operator, new(**fields), now, GRADES)


def view(database, operator, saved):
    return incidents.view_incident_by_id(database.uow(), operator, saved.id, today=date.today())


def audit_events(database) -> list[SimpleNamespace]:
    """Every audit event, oldest first, copied out of the session."""
    with database.uow() as uow:
        return [
            SimpleNamespace(**{c.key: getattr(e, c.key) for c in AuditEvent.__table__.c})
            for e in reversed(uow.audit.latest(10_000))
        ]


def count(database, model, *where) -> int:
    with database.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


# --- reference data ----------------------------------------------------------------------


def test_incident_types_are_the_active_ones_by_label(database):
    types = incidents.incident_types(database.uow())
    labels = [t.label for t in types]
    assert labels == sorted(labels) and "Domestic incident" in labels
    dom = next(t for t in types if t.code == "DOM")
    assert (dom.heading, dom.domestic, dom.possible_crime, dom.suggested_grade) == (
        "Public Safety & Welfare",
        True,
        True,
        "G2",
    )


# --- saving a new incident ---------------------------------------------------------------


def test_location_and_type_are_enough_to_save(database, operator):
    saved = save(database, operator)
    assert saved.created and saved.reference == "CR-20261126-0001"
    detail = view(database, operator, saved)
    assert (detail.reference, detail.type_code, detail.type_label) == (
        "CR-20261126-0001",
        "NOISE",
        "Noise nuisance",
    )
    assert detail.opened_at == NOW and detail.workstation == "192.0.2.10"
    assert detail.opened_by == operator.username  # the test admin's display name
    assert (detail.grade, detail.status, detail.version) == ("G4", "open", 1)
    assert (detail.location_text, detail.postcode, detail.location_verified) == (
        MILL_LANE,
        "LS6 2AB",
        False,
    )
    assert detail.thrive == dict.fromkeys(detail.thrive) and not detail.thrive_assessed
    assert not detail.thrive_skipped
    assert [(e.kind, e.text, e.entered_by) for e in detail.log] == [
        ("note", f"Incident opened: Noise nuisance at {MILL_LANE}, graded G4", operator.username)
    ]


def test_a_verified_location_takes_its_postcode_from_the_record(database, operator):
    place = add_location(database, "3 Oak Road", postcode="LS7 1AA")
    detail = view(
        database, operator, save(database, operator, location_text="3 Oak Road", location_id=place)
    )
    assert (detail.location_id, detail.location_verified, detail.postcode) == (
        place,
        True,
        "LS7 1AA",
    )


def test_everything_typed_is_kept(database, operator):
    victim = add_person(database, "Dana", "Victim")
    suspect = add_person(database, "Sam", "Suspect")
    add_marker(database, suspect, "VIOLENT")
    add_marker(database, suspect, "RSO")
    add_marker(database, suspect, "DRUGS", valid_to=datetime(2020, 1, 1).date())  # expired
    saved = save(
        database,
        operator,
        type_code="dom",
        caller_name="Pat Caller",
        caller_phone="+44 7700 900123",
        caller_relationship="neighbour",
        grade="g1",
        thrive={
            "threat": "Threats to kill",
            "harm": "Injury to face",
            "risk": "High",
            "investigation": "Scene",
            "vulnerability": "Elderly victim",
            "engagement": "Victim engaging",
        },
        child_present=True,
        weapons=True,
        narrative="Shouting heard.\n\tThen a crash.",
        persons=((victim, "victim"), (suspect, "Suspect"), (victim, "victim")),
    )
    detail = view(database, operator, saved)
    assert (detail.caller_name, detail.caller_phone, detail.caller_relationship) == (
        "Pat Caller",
        "07700900123",
        "neighbour",
    )
    assert detail.grade == "G1" and detail.thrive["harm"] == "Injury to face"
    assert detail.thrive_assessed
    assert (detail.domestic, detail.possible_crime, detail.child_present, detail.weapons) == (
        True,
        True,
        True,
        True,
    )  # domestic and possible crime come from the type
    assert detail.narrative == "Shouting heard.\n\tThen a crash."
    assert [(p.name, p.role) for p in detail.persons] == [
        ("Dana Victim", "victim"),
        ("Sam Suspect", "suspect"),
    ]
    assert [m.label for m in detail.persons[1].markers] == ["REGISTERED SEX OFFENDER", "VIOLENT"]
    assert [(e.kind, e.text) for e in detail.log[1:]] == [
        ("link", "Linked Dana Victim as victim"),
        ("link", "Linked Sam Suspect as suspect"),
    ]


@pytest.mark.parametrize(
    ("answers", "grade"),
    [
        ({"type_code": "NOISE"}, "G4"),
        ({"type_code": "NOISE", "weapons": True}, "G1"),
        ({"type_code": "NOISE", "child_present": True}, "G2"),
        ({"type_code": "NOISE", "domestic": True}, "G2"),
        ({"type_code": "BURGB"}, "G3"),
        ({"type_code": "BURGB", "grade": "G4"}, "G4"),  # the operator's choice stands
    ],
)
def test_the_grade_is_suggested_from_the_type_and_answers(database, operator, answers, grade):
    assert view(database, operator, save(database, operator, **answers)).grade == grade


def test_skipping_thrive_is_explicit_and_still_not_assessed(database, operator):
    detail = view(database, operator, save(database, operator, thrive_skipped=True))
    assert detail.thrive_skipped and not detail.thrive_assessed


LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"type_code": ""}, "type_code", "incident type is required"),
        ({"type_code": "  "}, "type_code", "incident type is required"),
        ({"type_code": "NOPE"}, "type_code", "not a known incident type: NOPE"),
        ({"location_text": ""}, "location_text", "location is required"),
        ({"location_text": "   "}, "location_text", "location is required"),
        (
            {"location_text": "12 Mill Lane QS6 2AB"},
            "location_text",
            "not a valid UK postcode: use a form like LS6 2AB",
        ),
        (
            {"location_text": "x" * 201},
            "location_text",
            "location is 201 characters; the limit is 200",
        ),
        ({"location_text": "12 Mill\nLane"}, "location_text", "location must be a single line"),
        ({"location_text": "12 Mill\x1b[2JLane"}, "location_text", "control character (U+001B)"),
        ({"location_id": 987654}, "location_text", "no longer on record"),
        ({"narrative": LONG}, "narrative", "narrative is 10,000 characters; the limit is 8,000"),
        ({"narrative": "a\x00b"}, "narrative", "control character (U+0000)"),
        ({"narrative": "bell\x07"}, "narrative", "control character (U+0007)"),
        (
            {"caller_phone": "0113-496-0000"},
            "caller_phone",
            "use digits, spaces and a leading + only: 6 to 15 digits",
        ),
        ({"caller_phone": "12345"}, "caller_phone", "6 to 15 digits"),
        ({"caller_name": "Pat\nCaller"}, "caller_name", "caller name must be a single line"),
        ({"caller_name": "P" * 121}, "caller_name", "the limit is 120"),
        ({"caller_relationship": "n\x00"}, "caller_relationship", "control character"),
        ({"grade": "G9"}, "grade", "not a grade: choose one of G1, G2, G3, G4"),
        (
            {"thrive": {"threat": "t" * 501}},
            "thrive_threat",
            "THRIVE Threat is 501 characters; the limit is 500",
        ),
        ({"thrive": {"hazard": "x"}}, "thrive", "not a THRIVE part: hazard"),
        ({"thrive": {"risk": "High"}, "thrive_skipped": True}, "thrive_skipped", "skipped"),
        ({"persons": ((1, "bystander"),)}, "persons", "role must be one of"),
        ({"persons": ((987654, "victim"),)}, "persons", "no such person: 987654"),
        ({"idempotency_key": ""}, "idempotency_key", "form key"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    database, operator, answers, field, message
):
    before = (count(database, Incident), len(audit_events(database)))
    with pytest.raises(IncidentInputError) as refused:
        save(database, operator, **answers)
    assert refused.value.field == field
    assert message in refused.value.message
    assert (count(database, Incident), len(audit_events(database))) == before


HOSTILE = (
    "[bold red]ALERT[/] [@click=app.quit]x[/] [TODO] [0] [[nested]] "
    "'; DROP TABLE incident; -- \\x00 %s {0} <script>alert(1)</script> "
    "rtl مرحبا 🚓 Zoë zero\u200bwidth"
)


def test_hostile_text_is_stored_and_returned_verbatim(database, operator):
    saved = save(
        database,
        operator,
        location_text=f"[b]{MILL_LANE}[/b] \u200b",
        caller_name="[red]Mallory[/] \u200d",
        caller_relationship="[i]x[/i]",
        narrative=HOSTILE + "\n" + HOSTILE,
        thrive={"threat": HOSTILE},
    )
    detail = incidents.view_incident(database.uow(), operator, saved.reference, today=date.today())
    assert detail.location_text == f"[b]{MILL_LANE}[/b] \u200b"
    assert detail.caller_name == "[red]Mallory[/] \u200d"
    assert detail.caller_relationship == "[i]x[/i]"
    assert detail.narrative == HOSTILE + "\n" + HOSTILE
    assert detail.thrive["threat"] == HOSTILE
    note = incidents.add_note(database.uow(), operator, saved.id, HOSTILE, NOW)
    assert note.text == HOSTILE
    assert view(database, operator, saved).log[-1].text == HOSTILE


@pytest.mark.parametrize("control", ["\u202e", "\u200f", "\x9b", "\x85", "\x7f", "\u2028"])
def test_what_a_terminal_would_obey_is_refused_in_a_note(database, operator, control):
    """C1, DEL, bidi controls and line separators were stored and planted in every
    view (issue 16): refused at the field now, with the code point named."""
    saved = save(database, operator)
    with pytest.raises(incidents.IncidentInputError) as refused:
        incidents.add_note(database.uow(), operator, saved.id, f"note {control} x", NOW)
    assert f"U+{ord(control):04X}" in refused.value.message


def test_pasted_line_ends_become_line_feeds(database, operator):
    detail = view(database, operator, save(database, operator, narrative="one\r\ntwo\rthree"))
    assert detail.narrative == "one\ntwo\nthree"


def test_saving_the_same_form_twice_records_one_incident(database, operator):
    form = new(narrative="first save")
    first = incidents.save_new_incident(database.uow(), operator, form, NOW, GRADES)
    again = incidents.save_new_incident(
        database.uow(), operator, form, NOW + timedelta(minutes=5), GRADES
    )
    assert first.created and not again.created
    assert (again.id, again.reference) == (first.id, first.reference)
    assert count(database, Incident) == 1
    assert [e.action for e in audit_events(database)][-2:] == ["incident.create"] * 2
    assert "already saved" in audit_events(database)[-1].detail


def test_references_run_per_london_day_in_summer_and_winter(database, operator):
    def reference(moment):
        return save(database, operator, now=moment).reference

    # BST: 23:30 UTC on 31 May is 00:30 on 1 June in London.
    assert reference(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == "CR-20260601-0001"
    assert reference(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)) == "CR-20260601-0002"
    assert reference(datetime(2026, 5, 31, 22, 59, tzinfo=UTC)) == "CR-20260531-0001"
    # GMT: 00:00:30 UTC is 00:00:30 in London, a new day.
    assert reference(datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)) == "CR-20261125-0001"
    assert reference(datetime(2026, 11, 26, 0, 0, 30, tzinfo=UTC)) == "CR-20261126-0001"
    assert reference(datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == "CR-20261126-0002"
    assert reference(datetime(2026, 6, 1, 22, 59, tzinfo=UTC)) == "CR-20260601-0003"


def test_references_continue_after_ones_made_elsewhere(database, operator):
    # Incidents already numbered for the day (an import, the synthetic force) are skipped.
    made = [add_incident(database) for _ in range(3)]
    highest = max(int(r.rsplit("-", 1)[1]) for r in made)
    assert save(database, operator).reference == f"CR-20261126-{highest + 1:04d}"


def test_references_widen_past_9999(database, operator):
    save(database, operator)
    with database.uow() as uow:
        uow.session.execute(update(IncidentSequence).values(last_number=9998))
        uow.commit()
    assert save(database, operator).reference == "CR-20261126-9999"
    assert save(database, operator).reference == "CR-20261126-10000"


# --- duplicate calls ---------------------------------------------------------------------


@pytest.fixture
def places(database):
    """Three places: home, a door ~100 m north of it, and a street ~1 km away."""
    home = add_location(database, "12 Mill Lane", latitude=53.8200, longitude=-1.5800)
    near = add_location(database, "40 Mill Lane", latitude=53.8209, longitude=-1.5800)
    far = add_location(
        database, "1 Far Street", postcode="LS8 1AA", latitude=53.8290, longitude=-1.5800
    )
    return {"home": home, "near": near, "far": far}


def duplicates(database, operator, **query):
    answers = dict(type_code="NOISE", location_id=None, caller_phone=None, now=NOW)
    answers.update(query)
    return [
        d.reference for d in incidents.find_duplicate_calls(database.uow(), operator, **answers)
    ]


def test_a_call_at_the_same_place_is_offered_as_a_duplicate(database, operator, places):
    earlier = save(database, operator, location_id=places["home"], now=NOW - timedelta(minutes=20))
    later = save(database, operator, location_id=places["home"], now=NOW - timedelta(minutes=5))
    before = len(audit_events(database))
    assert duplicates(database, operator, location_id=places["home"]) == [
        later.reference,
        earlier.reference,
    ]  # newest first
    events = audit_events(database)[before:]
    assert [(e.action, e.object_id, e.detail) for e in events] == [
        ("incident.duplicate_check", str(later.id), f"shown: {later.id},{earlier.id}")
    ]


def test_nearby_within_the_radius_counts_and_farther_does_not(database, operator, places):
    near = save(database, operator, location_id=places["near"], now=NOW - timedelta(minutes=10))
    save(database, operator, location_id=places["far"], now=NOW - timedelta(minutes=10))
    assert duplicates(database, operator, location_id=places["home"]) == [near.reference]
    assert duplicates(database, operator, location_id=places["home"], radius_m=50) == []


def test_the_same_phone_counts_however_it_was_typed(database, operator, places):
    saved = save(database, operator, caller_phone="07700 900123", now=NOW - timedelta(minutes=30))
    assert duplicates(database, operator, caller_phone="+44 7700 900123") == [saved.reference]
    assert duplicates(database, operator, caller_phone="07700 900999") == []
    assert duplicates(database, operator, caller_phone="not a phone") == []


def test_outside_the_window_unrelated_or_closed_is_not_a_duplicate(database, operator, places):
    save(database, operator, location_id=places["home"], now=NOW - timedelta(minutes=61))
    save(
        database,
        operator,
        location_id=places["home"],
        type_code="RTCD",
        now=NOW - timedelta(minutes=5),
    )
    closed = save(database, operator, location_id=places["home"], now=NOW - timedelta(minutes=5))
    incidents.close_incident(
        database.uow(),
        operator,
        closed.id,
        1,
        NOW - timedelta(minutes=1),
        closing_type_code="NOISE",
        result="Music turned down.",
    )
    before = len(audit_events(database))
    assert duplicates(database, operator, location_id=places["home"]) == []
    assert len(audit_events(database)) == before  # nothing shown, nothing to audit
    assert (
        duplicates(database, operator, location_id=places["home"], window=timedelta(minutes=90))
        != []
    )


def test_related_types_are_duplicates(database, operator, places):
    dom = save(
        database,
        operator,
        type_code="DOM",
        location_id=places["home"],
        now=NOW - timedelta(minutes=5),
    )
    burglary = save(
        database,
        operator,
        type_code="BURGR",
        location_id=places["home"],
        now=NOW - timedelta(minutes=6),
    )
    # Domestic violence: the domestic (both domestic) and the burglary (crimes, one heading).
    assert duplicates(database, operator, type_code="DOMV", location_id=places["home"]) == [
        dom.reference,
        burglary.reference,
    ]
    assert duplicates(database, operator, type_code="WELF", location_id=places["home"]) == []
    # Theft and burglary are possible crimes under one heading; DOM is filed elsewhere.
    assert duplicates(database, operator, type_code="THEFT", location_id=places["home"]) == [
        burglary.reference
    ]
    # With no type chosen yet, every open incident there is offered.
    assert len(duplicates(database, operator, type_code=None, location_id=places["home"])) == 2


# --- linking a second call ---------------------------------------------------------------


def test_a_linked_call_appends_one_entry_however_often_it_is_saved(database, operator, places):
    first = save(database, operator, location_id=places["home"], now=NOW - timedelta(minutes=10))
    witness = add_person(database, "Wendy", "Witness")
    call = new(
        caller_name="Second Caller",
        caller_phone="0113 496 0000",
        caller_relationship="passer-by",
        narrative="Same fight, now in the street.",
        persons=((witness, "witness"),),
    )
    linked = incidents.link_call(database.uow(), operator, first.id, call, NOW)
    again = incidents.link_call(
        database.uow(), operator, first.id, call, NOW + timedelta(seconds=3)
    )
    assert (linked.id, linked.reference, linked.created) == (first.id, first.reference, True)
    assert (again.id, again.created) == (first.id, False)
    detail = view(database, operator, first)
    merged = [e for e in detail.log if e.kind == "merged_call"]
    assert [e.text for e in merged] == [
        "Further call from Second Caller (passer-by), tel 01134960000.\n"
        "Same fight, now in the street."
    ]
    assert [(p.name, p.role) for p in detail.persons] == [("Wendy Witness", "witness")]
    assert detail.version == 1  # log entries never touch the incident row
    assert count(database, Incident) == 1


def test_one_form_key_is_one_call_whichever_way_it_was_saved(database, operator, places):
    first = save(database, operator, location_id=places["home"])
    form = new(location_id=places["home"])
    linked = incidents.link_call(database.uow(), operator, first.id, form, NOW)
    # The restored draft is then saved as a new incident: it finds the linked call.
    saved = incidents.save_new_incident(database.uow(), operator, form, NOW, GRADES)
    assert linked.created and (saved.id, saved.created) == (first.id, False)
    # And the other way round.
    other = new()
    made = incidents.save_new_incident(database.uow(), operator, other, NOW, GRADES)
    relinked = incidents.link_call(database.uow(), operator, first.id, other, NOW)
    assert (relinked.id, relinked.created) == (made.id, False)
    assert count(database, Incident) == 2


def test_linking_to_a_missing_incident(database, operator):
    with pytest.raises(IncidentNotFound):
        incidents.link_call(database.uow(), operator, 987654, new(), NOW)


# --- viewing -----------------------------------------------------------------------------


def test_viewing_is_audited_and_a_missing_reference_too(database, operator):
    saved = save(database, operator)
    detail = incidents.view_incident(
        database.uow(), operator, saved.reference.lower(), today=date.today()
    )
    assert detail.id == saved.id
    event = audit_events(database)[-1]
    assert (event.action, event.object_id, event.outcome, event.terminal, event.actor) == (
        "incident.view",
        str(saved.id),
        "success",
        "192.0.2.10",
        operator.username,
    )
    with pytest.raises(IncidentNotFound):
        incidents.view_incident(database.uow(), operator, "CR-20261126-9999", today=date.today())
    event = audit_events(database)[-1]
    assert (event.action, event.object_id, event.outcome) == (
        "incident.view",
        "CR-20261126-9999",
        "failed",
    )
    with pytest.raises(IncidentNotFound):
        incidents.view_incident_by_id(database.uow(), operator, 987654, today=date.today())


def test_recent_incidents_newest_first(database, operator):
    made = [save(database, operator, now=NOW + timedelta(minutes=n)) for n in range(3)]
    recent = incidents.recent_incidents(database.uow(), operator, limit=2)
    assert [r.reference for r in recent] == [made[2].reference, made[1].reference]
    assert recent[0].type_label == "Noise nuisance" and recent[0].location_text == MILL_LANE
    assert audit_events(database)[-1].action == "incident.list"


# --- the log -----------------------------------------------------------------------------


def test_notes_from_a_stale_view_never_conflict(database, operator):
    saved = save(database, operator)
    stale = view(database, operator, saved)
    incidents.change_grade(
        database.uow(),
        operator,
        saved.id,
        "G2",
        "Caller now distressed",
        stale.version,
        NOW,
        GRADES,
    )
    one = incidents.add_note(database.uow(), operator, stale.id, "first note", NOW)
    two = incidents.add_note(database.uow(), operator, stale.id, "second note", NOW)
    assert (one.kind, one.entered_by, one.entered_at) == ("note", operator.username, NOW)
    assert [e.text for e in view(database, operator, saved).log[-2:]] == [
        "first note",
        "second note",
    ]
    assert two.id > one.id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "note is required"),
        ("  \n ", "note is required"),
        ("n" * 8_001, "note is 8,001 characters; the limit is 8,000"),
        ("esc \x1b", "control character (U+001B)"),
    ],
)
def test_bad_notes_are_refused(database, operator, text, message):
    saved = save(database, operator)
    with pytest.raises(IncidentInputError) as refused:
        incidents.add_note(database.uow(), operator, saved.id, text, NOW)
    assert (refused.value.field, message in refused.value.message) == ("text", True)


# --- regrading ---------------------------------------------------------------------------


def test_a_regrade_needs_a_reason_and_logs_old_and_new(database, operator):
    saved = save(database, operator, type_code="BURGB")  # G3
    with pytest.raises(IncidentInputError) as refused:
        incidents.change_grade(database.uow(), operator, saved.id, "G1", "   ", 1, NOW, GRADES)
    assert refused.value.field == "reason" and "reason" in refused.value.message
    with pytest.raises(IncidentInputError) as same:
        incidents.change_grade(
            database.uow(), operator, saved.id, "G3", "no change", 1, NOW, GRADES
        )
    assert same.value.field == "grade" and "already graded G3" in same.value.message
    with pytest.raises(IncidentInputError) as unknown:
        incidents.change_grade(database.uow(), operator, saved.id, "G7", "why", 1, NOW, GRADES)
    assert unknown.value.field == "grade"

    detail = incidents.change_grade(
        database.uow(), operator, saved.id, "g1", "Offender back at the address", 1, NOW, GRADES
    )
    assert (detail.grade, detail.version) == ("G1", 2)
    entry = detail.log[-1]
    assert (entry.kind, entry.old_value, entry.new_value, entry.text, entry.entered_by) == (
        "grade_change",
        "G3",
        "G1",
        "Offender back at the address",
        operator.username,
    )


def test_a_stale_regrade_is_a_conflict_and_changes_nothing(database, operator):
    saved = save(database, operator, type_code="BURGB")
    mine = view(database, operator, saved)
    incidents.change_grade(
        database.uow(), operator, saved.id, "G2", "Supervisor review", 1, NOW, GRADES
    )
    log_before = count(database, IncidentLogEntry)
    with pytest.raises(EditConflict) as conflict:
        incidents.change_grade(
            database.uow(), operator, saved.id, "G4", "Not needed", mine.version, NOW, GRADES
        )
    assert (conflict.value.current.grade, conflict.value.current.version) == ("G2", 2)
    assert conflict.value.current.log[-1].text == "Supervisor review"
    after = view(database, operator, saved)
    assert (after.grade, after.version) == ("G2", 2)
    assert count(database, IncidentLogEntry) == log_before
    failed = [e for e in audit_events(database) if e.outcome == "failed"]
    assert [(e.action, e.object_id) for e in failed] == [("incident.regrade", str(saved.id))]


# --- status ------------------------------------------------------------------------------


def test_status_moves_between_the_open_states_only(database, operator):
    saved = save(database, operator)
    detail = incidents.change_status(
        database.uow(), operator, saved.id, "dispatched", 1, NOW, note="Alpha 21 assigned"
    )
    assert (detail.status, detail.version) == ("dispatched", 2)
    assert (
        detail.log[-1].kind,
        detail.log[-1].old_value,
        detail.log[-1].new_value,
        detail.log[-1].text,
    ) == ("status_change", "open", "dispatched", "Alpha 21 assigned")
    detail = incidents.change_status(database.uow(), operator, saved.id, "at scene", 2, NOW)
    assert detail.status == "at_scene" and detail.log[-1].text == "Status: dispatched -> at scene"
    for status, message in (
        ("closed", "close an incident"),
        ("at_scene", "already at scene"),
        ("lost", "status must be one of"),
    ):
        with pytest.raises(IncidentInputError) as refused:
            incidents.change_status(database.uow(), operator, saved.id, status, 3, NOW)
        assert refused.value.field == "status" and message in refused.value.message
    with pytest.raises(EditConflict):
        incidents.change_status(database.uow(), operator, saved.id, "open", 1, NOW)


# --- assessment ----------------------------------------------------------------------------


def test_thrive_and_flags_are_redone_and_the_log_says_what_changed(database, operator):
    saved = save(database, operator, thrive_skipped=True)
    detail = incidents.update_assessment(
        database.uow(),
        operator,
        saved.id,
        1,
        NOW,
        thrive={"threat": "Threats made", "risk": "Medium"},
        thrive_skipped=False,
        domestic=True,
        child_present=False,
        weapons=True,
        possible_crime=False,
    )
    assert detail.thrive["threat"] == "Threats made" and detail.thrive["harm"] is None
    assert (detail.thrive_skipped, detail.domestic, detail.weapons, detail.version) == (
        False,
        True,
        True,
        2,
    )
    assert detail.log[-1].text == (
        "Assessment updated: THRIVE Threat, Risk updated; THRIVE no longer skipped; "
        "domestic: yes; weapons: yes"
    )
    with pytest.raises(IncidentInputError) as unchanged:
        incidents.update_assessment(
            database.uow(),
            operator,
            saved.id,
            2,
            NOW,
            thrive={"threat": "Threats made", "risk": "Medium"},
            thrive_skipped=False,
            domestic=True,
            child_present=False,
            weapons=True,
            possible_crime=False,
        )
    assert unchanged.value.field == "thrive"
    with pytest.raises(EditConflict):
        incidents.update_assessment(
            database.uow(),
            operator,
            saved.id,
            1,
            NOW,
            thrive=None,
            thrive_skipped=True,
            domestic=False,
            child_present=False,
            weapons=False,
            possible_crime=False,
        )


# --- closing -------------------------------------------------------------------------------


def close(database, operator, saved, version=1, **answers):
    return incidents.close_incident(database.uow(), operator, saved.id, version, NOW, **answers)


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        (
            {"closing_type_code": "", "result": "Advice given"},
            "closing_type_code",
            "a closing category is required",
        ),
        ({"closing_type_code": "ASLT", "result": "  "}, "result", "a result is required"),
        (
            {"closing_type_code": "ASLT", "result": "Advice given"},
            "crime_reference",
            "give the crime reference, or write why no crime is recorded",
        ),
        (
            {"closing_type_code": "ASLT", "result": "Advice given", "no_crime_reason": "none"},
            "no_crime_reason",
            "at least 10 characters",
        ),
        (
            {"closing_type_code": "NOPE", "result": "Advice given", "crime_reference": "13/1/26"},
            "closing_type_code",
            "not a known incident type: NOPE",
        ),
        (
            {"closing_type_code": "ASLT", "result": "Advice", "crime_reference": "c" * 41},
            "crime_reference",
            "the limit is 40",
        ),
    ],
)
def test_closing_rules(database, operator, answers, field, message):
    saved = save(database, operator, type_code="ASLT")  # a possible crime
    with pytest.raises(IncidentInputError) as refused:
        close(database, operator, saved, **answers)
    assert (refused.value.field, message in refused.value.message) == (field, True)
    assert view(database, operator, saved).status == "open"


def test_a_possible_crime_closes_with_a_crime_reference_or_a_written_reason(database, operator):
    crime = save(database, operator, type_code="ASLT")
    detail = close(
        database,
        operator,
        crime,
        closing_type_code="ASLTI",
        result="Suspect arrested",
        crime_reference="13/123456/26",
    )
    assert (detail.status, detail.closing_type_code, detail.closing_type_label) == (
        "closed",
        "ASLTI",
        "Assault with injury",
    )
    assert (detail.closed_at, detail.result, detail.crime_reference, detail.no_crime_reason) == (
        NOW,
        "Suspect arrested",
        "13/123456/26",
        None,
    )
    assert (detail.log[-1].kind, detail.log[-1].old_value, detail.log[-1].new_value) == (
        "closure",
        "open",
        "closed",
    )
    assert detail.log[-1].text == (
        "Suspect arrested\nClosing category: Assault with injury\nCrime reference: 13/123456/26"
    )

    no_crime = save(database, operator, type_code="ASLT")
    detail = close(
        database,
        operator,
        no_crime,
        closing_type_code="WELF",
        result="Words of advice",
        no_crime_reason="Both parties confirm no assault took place.",
    )
    assert detail.no_crime_reason == "Both parties confirm no assault took place."
    assert detail.log[-1].text.endswith(
        "No crime recorded: Both parties confirm no assault took place."
    )
    with pytest.raises(IncidentInputError) as again:
        close(
            database,
            operator,
            no_crime,
            version=detail.version,
            closing_type_code="WELF",
            result="x",
        )
    assert again.value.field == "status"
    with pytest.raises(IncidentInputError) as regrade:
        incidents.change_grade(
            database.uow(), operator, no_crime.id, "G1", "why", detail.version, NOW, GRADES
        )
    assert "closed" in regrade.value.message


def test_a_non_crime_closes_with_category_and_result(database, operator):
    saved = save(database, operator)
    detail = close(database, operator, saved, closing_type_code="NOISE", result="Music off")
    assert detail.status == "closed" and detail.crime_reference is None


# --- one audit event per call ------------------------------------------------------------


def test_every_call_writes_exactly_one_audit_event(database, operator, places):
    person = add_person(database, "Pat", "Person")

    def once(call, action, object_id=None):
        before = len(audit_events(database))
        result = call()
        events = audit_events(database)[before:]
        assert [e.action for e in events] == [action], action
        event = events[0]
        assert (event.actor, event.staff_id, event.terminal) == (
            operator.username,
            operator.staff_id,
            "192.0.2.10",
        )
        if object_id is not None:
            assert event.object_id == str(object_id(result)), action
        return result

    uow = database.uow
    saved = once(
        lambda: incidents.save_new_incident(
            uow(),
            operator,
            new(location_id=places["home"], persons=((person, "caller"),)),
            NOW,
            GRADES,
        ),
        "incident.create",
        lambda r: r.id,
    )
    once(
        lambda: incidents.find_duplicate_calls(
            uow(),
            operator,
            type_code="NOISE",
            location_id=places["home"],
            caller_phone=None,
            now=NOW,
        ),
        "incident.duplicate_check",
        lambda r: r[0].id,
    )
    once(
        lambda: incidents.link_call(uow(), operator, saved.id, new(), NOW),
        "incident.link_call",
        lambda r: r.id,
    )
    once(
        lambda: incidents.view_incident(uow(), operator, saved.reference, today=date.today()),
        "incident.view",
        lambda r: r.id,
    )
    once(
        lambda: incidents.view_incident_by_id(uow(), operator, saved.id, today=date.today()),
        "incident.view",
        lambda r: r.id,
    )
    once(
        lambda: incidents.add_note(uow(), operator, saved.id, "note", NOW),
        "incident.note",
        lambda r: saved.id,
    )
    once(
        lambda: incidents.change_grade(uow(), operator, saved.id, "G1", "why", 1, NOW, GRADES),
        "incident.regrade",
        lambda r: r.id,
    )
    once(
        lambda: incidents.change_status(uow(), operator, saved.id, "dispatched", 2, NOW),
        "incident.status",
        lambda r: r.id,
    )
    once(
        lambda: incidents.update_assessment(
            uow(),
            operator,
            saved.id,
            3,
            NOW,
            thrive={"risk": "Low"},
            thrive_skipped=False,
            domestic=False,
            child_present=False,
            weapons=False,
            possible_crime=False,
        ),
        "incident.update",
        lambda r: r.id,
    )
    once(
        lambda: incidents.close_incident(
            uow(), operator, saved.id, 4, NOW, closing_type_code="NOISE", result="Resolved"
        ),
        "incident.close",
        lambda r: r.id,
    )
    once(lambda: incidents.recent_incidents(uow(), operator), "incident.list")
    assert count(database, IncidentPerson) == 1
