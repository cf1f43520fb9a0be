"""F2 with an incident not yet saved: go back to it, or start another.

A caller rings back while another call is on: every unsaved incident (a form open
somewhere beneath the current screen, or a draft on disk whose form was closed) is listed
and one key away, and a new form is one key more. Nothing is buried: F2 never opens a
blank form over an unsaved one without saying so.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from controlroom.screens.seam import AppModal
from controlroom.widgets.record_text import record_content

# What the dialog answers for "start another": any other answer is an index of `choices`.
NEW_INCIDENT = -1


class OpenIncidents(AppModal[int | None]):
    """Lists `choices` (one line each, as the operator would recognise the call) and a
    last line for a new incident. Enter or the number picks; n starts another; Esc goes
    back to where the operator was."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Back", id="open_incidents.back"),
        Binding("n", "new", "New incident", id="open_incidents.new"),
    ]

    def __init__(self, choices: list[str]) -> None:
        super().__init__()
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="open-incidents-panel"):
            yield Static("Incidents not saved", classes="panel-title", markup=False)
            options = [
                Option(record_content(f"{number}  {label}"), id=str(number - 1))
                for number, label in enumerate(self.choices, start=1)
            ]
            options.append(Option("n  New incident (another call)", id=str(NEW_INCIDENT)))
            yield OptionList(*options, id="open-incidents")
            yield Static(
                "Enter or its number goes back to one · n starts another · Esc back",
                classes="field-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        listing = self.query_one("#open-incidents", OptionList)
        listing.highlighted = 0
        self.focus_now(listing)

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.choices):
                event.stop()
                self.dismiss(index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or NEW_INCIDENT))

    def action_new(self) -> None:
        self.dismiss(NEW_INCIDENT)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
