"""The footer of every full screen: Textual's `Footer`, rebuilt only when what it shows
changes.

Textual's footer throws its keys away and builds them again on every change of focus or
of an action's state: eleven key widgets, each styled afresh. Most of those changes
leave the footer as it was (tab between two inputs of a form changes nothing it
shows), yet the rebuild cost about 40% of the processor time of typing into the entry
form (measured 2026-12-07 in a Pilot run: 2.4-3.0 s with the rebuilds, 1.5-1.7 s
without). On a host serving many SSH sessions that is time every key waits for. This
footer keeps the rebuild for when the keys, their labels or their enabled state change;
what it draws is Textual's own.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen


class KeyFooter(Footer):
    _drawn: Hashable = None

    def _what_it_shows(self, screen: Screen) -> Hashable:
        """Everything `Footer.compose` reads from the screen's bindings."""
        app = self.app
        return tuple(
            (
                key,
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                binding.show,
                binding.group,
                binding.tooltip,
                enabled,
                tooltip,
            )
            for key, (_node, binding, enabled, tooltip) in screen.active_bindings.items()
            if binding.show or key == app.COMMAND_PALETTE_BINDING
        ), (self.show_command_palette, self.compact, app.ENABLE_COMMAND_PALETTE)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._drawn = self._what_it_shows(self.screen)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                # A key is born compact and takes the footer's `compact` (data-bound)
                # once mounted; each turn of its "-compact" class styled the key again
                # (a dozen keys, each styled twice, per screen opened). Born as the
                # footer is, the binding changes nothing and each key is styled once.
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        if (
            self._bindings_ready
            and self.is_attached
            and screen is self.screen
            and self._what_it_shows(screen) == self._drawn
        ):
            return
        super().bindings_changed(screen)
