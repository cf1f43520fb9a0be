"""Intelligence search (F4 / ctrl+g): one query line, reports as you type, newest first.

Words on the line are searched for in the reports' text; a few filters are typed as
words of their own: `grade:2B` (source and intelligence, optionally handling, e.g.
`grade:1AP`), `handling:C`, `from:2026-01-01`, `to:2026-01-31`, `person:<id>`,
`location:<id>` and `superseded:yes` (superseded reports are left out otherwise). A
filter the screen cannot read is said on the status line and nothing is searched.

A restricted report shows only that it exists, its grading and whom to ask. Enter opens
a report (a restricted one asks for a justification first); `n` — or `alt+n` while the
query line has focus — opens the form for a new report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed, FailureKind
from controlroom.services.intelligence import CONDITIONS_LABEL, IntelSummary
from controlroom.widgets.legacy_badge import legacy_badge, legacy_cell
from controlroom.widgets.record_text import record_content, record_text

SEARCH_DELAY_SECONDS = 0.25
HINT = (
    "words in the text · grade:2B handling:C from:2026-01-01 to:… person:<id> "
    "location:<id> superseded:yes"
)


class QueryProblem(ValueError):
    """A filter word the screen cannot read; the message says which and how to write it."""


@dataclass
class IntelQuery:
    """What the query line asks for, as `search_reports` takes it."""

    text: str | None = None
    criteria: dict[str, Any] = field(default_factory=dict)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise QueryProblem(f"{name}: needs a date written 2026-01-31, not {value!r}") from None


def _id(value: str, name: str) -> int:
    if not value.isdigit():
        raise QueryProblem(f"{name}: needs a record number, e.g. {name}:42")
    return int(value)


def parse_query(line: str) -> IntelQuery:
    """Split the query line into filter words and the words to find in the text."""
    query = IntelQuery()
    words: list[str] = []
    for word in line.split():
        name, sep, value = word.partition(":")
        name = name.lower()
        if not sep or name not in {
            "grade",
            "handling",
            "from",
            "to",
            "person",
            "location",
            "superseded",
        }:
            words.append(word)
            continue
        if not value:
            raise QueryProblem(f"{name}: needs a value after the colon")
        if name == "grade":
            code = value.upper()
            if not (2 <= len(code) <= 3):
                raise QueryProblem("grade: source and intelligence, e.g. grade:2B or grade:1AP")
            query.criteria["source"] = code[0]
            query.criteria["intelligence"] = code[1]
            if len(code) == 3:
                query.criteria["handling"] = code[2]
        elif name == "handling":
            query.criteria["handling"] = value.upper()
        elif name == "from":
            query.criteria["date_from"] = _day(value, name)
        elif name == "to":
            query.criteria["date_to"] = _day(value, name)
        elif name == "person":
            query.criteria["person_id"] = _id(value, name)
        elif name == "location":
            query.criteria["location_id"] = _id(value, name)
        elif name == "superseded":
            query.criteria["include_superseded"] = value.lower() in {"yes", "y", "true", "1"}
    query.text = " ".join(words) or None
    return query


def summary_cells(report, zone) -> tuple[Text, Text, Text, Text, Text]:
    """One results row: reference, date, grading, subjects, preview (all literal text)."""
    when = Text(report.submitted_at.astimezone(zone).strftime("%d/%m/%y"))
    grading = Text(report.grading_code, style="bold" if report.handling_code == "C" else "")
    if report.restricted:
        subjects = Text("")
        preview = Text("RESTRICTED — ask ", style="bold reverse") + record_text(
            report.ask or "the submitting officer"
        )
    else:
        subjects = record_text("; ".join(s.label for s in report.subjects))
        preview = record_text(report.preview or "")
        if report.conditions is not None:
            # Handling C: the conditions before the text, as on the report itself.
            preview = (
                Text(CONDITIONS_LABEL, style="bold")
                + record_text(report.conditions)
                + Text(" — ")
                + preview
            )
    if report.superseded:
        preview = Text("SUPERSEDED — ", style="bold") + preview
    if report.legacy:
        preview = legacy_cell(True) + Text(" ") + preview
    return Text(report.reference), when, grading, subjects, preview


# The results' fixed columns (heading, width); the text column takes the rest.
FIXED_COLUMNS = (("Reference", 16), ("Date", 8), ("Grd", 3), ("Subjects", 16))
TEXT_MIN_WIDTH = 20
# Kept free for the table's vertical scrollbar.
SCROLLBAR_ROOM = 2


class IntelligenceSearch(FramedScreen):
    """The search screen. See the module docstring for the filters and keys."""

    TITLE = "Intelligence search"

    # alt+n is a priority binding: a real terminal delivers it with the character "n",
    # which the focused query line would otherwise type into itself. Plain `n` works
    # once the results have focus.
    BINDINGS = [
        Binding("down", "to_results", "Results", id="intel_search.results", show=False),
        Binding("ctrl+l", "to_query", "Query", id="intel_search.query"),
        Binding("alt+n", "new_report", "New report", id="intel_search.new_alt", priority=True),
        Binding("n", "new_report", "New report", id="intel_search.new", show=False),
    ]

    search_delay: float = SEARCH_DELAY_SECONDS
    """Seconds of quiet typing before the search runs (tests set 0)."""

    @dataclass
    class Found(Message):
        """The reports for `line` (as typed when the search started), newest first."""

        line: str
        reports: list[IntelSummary]

    @dataclass
    class SearchFailed(CallFailed):
        """The query line could not be read, or the search gave no answer."""

        line: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[IntelSummary] = []
        self._timer: Timer | None = None
        self._text_width = 0

    def compose_body(self) -> ComposeResult:
        with Vertical(id="intel-search"):
            yield Input(
                id="intel-search-query",
                max_length=200,
                placeholder="words in the report, or filters such as grade:2B",
            )
            yield Static(HINT, id="intel-search-hint", markup=False)
            yield Static(
                "Newest reports. Down moves into them; Enter opens one.",
                id="intel-search-status",
                markup=False,
            )
            yield DataTable(id="intel-search-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._set_columns(TEXT_MIN_WIDTH)
        self.focus_now(self.query_one("#intel-search-query", Input))
        self.call_after_refresh(self._fit_text_column)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_text_column)

    def _set_columns(self, text_width: int) -> None:
        table = self.query_one("#intel-search-results", DataTable)
        table.clear(columns=True)
        for heading, width in FIXED_COLUMNS:
            table.add_column(Text(heading), width=width)
        table.add_column(Text("Text"), width=text_width)
        self._text_width = text_width
        zone = self.app.zone
        for report in self.reports:
            table.add_row(*summary_cells(report, zone), key=str(report.id))

    def _fit_text_column(self) -> None:
        """The text column takes what the fixed columns leave of the table's width, set
        here (on mount and resize), not measured from the rows: DataTable sizes an auto
        width at idle time and was seen to keep an earlier, shorter list's width."""
        table = self.query_one("#intel-search-results", DataTable)
        if not table.size.width:
            return
        taken = sum(width + 2 * table.cell_padding for _, width in FIXED_COLUMNS)
        room = table.size.width - taken - 2 * table.cell_padding - SCROLLBAR_ROOM
        width = max(TEXT_MIN_WIDTH, room)
        if width != self._text_width:
            self._set_columns(width)

    def on_screen_resume(self) -> None:
        # On arrival (after mount) the newest reports; back from a report or the form,
        # the same query again: a new or superseded report changes the list.
        if self.is_mounted:
            self.search(self.query_one("#intel-search-query", Input).value)

    @on(Input.Changed, "#intel-search-query")
    def query_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        line = event.value
        if self.search_delay <= 0:
            self.search(line)
        else:
            self._timer = self.set_timer(self.search_delay, lambda: self.search(line))

    @on(Input.Submitted, "#intel-search-query")
    def query_submitted(self, event: Input.Submitted) -> None:
        self.action_to_results()

    def action_to_results(self) -> None:
        table = self.query_one("#intel-search-results", DataTable)
        if table.row_count:
            self.focus_now(table)
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            self._describe(row_key.value)

    def action_to_query(self) -> None:
        self.focus_now(self.query_one("#intel-search-query", Input))

    def action_new_report(self) -> None:
        from controlroom.screens.intelligence.submit import IntelligenceSubmit

        self.app.push_screen(IntelligenceSubmit())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Down belongs to the results table once it has focus.
        if action == "to_results":
            return self.focused is self.query_one("#intel-search-query")
        return True

    def search(self, line: str) -> None:
        from controlroom.services import intelligence

        uow_factory, actor = self.app.uow_factory, self.app.actor

        def search() -> list[IntelSummary]:
            query = parse_query(line)
            return intelligence.search_reports(
                uow_factory(), actor, text=query.text, **query.criteria
            )

        self.run_service(
            search,
            lambda reports: self.Found(line, reports),
            doing="search the intelligence",
            group="intel-search",
            failed=lambda failure: self.SearchFailed(failure, line),
        )

    @on(SearchFailed)
    def search_failed(self, message: SearchFailed) -> None:
        message.stop()
        if message.line != self.query_one("#intel-search-query", Input).value:
            return  # an answer to an older query
        self.query_one("#intel-search-results", DataTable).clear()
        self.reports = []
        failure = message.failure
        if failure.kind is FailureKind.INPUT:
            words = f"{failure.field}: {failure.sentence}"
        elif failure.kind in (FailureKind.DECLINED, FailureKind.REFUSED):
            words = failure.sentence  # a filter word to fix, or a refusal
        else:
            words = f"SEARCH FAILED — {failure.sentence}"
        status = self.query_one("#intel-search-status", Static)
        status.add_class("-failed")
        status.update(record_content(words))

    @on(Found)
    def found(self, message: Found) -> None:
        if message.line != self.query_one("#intel-search-query", Input).value:
            return  # an answer to an older query
        status = self.query_one("#intel-search-status", Static)
        table = self.query_one("#intel-search-results", DataTable)
        table.clear()
        self.reports = list(message.reports)
        status.remove_class("-failed")
        zone = self.app.zone
        for report in self.reports:
            table.add_row(*summary_cells(report, zone), key=str(report.id))
        if self.reports:
            status.update(f"{len(self.reports)} found — Down, then Enter opens one · n new report")
        elif message.line.strip():
            status.update("Nothing found. Try fewer words or a wider date range.")
        else:
            status.update("No reports yet. alt+n submits one.")

    @on(DataTable.RowHighlighted, "#intel-search-results")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.focused is event.data_table:
            self._describe(event.row_key.value)

    def _describe(self, key: str | None) -> None:
        """At 80 columns the text column is cut short: the status line says whom to ask
        (or how the text starts) in full for the highlighted report."""
        report = next((r for r in self.reports if str(r.id) == key), None)
        if report is None:
            return
        tail = (
            f"RESTRICTED — ask {report.ask or 'the submitting officer'}"
            if report.restricted
            else report.about() or ""
        )
        self.query_one("#intel-search-status", Static).update(
            (legacy_badge() + Content(" ") if report.legacy else Content(""))
            + record_content(f"{report.reference}: {tail}")
        )

    @on(DataTable.RowSelected, "#intel-search-results")
    def open_report(self, event: DataTable.RowSelected) -> None:
        from controlroom.screens.intelligence.report import IntelligenceReportScreen

        if event.row_key.value is not None:
            self.app.push_screen(IntelligenceReportScreen(int(event.row_key.value)))
