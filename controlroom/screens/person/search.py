"""Person search (F3 / ctrl+f): one query line, results as you type, every warning on every hit.

The line takes names in any order or in part, dates of birth (02/03/1984, 1984,
1980-1985, ~35), postcodes and address fragments. Results arrive from an exclusive
worker a moment after typing stops, so a stale search is cancelled by the next one;
they are ranked exact > phonetic > fuzzy and each carries the person's markers in
words, date of birth, last known address and counts of incidents and intelligence.
Down moves into the results; Enter opens the person's record.

Each hit says why it matched: the Why column in a few letters (which fact: F forename,
S surname, N a name part, D date of birth, P postcode, A address, lower case for a
former address; how: = exact, ~ the same name spelled another way or sounding alike, a
mirrored date or a year's range, ? near: keying slips, the start typed, no date
recorded), and the status line, for the highlighted hit, in words ("forename family ·
surname exact · DOB exact").

At 80 columns every column but the address has a fixed width, so the markers, the
counts and why always show; the address (last) is cut, and the status line describes
the highlighted hit in full: name, date of birth, every marker, address, counts, the
match and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from controlroom.domain.markers import markers_phrase
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.markers import MarkerInfo
    from controlroom.services.person_search import PersonHit

SEARCH_DELAY_SECONDS = 0.25
# (heading, width) of the results' columns; None: as wide as the rest of the screen.
# Name, born, markers, incidents, intelligence and why fit 80 columns whole or cut; why
# reads as `why_codes` writes it ("F~ S= D=").
COLUMNS = (
    ("Name", 22),
    ("Born", 10),
    ("Markers", 14),
    ("Inc", 3),
    ("Int", 3),
    ("Why", 8),
    ("Address", None),
)


def _marker_words(markers: Iterable[MarkerInfo]) -> str:
    """The markers in words, most severe first as given, the gravest with a "!"."""
    return markers_phrase((m.label, m.severity) for m in markers)


def _markers_text(markers) -> Text:
    if not markers:
        return Text("–")
    return Text(_marker_words(markers), style="bold")


def _hit_name(hit) -> str:
    return f"{hit.surname.upper()}, {hit.forename}"


def _born(hit) -> str | None:
    return hit.date_of_birth.strftime("%d/%m/%Y") if hit.date_of_birth else None


def _owner(hit) -> str:
    """Whom to ask about a restricted hit."""
    return hit.ask or "the record's owner"


def describe_hit(hit) -> str:
    """One line saying all a hit shows, markers first and the address (the longest)
    last; plain text, shown with markup off."""
    if hit.restricted:
        return f"RESTRICTED RECORD \u2014 ask {_owner(hit)}"
    markers = _marker_words(hit.markers)
    return " \u00b7 ".join(
        (
            _hit_name(hit),
            _born(hit) or "born unknown",
            markers or "no markers",
            _counted(hit.incident_count, "incident"),
            _counted(hit.intelligence_count, "intelligence report"),
            f"{hit.match} match" + (f" ({hit.why_text})" if hit.why else ""),
            hit.address or "no address known",
        )
    )


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# The most hits a search shows: the best by rank (the status line says when it is full).
SHOWN = 20


class PersonSearch(FramedScreen):
    TITLE = "Person search"

    BINDINGS = [
        Binding("down", "to_results", "Results", id="search.results", show=False),
        Binding("ctrl+l", "to_query", "Query", id="search.query"),
    ]

    search_delay: float = SEARCH_DELAY_SECONDS
    """Seconds of quiet typing before the search runs (tests set 0)."""

    @dataclass
    class Found(Message):
        """The persons matching `query` (as typed when the search started), best first."""

        query: str
        hits: list[PersonHit]

    @dataclass
    class SearchFailed(CallFailed):
        """The search for `query` gave no answer."""

        query: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[PersonHit] = []
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="person-search"):
            yield Input(
                id="person-search-query",
                max_length=200,
                placeholder="name, date of birth, postcode or address — any order",
            )
            yield Static(
                "Type to search. Down moves into the results; Enter opens a record.",
                id="person-search-status",
                markup=False,
            )
            yield DataTable(id="person-search-results", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#person-search-results", DataTable)
        for heading, width in COLUMNS:
            table.add_column(Text(heading), width=width)
        self.focus_now(self.query_one("#person-search-query", Input))

    @on(Input.Changed, "#person-search-query")
    def query_changed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = event.value
        if self.search_delay <= 0:
            self.search(text)
        else:
            self._timer = self.set_timer(self.search_delay, lambda: self.search(text))

    @on(Input.Submitted, "#person-search-query")
    def query_submitted(self, event: Input.Submitted) -> None:
        self.action_to_results()

    def action_to_results(self) -> None:
        table = self.query_one("#person-search-results", DataTable)
        if table.row_count:
            self.focus_now(table)

    def action_to_query(self) -> None:
        self.focus_now(self.query_one("#person-search-query", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Down belongs to the results table once it has focus.
        if action == "to_results":
            return self.focused is self.query_one("#person-search-query")
        return True

    def search(self, text: str) -> None:
        from controlroom.services import person_search

        if len(text.strip()) < 2:
            self.post_message(self.Found(text, []))
            return
        app = self.app
        uow_factory, actor, clock, zone = app.uow_factory, app.actor, app.clock, app.zone
        self.run_service(
            lambda: person_search.search_persons(
                uow_factory(), actor, text, today=clock().astimezone(zone).date(), limit=SHOWN
            ),
            lambda hits: self.Found(text, hits),
            doing="search for the person",
            group="person-search",
            failed=lambda failure: self.SearchFailed(failure, text),
        )

    @on(SearchFailed)
    def search_failed(self, message: SearchFailed) -> None:
        message.stop()
        if message.query != self.query_one("#person-search-query", Input).value:
            return  # an answer to an older query
        self.query_one("#person-search-results", DataTable).clear()
        self.hits = []
        self.query_one("#person-search-status", Static).update(
            record_content(f"SEARCH FAILED — {message.failure.sentence}")
        )

    @on(Found)
    def found(self, message: Found) -> None:
        if message.query != self.query_one("#person-search-query", Input).value:
            return  # an answer to an older query
        # With the ranking's rapidfuzz (about 3 MiB), already loaded by the search: not
        # with the screen, which an operator may open and leave without searching.
        from controlroom.domain.person_ranking import why_codes

        status = self.query_one("#person-search-status", Static)
        table = self.query_one("#person-search-results", DataTable)
        table.clear()
        self.hits = list(message.hits)
        for hit in self.hits:
            if hit.restricted:
                name = Text("RESTRICTED", style="bold reverse")
                born, markers, address = (
                    Text(""),
                    Text("ask: ") + record_text(_owner(hit)),
                    Text(""),
                )
                counts = (Text(""), Text(""))
            else:
                name = record_text(_hit_name(hit))
                born = Text(_born(hit) or "unknown")
                markers = _markers_text(hit.markers)
                address = record_text(hit.address or "")
                counts = (Text(str(hit.incident_count)), Text(str(hit.intelligence_count)))
            table.add_row(
                name,
                born,
                markers,
                *counts,
                Text(why_codes(hit.why)),
                address,
                key=str(hit.person_id),
            )
        if len(self.hits) >= SHOWN:
            # A full page says so: "20 found" read as if no one else matched.
            status.update(
                f"the best {SHOWN} shown; more may match: add a date of birth or a postcode"
                " · Down, then Enter opens a record"
            )
        elif self.hits:
            status.update(f"{len(self.hits)} found — Down, then Enter opens a record")
        elif message.query.strip():
            status.update("No one found. Try fewer letters, a date of birth or a postcode.")
        else:
            status.update("Type to search.")

    @on(DataTable.RowHighlighted, "#person-search-results")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.focused is event.data_table:
            self._describe(event.row_key.value)

    def on_descendant_focus(self, event) -> None:
        # Into the results: the highlighted hit is described at once.
        table = self.query_one("#person-search-results", DataTable)
        if event.widget is table and table.row_count:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
            self._describe(row_key.value)

    def _describe(self, key: str | None) -> None:
        """The highlighted hit in full on the status line (the table cuts its columns
        at 80): every marker, the whole address, the counts and the match in words."""
        hit = next((h for h in self.hits if str(h.person_id) == key), None)
        if hit is None:
            return
        self.query_one("#person-search-status", Static).update(record_content(describe_hit(hit)))

    @on(DataTable.RowSelected, "#person-search-results")
    def open_record(self, event: DataTable.RowSelected) -> None:
        from controlroom.screens.person.record import PersonRecordScreen

        if event.row_key.value is not None:
            self.app.push_screen(PersonRecordScreen(int(event.row_key.value)))
