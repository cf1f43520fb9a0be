"""A refusal by the permission table on the screens: said plainly where the operator
looks, no crash, no hint of a database fault, and the denial audited."""

from __future__ import annotations

import re

from controlroom.domain.roles import Role
from controlroom.screens.intelligence.report import IntelligenceReportScreen
from controlroom.screens.person.search import PersonSearch
from controlroom.services import incidents
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.factories import add_intel, add_person, staff_actor

SIZE = (100, 30)


def said(app) -> str:
    return " ".join(re.sub(r"[│┃║▏▕╎]", " ", screen_text(app)).split())


def latest_audit(database):
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        return event.actor, event.action, event.outcome


async def test_an_analyst_is_told_they_may_not_open_an_incident(database, tmp_path):
    reference = incidents.save_new_incident(
        database.uow(),
        staff_actor(database, Role.SUPERVISOR),
        incidents.NewIncident(
            idempotency_key="screen-1",
            type_code="NOISE",
            location_text="4 Refusal Row",
            caller_name="Quentin Hidden",
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    ).reference
    analyst = staff_actor(database, Role.ANALYST)
    app = build_app(database, tmp_path, username=analyst.username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        text = said(app)
        assert "As an analyst you may not open incidents." in text
        assert "DATABASE NOT ANSWERING" not in text and "PermissionDenied" not in text
        assert "Quentin Hidden" not in text and "4 Refusal Row" not in text
        await pilot.press("escape")  # and the app goes on
        await settle(pilot)
        assert app.is_running
    assert latest_audit(database) == (analyst.username, "incident.view", "denied")


async def test_a_call_handler_is_told_they_may_not_read_restricted_intelligence(database, tmp_path):
    person = add_person(database, "Rita", "Restricted")
    report = add_intel(
        database, "Covert source reports the handover.", persons=(person,), restricted=True
    )
    handler = staff_actor(database, Role.CALL_HANDLER)
    app = build_app(database, tmp_path, username=handler.username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(IntelligenceReportScreen(report))
        await settle(pilot)
        text = said(app)
        assert "As a call handler you may not read restricted intelligence reports." in text
        assert "Covert source" not in text and "PermissionDenied" not in text
    assert latest_audit(database) == (handler.username, "intel.view", "denied")


async def test_an_administrator_searching_for_a_person_is_told_why_nothing_comes(
    database, tmp_path
):
    add_person(database, "Sally", "Searchable")
    app = build_app(database, tmp_path, username="test.admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = PersonSearch()
        screen.search_delay = 0  # search on every key: no timer to wait out
        app.push_screen(screen)
        await settle(pilot)
        for char in "searchable":
            await pilot.press(char)
        await settle(pilot)
        text = said(app)
        assert "As an administrator you may not search for persons." in text
        assert "Sally" not in text
    assert latest_audit(database) == ("test.admin", "person.search", "denied")
