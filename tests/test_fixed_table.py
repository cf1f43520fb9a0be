"""FixedColumnsTable (widgets/fixed_table.py) lays out as Textual's DataTable does, without
measuring rows for widths it never uses; with an auto-width column it is DataTable."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable
from textual.widgets.data_table import CursorType

from controlroom.widgets.fixed_table import FixedColumnsTable


class Tables(App[None]):
    def __init__(self, auto: bool) -> None:
        super().__init__()
        self.auto = auto

    def compose(self) -> ComposeResult:
        for table in (DataTable(id="stock"), FixedColumnsTable(id="fixed")):
            for key, width in (("a", 4), ("b", 12), ("c", 3)):
                table.add_column(key, key=key, width=None if self.auto and key == "b" else width)
            yield table


async def sizes(auto: bool):
    app = Tables(auto)
    async with app.run_test(size=(60, 20)) as pilot:
        for table in app.query(DataTable):
            for n in range(200):
                table.add_row(Text(f"{n}"), Text("x" * (n % 17)), Text("é" * (n % 3)))
        await pilot.pause()
        stock, fixed = app.query_one("#stock", DataTable), app.query_one("#fixed", DataTable)
        return (stock.virtual_size, [c.get_render_width(stock) for c in stock.columns.values()]), (
            fixed.virtual_size,
            [c.get_render_width(fixed) for c in fixed.columns.values()],
        )


async def test_fixed_columns_lay_out_as_the_stock_table_does():
    stock, fixed = await sizes(auto=False)
    assert fixed == stock
    assert stock[0].height == 201  # 200 rows and the header


async def test_an_auto_width_column_is_measured_as_the_stock_table_does():
    stock, fixed = await sizes(auto=True)
    assert fixed == stock
    assert stock[1][1] > 12  # the auto column took its widest cell (16 x) and padding


class Drawn(App[None]):
    """A stock and a fixed table of the same cells, styled alike (zebra, `cursor` type)."""

    CELLS = (
        Text("plain", end=""),
        Text("HIGH ▲▲▲", style="bold reverse red", end=""),
        Text.assemble(("STALE ", "bold"), "Oli", style="italic"),
        Text.assemble("mixed ", ("spans", "underline blue")),
        Text("", end=""),
        Text("漢字かな", style="yellow"),
        Text("exactly12ch!"),
        Text("far too wide for its column"),
        Text("too wide, cut with an ellipsis", overflow="ellipsis", style="green"),
        Text("too wide, to be wrapped", no_wrap=False),
        Text("two\nlines"),
        Text("tab\there"),
        Text("right", justify="right"),
        "[b]markup[/b] str",
        Text("—", style="dim", end=""),
    )

    def __init__(self, cursor: CursorType = "row") -> None:
        super().__init__()
        self.cursor = cursor

    def compose(self) -> ComposeResult:
        for table in (
            DataTable(id="stock", cursor_type=self.cursor, zebra_stripes=True),
            FixedColumnsTable(id="fixed", cursor_type=self.cursor, zebra_stripes=True),
        ):
            for key, width in (("a", 14), ("b", 12), ("c", 6)):
                table.add_column(key, key=key, width=width)
            for n, cell in enumerate(self.CELLS):
                # The last column cuts a wide character in two: Rich pads the half.
                table.add_row(cell, self.CELLS[-n - 1], Text(f"{n}漢字", style="bold"))
            yield table


def drawn_cells(segments: list[Segment]) -> list[tuple[str, Style]]:
    """What a line puts on the screen: each character and its style, mouse meta aside."""
    return [
        (character, (segment.style or Style()).clear_meta_and_links())
        for segment in segments
        for character in segment.text
    ]


async def lines_of_both(cursor: CursorType) -> list[tuple[list[Segment], list[Segment]]]:
    """Each line of the fixed table and of the stock one, focused or not, the cursor on
    one row or another."""
    app = Drawn(cursor)
    pairs = []
    async with app.run_test(size=(80, 40)) as pilot:
        stock, fixed = app.query_one("#stock", DataTable), app.query_one("#fixed", DataTable)
        assert stock.size == fixed.size and stock.size.height >= len(Drawn.CELLS) + 1

        async def drawn(table: DataTable, focused: bool, cursor: int) -> list[list[Segment]]:
            app.screen.set_focus(table if focused else None)
            table.move_cursor(row=cursor)
            await pilot.pause()
            table._pseudo_class_state = table.get_pseudo_class_state()
            return [list(table.render_line(y)) for y in range(len(Drawn.CELLS) + 1)]

        for focused, cursor in ((True, 0), (False, 0), (True, 5), (False, 7)):
            ours, theirs = await drawn(fixed, focused, cursor), await drawn(stock, focused, cursor)
            pairs += zip(ours, theirs, strict=True)
    return pairs


async def test_a_fixed_table_draws_each_cell_as_the_stock_table_does():
    """A table with a cell cursor: the same segments, style and mouse meta for each."""
    for fixed, stock in await lines_of_both("cell"):
        assert fixed == stock


async def test_a_row_table_draws_what_the_stock_table_does_in_fewer_segments():
    """With a row cursor the screen shows the same characters in the same styles; cells
    side by side in one style are one segment, and so one escape sequence on the wire."""
    fewer = 0
    for fixed, stock in await lines_of_both("row"):
        assert drawn_cells(fixed) == drawn_cells(stock)
        assert len(fixed) <= len(stock)
        fewer += len(fixed) < len(stock)
    assert fewer > 0
    # A row of plain cells, the cursor elsewhere: padding, text and fill in one segment.
    plain = [
        (fixed, stock)
        for fixed, stock in await lines_of_both("row")
        if "exactly12ch!" in "".join(s.text for s in fixed)
    ]
    assert plain and all(len(fixed) < len(stock) for fixed, stock in plain)


class Clicked(Drawn):
    chosen: list[int]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "fixed":
            self.chosen.append(event.cursor_row)


async def test_a_click_on_any_cell_of_a_row_table_means_its_row():
    """The first click on a row highlights it, the second chooses it, wherever on the
    row each lands (before, only a second click on the same cell chose it)."""
    app = Clicked("row")
    app.chosen = []
    async with app.run_test(size=(80, 40)) as pilot:
        fixed = app.query_one("#fixed", FixedColumnsTable)
        fixed.focus()
        await pilot.pause()
        # Row 4 is the fifth line under the header; column "c" starts at x 30.
        await pilot.click(fixed, offset=(32, 5))
        await pilot.pause()
        assert fixed.cursor_row == 4 and app.chosen == []
        await pilot.click(fixed, offset=(2, 5))  # the same row, another column
        await pilot.pause()
        assert fixed.cursor_row == 4 and app.chosen == [4]


async def test_a_fixed_table_draws_a_line_of_text_without_rich_layers():
    """One line of text is drawn straight to segments, cut to its column if it is too
    wide: Rich's renderer is asked for the header and the other cells only."""
    app = Drawn()
    async with app.run_test(size=(80, 40)) as pilot:
        await pilot.pause()
        fixed = app.query_one("#fixed", FixedColumnsTable)
        fixed._pseudo_class_state = fixed.get_pseudo_class_state()
        fixed._cell_render_cache.clear()
        fixed._row_render_cache.clear()
        fixed._line_cache.clear()
        asked = []
        render_lines = app.console.render_lines

        def counted(renderable, *args, **kwargs):
            asked.append(renderable)
            return render_lines(renderable, *args, **kwargs)

        app.console.render_lines = counted  # type: ignore[method-assign]
        try:
            for y in (1, 2, 8):  # rows 0, 1 and 7: one line of text in each cell
                fixed.render_line(y)
        finally:
            app.console.render_lines = render_lines  # type: ignore[method-assign]
        assert asked == []
