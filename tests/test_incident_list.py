"""Incidents at hand: the list (F7), open by reference (ctrl+o) and the palette, at
80x24 by keys alone, and the services behind them on a real database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.screens.incident.listing import IncidentList, OpenByReference
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from tests.apps import build_app, burst, screen_text, settle
from tests.test_incident_view_screen import save_incident

SIZE = (80, 24)


def saved_three(database, supervisor) -> list[str]:
    old = save_incident(database, supervisor, age=timedelta(hours=5), grade="G3")
    mid = save_incident(database, supervisor, age=timedelta(hours=2), grade="G1")
    new = save_incident(database, supervisor, age=timedelta(minutes=5), grade="G3")
    return [old, mid, new]


def test_the_list_is_open_incidents_oldest_first_by_grade_and_audited(database, supervisor):
    old, mid, new = saved_three(database, supervisor)
    shown = incidents.list_incidents(database.uow(), supervisor)
    assert [i.reference for i in shown] == [old, mid, new]
    g3 = incidents.list_incidents(database.uow(), supervisor, grades=("G3",))
    assert [i.reference for i in g3] == [old, new]
    assert incidents.list_incidents(database.uow(), supervisor, statuses=("closed",)) == []
    with database.uow() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "incident.list")
        ).all()
    assert len(actions) == 3


def test_a_reference_is_found_whole_or_by_its_end(database, supervisor):
    old, mid, new = saved_three(database, supervisor)
    assert [
        i.reference for i in incidents.find_references(database.uow(), supervisor, old.lower())
    ] == [old]
    ends = incidents.find_references(database.uow(), supervisor, old[-4:])
    assert [i.reference for i in ends] == [old]
    day = incidents.find_references(database.uow(), supervisor, old[3:11])  # no such end
    assert day == []
    assert incidents.find_references(database.uow(), supervisor, "%") == []  # not a reference
    assert incidents.find_references(database.uow(), supervisor, "[b]x") == []


async def test_f7_lists_them_and_enter_opens_one(database, tmp_path, supervisor):
    old, mid, new = saved_three(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f7")
        assert isinstance(app.screen, IncidentList)
        text = screen_text(app)
        assert "3 open incidents shown, oldest first" in text
        assert text.index(old) < text.index(mid) < text.index(new)
        await burst(pilot, "g")  # G1 only
        text = screen_text(app)
        assert mid in text and old not in text and "g grade: G1" in text
        await burst(pilot, "g", "g", "down", "enter")  # G2 (none), G3: the newer one
        assert isinstance(app.screen, IncidentView)
        assert new in screen_text(app)


async def test_ctrl_o_opens_by_the_last_digits_from_anywhere(database, tmp_path, supervisor):
    old, mid, new = saved_three(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f3", "ctrl+o", *mid[-4:], "enter")
        assert isinstance(app.screen, IncidentView)
        assert mid in screen_text(app)
        await burst(pilot, "ctrl+o", *"9999", "enter")
        assert isinstance(app.screen, OpenByReference)
        assert "no incident's reference ends with 9999" in screen_text(app)


async def test_the_palette_finds_an_incident_by_reference(database, tmp_path, supervisor):
    old, mid, new = saved_three(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*old[-4:])
        for _ in range(100):  # the palette searches as typed, off the event loop
            await pilot.pause(0.02)
            if f"Open {old}" in screen_text(app):
                break
        assert f"Open {old}" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView) and old in screen_text(app)


async def test_enter_typed_ahead_of_the_first_list_opens_the_first_incident(
    database, tmp_path, supervisor, monkeypatch
):
    """F7 and Enter in one read, the list slow to come (a busy database): Enter waits
    for the list and opens its first row, rather than falling on an empty table."""
    import time

    old, mid, new = saved_three(database, supervisor)
    slow = incidents.list_incidents

    def slow_list(*args, **kwargs):
        time.sleep(0.6)
        return slow(*args, **kwargs)

    monkeypatch.setattr(incidents, "list_incidents", slow_list)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f7", "enter")
        for _ in range(100):
            if isinstance(app.screen, IncidentView):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, IncidentView) and old in screen_text(app)
