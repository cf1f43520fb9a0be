"""Submitting an intelligence report, graded 3x5x2 — new, or superseding an old one.

Fields in order: source (1 reliable, 2 untested, 3 not reliable), intelligence (A–E),
handling (P, or C with its conditions written out), the text, the subjects (a person or
a location, found by name or address as it is typed, or a person's record number; Enter
adds the highlighted match, alt+x removes the last), and whether the report is
restricted. Each code field says its meaning in words as it is typed.

`ctrl+s` / `F10` saves in a worker; a refusal is shown at its field and nothing typed is
lost. Saving opens the new report in place of the form. Esc asks before discarding
anything typed. A superseding form starts filled in from the old report and saves a new
report that links back to it; the old one is never changed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, Static, TextArea

from controlroom.domain.incidents import TEXT_LIMIT
from controlroom.messages import ReportSaved
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.flag_box import FlagBox
from controlroom.widgets.limited_text import LimitedTextArea
from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.record_text import record_content, record_value

if TYPE_CHECKING:
    from controlroom.services.intelligence import IntelReport

LOOKUP_DELAY_SECONDS = 0.25
# Where the service's field names are typed (the error Statics use the service's names).
FIELD_WIDGETS = {
    "source": "source",
    "intelligence": "intelligence",
    "handling": "handling",
    "conditions": "conditions",
    "text": "text",
    "subjects": "subject-query",
    "restricted": "restricted",
}


@dataclass
class SubmitState:
    """What the operator has put into the form (or what a superseding form starts from)."""

    source: str = ""
    intelligence: str = ""
    handling: str = ""
    conditions: str = ""
    text: str = ""
    subjects: list[dict[str, Any]] = field(default_factory=list)  # {kind, id, label}
    restricted: bool = False
    supersedes_id: int | None = None
    supersedes_reference: str | None = None

    def typed(self) -> bool:
        """Anything worth asking about before it is thrown away."""
        return any(
            (
                self.source,
                self.intelligence,
                self.handling,
                self.conditions.strip(),
                self.text.strip(),
                self.subjects,
            )
        )


class IntelligenceSubmit(FramedScreen):
    """The submit form. See the module docstring for what it guarantees."""

    TITLE = "Submit intelligence"

    lookup_delay: float = LOOKUP_DELAY_SECONDS
    """Seconds of quiet typing before the subject lookup runs (tests set 0)."""

    # Priority: ctrl+s must save from inside the TextArea, and alt+x must not type "x".
    BINDINGS = [
        Binding("ctrl+s,f10", "save", "Save", id="intel_submit.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="intel_submit.cancel"),
        Binding(
            "alt+x",
            "remove_subject",
            "Remove last subject",
            id="intel_submit.remove_subject",
            priority=True,
        ),
    ]

    @dataclass
    class Looked(Message):
        """Subject matches for `line`: persons first, then locations."""

        line: str
        matches: list[dict[str, Any]]

    class LookupFailed(CallFailed):
        """The subject lookup gave no answer: said at the subjects."""

    class SaveFailed(CallFailed):
        """The report was not saved: said at its field, or at the top of the form."""

    def __init__(self, state: SubmitState | None = None) -> None:
        super().__init__()
        self.state = state or SubmitState()
        self._start = copy.deepcopy(self.state)
        self.matches: list[dict[str, Any]] = []
        self._timer: Timer | None = None
        self._saving = False

    @classmethod
    def superseding(cls, report: IntelReport) -> IntelligenceSubmit:
        """A form filled in from `report` (an `IntelReport`) that saves its replacement."""
        subjects = [
            {"kind": "person", "id": s.person_id, "label": s.label}
            if s.person_id is not None
            else {"kind": "location", "id": s.location_id, "label": s.label}
            for s in report.subjects
        ]
        return cls(
            SubmitState(
                source=report.source_grade,
                intelligence=report.intelligence_grade,
                handling=report.handling_code,
                # What the form shows is what it saves: stored text through the door.
                conditions=record_value(report.handling_conditions or ""),
                text=record_value(report.text, multiline=True),
                subjects=subjects,
                restricted=report.restricted,
                supersedes_id=report.id,
                supersedes_reference=report.reference,
            )
        )

    # --- layout ------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        s = self.state
        with VerticalScroll(id="intel-form"):
            if s.supersedes_reference:
                yield Static(
                    record_content(
                        f"Supersedes {s.supersedes_reference}: saving "
                        "makes a new report; the old one stays as it was."
                    ),
                    id="intel-form-supersedes",
                )
            yield Static("", id="form-error", classes="field-error")
            for name, label, hint in (
                ("source", "Source", "1 reliable · 2 untested · 3 not reliable"),
                ("intelligence", "Intel", "A–E (A known directly … E suspected false)"),
                ("handling", "Handling", "P sharing permitted · C with conditions"),
            ):
                with Horizontal(classes="row"):
                    yield Label(label, classes="field-label")
                    yield Input(id=name, max_length=1, classes="code")
                    yield Static(hint, id=f"{name}-words", classes="field-hint", markup=False)
                yield Static("", id=f"{name}-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Conditions", classes="field-label")
                yield Input(
                    id="conditions",
                    max_length=2000,
                    placeholder="required for handling C: who may receive it, how",
                )
            yield Static("", id="conditions-error", classes="field-error")
            yield Label("Text", classes="field-label")
            yield LimitedTextArea(
                id="text", soft_wrap=True, show_line_numbers=False, max_length=TEXT_LIMIT
            )
            yield Static("", id="text-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("Subject", classes="field-label")
                yield LookupInput(
                    id="subject-query",
                    max_length=120,
                    placeholder="name, address or person number; Enter adds",
                )
            yield MatchList(id="subject-matches")
            yield Static("", id="subjects-list", classes="field-hint")
            yield Static("", id="subjects-error", classes="field-error")
            with Horizontal(classes="row"):
                yield Label("", classes="field-label")
                yield FlagBox("Restricted: shown only with a justification", id="restricted")
            yield Static("", id="restricted-error", classes="field-error")
            yield Static(
                "ctrl+s / F10 saves · Esc cancels · alt+x removes the last subject",
                classes="field-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        s = self.state
        with self.prevent(Input.Changed, TextArea.Changed, FlagBox.Changed):
            for name in ("source", "intelligence", "handling", "conditions"):
                self.query_one(f"#{name}", Input).value = record_value(getattr(s, name))
            self.query_one("#text", TextArea).text = record_value(s.text, multiline=True)
            self.query_one("#restricted", FlagBox).value = s.restricted
        for name in ("source", "intelligence", "handling"):
            self._show_words(name)
        self._show_subjects()
        self.focus_now(self.query_one("#source", Input))

    # --- reading the widgets back into the state ---------------------------------------

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        name = event.input.id or ""
        if name in ("source", "intelligence", "handling", "conditions"):
            value = event.value.upper() if name != "conditions" else event.value
            setattr(self.state, name, value)
            self._clear_error(name)
            if name != "conditions":
                self._show_words(name)
        elif name == "subject-query":
            self._clear_error("subjects")
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            if self.lookup_delay <= 0:
                self.lookup_subjects(event.value)
            else:
                line = event.value
                self._timer = self.set_timer(self.lookup_delay, lambda: self.lookup_subjects(line))

    @on(TextArea.Changed, "#text")
    def text_changed(self, event: TextArea.Changed) -> None:
        self.state.text = event.text_area.text
        self._clear_error("text")

    @on(FlagBox.Changed, "#restricted")
    def restricted_changed(self, event: FlagBox.Changed) -> None:
        self.state.restricted = event.value

    def _show_words(self, name: str) -> None:
        from controlroom.services.intelligence import (
            HANDLING_WORDS,
            INTELLIGENCE_WORDS,
            SOURCE_WORDS,
        )

        words = {
            "source": SOURCE_WORDS,
            "intelligence": INTELLIGENCE_WORDS,
            "handling": HANDLING_WORDS,
        }[name]
        code = getattr(self.state, name)
        if not code:
            return
        meaning = words.get(code)
        self.query_one(f"#{name}-words", Static).update(
            f"{code}: {meaning}" if meaning else f"{code}: not a code — {', '.join(words)}"
        )

    # --- subjects ----------------------------------------------------------------------

    def lookup_subjects(self, line: str) -> None:
        from controlroom.services import locations, person_search

        text = line.strip()
        if len(text) < 2 or text.lstrip("#").isdigit():
            self.post_message(self.Looked(line, []))
            return
        app = self.app
        uow_factory, actor, clock, zone = app.uow_factory, app.actor, app.clock, app.zone

        def look() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            for hit in person_search.search_persons(
                uow_factory(), actor, text, today=clock().astimezone(zone).date(), limit=5
            ):
                label = (
                    "restricted person"
                    if hit.restricted
                    else f"{hit.forename} {hit.surname.upper()}"
                )
                born = (
                    f" {hit.date_of_birth:%d/%m/%Y}"
                    if hit.date_of_birth and not hit.restricted
                    else ""
                )
                found.append(
                    {
                        "kind": "person",
                        "id": hit.person_id,
                        "label": label,
                        "shown": f"person {hit.person_id}: {label}{born}",
                    }
                )
            if len(text) >= 3:
                for place in locations.match_locations(uow_factory(), text, limit=3):
                    found.append(
                        {
                            "kind": "location",
                            "id": place.id,
                            "label": place.label,
                            "shown": f"location {place.id}: {place.label}",
                        }
                    )
            return found

        self.run_service(
            look,
            lambda found: self.Looked(line, found),
            doing="look up the subject",
            group="intel-subjects",
            failed=self.LookupFailed,
        )

    @on(LookupFailed)
    def lookup_failed(self, message: LookupFailed) -> None:
        message.stop()
        self._show_error("subjects", message.failure.sentence)

    @on(Looked)
    def looked(self, message: Looked) -> None:
        if message.line != self.query_one("#subject-query", Input).value:
            return  # a stale answer to an older query
        self.matches = list(message.matches)
        self.query_one("#subject-matches", MatchList).show(
            [record_content(m["shown"]) for m in self.matches]
        )

    @on(LookupInput.Moved, "#subject-query")
    def move_match(self, event: LookupInput.Moved) -> None:
        self.query_one("#subject-matches", MatchList).move(event.delta)

    @on(Input.Submitted)
    def enter_pressed(self, event: Input.Submitted) -> None:
        if event.input.id != "subject-query":
            self.focus_next()
            return
        line = event.value.strip()
        matches = self.query_one("#subject-matches", MatchList)
        if line.lstrip("#").isdigit():
            number = int(line.lstrip("#"))
            chosen = {"kind": "person", "id": number, "label": f"person record {number}"}
        elif matches.option_count and matches.highlighted is not None:
            chosen = self.matches[matches.highlighted]
        else:
            self._show_error(
                "subjects",
                "No subject chosen: type a name, an address or a "
                "person's record number, then Enter.",
            )
            return
        if not any(
            s["kind"] == chosen["kind"] and s["id"] == chosen["id"] for s in self.state.subjects
        ):
            self.state.subjects.append(
                {"kind": chosen["kind"], "id": chosen["id"], "label": chosen["label"]}
            )
        with self.prevent(Input.Changed):
            event.input.value = ""
        self.matches = []
        matches.hide()
        self._clear_error("subjects")
        self._show_subjects()

    def action_remove_subject(self) -> None:
        if self.state.subjects:
            self.state.subjects.pop()
            self._show_subjects()

    def _show_subjects(self) -> None:
        subjects = self.state.subjects
        self.query_one("#subjects-list", Static).update(
            Content("\n").join(
                record_content(f"named: {s['kind']} {s['id']}: {s['label']}") for s in subjects
            )
            if subjects
            else Content("no subjects yet: a report names at least one")
        )

    # --- save and cancel ---------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving:
            return
        for name in ("form", *FIELD_WIDGETS):
            self._clear_error(name)
        self._saving = True
        s = self.state
        self.save_report(
            dict(
                source=s.source,
                intelligence=s.intelligence,
                handling=s.handling,
                conditions=s.conditions,
                text=s.text,
                person_ids=tuple(x["id"] for x in s.subjects if x["kind"] == "person"),
                location_ids=tuple(x["id"] for x in s.subjects if x["kind"] == "location"),
                restricted=s.restricted,
                supersedes_id=s.supersedes_id,
            )
        )

    def save_report(self, values: dict[str, Any]) -> None:
        from controlroom.services import intelligence

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: intelligence.submit_report(uow_factory(), actor, now=clock(), **values),
            # The App opens the new report in place of this form.
            lambda summary: ReportSaved(summary.id),
            doing="save the report",
            group="intel-save",
            failed=self.SaveFailed,
        )

    @on(SaveFailed)
    def save_failed(self, message: SaveFailed) -> None:
        message.stop()
        self._saving = False
        failure = message.failure
        self._show_error(failure.field or "form", failure.save_words())
        widget_id = FIELD_WIDGETS.get(failure.field or "")
        if widget_id:
            self.focus_now(self.query_one(f"#{widget_id}"))

    def action_cancel(self) -> None:
        if not self.state.typed() or not self._changed():  # nothing of the operator's to lose
            self.dismiss()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss()

        self.app.push_screen(
            ConfirmScreen("Discard this report?", "Everything typed in this form will be lost."),
            answered,
        )

    def _changed(self) -> bool:
        """A superseding form differs from what it started with."""
        return self.state != self._start

    # --- messages at the fields --------------------------------------------------------

    def _show_error(self, name: str, message: str) -> None:
        found = self.query(f"#{name}-error").results(Static)
        widget = next(found, None) or self.query_one("#form-error", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")

    def _clear_error(self, name: str) -> None:
        for widget in self.query(f"#{name}-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")
