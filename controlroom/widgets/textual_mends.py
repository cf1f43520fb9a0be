"""Mends for faults in Textual itself: the app applies the first as it is built, the
first screen after the board the second (a table's module is not loaded before).

Both are `functools.lru_cache` on a method: the cache's keys hold the widgets they were
asked about alive after their screens closed. A control room opens and closes screens
all shift (a triage queue's table holds ten thousand rows), so that was memory never
given back (issue 15), and in the test process a heap that every full collection had
to walk. Remove a mend when the pinned Textual has the fix: tests/test_textual_mends.py
shows whether the fault is still there.
"""

from __future__ import annotations

from functools import lru_cache
from types import MethodType

from textual._styles_cache import StylesCache


def keep_no_dead_widgets_render_caches() -> None:
    """`StylesCache.get_inner_outer` held up to 1,024 `StylesCache` objects (one a
    widget, each with its rendered lines: Textualize/textual#6665). Its answer depends
    on the two colours only, so it is cached on them alone."""
    method = StylesCache.__dict__["get_inner_outer"]
    original = getattr(method, "__wrapped__", None)
    if isinstance(method, staticmethod) or original is None:
        return  # mended already (each app asks), or Textual changed it: leave it be

    @lru_cache(1024)
    def inner_outer(base_background, background):
        return original(None, base_background, background)

    StylesCache.get_inner_outer = staticmethod(inner_outer)  # type: ignore[assignment,method-assign]


class _CachedPerWidget:
    """A method cached like `lru_cache(maxsize)`, one cache per widget: the cache goes
    with its widget, and `widget.method.cache_clear()` clears that widget's, which is
    what every caller in Textual means by it."""

    def __init__(self, function, maxsize: int) -> None:
        self.function, self.maxsize = function, maxsize

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, widget, owner=None):
        if widget is None:
            return self
        cached = lru_cache(self.maxsize)(MethodType(self.function, widget))
        widget.__dict__[self.name] = cached  # found first from now on
        return cached


def keep_no_dead_tables() -> None:
    """`DataTable._get_styles_to_render_cell` held the last 32 tables it styled a cell
    for, with every row they had. Cached per table instead (once: a mended method has no
    `__wrapped__`)."""
    from textual.widgets import DataTable

    method = DataTable.__dict__["_get_styles_to_render_cell"]
    original = getattr(method, "__wrapped__", None)
    if original is None:
        return
    per_table = _CachedPerWidget(original, method.cache_parameters()["maxsize"])
    per_table.__set_name__(DataTable, "_get_styles_to_render_cell")
    DataTable._get_styles_to_render_cell = per_table  # type: ignore[method-assign,assignment]
