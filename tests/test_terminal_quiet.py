"""A quiet wire (issue 15, item 3): nothing hidden repaints, unchanged figures are not sent
again, the clock turns by the minute, the cursor stands still over SSH. What each screen
sends is measured by benchmarks/terminal_bytes.py; these tests pin the behaviour."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rich.table import Table
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from controlroom.app import make_app
from controlroom.config import load_settings
from controlroom.screens.home_board import HomeBoard
from controlroom.screens.incident.listing import IncidentList
from controlroom.services import board
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.quiet import show
from tests.apps import build_app, burst, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.test_incident_view_screen import save_incident

SIZE = (80, 24)


class Counting(Static):
    updates = 0

    def update(self, *args, **kwargs) -> None:
        type(self).updates += 1
        super().update(*args, **kwargs)


async def test_show_updates_a_static_only_when_what_it_shows_changes():
    class One(App):
        def compose(self) -> ComposeResult:
            yield Counting(id="x")

    app = One()
    async with app.run_test() as pilot:
        widget = app.query_one(Counting)
        Counting.updates = 0
        assert show(widget, "ten") and not show(widget, "ten")
        # A renderable that cannot be compared (a Rich Table) goes by the key it is given.
        assert show(widget, Table("figures"), key=("figures", 1)) is True
        assert not show(widget, Table("figures"), key=("figures", 1))  # not sent again
        assert show(widget, "eleven")
        await pilot.pause()
        assert Counting.updates == 3 and str(widget.render()) == "eleven"


async def test_a_static_of_set_size_is_repainted_without_laying_the_screen_out():
    """A layout sends every scrollbar on the screen again: the triage queue's figures
    line (one line high), changing once a minute, sent its table's scrollbar with it."""

    class Spy(Static):
        layouts: list[bool] = []

        def update(self, content="", *, layout: bool = True) -> None:
            type(self).layouts.append(layout)
            super().update(content, layout=layout)

    class One(App):
        CSS = "#fixed { height: 1; } #grows { height: auto; } #narrow { height: 1; width: auto; }"

        def compose(self) -> ComposeResult:
            yield Spy(id="fixed")
            yield Spy(id="grows")
            yield Spy(id="narrow")

    app = One()
    async with app.run_test(size=(40, 6)) as pilot:
        Spy.layouts = []
        for name in ("fixed", "grows", "narrow"):
            assert show(app.query_one(f"#{name}", Spy), f"{name} now")
        await pilot.pause()
        assert Spy.layouts == [False, True, True]
        assert "fixed now" in screen_text(app)


async def test_a_quiet_table_cell_shows_its_new_value():
    class One(App):
        def compose(self) -> ComposeResult:
            table: FixedColumnsTable[str] = FixedColumnsTable()
            table.add_column("Age", key="age", width=8)
            table.add_row("5h 23m", key="CR-1")
            table.add_row("1h 04m", key="CR-2")
            yield table

    app = One()
    async with app.run_test(size=(40, 6)) as pilot:
        table = app.query_one(FixedColumnsTable)
        table.set_cell("CR-2", "age", "1h 05m")
        await pilot.pause()
        shown = screen_text(app)
        assert "1h 05m" in shown and "1h 04m" not in shown and "5h 23m" in shown
        assert table.get_cell("CR-2", "age") == "1h 05m"


async def test_the_clock_shows_minutes_and_redraws_only_when_the_minute_turns(database, tmp_path):
    moment = [SEED_ANCHOR + timedelta(seconds=5)]
    app = build_app(database, tmp_path)
    app.clock = lambda: moment[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock = app.screen.query_one("#header-clock", Static)
        assert str(clock.render()) == "26 Nov 09:00"
        before = clock.render()
        moment[0] += timedelta(seconds=40)  # 09:00:45: the same minute
        await pilot.pause(1.3)
        assert clock.render() is before  # not drawn again
        refreshed: list[bool] = []
        original = clock.refresh

        def spy(*args, **kwargs):
            refreshed.append(bool(kwargs.get("layout", False)))
            return original(*args, **kwargs)

        clock.refresh = spy  # type: ignore[method-assign]
        moment[0] += timedelta(seconds=20)  # 09:01:05
        await pilot.pause(1.3)
        assert str(clock.render()) == "26 Nov 09:01"
        # Redrawn in place: no layout of the screen, which repainted the person search's
        # whole results table, about 2 KB a minute over SSH.
        assert refreshed and not any(refreshed)


def ssh_app(database, tmp_path, *, over_ssh: bool, blink: bool | None = None):
    app = build_app(database, tmp_path)
    settings = replace(app.settings, cursor_blink=blink)
    return make_app(settings, database.uow, app.username, over_ssh=over_ssh)


async def test_over_ssh_the_cursor_stands_still_unless_the_settings_say_otherwise(
    database, tmp_path
):
    for over_ssh, blink, expected in (
        (True, None, False),
        (False, None, True),
        (True, True, True),
        (False, False, False),
    ):
        app = ssh_app(database, tmp_path, over_ssh=over_ssh, blink=blink)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # Not `settle` after the key: it stills every cursor for the snapshots.
            await pilot.press("f3")
            for _ in range(50):
                if isinstance(app.screen.focused, Input):
                    break
                await pilot.pause(0.02)
            field = app.screen.focused
            assert isinstance(field, Input)
            assert field.cursor_blink is expected, (over_ssh, blink)


def test_the_cursor_setting_is_read_from_the_settings_file(tmp_path):
    (tmp_path / "controlroom").mkdir()
    (tmp_path / "controlroom" / "config.toml").write_text("cursor_blink = true\n")
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    )
    assert settings.cursor_blink is True


async def test_the_board_reads_nothing_while_another_task_is_shown(database, tmp_path, monkeypatch):
    reads = []
    real = board.home_counts

    def counted(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(board, "home_counts", counted)
    app = build_app(database, tmp_path)
    app.settings = replace(app.settings, board_refresh_seconds=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f3")
        await settle(pilot)
        reads.clear()
        await pilot.pause(0.6)  # six refresh periods behind the search
        assert reads == []
        await burst(pilot, "escape")  # back to the board: fresh figures at once
        await settle(pilot)
        assert isinstance(app.screen, HomeBoard) and reads


async def test_the_list_redraws_only_the_ages_that_turned(database, tmp_path, supervisor):
    save_incident(database, supervisor, age=timedelta(minutes=42))
    moment = [SEED_ANCHOR]
    app = build_app(database, tmp_path)
    app.clock = lambda: moment[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "f7")
        await settle(pilot)
        assert isinstance(app.screen, IncidentList)
        table = app.screen.query_one(FixedColumnsTable)
        cleared = []
        real_clear = table.clear
        table.clear = lambda *a, **k: cleared.append(1) or real_clear(*a, **k)
        assert "42m" in screen_text(app)
        moment[0] += timedelta(minutes=1)
        await burst(pilot, "r")
        await settle(pilot)
        assert "43m" in screen_text(app) and "42m" not in screen_text(app)
        assert cleared == []  # the cell was redrawn, not the table
        save_incident(database, supervisor, age=timedelta(minutes=1))
        await burst(pilot, "r")  # another incident: the rows change, the table is redrawn
        await settle(pilot)
        assert cleared == [1] and len(table.rows) == 2


async def test_the_board_is_drawn_once_with_its_figures_read_at_sign_in(
    database, tmp_path, monkeypatch
):
    """The sign-in reads the board's first figures, so the board is not drawn empty
    ("Reading counts…") and again a moment later: one read, one drawing."""
    reads = []
    real = board.home_counts

    def counted(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(board, "home_counts", counted)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeBoard)
        assert "Open incidents:" in screen_text(app) and "Reading counts" not in screen_text(app)
        assert reads == [1]
