"""The LEGACY mark (issue 19): one word, in reverse, beside every old system's incident
or intelligence report, wherever a screen shows one: the word carries the meaning, so it
reads the same in 16 colours and on a monochrome terminal."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from controlroom.domain.legacy import LEGACY_LABEL

STYLE = "bold reverse"


def legacy_badge() -> Content:
    """ "LEGACY" for a Static or Label."""
    return Content(LEGACY_LABEL).stylize(STYLE)


def legacy_cell(legacy: bool) -> Text:
    """ "LEGACY" (or nothing) for a DataTable cell."""
    return Text(LEGACY_LABEL if legacy else "", style=STYLE if legacy else "", end="")
