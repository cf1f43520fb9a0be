"""Who is acting, and from which terminal: the facts every audit event carries.

The operator is the OS account of the process's real uid, read from the system's account
database: never `LOGNAME` or `USER` (which `getpass.getuser()` reads first, and which any
caller sets). The terminal is what sshd put in the environment: a claim, not a proof.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from controlroom.domain.roles import Role

LOCAL_TERMINAL = "local"


@dataclass(frozen=True, slots=True)
class Actor:
    """The operator behind an action: a staff account plus the terminal they are at."""

    staff_id: int | None
    username: str
    role: Role | None
    terminal: str


class NoAccount(Exception):
    """The process's uid has no entry in the system's account database."""


def process_account() -> str:
    """The name of the OS account this process runs as (its real uid). Nothing in the
    environment changes it."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        raise NoAccount(
            f"this process's user id {uid} has no account on this host; "
            "Control Room runs only as an operator's own OS account"
        ) from None


def under_sshd(proc: Path = Path("/proc"), pid: int | None = None) -> bool | None:
    """Whether an sshd process is among this process's ancestors: True or False, or None
    where the process table cannot be read (no /proc, or it hides other accounts).

    An SSH_CLIENT that no sshd set is somebody's invention: the terminal is then `local`.
    """
    pid = os.getpid() if pid is None else pid
    seen = set()
    while pid > 1 and pid not in seen:
        seen.add(pid)
        try:
            stat = (proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        if comm.startswith("sshd"):
            return True
        pid = int(stat[stat.rindex(")") + 2 :].split()[1])
    return False


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
