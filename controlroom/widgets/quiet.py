"""Repaint only what changed: over SSH every repaint is bytes on the operator's wire.

Textual redraws a widget whenever `Static.update` is called, even with what it already
shows; a screen that refreshes its figures on a timer would send them again each time.
`show` updates a Static only when what it is given differs from what it shows (by the
content itself, or by a key for renderables that cannot be compared, such as a Rich
Table built from figures: the figures are the key). A table's changed cell is redrawn
alone by `FixedColumnsTable.set_cell` (widgets/fixed_table.py).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from weakref import WeakKeyDictionary

from textual.widgets import Static

_shown: WeakKeyDictionary[Static, Hashable] = WeakKeyDictionary()


def show(widget: Static, content: Any, key: Hashable | None = None) -> bool:
    """Update `widget` with `content` unless it already shows it; True if it changed.

    A widget whose height is set and whose width is not `auto` keeps its size
    whatever it shows, so it is repainted without laying the screen out again: a
    layout also sends every scrollbar on the screen again (the triage queue's figures
    line, turning once a minute, sent its table's scrollbar with it: 2.7 KB)."""
    marker = content if key is None else key
    if widget in _shown and _shown[widget] == marker:
        return False
    _shown[widget] = marker
    widget.update(content, layout=not sized_apart_from_content(widget))
    return True


def sized_apart_from_content(widget: Static) -> bool:
    """Whether `widget`'s size is set by its styles alone: a height set, and not `auto`;
    a width not `auto` (unset, a widget fills its container's width)."""
    height, width = widget.styles.height, widget.styles.width
    return height is not None and not height.is_auto and (width is None or not width.is_auto)
