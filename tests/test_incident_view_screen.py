"""Pilot tests of the incident view and its change dialogs, by keyboard alone at 80x24.

Each test saves its incident through the service (as the entry form would), opens it
from the home board, and asserts on what the operator sees and on the database after.
"Another operator" is a second staff account changing the incident through the same
services while the first operator has a dialog open.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import func, select
from textual import events

from controlroom.data.cold_models import IncidentLogEntry, Person, WarningMarker
from controlroom.data.models import AuditEvent, Incident, Location, LocationHazard
from controlroom.domain.grades import DEFAULT_GRADES, Grade, parse_grade
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.domain.safe_text import printable
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.help import HelpScreen
from controlroom.screens.home_board import HomeBoard
from controlroom.screens.incident.actions import (
    CloseDialog,
    NoteDialog,
    RegradeDialog,
    StatusDialog,
    describe_changes,
)
from controlroom.screens.incident.view import IncidentView, attendance, format_target
from controlroom.services import incidents, staff
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR, TEST_ADMIN

SIZE = (80, 24)
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)
_keys = itertools.count(1)


def save_incident(
    database, actor: Actor, *, age: timedelta = timedelta(minutes=42), **fields
) -> str:
    """Save an incident through the service, opened `age` before the app's fixed clock."""
    values = dict(
        idempotency_key=f"view-test-{next(_keys)}",
        type_code="DOM",
        location_text="1 Test Street, Testtown",
        location_id=None,
        caller_name="Pat Caller",
        caller_phone="07700 900123",
        caller_relationship="neighbour",
        grade="G2",
        thrive=None,
        thrive_skipped=True,
        narrative="Shouting heard next door.",
        persons=(),
        domestic=True,
        child_present=False,
        weapons=False,
        possible_crime=True,
    )
    values.update(fields)
    saved = incidents.save_new_incident(
        database.uow(), actor, incidents.NewIncident(**values), SEED_ANCHOR - age, GRADE_CODES
    )
    return saved.reference


def other_operator(database, supervisor: Actor) -> Actor:
    with database.uow() as uow:
        admin = uow.staff.by_username(TEST_ADMIN)  # only an administrator enrols staff
        admin = Actor(admin.id, admin.username, Role(admin.role), "local")
    member = staff.add_staff(
        database.uow(),
        admin,
        username="other.operator",
        role=Role.DISPATCHER,
        display_name="Olive Other",
    )
    return Actor(
        staff_id=member.id, username=member.username, role=Role.DISPATCHER, terminal="10.0.0.9"
    )


def stored(database, reference: str) -> Incident:
    with database.uow() as uow:
        incident = uow.session.scalar(select(Incident).where(Incident.reference == reference))
        uow.session.expunge(incident)
        return incident


def log_rows(database, reference: str) -> list[tuple[str, str | None, str | None, str]]:
    with database.uow() as uow:
        rows = uow.session.execute(
            select(
                IncidentLogEntry.kind,
                IncidentLogEntry.old_value,
                IncidentLogEntry.new_value,
                IncidentLogEntry.text,
            )
            .join(Incident, Incident.id == IncidentLogEntry.incident_id)
            .where(Incident.reference == reference)
            .order_by(IncidentLogEntry.id)
        )
        return [tuple(row) for row in rows]


def view_events(database, reference: str) -> int:
    with database.uow() as uow:
        incident_id = uow.session.scalar(select(Incident.id).where(Incident.reference == reference))
        return uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "incident.view", AuditEvent.object_id == str(incident_id))
        )


async def open_view(pilot, reference: str) -> IncidentView:
    await settle(pilot)
    pilot.app.open_incident(reference)
    await settle(pilot)
    assert isinstance(pilot.app.screen, IncidentView)
    return pilot.app.screen


async def type_text(pilot, text: str) -> None:
    await pilot.press(*("enter" if c == "\n" else c for c in text))


def shown(screen, selector: str) -> str:
    """The text a Static shows, whole (the screen may wrap it over several lines)."""
    widget = screen.query_one(selector)
    return str(widget.render()) if widget.display else ""


def error_at(screen, field_name: str) -> str:
    widget = screen.query_one(f"#{field_name}-error")
    return str(widget.render()) if widget.has_class("-shown") else ""


async def paste(pilot, text: str) -> None:
    """Paste into the focused field, as an operator pasting a prepared account would."""
    pilot.app.post_message(events.Paste(text))  # as the terminal driver delivers it
    await pilot.pause()


async def test_view_shows_the_incident_and_audits_every_read(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        text = screen_text(app)
        assert reference in text and "G2 Priority" in text and "OPEN" in text
        assert "age 42m of 60m target" in text
        assert "Domestic incident" in text
        assert "1 Test Street, Testtown" in text and "UNVERIFIED" in text
        assert "Pat Caller · 07700900123 · neighbour" in text  # phone stored normalised
        assert view_events(database, reference) == 1
        await pilot.press("pagedown")
        await pilot.pause()
        text = screen_text(app)
        assert "NOT ASSESSED" in text
        assert "DOMESTIC, POSSIBLE CRIME" in text
        assert "Shouting heard next door." in text
        await pilot.press("r")
        await settle(pilot)
        assert view_events(database, reference) == 2
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeBoard)


async def test_over_target_is_said_in_words_and_g4_has_no_target(database, tmp_path, supervisor):
    late = save_incident(database, supervisor, grade="G1", age=timedelta(minutes=27))
    g4 = save_incident(
        database,
        supervisor,
        grade="G4",
        type_code="INFO",
        domestic=False,
        possible_crime=False,
        age=timedelta(hours=3),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, late)
        assert "! OVER TARGET by 12m — age 27m of 15m target" in screen_text(app)
        assert view.query_one("#view-age").has_class("-over")
        await pilot.press("escape")
        await open_view(pilot, g4)
        assert "age 3h 00m · no attendance target" in screen_text(app)


async def test_location_hazards_history_and_person_markers_show(database, tmp_path, supervisor):
    with database.uow() as uow:
        place = Location(
            address="12 Mill Lane",
            street="Mill Lane",
            town="Testtown",
            postcode="TE1 1ST",
            verified=True,
        )
        uow.session.add(place)
        uow.session.flush()
        uow.session.add(LocationHazard(location_id=place.id, hazard="DOG ON PREMISES"))
        suspect = Person(forename="Sam", surname="Suspect", date_of_birth=date(1980, 2, 1))
        uow.session.add(suspect)
        uow.session.flush()
        uow.session.add(
            WarningMarker(person_id=suspect.id, marker_code="RSO", valid_from=date(2020, 1, 1))
        )
        uow.commit()
        place_id, suspect_id = place.id, suspect.id
    earlier = save_incident(
        database,
        supervisor,
        location_id=place_id,
        age=timedelta(days=30),
        location_text="12 Mill Lane, Testtown TE1 1ST",
    )
    reference = save_incident(
        database,
        supervisor,
        location_id=place_id,
        location_text="12 Mill Lane, Testtown TE1 1ST",
        persons=((suspect_id, "suspect"),),
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        text = screen_text(app)
        assert "✓ verified" in text
        assert "HAZARD: DOG ON PREMISES" in text
        assert "incident(s) here in 12 months" in text
        assert earlier in text
        await pilot.press("pagedown")
        await pilot.pause()
        text = screen_text(app)
        assert "SUSPECT: Sam" in text and "b. 01/02/1980" in text
        assert "!REGISTERED SEX OFFENDER" in text


async def test_add_a_note_by_keys_and_empty_is_refused_at_the_field(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, NoteDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "the note is empty" in error_at(dialog, "text")
        await type_text(pilot, "Unit 4 en route\nETA 5m")
        assert app.screen is dialog  # Enter made a new line, it did not save
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        text = screen_text(app)
        assert "NOTE" in text and "Unit 4 en route" in text and "ETA 5m" in text
        assert "26/11 09:00" in text  # Europe/London local time of the fixed clock
    assert log_rows(database, reference)[-1] == ("note", None, None, "Unit 4 en route\nETA 5m")


async def test_regrade_needs_a_reason_then_logs_old_and_new_grade(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("g")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RegradeDialog)
        await pilot.press("1")
        await pilot.pause()
        assert "G2 → G1" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "a reason is required" in error_at(dialog, "reason")
        assert app.focused.id == "reason"
        assert dialog.query_one("#new-grade").value == "1"  # nothing typed is lost
        await type_text(pilot, "knife seen")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        text = screen_text(app)
        assert "G1 Emergency" in text
        assert "GRADE G2 → G1" in text and "knife seen" in text
    assert stored(database, reference).grade == "G1"
    assert ("grade_change", "G2", "G1", "knife seen") in log_rows(database, reference)


async def test_status_changes_by_one_key(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, StatusDialog)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert "DISPATCHED" in screen_text(app)
        assert "STATUS open → dispatched" in screen_text(app)
    assert stored(database, reference).status == "dispatched"


async def test_closing_a_possible_crime_needs_a_crime_reference_or_a_reason(
    database, tmp_path, supervisor
):
    # Not domestic: closing a domestic incident without a DASH is a safeguarding matter
    # (tests/test_safeguarding_screens.py).
    reference = save_incident(database, supervisor, type_code="BURGR", domestic=False)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CloseDialog)
        await type_text(pilot, "adv")
        await pilot.pause()
        await pilot.press("enter")  # picks "Request for information or advice"
        await pilot.pause()
        assert dialog.closing_type_code == "INFO"
        assert app.focused.id == "result"
        await type_text(pilot, "Advised")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog
        assert "possible crime" in error_at(dialog, "crime_reference")
        assert dialog.query_one("#result").text == "Advised"
        assert stored(database, reference).status == "open"
        await pilot.press("tab")  # from the crime reference to the no-crime reason
        assert app.focused.id == "no-crime-reason"
        await paste(pilot, "Verbal argument only, no offence disclosed")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert "CLOSED" in screen_text(app)
    closed = stored(database, reference)
    assert closed.status == "closed" and closed.closing_type_code == "INFO"
    assert closed.result == "Advised"
    assert closed.no_crime_reason == "Verbal argument only, no offence disclosed"


async def test_a_conflicting_regrade_keeps_the_typing_and_applies_on_the_second_save(
    database, tmp_path, supervisor
):
    reference = save_incident(database, supervisor)
    other = other_operator(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, reference)
        await pilot.press("g")
        await pilot.pause()
        dialog = app.screen
        await pilot.press("1", "tab")
        await type_text(pilot, "weapon mentioned")
        # Meanwhile another operator regrades the same incident.
        current = stored(database, reference)
        incidents.change_grade(
            database.uow(),
            other,
            current.id,
            "G3",
            "caller calmer",
            current.version,
            SEED_ANCHOR,
            GRADE_CODES,
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog
        text = screen_text(app)
        conflict = shown(dialog, "#dialog-conflict")
        assert conflict.startswith(
            "Changed by another operator since you opened it: grade now G3 by Olive Other."
        )
        assert conflict.endswith("Your entry is kept — ctrl+s applies it to the current version.")
        assert "Changed by another operator" in text
        assert dialog.query_one("#reason").value == "weapon mentioned"
        assert dialog.query_one("#new-grade").value == "1"
        assert "G3 → G1" in text  # the preview follows the current grade
        assert view.detail.grade == "G3"  # the view underneath shows the current incident
        assert stored(database, reference).grade == "G3"
        assert [r[:3] for r in log_rows(database, reference) if r[0] == "grade_change"] == [
            ("grade_change", "G2", "G3")
        ]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is view
        assert "GRADE G3 → G1" in screen_text(app)
    assert stored(database, reference).grade == "G1"
    assert [r[:3] for r in log_rows(database, reference) if r[0] == "grade_change"] == [
        ("grade_change", "G2", "G3"),
        ("grade_change", "G3", "G1"),
    ]


async def test_a_note_never_conflicts_and_the_view_catches_up(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    other = other_operator(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, reference)
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "door forced")
        current = stored(database, reference)
        incidents.change_grade(
            database.uow(),
            other,
            current.id,
            "G1",
            "forced entry",
            current.version,
            SEED_ANCHOR,
            GRADE_CODES,
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is view
        text = screen_text(app)
        assert "G1 Emergency" in text
        assert "GRADE G2 → G1" in text and "door forced" in text
    assert [r[0] for r in log_rows(database, reference)][-2:] == ["grade_change", "note"]


async def test_escape_closes_only_the_dialog_and_asks_before_dropping_typing(
    database, tmp_path, supervisor
):
    reference = save_incident(database, supervisor)
    entries_before = log_rows(database, reference)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, reference)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("escape")  # nothing typed: closes at once
        await pilot.pause()
        assert app.screen is view
        await pilot.press("n")
        await pilot.pause()
        dialog = app.screen
        await type_text(pilot, "half a note")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#note-text").text == "half a note"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is view
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeBoard)
    assert log_rows(database, reference) == entries_before


async def test_reassess_thrive_and_flags(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, reference)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#thrive-skip").value  # saved as skipped
        await type_text(pilot, "ex-partner at door")
        assert not dialog.query_one("#thrive-skip").value  # typing un-skips it
        # Five more THRIVE parts, Skip, Domestic, Child present, then Weapons.
        await pilot.press(*["tab"] * 9)
        assert app.focused.id == "flag-weapons"
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is view
        await pilot.press("pagedown")
        await pilot.pause()
        text = screen_text(app)
        assert "Threat: ex-partner at door" in text
        assert "DOMESTIC, WEAPONS, POSSIBLE CRIME" in text
    incident = stored(database, reference)
    assert incident.thrive_threat == "ex-partner at door" and incident.weapons


async def test_closed_incident_takes_notes_but_not_regrades(database, tmp_path, supervisor):
    reference = save_incident(
        database, supervisor, type_code="INFO", domestic=False, possible_crime=False, grade="G4"
    )
    current = stored(database, reference)
    incidents.close_incident(
        database.uow(),
        supervisor,
        current.id,
        current.version,
        SEED_ANCHOR,
        closing_type_code="INFO",
        result="Advice given",
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, reference)
        await pilot.press("g")
        await pilot.pause()
        assert app.screen is view
        assert "is closed: only notes can be added" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)


HOSTILE = [
    "[@click=app.quit]x",
    "\x1b[2J",
    "[b]bold",
    "[/]",
    "[TODO] plan",
    "\x9b31m",
    "abc\u202edef",
]


async def test_hostile_text_shows_literally_and_fires_nothing(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    # Written straight to the rows, as an import or an older system might have left them:
    # the services refuse ESC at the field, but the view must not trust that.
    with database.uow() as uow:
        incident = uow.session.scalar(select(Incident).where(Incident.reference == reference))
        incident.caller_name = "C[@click=app.quit]x"
        incident.narrative = "\n".join(f"N{hostile}" for hostile in HOSTILE)
        for hostile in HOSTILE:
            uow.session.add(
                IncidentLogEntry(
                    incident_id=incident.id,
                    entered_at=SEED_ANCHOR,
                    entered_by_id=supervisor.staff_id,
                    kind="note",
                    text=f"L{hostile}",
                )
            )
        uow.commit()
    app = build_app(database, tmp_path)
    async with app.run_test(size=(100, 60)) as pilot:
        await open_view(pilot, reference)
        for widget_id in ("#view-caller", "#view-narrative", "#view-log"):
            await pilot.click(widget_id)
        await settle(pilot)
        assert app.is_running and app.return_code is None
        text = screen_text(app)
        assert "C[@click=app.quit]x" in text
        for hostile in HOSTILE:
            assert f"N{printable(hostile)}" in text and f"L{printable(hostile)}" in text
        assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
        # Typed by the operator into a note: kept and shown exactly as typed.
        await pilot.press("n")
        await pilot.pause()
        await type_text(pilot, "T[@click=app.quit]x [b]")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert "T[@click=app.quit]x [b]" in screen_text(app)
        assert app.is_running
    assert log_rows(database, reference)[-1][3] == "T[@click=app.quit]x [b]"


async def test_f1_lists_the_view_keys_with_their_ids(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for binding_id in (
            "view.note",
            "view.regrade",
            "view.status",
            "view.close",
            "view.reassess",
            "view.reload",
        ):
            assert binding_id in text


async def test_an_unknown_reference_says_so(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, "CR-20261126-9999")
        assert "No incident CR-20261126-9999" in screen_text(app)


# --- the words, without a screen ------------------------------------------------------------


def test_age_against_target_reads_in_words():
    opened = SEED_ANCHOR
    g1, g2, g4 = (
        Grade("G1", "Emergency", timedelta(minutes=15)),
        Grade("G2", "Priority", timedelta(minutes=60)),
        Grade("G4", "Resolution", None),
    )
    assert attendance(opened_at=opened, now=opened + timedelta(minutes=42), grade=g2) == (
        "age 42m of 60m target",
        False,
    )
    words, over = attendance(opened_at=opened, now=opened + timedelta(minutes=72), grade=g2)
    assert over and words.startswith("! OVER TARGET by 12m")
    assert attendance(opened_at=opened, now=opened + timedelta(hours=5), grade=g4)[0] == (
        "age 5h 00m · no attendance target"
    )
    assert attendance(
        opened_at=opened,
        now=opened + timedelta(hours=1),
        grade=g1,
        attended_at=opened + timedelta(minutes=12),
    ) == ("attended after 12m of 15m target", False)
    assert format_target(timedelta(hours=48)) == "48h"
    assert format_target(timedelta(minutes=60)) == "60m"


def test_grades_are_read_as_operators_type_them():
    assert parse_grade("1", GRADE_CODES) == "G1"
    assert parse_grade(" g3 ", GRADE_CODES) == "G3"
    assert parse_grade("G9", GRADE_CODES) is None
    assert parse_grade("", GRADE_CODES) is None


def test_a_conflict_names_what_changed_and_who_changed_it():
    from dataclasses import dataclass, field

    @dataclass
    class Entry:
        id: int
        kind: str
        entered_by: str

    @dataclass
    class Detail:
        grade: str = "G2"
        status: str = "open"
        thrive: dict = field(default_factory=dict)
        thrive_skipped: bool = False
        domestic: bool = False
        child_present: bool = False
        weapons: bool = False
        possible_crime: bool = False
        closing_type_code: str | None = None
        version: int = 1
        log: tuple = ()

    before = Detail(log=(Entry(1, "note", "Me"),))
    after = Detail(
        grade="G1",
        status="dispatched",
        weapons=True,
        version=3,
        log=(Entry(1, "note", "Me"), Entry(2, "grade_change", "Olive Other")),
    )
    assert describe_changes(before, after) == (
        "grade now G1, status now dispatched, flags now weapons by Olive Other"
    )
    assert describe_changes(before, Detail(version=2, log=before.log)) == (
        "saved as version 2 by the other save"
    )


async def test_a_note_past_the_limit_keeps_what_fits_and_says_so(database, tmp_path, supervisor):
    from controlroom.domain.incidents import TEXT_LIMIT

    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        await paste(pilot, "n" * (TEXT_LIMIT + 25))
        await settle(pilot)
        assert len(app.screen.query_one("#note-text").text) == TEXT_LIMIT
        assert "25 typed or pasted were not taken" in error_at(app.screen, "text")
