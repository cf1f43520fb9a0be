"""The one seam between screens and the services: a typed app, and service calls in workers.

Every screen subclasses `AppScreen` (full screens, through `FramedScreen`) or
`AppModal` (dialogs). Both give:

- `self.app` typed as `ControlRoomApp` (Textual's own `getters.app`, seen only by the type
  checker: at run time it is Textual's property, so nothing is imported at start-up);
- `self.run_service(call, done, doing=..., group=...)`: runs `call` (a service call) in a
  thread worker and posts `done(result)` back to the screen, or, if it raised, a
  `CallFailed` message (or the screen's own subclass of it) carrying a `Failure`.

A `Failure` is the only place an exception becomes words on screen (`failure_of`). Our
own code raises exceptions whose messages are written for the operator (a refusal by
the permission table, a field that cannot be used, an edit conflict): those are shown as
they are. Anything else (the database not answering, a file that cannot be written, a
bug) is one sentence saying what did not happen, that nothing typed is lost and what to
do, with a short reference; its details (type, message, traceback) go to the log file
(`controlroom.logs`), never to the screen.

A worker that was cancelled (a newer call in its exclusive group, the screen closed)
posts nothing: its answer is stale.

Every key lands where it was typed, however fast keys arrive (a lagging SSH link
delivers a second of typing in one read):

- `focus_now(widget)` moves the focus before the next key is handled. Textual's
  `Widget.focus()` only asks for it after the keys already waiting, so "alt+l 14 Mill
  Lane" in one read typed the address into the field the operator was leaving.
- The App's `KeyGate` hands keys on one at a time, each handled before the next, and
  holds them while a new screen is not yet ready (F2 then the caller's name, in one
  read); Textual would send them to the board, or type them all into a dialog's first
  field, Tabs and all.
"""

from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events, on
from textual.app import App, ScreenStackError
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from controlroom.domain.permissions import Action
from controlroom.services.fields import FieldError
from controlroom.widgets.textual_mends import keep_no_dead_tables

if TYPE_CHECKING:
    from textual import getters

    from controlroom.app import ControlRoomApp
    from controlroom.widgets.limited_text import LimitedTextArea

ResultT = TypeVar("ResultT")
ScreenResultT = TypeVar("ScreenResultT")

log = logging.getLogger("controlroom.screens")


class FailureKind(Enum):
    """Why a call gave no answer: what a screen may say beyond the sentence."""

    INPUT = "input"  # a field cannot be used (the service names it)
    REFUSED = "refused"  # the permission table said no
    DECLINED = "declined"  # a service rule said no (conflict, safeguarding, not found)
    DATABASE = "database"  # the database did not answer, or failed
    FILE = "file"  # a local file (a draft) could not be written or read
    FAULT = "fault"  # a bug: anything else


# The styles of every screen after the board (`AppScreen.CSS_PATH`).
SCREENS_CSS = Path(__file__).resolve().parent.parent / "screens.tcss"

# The cause is named by where the exception came from, never by its text.
_DATABASE_MODULES = ("sqlalchemy", "psycopg", "sqlite3")
_CAUSE_WORDS = {
    FailureKind.DATABASE: "the database did not answer",
    FailureKind.FILE: "a file could not be written or read",
    FailureKind.FAULT: "something went wrong in Control Room",
}


@dataclass(frozen=True)
class Failure:
    """A service call that gave no answer, in the operator's words.

    `sentence` is what the screen shows. `field` names the form field a service's input
    check blamed (None: the form or screen as a whole). `refused` is True when the
    permission table said no. `error` is kept so a screen can branch on a service's own
    exception type (an edit conflict carries the current record) — it is never shown.
    `reference` ties the sentence to the log entry holding the details.
    """

    doing: str
    sentence: str
    error: BaseException
    kind: FailureKind
    field: str | None = None
    reference: str = ""

    @property
    def refused(self) -> bool:
        return self.kind is FailureKind.REFUSED

    def not_saved(self, kept: str = "Your typing is kept.") -> str:
        """A rule's or a refusal's sentence as the reason a save did not happen."""
        return f"NOT SAVED — {self.sentence.rstrip('.')}. {kept}"

    def save_words(self, kept: str = "Your typing is kept.") -> str:
        """What a form says when its save failed: a rule or a refusal as `not_saved`;
        a field's problem or a fault as its sentence (a fault's already says it did not
        happen and that the typing is kept)."""
        if self.kind in (FailureKind.REFUSED, FailureKind.DECLINED):
            return self.not_saved(kept)
        return self.sentence


def _operator_worded(exc: BaseException) -> bool:
    """Control Room's own exceptions are raised with sentences for the operator (a refusal,
    a rule, a database of the wrong schema and the command that fixes it) — except one
    that carries a database's failure (`database_failure`: the driver's text)."""
    return type(exc).__module__.startswith("controlroom.") and not _database_failure(exc)


def _database_failure(exc: BaseException) -> bool:
    return bool(getattr(exc, "database_failure", False))


def _fault_kind(exc: BaseException) -> FailureKind:
    if type(exc).__module__.startswith(_DATABASE_MODULES) or _database_failure(exc):
        return FailureKind.DATABASE
    if isinstance(exc, OSError):
        return FailureKind.FILE
    return FailureKind.FAULT


def failure_of(exc: BaseException, doing: str) -> Failure:
    """The words for a failed call of `doing` ("save the incident"); logs the details.

    The one place where an exception turns into what the operator reads.
    """
    if isinstance(exc, FieldError):
        log.info("%s refused at field %s", doing, exc.field)
        return Failure(doing, exc.message, exc, FailureKind.INPUT, field=exc.field)
    if isinstance(exc, PermissionError) and _operator_worded(exc):
        log.info("%s refused: %s", doing, type(exc).__name__)
        return Failure(doing, str(exc), exc, FailureKind.REFUSED)
    if _operator_worded(exc):
        log.info("%s not done: %s", doing, type(exc).__name__)
        return Failure(doing, str(exc), exc, FailureKind.DECLINED)
    kind = _fault_kind(exc)
    reference = secrets.token_hex(3)
    log.error("could not %s [ref %s]", doing, reference, exc_info=exc)
    sentence = (
        f"Could not {doing}: {_CAUSE_WORDS[kind]}. Nothing you typed is lost; try "
        f"again, and tell your supervisor if it keeps happening (ref {reference})."
    )
    return Failure(doing, sentence, exc, kind, reference=reference)


@dataclass
class CallFailed(Message):
    """A service call run by `run_service` failed; `failure` says how, in words."""

    failure: Failure


@dataclass
class RefusalRecorded(Message):
    """A refusal the screen decided is on the audit record (or could not be put there:
    the operator was refused either way)."""


class AppScreen(Screen[ScreenResultT]):
    """A screen of Control Room (see `FramedScreen` for the banner and header)."""

    if TYPE_CHECKING:
        app = getters.app(ControlRoomApp)

    # Every screen's rules but the sign-in's and the board's: read (once) with the first
    # screen that has them, after app.tcss. The board and the sign-in set None.
    CSS_PATH: ClassVar[Path | None] = SCREENS_CSS

    # False until the screen has mounted and focused its first field (`KeyGate`).
    keys_ready = False
    # True while the screen is in the background and until it is next resumed: only
    # then are its styles worked out again on resuming (`_on_screen_resume`).
    _suspended = False
    # False until the screen has been styled with the rules of its CSS_PATH.
    _styled_with_its_css = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.CSS_PATH is not None:  # a screen after the board: it may have tables
            keep_no_dead_tables()
        super().__init__(*args, **kwargs)

    def _on_screen_suspend(self) -> None:
        # Textual calls the handler of each class in the MRO: Screen's runs as well.
        self._suspended = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Textual works out every style of a screen again each time it resumes, and a
        task's new screen resumes twice as its mode opens (`_init_mode`, then
        `switch_mode`), though its widgets were styled as they mounted: two thirds of
        the styling of opening the triage queue (issue 20). A screen that has not been
        in the background since then skips it; one coming back does it, once. (Runs
        before Screen's own handler, which reads the flag.)"""
        if not self._suspended:
            event.refresh_styles = False
            if not self._styled_with_its_css:
                # Textual styles a screen as it takes it in, and reads its CSS_PATH
                # (screens.tcss, the first time) just after: the screen itself (not its
                # widgets, mounted later) is styled again, once, with those rules.
                self.app.stylesheet.apply(self, animate=False)
        self._styled_with_its_css = True
        self._suspended = False

    def focus_now(self, widget: Widget | str) -> None:
        """Give `widget` (or the widget with this selector) the focus before the next key
        is handled (see the module's notes)."""
        target = self.query_one(widget) if isinstance(widget, str) else widget
        self.set_focus(target)

    @on(events.DescendantFocus)
    def _cursor_blink(self, event: events.DescendantFocus) -> None:
        """A text field's cursor blinks or not as the session says (App.cursor_blink).

        Any field with a cursor (an Input, a TextArea): named by what it has, so that
        Textual's TextArea (its document and syntax modules: 0.5 MiB) loads with the
        first form that has one, not with every screen (issue 15)."""
        widget = event.widget
        if hasattr(widget, "cursor_blink"):
            widget.cursor_blink = self.app.cursor_blink

    @on(events.ScreenResume)
    def _ready_for_keys(self) -> None:
        if not self.keys_ready:
            # After the screen's own mount handlers and a refresh: its fields are there
            # and the first has the focus.
            self.call_after_refresh(self._take_keys)
        else:
            # Back to a screen that was ready (the board, as a task closes): keys held
            # while no screen was up go on to it.
            self.app.key_gate.hand_on()

    def _take_keys(self) -> None:
        self.keys_ready = True
        self.app.key_gate.hand_on()

    # Each `hold_keys` in turn: only the latest hold's timer lets the keys go.
    _key_holds = 0

    def hold_keys(self, at_most: float) -> None:
        """Keys typed from now wait (`KeyGate`) until `release_keys`, or `at_most` seconds
        at most (a database that does not answer): for a key whose answer the next key's
        meaning rests on (a filter's rows, a claim the next key completes)."""
        self.keys_ready = False
        self._key_holds += 1
        hold = self._key_holds

        def over() -> None:
            if hold == self._key_holds:
                self.release_keys()

        self.set_timer(at_most, over)

    def release_keys(self) -> None:
        """The keys held go on, in the order typed."""
        if not self.keys_ready:
            self.keys_ready = True
            self.app.key_gate.hand_on()

    def audit_refusal(
        self, action: Action, object_type: str, object_id: object | None = None, **options
    ) -> None:
        """A key or screen this operator's role may not use, refused by the screen (it
        shows why at once): put on the audit record by the service's own check
        (`access.check`), as every refusal is (issue 16: F6 and queue reassign were not)."""
        from controlroom.services import access

        uow_factory, actor = self.app.uow_factory, self.app.actor
        self.run_service(
            lambda: access.check(uow_factory(), actor, action, object_type, object_id, **options),
            lambda _denial: RefusalRecorded(),
            doing="record the refusal",
            group="refusal",
            exclusive=False,
            failed=lambda _failure: RefusalRecorded(),
        )

    def on_limited_text_area_refused(self, event: LimitedTextArea.Refused) -> None:
        """Typing or a paste past a text's limit: said at the field (its error line, else
        the form's or dialog's), what fitted kept (widgets/limited_text.py)."""
        message = (
            f"the limit is {event.area.max_length:,} characters: {event.dropped:,} typed or "
            "pasted were not taken"
        )
        for selector in (f"#{event.area.field}-error", "#dialog-error", "#form-error"):
            found = list(self.query(selector).results(Static))
            if found:
                found[0].update(Content(message))
                found[0].add_class("-shown")
                return
        self.app.notify(message, severity="warning")

    def run_service(
        self,
        call: Callable[[], ResultT],
        done: Callable[[ResultT], Message],
        *,
        doing: str,
        group: str,
        failed: Callable[[Failure], Message] = CallFailed,
        exclusive: bool = True,
    ) -> Worker[None]:
        """Run `call` off the UI thread; post `done(result)` or `failed(failure)`.

        `doing` is the action in the operator's words, for the failure sentence
        ("read the incident"). Calls in the same `group` replace each other when
        `exclusive`; a replaced call's answer is dropped.
        """
        screen = self

        def work() -> None:
            try:
                result = call()
            except Exception as exc:  # noqa: BLE001 - every failure becomes a Failure
                message: Message = failed(failure_of(exc, doing))
            else:
                message = done(result)
            if not get_current_worker().is_cancelled:
                screen.post_message(message)

        return screen.run_worker(
            work, name=doing, group=group, thread=True, exclusive=exclusive, exit_on_error=False
        )


class AppModal(AppScreen[ScreenResultT], ModalScreen[ScreenResultT]):
    """A dialog of Control Room: answered or dismissed before the operator goes on.

    A dialog covers the screen beneath, and with it that screen's TRAINING or TEST
    banner: each dialog shows the banner again, on its own top line, and the database
    banner (during an outage) on its bottom lines."""

    @on(events.Mount)
    def _environment_banner(self) -> None:
        from controlroom.widgets.database_banner import DatabaseBanner
        from controlroom.widgets.environment_banner import EnvironmentBanner

        profile = getattr(self.app, "profile", None)
        if profile is not None:  # signed in: the database's environment is known
            self.mount(
                EnvironmentBanner(profile.environment, synthetic=profile.synthetic),
                before=0,
            )
            # And, during an outage, the database's state, on its bottom lines.
            self.mount(DatabaseBanner(self.app.zone))


class KeyHandled(Message):
    """Follows a key along its way (posted behind it to the widget it went to, bubbling
    up as the key does): when it reaches the App, the key has been handled."""

    def __init__(self, key: events.Key) -> None:
        super().__init__()
        self.key = key


class KeyGate:
    """Hands the keys from the terminal to the app one at a time: each is handled (and
    whatever it set off: a binding, a screen opened, the focus moved) before the next.

    Textual handles a key in stages: the App forwards it to the focused widget (or the
    screen), and a binding that is not a priority runs only when the key has bubbled
    back up to the App, by which time the App has forwarded the keys queued behind it.
    So F2 and the caller's name in one read sent the name to the board, and a Tab among
    keys sent into a new dialog moved on only after all of them had gone into its first
    field. Here a key arriving while the one before is still on its way, or while the
    active screen (an `AppScreen`) has not yet mounted and focused its first field,
    waits, and is handed on, in the order typed, when the one before has been handled
    (a `KeyHandled` sent behind it has reached the App) and the screen is ready. Keys
    typed at a human pace pass straight through.
    """

    # A key whose KeyHandled never arrives (the widget it went to was removed on the
    # way) holds the rest no longer than this.
    STUCK_SECONDS = 0.5

    def __init__(self, app: App) -> None:
        self.app = app
        self.held: deque[events.Key] = deque()
        self._current: events.Key | None = None  # on its way (or handed on, not yet taken)
        self._timer: Timer | None = None

    @property
    def busy(self) -> bool:
        """A key is on its way or waiting."""
        return self._current is not None or bool(self.held)

    def _screen_ready(self) -> bool:
        try:
            screen = self.app.screen
        except ScreenStackError:
            # Between a mode's going and its first screen's coming (seen under heavy
            # load): not ready; the new screen's resume hands the keys on.
            return False
        return not isinstance(screen, AppScreen) or screen.keys_ready

    def holds(self, event: events.Key) -> bool:
        """True when `event` waits here (the App then does nothing more with it)."""
        if event is self._current:
            if not self._screen_ready():
                # Handed on, then the screen went before it arrived (a task closing in
                # the same burst): it waits again, first, for the next screen.
                self._current = None
                self.held.appendleft(event)
                return True
            return False  # a waiting key, handed on now
        if self._current is None and not self.held and self._screen_ready():
            self._current = event
            return False
        self.held.append(event)
        return True

    def sent(self, event: events.Key) -> None:
        """The App has forwarded `event` (or run its binding): follow it."""
        if event is not self._current:
            return
        target = self.app.focused or self.app.screen
        target.post_message(KeyHandled(event))
        self._timer = self.app.set_timer(self.STUCK_SECONDS, lambda: self.handled(event))

    def handled(self, key: events.Key) -> None:
        """`key` has been handled (its KeyHandled reached the App, or it got stuck)."""
        if key is not self._current:
            return
        self._current = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.hand_on()

    def hand_on(self) -> None:
        """Hand on the next waiting key, if nothing is on its way and the screen is ready."""
        if self._current is None and self.held and self._screen_ready():
            typed = self.held.popleft()
            key = self._current = events.Key(typed.key, typed.character)
            # From the App, as the driver's keys are: a message stops bubbling at its
            # sender, and one handed on from a screen's callback would never reach the
            # App's bindings.
            key.set_sender(self.app)
            self.app.post_message(key)


__all__ = [
    "AppModal",
    "AppScreen",
    "CallFailed",
    "Failure",
    "FailureKind",
    "KeyGate",
    "KeyHandled",
    "failure_of",
]
