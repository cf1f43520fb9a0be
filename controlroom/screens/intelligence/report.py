"""One intelligence report, read in full.

Its reference and 3x5x2 grading (code and words); for handling C the conditions come
BEFORE the text, so nobody reads the text without having read how it may be shared;
then the text, the subjects, who submitted it and when, and the reports it supersedes
or is superseded by. An old system's report says LEGACY (read-only: `s` says so instead
of opening the form). Reports are never edited: `s` opens the submit form filled in from
this one, and saving it makes a new report that links back. A restricted report asks
for a justification first (the same dialog as a restricted person record); what is
typed goes into the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from controlroom.domain.legacy import read_only_message
from controlroom.screens.frame import FramedScreen
from controlroom.screens.justification import ask_justification
from controlroom.screens.seam import CallFailed
from controlroom.widgets.legacy_badge import legacy_badge
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.intelligence import IntelReport


class IntelligenceReportScreen(FramedScreen):
    """A report by id. `s` supersedes it, `r` reads it again."""

    TITLE = "Intelligence report"

    BINDINGS = [
        Binding("s", "supersede", "Supersede", id="intel_report.supersede"),
        Binding("r,ctrl+r", "reload", "Reload", id="intel_report.reload"),
        Binding(
            "w",
            "who_looked",
            "Who looked",
            id="intel_report.who_looked",
            tooltip="Who read this report (supervisors)",
        ),
    ]

    @dataclass
    class Loaded(Message):
        """The report as it stands (the read is audited)."""

        report: IntelReport

    class LoadFailed(CallFailed):
        """The report could not be opened (a justification may be needed first)."""

    def __init__(self, report_id: int) -> None:
        super().__init__()
        self.report_id = report_id
        self.report: IntelReport | None = None
        self._justification: str | None = None
        self._superseding = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="intel-report"):
            yield Static("Reading the report…", id="intel-report-title", markup=False)
            yield Static("", id="intel-report-message", classes="field-error", markup=False)
            yield Static(id="intel-report-grading")
            yield Static(id="intel-report-conditions")
            yield Static(id="intel-report-text")
            yield Static(id="intel-report-subjects")
            yield Static(id="intel-report-history")

    def on_mount(self) -> None:
        self.load()

    def on_screen_resume(self) -> None:
        # Back from the supersede form: read it again (audited as another view) so it
        # shows what superseded it. Closing help or a dialog does not re-read it.
        if self._superseding:
            self._superseding = False
            self.load()

    def action_who_looked(self) -> None:
        from controlroom.screens.audit_trail import AuditTrailScreen

        heading = self.report.reference if self.report is not None else f"report {self.report_id}"
        self.app.push_screen(AuditTrailScreen("intelligence", self.report_id, heading))

    def action_reload(self) -> None:
        self.load()

    def load(self) -> None:
        from controlroom.services import intelligence

        uow_factory, actor, report_id = self.app.uow_factory, self.app.actor, self.report_id
        justification = self._justification
        self.run_service(
            lambda: intelligence.view_report(
                uow_factory(), actor, report_id, justification=justification
            ),
            self.Loaded,
            doing="open the report",
            group="intel-report",
            failed=self.LoadFailed,
        )

    @on(LoadFailed)
    def load_failed(self, message: LoadFailed) -> None:
        from controlroom.services.intelligence import JustificationRequired

        message.stop()
        sentence = message.failure.sentence
        self.query_one("#intel-report-title", Static).update(record_content(sentence))
        if isinstance(message.failure.error, JustificationRequired):
            ask_justification(self, sentence, self._retry_with)

    def _retry_with(self, justification: str) -> None:
        self._justification = justification
        self.load()

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        from controlroom.services.intelligence import (
            HANDLING_WORDS,
            INTELLIGENCE_WORDS,
            NO_CONDITIONS,
            SOURCE_WORDS,
        )

        report = self.report = message.report
        zone = self.app.zone
        title = Content.styled(f"{report.reference}  {report.grading_code}", "bold")
        if report.legacy:
            title += Content("  ") + legacy_badge() + Content(" read-only, from the old system")
        if report.superseded:
            title += Content.styled("  SUPERSEDED", "bold reverse")
        if report.restricted:
            title += Content.styled(
                "  RESTRICTED — viewed with a recorded justification", "bold reverse"
            )
        self.query_one("#intel-report-title", Static).update(title)

        grading = [
            Content(
                f"Source {report.source_grade}: "
                f"{SOURCE_WORDS.get(report.source_grade, '?')} · "
                f"Intelligence {report.intelligence_grade}: "
                f"{INTELLIGENCE_WORDS.get(report.intelligence_grade, '?')}"
            ),
        ]
        if report.handling_code != "C":
            grading.append(
                Content(
                    f"Handling {report.handling_code}: "
                    f"{HANDLING_WORDS.get(report.handling_code, '?')}"
                )
            )
        self.query_one("#intel-report-grading", Static).update(Content("\n").join(grading))

        conditions = self.query_one("#intel-report-conditions", Static)
        if report.handling_code == "C":
            conditions.update(
                Content.styled(f"HANDLING C — {HANDLING_WORDS['C']}: ", "bold")
                + record_content(report.handling_conditions or NO_CONDITIONS, multiline=True)
            )
            conditions.add_class("-conditions")
        else:
            conditions.update("")
            conditions.remove_class("-conditions")

        self.query_one("#intel-report-text", Static).update(
            Content.styled("TEXT", "bold")
            + Content("\n")
            + record_content(report.text, multiline=True)
        )

        subjects = [Content.styled("SUBJECTS", "bold")]
        for subject in report.subjects:
            kind = "person" if subject.person_id is not None else "location"
            number = subject.person_id if subject.person_id is not None else subject.location_id
            subjects.append(Content(f" {kind} {number}: ") + record_content(subject.label))
        if not report.subjects:
            subjects.append(Content(" none recorded"))
        self.query_one("#intel-report-subjects", Static).update(Content("\n").join(subjects))

        by = report.submitted_by or "unknown"
        if report.submitted_by_station:
            by = f"{by} ({report.submitted_by_station})"
        when = f"{report.submitted_at.astimezone(zone):%d/%m/%Y %H:%M}"
        history = [
            # An old system's report names its importer, not an officer of ours.
            Content("Recorded ") + record_content(f"{when} in the old system (imported by {by})")
            if report.legacy
            else Content("Submitted ") + record_content(f"{when} by {by}")
        ]
        if report.supersedes_reference:
            history.append(Content(f"Supersedes {report.supersedes_reference}"))
        if report.superseded_by_reference:
            history.append(
                Content.styled(
                    f"Superseded by {report.superseded_by_reference}: read that one", "bold"
                )
            )
        self.query_one("#intel-report-history", Static).update(Content("\n").join(history))
        self._say("")

    def _say(self, text: str) -> None:
        message = self.query_one("#intel-report-message", Static)
        message.update(record_content(text))
        message.set_class(bool(text), "-shown")

    def action_supersede(self) -> None:
        from controlroom.screens.intelligence.submit import IntelligenceSubmit

        report = self.report
        if report is None:
            return
        if report.legacy:  # the service refuses too
            self._say(read_only_message("intelligence report", report.reference))
            return
        if report.superseded:
            self._say(
                f"{report.reference} is already superseded by "
                f"{report.superseded_by_reference}: supersede that one instead."
            )
            return
        self._superseding = True
        self.app.push_screen(IntelligenceSubmit.superseding(report))
