"""The control room's local time: what "today" and an incident reference's day mean.

A call at 00:30 BST on 1 June is on 1 June's list although it is still 31 May in UTC.
Instants are stored in UTC; the day is read in Europe/London here, in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/London")


def local_day(instant: datetime) -> date:
    """The control room's day at `instant` (an aware datetime)."""
    return instant.astimezone(LOCAL_ZONE).date()
