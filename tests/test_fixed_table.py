"""FixedColumnsTable (widgets/fixed_table.py) lays out as Textual's DataTable does, without
measuring rows for widths it never uses; with an auto-width column it is DataTable."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

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
    """A stock and a fixed table of the same cells, styled alike (zebra, row cursor)."""

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

    def compose(self) -> ComposeResult:
        for table in (
            DataTable(id="stock", cursor_type="row", zebra_stripes=True),
            FixedColumnsTable(id="fixed", cursor_type="row", zebra_stripes=True),
        ):
            for key, width in (("a", 14), ("b", 12), ("c", 6)):
                table.add_column(key, key=key, width=width)
            for n, cell in enumerate(self.CELLS):
                # The last column cuts a wide character in two: Rich pads the half.
                table.add_row(cell, self.CELLS[-n - 1], Text(f"{n}漢字", style="bold"))
            yield table


async def test_a_fixed_table_draws_each_cell_as_the_stock_table_does():
    app = Drawn()
    async with app.run_test(size=(80, 40)) as pilot:
        stock, fixed = app.query_one("#stock", DataTable), app.query_one("#fixed", DataTable)
        assert stock.size == fixed.size and stock.size.height >= len(Drawn.CELLS) + 1

        async def drawn(table: DataTable, focused: bool, cursor: int) -> list:
            app.screen.set_focus(table if focused else None)
            table.move_cursor(row=cursor)
            await pilot.pause()
            table._pseudo_class_state = table.get_pseudo_class_state()
            return [list(table.render_line(y)) for y in range(len(Drawn.CELLS) + 1)]

        for focused, cursor in ((True, 0), (False, 0), (True, 5), (False, 7)):
            assert await drawn(fixed, focused, cursor) == await drawn(stock, focused, cursor)


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
