"""Send units to an incident (u on the incident view): the recommendations, assigned by
keys.

Available units whose crews have the skills the incident's type needs, nearest first
(straight line from the incident's location); o adds the committed ones after them
(the override: a committed unit is taken off its incident). Enter sends the highlighted
unit; Esc goes back without sending anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from controlroom.screens.seam import AppModal, CallFailed
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.services.resources import Recommendations, RecommendedUnit, StatusChanged


def distance_words(metres: float | None) -> str:
    if metres is None:
        return "where?"
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def unit_line(unit: RecommendedUnit) -> Content:
    line = record_content(
        f"{unit.callsign:<6} {unit.type_code:<4} {distance_words(unit.distance_m):>8}  "
    )
    line += record_content(" ".join(unit.skills))
    if unit.committed:
        line += (
            Content("  COMMITTED (").stylize("bold")
            + record_content(unit.status_code)
            + Content(")")
        )
    return line


class SendUnits(AppModal["str | None"]):
    """The recommendations for one incident; dismisses with what was done, in words."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Back", id="send.back"),
        Binding("o", "override", "Committed too", id="send.override"),
    ]

    @dataclass
    class Recommended(Message):
        recommendations: Recommendations

    @dataclass
    class Sent(Message):
        change: StatusChanged

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.include_committed = False
        self.shown: list[RecommendedUnit] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="send-units-panel"):
            yield Static(
                Content("Send units — ").stylize("bold")
                + record_content(self.reference, style="bold"),
                classes="panel-title",
            )
            yield Static("Reading the units…", id="send-needs", markup=False)
            yield OptionList(id="send-list")
            yield Static("", id="send-error", classes="field-error", markup=False)
            yield Static(
                "Enter sends · o committed units too (override) · Esc back",
                classes="field-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.focus_now("#send-list")
        self.load()

    def load(self) -> None:
        from controlroom.services import resources

        uow_factory, actor, reference = self.app.uow_factory, self.app.actor, self.reference
        include = self.include_committed
        self.run_service(
            lambda: resources.recommendations(
                uow_factory(), actor, reference, include_committed=include
            ),
            self.Recommended,
            doing="read the recommendations",
            group="send-read",
        )

    @on(Recommended)
    def recommended(self, message: Recommended) -> None:
        found = message.recommendations
        self.shown = list(found.units)
        needs = (
            f"needs {', '.join(found.needed_skills)} · " if found.needed_skills else ""
        ) + f"{len(found.units)} unit{'' if len(found.units) == 1 else 's'}, nearest first"
        if found.include_committed:
            needs += " · committed units shown (override)"
        self.query_one("#send-needs", Static).update(Content(needs))
        options = self.query_one("#send-list", OptionList)
        options.clear_options()
        options.add_options(Option(unit_line(u), id=u.callsign) for u in found.units)
        if found.units:
            options.highlighted = 0
        else:
            self._error("No unit fits: o shows the committed ones too.")

    def action_override(self) -> None:
        self.include_committed = not self.include_committed
        self.load()

    @on(OptionList.OptionSelected, "#send-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        from controlroom.services import resources

        event.stop()
        callsign = str(event.option.id)
        unit = next((u for u in self.shown if u.callsign == callsign), None)
        override = unit is not None and unit.committed
        app = self.app
        uow_factory, actor, clock, reference = app.uow_factory, app.actor, app.clock, self.reference
        self.run_service(
            lambda: resources.assign(
                uow_factory(), actor, [callsign], reference, clock(), override=override
            ),
            self.Sent,
            doing=f"send {callsign}",
            group="send-assign",
        )

    @on(Sent)
    def sent(self, message: Sent) -> None:
        self.dismiss(message.change.said)

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        message.stop()
        self._error(message.failure.sentence)

    def _error(self, text: str) -> None:
        widget = self.query_one("#send-error", Static)
        widget.update(record_content(text))
        widget.add_class("-shown")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
