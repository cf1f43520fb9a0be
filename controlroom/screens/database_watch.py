"""The app's watch on the database: a probe every second (on a thread of its own), and a
probe left unanswered too long counts as no answer.

A stopped server refuses at once; a frozen one (SIGSTOP, a hung host, a black-holed
network) never answers, and its probe would only fail when the engine's bound runs out
(`data/engine.py`, up to about 6 s). So the watch does not wait for the probe: one
unanswered after `PATIENCE` seconds is enough to say the database is not answering,
and no new probe starts until it has come back. Every screen's frame shows the result
(`widgets/database_banner.py`) within `PROBE_EVERY + PATIENCE + TICK` seconds, under 5.

A probe's failure is logged once per outage (its text goes to the log, never to the
screen). When the database answers again, the app posts `DatabaseReturned` to every
open screen, so a form that met the outage can recover by itself.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING

from textual.message import Message

from controlroom.domain.availability import DatabaseState

if TYPE_CHECKING:
    from controlroom.app import ControlRoomApp

log = logging.getLogger("controlroom.database")

PROBE_EVERY = 1.0
PATIENCE = 2.0
TICK = 0.25


@dataclass
class DatabaseProbed(Message):
    """A probe came back: the state it found (NOT_ANSWERING: it raised)."""

    state: DatabaseState
    started: float
    data_as_of: datetime | None = None


@dataclass
class DatabaseReturned(Message):
    """Posted to every open form and the screen in front: the database answers again
    after not answering, or a primary answers after only a standby did (`state`:
    ANSWERING, READ_ONLY or STANDBY)."""

    state: DatabaseState


class DatabaseWatch:
    """Probes the app's database in a thread worker and sets `app.availability`."""

    def __init__(self, app: ControlRoomApp) -> None:
        self.app = app
        self._probe_started: float | None = None
        self._probe_clock: datetime | None = None
        self._last_end = float("-inf")
        self._logged = False
        # Set by the probe's thread as it calls the database (a float: set atomically).
        self._calling_since: float | None = None

    def start(self) -> None:
        self.app.set_interval(TICK, self.tick, name="database-watch")
        self.tick()

    def tick(self) -> None:
        now = monotonic()
        if self._probe_started is not None:
            # Counted from when the probe's thread called the database, not from when it
            # was asked for: a machine too busy to run the thread is not a database that
            # does not answer (and would put the banner on a busy station's screens).
            # The probe has a thread of its own, so calls hung in the workers' pool never
            # keep it from starting.
            calling = self._calling_since
            if calling is not None and now - calling > PATIENCE and self._probe_clock:
                self.app.database_found(DatabaseState.NOT_ANSWERING, self._probe_clock)
            return
        if now - self._last_end >= PROBE_EVERY:
            self.probe()

    def probe_now(self) -> None:
        """Probe at once (a screen's call just failed on the database)."""
        if self._probe_started is None:
            self.probe()

    def probe(self) -> None:
        from controlroom.services import availability

        app = self.app
        uow_factory = app.uow_factory
        started = self._probe_started = monotonic()
        self._probe_clock = app.clock()

        self._calling_since = None

        def run() -> None:
            self._calling_since = monotonic()
            try:
                found = availability.examine(uow_factory())
            except Exception:  # noqa: BLE001 - any failure is "not answering"
                if not self._logged:
                    log.warning("the database did not answer a probe", exc_info=True)
                    self._logged = True
                found = availability.Probed(DatabaseState.NOT_ANSWERING)
            app.post_message(DatabaseProbed(found.state, started, found.data_as_of))

        # A daemon thread of its own, not a worker: never queued behind workers hung on
        # the database, never waited for at exit, and not a worker a test waits on.
        threading.Thread(target=run, name="database-probe", daemon=True).start()

    def probed(self, message: DatabaseProbed) -> None:
        if message.started != self._probe_started:
            return
        self._probe_started = None
        self._last_end = monotonic()
        if message.state is not DatabaseState.NOT_ANSWERING:
            self._logged = False
        assert self._probe_clock is not None
        self.app.database_found(message.state, self._probe_clock, message.data_as_of)
