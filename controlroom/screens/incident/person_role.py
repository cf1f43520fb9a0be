"""Choosing the role a linked person plays in the incident: one key each."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from controlroom.screens.seam import AppModal
from controlroom.widgets.record_text import record_content

ROLES = (("c", "caller"), ("v", "victim"), ("s", "suspect"), ("w", "witness"), ("j", "subject"))


class PersonRoleScreen(AppModal[str | None]):
    """c caller, v victim, s suspect, w witness, j subject; Esc links nobody."""

    BINDINGS = [
        *(
            Binding(key, f"choose('{role}')", role.capitalize(), id=f"role.{role}")
            for key, role in ROLES
        ),
        Binding("escape", "choose('')", "Cancel", id="role.cancel"),
    ]

    def __init__(self, person_name: str) -> None:
        super().__init__()
        self._person_name = person_name

    def compose(self) -> ComposeResult:
        with Vertical(id="role-panel"):
            yield Static(record_content(f"Link {self._person_name} as:", style="bold"))
            yield Static("  ".join(f"{key} {role}" for key, role in ROLES), markup=False)
            yield Static("Esc: link nobody", markup=False)

    def action_choose(self, role: str) -> None:
        self.dismiss(role or None)
