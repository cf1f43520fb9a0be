"""A checkbox whose state reads without colour: "[x]" when set, "[ ]" when not.

Textual's own checkbox draws the same "X" either way and lets colour say which; on a
16-colour console or a monochrome thin client that is not enough for a flag such as
"Weapons".
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class FlagBox(Checkbox):
    """A Checkbox drawn as [x] / [ ] (space or Enter toggles, as in Checkbox)."""

    DEFAULT_CSS = """
    FlagBox {
        border: none;
        padding: 0;
        height: 1;
        &:focus { text-style: bold reverse; }
        &:ansi:focus { text-style: bold reverse; }
    }
    """

    @property
    def _button(self) -> Content:
        return Content.styled("[x]" if self.value else "[ ]", "bold" if self.value else "")
