"""e on an incident: reclassify one of its crimes, or ask for (and, a supervisor, decide)
its cancellation.

The crime is named by its reference (the first live one is filled in). ctrl+s
reclassifies it to the offence picked, with the reason (required; the old and new codes
are kept). ctrl+d asks for its cancellation with the reason; a supervisor then cancels
it (ctrl+y) or keeps it recorded (ctrl+o, the reason field saying why). Esc cancels.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static, TextArea

from controlroom.domain import crime as rules
from controlroom.screens.crime.outcome import CrimeDialog
from controlroom.screens.crime.record import OffenceKeysHeld
from controlroom.widgets.limited_text import LimitedTextArea
from controlroom.widgets.offence_picker import OffencePicker
from controlroom.widgets.record_text import record_content

RECLASSIFY, ASK_CANCEL, CANCEL, KEEP = "reclassify", "ask_cancel", "cancel", "keep"


class CrimeChangeDialog(CrimeDialog, OffenceKeysHeld):
    """Reclassify a crime, or ask for / decide its cancellation."""

    HEADING = "Reclassify or cancel a crime"
    DOING = "change the crime"
    HINT = "ctrl+s reclassify · ctrl+d ask to cancel · supervisor: ctrl+y cancel, ctrl+o keep"
    FIELD_WIDGETS = {"crime": "crime-ref", "offence_code": "offence", "reason": "reason"}
    BINDINGS = [
        Binding("ctrl+d", "ask_cancel", "Ask to cancel", id="crime_change.ask", priority=True),
        Binding("ctrl+y", "cancel_crime", "Cancel crime", id="crime_change.cancel", priority=True),
        Binding("ctrl+o", "keep_crime", "Keep recorded", id="crime_change.keep", priority=True),
    ]

    def __init__(self, detail, crimes, on_current=None) -> None:
        super().__init__(detail, crimes, on_current)
        self.doing = RECLASSIFY

    def compose_fields(self) -> ComposeResult:
        yield from self.crime_field()
        asked = [c for c in self.crimes.crimes if c.state == "cancellation_requested"]
        for crime in asked:
            yield Static(
                record_content(f"{crime.reference} cancellation asked: {crime.cancel_reason}"),
                classes="change-preview",
            )
        yield OffencePicker("New offence", id="offence-picker")
        yield Label("Reason (why reclassified, cancelled or kept)", classes="change-label-wide")
        yield LimitedTextArea(
            id="reason",
            soft_wrap=True,
            show_line_numbers=False,
            max_length=rules.REASON_LIMIT,
            field="reason",
        )
        yield Static("", id="reason-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self.focus_now("#offence")

    def entry(self) -> dict[str, Any]:
        return {
            "crime": self.query_one("#crime-ref").value,  # type: ignore[attr-defined]
            "offence_text": self.picker.text,
            "offence_code": self.picker.code,
            "reason": self.query_one("#reason", TextArea).text,
            "doing": self.doing,
        }

    def is_dirty(self) -> bool:
        entry = self.entry()
        return bool(entry["offence_text"].strip() or entry["reason"].strip())

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        problems = self.crime_problem()
        if problems:
            return problems
        doing, reason = entry["doing"], entry["reason"]
        if doing == RECLASSIFY:
            if not entry["offence_code"]:
                problems["offence_code"] = "pick the new offence: a code (8N) or words"
            problem = rules.reason_problem(reason, "crime is reclassified")
        elif doing == ASK_CANCEL:
            problem = rules.reason_problem(reason, "crime should be cancelled")
        elif doing == KEEP:
            problem = None if reason.strip() else "write why the crime stays recorded"
        else:
            problem = None
        if problem:
            problems["reason"] = problem
        return problems

    def _save_as(self, doing: str) -> None:
        self.doing = doing
        super().action_save()

    def action_save(self) -> None:
        self._save_as(RECLASSIFY)

    def action_ask_cancel(self) -> None:
        self._save_as(ASK_CANCEL)

    def action_cancel_crime(self) -> None:
        self._save_as(CANCEL)

    def action_keep_crime(self) -> None:
        self._save_as(KEEP)

    def call(self, crimes, uow, actor, now, crime, entry):
        doing = entry["doing"]
        if doing == RECLASSIFY:
            return crimes.reclassify(
                uow,
                actor,
                crime.id,
                crime.version,
                now,
                offence_code=entry["offence_code"],
                reason=entry["reason"],
            )
        if doing == ASK_CANCEL:
            return crimes.request_cancellation(
                uow, actor, crime.id, crime.version, now, reason=entry["reason"]
            )
        return crimes.decide_cancellation(
            uow, actor, crime.id, crime.version, now, approve=doing == CANCEL, note=entry["reason"]
        )
