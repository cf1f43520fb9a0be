"""The mends for faults in Textual itself (controlroom/widgets/textual_mends.py)."""

from __future__ import annotations

import gc
import weakref

from textual.color import Color

from controlroom.screens.home_board import HomeBoard
from controlroom.screens.person.search import PersonSearch
from tests.apps import build_app, settle, until


async def test_a_closed_screens_rendered_lines_are_let_go(database, tmp_path, supervisor):
    """Issue 15, memory over a shift: Textual's `get_inner_outer` cache held every
    widget's render cache (its rendered lines) after the widget was gone, up to 1,024 of
    them (Textualize/textual#6665). A closed screen's now go with it."""
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, PersonSearch))
        await settle(pilot)
        screen = app.screen
        caches = [weakref.ref(w._styles_cache) for w in (screen, *screen.walk_children())]
        assert len(caches) > 5
        del screen
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, HomeBoard))
        await until(pilot, lambda: gc.collect() >= 0 and all(c() is None for c in caches))


def test_the_colours_are_worked_out_as_textual_does():
    """The mended cache gives the two styles Textual's own method gives."""
    from textual._styles_cache import StylesCache

    from controlroom.widgets.textual_mends import keep_no_dead_widgets_render_caches

    keep_no_dead_widgets_render_caches()

    base, background = Color(10, 20, 30), Color(200, 100, 50, 0.5)
    inner, outer = StylesCache().get_inner_outer(base, background)
    assert inner.background == base + background
    assert outer.background == base
