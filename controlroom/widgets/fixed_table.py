"""A DataTable whose columns all have fixed widths, which it need not measure.

Textual's DataTable measures every cell of every row added (`_update_dimensions`, on
idle) to size its auto-width columns, even when every column has a width of its own and
the measure is never used. The triage queue draws its 200 most urgent rows at once:
1,400 cells measured before the first frame, 12-38 ms of opening the queue on a busy
machine (issue 20). Here, while every column is fixed and no row is labelled or of
automatic height, only the table's size is worked out (as Textual's own method ends);
otherwise Textual's method runs as it stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

CellType = TypeVar("CellType")


class FixedColumnsTable(DataTable[CellType]):
    """A DataTable for columns added with a `width`: rows are not measured for widths."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        rows = list(new_rows)
        if any(column.auto_width for column in self.columns.values()) or any(
            row.label is not None or row.auto_height
            for row in (self.rows.get(key) for key in rows)
            if row is not None
        ):
            super()._update_dimensions(rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header_height
        )
