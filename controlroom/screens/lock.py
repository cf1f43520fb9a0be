"""The idle lock: an opaque full-screen that hides every piece of record data until the
operator types their PIN.

It is a plain (not modal) screen, so nothing beneath it is drawn at all: the incident,
person or report that was open is not on the terminal, not dimmed behind it. It shows
only that the session is locked, for whom, and what to do. The app blocks every global
key but quit while it is up (ControlRoomApp.check_action); Escape does nothing here.
The PIN is checked by `services.session_lock.unlock` on a thread worker; the answer
(wrong PIN, attempts left, locked out) is shown at the field.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from controlroom.screens.seam import AppScreen, CallFailed
from controlroom.widgets.record_text import record_content


class LockScreen(AppScreen[None]):
    """The locked session. `Unlocked` is posted (to the app) when the PIN was right."""

    TITLE = "Locked"
    AUTO_FOCUS = "#lock-pin"
    BINDINGS = [
        # Escape must not uncover what is beneath.
        Binding("escape", "ignore", show=False, priority=True),
    ]

    class Unlocked(Message):
        """The PIN was right: the app removes the lock."""

    class UnlockFailed(CallFailed):
        """The PIN was wrong, the account is locked out, or it could not be checked."""

    def __init__(self, operator_name: str, idle_minutes: float, *, resumed: bool = False) -> None:
        super().__init__(id="lock-screen")
        self._operator_name = operator_name
        self._idle_minutes = idle_minutes
        # The session started locked: the last one ended behind the lock.
        self._resumed = resumed

    def compose(self) -> ComposeResult:
        with Center(id="lock"):
            with Vertical(id="lock-panel"):
                yield Static("SESSION LOCKED", id="lock-title", markup=False)
                yield Static(
                    record_content(
                        (
                            "Your last session ended while it was locked. "
                            if self._resumed
                            else f"Locked after {self._idle_minutes:g} minute"
                            f"{'' if self._idle_minutes == 1 else 's'} without a key. "
                        )
                        + f"{self._operator_name}: type your PIN and press Enter to continue."
                    ),
                    id="lock-help",
                )
                yield Input(password=True, placeholder="PIN", id="lock-pin", max_length=12)
                yield Static("", id="lock-error")
                yield Static(
                    "ctrl+q ends the session; an unsaved incident form is kept as your draft.",
                    id="lock-quit",
                    markup=False,
                )

    def action_ignore(self) -> None:
        pass

    @on(Input.Submitted, "#lock-pin")
    def submitted(self, event: Input.Submitted) -> None:
        pin = event.value
        event.input.value = ""  # the PIN never stays on the screen or in the widget
        if not pin:
            self.query_one("#lock-error", Static).update(record_content("type your PIN"))
            return
        self.query_one("#lock-error", Static).update(record_content("checking…"))
        self.check_pin(pin)

    def check_pin(self, pin: str) -> None:
        from controlroom.services.session_lock import unlock

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        # Unlocked bubbles to the app, which removes the lock.
        self.run_service(
            lambda: unlock(uow_factory(), actor, pin, now=clock()),
            lambda _: self.Unlocked(),
            doing="check the PIN",
            group="unlock",
            failed=self.UnlockFailed,
        )

    @on(UnlockFailed)
    def unlock_failed(self, message: UnlockFailed) -> None:
        message.stop()  # the lock stays; say why
        self.query_one("#lock-error", Static).update(record_content(message.failure.sentence))
        self.focus_now(self.query_one("#lock-pin", Input))
