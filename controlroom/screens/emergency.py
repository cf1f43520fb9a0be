"""An emergency on a unit, on every dispatcher's and supervisor's screen until it is
acknowledged (issue 17: officer safety).

`EmergencyWatch` runs in a thread of its own for the session of a dispatcher or
supervisor: it reads the one-row unit change counter every POLL_SECONDS on a
connection of its own and, when it moved, the emergencies not yet acknowledged. The app
then shows `EmergencyAlert` over whatever screen is on show (every task key waits while
it is up), updates it, and takes it down once every emergency is acknowledged, here or
at another station. `a` acknowledges the oldest, but not in the alert's first second
on screen (keys typed for the screen beneath, a note or a form, must not acknowledge
it); Esc does not hide it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from controlroom.screens.seam import AppModal, CallFailed, failure_of
from controlroom.widgets.record_text import record_content

if TYPE_CHECKING:
    from controlroom.app import ControlRoomApp
    from controlroom.services.emergencies import Emergency

# The alert reaches every dispatcher's screen within this and one read (the issue: 1 s).
POLL_SECONDS = 0.25
# Keys that arrive this soon after the alert appears were typed for the screen beneath
# (a note, a form): they never acknowledge it, however they spell.
ACK_GUARD_SECONDS = 1.0
# After the database failed, the watch tries again this often.
RETRY_SECONDS = 2.0


class EmergenciesSeen(Message):
    """The emergencies not yet acknowledged, as the watch last read them."""

    def __init__(self, emergencies: tuple[Emergency, ...]) -> None:
        super().__init__()
        self.emergencies = emergencies


class EmergencyWatch:
    """The app's watch for emergencies: a thread of its own for the session (not a
    Textual worker: nothing waiting for the app's workers to finish should wait for
    this one). `stop` ends it and closes its connection."""

    def __init__(self, app: ControlRoomApp) -> None:
        self.app = app
        self._stop = threading.Event()
        self._failed = False  # said that the alerts are off; say when they are back
        self._thread = threading.Thread(target=self._run, name="emergency-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        """Watch until stopped. A database that stops answering is said once, and the
        watch keeps trying every RETRY_SECONDS: officer safety does not wait for a
        restart of the app."""
        while not self._stop.is_set():
            try:
                self._watch()
            except Exception as exc:  # noqa: BLE001 - never silently
                if not self._failed:
                    failure = failure_of(exc, "watch for emergencies")
                    self.app.post_message(
                        EmergencyWatchFailed(
                            "EMERGENCY ALERTS ARE OFF until the database answers again. "
                            + failure.sentence
                        )
                    )
                self._failed = True
                self._stop.wait(RETRY_SECONDS)
                continue
            return

    def _watch(self) -> None:
        from controlroom.services import emergencies

        app = self.app
        actor = app.actor
        poll = emergencies.open_counter_poll(app.uow_factory())
        seen: int | None = None
        try:
            while not self._stop.is_set():
                counter = poll.read()
                if self._failed:
                    self._failed = False
                    app.post_message(
                        EmergencyWatchFailed("Emergency alerts are on again.", "information")
                    )
                if counter != seen:
                    found = emergencies.open_emergencies_after_poll(poll, app.uow_factory, actor)
                    seen = counter
                    if not self._stop.is_set():
                        app.post_message(EmergenciesSeen(found))
                self._stop.wait(POLL_SECONDS)
        finally:
            poll.close()


class EmergencyWatchFailed(Message):
    """The watch cannot reach the database (or reaches it again): the operator is told,
    in words."""

    def __init__(self, words: str, severity: str = "error") -> None:
        super().__init__()
        self.words = words
        self.severity = severity


class EmergencyAlert(AppModal[None]):
    """Every emergency not yet acknowledged, in words and reverse video (it reads the
    same in 16 colours); `a` acknowledges the oldest."""

    BINDINGS = [
        Binding("a", "acknowledge", "Acknowledge", id="emergency.acknowledge", priority=True),
        Binding("escape", "stay", "Stays until acknowledged", id="emergency.stay"),
    ]

    class AckFailed(CallFailed):
        """The acknowledgement did not go through."""

    class Acknowledged(Message):
        """The acknowledgement is on the record; the watch takes the alert down."""

        def __init__(self, words: str) -> None:
            super().__init__()
            self.words = words

    def __init__(self, emergencies: tuple[Emergency, ...]) -> None:
        super().__init__()
        self.emergencies = emergencies

    def compose(self) -> ComposeResult:
        with Vertical(id="emergency-panel"):
            yield Static(
                Content("!!! EMERGENCY — OFFICER SAFETY !!!").stylize("bold reverse"),
                id="emergency-title",
            )
            yield Static("", id="emergency-list")
            yield Static("", id="emergency-said", markup=False)
            yield Static(
                "a acknowledges (the oldest first) · until then it stays on every screen",
                id="emergency-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self._shown_at = time.monotonic()
        self.show(self.emergencies)

    @property
    def ready(self) -> bool:
        """Long enough on screen that an `a` is meant for it (ACK_GUARD_SECONDS)."""
        return time.monotonic() - self._shown_at >= ACK_GUARD_SECONDS

    def on_screen_resume(self) -> None:
        if not self.emergencies:  # acknowledged while a dialog was over the alert
            self.dismiss(None)

    def show(self, emergencies: tuple[Emergency, ...]) -> None:
        self.emergencies = emergencies
        zone = self.app.zone
        lines = [
            record_content(e.words, style="bold")
            + Content(f"  {e.raised_at.astimezone(zone):%H:%M:%S} by ")
            + record_content(e.raised_by)
            for e in emergencies
        ]
        self.query_one("#emergency-list", Static).update(Content("\n").join(lines))

    def action_acknowledge(self) -> None:
        from controlroom.services import resources

        if not self.emergencies:
            return
        if not self.ready:
            self._say("Read the alert first: a acknowledges it in a moment.")
            return
        oldest = self.emergencies[0]
        app = self.app
        uow_factory, actor, clock = app.uow_factory, app.actor, app.clock
        self.run_service(
            lambda: resources.acknowledge_emergency(uow_factory(), actor, oldest.id, clock()),
            self.Acknowledged,
            doing="acknowledge the emergency",
            group="emergency-ack",
            failed=self.AckFailed,
        )

    def action_stay(self) -> None:
        self._say("The alert stays until the emergency is acknowledged: a acknowledges.")

    @on(Acknowledged)
    def acknowledged(self, message: Acknowledged) -> None:
        self._say(f"Emergency {message.words}.")

    @on(AckFailed)
    def ack_failed(self, message: AckFailed) -> None:
        message.stop()
        self._say(message.failure.sentence)

    def _say(self, words: str) -> None:
        self.query_one("#emergency-said", Static).update(record_content(words))
