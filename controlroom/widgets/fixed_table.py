"""A DataTable whose columns all have fixed widths, which it need not measure.

Textual's DataTable measures every cell of every row added (`_update_dimensions`, on
idle) to size its auto-width columns, even when every column has a width of its own and
the measure is never used. The triage queue draws its 200 most urgent rows at once:
1,400 cells measured before the first frame, 12-38 ms of opening the queue on a busy
machine (issue 20). Here, while every column is fixed and no row is labelled or of
automatic height, only the table's size is worked out (as Textual's own method ends);
otherwise Textual's method runs as it stands.

With no width to recompute, a cell can also change without the whole table being drawn
again: `set_cell` redraws that cell's region alone (`DataTable.update_cell` repaints
the whole table, about 4 KB at 80x24, for one age that turned over a minute: issue 15).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowKey

CellType = TypeVar("CellType")


class FixedColumnsTable(DataTable[CellType]):
    """A DataTable for columns added with a `width`: rows are not measured for widths."""

    @classmethod
    def with_columns(
        cls, columns: Iterable[tuple[str, str, int]], *, id: str
    ) -> FixedColumnsTable[CellType]:
        """A row-cursor, striped table with these (key, label, width) columns."""
        table: FixedColumnsTable[CellType] = cls(id=id, cursor_type="row", zebra_stripes=True)
        for key, label, width in columns:
            table.add_column(label, key=key, width=width)
        return table

    def set_cell(self, row_key: str | RowKey, column_key: str, value: CellType) -> None:
        """`update_cell` for a fixed-width table: the cell's region alone is redrawn."""
        row = row_key if isinstance(row_key, RowKey) else RowKey(row_key)
        column = ColumnKey(column_key)
        row_index = self._row_locations.get(row)
        column_index = self._column_locations.get(column)
        if row_index is None or column_index is None:
            raise CellDoesNotExist(f"no cell at row {row_key!r}, column {column_key!r}")
        self._data[row][column] = value
        self._update_count += 1  # the rendered-line caches are keyed by this count
        self.refresh_coordinate(Coordinate(row_index, column_index))

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
