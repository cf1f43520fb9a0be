"""a on the crime data integrity screen (supervisors): the month's audit sample.

Twenty crime-related incidents of the month, drawn at random the first time (the same
sample afterwards), each with the supervisor's finding once checked. Enter opens the
highlighted incident to check it; 1 records "correct", 2 "crime missed", 3
"misclassified" (each audited and logged on the incident). Esc goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.domain.crime import Finding
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.crimes import SampleItem

COLUMNS = (
    ("ref", "Reference", 18),
    ("reported", "Reported", 12),
    ("finding", "Finding", 16),
    ("checked", "Checked", 12),
)


class AuditSample(FramedScreen[None]):
    """A month's integrity audit sample and its checks."""

    TITLE = "Integrity audit sample"
    BINDINGS = [
        Binding("enter", "open_highlighted", "Open", id="sample.open", show=False),
        Binding("1", "check('correct')", "Correct", id="sample.correct"),
        Binding("2", "check('crime_missed')", "Crime missed", id="sample.missed"),
        Binding("3", "check('misclassified')", "Misclassified", id="sample.misclassified"),
    ]

    @dataclass
    class Drawn(Message):
        items: tuple[SampleItem, ...]

    @dataclass
    class Checked(Message):
        item: SampleItem

    def __init__(self, month: date) -> None:
        super().__init__()
        self.month = month
        self.items: tuple[SampleItem, ...] = ()

    def compose_body(self) -> ComposeResult:
        with Vertical(id="sample"):
            yield Static(
                f"Integrity audit sample · {self.month:%B %Y} · drawing…",
                id="sample-title",
                markup=False,
            )
            yield Static(
                "Enter opens one to check · 1 correct · 2 crime missed · 3 misclassified",
                markup=False,
            )
            yield FixedColumnsTable[Text].with_columns(COLUMNS, id="sample-table")

    def on_mount(self) -> None:
        from controlroom.services import crimes

        self.focus_now("#sample-table")
        uow_factory, actor, clock, month = (
            self.app.uow_factory,
            self.app.actor,
            self.app.clock,
            self.month,
        )
        self.run_service(
            lambda: crimes.audit_sample(uow_factory(), actor, month, clock()),
            self.Drawn,
            doing="draw the audit sample",
            group="sample",
        )

    @on(Drawn)
    def drawn(self, message: Drawn) -> None:
        self.items = message.items
        self._draw()

    def _draw(self) -> None:
        table = self.query_one("#sample-table", FixedColumnsTable)
        row = table.cursor_row
        table.clear()
        zone = self.app.zone
        for item in self.items:
            table.add_row(*self._cells(item, zone), key=str(item.check_id))
        if row is not None and self.items:
            table.move_cursor(row=min(row, len(self.items) - 1))
        done = sum(i.finding is not None for i in self.items)
        missed = sum(i.finding == Finding.CRIME_MISSED.value for i in self.items)
        title = (
            f"Integrity audit sample · {self.month:%B %Y} · {done} of {len(self.items)} "
            f"checked" + (f" · ! {missed} crime(s) missed" if missed else "")
            if self.items
            else f"Integrity audit sample · {self.month:%B %Y} · no crime-related incident"
        )
        self.query_one("#sample-title", Static).update(title)

    @staticmethod
    def _cells(item: SampleItem, zone) -> tuple[Text, ...]:
        finding = Finding(item.finding).label if item.finding else "not checked"
        return (
            Text(item.reference, end=""),
            Text(f"{item.reported_at.astimezone(zone):%d/%m %H:%M}", end=""),
            Text(finding, style="bold" if item.finding == Finding.CRIME_MISSED.value else ""),
            Text(
                f"{item.checked_at.astimezone(zone):%d/%m %H:%M}" if item.checked_at else "",
                end="",
            ),
        )

    def _highlighted(self) -> SampleItem | None:
        row = self.query_one("#sample-table", DataTable).cursor_row
        return self.items[row] if row is not None and 0 <= row < len(self.items) else None

    def action_open_highlighted(self) -> None:
        if item := self._highlighted():
            self.app.open_incident(item.reference)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_highlighted()

    def action_check(self, finding: str) -> None:
        from controlroom.services import crimes

        item = self._highlighted()
        if item is None:
            return
        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: crimes.record_check(
                uow_factory(), actor, item.check_id, clock(), finding=finding
            ),
            self.Checked,
            doing="record the check",
            group="sample-check",
        )

    @on(Checked)
    def checked(self, message: Checked) -> None:
        self.items = tuple(
            message.item if i.check_id == message.item.check_id else i for i in self.items
        )
        self._draw()

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        self.query_one("#sample-title", Static).update(
            record_content(message.failure.sentence, style="bold")
        )
