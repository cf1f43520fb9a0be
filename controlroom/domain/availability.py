"""Whether the database is answering, since when, and what the frame says about it.

The app probes the database every second (`screens/database_watch.py`); the last
answer, or a probe that has gone unanswered too long, decides the `Availability` every
screen shows in its frame. The words are fixed here, one place: what happened, since
when (the control room's local time), and what still works. Never an exception's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import Enum


class DatabaseState(Enum):
    ANSWERING = "answering"
    NOT_ANSWERING = "not answering"  # stopped, frozen, unreachable, or failing
    READ_ONLY = "read-only"  # it answers, but nothing can be written to it


@dataclass(frozen=True, slots=True)
class Availability:
    """The database as the app last found it; `since` is when it became so (None while
    answering: nothing to say)."""

    state: DatabaseState = DatabaseState.ANSWERING
    since: datetime | None = None

    @property
    def answering(self) -> bool:
        return self.state is DatabaseState.ANSWERING

    def became(self, state: DatabaseState, now: datetime) -> Availability:
        """The availability after a probe found `state` at `now`: the time it started is
        kept while the state lasts."""
        if state is self.state:
            return self
        return Availability(state, None if state is DatabaseState.ANSWERING else now)


def keeps_offline(availability: Availability) -> bool:
    """Whether saves go to the station's offline journal: the database does not answer,
    or answers but cannot be written (an SQLite file made read-only, a standby)."""
    return availability.state in (DatabaseState.NOT_ANSWERING, DatabaseState.READ_ONLY)


def banner_words(availability: Availability, zone: tzinfo) -> str:
    """The frame's line about the database ("" while it answers): at most two lines of
    80 columns."""
    if availability.answering or availability.since is None:
        return ""
    since = availability.since.astimezone(zone).strftime("%H:%M")
    if availability.state is DatabaseState.READ_ONLY:
        # Not even a record can be opened: every read is audited, a write.
        return (
            f"DATABASE READ-ONLY since {since}: nothing can be opened (reads are audited); "
            "calls, notes, status and grade changes are kept on this station (OFFLINE)."
        )
    return (
        f"DATABASE NOT ANSWERING since {since}: calls, notes, status and grade changes are "
        "kept on this station (OFFLINE) and sent when it answers; nothing else saves."
    )
