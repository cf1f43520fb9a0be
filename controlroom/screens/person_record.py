"""The person record: who they are, every warning about them and everything linked.

Identity and aliases, markers in words with who set them and when (current ones first;
expired ones marked so), addresses, incidents newest first (Enter opens one), and other
records that may be the same person. A restricted record asks for a justification
first; what is typed goes into the audit event with the operator's name.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from controlroom.screens.frame import FramedScreen
from controlroom.widgets.record_text import record_content, record_text


class JustificationScreen(ModalScreen[str | None]):
    """Asks why the operator needs a restricted record. Enter submits; Esc goes back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="justify.cancel")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="justify-panel"):
            yield Static("RESTRICTED RECORD", classes="panel-title", markup=False)
            yield Static(record_content(self._message, multiline=True))
            yield Input(id="justification", max_length=500,
                        placeholder="why you need it, e.g. safeguarding check for CR-…")
            yield Static("Enter submits (recorded with your name) · Esc goes back",
                         classes="field-hint", markup=False)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PersonRecordScreen(FramedScreen):
    TITLE = "Person record"

    BINDINGS = [
        Binding("r,ctrl+r", "reload", "Reload", id="person.reload"),
    ]

    class Loaded(Message):
        def __init__(self, record: Any) -> None:
            super().__init__()
            self.record = record

    class IntelligenceLoaded(Message):
        def __init__(self, reports: list, error: str | None = None) -> None:
            super().__init__()
            self.reports = reports
            self.error = error

    class Refused(Message):
        def __init__(self, message: str, justification_needed: bool) -> None:
            super().__init__()
            self.message = message
            self.justification_needed = justification_needed

    def __init__(self, person_id: int) -> None:
        super().__init__()
        self.person_id = person_id
        self.record = None
        self._justification: str | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="person-record"):
            yield Static("Reading the record…", id="person-identity", markup=False)
            yield Static(id="person-markers")
            yield Static(id="person-addresses")
            yield Static("INCIDENTS — Enter opens one", classes="section-title", markup=False)
            yield DataTable(id="person-incidents", cursor_type="row", zebra_stripes=True)
            yield Static(id="person-intelligence")
            yield Static(id="person-duplicates")

    def on_mount(self) -> None:
        table = self.query_one("#person-incidents", DataTable)
        table.add_columns("Reference", "Opened", "Type", "Role", "Status")
        self.load()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-record")
    def load(self) -> None:
        from controlroom.services import person_record

        app = self.app
        try:
            record = person_record.view_person(app.uow_factory(), app.actor, self.person_id,
                                               justification=self._justification)
        except person_record.JustificationRequired as exc:
            self.post_message(self.Refused(str(exc), True))
            return
        except Exception as exc:
            self.post_message(self.Refused(f"{type(exc).__name__}: {exc}", False))
            return
        self.post_message(self.Loaded(record))
        try:
            from controlroom.services import intelligence

            reports = intelligence.reports_for_person(app.uow_factory(), app.actor, self.person_id)
        except Exception as exc:
            self.post_message(self.IntelligenceLoaded([], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.IntelligenceLoaded(reports))

    @on(IntelligenceLoaded)
    def intelligence_loaded(self, message: IntelligenceLoaded) -> None:
        lines = [Content.styled("INTELLIGENCE (3x5x2 grading)", "bold")]
        if message.error:
            lines.append(record_content(f"unavailable — {message.error}"))
        for report in message.reports:
            head = (f"{report.reference}  {report.submitted_at.astimezone(self.app.zone):%d/%m/%y}"
                    f"  {report.grading_code}" + ("  SUPERSEDED" if report.superseded else ""))
            lines.append(record_content(head, style="dim" if report.superseded else "bold"))
            if report.restricted:
                lines.append(record_content(f"   RESTRICTED — ask {report.ask or 'the owner'}"))
            elif report.preview:
                lines.append(Content("   ") + record_content(report.preview))
        if not message.reports and not message.error:
            lines.append(Content("none linked"))
        self.query_one("#person-intelligence", Static).update(Content("\n").join(lines))

    @on(Refused)
    def refused(self, message: Refused) -> None:
        self.query_one("#person-identity", Static).update(record_content(message.message))
        if not message.justification_needed:
            return

        def answered(reason: str | None) -> None:
            if reason is None:
                self.dismiss()
                return
            self._justification = reason
            self.load()

        self.app.push_screen(JustificationScreen(message.message), answered)

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        record = self.record = message.record
        born = record.date_of_birth.strftime("%d/%m/%Y") if record.date_of_birth else "DOB unknown"
        identity = [
            record_content(record.name, style="bold") + Content(f"  born {born}")
            + record_content(f"  {record.gender}" if record.gender else ""),
        ]
        if record.restricted:
            identity.append(Content.styled("RESTRICTED — viewed with a recorded justification",
                                           "bold reverse"))
        if record.aliases:
            identity.append(Content("also known as: ") + Content("; ").join(
                record_content(alias) for alias in record.aliases))
        self.query_one("#person-identity", Static).update(Content("\n").join(identity))

        lines = [Content.styled("MARKERS", "bold")]
        for marker in record.markers:
            status = "" if marker.current else " (EXPIRED)"
            prefix = "!" if marker.severity == 1 and marker.current else " "
            lines.append(record_content(f"{prefix}{marker.label}{status}",
                                        style="bold" if marker.current else "dim"))
            when = f"   set {marker.set_at:%d/%m/%Y} by {marker.set_by or 'unknown'}"
            valid = f", valid {marker.valid_from:%d/%m/%Y}–" + (
                f"{marker.valid_to:%d/%m/%Y}" if marker.valid_to else "")
            lines.append(record_content(when + valid))
            if marker.note:
                lines.append(Content("   ") + record_content(marker.note))
        if not record.markers:
            lines.append(Content("no markers"))
        self.query_one("#person-markers", Static).update(Content("\n").join(lines))

        lines = [Content.styled("ADDRESSES", "bold")]
        for address in record.addresses:
            lines.append(record_content(
                f"{'current' if address.current else 'former '} {address.kind}: {address.text}"))
        if not record.addresses:
            lines.append(Content("none recorded"))
        self.query_one("#person-addresses", Static).update(Content("\n").join(lines))

        table = self.query_one("#person-incidents", DataTable)
        table.clear()
        zone = self.app.zone
        for incident in record.incidents:
            table.add_row(
                Text(incident.reference), Text(incident.opened_at.astimezone(zone).strftime("%d/%m/%y")),
                record_text(incident.type_label), Text(incident.role), Text(incident.status),
                key=incident.reference,
            )
        lines = []
        if record.possible_duplicates:
            lines.append(Content.styled("POSSIBLY THE SAME PERSON", "bold"))
            for other in record.possible_duplicates:
                born = other.date_of_birth.strftime("%d/%m/%Y") if other.date_of_birth else "DOB unknown"
                lines.append(record_content(f" {other.name}  {born}  (record {other.person_id})"))
        self.query_one("#person-duplicates", Static).update(Content("\n").join(lines))

    @on(DataTable.RowSelected, "#person-incidents")
    def open_incident(self, event: DataTable.RowSelected) -> None:
        self.app.open_incident(str(event.row_key.value))
