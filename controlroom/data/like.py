"""LIKE patterns: made here, escaped, and bound as parameters (`%` and `_` typed by an
operator are characters; SQLAlchemy's autoescape needs the text in the expression).

Apart from `data.search` so the repositories every screen uses can make a pattern
without loading the person search's stages, which only a search needs (issue 15's
memory per operator).
"""

from __future__ import annotations

LIKE_ESCAPE = "/"


def like_pattern(text: str, *, before: str = "", after: str = "%") -> str:
    """A LIKE pattern matching `text` literally, with `before` and `after` around it."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return before + escaped + after
