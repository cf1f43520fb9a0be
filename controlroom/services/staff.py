"""Staff accounts and the operator's identity.

The operator is the OS user running the process (over SSH, the account sshd logged in).
Unknown, inactive or locked accounts are refused, and the refusal is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from controlroom.data.models import Staff, StaffSession, utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, Decision, decide
from controlroom.domain.roles import Role
from controlroom.domain.safe_text import printable
from controlroom.services import access, audit
from controlroom.services.access import PermissionDenied
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: int
    username: str
    display_name: str
    role: Role
    collar_number: str | None
    station: str | None
    active: bool
    locked: bool

    def actor(self, terminal: str) -> Actor:
        return Actor(staff_id=self.id, username=self.username, role=self.role, terminal=terminal)


class AccessRefused(Exception):
    """The operator may not open Control Room; the message says why and what to do."""


class StaffAccessDenied(AccessRefused, PermissionDenied):
    """The operator may not manage staff (the permission table's STAFF_MANAGE)."""


class StaffError(ValueError):
    """A staff command was given something it cannot use; the message says what."""


def _member(staff: Staff) -> StaffMember:
    return StaffMember(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        role=Role(staff.role),
        collar_number=staff.collar_number,
        station=staff.station,
        active=staff.active,
        locked=staff.locked,
    )


def sign_in(uow: UnitOfWork, username: str, terminal: str, *, audited: bool = True) -> StaffMember:
    """Check that `username` may open Control Room; audit the attempt either way.

    `audited=False` only where nothing can be written (a read-only database: the
    session then opens to say so, and no record can be read, since every read is
    audited); the CLI's log file has the sign-in instead."""
    with uow:
        return _sign_in(uow, username, terminal, audited)


def _sign_in(uow: UnitOfWork, username: str, terminal: str, audited: bool = True) -> StaffMember:
    staff = uow.staff.by_username(username)
    # Five wrong PINs at the idle lock (services.session_lock) lock the account for a while.
    pin_locked = (
        staff is not None
        and staff.pin_locked_until is not None
        and staff.pin_locked_until > utcnow()
    )
    if staff is None or not staff.active or staff.locked or pin_locked:
        if staff is None:
            reason = (
                f"{username!r} is not a Control Room user on this database. An administrator "
                f"can enrol them: controlroom staff add {username} --role ROLE --name NAME"
            )
        elif pin_locked:
            reason = (
                f"the account {username!r} is locked after too many wrong PINs until "
                f"{staff.pin_locked_until:%H:%M} UTC; wait, or ask a supervisor"
            )
        elif not staff.active:
            reason = f"the account {username!r} is inactive; ask an administrator."
        else:
            reason = (
                f"the account {username!r} is locked; an administrator can unlock it: "
                f"controlroom staff unlock {username}"
            )
        if audited:
            _record_refusal(uow, None if staff is None else staff.id, username, terminal, reason)
        raise AccessRefused(reason)
    member = _member(staff)
    if audited:
        audit.record(uow, member.actor(terminal), "session.start", "staff", staff.id)
        uow.commit()
    return member


def member_on_record(uow: UnitOfWork, username: str) -> StaffMember | None:
    """`username`'s account as it stands, read only (nothing audited): for the one check
    that must run when the audit trail cannot be written (`audit_trail.verify_as`).
    None for an unknown, inactive or locked account."""
    with uow:
        staff = uow.staff.by_username(username)
        if staff is None or not staff.active or staff.locked:
            return None
        return _member(staff)


def _record_refusal(
    uow: UnitOfWork, staff_id: int | None, username: str, terminal: str, reason: str
) -> None:
    actor = Actor(staff_id=staff_id, username=username, role=None, terminal=terminal)
    audit.record(
        uow, actor, "session.start", "staff", username, outcome=Outcome.REFUSED, detail=reason
    )
    uow.commit()


def refuse_sign_in(uow: UnitOfWork, username: str, terminal: str, reason: str) -> None:
    """Put a refused sign-in on the record (`username` is the OS account that tried),
    before the caller says no."""
    with uow:
        staff = uow.staff.by_username(username)
        _record_refusal(uow, None if staff is None else staff.id, username, terminal, reason)


def _require_administrator(uow: UnitOfWork, actor: Actor, action: str, target: str) -> None:
    # The role on record now, not the one the actor signed in with: a demoted or locked
    # administrator stops managing staff at once.
    staff = uow.staff.by_username(actor.username)
    if (
        staff is None
        or decide(staff.role, Action.STAFF_MANAGE) is Decision.DENIED
        or decide(actor.role, Action.STAFF_MANAGE) is Decision.DENIED
        or not staff.active
        or staff.locked
    ):
        access.refuse(
            uow,
            actor,
            Action.STAFF_MANAGE,
            "staff",
            target,
            audit_action=action,
            detail="administrator role required",
            error=StaffAccessDenied,
            message=f"{actor.username!r} may not manage staff: only an active administrator can.",
        )


def _clean(
    value: str | None, field: str, *, required: bool = False, limit: int = 120
) -> str | None:
    text = (value or "").strip()
    if printable(text) != text:
        # Names are single lines; a control character (ESC, NUL, a bidi override) in
        # one is a mistake or an attack, and PostgreSQL cannot even store NUL.
        raise StaffError(f"{field} contains control characters")
    if required and not text:
        raise StaffError(f"{field} is required")
    if len(text) > limit:
        raise StaffError(f"{field} is longer than {limit} characters")
    return text or None


def add_staff(
    uow: UnitOfWork,
    actor: Actor,
    *,
    username: str,
    role: Role,
    display_name: str,
    collar_number: str | None = None,
    station: str | None = None,
) -> StaffMember:
    username = _clean(username, "username", required=True, limit=64) or ""
    if any(c.isspace() for c in username):
        raise StaffError("username must be an OS login name, without spaces")
    display_name = _clean(display_name, "name", required=True) or ""
    with uow:
        _require_administrator(uow, actor, "staff.add", username)
        return _add_staff(uow, actor, username, role, display_name, collar_number, station)


def _add_staff(
    uow: UnitOfWork, actor, username, role, display_name, collar_number, station
) -> StaffMember:
    if uow.staff.by_username(username) is not None:
        raise StaffError(f"{username!r} is already enrolled")
    staff = Staff(
        username=username,
        display_name=display_name,
        role=role.value,
        collar_number=_clean(collar_number, "collar number", limit=16),
        station=_clean(station, "station", limit=80),
        active=True,
        locked=False,
    )
    uow.staff.add(staff)
    uow.flush()
    audit.record(uow, actor, "staff.add", "staff", staff.id, detail=f"role={role.value}")
    uow.commit()
    return _member(staff)


def set_locked(uow: UnitOfWork, actor: Actor, username: str, locked: bool) -> StaffMember:
    action = "staff.lock" if locked else "staff.unlock"
    with uow:
        _require_administrator(uow, actor, action, username)
        staff = uow.staff.by_username(username)
        if staff is None:
            raise StaffError(f"{username!r} is not enrolled")
        if locked and staff.username == actor.username:
            raise StaffError("you cannot lock your own account")
        staff.locked = locked
        audit.record(uow, actor, action, "staff", staff.id)
        uow.commit()
        return _member(staff)


def _other_account(uow: UnitOfWork, actor: Actor, action: str, username: str, what: str) -> Staff:
    """The enrolled account an administrator is changing, never their own."""
    _require_administrator(uow, actor, action, username)
    staff = uow.staff.by_username(username)
    if staff is None:
        raise StaffError(f"{username!r} is not enrolled")
    if staff.username == actor.username:
        raise StaffError(f"you cannot {what}; ask another administrator")
    return staff


def set_role(uow: UnitOfWork, actor: Actor, username: str, role: Role) -> StaffMember:
    """Change a member of staff's role (audited `staff.set_role`, old -> new). The new role
    applies from their next action: services read the role on record."""
    with uow:
        staff = _other_account(uow, actor, "staff.set_role", username, "change your own role")
        old = staff.role
        staff.role = role.value
        audit.record(
            uow, actor, "staff.set_role", "staff", staff.id, detail=f"role {old} -> {role.value}"
        )
        uow.commit()
        return _member(staff)


def deactivate(uow: UnitOfWork, actor: Actor, username: str) -> StaffMember:
    """End a member of staff's access for good (a leaver): they can no longer sign in;
    their name stays on everything they recorded. Audited `staff.deactivate`."""
    with uow:
        staff = _other_account(uow, actor, "staff.deactivate", username, "end your own access")
        if not staff.active:
            raise StaffError(f"{username!r} no longer has access")
        staff.active = False
        audit.record(uow, actor, "staff.deactivate", "staff", staff.id)
        uow.commit()
        return _member(staff)


def is_enrolled(uow: UnitOfWork, actor: Actor, username: str) -> bool:
    """Whether `username` is an enrolled, active account (administrators; for the CLI to
    check before it asks for anything)."""
    with uow:
        _require_administrator(uow, actor, "staff.check", username)
        staff = uow.staff.by_username(username)
        return staff is not None and staff.active


def list_staff(uow: UnitOfWork, actor: Actor) -> list[StaffMember]:
    with uow:
        _require_administrator(uow, actor, "staff.list", "*")
        members = [_member(s) for s in uow.staff.list()]
        audit.record(uow, actor, "staff.list", "staff", None, detail=f"{len(members)} accounts")
        uow.commit()
        return members


def begin_session(
    uow: UnitOfWork,
    member: StaffMember,
    terminal: str,
    *,
    host: str,
    pid: int,
    running: Callable[[int], bool],
) -> int:
    """Put a run of the app on the record (`StaffSession`); its id. First, the operator's
    earlier runs on this host that never ended on the record and whose process is gone
    (`running(pid)` false: killed, the host lost power) are ended now, each with a
    `session.end` saying so — a session never stays open on the record for ever."""
    with uow:
        for stale in uow.sessions.open_on_host(member.id, host):
            if running(stale.pid):
                continue  # another live session of this operator on this host
            how = f"process died (pid {stale.pid} on {host}); closed at the next sign-in"
            stale.ended_at, stale.end_reason = utcnow(), how[:120]
            audit.record(
                uow,
                member.actor(stale.terminal),
                "session.end",
                "staff_session",
                stale.id,
                detail=how,
            )
        row = StaffSession(staff_id=member.id, terminal=terminal, host=host, pid=pid)
        uow.sessions.add(row)
        uow.commit()
        return row.id


def end_kept_session(
    uow: UnitOfWork,
    member_actor: Actor,
    session_id: int | None,
    how: str,
    ended_at: datetime,
) -> bool:
    """A session's end kept on its station while the database did not answer, put on
    the record: the session row ended when it really did (replacing an end the next
    sign-in guessed: "process died"), and a `session.end` saying so. False when this
    end is already on the record (a replay resumed after its commit)."""
    why = f"{how}; kept on this station while the database did not answer"[:120]
    with uow:
        row = None if session_id is None else uow.sessions.get(session_id)
        if row is not None:
            if row.end_reason == why:
                return False
            row.ended_at, row.end_reason = ended_at, why
        audit.record(
            uow,
            member_actor,
            "session.end",
            "staff" if row is None else "staff_session",
            member_actor.staff_id if row is None else row.id,
            detail=f"{why} (ended {ended_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)",
        )
        uow.commit()
        return True


def sign_out(
    uow: UnitOfWork,
    member: StaffMember,
    terminal: str,
    *,
    session_id: int | None = None,
    how: str = "quit",
) -> None:
    """Record the end of a session, and how it ended (quit, terminal lost, stopped…)."""
    with uow:
        row = None if session_id is None else uow.sessions.get(session_id)
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = utcnow(), how[:120]
        audit.record(uow, member.actor(terminal), "session.end", "staff", member.id, detail=how)
        uow.commit()
