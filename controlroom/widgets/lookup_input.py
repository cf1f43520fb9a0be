"""An input with a list of matches beneath it, picked from the keyboard without leaving the input."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList


class LookupInput(Input):
    """A one-line input whose Up/Down move the highlight in its `MatchList`.

    Focus stays in the input while the operator types and moves through the matches;
    the screen decides what Enter (or leaving the field) does with the highlighted one.
    """

    BINDINGS = [
        Binding("down", "move(1)", "Next match", show=False, id="lookup.next"),
        Binding("up", "move(-1)", "Previous match", show=False, id="lookup.previous"),
    ]

    class Moved(Message):
        """The operator asked for the next (+1) or previous (-1) match."""

        def __init__(self, lookup: LookupInput, delta: int) -> None:
            super().__init__()
            self.lookup = lookup
            self.delta = delta

        @property
        def control(self) -> LookupInput:
            return self.lookup

    def action_move(self, delta: int) -> None:
        self.post_message(self.Moved(self, delta))


class MatchList(OptionList):
    """The matches under a `LookupInput`: never focused (Tab skips it), hidden when empty."""

    DEFAULT_CSS = """
    MatchList {
        height: auto;
        max-height: 5;
        border: none;
        padding: 0;
        margin-left: 11;
        background: $boost;
        display: none;
        &.-shown { display: block; }
        &:ansi { background: ansi_default; }
    }
    """

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show(self, prompts: list) -> None:
        self.clear_options()
        self.add_options(prompts)
        self.set_class(bool(prompts), "-shown")
        if prompts:
            self.highlighted = 0

    def hide(self) -> None:
        self.clear_options()
        self.remove_class("-shown")

    def move(self, delta: int) -> None:
        if self.option_count:
            current = self.highlighted or 0
            self.highlighted = max(0, min(self.option_count - 1, current + delta))
