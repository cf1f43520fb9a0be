"""c on an incident: record a crime from it, by keys.

The offence is looked up as the closing type is (a code or a few words: "8n",
"arson end"; Up/Down, Enter picks: `widgets/offence_picker.py`); each victim linked to
the incident is a [x] box (one crime each: the counting rules' one crime per victim; a
victim who already has a crime from the incident is listed as such and cannot be
picked), each linked suspect a [x] box. ctrl+s records, Esc cancels (asking first when
something was typed). The dialog stays open with the typing when the service refuses
(the field says why).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Label, Static

from controlroom.screens.incident.actions import IncidentChangeDialog
from controlroom.widgets.flag_box import FlagBox
from controlroom.widgets.offence_picker import OffencePicker
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.crimes import IncidentCrimes
    from controlroom.services.incidents import IncidentDetail

# Keys typed ahead ("c", "8n", Enter in one read over a slow link) wait for the offence
# classes to be read, so Enter picks from them; at most this long.
OFFENCES_WAIT_SECONDS = 2.0


class OffenceKeysHeld(IncidentChangeDialog):
    """A dialog with an `OffencePicker`: keys typed ahead wait until it has read the
    offence classes (or OFFENCES_WAIT_SECONDS), and Enter on a match moves on."""

    def __init__(self, detail, on_current=None) -> None:
        super().__init__(detail, on_current)
        self._offences_read = False

    def on_mount(self) -> None:
        self.set_timer(OFFENCES_WAIT_SECONDS, self._offences_waited)

    def _take_keys(self) -> None:
        if self._offences_read:
            super()._take_keys()

    def _offences_waited(self) -> None:
        self._offences_read = True
        if not self.keys_ready:
            super()._take_keys()

    @on(OffencePicker.Loaded)
    def offences_loaded(self) -> None:
        self._offences_waited()

    @on(OffencePicker.Picked)
    def offence_picked(self) -> None:
        self.focus_next()

    @property
    def picker(self) -> OffencePicker:
        return self.query_one(OffencePicker)

    def action_save(self) -> None:
        self.picker.accept()
        super().action_save()


class RecordCrimeDialog(OffenceKeysHeld):
    """Record a crime (one per victim) from the incident on show."""

    HEADING = "Record a crime"
    DOING = "record the crime"
    HINT = "Enter picks · Space ticks · Tab next · ctrl+s record · Esc cancel"
    FIELD_WIDGETS = {"offence_code": "offence", "victims": "victims-first"}

    def __init__(
        self,
        detail: IncidentDetail,
        crimes: IncidentCrimes,
        on_current: Callable[[IncidentDetail], None] | None = None,
    ) -> None:
        super().__init__(detail, on_current)
        self.crimes = crimes

    @property
    def offence_code(self) -> str | None:
        return self.picker.code

    def compose_fields(self) -> ComposeResult:
        clock = self.crimes.clock
        if clock is not None:
            yield Static(
                Content("NCRS clock: ").stylize("bold") + Content(clock.words),
                classes="change-preview",
            )
        yield OffencePicker(id="offence-picker")
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
        self.focus_now("#offence")

    def _ticked(self, selector: str) -> tuple[int, ...]:
        return tuple(
            box.person_id  # type: ignore[attr-defined]
            for box in self.query(selector).results(FlagBox)
            if box.value and not box.disabled
        )

    def entry(self) -> dict[str, Any]:
        return {
            "offence_text": self.picker.text,
            "offence_code": self.picker.code,
            "victims": self._ticked(".victim-box"),
            "suspects": self._ticked(".suspect-box"),
        }

    def is_dirty(self) -> bool:
        return bool(self.picker.text.strip())

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
