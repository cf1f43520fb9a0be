"""Pilot tests of incident entry: by keys alone, at 80x24, asserting on what the operator
sees and on the database after."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from textual import events

from controlroom.data.cold_models import IncidentLogEntry, IncidentPerson
from controlroom.data.models import Incident
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.home_board import HomeBoard
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from controlroom.services.drafts import draft_journal
from tests.apps import build_app, draft_paths, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_marker, add_person, staff_actor

TEST_SUPERVISOR = "test.supervisor"  # build_app's default operator

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def immediate_lookups(monkeypatch):
    """Lookups run as soon as a key is typed, so tests wait for workers, not for timers."""
    monkeypatch.setattr(IncidentEntry, "lookup_delay", 0.0)


def incident_rows(database) -> list[SimpleNamespace]:
    """Every incident as plain values (read inside the session, usable after it)."""
    with database.uow() as uow:
        return [
            SimpleNamespace(**{c.key: getattr(row, c.key) for c in Incident.__table__.columns})
            for row in uow.session.scalars(select(Incident).order_by(Incident.id))
        ]


async def open_form(pilot):
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, IncidentEntry)


async def type_minimal(
    pilot,
    *,
    location="14 Mill Lane, LS6 2AB",
    kind="dom",
    grade="",
    narrative="Shouting next door.",
):
    await pilot.press("alt+l", *location, "tab")
    await pilot.press(*kind)
    await settle(pilot)
    await pilot.press("tab", *grade, "alt+k", "alt+n", *narrative)
    await settle(pilot)


def field_error(app, field: str) -> str:
    return str(app.screen.query_one(f"#{field}-error").render())


async def test_an_incident_is_created_by_keys_alone(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Pat Caller", "tab", *"07700 900123", "tab", *"neighbour")
        await type_minimal(pilot, grade="1")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        text = screen_text(app)
    [incident] = incident_rows(database)
    assert incident.reference.startswith("CR-20261126-")
    assert incident.reference in text
    assert (incident.opening_type_code, incident.grade, incident.location_text) == (
        "DOM",
        "G1",
        "14 Mill Lane, LS6 2AB",
    )
    assert incident.caller_name == "Pat Caller" and incident.caller_relationship == "neighbour"
    assert incident.narrative == "Shouting next door."
    assert incident.domestic and incident.thrive_skipped and incident.location_id is None
    assert draft_paths(tmp_path, TEST_SUPERVISOR) == []  # saved: the draft is gone


async def test_a_draft_written_slowly_does_not_outlive_the_saved_incident(
    database, tmp_path, monkeypatch
):
    """The draft written as the save key is pressed lands before the save is sent, never
    after the saved incident cleared it: on a loaded machine (here, a disk slow to take
    the draft) it outlived the incident, and the next sign-in offered to restore it.
    A short call is typed: on a loaded machine this runs in about half the time of
    `test_an_incident_is_created_by_keys_alone` beside it."""
    from controlroom.data.drafts import DraftJournal

    write = DraftJournal.save

    def slow_write(self, state):
        time.sleep(0.3)
        write(self, state)

    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await type_minimal(pilot, location="1 Mill Lane", grade="1", narrative="Noise.")
        monkeypatch.setattr(DraftJournal, "save", slow_write)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        await pilot.pause(0.5)  # any draft write still in flight has landed
    assert len(incident_rows(database)) == 1
    assert draft_paths(tmp_path, TEST_SUPERVISOR) == []


async def test_empty_grade_takes_the_suggestion_from_type_and_flags(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await type_minimal(pilot, kind="burgr")
        await pilot.press("alt+f", "tab", "tab", "space")  # Weapons
        await settle(pilot)
        assert "suggested G1" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
    [incident] = incident_rows(database)
    assert (incident.opening_type_code, incident.grade, incident.weapons) == ("BURGR", "G1", True)


@pytest.mark.parametrize(
    ("location", "kind", "narrative", "field", "message"),
    [
        ("14 Mill Lane, LS6 2A", "dom", "x", "location_text", "not a valid UK postcode"),
        ("14 Mill Lane, QS6 2AB", "dom", "x", "location_text", "not a valid UK postcode"),
        ("", "dom", "x", "location_text", "a location is required"),
        ("14 Mill Lane", "", "x", "type_code", "an incident type is required"),
        ("14 Mill Lane", "zzzq", "x", "type_code", "no incident type matches"),
        ("14 Mill Lane", "dom", "y" * 10_000, "narrative", "the limit is 8,000"),
    ],
    ids=[
        "cut-short-postcode",
        "bad-postcode",
        "no-location",
        "no-type",
        "unknown-type",
        "long-narrative",
    ],
)
async def test_bad_input_is_named_at_its_field_and_nothing_typed_is_lost(
    database, tmp_path, location, kind, narrative, field, message
):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Sam Caller")
        if location:
            await pilot.press("alt+l", *location)
        await pilot.press("alt+t", *kind, "tab", "alt+k", "alt+n")
        if len(narrative) > 100:
            app.screen.query_one("#narrative").insert(narrative)  # 10,000 keypresses is slow
        else:
            await pilot.press(*narrative)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        assert message in field_error(app, field)
        form = app.screen
        assert form.query_one("#caller-name").value == "Sam Caller"
        assert form.query_one("#location").value == location
        assert form.query_one("#narrative").text == narrative
    assert incident_rows(database) == []


async def test_thrive_must_be_done_or_skipped_explicitly(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("alt+l", *"14 Mill Lane", "tab", *"dom", "tab", "alt+n", *"x")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "THRIVE not assessed" in field_error(app, "thrive")
        await pilot.press("alt+h", *"Threat of further violence")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
    [incident] = incident_rows(database)
    assert incident.thrive_threat == "Threat of further violence" and not incident.thrive_skipped


HOSTILE = "[@click=app.quit]Q [b]bold[/b] [link=http://e.x]y[/link] \u00e9"


async def test_hostile_text_is_stored_verbatim_and_shown_literally(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_form(pilot)
        app.screen.query_one("#caller-name").value = HOSTILE
        await pilot.press("alt+l", *"[TODO] 14 Mill Lane", "tab", *"dom", "tab", "alt+k", "alt+n")
        await pilot.press(*"[@click=app.quit]narrative [/]")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, IncidentView)
        text = screen_text(app)
    [incident] = incident_rows(database)
    assert incident.caller_name == HOSTILE
    assert incident.location_text == "[TODO] 14 Mill Lane"
    assert HOSTILE in text
    assert "[TODO] 14 Mill Lane" in text and "[@click=app.quit]narrative [/]" in text


async def test_terminal_escapes_in_a_name_are_refused_at_the_field(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        app.screen.query_one("#caller-name").value = "Eve \x1b[2J\x1b]52;c;SGVsbG8=\x07"
        await type_minimal(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        assert "control character" in field_error(app, "caller_name")
        assert app.screen.query_one("#caller-name").value.startswith("Eve \x1b[2J")
    assert incident_rows(database) == []


async def test_location_history_hazards_and_resident_markers_appear_on_entry(database, tmp_path):
    location_id = add_location(
        database, "12 Mill Lane", postcode="LS6 2AB", hazards=("DOG ON PREMISES",)
    )
    resident = add_person(database, "Dale", "Example", home=location_id)
    add_marker(database, resident, "RSO")
    add_marker(database, resident, "VIOLENT")
    admin = _admin(database)
    earlier = incidents.save_new_incident(
        database.uow(),
        admin,
        incidents.NewIncident(
            idempotency_key="earlier",
            type_code="NOISE",
            location_text="12 Mill Lane",
            location_id=location_id,
            thrive_skipped=True,
        ),
        SEED_ANCHOR - timedelta(days=40),
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("alt+l", *"LS6 2AB")
        await settle(pilot)
        assert "12 Mill Lane, Leeds, LS6 2AB" in screen_text(app)  # the match list
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
    assert "HAZARD: DOG ON PREMISES" in text
    assert "1 incident in 12 months" in text
    assert earlier.reference[-9:] in text
    assert "Dale Example" in text
    assert "!REGISTERED SEX OFFENDER" in text and "!VIOLENT" in text


async def test_the_warnings_follow_the_location_when_it_changes(database, tmp_path):
    location_id = add_location(
        database, "12 Mill Lane", postcode="LS6 2AB", hazards=("DOG ON PREMISES",)
    )
    resident = add_person(database, "Dale", "Example", home=location_id)
    add_marker(database, resident, "RSO")
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("alt+l", *"LS6 2AB")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "HAZARD: DOG ON PREMISES" in screen_text(app)
        # The caller corrects the address: the old one's warnings must not stay.
        await pilot.press("alt+l", "ctrl+u", *"3 Other Road, LS7 1AA")
        await settle(pilot)
        text = screen_text(app)
        assert "DOG ON PREMISES" not in text and "Dale Example" not in text
        await pilot.press("tab")
        await settle(pilot)
        assert "UNVERIFIED LOCATION" in screen_text(app)


async def test_a_linked_persons_markers_show_in_words(database, tmp_path):
    person = add_person(database, "Morgan", "Testperson")
    add_marker(database, person, "DAPERP")
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_form(pilot)
        await pilot.press("alt+p", *"testperson")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("s")  # suspect
        await settle(pilot)
        text = screen_text(app)
        assert "SUSPECT: Morgan Testperson" in text
        assert "!DA PERPETRATOR" in text
        await type_minimal(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
    with database.uow() as uow:
        links = uow.session.execute(select(IncidentPerson.person_id, IncidentPerson.role)).all()
    assert [tuple(link) for link in links] == [(person, "suspect")]


async def test_a_new_person_is_checked_for_duplicates_before_it_is_created(database, tmp_path):
    from datetime import date

    from controlroom.data.cold_models import Person

    existing = add_person(database, "Catherine", "Duplicate", date_of_birth=date(1984, 3, 2))
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_form(pilot)
        await pilot.press("alt+p", *"Catherine Duplicate", "alt+a")
        await settle(pilot)
        await pilot.press("tab", "tab", *"03/02/1984", "ctrl+s")  # day and month swapped
        await settle(pilot)
        assert "POSSIBLY ALREADY KNOWN" in screen_text(app)
        await pilot.press("enter")  # link the existing person instead
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert "VICTIM: Catherine Duplicate" in screen_text(app)
    with database.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Person)) == 1
    assert app.screen_stack is not None and existing


async def test_a_second_call_is_linked_to_the_open_incident_not_duplicated(database, tmp_path):
    location_id = add_location(
        database, "3 Canal Street", street="Canal Street", postcode="LS1 4AB"
    )
    first = incidents.save_new_incident(
        database.uow(),
        _admin(database),
        incidents.NewIncident(
            idempotency_key="first",
            type_code="DOM",
            location_text="3 Canal Street",
            location_id=location_id,
            thrive_skipped=True,
        ),
        SEED_ANCHOR - timedelta(minutes=20),
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Second Caller", "alt+l", *"LS1 4AB")
        await settle(pilot)
        await pilot.press("enter", *"dom", "tab")  # Enter takes the address and moves on
        await settle(pilot)
        assert "POSSIBLE SAME INCIDENT" in screen_text(app)
        await pilot.press("alt+n", *"They are still shouting.", "alt+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert first.reference in screen_text(app)
    assert len(incident_rows(database)) == 1
    with database.uow() as uow:
        merged = uow.session.scalars(
            select(IncidentLogEntry.text).where(IncidentLogEntry.kind == "merged_call")
        ).all()
    assert len(merged) == 1
    assert "Second Caller" in merged[0] and "They are still shouting." in merged[0]


async def test_escape_asks_before_discarding_anything_typed(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Someone")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#caller-name").value == "Someone"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, HomeBoard)
    assert draft_paths(tmp_path, TEST_SUPERVISOR) == []


async def test_typing_reaches_a_private_draft_and_is_offered_back_next_time(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Draft Caller", "alt+l", *"9 Draft Road")
        await pilot.press("tab")  # leaving a field writes the draft at once
        await settle(pilot)
        [path] = draft_paths(tmp_path, TEST_SUPERVISOR)  # the form's own draft
        draft = json.loads(path.read_text())
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert (draft["caller_name"], draft["location_text"]) == ("Draft Caller", "9 Draft Road")
    # The app is gone without saving; the next start offers the draft back.
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Draft Caller" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#location").value == "9 Draft Road"
        await pilot.press("alt+t", *"dom", "tab", "alt+k", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
    [incident] = incident_rows(database)
    assert (incident.caller_name, incident.idempotency_key) == (
        "Draft Caller",
        draft["idempotency_key"],
    )


async def test_typing_ahead_into_the_restore_offer_throws_no_draft_away(database, tmp_path):
    """The offer comes up as the session opens: a name typed ahead ("vincent", with an
    n in it) or Esc answered it, and n discarded the draft for good. Now the draft is
    kept, F2 lists it, and the next start offers it again."""
    from controlroom.data.drafts import DraftJournal

    DraftJournal(tmp_path, TEST_SUPERVISOR).for_form("a1b2c3d4" * 4).save(
        {"caller_name": "Kept Caller", "location_text": "3 Kept Road"}
    )
    [path] = draft_paths(tmp_path, TEST_SUPERVISOR)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "keeps it for later" in screen_text(app)
        await pilot.press(*"vincent", "escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert draft_paths(tmp_path, TEST_SUPERVISOR) == [path]
        await pilot.press("f2")
        await settle(pilot)
        assert "Kept Caller" in screen_text(app)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Kept Caller" in screen_text(app)


async def test_a_restored_draft_whose_save_already_landed_makes_no_second_incident(
    database, tmp_path
):
    journal = draft_journal(tmp_path, TEST_SUPERVISOR)
    journal.save(
        {
            "version": 1,
            "idempotency_key": "landed-once",
            "location_text": "1 Once Road",
            "type_code": "DOM",
            "type_text": "Domestic incident",
            "thrive_skipped": True,
        }
    )
    landed = incidents.save_new_incident(
        database.uow(),
        _admin(database),
        incidents.NewIncident(
            idempotency_key="landed-once",
            type_code="DOM",
            location_text="1 Once Road",
            thrive_skipped=True,
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert landed.reference in screen_text(app)
    assert len(incident_rows(database)) == 1


def _admin(database):
    """The operator the app signs in as (the test supervisor), for records made beside it."""
    from controlroom.domain.roles import Role

    return staff_actor(database, Role.SUPERVISOR)


async def test_f2_inside_a_dialog_does_not_open_a_form_on_top_of_it(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press(*"Someone", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("f2", "ctrl+n")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert len(app.open_forms) == 1


async def test_the_configured_window_decides_what_counts_as_a_duplicate_call(database, tmp_path):
    from dataclasses import replace

    location_id = add_location(
        database, "5 Window Street", street="Window Street", postcode="LS2 7AB"
    )
    incidents.save_new_incident(
        database.uow(),
        _admin(database),
        incidents.NewIncident(
            idempotency_key="earlier-call",
            type_code="DOM",
            location_text="5 Window Street",
            location_id=location_id,
            thrive_skipped=True,
        ),
        SEED_ANCHOR - timedelta(minutes=20),
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path)
    app.settings = replace(app.settings, duplicate_window_minutes=10)  # 20 minutes is too old
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("alt+l", *"LS2 7AB")
        await settle(pilot)
        await pilot.press("enter", *"dom", "tab")
        await settle(pilot)
        assert "POSSIBLE SAME INCIDENT" not in screen_text(app)


async def test_the_narrative_limit_holds_as_you_type_and_paste(database, tmp_path):
    from controlroom.domain.incidents import TEXT_LIMIT

    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("alt+n", *"Start. ")
        app.post_message(events.Paste("y" * 9_000))  # as the terminal delivers a paste
        await settle(pilot)
        narrative = app.screen.query_one("#narrative")
        assert len(narrative.text) == TEXT_LIMIT
        assert narrative.text.startswith("Start. yyy")
        error = field_error(app, "narrative")
        assert "the limit is 8,000 characters: 1,007 typed or pasted were not taken" in error
        await pilot.press("z")  # one more key at the limit: not taken
        await settle(pilot)
        assert len(narrative.text) == TEXT_LIMIT and "z" not in narrative.text
        assert "8,000 / 8,000" in screen_text(app)
        await pilot.press("backspace", "!")
        await settle(pilot)
        assert narrative.text.endswith("y!") and len(narrative.text) == TEXT_LIMIT


async def test_no_stale_no_match_hint_after_a_person_is_linked(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_form(pilot)
        await pilot.press("alt+p", *"Nobody Knownperson")
        await settle(pilot)
        assert "No match" in screen_text(app)
        await pilot.press("alt+a")
        await settle(pilot)
        await pilot.press("tab", "tab", *"01/02/1990", "ctrl+s")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        text = screen_text(app)
        assert "VICTIM: Nobody Knownperson" in text
        assert "No match" not in text
