"""o on an incident: give one of its crimes an outcome (Home Office outcomes 0-22).

The crime is named by its reference (or its last digits; the first live crime is
filled in), the outcome by its number (its words show as it is typed) and the date it
was reached. Outcomes 14 and 16 also need the victim's decision: what they decided,
when, and who took the decision. 16 on a domestic-abuse crime then waits for a
supervisor; a supervisor giving it approves it in doing so, and ctrl+a approves the
outcome waiting on the crime. ctrl+s gives, Esc cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input, Label, Static, TextArea

from controlroom.domain import crime as rules
from controlroom.screens.incident.actions import IncidentChangeDialog, _field
from controlroom.widgets.limited_text import LimitedTextArea
from controlroom.widgets.record_text import record_value

if TYPE_CHECKING:
    from controlroom.services.crimes import CrimeSummary, IncidentCrimes
    from controlroom.services.incidents import IncidentDetail


def live_crimes(found: IncidentCrimes) -> list[CrimeSummary]:
    return [c for c in found.crimes if c.state != "cancelled"]


def crime_named(found: IncidentCrimes, typed: str) -> CrimeSummary | None:
    """The incident's crime whose reference is, or ends with, what was typed."""
    wanted = typed.strip().upper()
    if not wanted:
        return None
    matches = [c for c in found.crimes if c.reference.endswith(wanted)]
    return matches[0] if len(matches) == 1 else None


class CrimeDialog(IncidentChangeDialog):
    """A change to one of the incident's crimes: the crime field, and the service call
    made with the crime's id and version (`call`, on the worker thread)."""

    def __init__(
        self,
        detail: IncidentDetail,
        crimes: IncidentCrimes,
        on_current: Callable[[IncidentDetail], None] | None = None,
    ) -> None:
        super().__init__(detail, on_current)
        self.crimes = crimes

    def crime_field(self) -> ComposeResult:
        first = next(iter(live_crimes(self.crimes)), None)
        yield from _field(
            "Crime",
            Input(
                value=record_value(first.reference if first else ""),
                placeholder="its reference or last digits",
                id="crime-ref",
                max_length=24,
            ),
            "crime",
        )

    def chosen(self) -> CrimeSummary | None:
        return crime_named(self.crimes, self.query_one("#crime-ref", Input).value)

    def crime_problem(self) -> dict[str, str]:
        if self.chosen() is None:
            refs = ", ".join(c.reference for c in self.crimes.crimes) or "none recorded yet"
            return {"crime": f"name one of this incident's crimes: {refs}"}
        return {}

    def call(self, crimes, uow, actor, now, crime: CrimeSummary, entry: dict[str, Any]):
        raise NotImplementedError

    def save_change(self, incident_id: int, expected_version: int, entry: dict[str, Any]) -> None:
        from controlroom.services import crimes

        crime = self.chosen()
        if crime is None:  # problems() refused it already
            self._saving = False
            return
        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: self.call(crimes, uow_factory(), actor, clock(), crime, entry),
            # The view beneath tells IncidentCrimes from an IncidentDetail by its fields.
            lambda changed: self.Applied(changed),
            doing=self.DOING,
            group="crime-change",
            failed=self.ChangeFailed,
        )


class OutcomeDialog(CrimeDialog):
    """Give a crime its outcome (and, for a supervisor, approve one waiting)."""

    HEADING = "Crime outcome"
    DOING = "give the outcome"
    HINT = "Enter next · ctrl+s give · ctrl+a approve the one waiting (supervisor) · Esc"
    FIELD_WIDGETS = {
        "crime": "crime-ref",
        "outcome": "outcome",
        "outcome_date": "outcome-date",
        "victim_decision": "victim-decision",
        "victim_decision_on": "decision-on",
        "victim_decision_by": "decision-by",
    }
    BINDINGS = [
        Binding("ctrl+a", "approve", "Approve", id="outcome.approve", priority=True),
    ]

    def __init__(self, detail, crimes, on_current=None) -> None:
        super().__init__(detail, crimes, on_current)
        self.approving = False

    def compose_fields(self) -> ComposeResult:
        yield from self.crime_field()
        yield from _field(
            "Outcome", Input(placeholder="0 to 22", id="outcome", max_length=2), "outcome"
        )
        yield Static("", id="outcome-words", classes="change-preview", markup=False)
        today = self.app.local_today()
        yield from _field(
            "Dated",
            Input(value=record_value(f"{today:%d/%m/%Y}"), id="outcome-date", max_length=10),
            "outcome_date",
        )
        yield Label("Victim's decision (outcomes 14 and 16)", classes="change-label-wide")
        yield LimitedTextArea(
            id="victim-decision",
            soft_wrap=True,
            show_line_numbers=False,
            max_length=rules.REASON_LIMIT,
            field="victim_decision",
        )
        yield Static("", id="victim_decision-error", classes="field-error", markup=False)
        yield from _field(
            "Decided on",
            Input(placeholder="dd/mm/yyyy", id="decision-on", max_length=10),
            "victim_decision_on",
        )
        yield from _field(
            "Taken by",
            Input(placeholder="who took the decision", id="decision-by", max_length=120),
            "victim_decision_by",
        )

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#outcome"))

    @on(Input.Changed, "#outcome")
    def outcome_typed(self, event: Input.Changed) -> None:
        self.clear_error("outcome")
        code = event.value.strip()
        words = self.query_one("#outcome-words", Static)
        if code.isdigit() and int(code) in rules.OUTCOMES:
            line = Content(rules.outcome_label(int(code)))
            crime = self.chosen()
            if crime is not None and rules.outcome_needs_approval(int(code), crime.domestic):
                line += Content(" — domestic abuse: a supervisor approves it")
            words.update(line)
        else:
            words.update(Content(""))

    def entry(self) -> dict[str, Any]:
        code = self.query_one("#outcome", Input).value.strip()
        return {
            "crime": self.query_one("#crime-ref", Input).value,
            "outcome": int(code) if code.isdigit() else None,
            "outcome_text": code,
            "outcome_date": self.query_one("#outcome-date", Input).value,
            "victim_decision": self.query_one("#victim-decision", TextArea).text,
            "victim_decision_on": self.query_one("#decision-on", Input).value,
            "victim_decision_by": self.query_one("#decision-by", Input).value,
            "approving": self.approving,
        }

    def is_dirty(self) -> bool:
        entry = self.entry()
        return bool(entry["outcome_text"] or entry["victim_decision"].strip())

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        problems = self.crime_problem()
        if problems or entry["approving"]:
            return problems
        if entry["outcome"] is None:
            return {"outcome": "type the outcome's number, 0 to 22"}
        for name in ("outcome_date", "victim_decision_on"):
            if entry[name].strip() and rules.parse_day(entry[name]) is None:
                problems[name] = "a date as dd/mm/yyyy"
        return problems

    def action_save(self) -> None:
        self.approving = False
        super().action_save()

    def action_approve(self) -> None:
        self.approving = True
        super().action_save()

    def call(self, crimes, uow, actor, now, crime, entry):
        if entry["approving"]:
            return crimes.approve_outcome(uow, actor, crime.id, crime.version, now)
        return crimes.give_outcome(
            uow,
            actor,
            crime.id,
            crime.version,
            now,
            outcome=entry["outcome"],
            outcome_date=rules.parse_day(entry["outcome_date"]),
            victim_decision=entry["victim_decision"],
            victim_decision_on=rules.parse_day(entry["victim_decision_on"]),
            victim_decision_by=entry["victim_decision_by"],
        )
