"""The legacy import's review list (issue 19): a supervisor decides, for each person an
old system's extract held back as probably someone already here, whether they are the
same person or not.

The list (oldest import first) is above; beneath it, the highlighted entry's held
person beside the record it probably is, and what waits with it (aliases, addresses,
markers, LEGACY incidents and intelligence). Keys: m the same person (merge into that
record: the held aliases, markers and LEGACY records join it, no second record is
made), k keep apart (import them as a new person after all), o open the probable
record, r read the list again, Esc back. m and k ask why (recorded with the
supervisor's name) and a confirmation; the service decides and audits
(`services.legacy_review`). Reached from the command palette ("Legacy review list").
Reading the list is audited, as it shows names and dates of birth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.legacy_review import Decision, ReviewItem

COLUMNS = (("Id", 4), ("Held from the old system", 36), ("Probably record", 25), ("Wait", 4))


def _born(item_date) -> str:
    return f"born {item_date:%d/%m/%Y}" if item_date else "no date of birth"


class LegacyReview(FramedScreen):
    """The review list, one held person beside the record it probably is."""

    TITLE = "Legacy review list"
    help_notes = (
        "Supervisors. m: the held person is the record shown (nothing new is made; what"
        " waits with them joins it). k: a different person (imported as a new record)."
        " Each asks why, then y. Reached from the command palette (ctrl+p)."
    )

    BINDINGS = [
        Binding("m", "same_person", "Same person", id="legacy_review.same_person"),
        Binding("k", "keep_apart", "Keep apart", id="legacy_review.keep_apart"),
        Binding("o", "open_record", "Open record", id="legacy_review.open_record"),
        Binding("r", "reload", "Reload", id="legacy_review.reload"),
    ]

    @dataclass
    class Listed(Message):
        items: list[ReviewItem]

    @dataclass
    class Decided(Message):
        decision: Decision
        item: ReviewItem

    def __init__(self) -> None:
        super().__init__()
        self.items: list[ReviewItem] = []
        self._decided_words = ""  # the last decision, said until the next read

    def compose_body(self) -> ComposeResult:
        with Vertical(id="legacy-review"):
            yield Static(
                "REVIEW LIST — held by an import as probably someone already here",
                classes="panel-title",
                markup=False,
            )
            table: DataTable[Text] = DataTable(id="legacy-review-table", cursor_type="row")
            for label, width in COLUMNS:
                table.add_column(Text(label), width=width, key=label)
            yield table
            with Horizontal(id="legacy-review-pair"):
                yield Static("", id="legacy-review-held", markup=False)
                yield Static("", id="legacy-review-match", markup=False)
            yield Static("Reading the review list…", id="legacy-review-status", markup=False)

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#legacy-review-table", DataTable))
        self.reload()

    # --- reading ------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        from controlroom.services.legacy_review import review_list

        uow_factory, actor = self.app.uow_factory, self.app.actor
        self.run_service(
            lambda: review_list(uow_factory(), actor),
            self.Listed,
            doing="read the review list",
            group="legacy-review",
        )

    @on(Listed)
    def listed(self, message: Listed) -> None:
        self.items = message.items
        table = self.query_one("#legacy-review-table", DataTable)
        table.clear()
        for item in self.items:
            table.add_row(
                Text(str(item.record_id)),
                record_text(
                    f"{item.legacy_name}, {item.legacy_born:%d/%m/%Y}"
                    if item.legacy_born
                    else item.legacy_name
                ),
                record_text(f"{item.candidate_id}: {item.candidate_name}"),
                Text(str(item.waiting)),
                key=str(item.record_id),
            )
        count = len(self.items)
        words = (
            f"{count} held for a decision · m same person · k keep apart · o open record"
            if count
            else "The review list is empty: every person imported has been decided."
        )
        self._status(f"{self._decided_words}\n{words}" if self._decided_words else words)
        self._decided_words = ""
        self._describe(self._highlighted())

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        message.stop()
        self._status(message.failure.sentence)

    @on(DataTable.RowHighlighted, "#legacy-review-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(self._highlighted())

    def _highlighted(self) -> ReviewItem | None:
        table = self.query_one("#legacy-review-table", DataTable)
        row = table.cursor_row
        if not self.items or row is None or not 0 <= row < len(self.items):
            return None
        return self.items[row]

    def _describe(self, item: ReviewItem | None) -> None:
        held = self.query_one("#legacy-review-held", Static)
        match = self.query_one("#legacy-review-match", Static)
        if item is None:
            held.update("")
            match.update("")
            return
        held.update(
            Content.styled("HELD", "bold")
            + record_content(f" {item.source_system} {item.source_id}")
            + Content("\n")
            + record_content(item.legacy_name, style="bold")
            + Content("\n")
            + record_content(
                _born(item.legacy_born) + (f", {item.legacy_gender}" if item.legacy_gender else "")
            )
            + Content("\nwaiting with it: ")
            + record_content(item.waiting_words)
        )
        match.update(
            Content.styled(f"PROBABLY RECORD {item.candidate_id}", "bold")
            + Content("\n")
            + record_content(item.candidate_name, style="bold")
            + Content("\n")
            + Content(_born(item.candidate_born))
            + Content("\no opens the record (audited)")
        )

    def _status(self, words: str) -> None:
        status = self.query_one("#legacy-review-status", Static)
        status.update(record_content(words, multiline=True))

    # --- deciding -----------------------------------------------------------------------

    def action_same_person(self) -> None:
        self._decide(same_person=True)

    def action_keep_apart(self) -> None:
        self._decide(same_person=False)

    def _decide(self, *, same_person: bool) -> None:
        from controlroom.screens.person.merge import PersonMergeDialog

        item = self._highlighted()
        if item is None:
            self._status("Nothing highlighted to decide.")
            return
        held = f"{item.legacy_name} ({item.source_system} {item.source_id})"
        if same_person:
            heading = "THE SAME PERSON: MERGE INTO THE RECORD HERE"
            explanation = (
                f"{held} is record {item.candidate_id}, {item.candidate_name}: no second "
                f"record is made; {item.waiting_words} joins record {item.candidate_id}."
            )
            question = f"{held} is the same person as record {item.candidate_id}?"
        else:
            heading = "A DIFFERENT PERSON: KEEP APART"
            explanation = (
                f"{held} is not record {item.candidate_id}: they are imported as a new "
                f"person, with {item.waiting_words}."
            )
            question = f"Import {held} as a new person, apart from record {item.candidate_id}?"

        def answered(answer: tuple[int | None, str] | None) -> None:
            if answer is not None:
                self._send(item, same_person=same_person, reason=answer[1])

        self.app.push_screen(PersonMergeDialog(heading, explanation, [], question), answered)

    def _send(self, item: ReviewItem, *, same_person: bool, reason: str) -> None:
        from controlroom.services.legacy_review import decide

        uow_factory, actor = self.app.uow_factory, self.app.actor
        self.run_service(
            lambda: decide(
                uow_factory(), actor, item.record_id, same_person=same_person, reason=reason
            ),
            lambda decision: self.Decided(decision, item),
            doing="record the decision",
            group="legacy-decide",
        )

    @on(Decided)
    def decided(self, message: Decided) -> None:
        decision, item = message.decision, message.item
        what = (
            f"the same person as record {decision.person_id}"
            if decision.same_person
            else f"kept apart: new record {decision.person_id}"
        )
        moved = (
            decision.aliases
            + decision.addresses
            + decision.markers
            + decision.incidents
            + decision.intelligence
        )
        self._decided_words = f"{item.legacy_name}: {what} ({moved} held records with them)."
        self._status(self._decided_words)
        self.reload()

    def action_open_record(self) -> None:
        from controlroom.screens.person.record import PersonRecordScreen

        item = self._highlighted()
        if item is not None and item.candidate_id:
            self.app.push_screen(PersonRecordScreen(item.candidate_id))
