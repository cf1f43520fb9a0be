"""The control room's local time (placeholder until the domain branch lands)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/London")


def local_day(instant: datetime) -> date:
    return instant.astimezone(LOCAL_ZONE).date()
