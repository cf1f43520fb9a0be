"""A yes/no question that must be answered before going on (discard, restore, link)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from controlroom.screens.seam import AppModal
from controlroom.widgets.record_text import record_content


class ConfirmScreen(AppModal[bool]):
    """Asks `question`; `y` answers yes, `n` or Esc answers no. Dismisses with the answer."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self._question = question
        self._detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-panel"):
            yield Static(record_content(self._question, style="bold"), id="confirm-question")
            if self._detail:
                yield Static(record_content(self._detail, multiline=True), id="confirm-detail")
            yield Static("y  yes     n  no", id="confirm-keys", markup=False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
