"""The person record: who they are, every warning about them and everything linked.

Identity and aliases, markers in words with who set them and when (current ones first;
expired ones marked so), addresses, incidents newest first (Enter opens one), and other
records that may be the same person. A restricted record asks for a justification
first; what is typed goes into the audit event with the operator's name.

A supervisor merges a listed possible duplicate into the record with `m`, and undoes the
latest merge shown on it with `u` (controlroom.screens.person.merge asks which record,
why, and for confirmation). Anyone else pressing them is refused, and the refusal is
audited by the service. A record merged away says so first: into which record, by whom,
when and why.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.screens.frame import FramedScreen
from controlroom.screens.justification import ask_justification
from controlroom.screens.refusals import failure_text
from controlroom.widgets.record_text import record_content, record_text


def _born(value) -> str:
    return value.strftime("%d/%m/%Y") if value else "DOB unknown"


def _merge_line(merge, zone) -> str:
    return (f"record {merge.merged_id} {merge.merged_name} merged by "
            f"{merge.merged_by or 'unknown'} on {merge.merged_at.astimezone(zone):%d/%m/%Y}: "
            f"{merge.reason}")


class PersonRecordScreen(FramedScreen):
    TITLE = "Person record"

    BINDINGS = [
        Binding("r,ctrl+r", "reload", "Reload", id="person.reload"),
        Binding("m", "merge", "Merge duplicate", id="person.merge"),
        Binding("u", "undo_merge", "Undo merge", id="person.unmerge"),
        Binding("w", "who_looked", "Who looked", id="person.who_looked",
                tooltip="Who opened or changed this record (supervisors)"),
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

    class MergeChanged(Message):
        """A merge or undo went through (`done`) or did not (`message` says why)."""

        def __init__(self, message: str, done: bool) -> None:
            super().__init__()
            self.message = message
            self.done = done

    def __init__(self, person_id: int) -> None:
        super().__init__()
        self.person_id = person_id
        self.record = None
        self._justification: str | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="person-record"):
            yield Static("Reading the record…", id="person-identity", markup=False)
            yield Static("", id="person-merge-status", markup=False)
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
            self.post_message(self.Refused(f"{failure_text(exc)}", False))
            return
        self.post_message(self.Loaded(record))
        try:
            from controlroom.services import intelligence

            reports = intelligence.reports_for_person(app.uow_factory(), app.actor, self.person_id)
        except Exception as exc:
            self.post_message(self.IntelligenceLoaded([], f"{failure_text(exc)}"))
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

        ask_justification(self, message.message, self._retry_with)

    def _retry_with(self, justification: str) -> None:
        self._justification = justification
        self.load()

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
        if record.merged_into is not None:
            merge = record.merged_into
            identity.append(record_content(
                f"MERGED INTO {merge.survivor_name} (record {merge.survivor_id}) by "
                f"{merge.merged_by or 'unknown'} on "
                f"{merge.merged_at.astimezone(self.app.zone):%d/%m/%Y}: {merge.reason}",
                style="bold reverse"))
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
        if record.merged_records:
            lines.append(Content.styled("MERGED INTO THIS RECORD — u undoes the latest", "bold"))
            for merge in record.merged_records:
                lines.append(Content(" ") + record_content(_merge_line(merge, zone)))
        if record.possible_duplicates:
            lines.append(Content.styled("POSSIBLY THE SAME PERSON — m merges one into this record",
                                        "bold"))
            for other in record.possible_duplicates:
                lines.append(record_content(
                    f" {other.name}  {_born(other.date_of_birth)}  (record {other.person_id})"))
        self.query_one("#person-duplicates", Static).update(Content("\n").join(lines))

    # --- merge and undo -------------------------------------------------------------

    def _merge_status(self, message: str) -> None:
        self.query_one("#person-merge-status", Static).update(record_content(message))

    def action_who_looked(self) -> None:
        from controlroom.screens.audit_trail import AuditTrailScreen

        heading = self.record.name if self.record is not None else f"record {self.person_id}"
        self.app.push_screen(AuditTrailScreen("person", self.person_id, heading))

    def action_merge(self) -> None:
        from controlroom.screens.person.merge import PersonMergeDialog
        from controlroom.services.person_merge import may_merge

        record = self.record
        if record is None:
            return
        if not may_merge(self.app.actor):
            self.change_merge("merge", record.id, None, None)  # refused and audited there
            return
        if record.merged_into is not None:
            self._merge_status(f"This record is merged into record "
                               f"{record.merged_into.survivor_id}: merge into that one")
            return
        if not record.possible_duplicates:
            self._merge_status("No possible duplicates are listed to merge into this record")
            return
        choices = [(other.person_id, f"{other.name}  {_born(other.date_of_birth)}"
                    f"  (record {other.person_id})") for other in record.possible_duplicates]

        def answered(answer: tuple[int | None, str] | None) -> None:
            if answer is not None:
                self.change_merge("merge", answer[0], None, answer[1])

        self.app.push_screen(PersonMergeDialog(
            "MERGE A DUPLICATE INTO THIS RECORD",
            f"{record.name} (record {record.id}) stays the record in use; the chosen "
            "record keeps all its history and can be unmerged later.",
            choices, f"Merge {{chosen}} into record {record.id}?"), answered)

    def action_undo_merge(self) -> None:
        from controlroom.screens.person.merge import PersonMergeDialog
        from controlroom.services.person_merge import may_merge

        record = self.record
        if record is None:
            return
        merge = record.merged_records[0] if record.merged_records else record.merged_into
        if merge is None:
            self._merge_status("No merge to undo on this record")
            return
        if not may_merge(self.app.actor):
            self.change_merge("undo", None, merge.merge_id, None)  # refused and audited there
            return

        def answered(answer: tuple[int | None, str] | None) -> None:
            if answer is not None:
                self.change_merge("undo", None, merge.merge_id, answer[1])

        self.app.push_screen(PersonMergeDialog(
            "UNDO A MERGE", _merge_line(merge, self.app.zone), [],
            f"Undo the merge of record {merge.merged_id} into record {merge.survivor_id}?"),
            answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-merge")
    def change_merge(self, kind: str, merged_id: int | None, merge_id: int | None,
                     reason: str | None) -> None:
        from controlroom.services import person_merge

        app = self.app
        try:
            if kind == "merge":
                info = person_merge.merge_persons(app.uow_factory(), app.actor, self.person_id,
                                                  merged_id, reason)
                message = f"Record {info.merged_id} ({info.merged_name}) merged into this record"
            else:
                info = person_merge.undo_merge(app.uow_factory(), app.actor, merge_id, reason)
                message = (f"Merge undone: record {info.merged_id} ({info.merged_name}) is a "
                           "record of its own again")
        except (person_merge.MergeNotAllowed, person_merge.MergeRefused,
                person_merge.ReasonRequired) as exc:
            self.post_message(self.MergeChanged(str(exc), False))
            return
        except Exception as exc:
            self.post_message(self.MergeChanged(f"{failure_text(exc)}", False))
            return
        self.post_message(self.MergeChanged(message, True))

    @on(MergeChanged)
    def merge_changed(self, message: MergeChanged) -> None:
        self._merge_status(message.message if message.done else f"Not done: {message.message}")
        if message.done:
            self.load()

    @on(DataTable.RowSelected, "#person-incidents")
    def open_incident(self, event: DataTable.RowSelected) -> None:
        self.app.open_incident(str(event.row_key.value))
