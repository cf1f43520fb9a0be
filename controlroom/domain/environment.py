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


def copy_refusal(source: Environment, target: Environment) -> str | None:
    """Why records may not go from a `source` database into a `target` one, or None.

    Records leave production only through audited exports, never as a copy: a training
    or test database is where a contractor's test leaked real victims' details. And
    training or test records (synthetic) never go into production, where they would
    read as real. Copies between training and test databases are allowed.
    """
    if source is Environment.PRODUCTION:
        return (
            f"records from a production database are never copied into a {target.value}"
            " database (exports from production go through `controlroom audit export`"
            " and the record exports, with a role and a justification)"
        )
    if target is Environment.PRODUCTION:
        return (
            f"records from a {source.value} database are never copied into a production"
            " database (they are not operational records)"
        )
    return None
