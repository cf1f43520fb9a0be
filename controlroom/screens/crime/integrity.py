"""F11: crime data integrity — the inspectorate's measure, computed by the system.

For one month (the current one first; p / n step back and on): of the crime-related
incidents reported in it, the share with a crime recorded within 24 hours (and within 7
days), large, in words and figures; the twelve months to it as a sparkline and a line
of rates; by station in a table. `u` turns the table to the incidents not recorded
within 24 h (oldest first; Enter opens one), and back; `a` opens the month's audit
sample for a supervisor to check (`screens/crime/audit_sample.py`). For analysts and
supervisors
(`statistics.view`): anyone else is told so and nothing is read.
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
from textual.widgets import DataTable, Sparkline, Static

from controlroom.domain.crime import rate_words
from controlroom.domain.permissions import Action, may
from controlroom.screens.ages import format_age
from controlroom.screens.crime.months import MonthScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.crimes import IntegrityReport

STATION_COLUMNS = (
    ("station", "Station", 24),
    ("total", "Crime-related", 13),
    ("within", "In 24h", 8),
    ("rate", "24h rate", 8),
    ("rate7", "7d rate", 8),
)
UNRECORDED_COLUMNS = (
    ("ref", "Reference", 18),
    ("reported", "Reported", 11),
    ("recorded", "Crime recorded", 16),
    ("station", "Station", 22),
)


class CrimeIntegrity(MonthScreen):
    """The crime data integrity rate of a month, by station, and the unrecorded."""

    TITLE = "Crime data integrity"
    DEFAULT_CSS = """
    CrimeIntegrity #integrity { padding: 0 1; height: 1fr; }
    CrimeIntegrity #integrity-rate { text-style: bold; }
    CrimeIntegrity #integrity-trend { height: 1; width: 36; margin-top: 1; }
    CrimeIntegrity #integrity-months { height: auto; color: $text-muted; }
    CrimeIntegrity #integrity-table { height: 1fr; margin-top: 1; }
    """
    TABLE = "#integrity-table"
    DOING = "read the crime data integrity figures"
    GROUP = "integrity"
    BINDINGS = [
        Binding("p", "previous_month", "Prev month", id="integrity.previous"),
        Binding("n", "next_month", "Next month", id="integrity.next"),
        Binding("u", "toggle_unrecorded", "Unrecorded", id="integrity.unrecorded"),
        Binding("a", "audit_sample", "Audit sample", id="integrity.sample"),
        Binding("enter", "open_highlighted", "Open", id="integrity.open", show=False),
        Binding("r", "reload", "Reload", id="integrity.reload", show=False),
    ]

    @dataclass
    class Read(Message):
        report: IntegrityReport

    def __init__(self) -> None:
        super().__init__()
        self.report: IntegrityReport | None = None
        self.showing_unrecorded = False

    def compose_body(self) -> ComposeResult:
        self.allowed = may(self.app.actor.role, Action.STATISTICS_VIEW)
        with Vertical(id="integrity"):
            if not self.allowed:
                yield Static(
                    "Crime data integrity is for analysts and supervisors: nothing is shown "
                    "here. Esc goes back.",
                    id="integrity-refused",
                    markup=False,
                )
                return
            yield Static("Reading the month's crime recording…", id="integrity-title")
            yield Static(
                "Incidents whose flag, type or closing says crime, less signed-off no-crime:",
                markup=False,
            )
            yield Static("", id="integrity-rate", markup=False)
            yield Static("", id="integrity-missed", markup=False)
            yield Sparkline([0], id="integrity-trend", summary_function=min)
            yield Static("", id="integrity-months", markup=False)
            yield FixedColumnsTable[Text].with_columns(STATION_COLUMNS, id="integrity-table")

    def read_month(self, uow_factory, actor, month, now):
        from controlroom.services import crimes

        return crimes.crime_data_integrity(uow_factory(), actor, month, now)

    def action_audit_sample(self) -> None:
        if not (self.allowed and self.month is not None):
            return
        if not may(self.app.actor.role, Action.CRIME_AUDIT):
            self.query_one("#integrity-title", Static).update(
                Text("The audit sample is a supervisor's to draw and check.", style="bold")
            )
            return
        from controlroom.screens.crime.audit_sample import AuditSample

        self.app.push_screen(AuditSample(self.month))

    def action_toggle_unrecorded(self) -> None:
        # Pressed before the month is read ("F11 u" in one burst), the choice is kept
        # and the month's figures arrive as the list it asked for.
        if self.allowed:
            self.showing_unrecorded = not self.showing_unrecorded
            self._fill_table()

    @on(Read)
    def read(self, message: Read) -> None:
        self.report = report = message.report
        if report.month != self.month:
            return
        count = report.count
        self.query_one("#integrity-title", Static).update(
            Text(f"Crime data integrity · {report.month:%B %Y} · p/n month", style="bold")
        )
        if count.total:
            rate = (
                f"{rate_words(count.rate_24h)} recorded within 24h ({count.within_24h:,} of "
                f"{count.total:,}) · {rate_words(count.rate_7d)} within 7 days"
            )
        else:
            rate = "No crime-related incident was reported this month."
        self.query_one("#integrity-rate", Static).update(rate)
        missed = count.unrecorded
        self.query_one("#integrity-missed", Static).update(
            Text(f"! {missed:,} not recorded within 24h — u lists them", style="bold reverse")
            if missed
            else Text("Every crime-related incident had its crime recorded within 24h.")
        )
        rates = [c.rate_24h for _, c in report.months]
        self.query_one(Sparkline).data = [r * 100 for r in rates if r is not None] or [0]
        self.query_one("#integrity-months", Static).update(
            " · ".join(f"{m:%b} {rate_words(c.rate_24h)}" for m, c in report.months if c.total)
            or "no crime-related incidents in the twelve months"
        )
        self._fill_table()

    def _fill_table(self) -> None:
        report = self.report
        if report is None:
            return
        table = self.query_one("#integrity-table", FixedColumnsTable)
        table.clear(columns=True)
        if self.showing_unrecorded:
            for key, label, width in UNRECORDED_COLUMNS:
                table.add_column(label, key=key, width=width)
            zone = self.app.zone
            for item in report.unrecorded:
                late = (
                    f"after {format_age(item.recorded_at - item.opened_at)}"
                    if item.recorded_at is not None
                    else "NOT RECORDED"
                )
                table.add_row(
                    Text(item.reference, end=""),
                    Text(f"{item.opened_at.astimezone(zone):%d/%m %H:%M}", end=""),
                    Text(late, style="" if item.recorded_at else "bold"),
                    record_text(item.station),
                    key=item.reference,
                )
            return
        for key, label, width in STATION_COLUMNS:
            table.add_column(label, key=key, width=width)
        for station, count in report.stations:
            table.add_row(
                record_text(station),
                Text(f"{count.total:,}", end=""),
                Text(f"{count.within_24h:,}", end=""),
                Text(rate_words(count.rate_24h), end=""),
                Text(rate_words(count.rate_7d), end=""),
                key=station,
            )

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        self.query_one("#integrity-title", Static).update(
            record_content(message.failure.sentence, style="bold")
        )

    def action_open_highlighted(self) -> None:
        if not self.showing_unrecorded or self.report is None:
            return
        table = self.query_one("#integrity-table", DataTable)
        row = table.cursor_row
        if row is not None and 0 <= row < len(self.report.unrecorded):
            self.app.open_incident(self.report.unrecorded[row].reference)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_highlighted()
