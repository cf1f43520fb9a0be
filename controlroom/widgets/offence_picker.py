"""The Home Office offence, picked from the keyboard: a code or a few words ("8n",
"arson end"), Up/Down through the matches, Enter picks.

The picker reads the offence classes itself (a thread worker, `services.crimes`) and
says so with `Loaded`; `code` is the offence picked, or None. `accept()` takes the
highlighted match (a dialog calls it before saving, as leaving the field does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from controlroom.widgets.lookup_input import LookupInput, MatchList
from controlroom.widgets.record_text import record_content, record_value

if TYPE_CHECKING:
    from controlroom.services.crimes import OffenceOption

MATCHES_SHOWN = 5


class OffencePicker(Vertical):
    """A labelled offence lookup with its matches and its error line."""

    DEFAULT_CSS = """
    OffencePicker { height: auto; }
    """

    class Loaded(Message):
        """The offence classes were read (or could not be: `failed` says so)."""

        def __init__(self, picker: OffencePicker, failed: str | None) -> None:
            super().__init__()
            self.picker = picker
            self.failed = failed

        @property
        def control(self) -> OffencePicker:
            return self.picker

    class Picked(Message):
        """An offence was picked (Enter): the dialog moves on."""

        def __init__(self, picker: OffencePicker) -> None:
            super().__init__()
            self.picker = picker

        @property
        def control(self) -> OffencePicker:
            return self.picker

    def __init__(self, label: str = "Offence", *, field: str = "offence_code", id: str) -> None:
        super().__init__(id=id)
        self.label = label
        self.field = field
        self.offences: list[OffenceOption] = []
        self.matches: list[OffenceOption] = []
        self.code: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="change-row"):
            yield Label(self.label, classes="change-label")
            yield LookupInput(
                placeholder="code or words: 8n, assault inj", id="offence", max_length=80
            )
        yield MatchList(id="offence-matches")
        yield Static("", id=f"{self.field}-error", classes="field-error -under-input", markup=False)

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="offence-classes")
    def _read(self) -> None:
        from controlroom.screens.seam import failure_of
        from controlroom.services import crimes

        try:
            offences = crimes.offence_classes(self.app.uow_factory())  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - said at the field, in words
            self.app.call_from_thread(self._failed, failure_of(exc, "read the offences").sentence)
            return
        self.app.call_from_thread(self._loaded, offences)

    def _loaded(self, offences: list[OffenceOption]) -> None:
        self.offences = offences
        text = self.query_one("#offence", Input).value
        if text and self.code is None:
            self._show(text)
        self.post_message(self.Loaded(self, None))

    def _failed(self, sentence: str) -> None:
        self._error(sentence)
        self.post_message(self.Loaded(self, sentence))

    @property
    def text(self) -> str:
        return self.query_one("#offence", Input).value

    @on(Input.Changed, "#offence")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        chosen = next((o for o in self.offences if o.code == self.code), None)
        if chosen is None or event.value != chosen.label:
            self.code = None
        self._error("")
        self._show(event.value)

    @on(LookupInput.Moved)
    def _moved(self, event: LookupInput.Moved) -> None:
        event.stop()
        self.query_one("#offence-matches", MatchList).move(event.delta)

    @on(Input.Submitted, "#offence")
    def _entered(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()
        if self.accept():
            self.post_message(self.Picked(self))

    def _show(self, text: str) -> None:
        words = text.lower().split()
        matches = self.query_one("#offence-matches", MatchList)
        if not words or self.code:
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

    def accept(self) -> bool:
        """Take the highlighted match; False (and said at the field) when typed text
        matches nothing."""
        if self.code:
            return True
        matches = self.query_one("#offence-matches", MatchList)
        if matches.option_count and matches.highlighted is not None:
            chosen = self.matches[matches.highlighted]
            self.code = chosen.code
            with self.prevent(Input.Changed):
                self.query_one("#offence", Input).value = record_value(chosen.label)
            matches.hide()
            self._error("")
            return True
        if self.text.strip():
            self._error("no offence matches that: a code (8N) or words, Enter picks")
            return False
        return True

    def _error(self, message: str) -> None:
        widget = self.query_one(f"#{self.field}-error", Static)
        widget.update(record_content(message))
        widget.set_class(bool(message), "-shown")
