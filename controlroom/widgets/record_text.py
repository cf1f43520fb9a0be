"""Record text to display content: the only door from data to the screen.

Everything that came from a user or the database becomes literal `Content` (for
Static, Label, headers) or a literal Rich `Text` (for DataTable cells and Rich tables,
where a plain `str` would be parsed as markup). Neither is ever parsed for markup, and
`printable` has already turned control characters into visible markers.
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
