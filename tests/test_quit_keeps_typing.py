"""ctrl+q never loses an incident being typed: it asks first, and whatever the answer the
draft on disk holds every key typed (not only those before the form's 2-second pause)."""

from __future__ import annotations

from controlroom.app import QuitQuestion
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.services.drafts import draft_journal
from tests.apps import build_app, screen_text, settle
from tests.test_incident_entry_screen import TEST_SUPERVISOR

SIZE = (80, 24)


async def test_ctrl_q_asks_before_quitting_an_unsaved_incident(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"Quit Caller")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, QuitQuestion)
        assert "Quit with an incident not saved?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, IncidentEntry)
        assert app.screen.query_one("#caller-name").value == "Quit Caller"
        await pilot.press(*" Jr", "ctrl+q", "ctrl+q")  # a second ctrl+q is the yes
        await pilot.pause()
        # Written on the way out, not by the form's timer (which has not fired).
        [journal] = draft_journal(tmp_path, TEST_SUPERVISOR).all()
        assert journal.load()["caller_name"] == "Quit Caller Jr"
    assert not app.is_running


async def test_ctrl_q_with_nothing_typed_quits_at_once(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running
    assert draft_journal(tmp_path, TEST_SUPERVISOR).all() == []
