"""Pilot tests of the person record: markers in words with who and when, incidents that
open by Enter, and the justification a restricted record asks for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from controlroom.data.cold_models import Person
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.justification import JustificationScreen
from controlroom.screens.person.record import PersonRecordScreen
from controlroom.services import incidents
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_marker, add_person, staff_actor

SIZE = (80, 24)


async def open_record(pilot, person_id: int) -> None:
    await settle(pilot)
    pilot.app.push_screen(PersonRecordScreen(person_id))
    await settle(pilot)


async def test_the_record_shows_markers_in_words_and_opens_an_incident(
    database, supervisor, tmp_path
):
    home = add_location(database, "2 Marker Mews", postcode="LS7 3AB")
    person = add_person(database, "Jordan", "Markerton", date_of_birth=date(1981, 5, 6), home=home)
    add_marker(database, person, "RSO", note="[@click=app.quit]managed by MOSOVO")
    saved = incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="rec",
            type_code="DOM",
            location_text="2 Marker Mews",
            location_id=home,
            thrive_skipped=True,
            persons=((person, "suspect"),),
        ),
        SEED_ANCHOR - timedelta(days=3),
        ("G1", "G2", "G3", "G4"),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_record(pilot, person)
        text = screen_text(app)
        assert "Jordan Markerton  born 06/05/1981" in text
        assert "!REGISTERED SEX OFFENDER" in text
        assert "[@click=app.quit]managed by MOSOVO" in text
        assert "current home: 2 Marker Mews, Leeds, LS7 3AB" in text
        # At 80 columns the role and status show whole.
        row = next(line for line in text.splitlines() if saved.reference in line)
        assert "suspect" in row and "open" in row
        await pilot.press("enter")  # no Tab first: the incidents have the focus
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert app.is_running


async def test_a_restricted_record_opens_only_after_a_justification(database, tmp_path):
    person = add_person(database, "Sam", "Hidden")
    with database.uow() as uow:
        uow.session.get(Person, person).restricted = True
        uow.commit()
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_record(pilot, person)
        assert isinstance(app.screen, JustificationScreen)
        assert "Sam Hidden" not in screen_text(app)
        await pilot.press(*"Safeguarding check for a DA call", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonRecordScreen)
        assert "Sam Hidden" in screen_text(app)
        assert "RESTRICTED — viewed with a recorded justification" in screen_text(app)
    with database.uow() as uow:
        views = [
            (e.outcome, e.justification) for e in uow.audit.latest(10) if e.action == "person.view"
        ]
    assert views[0] == ("success", "Safeguarding check for a DA call")
    assert views[1] == ("denied", None)


async def test_escape_at_the_justification_goes_back_without_showing_anything(database, tmp_path):
    person = add_person(database, "Sam", "Hidden")
    with database.uow() as uow:
        uow.session.get(Person, person).restricted = True
        uow.commit()
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_record(pilot, person)
        await pilot.press("escape")
        await settle(pilot)
        assert not any(isinstance(s, PersonRecordScreen) for s in app.screen_stack)
    with database.uow() as uow:
        assert uow.audit.latest(1)[0].outcome == "denied"


async def test_the_record_lists_linked_intelligence_with_its_grading(
    database, supervisor, tmp_path
):
    from controlroom.services import intelligence

    person = add_person(database, "Ivy", "Intelton")
    intelligence.submit_report(
        database.uow(),
        supervisor,
        source="2",
        intelligence="B",
        handling="C",
        conditions="Not to be shared outside the DA unit",
        text="Seen with a knife outside [b]the pub[/b]",
        person_ids=(person,),
        now=SEED_ANCHOR,
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_record(pilot, person)
        text = screen_text(app)
    assert "INTELLIGENCE (3x5x2 grading)" in text
    assert "2BC" in text and "Seen with a knife outside [b]the pub[/b]" in text


# --- merging duplicates and undoing a merge (supervisors only) ---------------------------


def add_supervisor(database, username: str = "sue.pervisor") -> str:
    from controlroom.data.models import Staff

    with database.uow() as uow:
        uow.session.add(Staff(username=username, display_name="Sue Pervisor", role="supervisor"))
        uow.commit()
    return username


def merged_into_of(database, person_id: int):
    with database.uow() as uow:
        return uow.session.get(Person, person_id).merged_into_id


async def test_a_supervisor_merges_a_listed_duplicate_and_undoes_it(database, tmp_path):
    from controlroom.screens.confirm import ConfirmScreen
    from controlroom.screens.person.merge import PersonMergeDialog

    survivor = add_person(database, "Morgan", "Mergeworth", date_of_birth=date(1984, 2, 9))
    duplicate = add_person(database, "Morg", "Mergeworth", date_of_birth=date(1984, 2, 9))
    add_marker(database, duplicate, "WEAPONS")
    app = build_app(database, tmp_path, username=add_supervisor(database))
    async with app.run_test(size=SIZE) as pilot:
        await open_record(pilot, survivor)
        assert "m merges one into this record" in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, PersonMergeDialog)
        assert f"Morg Mergeworth  09/02/1984  (record {duplicate})" in screen_text(app)
        await pilot.press("tab", *"short", "enter")  # a reason before a choice
        await settle(pilot)
        assert "choose the record that is the same person" in screen_text(app)
        await pilot.press("1", "enter")  # the list's number picks the record
        await settle(pilot)
        assert "at least 10 characters" in screen_text(app)  # said at the field...
        await pilot.press(*" - same DOB, PNC", "enter")  # ...and the typing kept
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Reason: short - same DOB, PNC" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, PersonRecordScreen)
        text = screen_text(app)
        assert "merged into this record" in text
        assert merged_into_of(database, duplicate) == survivor
        app.screen.query_one("#person-record").scroll_end(animate=False)
        await settle(pilot)
        text = screen_text(app)
        assert f"record {duplicate} Morg Mergeworth merged by Sue Pervisor" in text
        assert "WEAPONS" in app.screen.query_one("#person-markers").render().plain

        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PersonMergeDialog)
        await pilot.press(*"two people after all", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Merge undone" in screen_text(app)
        assert merged_into_of(database, duplicate) is None
    with database.uow() as uow:
        actions = [
            (e.action, e.outcome, e.justification)
            for e in uow.audit.latest(10)
            if e.action.startswith("person.") and "merge" in e.action
        ]
    assert actions == [
        ("person.unmerge", "success", "two people after all"),
        ("person.merge", "success", "short - same DOB, PNC"),
    ]


async def test_a_merged_away_record_says_where_it_went(database, tmp_path):
    from controlroom.domain.identity import Actor
    from controlroom.domain.roles import Role
    from controlroom.services import person_merge

    survivor = add_person(database, "Robin", "Keeper", date_of_birth=date(1970, 1, 1))
    away = add_person(database, "Rob", "Keeper", date_of_birth=date(1970, 1, 1))
    username = add_supervisor(database)
    with database.uow() as uow:
        staff = uow.staff.by_username(username)
        actor = Actor(staff.id, username, Role.SUPERVISOR, "local")
    person_merge.merge_persons(database.uow(), actor, survivor, away, "same person per PNC")
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_record(pilot, away)
        text = screen_text(app)
        assert (
            f"MERGED INTO Robin Keeper (record {survivor}) by Sue Pervisor on "
            f"{datetime.now(UTC).astimezone(app.zone):%d/%m/%Y}: same person per PNC"
        ) in text
        assert "Rob Keeper" in text  # and its own data


async def test_anyone_but_a_supervisor_is_refused_and_the_refusal_is_audited(database, tmp_path):
    from controlroom.screens.person.merge import PersonMergeDialog

    survivor = add_person(database, "Casey", "Single", date_of_birth=date(1990, 1, 2))
    duplicate = add_person(database, "Case", "Single", date_of_birth=date(1990, 1, 2))
    # A call handler: reads person records, may not merge them.
    app = build_app(database, tmp_path, username=staff_actor(database, "call_handler").username)
    async with app.run_test(size=SIZE) as pilot:
        await open_record(pilot, survivor)
        await pilot.press("m")
        await settle(pilot)
        assert not isinstance(app.screen, PersonMergeDialog)
        assert "Not done: only a supervisor may merge" in screen_text(app)
    assert merged_into_of(database, duplicate) is None
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.action, event.outcome, event.object_id) == (
            "person.merge",
            "denied",
            str(survivor),
        )
