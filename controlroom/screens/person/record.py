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

from dataclasses import dataclass
from datetime import date, tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from controlroom.domain.markers import marker_phrase
from controlroom.messages import IncidentChosen
from controlroom.screens.frame import FramedScreen
from controlroom.screens.justification import ask_justification
from controlroom.screens.seam import CallFailed
from controlroom.widgets.legacy_badge import legacy_badge, legacy_cell
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.intelligence import IntelSummary
    from controlroom.services.person_merge import MergeInfo
    from controlroom.services.person_record import PersonRecord


def _born(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "DOB unknown"


def _merge_line(merge: MergeInfo, zone: tzinfo) -> str:
    return (
        f"record {merge.merged_id} {merge.merged_name} merged by "
        f"{merge.merged_by or 'unknown'} on {merge.merged_at.astimezone(zone):%d/%m/%Y}: "
        f"{merge.reason}"
    )


# The person's incidents at 80 columns: (label, width).
INCIDENT_COLUMNS = (
    ("Reference", 16),
    ("Opened", 8),
    ("Type", 22),
    ("Role", 8),
    ("Status", 10),
)


class PersonRecordScreen(FramedScreen):
    TITLE = "Person record"

    BINDINGS = [
        Binding("r,ctrl+r", "reload", "Reload", id="person.reload"),
        Binding("m", "merge", "Merge duplicate", id="person.merge"),
        Binding("u", "undo_merge", "Undo merge", id="person.unmerge"),
        Binding(
            "w",
            "who_looked",
            "Who looked",
            id="person.who_looked",
            tooltip="Who opened or changed this record (supervisors)",
        ),
    ]

    @dataclass
    class Loaded(Message):
        """The record as it stands (the read is audited)."""

        record: PersonRecord

    @dataclass
    class IntelligenceLoaded(Message):
        """The intelligence reports linked to the person, newest first."""

        reports: list[IntelSummary]

    class LoadFailed(CallFailed):
        """The record could not be opened (a justification may be needed first)."""

    class IntelligenceFailed(CallFailed):
        """The linked reports could not be read: said in their place."""

    @dataclass
    class MergeChanged(Message):
        """A merge or an undo went through; `words` say which records."""

        words: str

    class MergeFailed(CallFailed):
        """A merge or an undo did not go through."""

    def __init__(self, person_id: int) -> None:
        super().__init__()
        self.person_id = person_id
        self.record: PersonRecord | None = None
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
        # Widths that fit 80 columns with Role and Status whole (the type is cut first).
        for label, width in INCIDENT_COLUMNS:
            table.add_column(Text(label), width=width)
        self.load()

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        from controlroom.services import person_record

        uow_factory, actor, person_id = self.app.uow_factory, self.app.actor, self.person_id
        justification, today = self._justification, self.app.local_today
        self.run_service(
            lambda: person_record.view_person(
                uow_factory(), actor, person_id, justification=justification, today=today()
            ),
            self.Loaded,
            doing="open the person record",
            group="person-record",
            failed=self.LoadFailed,
        )

    def load_intelligence(self) -> None:
        from controlroom.services import intelligence

        uow_factory, actor, person_id = self.app.uow_factory, self.app.actor, self.person_id
        self.run_service(
            lambda: intelligence.reports_for_person(uow_factory(), actor, person_id),
            self.IntelligenceLoaded,
            doing="read the linked intelligence",
            group="person-intelligence",
            failed=self.IntelligenceFailed,
        )

    @on(IntelligenceFailed)
    def intelligence_failed(self, message: IntelligenceFailed) -> None:
        message.stop()
        self.query_one("#person-intelligence", Static).update(
            Content.styled("INTELLIGENCE (3x5x2 grading)", "bold")
            + Content("\n")
            + record_content(f"unavailable — {message.failure.sentence}")
        )

    @on(IntelligenceLoaded)
    def intelligence_loaded(self, message: IntelligenceLoaded) -> None:
        lines = [Content.styled("INTELLIGENCE (3x5x2 grading)", "bold")]
        for report in message.reports:
            head = (
                f"{report.reference}  {report.submitted_at.astimezone(self.app.zone):%d/%m/%y}"
                f"  {report.grading_code}" + ("  SUPERSEDED" if report.superseded else "")
            )
            shown = record_content(head, style="dim" if report.superseded else "bold")
            lines.append(shown + Content("  ") + legacy_badge() if report.legacy else shown)
            if report.restricted:
                lines.append(record_content(f"   RESTRICTED — ask {report.ask or 'the owner'}"))
            elif report.preview:
                lines.append(Content("   ") + record_content(report.preview))
        if not message.reports:
            lines.append(Content("none linked"))
        self.query_one("#person-intelligence", Static).update(Content("\n").join(lines))

    @on(LoadFailed)
    def load_failed(self, message: LoadFailed) -> None:
        from controlroom.services.person_record import JustificationRequired

        message.stop()
        sentence = message.failure.sentence
        self.query_one("#person-identity", Static).update(record_content(sentence))
        if isinstance(message.failure.error, JustificationRequired):
            ask_justification(self, sentence, self._retry_with)

    def _retry_with(self, justification: str) -> None:
        self._justification = justification
        self.load()

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        record = self.record = message.record
        self.load_intelligence()
        born = record.date_of_birth.strftime("%d/%m/%Y") if record.date_of_birth else "DOB unknown"
        identity = [
            record_content(record.name, style="bold")
            + Content(f"  born {born}")
            + record_content(f"  {record.gender}" if record.gender else ""),
        ]
        if record.restricted:
            identity.append(
                Content.styled("RESTRICTED — viewed with a recorded justification", "bold reverse")
            )
        if record.merged_into is not None:
            merge = record.merged_into
            identity.append(
                record_content(
                    f"MERGED INTO {merge.survivor_name} (record {merge.survivor_id}) by "
                    f"{merge.merged_by or 'unknown'} on "
                    f"{merge.merged_at.astimezone(self.app.zone):%d/%m/%Y}: {merge.reason}",
                    style="bold reverse",
                )
            )
        if record.aliases:
            identity.append(
                Content("also known as: ")
                + Content("; ").join(record_content(alias) for alias in record.aliases)
            )
        self.query_one("#person-identity", Static).update(Content("\n").join(identity))

        lines = [Content.styled("MARKERS", "bold")]
        for marker in record.markers:
            status = "" if marker.current else " (EXPIRED)"
            # An expired marker keeps its place but loses the "!" of urgency.
            phrase = (
                marker_phrase(marker.label, marker.severity) if marker.current else marker.label
            )
            if not phrase.startswith("!"):
                phrase = " " + phrase  # aligned under the "!" of urgent ones
            lines.append(
                record_content(f"{phrase}{status}", style="bold" if marker.current else "dim")
            )
            when = f"   set {marker.set_at:%d/%m/%Y} by {marker.set_by or 'unknown'}"
            valid = f", valid {marker.valid_from:%d/%m/%Y}–" + (
                f"{marker.valid_to:%d/%m/%Y}" if marker.valid_to else ""
            )
            lines.append(record_content(when + valid))
            if marker.note:
                lines.append(Content("   ") + record_content(marker.note))
        if not record.markers:
            lines.append(Content("no markers"))
        self.query_one("#person-markers", Static).update(Content("\n").join(lines))

        lines = [Content.styled("ADDRESSES", "bold")]
        for address in record.addresses:
            lines.append(
                record_content(
                    f"{'current' if address.current else 'former '} {address.kind}: {address.text}"
                )
            )
        if not record.addresses:
            lines.append(Content("none recorded"))
        self.query_one("#person-addresses", Static).update(Content("\n").join(lines))

        table = self.query_one("#person-incidents", DataTable)
        table.clear()
        zone = self.app.zone
        for incident in record.incidents:
            table.add_row(
                Text(incident.reference),
                Text(incident.opened_at.astimezone(zone).strftime("%d/%m/%y")),
                record_text(incident.type_label),
                Text(incident.role),
                legacy_cell(True) if incident.legacy else Text(incident.status.replace("_", " ")),
                key=incident.reference,
            )
        if record.incidents and not isinstance(self.focused, DataTable):
            # Enter opens the highlighted incident straight away, without a Tab first.
            self.focus_now(table)
        lines = []
        if record.merged_records:
            lines.append(Content.styled("MERGED INTO THIS RECORD — u undoes the latest", "bold"))
            for merge in record.merged_records:
                lines.append(Content(" ") + record_content(_merge_line(merge, zone)))
        if record.possible_duplicates:
            lines.append(
                Content.styled("POSSIBLY THE SAME PERSON — m merges one into this record", "bold")
            )
            for other in record.possible_duplicates:
                lines.append(
                    record_content(
                        f" {other.name}  {_born(other.date_of_birth)}  (record {other.person_id})"
                    )
                )
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
            self.merge_record(record.id, None)  # refused and audited there
            return
        if record.merged_into is not None:
            self._merge_status(
                f"This record is merged into record "
                f"{record.merged_into.survivor_id}: merge into that one"
            )
            return
        if not record.possible_duplicates:
            self._merge_status("No possible duplicates are listed to merge into this record")
            return
        choices = [
            (
                other.person_id,
                f"{other.name}  {_born(other.date_of_birth)}  (record {other.person_id})",
            )
            for other in record.possible_duplicates
        ]

        def answered(answer: tuple[int | None, str] | None) -> None:
            if answer is not None and answer[0] is not None:
                self.merge_record(answer[0], answer[1])

        self.app.push_screen(
            PersonMergeDialog(
                "MERGE A DUPLICATE INTO THIS RECORD",
                f"{record.name} (record {record.id}) stays the record in use; the chosen "
                "record keeps all its history and can be unmerged later.",
                choices,
                f"Merge {{chosen}} into record {record.id}?",
            ),
            answered,
        )

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
            self.undo_merge(merge.merge_id, None)  # refused and audited there
            return

        def answered(answer: tuple[int | None, str] | None) -> None:
            if answer is not None:
                self.undo_merge(merge.merge_id, answer[1])

        self.app.push_screen(
            PersonMergeDialog(
                "UNDO A MERGE",
                _merge_line(merge, self.app.zone),
                [],
                f"Undo the merge of record {merge.merged_id} into record {merge.survivor_id}?",
            ),
            answered,
        )

    def merge_record(self, merged_id: int, reason: str | None) -> None:
        from controlroom.services import person_merge

        uow_factory, actor, person_id = self.app.uow_factory, self.app.actor, self.person_id

        def merge() -> str:
            info = person_merge.merge_persons(uow_factory(), actor, person_id, merged_id, reason)
            return f"Record {info.merged_id} ({info.merged_name}) merged into this record"

        self.run_service(
            merge,
            self.MergeChanged,
            doing="merge the records",
            group="person-merge",
            failed=self.MergeFailed,
        )

    def undo_merge(self, merge_id: int, reason: str | None) -> None:
        from controlroom.services import person_merge

        uow_factory, actor = self.app.uow_factory, self.app.actor

        def undo() -> str:
            info = person_merge.undo_merge(uow_factory(), actor, merge_id, reason)
            return (
                f"Merge undone: record {info.merged_id} ({info.merged_name}) is a "
                "record of its own again"
            )

        self.run_service(
            undo,
            self.MergeChanged,
            doing="undo the merge",
            group="person-merge",
            failed=self.MergeFailed,
        )

    @on(MergeChanged)
    def merge_changed(self, message: MergeChanged) -> None:
        self._merge_status(message.words)
        self.load()

    @on(MergeFailed)
    def merge_failed(self, message: MergeFailed) -> None:
        message.stop()
        self._merge_status(f"Not done: {message.failure.sentence}")

    @on(DataTable.RowSelected, "#person-incidents")
    def open_incident(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(IncidentChosen(event.row_key.value))
