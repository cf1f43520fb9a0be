"""Pilot: the incident view shows what the service returns for the operator's role — a
sexual-offence complainant withheld from a call handler, named to a supervisor."""

from __future__ import annotations

from datetime import timedelta

from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from controlroom.services.incidents import withheld_text
from tests.apps import build_app, settle
from tests.databases import SEED_ANCHOR
from tests.factories import add_person, staff_actor

SIZE = (80, 24)


def shown(screen, selector: str) -> str:
    widget = screen.query_one(selector)
    return str(widget.render()) if widget.display else ""


async def _persons_and_caller(database, tmp_path, username: str, reference: str):
    app = build_app(database, tmp_path, username=username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        return shown(app.screen, "#view-persons"), shown(app.screen, "#view-caller")


async def test_the_view_withholds_a_complainant_from_a_call_handler_only(database, tmp_path):
    victim = add_person(database, "Rowena", "Quillfeather")
    handler = staff_actor(database, Role.CALL_HANDLER)
    saved = incidents.save_new_incident(
        database.uow(),
        handler,
        incidents.NewIncident(
            idempotency_key="anon-screen",
            type_code="SEXO",
            location_text="3 Wren Close",
            caller_name="Rowena Quillfeather",
            caller_phone="07700900461",
            persons=((victim, "victim"),),
        ),
        SEED_ANCHOR - timedelta(minutes=5),
        tuple(g.code for g in DEFAULT_GRADES),
    )
    persons, caller = await _persons_and_caller(
        database, tmp_path / "h", handler.username, saved.reference
    )
    assert withheld_text() in " ".join(persons.split())
    assert "Quillfeather" not in persons + caller and "07700900461" not in caller
    supervisor = staff_actor(database, Role.SUPERVISOR)
    persons, caller = await _persons_and_caller(
        database, tmp_path / "s", supervisor.username, saved.reference
    )
    assert "VICTIM: Rowena Quillfeather" in persons
    assert "withheld" not in persons and "07700900461" in caller
