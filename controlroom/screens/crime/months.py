"""A crime screen that reads one month's figures and steps between months (`p` / `n`,
never past this month; `r` reads again): crime data integrity (F11) and crime
statistics (F12). Each says what to read (`read_month`) and which table takes the
focus; the reading goes through `run_service`, off the UI thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from controlroom.domain.identity import Actor
from controlroom.domain.open_data import next_month
from controlroom.screens.frame import FramedScreen


class MonthScreen(FramedScreen[None]):
    # The table the screen opens on, what the read is called in a failure's sentence,
    # and its worker group.
    TABLE: ClassVar[str]
    DOING: ClassVar[str]
    GROUP: ClassVar[str]

    month: date | None = None
    allowed = False

    def read_month(
        self, uow_factory: Callable[[], Any], actor: Actor, month: date, now: datetime
    ) -> Any:
        """The service call that reads `month` (runs on a worker thread)."""
        raise NotImplementedError

    def on_mount(self) -> None:
        if not self.allowed:
            return
        self.month = self.app.local_today().replace(day=1)
        self.focus_now(self.TABLE)
        self.reload()

    def reload(self) -> None:
        month = self.month
        assert month is not None
        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: self.read_month(uow_factory, actor, month, clock()),
            self.Read,  # type: ignore[attr-defined]  # each screen's own message
            doing=self.DOING,
            group=self.GROUP,
        )

    def action_reload(self) -> None:
        if self.allowed:
            self.reload()

    def action_previous_month(self) -> None:
        if self.allowed and self.month is not None:
            self.month = (self.month - timedelta(days=1)).replace(day=1)
            self.reload()

    def action_next_month(self) -> None:
        if self.allowed and self.month is not None:
            following = next_month(self.month)
            if following <= self.app.local_today():
                self.month = following
                self.reload()
