"""Opening an operator's session: the database is usable, the operator may sign in, and
what the database says about itself (environment, synthetic marking)."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from controlroom.data.opening import DatabaseNotReady, DatabaseUnreachable
from controlroom.domain.availability import DatabaseState
from controlroom.domain.environment import Environment
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
    # The operator's last session ended behind the idle lock (`session_lock.lock`), not
    # unlocked since: this one opens on the lock screen.
    locked_since: datetime | None = None
    # A sentence the operator must see at once (a production file others can read).
    warning: str | None = None
    # The database answered but cannot be written (a read-only SQLite file, a standby):
    # the session opened to say so, with nothing on the record. `read_only_as`: which
    # (READ_ONLY, or STANDBY: lookups work).
    read_only: bool = False
    read_only_as: DatabaseState = DatabaseState.READ_ONLY
    # The database did not answer: opened from this station's cache of the last good
    # sign-in (services/offline.py); the account is checked again when it answers.
    offline: bool = False


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


class DatabaseAway(SessionRefused):
    """The database could not be opened at all (an outage, not a refusal): the station's
    cache of the last good sign-in may open the session instead. Its text is the
    driver's reason: screens word it as the database not answering."""

    database_failure = True


def demo_refusal(profile: DatabaseProfile) -> str | None:
    """Why the shared demo account may not sign in here, or None: only on a database
    marked synthetic training data, never on production (issue 16)."""
    if profile.environment is Environment.TRAINING and profile.synthetic:
        return None
    kind = "synthetic " if profile.synthetic else ""
    return (
        "the demo account signs in only on a synthetic training database; this is a "
        f"{kind}{profile.environment.value} database. Run `controlroom` to sign in as "
        "yourself"
    )


def open_session(
    uow_factory: UnitOfWorkFactory,
    username: str,
    terminal: str,
    *,
    demo_for: str | None = None,
    database_url: str | None = None,
) -> OpenedSession:
    """Sign `username` in and open this run's session. With `demo_for` (the OS account
    running `controlroom demo`), `username` is the shared demo account, which signs in
    only on a synthetic training database; a refusal is audited as `demo_for`."""
    try:
        if demo_for is not None:
            refusal = demo_refusal(database.profile(uow_factory()))
            if refusal is not None:
                staff.refuse_sign_in(uow_factory(), demo_for, terminal, refusal)
                raise AccessRefused(refusal)
        # A database that answers but cannot be written still opens the session,
        # marked `read_only`, so the app can say why nothing can be saved (issue 13).
        state = availability.probe(uow_factory())
        writable = state is DatabaseState.ANSWERING
        member = staff.sign_in(uow_factory(), username, terminal, audited=writable)
        profile = database.profile(uow_factory())
    except DatabaseUnreachable as exc:
        # An outage: the station's cache may sign the operator in (screens/sign_in.py).
        raise DatabaseAway(str(exc)) from None
    except (AccessRefused, DatabaseNotReady, DatabaseNotInitialised) as exc:
        raise SessionRefused(str(exc)) from None
    if not writable:
        log.warning("session of %s at %s opened on a read-only database", username, terminal)
        return OpenedSession(member, profile, None, read_only=True, read_only_as=state)
    session_id = staff.begin_session(
        uow_factory(),
        member,
        terminal,
        host=socket.gethostname(),
        pid=os.getpid(),
        running=process_running,
    )
    from controlroom.services.session_lock import locked_since

    return OpenedSession(
        member,
        profile,
        session_id,
        locked_since=locked_since(uow_factory(), member.username),
        warning=None if database_url is None else database.exposure_warning(profile, database_url),
    )
