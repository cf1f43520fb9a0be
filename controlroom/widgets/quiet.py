"""Repaint only what changed: over SSH every repaint is bytes on the operator's wire.

Textual redraws a widget whenever `Static.update` is called, even with what it already
shows; a screen that refreshes its figures on a timer would send them again each time.
`show` updates a Static only when what it is given differs from what it shows (by the
content itself, or by a key for renderables that cannot be compared, such as a Rich
Table built from figures: the figures are the key).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from weakref import WeakKeyDictionary

from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist, CellType, ColumnKey, RowKey

_shown: WeakKeyDictionary[Static, Hashable] = WeakKeyDictionary()


def show(widget: Static, content: Any, key: Hashable | None = None) -> bool:
    """Update `widget` with `content` unless it already shows it; True if it changed."""
    marker = content if key is None else key
    if widget in _shown and _shown[widget] == marker:
        return False
    _shown[widget] = marker
    widget.update(content)
    return True


class QuietTable(DataTable[CellType]):
    """A DataTable whose `set_cell` redraws only that cell.

    `DataTable.update_cell` repaints the whole table (about 4 KB at 80x24) for one changed
    cell; a list whose ages turn over each minute would send that every minute. `set_cell`
    changes the cell's value as `update_cell` does (Textual's own row data and render
    cache counter) and then refreshes that cell's region alone. It is for tables whose
    column widths are fixed (no width to recompute); tests/test_terminal_quiet.py checks
    that the new value is what the operator sees.
    """

    def set_cell(self, row_key: str, column_key: str, value: CellType) -> None:
        row, column = RowKey(row_key), ColumnKey(column_key)
        row_index = self._row_locations.get(row)
        column_index = self._column_locations.get(column)
        if row_index is None or column_index is None:
            raise CellDoesNotExist(f"no cell at row {row_key!r}, column {column_key!r}")
        self._data[row][column] = value
        self._update_count += 1  # the rendered-line caches are keyed by this count
        self.refresh_coordinate(Coordinate(row_index, column_index))
