"""Every key lands where it was typed, however fast the keys arrive.

A lagging SSH link delivers a second of typing in one read; the app then has every key
queued before it handles the first. `burst` sends keys that way (where `pilot.press`
waits for the app to go idle after each key). Before the fix, a key that moved the
focus (alt+l, F2, opening a dialog) was handled, but the keys after it went to the
field being left, or to a screen not yet ready, which dropped them.
"""

from __future__ import annotations

from textual.widgets import Input

from controlroom.screens.incident.actions import RegradeDialog
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.person.new import NewPersonScreen
from controlroom.screens.person.search import PersonSearch
from tests.apps import build_app, burst, settle
from tests.test_incident_view_screen import open_view, save_incident

SIZE = (80, 24)


def value(screen, selector: str) -> str:
    return screen.query_one(selector, Input).value


async def test_keys_typed_straight_after_f2_reach_the_new_form(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f2", *"Pat Caller", "tab", *"07700 900123")
        form = app.screen
        assert isinstance(form, IncidentEntry)
        assert value(form, "#caller-name") == "Pat Caller"
        assert value(form, "#caller-phone") == "07700 900123"


async def test_keys_after_a_jump_key_land_in_the_field_jumped_to(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        form = app.screen
        await burst(pilot, *"neighbour", "alt+l", *"14 Mill Lane, LS6 2AB")
        assert value(form, "#caller-name") == "neighbour"
        assert value(form, "#location") == "14 Mill Lane, LS6 2AB"
        await burst(pilot, "alt+n", *"Shouting.", "alt+t", *"dom")
        assert form.query_one("#narrative").text == "Shouting."
        assert value(form, "#type") == "dom"


async def test_a_burst_into_the_new_person_dialog_fills_each_field(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await burst(pilot, "alt+a", *"Sam", "tab", *"Surname", "tab", *"01/01/1990", "tab", *"male")
        dialog = app.screen
        assert isinstance(dialog, NewPersonScreen)
        assert [
            value(dialog, f"#{f}") for f in ("forename", "surname", "date_of_birth", "gender")
        ] == ["Sam", "Surname", "01/01/1990", "male"]


async def test_a_burst_into_the_regrade_dialog_keeps_grade_and_reason_apart(
    database, tmp_path, supervisor
):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_view(pilot, reference)
        await burst(pilot, "g", "3", "tab", *"caller says it has calmed down")
        dialog = app.screen
        assert isinstance(dialog, RegradeDialog)
        assert value(dialog, "#new-grade") == "3"
        assert value(dialog, "#reason") == "caller says it has calmed down"
        await burst(pilot, "ctrl+s")
        assert isinstance(app.screen, IncidentView)


async def test_a_burst_through_the_open_incidents_list_starts_the_second_call(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f2", *"First Caller", "f3", *"jones", "f2", "n", *"Second Caller")
        forms = app.open_forms
        assert [value(f, "#caller-name") for f in forms] == ["First Caller", "Second Caller"]
        assert app.screen is forms[-1]


async def test_a_burst_through_a_question_answers_it(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f2", *"Someone", "escape", "y", "f3", *"smith")
        assert isinstance(app.screen, PersonSearch)
        assert value(app.screen, "#person-search-query") == "smith"
        assert not app.open_forms
