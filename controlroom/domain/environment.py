"""Which kind of database this is. A database knows its environment and says so on screen."""

from __future__ import annotations

from enum import StrEnum


class Environment(StrEnum):
    PRODUCTION = "production"
    TRAINING = "training"
    TEST = "test"

    @property
    def banner(self) -> str | None:
        """The banner every screen shows, or None for production (which shows it in the header)."""
        if self is Environment.TRAINING:
            return "TRAINING — synthetic data, not for operational use"
        if self is Environment.TEST:
            return "TEST — not for operational use"
        return None
