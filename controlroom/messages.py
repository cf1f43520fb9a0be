"""App-wide messages, named in the past tense for what happened.

Workers post these from their threads; handlers on the UI thread update widgets.
Kept import-light: the types they carry are imported for annotations only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from controlroom.services.board import BoardCounts
    from controlroom.services.drafts import DraftJournal
    from controlroom.services.session import OpenedSession


class SessionOpened(Message):
    """The operator signed in; the session carries who they are and the database's profile.

    `drafts` is the operator's draft journal; `draft` what it held (an incident the
    operator had not saved when the last session ended), or None.
    """

    def __init__(self, session: OpenedSession, drafts: DraftJournal, draft: dict | None) -> None:
        super().__init__()
        self.session = session
        self.drafts = drafts
        self.draft = draft


class SignInRefused(Message):
    """The session may not open (unknown or locked account, database not ready)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


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
