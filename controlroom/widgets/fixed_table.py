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

A cell of one line of `Text` is drawn straight to its segments (`_render_cell`), cut
to its column as Rich cuts it: Textual hands every cell to Rich as a styled, padded renderable,
wrapped and cropped through three layers, about 80 us a cell; the 150 cells of the
triage queue's first screen were an eighth of opening it (issue 20). The segments are
the same, style for style (a test compares them with Textual's); any other cell (the
header, several lines, tabs, justified, to be wrapped) goes Textual's way.

In a table whose cursor is a whole row, such a cell's segments carry the row alone as
their mouse meta (column 0), not the row and the column: a click or a hover means the
row either way, and cells side by side in one style then join into one segment when the
line is simplified. Each segment is sent as its own escape sequence, text and reset, so
a line of seven plain cells was seven of them; an age that turned over a minute on the
resource board sent its row from the left edge (Textual cuts a changed line on the
right only) at about 185 bytes, now about 108 (issue 15: the board's idle bytes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
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

    def add_column(
        self,
        label: str | Text,
        *,
        width: int | None = None,
        key: str | None = None,
        default: CellType | None = None,
    ) -> ColumnKey:
        """Textual's `add_column`, a heading given as a string taken as plain text: Textual
        parses it as Rich markup, whose emoji codes (`:name:`) load Rich's table of 3,600
        emoji, about 0.9 MiB of every operator's process, for headings that have none."""
        heading = Text(label) if isinstance(label, str) else label
        return super().add_column(heading, width=width, key=key, default=default)

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

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """Textual's `_render_cell` (same cache, same styles), with a one-line `Text`
        that fits drawn without Rich's renderable layers (see the module's notes)."""
        if row_index < max(self.fixed_rows, 0) or column_index < max(self.fixed_columns, 0):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(cache_key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key)
        cell = self._get_row_renderables(row_index).cells[column_index]
        padding = self.cell_padding
        options = self.app.console_options
        if (
            row is None
            or row.height != 1
            or not isinstance(cell, Text)
            or cell.justify not in (None, "default")
            or options.justify not in (None, "default")
            or "\n" in cell.plain
            or "\t" in cell.plain
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        inner = width - 2 * padding
        if cell_len(cell.plain) > inner:
            # Too wide: Rich crops one line unwrapped (a row one line high), as `truncate`
            # does; a text that asks to be wrapped, or not cut, goes Textual's way.
            overflow = cell.overflow or options.overflow or "fold"
            if cell.no_wrap is False or overflow == "ignore" or inner < 1:
                return super()._render_cell(
                    row_index, column_index, base_style, width, cursor, hover
                )
            cell = cell.copy()
            cell.truncate(inner, overflow=overflow)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        column_meta = 0 if self.cursor_type == "row" else column_index
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_meta})
        lines = [_one_line(cell, width, padding, pre_style + component_style, post_style, self)]
        self._cell_render_cache[cache_key] = lines
        return lines


def _one_line(
    text: Text, width: int, padding: int, pre: Style, post: Style, table: DataTable
) -> list[Segment]:
    """What Rich makes of `Styled(Padding(text, (0, padding)), pre, post)` at `width`
    for one line of text that fits: each segment's style `pre + own + post`, the padding
    and the fill styled as nothing of their own."""

    def styled(own: Style | None) -> Style | None:
        # `Segment.apply_style` as `Styled` calls it.
        combined = (pre + own) if pre else own
        if post:
            combined = combined + post if combined else post
        return combined

    console = table.app.console
    if text.spans:
        own = list(text.render(console))
    else:
        # Rich joins the wrapped line into a new text, its style a span of it.
        own = [Segment(text.plain, console.get_style(text.style) if text.style else None)]
    blank = styled(Style.null())
    line = [Segment(" " * padding, blank)] if padding else []
    line += [Segment(part, styled(style)) for part, style, _control in own]
    fill = width - 2 * padding - cell_len(text.plain)
    if fill:
        line.append(Segment(" " * fill, blank))
    if padding:
        line.append(Segment(" " * padding, blank))
    return line
