"""Navigation (issue 14, item 9): the top-level screens are Textual modes. Their keys switch
between tasks as the operator left them; Esc steps back one screen within a task and, at
the task's first screen, returns to the board — never back through other tasks."""

from __future__ import annotations

from controlroom.screens.home_board import HomeBoard
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.incident.listing import IncidentList
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.person.search import PersonSearch
from tests.apps import build_app, burst, screen_text, settle
from tests.test_incident_entry_screen import open_form, type_minimal
from tests.test_incident_view_screen import save_incident

SIZE = (80, 24)


def value(screen, selector: str) -> str:
    return screen.query_one(selector).value


async def test_escape_steps_back_within_a_task_never_through_another(
    database, tmp_path, supervisor
):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f3", *"jones")  # a search, left half-way
        assert isinstance(app.screen, PersonSearch)
        await burst(pilot, "f7", "enter")  # the list, then an incident from it
        assert isinstance(app.screen, IncidentView) and reference in screen_text(app)
        assert app.current_mode == "incidents"
        await burst(pilot, "escape")
        assert isinstance(app.screen, IncidentList)  # one step back: the list
        await burst(pilot, "escape")
        # The list was the task's first screen: the board, not the search before it.
        assert isinstance(app.screen, HomeBoard) and app.current_mode == "board"
        await burst(pilot, "escape")
        assert isinstance(app.screen, HomeBoard)  # nothing behind the board
        await burst(pilot, "f3")
        # The search is as it was left.
        assert isinstance(app.screen, PersonSearch)
        assert value(app.screen, "#person-search-query") == "jones"
        await burst(pilot, "escape")
        assert isinstance(app.screen, HomeBoard)
        await burst(pilot, "f3")  # closed by Esc: a new search
        assert value(app.screen, "#person-search-query") == ""


async def test_a_task_key_switches_without_closing_the_task_behind(database, tmp_path, supervisor):
    reference = save_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f7", "enter")
        assert isinstance(app.screen, IncidentView)
        await burst(pilot, "f3", "f7")  # away and back: the incident is still open
        assert isinstance(app.screen, IncidentView) and reference in screen_text(app)
        await burst(pilot, "f7")  # the key of the task at hand changes nothing
        assert isinstance(app.screen, IncidentView)


async def test_the_board_is_not_beneath_a_form(database, tmp_path):
    """A call's form is a mode of its own: the board's refreshes draw nothing under it."""
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        assert not any(isinstance(s, HomeBoard) for s in app.screen_stack)
        assert app.screen_stack == [app.screen]


async def test_a_saved_call_shows_its_incident_and_escape_goes_to_the_board(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await type_minimal(pilot, grade="1")  # location and type: enough to save
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert app.open_forms == []  # the call is no longer in hand
        await burst(pilot, "escape")
        assert isinstance(app.screen, HomeBoard)
        await burst(pilot, "f2")  # no form waiting: a new one, straight away
        assert isinstance(app.screen, IncidentEntry)
        assert value(app.screen, "#caller-name") == ""


async def test_home_from_the_palette_keeps_every_task(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await burst(pilot, *"Kept Caller")
        form = app.screen
        app.action_home()
        await settle(pilot)
        assert isinstance(app.screen, HomeBoard)
        await burst(pilot, "f2")  # the form with typing: asked, and one key away
        assert "Kept Caller (open)" in screen_text(app)
        await burst(pilot, "1")
        assert app.screen is form and value(form, "#caller-name") == "Kept Caller"


async def test_a_closed_task_lets_go_of_its_screens(database, tmp_path, supervisor):
    """Issue 15, memory: a closed triage queue was held, with its table, until its
    heartbeat timer's cancelled handle came due (a third of the stale time: minutes)
    and until its live feed's pooled thread ran another worker, so visiting every main
    screen kept every one of them."""
    import gc
    import weakref

    from controlroom.screens.queue import TriageQueue
    from tests.apps import until

    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        # Not `settle`: the queue's live feed is a worker for the life of the screen.
        await until(pilot, lambda: "over triage target" in screen_text(app))
        assert isinstance(app.screen, TriageQueue)
        closed = weakref.ref(app.screen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeBoard))
        # Nothing holds it: a collection frees it (the app runs one a second after the
        # task closes; here one is run at each look, to see when it can be freed).
        await until(pilot, lambda: gc.collect() >= 0 and closed() is None)


async def test_a_closed_screen_lets_go_of_its_database_banner(database, tmp_path, supervisor):
    """Issue 15, memory over a shift: each banner watched the App's availability through
    Textual's `watch`, whose list drops a watcher only when the value next changes (an
    outage), so every screen ever opened left its banner behind. Closed, it goes; the
    banners on show still say the next outage."""
    import gc
    import weakref
    from datetime import UTC, datetime

    from controlroom.domain.availability import DatabaseState
    from controlroom.widgets.database_banner import DatabaseBanner
    from tests.apps import until

    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PersonSearch))
        closed = weakref.ref(app.screen.query_one(DatabaseBanner))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeBoard))
        await until(pilot, lambda: gc.collect() >= 0 and closed() is None)
        assert len(app.database_banners) == len(app.screen.query(DatabaseBanner)) == 1

        # (The watch's next probe finds this database answering: what the banner says
        # is read at once, not waited for on screen.)
        app.database_found(DatabaseState.NOT_ANSWERING, datetime.now(UTC))
        (banner,) = app.database_banners
        assert "DATABASE NOT ANSWERING" in str(banner.render())


async def test_a_new_task_screen_is_styled_as_it_mounts_and_again_only_when_it_comes_back(
    database, tmp_path
):
    """Textual styles a screen whole on every resume, and a task's new screen resumes
    twice as its mode opens: styled as its widgets mount, it skips both (issue 20: two
    thirds of the styling of opening the triage queue). Back from the background it is
    styled again, once."""
    from textual.app import App

    app = build_app(database, tmp_path)
    restyled: list[str] = []
    update_styles = App.update_styles

    def counted(self, node=None, *args, **kwargs):
        if isinstance(node, PersonSearch):  # the screen itself: styled whole
            restyled.append(self.current_mode)
        return update_styles(self, node, *args, **kwargs)

    App.update_styles = counted  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await burst(pilot, "f3")
            assert isinstance(app.screen, PersonSearch)
            await settle(pilot)
            assert restyled == []
            await burst(pilot, "f7")  # another task, the search left open behind it
            assert isinstance(app.screen, IncidentList)
            await burst(pilot, "f3")
            assert isinstance(app.screen, PersonSearch)
            await settle(pilot)
            assert restyled == ["search"]
    finally:
        App.update_styles = update_styles  # type: ignore[method-assign]
