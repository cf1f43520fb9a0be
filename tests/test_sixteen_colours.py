"""With 16 colours (TERM=linux) the highlighted row of a lookup must stand out by its
attributes: the theme's highlight colours came out the same as every other row's, and a
burglary at a house was filed as "business and community"."""

from __future__ import annotations

from controlroom.screens.incident.entry import IncidentEntry
from controlroom.widgets.lookup_input import MatchList
from tests.apps import build_app, settle

SIZE = (80, 24)


def row_look(app, text: str) -> tuple:
    """How the first screen line holding `text` looks where `text` is: the attributes
    and colours of its first character (what a 16-colour terminal can show)."""
    for strip in app.screen._compositor.render_strips():
        line = strip.text
        column = line.find(text)
        if column < 0:
            continue
        position = 0
        for segment in strip:
            if position + len(segment.text) > column:
                style = segment.style
                return (
                    bool(style.bold),
                    bool(style.underline),
                    bool(style.reverse),
                    style.color.name if style.color else None,
                    style.bgcolor.name if style.bgcolor else None,
                )
            position += len(segment.text)
    raise AssertionError(f"{text!r} is not on screen")


async def test_the_highlighted_suggestion_stands_out_with_16_colours(database, tmp_path):
    app = build_app(database, tmp_path, term="linux")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, IncidentEntry)
        await pilot.press("alt+t", *"burg")
        await settle(pilot)
        matches = app.screen.query_one("#type-matches", MatchList)
        assert matches.option_count >= 2 and matches.highlighted == 0
        first = str(matches.get_option_at_index(0).prompt).split("(")[0].strip()
        second = str(matches.get_option_at_index(1).prompt).split("(")[0].strip()
        highlighted, plain = row_look(app, first), row_look(app, second)
        assert highlighted != plain
        # Told apart by attributes or the 16 standard colours, never by a truecolour.
        assert all(
            not name or name.startswith(("color(", "default")) or name.isalpha()
            for name in highlighted[3:]
        )
        await pilot.press("down")
        await settle(pilot)
        assert row_look(app, second) == highlighted and row_look(app, first) == plain
