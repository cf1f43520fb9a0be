"""Pilot tests of the safeguarding rules on the incident screens, by keyboard at 80x24.

The sex-offender rule: grading an incident linked to a registered sex offender G4 is
refused without an override (the dialog names the rule), allowed with a supervisor's
written reason, and the override is logged (on screen and in the database). Anyone
else is told plainly that only a supervisor can override.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import select

from controlroom.data.cold_models import IncidentLogEntry, SafeguardingOverride
from controlroom.data.models import AuditEvent, Incident
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.incident.actions import CloseDialog, RegradeDialog
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from tests import factories
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR

SIZE = (80, 24)
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)
OVERRIDE = "Offender in custody since 08:00; caller only wants advice."
_keys = itertools.count(1)


def rso_incident(database, actor) -> str:
    offender = factories.add_person(database, "Rory", "Offender")
    factories.add_marker(database, offender, "RSO")
    saved = incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=f"sg-screen-{next(_keys)}",
            type_code="SUSP",
            location_text="9 Test Close, Testtown",
            grade="G2",
            thrive_skipped=True,
            narrative="Man seen loitering by the school gates.",
            persons=((offender, "subject"),),
        ),
        SEED_ANCHOR - timedelta(minutes=20),
        GRADE_CODES,
    )
    return saved.reference


def stored(database, reference: str):
    with database.uow() as uow:
        incident = uow.session.scalar(select(Incident).where(Incident.reference == reference))
        overrides = uow.session.scalars(
            select(SafeguardingOverride).where(SafeguardingOverride.incident_id == incident.id)
        ).all()
        kinds = [
            e.kind
            for e in uow.session.scalars(
                select(IncidentLogEntry)
                .where(IncidentLogEntry.incident_id == incident.id)
                .order_by(IncidentLogEntry.id)
            )
        ]
        events = [
            (e.action, e.outcome)
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.object_id == str(incident.id),
                    AuditEvent.action.in_(["incident.regrade", "safeguarding.override"]),
                )
                .order_by(AuditEvent.id)
            )
        ]
        return (
            incident.grade,
            [(o.rules, o.reason, o.new_grade) for o in overrides],
            kinds,
            events,
        )


def error_at(screen, field_name: str) -> str:
    widget = screen.query_one(f"#{field_name}-error")
    return str(widget.render()) if widget.has_class("-shown") else ""


async def open_view(pilot, reference: str) -> IncidentView:
    await settle(pilot)
    pilot.app.open_incident(reference)
    await settle(pilot)
    assert isinstance(pilot.app.screen, IncidentView)
    return pilot.app.screen


async def regrade_to_g4(pilot, reason: str = "Caller now says all calm") -> RegradeDialog:
    await pilot.press("g")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, RegradeDialog)
    await pilot.press("4", "enter", *reason)
    await pilot.press("ctrl+s")
    await settle(pilot)
    return dialog


async def test_sex_offender_incident_g4_refused_then_overridden_by_a_supervisor(
    database, tmp_path, supervisor
):
    reference = rso_incident(database, supervisor)
    app = build_app(database, tmp_path)  # signed in as the test supervisor
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await pilot.press("l")  # the safeguarding line sits above the log
        await settle(pilot)
        assert "Registered sex offender linked" in screen_text(app)

        dialog = await regrade_to_g4(pilot)
        assert app.screen is dialog  # refused: the dialog stays, the typing kept
        text = screen_text(app)
        assert "REFUSED BY SAFEGUARDING RULES" in text
        assert "Registered sex offender linked" in text
        assert "As a supervisor you may override" in text
        assert app.focused.id == "override-reason"
        assert dialog.query_one("#reason").value == "Caller now says all calm"
        assert stored(database, reference)[0] == "G2"

        await pilot.press("ctrl+s")  # an empty override reason is refused at its field
        await settle(pilot)
        assert app.screen is dialog
        assert "an override needs a written reason" in error_at(dialog, "override_reason")
        assert app.focused.id == "override-reason"

        await pilot.press(*OVERRIDE)
        await pilot.press("escape")  # the override reason is typing: Esc asks first
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is dialog and dialog.query_one("#override-reason").value == OVERRIDE
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        text = screen_text(app)
        assert "G4 Resolution without deployment" in text
        assert "OVERRIDE" in text and "Offender in custody since 08:00" in text
    grade, overrides, kinds, events = stored(database, reference)
    assert grade == "G4"
    assert overrides == [("rso_linked", OVERRIDE, "G4")]
    assert kinds[-2:] == ["override", "grade_change"]
    assert events == [
        ("incident.regrade", "refused"),
        ("safeguarding.override", "success"),
        ("incident.regrade", "success"),
    ]


async def test_a_call_handler_is_told_plainly_that_only_a_supervisor_can_override(
    database, tmp_path, supervisor
):
    reference = rso_incident(database, supervisor)
    handler = factories.staff_actor(database, Role.CALL_HANDLER)
    app = build_app(database, tmp_path, username=handler.username)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        dialog = await regrade_to_g4(pilot)
        assert app.screen is dialog
        text = screen_text(app)
        assert "REFUSED BY SAFEGUARDING RULES" in text
        assert "You cannot override these rules: only a supervisor can" in text
        assert not dialog.query_one("#override-row").display
    assert stored(database, reference)[:2] == ("G2", [])


async def test_closing_a_domestic_incident_without_dash_names_the_rule(
    database, tmp_path, supervisor
):
    saved = incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="sg-close",
            type_code="DOM",
            location_text="3 Test Row, Testtown",
            grade="G2",
            thrive_skipped=True,
            domestic=True,
            possible_crime=False,
        ),
        SEED_ANCHOR - timedelta(minutes=5),
        GRADE_CODES,
    )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, saved.reference)
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CloseDialog)
        await pilot.press(*"advice", "enter", *"Advised by phone", "tab", "tab")
        await pilot.press(*"Argument only, no offence", "ctrl+s")  # DOM is a possible crime
        await settle(pilot)
        assert app.screen is dialog
        text = screen_text(app)
        assert "REFUSED BY SAFEGUARDING RULES" in text
        assert "Domestic abuse: DASH not done" in text
        assert dialog.query_one("#result").text == "Advised by phone"
    with database.uow() as uow:
        assert uow.incidents.get(saved.id).status == "open"
