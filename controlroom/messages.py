"""App-wide messages, named in the past tense for what happened.

Workers post these from their threads; handlers on the UI thread update widgets.
"""

from __future__ import annotations

from textual.message import Message

from controlroom.services.board import BoardCounts


class BoardCountsLoaded(Message):
    """Fresh counts for the home board were read from the database."""

    def __init__(self, counts: BoardCounts) -> None:
        super().__init__()
        self.counts = counts


class BoardCountsFailed(Message):
    """Reading the home board's counts failed; the board keeps its last figures."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
