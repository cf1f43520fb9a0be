"""Record text to display content: the only door from data to the screen.

Everything that came from a user or the database becomes literal `Content` (for
Static, Label, headers) or a literal Rich `Text` (for DataTable cells and Rich tables,
where a plain `str` would be parsed as markup). Neither is ever parsed for markup, and
`printable` has already turned control characters into visible markers.

An input pre-filled from a record (a dialog re-doing THRIVE, a superseding report, a
picked location, a restored draft) takes its value through `record_value`, the same
door: an Input or TextArea draws its value to the terminal as it is, so an ESC in it
would reach the operator's terminal raw. `tests/test_prefill_door.py` checks every
screen for an input value that does not come through here.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from controlroom.domain.safe_text import printable


def record_content(value: object, *, multiline: bool = False, style: str = "") -> Content:
    """Literal display content for a record value (no markup, controls made visible)."""
    content = Content(printable(value, multiline=multiline))
    return content.stylize(style) if style else content


def record_text(value: object, *, multiline: bool = False, style: str = "") -> Text:
    """The same, as a Rich `Text` for DataTable cells and Rich tables."""
    return Text(printable(value, multiline=multiline), style=style, end="")


def record_value(value: object, *, multiline: bool = False) -> str:
    """Record text as the starting value of an Input (or, `multiline`, a TextArea, which
    keeps line feeds and tabs): controls replaced by visible markers, nothing else
    changed. Saving it back stores the markers, never the control characters."""
    return printable(value, multiline=multiline, tabs=multiline)
