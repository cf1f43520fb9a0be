"""The dialog a supervisor merges a duplicate person record with, or undoes a merge.

Merging: choose one of the records listed as possibly the same person (arrow keys and
Enter, or its number 1-9), write why (mandatory; recorded with the supervisor's name),
Enter, then confirm with y. Undoing: the merge is shown, write why, Enter, confirm.
A missing choice or too short a reason is said at its field and nothing typed is lost;
Esc goes back without changing anything. The dialog dismisses with (chosen record id or
None, reason), or None when cancelled; the record screen calls the service.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.seam import AppModal
from controlroom.services.person_merge import REASON_MINIMUM
from controlroom.widgets.record_text import record_content, record_text


class PersonMergeDialog(AppModal[tuple[int | None, str] | None]):
    """Choose a record (when `choices` are given), write a reason, confirm."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="merge.cancel")]

    def __init__(
        self, heading: str, explanation: str, choices: list[tuple[int, str]], question: str
    ) -> None:
        super().__init__()
        self._heading = heading
        self._explanation = explanation
        self._choices = choices
        # "Merge {chosen} into this record?": {chosen} becomes the chosen line (replaced,
        # not formatted: record data may hold braces).
        self._question = question
        self.chosen: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="merge-panel"):
            yield Static(self._heading, classes="panel-title", markup=False)
            yield Static(record_content(self._explanation, multiline=True), id="merge-explain")
            if self._choices:
                yield OptionList(
                    *(
                        Option(record_text(f"{n}  {label}"), id=str(person_id))
                        for n, (person_id, label) in enumerate(self._choices, start=1)
                    ),
                    id="merge-choice",
                )
                yield Static("", id="merge-choice-error", classes="field-error", markup=False)
            # Focus returning to the reason must not select it: the next key would replace it.
            yield Input(
                id="merge-reason",
                max_length=500,
                select_on_focus=False,
                placeholder=f"why (at least {REASON_MINIMUM} characters)",
            )
            yield Static("", id="merge-reason-error", classes="field-error", markup=False)
            yield Static(
                "Enter goes on (then y confirms) · recorded with your name · Esc back",
                classes="field-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.focus_now(self.query_one("#merge-choice" if self._choices else "#merge-reason"))

    def on_key(self, event) -> None:
        # A digit picks the record with that number while the list has the focus.
        if (
            self._choices
            and event.character
            and event.character.isdigit()
            and self.focused is self.query_one("#merge-choice", OptionList)
        ):
            index = int(event.character) - 1
            if 0 <= index < len(self._choices):
                event.stop()
                self.query_one("#merge-choice", OptionList).highlighted = index
                self._choose(self._choices[index][0])

    @on(OptionList.OptionSelected, "#merge-choice")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:  # every choice is made with its person's id
            self._choose(int(event.option.id))

    def _choose(self, person_id: int) -> None:
        self.chosen = person_id
        self._say("#merge-choice-error", "")
        self.focus_now(self.query_one("#merge-reason", Input))

    def _say(self, selector: str, message: str) -> None:
        error = self.query_one(selector, Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    @on(Input.Submitted, "#merge-reason")
    def reason_submitted(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if self._choices and self.chosen is None:
            self._say("#merge-choice-error", "choose the record that is the same person")
            self.focus_now(self.query_one("#merge-choice"))
            return
        if len(reason) < REASON_MINIMUM:
            self._say("#merge-reason-error", f"write why (at least {REASON_MINIMUM} characters)")
            return
        self._say("#merge-reason-error", "")
        chosen_line = next(
            (label for person_id, label in self._choices if person_id == self.chosen), ""
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss((self.chosen, reason))
            else:
                self.focus_now(self.query_one("#merge-reason", Input))

        self.app.push_screen(
            ConfirmScreen(self._question.replace("{chosen}", chosen_line), f"Reason: {reason}"),
            answered,
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
