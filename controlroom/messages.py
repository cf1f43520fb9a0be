"""App-wide messages: events that cross screens, named in the past tense, handled by the App.

A screen posts one of these when what happens next is another screen's business (an
incident was saved, so its view opens; an incident was chosen in a list, so it opens).
The App decides which screen that is, so screens of one feature never import another
feature's screens to open them — and no two screens import each other.

Messages that stay inside one screen live on that screen (STYLE.md). Kept import-light:
the types they carry are imported for annotations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from controlroom.services.board import BoardCounts
    from controlroom.services.drafts import DraftJournal
    from controlroom.services.offline import ReplayReport
    from controlroom.services.session import OpenedSession


@dataclass
class SessionOpened(Message):
    """The operator signed in; the session carries who they are and the database's profile.

    `drafts` is the operator's draft journal; `found` each draft on disk with what it
    holds (incidents the operator had not saved when a session ended), oldest first.
    """

    session: OpenedSession
    drafts: DraftJournal
    found: tuple[tuple[DraftJournal, dict[str, object]], ...] = ()
    # The home board's first figures, read with the session (None: the board reads them).
    board_counts: BoardCounts | None = None


@dataclass
class SessionConfirmed(Message):
    """A session opened from the station's cache was checked against the database when
    it answered again: the operator as the database has them, and this run's session."""

    session: OpenedSession


@dataclass
class SignInRefused(Message):
    """The session may not open (unknown or locked account, database not ready)."""

    reason: str


@dataclass
class IncidentSaved(Message):
    """An entry form saved a new incident (or added its call to one): its view replaces
    the form."""

    reference: str


@dataclass
class IncidentChosen(Message):
    """The operator chose an incident in a list (queue, person record): open its view."""

    reference: str


@dataclass
class ReportSaved(Message):
    """A new intelligence report was saved: it replaces the form that made it."""

    report_id: int


@dataclass
class OfflineReplayed(Message):
    """This session's offline journal was replayed into the database (or part of it)."""

    report: ReplayReport
