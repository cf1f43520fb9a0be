"""The operator header: who is signed in, their role and station, the environment, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var
from textual.widgets import Static

from controlroom.domain.environment import Environment
from controlroom.widgets.record_text import record_content


class OperatorHeader(Horizontal):
    """One line: application, operator (role · station), environment and a live clock.

    The operator's name and station come from the database, so they are record text.
    """

    DEFAULT_CSS = """
    OperatorHeader {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
        #header-app { width: auto; text-style: bold; padding: 0 1; }
        #header-operator { width: 1fr; text-overflow: ellipsis; text-wrap: nowrap; }
        #header-environment { width: auto; padding: 0 1; text-style: bold; }
        #header-clock { width: auto; padding: 0 1; }
        &:ansi {
            background: ansi_blue;
            color: ansi_bright_white;
        }
    }
    """

    # A `var`: setting it repaints nothing by itself (a `reactive` repainted the whole
    # header every second); `watch_now` redraws the clock when its minute turns.
    now: var[datetime | None] = var(None)
    """The time by the header's own timer (every second); the clock shows its minute."""

    def __init__(
        self,
        *,
        display_name: str,
        role: str,
        station: str | None,
        environment: Environment,
        clock: Callable[[], datetime],
        zone: tzinfo,
    ) -> None:
        super().__init__()
        self._display_name = display_name
        self._role = role
        self._station = station
        self._environment = environment
        self._clock = clock
        self._zone = zone
        self._shown = ""

    def compose(self) -> ComposeResult:
        operator = record_content(self._display_name, style="bold") + record_content(
            f" ({self._role.replace('_', ' ')}"
            + (f" · {self._station}" if self._station else "")
            + ")"
        )
        yield Static("CONTROL ROOM", id="header-app", markup=False)
        yield Static(operator, id="header-operator")
        yield Static(self._environment.value.upper(), id="header-environment", markup=False)
        # The time is there in the first frame: set later, the clock's width would change
        # and lay the whole screen out, and draw it, a second time (issue 15).
        now = self._clock()
        self._shown = self._text(now)
        yield Static(self._shown, id="header-clock", markup=False)

    def on_mount(self) -> None:
        self.now = self._clock()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self.now = self._clock()

    def _text(self, now: datetime) -> str:
        return now.astimezone(self._zone).strftime("%d %b %H:%M")

    def watch_now(self, now: datetime | None) -> None:
        if now is None:
            return
        # Minutes, redrawn only when the minute turns: over SSH a clock in seconds was
        # a repaint a second on every screen (issue 15).
        shown = self._text(now)
        if shown != self._shown:
            # The same width as before (it always is: "07 Dec 11:38"), no layout: laying
            # the screen out again repainted the whole results table beneath, about 2 KB
            # down the wire each minute on the person search (issue 15, idle bytes).
            same_width = len(shown) == len(self._shown)
            self._shown = shown
            self.query_one("#header-clock", Static).update(shown, layout=not same_width)
