"""Help: the keys of the screen the operator was on, with each binding's id for keymaps."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from controlroom.screens.seam import AppModal


@dataclass(frozen=True, slots=True)
class KeyHelp:
    keys: str
    description: str
    binding_id: str


class HelpScreen(AppModal[None]):
    """Lists the bindings that were active on the screen beneath, then gets out of the way."""

    BINDINGS = [
        Binding("escape,f1,question_mark", "dismiss_help", "Close help", id="help.close"),
    ]

    def __init__(self, screen_title: str, keys: list[KeyHelp], notes: str = "") -> None:
        super().__init__()
        self._screen_title = screen_title
        self._keys = keys
        # A screen's own words beyond its keys (the resource board's command grammar).
        self._notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(id="help-panel", classes="-with-notes" if self._notes else ""):
            yield Static(f"Keys — {self._screen_title}", id="help-title", markup=False)
            table: DataTable[Text] = DataTable(
                id="help-keys", cursor_type="row", zebra_stripes=True
            )
            table.add_columns(*map(Text, ("Key", "Does", "Binding id")))
            for key in self._keys:
                table.add_row(Text(key.keys), Text(key.description), Text(key.binding_id))
            yield table
            if self._notes:
                yield Static(self._notes, id="help-notes", markup=False)
            yield Static(
                "Esc closes. Keys can be remapped in the [keymap] table of the settings file, "
                "by binding id.",
                id="help-hint",
                markup=False,
            )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
