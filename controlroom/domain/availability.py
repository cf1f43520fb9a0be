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
    # SQLite's "database or disk is full" met by a write, and no room found since.
    DISK_FULL = "disk full"
    # Only a hot standby answers (the primary gone, not yet replaced): lookups work, read
    # only, their audit kept on the station; new incidents go to the offline journal.
    STANDBY = "standby only"


@dataclass(frozen=True, slots=True)
class Availability:
    """The database as the app last found it; `since` is when it became so (None while
    answering: nothing to say). `data_as_of`, on a standby: the time of the last change
    it received from the primary (None: not known)."""

    state: DatabaseState = DatabaseState.ANSWERING
    since: datetime | None = None
    data_as_of: datetime | None = None

    @property
    def answering(self) -> bool:
        return self.state is DatabaseState.ANSWERING

    @property
    def keeps_calls_offline(self) -> bool:
        """Saves go to the station's offline journal: the database does not answer, or
        answers but cannot be written (an SQLite file made read-only or its disk full, a standby), so a
        save sent to it would only wait out its bounds or be refused."""
        return self.state in (
            DatabaseState.NOT_ANSWERING,
            DatabaseState.READ_ONLY,
            DatabaseState.DISK_FULL,
            DatabaseState.STANDBY,
        )

    def became(
        self, state: DatabaseState, now: datetime, data_as_of: datetime | None = None
    ) -> Availability:
        """The availability after a probe found `state` at `now` (a standby's data as of
        `data_as_of`): the time it started is kept while the state lasts."""
        if state is self.state:
            if state is DatabaseState.STANDBY and data_as_of != self.data_as_of:
                return Availability(state, self.since, data_as_of)
            return self
        if state is DatabaseState.ANSWERING:
            return Availability()
        return Availability(state, now, data_as_of if state is DatabaseState.STANDBY else None)


def keeps_offline(availability: Availability) -> bool:
    """Whether saves go to the station's offline journal (`Availability.keeps_calls_offline`)."""
    return availability.keeps_calls_offline


def banner_words(availability: Availability, zone: tzinfo) -> str:
    """The frame's line about the database ("" while it answers): at most two lines of
    80 columns."""
    if availability.answering or availability.since is None:
        return ""
    since = availability.since.astimezone(zone).strftime("%H:%M")
    if availability.state is DatabaseState.STANDBY:
        as_of = availability.data_as_of
        fresh = "age unknown" if as_of is None else f"as of {as_of.astimezone(zone):%H:%M:%S}"
        return (
            f"DATABASE STANDBY ONLY since {since}, data {fresh}: read-only lookups work; "
            "new incidents are kept on this station (OFFLINE), nothing else saves."
        )
    if availability.state is DatabaseState.READ_ONLY:
        # Not even a record can be opened: every read is audited, a write.
        return (
            f"DATABASE READ-ONLY since {since}: nothing can be opened (reads are audited); "
            "calls, notes, status and grade changes are kept on this station (OFFLINE)."
        )
    if availability.state is DatabaseState.DISK_FULL:
        return (
            f"DATABASE DISK FULL since {since}: nothing can be written, records may not "
            "open; calls, notes, status and grade changes are kept on this station (OFFLINE)."
        )
    return (
        f"DATABASE NOT ANSWERING since {since}: calls, notes, status and grade changes are "
        "kept on this station (OFFLINE) and sent when it answers; nothing else saves."
    )


def cache_age(as_of: datetime, now: datetime) -> str:
    """How old a cache read at `as_of` is at `now`: "under a minute", "25 min", "3 h 5 min",
    "2 days"."""
    minutes = max(0, int((now - as_of).total_seconds() // 60))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} days"
