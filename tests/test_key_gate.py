"""The KeyGate (screens/seam.py) with the screens coming and going under it: a key it
has handed on waits again when the screen went before the key arrived."""

from __future__ import annotations

from textual import events
from textual.app import ScreenStackError

from controlroom.screens.seam import KeyGate


class _App:
    """What the gate uses of the app: its screen (None: no screen on the stack, as
    between a closing task's mode and the board), its focus, and its queue."""

    def __init__(self) -> None:
        self.shown: object | None = object()
        self.posted: list[events.Key] = []
        self.focused = None

    @property
    def screen(self) -> object:
        if self.shown is None:
            raise ScreenStackError("No screens on stack")
        return self.shown

    def post_message(self, message: events.Key) -> bool:
        self.posted.append(message)
        return True


def _key(name: str) -> events.Key:
    return events.Key(name, name if len(name) == 1 else None)


def test_a_key_handed_on_waits_again_when_the_screen_went_on_its_way():
    """Seen in a full test run (test_a_burst_through_a_question_answers_it): the key
    after "y" was handed on, the question's task closed before it arrived, and Textual
    met it with no screen on the stack (ScreenStackError, the app stopped)."""
    app = _App()
    gate = KeyGate(app)  # type: ignore[arg-type]
    f3, s = _key("f3"), _key("s")
    gate.held.extend([f3, s])
    gate.hand_on()
    (handed,) = app.posted
    assert handed.key == "f3"

    app.shown = None  # the task's mode went; the board's screen is not up yet
    assert gate.holds(handed) is True  # it waits, first in line: Textual never sees it
    assert [key.key for key in gate.held] == ["f3", "s"]

    app.shown = object()  # the board is back
    gate.hand_on()
    assert [key.key for key in app.posted] == ["f3", "f3"]
    assert gate.holds(app.posted[-1]) is False  # and goes on now, in the order typed
    assert [key.key for key in gate.held] == ["s"]
