"""A unit's history (h on the resource board): every status change with who made it,
when and from which terminal, and every assignment (sent when and by whom, arrived,
cleared, overridden), newest first.

Tab moves between the two tables; Enter on a row with an incident opens it; Esc goes
back to the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.screens.seam import AppModal, CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from controlroom.services.resources import ResourceCodes, UnitRecord

CHANGE_COLUMNS = (
    ("when", "When", 12),
    ("status", "Status", 11),
    ("incident", "Incident", 16),
    ("by", "By", 12),
    ("terminal", "From", 13),
)
ASSIGNMENT_COLUMNS = (
    ("incident", "Incident", 16),
    ("sent", "Sent", 12),
    ("by", "By", 12),
    ("arrived", "Arrived", 7),
    ("cleared", "Cleared", 7),
    ("override", "Override", 8),
)


def when_text(moment: datetime | None, zone: ZoneInfo, *, day: bool = True) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    return f"{local:%d %b %H:%M}" if day else f"{local:%H:%M}"


class UnitHistory(AppModal[str | None]):
    """One unit's history; dismisses with an incident reference to open, or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Back", id="unit-history.back"),
    ]

    @dataclass
    class Read(Message):
        record: UnitRecord
        codes: ResourceCodes

    def __init__(self, callsign: str) -> None:
        super().__init__()
        self.callsign = callsign

    def compose(self) -> ComposeResult:
        with Vertical(id="unit-history-panel"):
            yield Static(
                Content("History — ").stylize("bold") + record_content(self.callsign, style="bold"),
                classes="panel-title",
            )
            yield Static("Reading the unit's history…", id="unit-history-about", markup=False)
            yield Static("Status changes", id="unit-history-changes-title", markup=False)
            yield FixedColumnsTable[Text].with_columns(CHANGE_COLUMNS, id="unit-history-changes")
            yield Static("Assignments", id="unit-history-assignments-title", markup=False)
            yield FixedColumnsTable[Text].with_columns(
                ASSIGNMENT_COLUMNS, id="unit-history-assignments"
            )
            yield Static("", id="unit-history-error", classes="field-error", markup=False)
            yield Static(
                "Tab the other table · Enter opens the incident · Esc back",
                classes="field-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        from controlroom.services import resources

        self.focus_now("#unit-history-changes")
        uow_factory, actor, callsign = self.app.uow_factory, self.app.actor, self.callsign

        def read() -> UnitHistory.Read:
            return self.Read(
                resources.unit_record(uow_factory(), actor, callsign),
                resources.resource_codes(uow_factory()),
            )

        self.run_service(read, lambda read: read, doing="read the unit's history", group="uh")

    @on(Read)
    def read(self, message: Read) -> None:
        record, codes, zone = message.record, message.codes, self.app.zone
        status = codes.status(record.status_code)
        about = (
            f"{record.type_code} · {record.station} · {record.area} · now "
            f"{status.label if status else record.status_code}"
        )
        newest = f", the newest {record.limit}" if record.cut else ""
        self.query_one("#unit-history-changes-title", Static).update(
            f"Status changes ({len(record.changes)}{newest})"
        )
        self.query_one("#unit-history-assignments-title", Static).update(
            f"Assignments ({len(record.assignments)}{newest})"
        )
        self.query_one("#unit-history-about", Static).update(record_content(about))
        changes = self.query_one("#unit-history-changes", FixedColumnsTable)
        for number, change in enumerate(record.changes):
            label = codes.status(change.status_code)
            changes.add_row(
                Text(when_text(change.changed_at, zone), end=""),
                record_text(
                    (label.label if label else change.status_code)
                    + (" !" if change.override else "")
                ),
                record_text(change.reference or "—"),
                record_text(change.by or "?"),
                record_text(change.terminal),
                key=f"c{number}:{change.reference or ''}",
            )
        assignments = self.query_one("#unit-history-assignments", FixedColumnsTable)
        for number, sent in enumerate(record.assignments):
            assignments.add_row(
                record_text(sent.reference),
                Text(when_text(sent.assigned_at, zone), end=""),
                record_text(sent.by or "?"),
                Text(when_text(sent.arrived_at, zone, day=False), end=""),
                Text(when_text(sent.cleared_at, zone, day=False), end=""),
                Text("yes" if sent.override else "", style="bold", end=""),
                key=f"a{number}:{sent.reference}",
            )

    @on(DataTable.RowSelected)
    def chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        reference = str(event.row_key.value or "").partition(":")[2]
        if reference:
            self.dismiss(reference)
        else:
            self._error("No incident on that row.")

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        message.stop()
        self._error(message.failure.sentence)

    def _error(self, text: str) -> None:
        widget = self.query_one("#unit-history-error", Static)
        widget.update(record_content(text))
        widget.add_class("-shown")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
