"""A second F2 never buries the call in progress: every unsaved incident is listed and
one key away, each form keeps its own draft, and all of them are offered after a crash."""

from __future__ import annotations

from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.incident.open_forms import OpenIncidents
from controlroom.screens.person.search import PersonSearch
from controlroom.services.drafts import draft_journal
from tests.apps import build_app, screen_text, settle
from tests.test_incident_entry_screen import TEST_SUPERVISOR

SIZE = (80, 24)


def caller(screen) -> str:
    return screen.query_one("#caller-name").value


async def new_form(pilot, name: str) -> IncidentEntry:
    await pilot.press(*name)
    await settle(pilot)
    form = pilot.app.screen
    assert isinstance(form, IncidentEntry) and caller(form) == name
    return form


async def test_a_second_f2_asks_and_the_first_call_is_one_key_away(database, tmp_path):
    app = build_app(database, tmp_path)
    journal = draft_journal(tmp_path, TEST_SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        first = await new_form(pilot, "First Caller")
        await pilot.press("f3")  # a search for the first call
        await settle(pilot)
        assert isinstance(app.screen, PersonSearch)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, OpenIncidents)
        assert "First Caller (open)" in screen_text(app)
        await pilot.press("n")  # the second call
        await settle(pilot)
        second = await new_form(pilot, "Second Caller")
        assert second is not first
        # Each form has a draft of its own: the second never overwrote the first.
        app.write_open_drafts()
        drafts = sorted(d["caller_name"] for j in journal.all() if (d := j.load()))
        assert drafts == ["First Caller", "Second Caller"]
        await pilot.press("f2")
        await settle(pilot)
        text = screen_text(app)
        assert "First Caller (open)" in text and "Second Caller (this form)" in text
        await pilot.press("1")  # back to the first call
        await settle(pilot)
        assert app.screen is first and caller(first) == "First Caller"
        # Each call has a mode of its own: going back to the first closes nothing.
        await pilot.press("f2")
        await settle(pilot)
        text = screen_text(app)
        assert "First Caller (this form)" in text and "Second Caller (open)" in text
        await pilot.press("2")
        await settle(pilot)
        assert app.screen is second and caller(second) == "Second Caller"
        # The search the first call started is still where the operator left it.
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, PersonSearch)


async def test_f2_on_a_blank_form_stays_on_it(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        form = app.screen
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is form


async def test_every_unsaved_incident_is_offered_after_a_restart(database, tmp_path):
    journal = draft_journal(tmp_path, TEST_SUPERVISOR)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await new_form(pilot, "Alpha Caller")
        await pilot.press("f2", "n")
        await settle(pilot)
        await new_form(pilot, "Bravo Caller")
        app.write_open_drafts()  # as a hang-up or a quit does
    assert len(journal.all()) == 2
    again = build_app(database, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, ConfirmScreen)
        assert "(1 more after this)" in screen_text(again)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(again.screen, ConfirmScreen)  # the second is offered next
        await pilot.press("y")
        await settle(pilot)
        forms = again.open_forms
        assert sorted(caller(f) for f in forms) == ["Alpha Caller", "Bravo Caller"]


async def test_a_draft_open_in_another_session_is_neither_offered_nor_listed(database, tmp_path):
    """Two sessions of one operator: a form open in one (its draft held) is not offered
    to the other at start or by F2, so two sessions never type into one draft; once that
    session ends, its draft is offered."""
    from controlroom.screens.incident.entry import EntryState
    from controlroom.services.drafts import DraftClaims, form_key

    journal = draft_journal(tmp_path, TEST_SUPERVISOR)
    state = EntryState(caller_name="Other Session")
    theirs = journal.for_form(form_key(state.idempotency_key))
    theirs.save(state.to_draft())
    other_session = DraftClaims()
    assert other_session.claim(theirs)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # nothing offered
        await pilot.press("f2")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, IncidentEntry) and caller(form) == ""  # a new form at once
        await pilot.press(*"This Session")
        await settle(pilot)
        app.write_open_drafts()
        assert theirs.load()["caller_name"] == "Other Session"  # never written over
        other_session.release_all()  # that session ends
        await pilot.press("f2")
        await settle(pilot)
        text = screen_text(app)
        assert "Other Session (draft)" in text and "This Session (this form)" in text
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry) and caller(app.screen) == "Other Session"
    again = DraftClaims()
    assert again.claim(theirs)  # the app let go when it ended


async def test_another_call_reuses_a_blank_form_rather_than_piling_up_forms(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await new_form(pilot, "Typed Caller")
        await pilot.press("f2", "n")  # a second call: a blank form
        await settle(pilot)
        blank = app.screen
        await pilot.press("f2", "1")  # back to the first; the blank one stays open
        await settle(pilot)
        await pilot.press("f2", "n")  # another call: the blank form, not a third
        await settle(pilot)
        assert app.screen is blank and len(app.open_forms) == 2
