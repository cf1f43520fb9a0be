"""The idle lock: setting an operator's PIN, locking a session, and unlocking it.

The PIN is kept only as an argon2id hash (argon2-cffi's defaults); it is never stored,
logged or put in an audit event. Five wrong PINs in a row lock the account for ten
minutes: while locked, no PIN is even checked, and the sign-in is refused too. A right
PIN clears the count. Every lock, unlock, wrong PIN and PIN change is audited.

A lock outlives the process (issue 16: quitting and starting again bypassed it): `lock`
marks the operator's account (`session_locked_at`), only the right PIN clears it, and
`locked_since` tells the next start to open on the lock screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from controlroom.data.models import utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action
from controlroom.services import access, audit
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from argon2 import PasswordHasher

    from controlroom.services.unit_of_work import UnitOfWork

MAX_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=10)
PIN_MINIMUM = 4
PIN_MAXIMUM = 12


@cache
def _hasher() -> PasswordHasher:
    # argon2 (and its cffi bindings) are loaded by the first PIN set or checked, not by
    # every sign-in: most sessions never lock (issue 15's memory per operator).
    from argon2 import PasswordHasher

    return PasswordHasher()


class PinError(ValueError):
    """The PIN given cannot be used (set-pin); the message says why."""


class UnlockRefused(Exception):
    """The session stays locked; the message says why and what to do.

    `attempts_left` is how many wrong PINs remain before the account locks (0 when it is
    locked), `locked_until` the end of a lockout (UTC) or None."""

    def __init__(
        self, message: str, *, attempts_left: int, locked_until: datetime | None = None
    ) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left
        self.locked_until = locked_until


@dataclass(frozen=True, slots=True)
class PinState:
    has_pin: bool
    locked_until: datetime | None


def check_pin_rules(pin: str) -> str:
    """The PIN as it will be hashed, or PinError: 4 to 12 digits."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise PinError("a PIN is digits only")
    if not PIN_MINIMUM <= len(pin) <= PIN_MAXIMUM:
        raise PinError(f"a PIN has {PIN_MINIMUM} to {PIN_MAXIMUM} digits")
    if len(set(pin)) == 1:
        raise PinError("a PIN of one digit repeated is too easy to guess")
    return pin


def set_pin(uow: UnitOfWork, actor: Actor, username: str, pin: str) -> None:
    """Set `username`'s PIN. Operators set their own; an administrator may set anyone's
    (the permission table's STAFF_MANAGE). Clears any lockout."""
    check_pin_rules(pin)
    hashed = _hasher().hash(pin)
    with uow:
        if username != actor.username:
            access.require(
                uow, actor, Action.STAFF_MANAGE, "staff", username, audit_action="staff.set_pin"
            )
        staff = uow.staff.by_username(username)
        if staff is None or not staff.active:
            raise PinError(f"{username!r} is not an active Control Room user")
        staff.pin_hash = hashed
        staff.failed_pin_attempts = 0
        staff.pin_locked_until = None
        audit.record(
            uow,
            actor,
            "staff.set_pin",
            "staff",
            staff.id,
            detail="own PIN" if username == actor.username else "set by administrator",
        )
        uow.commit()


def pin_state(uow: UnitOfWork, username: str) -> PinState:
    with uow:
        staff = uow.staff.by_username(username)
        if staff is None:
            return PinState(False, None)
        return PinState(staff.pin_hash is not None, staff.pin_locked_until)


def lock(uow: UnitOfWork, actor: Actor, idle_minutes: float, *, resumed: bool = False) -> None:
    """Record that the session locked itself after `idle_minutes` idle (or, `resumed`,
    that it started locked because the last one ended locked); the account stays marked
    locked until the right PIN."""
    with uow:
        staff = uow.staff.by_username(actor.username)
        if staff is not None and staff.session_locked_at is None:
            staff.session_locked_at = utcnow()
        audit.record(
            uow,
            actor,
            "session.lock",
            "staff",
            actor.staff_id,
            detail="the last session ended locked: PIN asked at start"
            if resumed
            else f"idle {idle_minutes:g} minutes; record data hidden",
        )
        uow.commit()


def locked_since(uow: UnitOfWork, username: str) -> datetime | None:
    """When `username`'s session locked and was not unlocked since, or None."""
    with uow:
        staff = uow.staff.by_username(username)
        return None if staff is None else staff.session_locked_at


def locked_out_until(staff, now: datetime) -> datetime | None:
    until = staff.pin_locked_until
    return until if until is not None and until > now else None


def unlock(uow: UnitOfWork, actor: Actor, pin: str, now: datetime | None = None) -> None:
    """Check the PIN and unlock the session, or raise UnlockRefused (audited either way)."""
    now = now or utcnow()
    with uow:
        staff = uow.staff.by_username(actor.username)
        if staff is None or not staff.active or staff.locked:
            audit.record(
                uow,
                actor,
                "session.unlock",
                "staff",
                actor.username,
                outcome=Outcome.REFUSED,
                detail="account inactive, locked or gone",
            )
            uow.commit()
            raise UnlockRefused(
                "this account can no longer sign in; ask an administrator", attempts_left=0
            )
        until = locked_out_until(staff, now)
        if until is not None:
            audit.record(
                uow,
                actor,
                "session.unlock",
                "staff",
                staff.id,
                outcome=Outcome.REFUSED,
                detail=f"locked out until {until:%H:%M} UTC",
            )
            uow.commit()
            raise UnlockRefused(_locked_message(until), attempts_left=0, locked_until=until)
        if staff.pin_hash is None:
            audit.record(
                uow,
                actor,
                "session.unlock",
                "staff",
                staff.id,
                outcome=Outcome.REFUSED,
                detail="no PIN set",
            )
            uow.commit()
            raise UnlockRefused(
                "no PIN is set for this account: end the session (ctrl+q; "
                "your draft is kept), then run `controlroom staff set-pin`",
                attempts_left=0,
            )
        if _verifies(staff.pin_hash, pin):
            staff.failed_pin_attempts = 0
            staff.pin_locked_until = None
            staff.session_locked_at = None
            audit.record(uow, actor, "session.unlock", "staff", staff.id)
            uow.commit()
            return
        failures = (staff.failed_pin_attempts or 0) + 1
        if failures >= MAX_ATTEMPTS:
            staff.failed_pin_attempts = 0
            staff.pin_locked_until = now + LOCKOUT
            audit.record(
                uow,
                actor,
                "session.unlock",
                "staff",
                staff.id,
                outcome=Outcome.DENIED,
                detail=f"wrong PIN ({MAX_ATTEMPTS} in a row): account locked until "
                f"{staff.pin_locked_until:%H:%M} UTC",
            )
            uow.commit()
            raise UnlockRefused(
                _locked_message(staff.pin_locked_until),
                attempts_left=0,
                locked_until=staff.pin_locked_until,
            )
        staff.failed_pin_attempts = failures
        audit.record(
            uow,
            actor,
            "session.unlock",
            "staff",
            staff.id,
            outcome=Outcome.DENIED,
            detail=f"wrong PIN ({failures} of {MAX_ATTEMPTS})",
        )
        uow.commit()
        left = MAX_ATTEMPTS - failures
        raise UnlockRefused(
            f"wrong PIN: {left} attempt{'s' if left != 1 else ''} left before "
            f"the account locks for {LOCKOUT.seconds // 60} minutes",
            attempts_left=left,
        )


def _verifies(hashed: str, pin: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(hashed, pin or "")
    except (VerificationError, InvalidHashError):
        return False


def _locked_message(until: datetime) -> str:
    return (
        f"too many wrong PINs: the account is locked until {until:%H:%M} UTC; "
        "wait, or ask a supervisor"
    )
