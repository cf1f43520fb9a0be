"""Pilot, by keys at 80x24: the board counts closures awaiting sign-off; a supervisor
signs one off (v, ctrl+s) and returns another open with a reason (v, reason, ctrl+o)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.incident.actions import SignOffDialog
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor

GRADES = tuple(g.code for g in DEFAULT_GRADES)


def _closed_without_crime(database, handler) -> str:
    saved = incidents.save_new_incident(
        database.uow(),
        handler,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="CDAM",
            location_text="1 Test Street",
            possible_crime=True,
        ),
        SEED_ANCHOR - timedelta(hours=1),
        GRADES,
    )
    incidents.close_incident(
        database.uow(),
        handler,
        saved.id,
        1,
        SEED_ANCHOR - timedelta(minutes=30),
        closing_type_code="CDAM",
        result="Advice given.",
        no_crime_reason="The damage was accidental, owner says.",
    )
    return saved.reference


async def _sign_off(pilot, reference: str, *keys: str) -> IncidentView:
    app = pilot.app
    app.open_incident(reference)
    await settle(pilot)
    view = app.screen
    assert isinstance(view, IncidentView) and view.detail.awaiting_signoff
    assert "AWAITING SIGN-OFF" in screen_text(app)
    await pilot.press("v")
    await settle(pilot)
    assert isinstance(app.screen, SignOffDialog)
    await pilot.press(*keys)
    await settle(pilot)
    assert app.screen is view
    return view


async def test_a_supervisor_signs_off_and_returns_by_keys(database, tmp_path):
    handler = staff_actor(database, Role.CALL_HANDLER)
    first = _closed_without_crime(database, handler)
    second = _closed_without_crime(database, handler)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "2 closure(s) await sign-off" in screen_text(app)
        view = await _sign_off(pilot, first, "ctrl+s")
        assert view.detail.signoff == incidents.SIGNOFF_APPROVED
        assert "AWAITING" not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        # Returning needs a reason: ctrl+o with none is refused at the field.
        app.open_incident(second)
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SignOffDialog)
        assert "write why the closure is returned" in screen_text(app)
        await pilot.press(*"record the crime", "ctrl+o")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, IncidentView)
        assert (view.detail.status, view.detail.signoff) == ("open", None)
        await pilot.press("escape", "r")  # back to the board; read its counts now
        await settle(pilot)
        assert "await sign-off" not in screen_text(app)
