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
