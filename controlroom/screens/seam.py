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
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, get_current_worker

from controlroom.services.fields import FieldError

if TYPE_CHECKING:
    from textual import getters

    from controlroom.app import ControlRoomApp

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
    a rule, a database of the wrong schema and the command that fixes it)."""
    return type(exc).__module__.startswith("controlroom.")


def _fault_kind(exc: BaseException) -> FailureKind:
    if type(exc).__module__.startswith(_DATABASE_MODULES):
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


class AppScreen(Screen[ScreenResultT]):
    """A screen of Control Room (see `FramedScreen` for the banner and header)."""

    if TYPE_CHECKING:
        app = getters.app(ControlRoomApp)

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
    """A dialog of Control Room: answered or dismissed before the operator goes on."""


__all__ = ["AppModal", "AppScreen", "CallFailed", "Failure", "FailureKind", "failure_of"]
