"""Staff roles. The permission table that hangs off them arrives with the audit issue."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CALL_HANDLER = "call_handler"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    INTELLIGENCE = "intelligence"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


def parse_role(text: str) -> Role:
    """Parse a role name as typed on the command line ("call handler", "Supervisor")."""
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Role(key)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r}; choose one of: {names}") from None
