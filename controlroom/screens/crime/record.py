"""c on an incident: record a crime from it, by keys.

The offence is looked up as the closing type is (a code or a few words: "8n",
"assault inj"; Up/Down, Enter picks); each victim linked to the incident is a [x] box
(one crime each: the counting rules' one crime per victim; a victim who already has a
crime from the incident is listed as such and cannot be picked), each linked suspect a
[x] box. ctrl+s records, Esc cancels (asking first when something was typed). The
dialog stays open with the typing when the service refuses (the field says why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Label, Static

from controlroom.screens.incident.actions import IncidentChangeDialog, _field
from controlroom.screens.seam import CallFailed
from controlroom.widgets.flag_box import FlagBox
from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.crimes import IncidentCrimes, OffenceOption
    from controlroom.services.incidents import IncidentDetail

MATCHES_SHOWN = 5
# Keys typed ahead ("c", "8n", Enter in one read over a slow link) wait for the offence
# classes to be read, so Enter picks from them; at most this long.
OFFENCES_WAIT_SECONDS = 2.0


class RecordCrimeDialog(IncidentChangeDialog):
    """Record a crime (one per victim) from the incident on show."""

    HEADING = "Record a crime"
    DOING = "record the crime"
    HINT = "Enter picks · Space ticks · Tab next · ctrl+s record · Esc cancel"
    FIELD_WIDGETS = {"offence_code": "offence", "victims": "victims-first"}

    @dataclass
    class OffencesLoaded(Message):
        offences: list[OffenceOption]

    class OffencesFailed(CallFailed):
        """The offence classes could not be read: said at the offence field."""

    def __init__(
        self,
        detail: IncidentDetail,
        crimes: IncidentCrimes,
        on_current: Callable[[IncidentDetail], None] | None = None,
    ) -> None:
        super().__init__(detail, on_current)
        self.crimes = crimes
        self.offences: list[OffenceOption] = []
        self.matches: list[OffenceOption] = []
        self.offence_code: str | None = None
        self._offences_read = False

    def compose_fields(self) -> ComposeResult:
        clock = self.crimes.clock
        if clock is not None:
            yield Static(
                Content("NCRS clock: ").stylize("bold") + Content(clock.words),
                classes="change-preview",
            )
        yield from _field(
            "Offence",
            LookupInput(placeholder="code or words: 8n, assault inj", id="offence", max_length=80),
        )
        yield MatchList(id="offence-matches")
        yield Static("", id="offence_code-error", classes="field-error -under-input", markup=False)
        yield Label("Victims — one crime each", classes="change-label-wide")
        if not self.crimes.victims:
            yield Static("no victim linked (an offence with no victim only)", markup=False)
        for n, victim in enumerate(self.crimes.victims):
            words = victim.name + (" — has a crime already" if victim.has_crime else "")
            box = FlagBox(
                record_content(words),
                value=not victim.has_crime,
                id="victims-first" if n == 0 else f"victim-{victim.person_id}",
                classes="victim-box",
                disabled=victim.has_crime,
            )
            box.person_id = victim.person_id  # type: ignore[attr-defined]
            yield box
        yield Static("", id="victims-error", classes="field-error", markup=False)
        if self.crimes.suspects:
            yield Label("Suspects", classes="change-label-wide")
        for suspect in self.crimes.suspects:
            box = FlagBox(record_content(suspect.name), value=True, classes="suspect-box")
            box.person_id = suspect.person_id  # type: ignore[attr-defined]
            yield box

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#offence"))
        self.load_offences()
        self.set_timer(OFFENCES_WAIT_SECONDS, self._offences_waited)

    def _take_keys(self) -> None:
        if self._offences_read:
            super()._take_keys()

    def _offences_waited(self) -> None:
        self._offences_read = True
        if not self.keys_ready:
            super()._take_keys()

    def load_offences(self) -> None:
        from controlroom.services import crimes

        uow_factory = self.app.uow_factory
        self.run_service(
            lambda: crimes.offence_classes(uow_factory()),
            self.OffencesLoaded,
            doing="read the offence classes",
            group="offence-classes",
            failed=self.OffencesFailed,
        )

    @on(OffencesFailed)
    def offences_failed(self, message: OffencesFailed) -> None:
        message.stop()
        self._refused("offence_code", message.failure.sentence)
        self._offences_waited()

    @on(OffencesLoaded)
    def offences_loaded(self, message: OffencesLoaded) -> None:
        self.offences = message.offences
        text = self.query_one("#offence", Input).value
        if text and self.offence_code is None:
            self._show_matches(text)
        self._offences_waited()

    # --- the offence lookup -------------------------------------------------------------

    @on(Input.Changed, "#offence")
    def offence_typed(self, event: Input.Changed) -> None:
        chosen = next((o for o in self.offences if o.code == self.offence_code), None)
        if chosen is None or event.value != chosen.label:
            self.offence_code = None
        self.clear_error("offence_code")
        self._show_matches(event.value)

    @on(LookupInput.Moved)
    def move_match(self, event: LookupInput.Moved) -> None:
        self.query_one("#offence-matches", MatchList).move(event.delta)

    @on(Input.Submitted, "#offence")
    def offence_entered(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()
        if self._accept_match():
            self.focus_next()

    def _show_matches(self, text: str) -> None:
        words = text.lower().split()
        matches = self.query_one("#offence-matches", MatchList)
        if not words or self.offence_code:
            self.matches = []
            matches.hide()
            return
        exact = [o for o in self.offences if o.code.lower() == text.strip().lower()]
        found = [
            o
            for o in self.offences
            if o not in exact and all(w in f"{o.code} {o.name}".lower() for w in words)
        ]
        self.matches = (exact + found)[:MATCHES_SHOWN]
        matches.show([record_content(o.label) for o in self.matches])

    def _accept_match(self) -> bool:
        if self.offence_code:
            return True
        matches = self.query_one("#offence-matches", MatchList)
        if matches.option_count and matches.highlighted is not None:
            chosen = self.matches[matches.highlighted]
            self.offence_code = chosen.code
            with self.prevent(Input.Changed):
                self.query_one("#offence", Input).value = chosen.label
            matches.hide()
            self.clear_error("offence_code")
            return True
        if self.query_one("#offence", Input).value.strip():
            self.show_error(
                "offence_code", "no offence matches that: a code (8N) or words (assault injury)"
            )
            return False
        return True

    # --- saving -------------------------------------------------------------------------

    def _ticked(self, selector: str) -> tuple[int, ...]:
        return tuple(
            box.person_id  # type: ignore[attr-defined]
            for box in self.query(selector).results(FlagBox)
            if box.value and not box.disabled
        )

    def entry(self) -> dict[str, Any]:
        return {
            "offence_text": self.query_one("#offence", Input).value,
            "offence_code": self.offence_code,
            "victims": self._ticked(".victim-box"),
            "suspects": self._ticked(".suspect-box"),
        }

    def is_dirty(self) -> bool:
        return bool(self.query_one("#offence", Input).value.strip())

    def action_save(self) -> None:
        self._accept_match()
        super().action_save()

    def problems(self, entry: dict[str, Any]) -> dict[str, str]:
        if entry["offence_code"]:
            return {}
        if entry["offence_text"].strip():
            return {"offence_code": "no offence matches that: a code (8N) or words, Enter picks"}
        return {"offence_code": "choose the offence: a code (8N) or words, Enter picks"}

    def save_change(self, incident_id: int, expected_version: int, entry: dict[str, Any]) -> None:
        from controlroom.services import crimes

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: crimes.record_crimes(
                uow_factory(),
                actor,
                incident_id,
                clock(),
                offence_code=entry["offence_code"],
                victim_ids=entry["victims"],
                suspect_ids=entry["suspects"],
            ),
            # The view beneath tells IncidentCrimes from an IncidentDetail by its fields.
            lambda recorded: self.Applied(recorded),  # type: ignore[arg-type]
            doing=self.DOING,
            group="crime-record",
            failed=self.ChangeFailed,
        )
