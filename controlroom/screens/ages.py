"""How long something has waited, as every screen writes it: 45m, 3h 12m, 9d 4h."""

from __future__ import annotations

from datetime import timedelta


def format_age(age: timedelta) -> str:
    """An age as an operator reads it: 45m, 3h 12m, 9d 4h (never negative)."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, minutes = divmod(minutes, 60 * 24)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"
