"""The footer is rebuilt when what it shows changes, and only then."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from controlroom.widgets.key_footer import KeyFooter
from tests.apps import screen_text


class Form(App[None]):
    BINDINGS = [Binding("f10", "save", "Save"), Binding("f4", "lookup", "Look up")]
    can_look_up = True

    def compose(self) -> ComposeResult:
        yield Input(id="one")
        yield Input(id="two")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return False if action == "lookup" and not self.can_look_up else True

    def action_save(self) -> None:
        pass

    def action_lookup(self) -> None:
        pass


def footer_keys(app: App) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


async def test_a_focus_change_that_changes_nothing_shown_keeps_the_keys():
    app = Form()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = footer_keys(app)
        assert [k.description for k in before][:2] == ["Save", "Look up"]
        await pilot.press("tab", "tab", "tab")
        await pilot.pause()
        assert footer_keys(app) == before  # the same widgets, not rebuilt
        assert "Look up" in screen_text(app)


async def test_a_change_in_what_is_shown_rebuilds_the_footer():
    app = Form()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        before = footer_keys(app)
        app.can_look_up = False
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        after = footer_keys(app)
        assert after != before
        assert "Look up" not in screen_text(app)
        assert "Save" in screen_text(app)


async def test_each_key_is_styled_once_as_it_is_drawn_and_shows_as_textual_draws_it():
    """A key takes the footer's `compact` as it is made: the binding does not turn its
    "-compact" class after mounting and style it a second time."""
    from textual.css.stylesheet import Stylesheet

    app = Form()
    styled: list[str] = []
    apply = Stylesheet.apply

    def counted(self, node, *args, **kwargs):
        if isinstance(node, FooterKey):
            styled.append(node.description)
        return apply(self, node, *args, **kwargs)

    Stylesheet.apply = counted  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.pause()
            keys = footer_keys(app)
            bound = [k.description for k in keys if not k.has_class("-command-palette")]
            assert bound == ["Save", "Look up"]
            assert sorted(d for d in styled if d in bound) == sorted(bound)
            # Bound keys as the footer is (not compact); the palette's key as Textual
            # makes it (compact, not bound).
            for key in keys:
                palette = key.has_class("-command-palette")
                assert key.compact is palette and key.has_class("-compact") is palette
    finally:
        Stylesheet.apply = apply  # type: ignore[method-assign]
