"""Snapshot of "who looked at this" at 80x24: a supervisor on a person record that a call
handler opened earlier with a justification. Audit times come from a fixed clock (one
second per event from the seeding anchor), so every run draws the same screen. After a
deliberate change: pytest --snapshot-update.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from controlroom.domain.roles import Role
from controlroom.screens.person.record import PersonRecordScreen
from controlroom.services import audit
from tests.apps import build_app, settle
from tests.audit_stations import enrol
from tests.databases import SEED_ANCHOR
from tests.factories import add_person

SIZE = (80, 24)


@pytest.fixture
def fixed_audit_clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(
        "controlroom.services.audit.utcnow", lambda: SEED_ANCHOR + timedelta(seconds=next(ticks))
    )


@pytest.fixture
def watched_person(database, database_url, fixed_audit_clock) -> int:
    enrol(database_url, Role.SUPERVISOR, "duty.supervisor")
    handler = enrol(database_url, Role.CALL_HANDLER, "call.handler7")
    person = add_person(database, "Morgan", "Looked-At", date_of_birth=date(1985, 7, 14))
    with database.uow() as uow:
        audit.record(
            uow,
            handler,
            "person.view",
            "person",
            person,
            justification="Caller named her as the victim; checking markers",
        )
        uow.commit()
    return person


def test_who_looked_at_a_person(snap_compare, database, tmp_path, watched_person):
    app = build_app(database, tmp_path, username="duty.supervisor")

    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(PersonRecordScreen(watched_person))
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press("down", "down", "down")  # the call handler's look and its reason
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
