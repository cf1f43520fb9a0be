"""Calls and changes kept offline (issue 13): the reconciliation a station is shown after
its journal is replayed, and the supervisors' list of entries that went in with a doubt
or did not go in at all, until one of them resolves each.

The list (`KeptBackScreen`, from the palette: "Kept offline: to resolve") shows every
station's entries still to resolve, oldest first; the highlighted one's reason and what
was typed in full beneath. `enter` resolves it: a line on what was done (entered by hand
as CR-…, a duplicate of …, not a call), audited; its station then stops sending it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import AppModal, CallFailed
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.offline import KeptBack

KINDS = {
    "incident.create": "new call",
    "incident.note": "note",
    "incident.status": "status",
    "incident.regrade": "grade",
}


class ReconciliationScreen(AppModal[None]):
    """What became of this station's offline entries: a line each. Esc or Enter closes."""

    BINDINGS = [Binding("escape,enter", "close", "Close", id="reconciliation.close")]

    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(id="reconciliation-panel"):
            yield Static(
                Content.styled("KEPT ON THIS STATION — NOW SENT", "bold"), id="reconciliation-title"
            )
            with VerticalScroll(id="reconciliation-lines"):
                yield Static(record_content("\n".join(self.lines), multiline=True))
            yield Static(
                "Entries NOT IN stay on this station and on the supervisors' list "
                "(ctrl+p Kept offline). Esc close",
                id="reconciliation-keys",
                markup=False,
            )

    def action_close(self) -> None:
        self.dismiss(None)


class ResolveDialog(AppModal[str | None]):
    """One line on how an entry kept back was resolved; ctrl+s saves, Esc cancels."""

    BINDINGS = [
        Binding("ctrl+s,f10", "save", "Save", id="resolve.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="resolve.cancel"),
    ]

    def __init__(self, provisional_reference: str) -> None:
        super().__init__()
        self.provisional_reference = provisional_reference

    def compose(self) -> ComposeResult:
        with Vertical(id="resolve-panel"):
            yield Static(
                Content.styled("Resolve ", "bold") + record_content(self.provisional_reference)
            )
            yield Input(
                placeholder="what was done: entered by hand as CR-…, a duplicate of …",
                id="resolution",
                max_length=2000,
            )
            yield Static("", id="resolution-error", classes="field-error", markup=False)
            yield Static("ctrl+s save · Esc cancel", markup=False)

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#resolution", Input))

    def action_save(self) -> None:
        words = self.query_one("#resolution", Input).value.strip()
        if not words:
            self.query_one("#resolution-error", Static).update(
                "say what was done about it, then ctrl+s"
            )
            return
        self.dismiss(words)

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)


class KeptBackScreen(FramedScreen):
    """Supervisors: every station's offline entries still to resolve. r reads again."""

    TITLE = "Kept offline: to resolve"
    BINDINGS = [
        Binding("r,ctrl+r", "reload", "Reload", id="kept_back.reload"),
        Binding("enter", "resolve", "Resolve", id="kept_back.resolve"),
    ]

    @dataclass
    class Loaded(Message):
        kept: list[KeptBack]

    @dataclass
    class Resolved(Message):
        provisional_reference: str

    class LoadFailed(CallFailed):
        """A refusal (not a supervisor), or the database not answering."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[KeptBack] = []

    def compose_body(self) -> ComposeResult:
        yield Static(Content.styled("KEPT OFFLINE — TO RESOLVE", "bold"), id="kept-back-title")
        yield Static("Reading…", id="kept-back-status", markup=False)
        yield Static("", id="kept-back-detail", markup=False)
        yield DataTable(id="kept-back-rows", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#kept-back-rows", DataTable)
        table.add_columns(*map(Text, ("Kept", "Reference", "What", "State", "By")))
        self.focus_now(table)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        from controlroom.services import offline

        uow_factory, actor = self.app.uow_factory, self.app.actor
        self.run_service(
            lambda: offline.kept_back(uow_factory(), actor),
            self.Loaded,
            doing="read the entries kept offline",
            group="kept-back",
            failed=self.LoadFailed,
        )

    @on(LoadFailed)
    def load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.query_one("#kept-back-status", Static).update(record_content(message.failure.sentence))

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        kept = self.kept = message.kept
        table = self.query_one("#kept-back-rows", DataTable)
        table.clear()
        zone = self.app.zone
        for entry in kept:
            table.add_row(
                record_text(f"{entry.kept_at.astimezone(zone):%d/%m %H:%M}"),
                record_text(entry.final_reference or entry.provisional_reference),
                record_text(KINDS.get(entry.kind, entry.kind)),
                record_text(entry.state.upper()),
                record_text(entry.kept_by),
            )
        self.query_one("#kept-back-status", Static).update(
            Content(
                f"{len(kept)} to resolve, oldest first. Enter resolves the highlighted one."
                if kept
                else "Nothing kept offline is waiting for a supervisor."
            )
        )
        if not kept:
            self.query_one("#kept-back-detail", Static).update("")

    @on(DataTable.RowHighlighted, "#kept-back-rows")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self.kept):
            return
        entry = self.kept[event.cursor_row]
        typed = "; ".join(
            f"{name}: {value}"
            for name, value in sorted(entry.typed.items())
            if value not in (None, "", [], False) and name != "idempotency_key"
        )
        words = f"{entry.provisional_reference} from {entry.station}: {entry.why}"
        if typed:
            words += f"\nTyped — {typed}"
        self.query_one("#kept-back-detail", Static).update(record_content(words, multiline=True))

    @on(DataTable.RowSelected, "#kept-back-rows")
    def row_chosen(self) -> None:
        self.action_resolve()

    def action_resolve(self) -> None:
        table = self.query_one("#kept-back-rows", DataTable)
        if not self.kept or table.cursor_row >= len(self.kept):
            return
        entry = self.kept[table.cursor_row]

        def answered(how: str | None) -> None:
            if how:
                self._resolve(entry, how)

        self.app.push_screen(ResolveDialog(entry.provisional_reference), answered)

    def _resolve(self, entry: KeptBack, how: str) -> None:
        from controlroom.services import offline

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: offline.resolve(uow_factory(), actor, entry.id, how, clock()),
            lambda _: self.Resolved(entry.provisional_reference),
            doing="resolve the entry",
            group="kept-back-resolve",
            failed=self.LoadFailed,
        )

    @on(Resolved)
    def resolved(self, message: Resolved) -> None:
        self.app.notify(
            f"{message.provisional_reference} resolved.", title="Kept offline", markup=False
        )
        self.load()
