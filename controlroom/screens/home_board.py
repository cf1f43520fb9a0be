"""The home board: what is open right now, by grade, by status and by NSIR heading.

Counts are read in a thread worker every `board_refresh_seconds` (and at once on
`r`), posted back as `CountsLoaded`, and drawn by the handler. If the database
stops answering, the board keeps its last figures rather than showing zeros that would
read as "nothing waiting", and says, in one line, how old they are (the frame's
database banner says the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static

from controlroom.screens.ages import format_age
from controlroom.screens.database_watch import DatabaseReturned
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed, FailureKind
from controlroom.services import board
from controlroom.services.board import BoardCounts
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content, record_text


def _count_table(title: str, rows: list[tuple[Text, int]]) -> Table:
    table = Table(
        title=title, title_justify="left", expand=True, show_edge=False, box=None, pad_edge=False
    )
    table.add_column(title, ratio=1, no_wrap=True, overflow="ellipsis")
    table.add_column("open", justify="right", width=6)
    table.show_header = False
    for label, count in rows:
        table.add_row(label, Text(f"{count:,}", style="bold" if count else "dim"))
    return table


class HomeBoard(FramedScreen):
    """The first screen after sign-in: live counts of open incidents."""

    BINDINGS = [
        Binding(
            "r,ctrl+r",
            "refresh_board",
            "Refresh",
            id="board.refresh",
            tooltip="Read the counts from the database now",
        ),
    ]

    AUTO_FOCUS = None
    CSS_PATH = None  # app.tcss has its rules (not screens.tcss, see AppScreen)

    @dataclass
    class CountsLoaded(Message):
        """Fresh counts for the board were read from the database."""

        counts: BoardCounts

    counts: BoardCounts | None = None

    def __init__(self, counts: BoardCounts | None = None) -> None:
        super().__init__()
        self._first_counts = counts
        self._resumed = False

    def compose_body(self) -> ComposeResult:
        profile = self.app.database_profile
        with Vertical(id="board"):
            yield Static(
                record_content(profile.force_name or "Control Room", style="bold"),
                id="board-force",
            )
            yield Static("Reading counts…", id="board-summary", markup=False)
            with Horizontal(id="board-panels"):
                yield Static(id="board-grades", classes="board-panel")
                with Vertical(classes="board-column"):
                    yield Static(id="board-statuses", classes="board-panel")
                    yield Static(id="board-headings", classes="board-panel")
            yield Static("", id="board-updated", markup=False)

    def on_mount(self) -> None:
        if self._first_counts is not None:  # read with the session: drawn once, with them
            self.show_counts(self.CountsLoaded(self._first_counts))
        else:
            self.refresh_counts()
        self.set_interval(self.app.settings.board_refresh_seconds, self._refresh_when_shown)

    def _refresh_when_shown(self) -> None:
        # Behind another task the board is not seen: no reads, no repaints (issue 15).
        if self.is_current:
            self.refresh_counts()

    def on_screen_resume(self) -> None:
        if self._resumed:  # back from another task: fresh figures at once
            self.refresh_counts()
        self._resumed = True

    @on(DatabaseReturned)
    def _database_returned(self, message: DatabaseReturned) -> None:
        """Back after an outage: fresh figures now, not at the next refresh."""
        message.stop()
        self.refresh_counts()

    def action_refresh_board(self) -> None:
        self.refresh_counts()

    def refresh_counts(self) -> None:
        app = self.app
        grade_codes = tuple(g.code for g in app.settings.grades)
        uow_factory, clock = app.uow_factory, app.clock
        self.run_service(
            lambda: board.home_counts(uow_factory(), grade_codes, clock()),
            self.CountsLoaded,
            doing="read the board's counts",
            group="board",
        )

    @on(CountsLoaded)
    def show_counts(self, message: CountsLoaded) -> None:
        counts = message.counts
        self.counts = counts
        names = {g.code: g.name for g in self.app.settings.grades}
        oldest = (
            f" · oldest open {format_age(counts.read_at - counts.oldest_open_at)}"
            if counts.oldest_open_at
            else ""
        )
        show(
            self.query_one("#board-summary", Static),
            f"Open incidents: {counts.open_total:,}{oldest}"
            + (
                f" · {counts.awaiting_signoff:,} closure(s) await sign-off"
                if counts.awaiting_signoff
                else ""
            ),
        )
        grades = [(f"{code} {names.get(code, '')}".strip(), n) for code, n in counts.by_grade]
        show(
            self.query_one("#board-grades", Static),
            _count_table("By grade", [(record_text(label), n) for label, n in grades]),
            key=tuple(grades),
        )
        statuses = [(status.replace("_", " "), n) for status, n in counts.by_status]
        show(
            self.query_one("#board-statuses", Static),
            _count_table("By status", [(Text(label), n) for label, n in statuses]),
            key=tuple(statuses),
        )
        headings = list(counts.by_heading)
        show(
            self.query_one("#board-headings", Static),
            _count_table(
                "By heading",
                [(record_text(heading), n) for heading, n in headings] or [(Text("none open"), 0)],
            ),
            key=tuple(headings),
        )
        # To the minute: a time in seconds would repaint the line at every read.
        show(
            self.query_one("#board-updated", Static),
            f"Updated {self._local(counts.read_at)} · every "
            f"{self.app.settings.board_refresh_seconds:g} s · r refreshes now",
        )
        self.query_one("#board-updated").remove_class("-failed")

    @on(CallFailed)
    def show_failure(self, message: CallFailed) -> None:
        message.stop()
        updated = self.query_one("#board-updated", Static)
        failure = message.failure
        if failure.kind is FailureKind.DATABASE:
            # One line at 80 columns: the frame's banner above says the rest (what
            # happened, since when, what still works).
            shown = (
                f"Figures of {self._local(self.counts.read_at)}, may be out of date"
                if self.counts is not None
                else "No figures yet"
            )
            text = f"{shown}: database not answering (ref {failure.reference})"
        else:
            text = f"Figures above may be out of date. {failure.sentence}"
        show(updated, record_content(text), key=("failed", text))
        updated.add_class("-failed")

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self.app.zone).strftime("%H:%M")
