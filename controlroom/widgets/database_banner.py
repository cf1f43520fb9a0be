"""The database banner: on every framed screen and dialog, while the database cannot be
used, what happened, since when and what still works (`domain.availability`)."""

from __future__ import annotations

from datetime import tzinfo

from textual.widgets import Static

from controlroom.domain.availability import Availability, banner_words

# The App's attribute holding its banners (a `weakref.WeakSet`), told of each change.
BANNERS = "database_banners"


class DatabaseBanner(Static):
    """Hidden while the database answers; otherwise up to two lines of words.

    It follows the App's `availability`, so every screen's banner says the same from the
    same moment, and a screen opened during an outage shows it from its first frame. The
    words carry the meaning (16 colours, monochrome); the colour repeats it.

    The App tells the banners it holds weakly (`BANNERS`), not through Textual's `watch`:
    a watcher is dropped only when the watched value next changes, and the availability
    changes only with an outage, so every screen ever opened kept its banner (and what
    that held) for the rest of the session (issue 15, memory over a shift).
    """

    DEFAULT_CSS = """
    DatabaseBanner {
        width: 1fr;
        height: auto;
        max-height: 2;
        padding: 0 1;
        text-style: bold;
        background: $error;
        color: $text;
        display: none;
        &.-shown { display: block; }
        &:ansi {
            background: ansi_red;
            color: ansi_bright_white;
        }
    }
    """

    def __init__(self, zone: tzinfo) -> None:
        super().__init__("", markup=False)
        self._zone = zone
        self._words = ""

    def on_mount(self) -> None:
        banners = getattr(self.app, BANNERS, None)
        if banners is not None:
            banners.add(self)
        self.show_availability(getattr(self.app, "availability", Availability()))

    def show_availability(self, availability: Availability) -> None:
        words = banner_words(availability, self._zone)
        if words == self._words:
            return  # nothing new: nothing sent down the wire
        self._words = words
        self.update(words)
        self.set_class(bool(words), "-shown")
