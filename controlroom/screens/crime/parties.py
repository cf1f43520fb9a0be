"""p on an incident: a crime's victim and suspects, after it was recorded.

The crime is named by its reference (the first live one is filled in). A crime recorded
without a victim (its victim not yet linked to the incident, or an offence reclassified
to one with a victim) takes one of the incident's victims who has no crime from it yet:
one [x] box each, at most one ticked. A crime's victim, once linked, stays (one crime per
victim: `c` records a crime for another victim). Its suspects are the incident's
suspects ticked: untick one to remove them, tick one to add them. Space ticks, Tab moves,
ctrl+s saves, Esc cancels. Names are shown as text, never as markup; a complainant's
name is withheld from roles without need-to-know, as everywhere.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label, Static

from controlroom.screens.crime.outcome import CrimeDialog, live_crimes
from controlroom.widgets.flag_box import FlagBox
from controlroom.widgets.record_text import record_content


class CrimePartiesDialog(CrimeDialog):
    """Link a victim to a crime recorded without one; add or remove its suspects."""

    HEADING = "Crime victim and suspects"
    DOING = "change the crime's victim or suspects"
    HINT = "Space ticks · Tab moves · ctrl+s saves · Esc cancels"
    FIELD_WIDGETS = {"crime": "crime-ref", "victim": "victims-first", "suspects": "suspects-first"}

    def compose_fields(self) -> ComposeResult:
        yield from self.crime_field()
        crime = next(iter(live_crimes(self.crimes)), None)  # the one crime_field fills in
        yield Static("", id="parties-victim", classes="change-preview", markup=False)
        yield Label("Victim (a crime recorded without one)", classes="change-label-wide")
        open_victims = [v for v in self.crimes.victims if not v.has_crime]
        if not open_victims:
            yield Static("no victim of the incident without a crime", markup=False)
        for n, victim in enumerate(open_victims):
            box = FlagBox(
                record_content(victim.name),
                value=False,
                id="victims-first" if n == 0 else f"victim-{victim.person_id}",
                classes="victim-box",
            )
            box.person_id = victim.person_id  # type: ignore[attr-defined]
            yield box
        yield Static("", id="victim-error", classes="field-error", markup=False)
        yield Label("Suspects (ticked: on the crime)", classes="change-label-wide")
        if not self.crimes.suspects:
            yield Static("no suspect linked to the incident", markup=False)
        ticked = set(crime.suspect_ids) if crime else set()
        for n, suspect in enumerate(self.crimes.suspects):
            box = FlagBox(
                record_content(suspect.name),
                value=suspect.person_id in ticked,
                id="suspects-first" if n == 0 else f"suspect-{suspect.person_id}",
                classes="suspect-box",
            )
            box.person_id = suspect.person_id  # type: ignore[attr-defined]
            yield box
        yield Static("", id="suspects-error", classes="field-error", markup=False)

    def on_mount(self) -> None:
        self._show_chosen()
        first = (
            self.query(".victim-box, .suspect-box").first(FlagBox)
            if self.query(".victim-box, .suspect-box")
            else None
        )
        self.focus_now(f"#{first.id}" if first is not None else "#crime-ref")

    @on(Input.Changed, "#crime-ref")
    def _crime_changed(self) -> None:
        self._show_chosen()

    def _show_chosen(self) -> None:
        """Say the chosen crime's victim, and tick the suspects on it."""
        crime = self.chosen()
        line = self.query_one("#parties-victim", Static)
        if crime is None:
            line.update("")
            return
        line.update(
            record_content(
                f"{crime.reference} {crime.offence_code}: victim "
                + (crime.victim if crime.victim else "not linked yet")
            )
        )
        on_crime = set(crime.suspect_ids)
        for box in self.query(".suspect-box").results(FlagBox):
            box.value = box.person_id in on_crime  # type: ignore[attr-defined]

    def _ticked(self, selector: str) -> tuple[int, ...]:
        return tuple(
            box.person_id  # type: ignore[attr-defined]
            for box in self.query(selector).results(FlagBox)
            if box.value
        )

    def entry(self) -> dict[str, Any]:
        return {
            "crime": self.query_one("#crime-ref", Input).value,
            "victims": self._ticked(".victim-box"),
            "suspects": self._ticked(".suspect-box"),
        }

    def is_dirty(self) -> bool:
        crime = self.chosen()
        entry = self.entry()
        before = set(crime.suspect_ids) if crime else set()
        return bool(entry["victims"]) or set(entry["suspects"]) != before

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        problems = self.crime_problem()
        if problems:
            return problems
        crime = self.chosen()
        assert crime is not None
        if len(entry["victims"]) > 1:
            problems["victim"] = "tick one victim: one crime per victim (c records the others)"
        elif entry["victims"] and crime.victim_id is not None:
            problems["victim"] = "this crime has its victim: c records a crime for another"
        elif not entry["victims"] and set(entry["suspects"]) == set(crime.suspect_ids):
            problems["suspects"] = "nothing changed: tick or untick someone"
        return problems

    def call(self, crimes, uow, actor, now, crime, entry):
        return crimes.change_parties(
            uow,
            actor,
            crime.id,
            crime.version,
            now,
            victim_id=entry["victims"][0] if entry["victims"] else None,
            suspect_ids=entry["suspects"],
        )
