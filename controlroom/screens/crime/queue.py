"""F9: the crime-recording queue — every possible-crime incident whose NCRS 24-hour clock
still runs, the least time left first, so the breached ones lead.

The summary says how many clocks run, how many are BREACHED and how many fall due within
four hours, in words (a breach is never told by colour alone); the line beneath gives
the same by station. Enter opens the highlighted incident (c there records the crime);
r reads the queue again, as it does every REFRESH_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.domain.crime import ClockReading
    from controlroom.services.crimes import RecordingQueue

REFRESH_SECONDS = 30
COLUMNS = (
    ("ref", "Reference", 16),
    ("left", "Time left", 18),
    ("status", "Status", 9),
    ("type", "Type", 10),
    ("station", "Station", 11),
)


def clock_cell(clock: ClockReading) -> Text:
    """The time left, or "!BREACHED 6h 05m" (words and a mark, bold: any colours)."""
    words = clock.words
    if clock.breached:
        return Text("!BREACHED " + words.split("by ", 1)[1].split(" —")[0], style="bold reverse")
    return Text(words.split(" left")[0] + (" !due" if clock.due_soon else ""), end="")


class CrimeRecordingQueue(FramedScreen[None]):
    """Possible crimes whose 24-hour clock runs, least time left first; Enter opens one."""

    TITLE = "Crime recording"
    BINDINGS = [
        Binding("enter", "open_highlighted", "Open", id="crime_queue.open", show=False),
        Binding("r", "reload", "Reload", id="crime_queue.reload"),
    ]

    @dataclass
    class Listed(Message):
        queue: RecordingQueue

    def __init__(self) -> None:
        super().__init__()
        self.queue: RecordingQueue | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="crime-queue"):
            yield Static("Reading the crime-recording queue…", id="crime-summary", markup=False)
            yield Static("", id="crime-stations", markup=False)
            yield FixedColumnsTable[Text].with_columns(COLUMNS, id="crime-table")

    def on_mount(self) -> None:
        self.focus_now("#crime-table")
        self.reload()
        self.set_interval(REFRESH_SECONDS, lambda: self.reload(audited=False))

    def action_reload(self) -> None:
        self.reload()

    def reload(self, *, audited: bool = True) -> None:
        from controlroom.services import crimes

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: crimes.recording_queue(uow_factory(), actor, clock(), audited=audited),
            self.Listed,
            doing="read the crime-recording queue",
            group="crime-queue",
        )

    @on(Listed)
    def listed(self, message: Listed) -> None:
        self.queue = queue = message.queue
        table = self.query_one("#crime-table", FixedColumnsTable)
        rows = [
            (
                line.reference,
                (
                    Text(line.reference, end=""),
                    clock_cell(line.clock),
                    Text(line.status.replace("_", " "), end=""),
                    record_text(line.type_label),
                    record_text(line.station),
                ),
            )
            for line in queue.lines
        ]
        if [key.value for key in table.rows] == [reference for reference, _ in rows]:
            # The same clocks in the same order (each 30 s refresh, mostly): only the
            # cells that changed are drawn again. Cleared and filled, the whole table
            # went down the wire twice a minute (202 B/s idle on the 1M-person seed;
            # issue 15 asks 50).
            for reference, cells in rows:
                for (column, _, _), cell in zip(COLUMNS, cells, strict=True):
                    if table.get_cell(reference, column) != cell:
                        table.set_cell(reference, column, cell)
        else:
            highlighted = self._highlighted()
            table.clear()
            for reference, cells in rows:
                table.add_row(*cells, key=reference)
            for row, line in enumerate(queue.lines):
                if line.reference == highlighted:
                    table.move_cursor(row=row)
                    break
        summary = (
            f"{queue.running:,} running · {queue.breached:,} BREACHED (24h passed, no crime)"
            f" · {queue.due_soon:,} due in 4h"
            if queue.running
            else "No possible crime is waiting to be recorded: every clock has stopped."
        )
        time = queue.read_at.astimezone(self.app.zone)
        show(self.query_one("#crime-summary", Static), f"{summary} · {time:%H:%M}")
        stations = " · ".join(
            f"{s.station}: {s.running} ({s.breached} breached)" for s in queue.stations
        )
        show(self.query_one("#crime-stations", Static), record_content(stations))

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        show(
            self.query_one("#crime-summary", Static),
            record_content(message.failure.sentence, style="bold"),
        )

    def _highlighted(self) -> str | None:
        table = self.query_one("#crime-table", DataTable)
        lines = self.queue.lines if self.queue else ()
        if table.cursor_row is not None and 0 <= table.cursor_row < table.row_count:
            key = list(table.rows)[table.cursor_row].value
            return key
        return lines[0].reference if lines else None

    def action_open_highlighted(self) -> None:
        reference = self._highlighted()
        if reference is not None:
            self.app.open_incident(reference)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.app.open_incident(str(event.row_key.value))
