"""The justification a restricted record asks for before it opens (person or intelligence).

What the operator writes goes to the service, which records it in the audit event.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from controlroom.screens.seam import AppModal
from controlroom.widgets.record_text import record_content


class JustificationScreen(AppModal[str | None]):
    """Asks why the operator needs a restricted record. Enter submits; Esc goes back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="justify.cancel")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="justify-panel"):
            yield Static("RESTRICTED RECORD", classes="panel-title", markup=False)
            yield Static(record_content(self._message, multiline=True))
            yield Input(
                id="justification",
                max_length=500,
                placeholder="why you need it, e.g. safeguarding check for CR-…",
            )
            yield Static(
                "Enter submits (recorded with your name) · Esc goes back",
                classes="field-hint",
                markup=False,
            )

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def ask_justification(screen: Screen, message: str, retry: Callable[[str], None]) -> None:
    """Ask on top of `screen`; `retry(justification)` on an answer, close `screen` on Esc."""

    def answered(reason: str | None) -> None:
        if reason is None:
            screen.dismiss()
            return
        retry(reason)

    screen.app.push_screen(JustificationScreen(message), answered)
