"""Who looked at this: the audit events on one person, incident or intelligence report.

For supervisors (the service refuses anyone else, audits the refusal, and the reason
shows here). Opened with `w` from the person record, the incident view and the
intelligence report. Newest first: when (local time), who, from which terminal, what
they did, the outcome, and (for the highlighted line, in full) the justification they
gave. Opening it is itself audited,
so the list always ends up naming whoever looked at who looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.audit_trail import Look


class AuditTrailScreen(FramedScreen):
    """Audit events on one record. `r` reads them again, Esc goes back."""

    TITLE = "Who looked at this"
    BINDINGS = [
        Binding("r,ctrl+r", "reload", "Reload", id="audit_trail.reload"),
    ]

    @dataclass
    class Loaded(Message):
        """Who opened or changed the record, newest first (this look included)."""

        looks: list[Look]

    class LoadFailed(CallFailed):
        """A refusal, or the audit trail itself unavailable."""

    def __init__(self, object_type: str, object_id: int | str, heading: str) -> None:
        """`heading` names the record as its screen did (a name, a reference)."""
        super().__init__()
        self.object_type = object_type
        self.object_id = object_id
        self.heading = heading
        self.looks: list[Look] = []

    def compose_body(self) -> ComposeResult:
        from controlroom.services.audit_trail import WATCHED_OBJECTS

        kind = WATCHED_OBJECTS.get(self.object_type, self.object_type)
        yield Static(
            Content.styled("WHO LOOKED AT THIS ", "bold")
            + Content(f"{kind}: ")
            + record_content(self.heading),
            id="audit-trail-title",
        )
        yield Static("Reading the audit trail…", id="audit-trail-status", markup=False)
        # The highlighted event's justification in full (a column would be cut at 80x24).
        yield Static("", id="audit-trail-justification", markup=False)
        yield DataTable(id="audit-trail-events", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one("#audit-trail-events", DataTable)
        table.add_columns(*map(Text, ("When", "Who", "Terminal", "Action", "Outcome", "Why")))
        self.focus_now(table)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        from controlroom.services.audit_trail import who_looked

        uow_factory, actor = self.app.uow_factory, self.app.actor
        object_type, object_id = self.object_type, self.object_id
        self.run_service(
            lambda: who_looked(uow_factory(), actor, object_type, object_id),
            self.Loaded,
            doing="read the audit trail",
            group="audit-trail",
            failed=self.LoadFailed,
        )

    @on(DataTable.RowHighlighted, "#audit-trail-events")
    def show_justification(self, event: DataTable.RowHighlighted) -> None:
        looks = self.looks
        why = looks[event.cursor_row].justification if event.cursor_row < len(looks) else None
        self.query_one("#audit-trail-justification", Static).update(
            Content("Why: ") + record_content(why) if why else Content("Why: none given")
        )

    @on(LoadFailed)
    def load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.query_one("#audit-trail-status", Static).update(
            record_content(message.failure.sentence)
        )

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        looks = self.looks = message.looks
        table = self.query_one("#audit-trail-events", DataTable)
        table.clear()
        zone = self.app.zone
        for look in looks:
            table.add_row(
                record_text(f"{look.occurred_at.astimezone(zone):%d/%m/%y %H:%M:%S}"),
                record_text(look.actor),
                record_text(look.terminal),
                record_text(look.action),
                record_text(look.outcome),
                record_text("yes" if look.justification else ""),
            )
        self.query_one("#audit-trail-status", Static).update(
            Content(
                f"{len(looks)} event(s), newest first (this look included)."
                if looks
                else "No events on this record."
            )
        )
