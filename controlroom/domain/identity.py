"""Who is acting, and from which terminal: the facts every audit event carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from controlroom.domain.roles import Role

LOCAL_TERMINAL = "local"


@dataclass(frozen=True, slots=True)
class Actor:
    """The operator behind an action: a staff account plus the terminal they are at."""

    staff_id: int | None
    username: str
    role: Role | None
    terminal: str


def terminal_from_environment(environ: Mapping[str, str]) -> str:
    """The SSH client address of this session, or `local` for a console session.

    sshd sets SSH_CLIENT to "address port localport" and SSH_CONNECTION to
    "address port serveraddress serverport"; either gives the client address.
    """
    for name in ("SSH_CLIENT", "SSH_CONNECTION"):
        value = environ.get(name, "").strip()
        if value:
            return value.split()[0]
    return LOCAL_TERMINAL
