"""What an operator does to an open incident, one dialog each: add a note, regrade,
change status, close, reassess THRIVE and the flags.

Every dialog saves with ctrl+s (or F10) and never with Enter: Enter moves to the next
field, and in a text area it starts a new line. The dialog calls the service itself, in
a thread worker, so it can stay open when the save does not go through:

- bad input is reported at its field (the service's `IncidentInputError.field`), and
  everything typed stays where it was;
- a conflict (another operator saved the incident since this dialog was opened, so the
  `version` it was opened against is stale) keeps the dialog open with the typing
  intact, says what the other save changed, and refreshes the view underneath to the
  current incident; the next ctrl+s applies the same entry to the current version.
  Notes carry no version: a note never conflicts.

Esc closes only the dialog. If anything has been typed it asks first ("Discard what
you typed?"); answering n, or Esc again, returns to the dialog with the typing kept.

Safeguarding (regrade and close): when the service refuses the change because a
safeguarding rule covers the incident, the dialog stays open with the typing, names each
rule and why it applies, and, for a supervisor, opens an "Override" reason field: the
next ctrl+s makes the change with that override (an empty reason is refused at the
field). Anyone else is told plainly that only a supervisor can override.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Static, TextArea

from controlroom.domain.availability import keeps_offline
from controlroom.domain.grades import DEFAULT_GRADES, parse_grade
from controlroom.domain.incidents import (
    TEXT_LIMIT,
    THRIVE_LABELS,
    THRIVE_PARTS,
    IncidentFlag,
    closure_problems,
)
from controlroom.domain.permissions import Action, may
from controlroom.domain.safeguarding import no_deployment_grades, override_reason_problem
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.seam import AppModal, CallFailed, FailureKind
from controlroom.widgets.flag_box import FlagBox
from controlroom.widgets.limited_text import LimitedTextArea
from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.record_text import record_content, record_value

if TYPE_CHECKING:
    from controlroom.domain.safeguarding import RuleBreach
    from controlroom.services.incidents import IncidentDetail, IncidentTypeOption, LogEntry

STATUS_KEYS = (("o", "open"), ("d", "dispatched"), ("a", "at_scene"))


def describe_changes(before, after) -> str:
    """What another operator's save changed between two `IncidentDetail`s, in words.

    "grade now G1 by Demo Dispatcher". The names come from the log entries the other
    save added; where it added none the save is simply "the other save".
    """
    changes: list[str] = []
    if after.grade != before.grade:
        changes.append(f"grade now {after.grade}")
    if after.status != before.status:
        changes.append(f"status now {after.status.replace('_', ' ')}")
    if (after.thrive != before.thrive) or (after.thrive_skipped != before.thrive_skipped):
        changes.append("THRIVE reassessed")
    flags_before = {f for f in IncidentFlag if getattr(before, f)}
    flags_after = {f for f in IncidentFlag if getattr(after, f)}
    if flags_before != flags_after:
        changes.append(
            "flags now " + (", ".join(f.label for f in IncidentFlag if f in flags_after) or "none")
        )
    if after.closing_type_code != before.closing_type_code and after.status != "closed":
        changes.append("closing type changed")
    known = {entry.id for entry in before.log}
    added = [entry for entry in after.log if entry.id not in known]
    notes = sum(1 for entry in added if entry.kind == "note")
    if notes:
        changes.append(f"{notes} new note{'s' if notes > 1 else ''}")
    if not changes:
        changes.append(f"saved as version {after.version}")
    authors = list(dict.fromkeys(entry.entered_by for entry in added if entry.entered_by))
    return ", ".join(changes) + " by " + (", ".join(authors) if authors else "the other save")


def conflict_message(before, after) -> str:
    return (
        f"Changed by another operator since you opened it: {describe_changes(before, after)}. "
        "Your entry is kept — ctrl+s applies it to the current version."
    )


class IncidentChangeDialog(AppModal["IncidentDetail | LogEntry | None"]):
    """The frame of every change dialog: save, cancel, messages at fields, conflicts.

    A subclass yields its fields from `compose_fields`, reads them back in `entry`, checks
    what it can without the database in `problems`, and calls its service in `apply_entry`
    (on the worker thread: it must not touch widgets). The dialog dismisses with the
    service's answer (an `IncidentDetail`, or a `LogEntry` for a note), or None when the
    operator cancels. `on_current` is told about the current incident after a conflict,
    so the view beneath can show it at once.
    """

    HEADING = ""
    DOING = "save the change"  # for the failure sentence: "Could not ..."
    HINT = "ctrl+s save · Esc cancel"
    FIELD_WIDGETS: dict[str, str] = {}  # service field name -> widget id to focus
    # True where the service applies the safeguarding rules (regrade, close): the dialog
    # then has the hidden rules panel and override reason field.
    GUARDED = False

    BINDINGS = [
        Binding("ctrl+s,f10", "save", "Save", id="change.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="change.cancel"),
    ]

    @dataclass
    class Applied(Message):
        """The service accepted the change: the changed incident, or a note's log entry."""

        result: IncidentDetail | LogEntry

    class ChangeFailed(CallFailed):
        """The change did not go through: a field, a conflict, a rule or a fault."""

    @dataclass
    class KeptOffline(Message):
        """The change is kept in this station's offline journal."""

        provisional_reference: str
        waiting: int

    class OfflineFailed(CallFailed):
        """Neither the database nor this station's disk took the change."""

    # The journal's kind for a change this dialog may keep offline (None: it may not).
    OFFLINE_KIND: str | None = None

    def __init__(
        self, detail: IncidentDetail, on_current: Callable[[IncidentDetail], None] | None = None
    ) -> None:
        super().__init__(classes="change-dialog")
        self.detail = detail
        self._on_current = on_current
        self._saving = False
        self._initial: dict[str, Any] | None = None
        # The change's idempotency key: sent with it, and kept with it offline, so a
        # retry or a replay makes it once.
        self.key = uuid.uuid4().hex
        self._offline_failed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="change-panel"):
            yield Static(
                Content(self.HEADING + " — ").stylize("bold")
                + record_content(self.detail.reference, style="bold"),
                classes="change-heading",
            )
            # Conflicts and dialog-wide errors sit at the top: always in view when they appear.
            yield Static("", id="dialog-conflict", classes="change-conflict", markup=False)
            yield Static("", id="dialog-error", classes="field-error", markup=False)
            if self.GUARDED:
                yield Static("", id="safeguarding-rules", classes="change-conflict", markup=False)
                with Horizontal(classes="change-row", id="override-row"):
                    yield Label("Override", classes="change-label")
                    yield Input(
                        placeholder="supervisor: why the rules are overridden",
                        id="override-reason",
                        max_length=2000,
                    )
                yield Static(
                    "", id="override_reason-error", classes="field-error -under-input", markup=False
                )
            yield from self.compose_fields()
            yield Static(self.HINT, classes="change-hint", markup=False)

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        # Textual calls every class's on_mount along the MRO (subclass first), so the
        # subclasses' own on_mount do not call this one.
        self._initial = self.entry()
        if self.GUARDED:
            self.query_one("#override-row").display = False

    def override_reason(self) -> str | None:
        """The override reason typed, or None while no override is being given."""
        if not self.GUARDED or not self.query_one("#override-row").display:
            return None
        return self.query_one("#override-reason", Input).value

    # --- what subclasses provide ---------------------------------------------------------

    def entry(self) -> dict[str, Any]:
        """What the operator has put in, read from the widgets (on the UI thread)."""
        return {}

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        """field -> message for what can be told without the database."""
        return {}

    def apply_entry(
        self,
        incidents,
        uow,
        actor,
        now,
        incident_id: int,
        expected_version: int,
        entry: dict[str, Any],
    ) -> Any:
        """Call the service (worker thread). Raise what the service raises."""
        raise NotImplementedError

    def current_changed(self) -> None:
        """The incident on show was replaced by the current one: refresh previews."""

    # --- save ------------------------------------------------------------------------------

    def is_dirty(self) -> bool:
        # An override reason being written counts too: Esc asks before dropping it.
        return (self._initial is not None and self.entry() != self._initial) or bool(
            (self.override_reason() or "").strip()
        )

    def action_save(self) -> None:
        if self._saving:
            return
        self.clear_errors()
        entry = self.entry()
        problems = self.problems(entry)
        override = self.override_reason()
        if override is not None:
            problem = override_reason_problem(override)
            if problem:
                problems["override_reason"] = problem
            entry["override_reason"] = override.strip()
        if problems:
            for field_name, message in problems.items():
                self.show_error(field_name, message)
            self.focus_field(next(iter(problems)))
            return
        self._saving = True
        entry["key"] = self.key
        if self._may_keep_offline() and keeps_offline(self.app.availability):
            self.keep_offline(entry)
            return
        self.save_change(self.detail.id, self.detail.version, entry)

    def _may_keep_offline(self) -> bool:
        return self.OFFLINE_KIND is not None and not self._offline_failed

    def offline_typed(self, entry: dict[str, Any]) -> dict[str, Any]:
        """What the journal keeps of the entry (JSON): the service's arguments."""
        return {name: value for name, value in entry.items() if name != "key"}

    def keep_offline(self, entry: dict[str, Any]) -> None:
        """The database is not answering: the change is kept on this station and sent
        by the journal's replay (with this dialog's key: once)."""
        assert self.OFFLINE_KIND is not None
        app = self.app
        record, clock, detail = app.record_offline_change, app.clock, self.detail
        kind, key, typed = self.OFFLINE_KIND, self.key, self.offline_typed(entry)
        self.run_service(
            lambda: record(kind, key, detail.reference, detail.id, detail.version, typed, clock()),
            lambda kept: self.KeptOffline(kept.provisional_reference, kept.waiting),
            doing="keep the change on this station",
            group="incident-change",
            failed=self.OfflineFailed,
        )

    @on(KeptOffline)
    def kept_offline(self, message: KeptOffline) -> None:
        message.stop()
        self._saving = False
        self.app.notify(
            f"OFFLINE — SAVED ON THIS STATION: {self.HEADING.lower()} on "
            f"{self.detail.reference} is kept as {message.provisional_reference} and goes to "
            f"the database by itself when it answers ({message.waiting} waiting).",
            title="Saved offline",
            severity="warning",
            markup=False,
            timeout=30,
        )
        self.dismiss(None)

    @on(OfflineFailed)
    def offline_failed(self, message: OfflineFailed) -> None:
        message.stop()
        self._saving = False
        self._offline_failed = True
        self._refused(
            None,
            f"NOT SAVED, not even on this station. {message.failure.sentence} "
            "Your entry is kept here.",
        )

    def save_change(self, incident_id: int, expected_version: int, entry: dict[str, Any]) -> None:
        from controlroom.services import incidents

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: self.apply_entry(
                incidents, uow_factory(), actor, clock(), incident_id, expected_version, entry
            ),
            self.Applied,
            doing=self.DOING,
            group="incident-change",
            failed=self.ChangeFailed,
        )

    @on(Applied)
    def applied(self, message: Applied) -> None:
        self._saving = False
        self.dismiss(message.result)

    @on(ChangeFailed)
    def change_failed(self, message: ChangeFailed) -> None:
        from controlroom.services.incidents import EditConflict, IncidentNotFound
        from controlroom.services.safeguarding import SafeguardingRefused

        message.stop()
        self._saving = False
        failure = message.failure
        error = failure.error
        if failure.kind is FailureKind.DATABASE and self._may_keep_offline():
            # The database did not answer: kept on this station (the same key: once,
            # even if this try got through).
            self._saving = True
            entry = self.entry()
            entry["key"] = self.key
            override = self.override_reason()
            if override is not None:
                entry["override_reason"] = override.strip()
            self.keep_offline(entry)
            return
        if isinstance(error, EditConflict):
            self.conflicted(error.current)
        elif isinstance(error, SafeguardingRefused):
            self.safeguarded(error.breaches)
        elif isinstance(error, IncidentNotFound):
            self._refused(
                None, f"{self.detail.reference} is no longer in the database. Your entry is kept."
            )
        elif failure.kind in (FailureKind.INPUT, FailureKind.REFUSED):
            self._refused(failure.field, failure.sentence)
        elif failure.kind is FailureKind.DECLINED:
            self._refused(None, failure.not_saved("Your entry is kept."))
        else:
            self._refused(None, failure.sentence)

    def _refused(self, field_name: str | None, message: str) -> None:
        self.show_error(field_name, message)
        self.focus_field(field_name)

    def safeguarded(self, breaches: tuple[RuleBreach, ...]) -> None:
        """Name the rules; a supervisor gets the override field, anyone else is told."""
        supervisor = may(self.app.actor.role, Action.OVERRIDE)
        lines = ["REFUSED BY SAFEGUARDING RULES:"]
        lines += [f"• {b.title}: {b.why}" for b in breaches]
        if supervisor:
            lines.append("As a supervisor you may override: write why below, then ctrl+s.")
        else:
            lines.append(
                "You cannot override these rules: only a supervisor can. Ask a "
                "supervisor to make this change. Your entry is kept."
            )
        rules = self.query_one("#safeguarding-rules", Static)
        rules.update(record_content("\n".join(lines), multiline=True))
        rules.add_class("-shown")
        self.query_one(".change-panel").scroll_home(animate=False)
        if supervisor:
            self.query_one("#override-row").display = True
            self.focus_now(self.query_one("#override-reason", Input))

    @on(Input.Changed, "#override-reason")
    def override_typed(self) -> None:
        self.clear_error("override_reason")

    def conflicted(self, current: IncidentDetail) -> None:
        before, self.detail = self.detail, current
        conflict = self.query_one("#dialog-conflict", Static)
        conflict.update(record_content(conflict_message(before, self.detail)))
        conflict.add_class("-shown")
        self.query_one(".change-panel").scroll_home(animate=False)
        self.current_changed()
        if self._on_current is not None:
            self._on_current(self.detail)

    # --- messages at the fields -----------------------------------------------------------

    def show_error(self, field_name: str | None, message: str) -> None:
        found = self.query(f"#{field_name}-error").results(Static) if field_name else iter(())
        widget = next(found, None) or self.query_one("#dialog-error", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")

    def clear_errors(self) -> None:
        for widget in self.query(".field-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")

    def clear_error(self, field_name: str) -> None:
        for widget in self.query(f"#{field_name}-error").results(Static):
            widget.update("")
            widget.remove_class("-shown")

    def focus_field(self, field_name: str | None) -> None:
        if field_name is None:
            return
        target = self.FIELD_WIDGETS.get(field_name, field_name)
        found = self.query(f"#{target}")
        if found:
            self.focus_now(found.first())

    # --- leaving ---------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.is_dirty():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen(
                "Discard what you typed?",
                "y throws it away and closes the dialog; n goes back to it with everything kept.",
            ),
            answered,
        )

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        # Enter never saves: it moves on, as in the entry form. ctrl+s saves.
        event.stop()
        self.focus_next()


def _field(label: str, widget, error_id: str | None = None) -> ComposeResult:
    with Horizontal(classes="change-row"):
        yield Label(label, classes="change-label")
        yield widget
    if error_id:
        yield Static("", id=f"{error_id}-error", classes="field-error -under-input", markup=False)


class NoteDialog(IncidentChangeDialog):
    """n: add a note to the log. Enter starts a new line; ctrl+s adds it. Never conflicts."""

    HEADING = "Add a note"
    DOING = "add the note"
    HINT = "Enter new line · ctrl+s add the note · Esc cancel"
    FIELD_WIDGETS = {"text": "note-text"}

    def compose_fields(self) -> ComposeResult:
        yield LimitedTextArea(
            id="note-text",
            soft_wrap=True,
            show_line_numbers=False,
            max_length=TEXT_LIMIT,
            field="text",
        )
        yield Static("", id="text-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#note-text"))

    def entry(self) -> dict[str, Any]:
        return {"text": self.query_one("#note-text", TextArea).text}

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        text = entry["text"]
        if not text.strip():
            return {"text": "the note is empty: write what happened, then ctrl+s"}
        if len(text) > TEXT_LIMIT:
            return {
                "text": f"the note is {len(text):,} characters; the limit is {TEXT_LIMIT:,}. "
                "Split it into two notes."
            }
        return {}

    OFFLINE_KIND = "incident.note"

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        return incidents.add_note(uow, actor, incident_id, entry["text"], now, key=entry.get("key"))


class RegradeDialog(IncidentChangeDialog):
    """g: change the grade. The reason is mandatory; the preview reads "G3 → G1"."""

    HEADING = "Change the grade"
    DOING = "change the grade"
    FIELD_WIDGETS = {
        "grade": "new-grade",
        "new_grade": "new-grade",
        "reason": "reason",
        "override_reason": "override-reason",
    }
    GUARDED = True

    def __init__(self, detail, on_current=None, *, grades: tuple = ()) -> None:
        super().__init__(detail, on_current)
        self.grades = grades
        self.grade_codes = tuple(g.code for g in grades)

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="grade-preview", classes="change-preview", markup=False)
        yield from _field(
            "New grade", Input(placeholder="G1-G4, or 1-4", id="new-grade", max_length=8)
        )
        yield Static("", id="grade-error", classes="field-error -under-input", markup=False)
        yield from _field(
            "Reason",
            Input(placeholder="why the grade changes (required)", id="reason", max_length=500),
            "reason",
        )
        yield Static("  ".join(g.label for g in self.grades), classes="change-hint", markup=False)

    def on_mount(self) -> None:
        self._show_preview()
        self.focus_now(self.query_one("#new-grade"))

    def entry(self) -> dict[str, Any]:
        return {
            "grade": self.query_one("#new-grade", Input).value,
            "reason": self.query_one("#reason", Input).value,
        }

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        problems: dict[str, str] = {}
        grade = parse_grade(entry["grade"], self.grade_codes)
        if grade is None:
            problems["grade"] = (
                "type the new grade: " + ", ".join(self.grade_codes)
                if not entry["grade"].strip()
                else f"not a grade here: use one of {', '.join(self.grade_codes)}"
            )
        elif grade == self.detail.grade:
            problems["grade"] = f"the incident is already {grade}"
        if not entry["reason"].strip():
            problems["reason"] = "a reason is required for every grade change"
        return problems

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        return incidents.change_grade(
            uow,
            actor,
            incident_id,
            parse_grade(entry["grade"], self.grade_codes),
            entry["reason"].strip(),
            expected_version,
            now,
            self.grade_codes,
            override_reason=entry.get("override_reason"),
            no_deployment_grades=no_deployment_grades(self.grades or DEFAULT_GRADES),
            key=entry.get("key"),
        )

    OFFLINE_KIND = "incident.regrade"

    def offline_typed(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "grade": parse_grade(entry["grade"], self.grade_codes),
            "reason": entry["reason"].strip(),
            "override_reason": entry.get("override_reason"),
        }

    @on(Input.Changed, "#new-grade")
    def grade_typed(self) -> None:
        self._show_preview()

    @on(Input.Changed)
    def typed(self, event: Input.Changed) -> None:
        field_name = {"new-grade": "grade", "reason": "reason"}.get(event.input.id or "")
        if field_name:
            self.clear_error(field_name)

    def current_changed(self) -> None:
        self._show_preview()

    def _show_preview(self) -> None:
        names = {g.code: g.name for g in self.grades}
        current = self.detail.grade
        new = parse_grade(self.query_one("#new-grade", Input).value, self.grade_codes)
        preview = Content("now ") + record_content(f"{current} {names.get(current, '')}".strip())
        if new:
            preview = record_content(f"{current} → {new}", style="bold") + Content(
                f"   {names.get(current, '')} → {names.get(new, '')}"
            )
        self.query_one("#grade-preview", Static).update(preview)


class StatusDialog(IncidentChangeDialog):
    """s: change the status, one key each: o open, d dispatched, a at scene.

    Closing is not a status change here: it needs a closing type and a result (x).
    """

    HEADING = "Change the status"
    DOING = "change the status"
    HINT = (
        "   ".join(f"{key} {status.replace('_', ' ')}" for key, status in STATUS_KEYS)
        + "   · ctrl+s again after a conflict · Esc cancel"
    )
    BINDINGS = [
        *(
            Binding(
                key,
                f"choose('{status}')",
                status.replace("_", " ").capitalize(),
                id=f"status.{status}",
            )
            for key, status in STATUS_KEYS
        ),
    ]

    def __init__(self, detail, on_current=None) -> None:
        super().__init__(detail, on_current)
        self.chosen: str | None = None

    def compose_fields(self) -> ComposeResult:
        yield Static("", id="status-now", classes="change-preview", markup=False)
        yield Static("", id="status-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self._show_now()

    def _show_now(self) -> None:
        self.query_one("#status-now", Static).update(
            record_content(
                f"now {self.detail.status.replace('_', ' ').upper()}"
                + (f" → {self.chosen.replace('_', ' ').upper()}" if self.chosen else "")
            )
        )

    def action_choose(self, status: str) -> None:
        self.chosen = status
        self._show_now()
        self.action_save()

    def entry(self) -> dict[str, Any]:
        return {"status": self.chosen}

    def is_dirty(self) -> bool:
        return False  # nothing is typed here: a key press is the whole entry

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        if entry["status"] is None:
            return {"status": "press o, d or a for the new status"}
        if entry["status"] == self.detail.status:
            return {"status": f"the incident is already {entry['status'].replace('_', ' ')}"}
        return {}

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        return incidents.change_status(
            uow, actor, incident_id, entry["status"], expected_version, now, key=entry.get("key")
        )

    OFFLINE_KIND = "incident.status"

    def offline_typed(self, entry: dict[str, Any]) -> dict[str, Any]:
        return {"status": entry["status"], "note": ""}

    def current_changed(self) -> None:
        self._show_now()


class CloseDialog(IncidentChangeDialog):
    """x: close the incident with a closing type and a result.

    The closing type is looked up as in the entry form (a few letters, Up/Down, Enter
    picks). A possible-crime incident also needs a crime reference or a written
    no-crime reason.
    """

    HEADING = "Close the incident"
    DOING = "close the incident"
    HINT = "Enter next field · ctrl+s close the incident · Esc cancel"
    FIELD_WIDGETS = {
        "closing_type_code": "closing-type",
        "result": "result",
        "crime_reference": "crime-reference",
        "no_crime_reason": "no-crime-reason",
        "override_reason": "override-reason",
    }
    GUARDED = True

    @dataclass
    class TypesLoaded(Message):
        """The incident types, which are also the closing types."""

        types: list[IncidentTypeOption]

    class TypesFailed(CallFailed):
        """The closing types could not be read: said at the closing-type field."""

    def __init__(
        self, detail: IncidentDetail, on_current: Callable[[IncidentDetail], None] | None = None
    ) -> None:
        super().__init__(detail, on_current)
        self.types: list[IncidentTypeOption] = []
        self.type_matches: list[IncidentTypeOption] = []
        self.closing_type_code: str | None = None

    def compose_fields(self) -> ComposeResult:
        yield Static(
            Content("opened as ") + record_content(self.detail.type_label), classes="change-preview"
        )
        yield from _field(
            "Closing",
            LookupInput(
                placeholder="type: a few letters, Enter picks", id="closing-type", max_length=80
            ),
        )
        yield MatchList(id="closing-type-matches")
        yield Static(
            "", id="closing_type_code-error", classes="field-error -under-input", markup=False
        )
        yield Label("Result", classes="change-label-wide")
        yield LimitedTextArea(
            id="result", soft_wrap=True, show_line_numbers=False, max_length=TEXT_LIMIT
        )
        yield Static("", id="result-error", classes="field-error", markup=False)
        if self.detail.possible_crime:
            yield Static(
                "POSSIBLE CRIME: a crime reference, or why no crime is recorded",
                classes="change-preview",
                markup=False,
            )
            yield from _field(
                "Crime ref",
                Input(placeholder="crime number", id="crime-reference", max_length=40),
                "crime_reference",
            )
            yield Label("No-crime reason (at least 10 characters)", classes="change-label-wide")
            yield LimitedTextArea(
                id="no-crime-reason",
                soft_wrap=True,
                show_line_numbers=False,
                max_length=TEXT_LIMIT,
                field="no_crime_reason",
            )
            yield Static("", id="no_crime_reason-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#closing-type"))
        self.load_types()

    def load_types(self) -> None:
        from controlroom.services import incidents

        uow_factory = self.app.uow_factory
        self.run_service(
            lambda: incidents.incident_types(uow_factory()),
            self.TypesLoaded,
            doing="read the closing types",
            group="closing-types",
            failed=self.TypesFailed,
        )

    @on(TypesFailed)
    def types_failed(self, message: TypesFailed) -> None:
        message.stop()
        self._refused("closing_type_code", message.failure.sentence)

    @on(TypesLoaded)
    def types_loaded(self, message: TypesLoaded) -> None:
        self.types = message.types
        text = self.query_one("#closing-type", Input).value
        if text and self.closing_type_code is None:
            self._show_matches(text)

    @on(Input.Changed, "#closing-type")
    def type_typed(self, event: Input.Changed) -> None:
        chosen = next((t for t in self.types if t.code == self.closing_type_code), None)
        if chosen is None or event.value != chosen.label:
            self.closing_type_code = None
        self.clear_error("closing_type_code")
        self._show_matches(event.value)

    @on(Input.Changed, "#crime-reference")
    def crime_reference_typed(self) -> None:
        self.clear_error("crime_reference")

    @on(TextArea.Changed)
    def text_typed(self, event: TextArea.Changed) -> None:
        self.clear_error(
            {"result": "result", "no-crime-reason": "no_crime_reason"}.get(
                event.text_area.id or "", ""
            )
        )
        if event.text_area.id == "no-crime-reason":
            self.clear_error("crime_reference")

    @on(LookupInput.Moved)
    def move_match(self, event: LookupInput.Moved) -> None:
        self.query_one("#closing-type-matches", MatchList).move(event.delta)

    @on(Input.Submitted, "#closing-type")
    def type_entered(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # not the dialog's plain "Enter moves on"
        if self._accept_match():
            self.focus_next()

    @on(Input.Blurred, "#closing-type")
    def type_left(self) -> None:
        self._accept_match()

    def _show_matches(self, text: str) -> None:
        words = text.lower().split()
        matches = self.query_one("#closing-type-matches", MatchList)
        if not words or self.closing_type_code:
            self.type_matches = []
            matches.hide()
            return
        self.type_matches = [
            t
            for t in self.types
            if all(w in f"{t.code} {t.label} {t.heading}".lower() for w in words)
        ][:5]
        matches.show([record_content(f"{t.label}  ({t.heading})") for t in self.type_matches])

    def _accept_match(self) -> bool:
        if self.closing_type_code:
            return True
        matches = self.query_one("#closing-type-matches", MatchList)
        if matches.option_count and matches.highlighted is not None:
            chosen = self.type_matches[matches.highlighted]
            self.closing_type_code = chosen.code
            with self.prevent(Input.Changed):
                self.query_one("#closing-type", Input).value = record_value(chosen.label)
            matches.hide()
            self.clear_error("closing_type_code")
            return True
        if self.query_one("#closing-type", Input).value.strip():
            self.show_error(
                "closing_type_code",
                "no incident type matches that: type a few "
                "letters, e.g. dom, advice, ctrl+s when picked",
            )
            return False
        return True

    def entry(self) -> dict[str, Any]:
        entry = {
            "closing_type_text": self.query_one("#closing-type", Input).value,
            "closing_type_code": self.closing_type_code,
            "result": self.query_one("#result", TextArea).text,
            "crime_reference": None,
            "no_crime_reason": None,
        }
        if self.detail.possible_crime:
            entry["crime_reference"] = self.query_one("#crime-reference", Input).value
            entry["no_crime_reason"] = self.query_one("#no-crime-reason", TextArea).text
        return entry

    def action_save(self) -> None:
        self._accept_match()
        super().action_save()

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        problems = closure_problems(
            closing_type_code=entry["closing_type_code"],
            result=entry["result"],
            possible_crime=self.detail.possible_crime,
            crime_reference=entry["crime_reference"],
            no_crime_reason=entry["no_crime_reason"],
        )
        if "closing_type_code" in problems and entry["closing_type_text"].strip():
            problems["closing_type_code"] = (
                "no incident type matches that: type a few letters "
                "and press Enter on the one you mean"
            )
        return problems

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        return incidents.close_incident(
            uow,
            actor,
            incident_id,
            expected_version,
            now,
            closing_type_code=entry["closing_type_code"],
            result=entry["result"].strip(),
            crime_reference=(entry["crime_reference"] or "").strip() or None,
            no_crime_reason=(entry["no_crime_reason"] or "").strip() or None,
            override_reason=entry.get("override_reason"),
        )


class ReassessDialog(IncidentChangeDialog):
    """a: re-do THRIVE (six short fields, or skipped explicitly) and the four flags."""

    HEADING = "Reassess THRIVE and flags"
    DOING = "save the reassessment"
    HINT = "Enter/Tab next field · space ticks · ctrl+s save · Esc cancel"
    FIELD_WIDGETS = {"thrive": "thrive-threat", "thrive_skipped": "thrive-skip"}

    def compose_fields(self) -> ComposeResult:
        thrive = self.detail.thrive or {}
        for part in THRIVE_PARTS:
            # The cursor goes to the end of what was assessed before: typing adds to it
            # rather than replacing it unseen.
            yield from _field(
                THRIVE_LABELS[part],
                Input(
                    value=record_value(thrive.get(part) or ""),
                    id=f"thrive-{part}",
                    max_length=500,
                    select_on_focus=False,
                ),
            )
        yield FlagBox("Skip THRIVE: not assessed", self.detail.thrive_skipped, id="thrive-skip")
        yield Static("", id="thrive-error", classes="field-error", markup=False)
        with Horizontal(classes="change-flags"):
            for flag in tuple(IncidentFlag)[:2]:
                yield FlagBox(
                    flag.label.capitalize(), getattr(self.detail, flag), id=f"flag-{flag}"
                )
        with Horizontal(classes="change-flags"):
            for flag in tuple(IncidentFlag)[2:]:
                yield FlagBox(
                    flag.label.capitalize(), getattr(self.detail, flag), id=f"flag-{flag}"
                )

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#thrive-threat"))

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            f"thrive-{part}": self.query_one(f"#thrive-{part}", Input).value
            for part in THRIVE_PARTS
        }
        entry["thrive_skipped"] = self.query_one("#thrive-skip", FlagBox).value
        for flag in IncidentFlag:
            entry[flag.value] = self.query_one(f"#flag-{flag}", FlagBox).value
        return entry

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        filled = any(entry[f"thrive-{part}"].strip() for part in THRIVE_PARTS)
        if not filled and not entry["thrive_skipped"]:
            return {"thrive": "THRIVE is empty: fill it in, or tick Skip so it reads NOT ASSESSED"}
        return {}

    @on(Input.Changed)
    def thrive_typed(self, event: Input.Changed) -> None:
        # Typing an assessment means it is no longer skipped; left ticked, Skip would
        # throw the typing away on save.
        if event.input.has_focus and event.value.strip():
            self.query_one("#thrive-skip", FlagBox).value = False
        self._clear_thrive_error()

    @on(FlagBox.Changed, "#thrive-skip")
    def skip_toggled(self) -> None:
        self._clear_thrive_error()

    def _clear_thrive_error(self) -> None:
        self.clear_error("thrive")

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        skipped = entry["thrive_skipped"]
        values = {part: entry[f"thrive-{part}"].strip() or None for part in THRIVE_PARTS}
        thrive = None if skipped or not any(values.values()) else values
        return incidents.update_assessment(
            uow,
            actor,
            incident_id,
            expected_version,
            now,
            thrive=thrive,
            thrive_skipped=skipped,
            **{flag.value: entry[flag.value] for flag in IncidentFlag},
        )


class SignOffDialog(IncidentChangeDialog):
    """v: a supervisor signs off a no-crime closure (ctrl+s), or returns it (ctrl+o):
    the incident opens again and the reason, required then, is logged (NCRS)."""

    HEADING = "Sign off the no-crime closure"
    DOING = "record the sign-off"
    HINT = "ctrl+s sign off · ctrl+o return it open (reason needed) · Esc cancel"
    FIELD_WIDGETS = {"reason": "signoff-reason"}
    BINDINGS = [
        Binding("ctrl+o", "return_open", "Return open", id="signoff.return", priority=True),
    ]

    def __init__(self, detail, on_current=None) -> None:
        super().__init__(detail, on_current)
        self.approve = True

    def compose_fields(self) -> ComposeResult:
        yield Static(
            Content("No crime recorded: ").stylize("bold")
            + record_content(self.detail.no_crime_reason or "", multiline=True),
            classes="change-preview",
        )
        yield Static(
            Content("Result: ").stylize("bold")
            + record_content(self.detail.result or "", multiline=True),
            classes="change-preview",
        )
        yield from _field(
            "Reason",
            Input(
                placeholder="a note; needed to return it open", id="signoff-reason", max_length=500
            ),
            "reason",
        )

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#signoff-reason"))

    def entry(self) -> dict[str, Any]:
        return {"reason": self.query_one("#signoff-reason", Input).value}

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        if not self.approve and not entry["reason"].strip():
            return {"reason": "write why the closure is returned, then ctrl+o"}
        return {}

    def action_save(self) -> None:
        self.approve = True
        super().action_save()

    def action_return_open(self) -> None:
        self.approve = False
        super().action_save()

    def apply_entry(self, incidents, uow, actor, now, incident_id, expected_version, entry):
        return incidents.sign_off_closure(
            uow,
            actor,
            incident_id,
            expected_version,
            now,
            approve=entry["approve"],
            reason=entry["reason"],
        )

    def save_change(self, incident_id: int, expected_version: int, entry: dict[str, Any]):
        entry["approve"] = self.approve
        return super().save_change(incident_id, expected_version, entry)
