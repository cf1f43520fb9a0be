"""Incidents at hand: the incident list (F7) and open by reference (ctrl+o).

The list shows open incidents by default, oldest first (the longest waiting on top),
from every station, read again every few seconds; `s` cycles the status filter (open,
closed, all) and `g` the grade filter; Enter opens the highlighted incident. An old
system's incident (issue 19) says LEGACY in place of its status (it is always closed). Open by
reference takes a whole reference or its end ("0042", "1202-0042") from anywhere.
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
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from controlroom.domain.incidents import OPEN_STATUSES, IncidentStatus
from controlroom.screens.ages import format_age
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import AppModal, CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.legacy_badge import legacy_badge, legacy_cell
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.incidents import IncidentSummary

# The list reads the database again this often: incidents from every station appear.
REFRESH_SECONDS = 10
# After a filter key, keys typed ahead (Down, Enter) wait for the new list this long at
# most, so Enter never opens a row of the list being replaced.
FILTER_WAIT_SECONDS = 2.0
# The status filter, in the order `s` cycles it: (words shown, statuses).
STATUS_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("open", tuple(s.value for s in OPEN_STATUSES)),
    ("closed", (IncidentStatus.CLOSED.value,)),
    ("all", tuple(s.value for s in IncidentStatus)),
)
COLUMNS = (
    ("ref", "Reference", 16),
    ("grade", "Gr", 2),
    ("status", "Status", 10),
    ("age", "Age", 8),
    ("type", "Type", 14),
    ("where", "Location", 14),
)


def _status_words(status: str) -> str:
    return status.replace("_", " ")


class IncidentList(FramedScreen[None]):
    """Every incident by status and grade, oldest first; Enter opens one."""

    BINDINGS = [
        Binding("enter", "open_highlighted", "Open", id="list.open", show=False),
        Binding("s", "cycle_status", "Status", id="list.status"),
        Binding("g", "cycle_grade", "Grade", id="list.grade"),
        Binding("r", "reload", "Reload", id="list.reload"),
    ]

    @dataclass
    class Listed(Message):
        incidents: list[IncidentSummary]

    def __init__(self) -> None:
        super().__init__()
        self.status_index = 0
        self.grade_index = 0  # 0: every grade, then each configured grade
        self.shown: list[IncidentSummary] = []
        self._first_read = False

    def compose_body(self) -> ComposeResult:
        with Vertical(id="incident-list"):
            yield Static("Reading the incidents…", id="list-summary", markup=False)
            yield Static("", id="list-filters", markup=False)
            yield FixedColumnsTable[Text].with_columns(COLUMNS, id="list-table")

    def on_mount(self) -> None:
        self.focus_now("#list-table")
        self._show_filters()
        # Keys typed ahead (F7 then Enter in one read) wait for the first list, as they
        # do after a filter key, for at most FILTER_WAIT_SECONDS.
        self._first_read = False
        self.set_timer(FILTER_WAIT_SECONDS, self._first_wait_over)
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def _take_keys(self) -> None:
        if self._first_read:
            super()._take_keys()

    def _first_wait_over(self) -> None:
        self._first_read = True
        self.release_keys()

    # --- filters --------------------------------------------------------------------------

    def _grades(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.app.settings.grades)

    def _grade_filter(self) -> tuple[str, ...]:
        grades = self._grades()
        return () if self.grade_index == 0 else (grades[self.grade_index - 1],)

    def _show_filters(self) -> None:
        status = STATUS_FILTERS[self.status_index][0]
        grade = self._grade_filter()
        self.query_one("#list-filters", Static).update(
            f"s status: {status} · g grade: {grade[0] if grade else 'all'} · Enter opens"
        )

    def action_cycle_status(self) -> None:
        self.status_index = (self.status_index + 1) % len(STATUS_FILTERS)
        self._filter_changed()

    def action_cycle_grade(self) -> None:
        self.grade_index = (self.grade_index + 1) % (len(self._grades()) + 1)
        self._filter_changed()

    def _filter_changed(self) -> None:
        self._show_filters()
        # Keys typed ahead wait for the list the filter asks for (screens/seam.py).
        self.hold_keys(FILTER_WAIT_SECONDS)
        self.reload()

    # --- reading --------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        from controlroom.services import incidents

        app = self.app
        uow_factory, actor = app.uow_factory, app.actor
        statuses = STATUS_FILTERS[self.status_index][1]
        grades = self._grade_filter()
        self.run_service(
            lambda: incidents.list_incidents(
                uow_factory(), actor, statuses=statuses, grades=grades
            ),
            self.Listed,
            doing="read the incident list",
            group="list",
        )

    @on(Listed)
    def listed(self, message: Listed) -> None:
        self.shown = message.incidents
        table = self.query_one("#list-table", FixedColumnsTable)
        now = self.app.clock()
        rows = [(incident.reference, self._cells(incident, now)) for incident in self.shown]
        drawn = [key.value for key in table.rows]
        if drawn == [reference for reference, _ in rows]:
            # The same incidents in the same order: only the cells that changed (an age,
            # a status) are drawn again — a refresh that changes nothing sends nothing.
            for reference, cells in rows:
                for column, cell in zip(COLUMNS, cells, strict=True):
                    if table.get_cell(reference, column[0]) != cell:
                        table.set_cell(reference, column[0], cell)
        else:
            highlighted = self._highlighted_reference(drawn)
            table.clear()
            for reference, cells in rows:
                table.add_row(*cells, key=reference)
            if highlighted is not None:
                for row, incident in enumerate(self.shown):
                    if incident.reference == highlighted:
                        table.move_cursor(row=row)
                        break
        words = STATUS_FILTERS[self.status_index][0]
        count = len(self.shown)
        show(
            self.query_one("#list-summary", Static),
            f"{count:,} {words} incident{'' if count == 1 else 's'} shown, oldest first"
            f" · updated {self.app.clock().astimezone(self.app.zone):%H:%M}",
        )
        self._first_read = True
        self.release_keys()

    @staticmethod
    def _cells(incident: IncidentSummary, now: datetime) -> tuple[Text, ...]:
        return (
            Text(incident.reference, end=""),
            Text(incident.grade, end=""),
            # An old system's incident is always closed: its mark says more than that.
            legacy_cell(True) if incident.legacy else Text(_status_words(incident.status), end=""),
            Text(format_age(now - incident.opened_at), end=""),
            record_text(incident.type_label),
            record_text(incident.location_text),
        )

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        sentence = message.failure.sentence
        show(
            self.query_one("#list-summary", Static),
            record_content(sentence, style="bold"),
            key=("failed", sentence),
        )
        self._first_read = True
        self.release_keys()

    def _highlighted_reference(self, drawn: list[str | None] | None = None) -> str | None:
        """The reference of the row under the cursor (in `drawn`, the table's rows by
        key, when given)."""
        table = self.query_one("#list-table", DataTable)
        if table.cursor_row is None:
            return None
        if drawn is not None:
            return drawn[table.cursor_row] if 0 <= table.cursor_row < len(drawn) else None
        if self.shown and 0 <= table.cursor_row < len(self.shown):
            return self.shown[table.cursor_row].reference
        return None

    def action_open_highlighted(self) -> None:
        reference = self._highlighted_reference()
        if reference is not None:
            self.app.open_incident(reference)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.app.open_incident(str(event.row_key.value))


class OpenByReference(AppModal[str | None]):
    """ctrl+o: type a reference, or its end ("0042"), Enter opens it; when several end so,
    they are listed (newest first) and Enter opens the highlighted one."""

    BINDINGS = [Binding("escape", "dismiss_none", "Back", id="open_reference.back")]

    @dataclass
    class Found(Message):
        typed: str
        incidents: list[IncidentSummary]

    def compose(self) -> ComposeResult:
        with Vertical(id="open-reference-panel"):
            yield Static("Open an incident by reference", classes="panel-title", markup=False)
            yield Input(placeholder="CR-20261202-0042, 1202-0042 or 0042", id="reference")
            yield Static("", id="reference-error", classes="field-error", markup=False)
            yield OptionList(id="reference-matches")
            yield Static("Enter opens · Down picks among several · Esc back", classes="field-hint")

    def on_mount(self) -> None:
        self.query_one("#reference-matches", OptionList).display = False
        self.focus_now("#reference")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_key(self, event) -> None:
        matches = self.query_one("#reference-matches", OptionList)
        if event.key == "down" and matches.display and self.focused is not matches:
            event.stop()
            self.focus_now(matches)

    @on(Input.Submitted, "#reference")
    def look_up(self, event: Input.Submitted) -> None:
        from controlroom.services import incidents

        typed = event.value.strip()
        if not typed:
            self._error("type a reference, or its last digits")
            return
        app = self.app
        uow_factory, actor = app.uow_factory, app.actor
        self.run_service(
            lambda: self.Found(typed, incidents.find_references(uow_factory(), actor, typed)),
            lambda found: found,
            doing="look the reference up",
            group="reference",
        )

    @on(Found)
    def found(self, message: Found) -> None:
        if not message.incidents:
            self._error(f"no incident's reference ends with {message.typed}")
            return
        if len(message.incidents) == 1:
            self.dismiss(message.incidents[0].reference)
            return
        matches = self.query_one("#reference-matches", OptionList)
        matches.clear_options()
        matches.add_options(
            Option(
                (legacy_badge() + Content("  ") if i.legacy else Content(""))
                + record_content(f"{i.reference}  {i.grade}  {i.type_label}  {i.location_text}"),
                id=i.reference,
            )
            for i in message.incidents
        )
        matches.display = True
        matches.highlighted = 0
        self._error(f"{len(message.incidents)} end so: Down, then Enter opens one")

    @on(OptionList.OptionSelected, "#reference-matches")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        self._error(message.failure.sentence)

    def _error(self, text: str) -> None:
        widget = self.query_one("#reference-error", Static)
        widget.update(record_content(text))
        widget.add_class("-shown")
