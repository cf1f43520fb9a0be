"""A text area that takes no more than its limit as the operator types or pastes.

A limit checked only at save let a 9,000-character narrative be typed (the counter read
"9,000 / 8,000") and refused afterwards. Here a key or a paste past the limit keeps what
fits, and the area posts `Refused` with how many characters were not taken, for the form
to say so at the field. Text put in by the program (a restored draft) is never cut: the
save names the field instead.
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult, Location


class LimitedTextArea(TextArea):
    """A TextArea holding at most `max_length` characters from the keyboard."""

    class Refused(Message):
        """`dropped` characters typed or pasted did not fit."""

        def __init__(self, area: LimitedTextArea, dropped: int) -> None:
            super().__init__()
            self.area = area
            self.dropped = dropped

        @property
        def control(self) -> LimitedTextArea:
            return self.area

    def __init__(self, *args, max_length: int, field: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        # The service's name for the field: its error line is `#<field>-error`.
        self.field = field or self.id or ""

    def _replace_via_keyboard(
        self, insert: str, start: Location, end: Location
    ) -> EditResult | None:
        if self.read_only:
            return None
        replaced = len(self.get_text_range(start, end)) if start != end else 0
        room = max(self.max_length - (len(self.text) - replaced), 0)
        if len(insert) > room:
            self.post_message(self.Refused(self, len(insert) - room))
            insert = insert[:room]
            if not insert and start == end:
                self.app.bell()
                return None
        return super()._replace_via_keyboard(insert, start, end)
