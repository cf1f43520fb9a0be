"""Opening an operator's session: the database is usable, the operator may sign in, and
what the database says about itself (environment, synthetic marking)."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from controlroom.data.opening import DatabaseNotReady
from controlroom.domain.availability import DatabaseState
from controlroom.services import availability, database, staff
from controlroom.services.database import DatabaseNotInitialised, DatabaseProfile
from controlroom.services.staff import AccessRefused, StaffMember

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class OpenedSession:
    operator: StaffMember
    profile: DatabaseProfile
    # This run of the app on the record (`staff.begin_session`); its end is recorded
    # against it.
    session_id: int | None = None
    # The database answered but cannot be written (a read-only SQLite file, a standby):
    # the session opened to say so, with nothing on the record.
    read_only: bool = False


def process_running(pid: int) -> bool:
    """Whether `pid` is a live Control Room process on this host. A pid reused by some
    other program counts as gone (its command line does not name controlroom)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another account's process: it exists
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc to ask: alive is the safe answer (never end a live one)
    return b"controlroom" in command


log = logging.getLogger("controlroom.session")


class SessionRefused(Exception):
    """The session cannot open; the message says why and what to do."""


def open_session(uow_factory: UnitOfWorkFactory, username: str, terminal: str) -> OpenedSession:
    """Sign the operator in and put the session on the record. A database that answers
    but cannot be written still opens the session, marked `read_only`, so the app can
    say why nothing can be saved (rather than not start at all)."""
    try:
        writable = availability.probe(uow_factory()) is DatabaseState.ANSWERING
        member = staff.sign_in(uow_factory(), username, terminal, audited=writable)
        profile = database.profile(uow_factory())
    except (AccessRefused, DatabaseNotReady, DatabaseNotInitialised) as exc:
        raise SessionRefused(str(exc)) from None
    if not writable:
        log.warning("session of %s at %s opened on a read-only database", username, terminal)
        return OpenedSession(member, profile, None, read_only=True)
    session_id = staff.begin_session(
        uow_factory(),
        member,
        terminal,
        host=socket.gethostname(),
        pid=os.getpid(),
        running=process_running,
    )
    return OpenedSession(member, profile, session_id)
