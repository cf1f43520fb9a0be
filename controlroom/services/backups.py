"""Backups that restore (issue 19, item 5): `controlroom db backup` and `db restore`.

A backup is a file: SQLite's online backup API, or `pg_dump`'s custom format
(`controlroom.data.copies`). It is not called a backup until it has been restored into
a scratch database and the audit chain has been verified there (`audit verify`); a
file that fails that check is deleted and the backup fails. The scratch database is
dropped afterwards.

Who: administrators only (the permission table's DATABASE_MAINTAIN): a backup holds
every record. A backup is audited in the database it copies (`database.backup`, after
the check, so its detail says what the check found; the backup itself does not hold
that event). A refusal is audited there too.

A restore goes into a new or empty database only, never over one that holds anything.
The backup is first checked in a scratch database (audit chain, and that the operator
is an active administrator of the backed-up database); only then is it restored into
the target, where `database.restore` is appended to the restored audit trail. A refused
restore changes no database, and there is none yet to record it in: it is written to
the engineer's log instead (`controlroom.logs`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from controlroom.data import copies
from controlroom.data.copies import CopyFailed, RestoreRefused
from controlroom.data.uow import Database
from controlroom.domain.audit_chain import Verification
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, Decision, decide
from controlroom.domain.roles import Role
from controlroom.services import access, audit, staff
from controlroom.services.audit import Outcome
from controlroom.services.audit_trail import verify_chain

__all__ = ["BackupFailed", "BackupResult", "CopyFailed", "RestoreRefused", "RestoreResult"]

log = logging.getLogger("controlroom.backups")


class BackupFailed(Exception):
    """The backup or restore did not happen, or did not check out; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int  # bytes
    events: int  # audit events verified in the restored copy
    seconds: float


@dataclass(frozen=True, slots=True)
class RestoreResult:
    events: int  # audit events verified in the restored database
    seconds: float


def sign_in_administrator(database: Database, username: str, terminal: str) -> Actor:
    """`username` signed in to `database`, as an administrator, or PermissionError
    (the refusal audited there)."""
    try:
        member = staff.sign_in(database.uow(), username, terminal)
    except staff.AccessRefused as exc:
        raise PermissionError(str(exc)) from None
    actor = member.actor(terminal)
    with database.uow() as uow:
        access.require(uow, actor, Action.DATABASE_MAINTAIN, "database", 1)
    return actor


def verify_in_scratch(path: Path, near_url: str, *, username: str | None = None) -> Verification:
    """Restore the backup `path` into a scratch database beside `near_url`, verify its
    audit chain there, drop it. With `username`: also refuse (PermissionError) unless
    they are an active administrator of the backed-up database."""
    scratch = copies.scratch_url(near_url, "verify")
    try:
        copies.restore_backup(path, scratch)
        restored = Database(scratch)
        try:
            if username is not None:
                with restored.uow() as uow:
                    member = uow.staff.by_username(username)
                    if (
                        member is None
                        or not member.active
                        or decide(Role(member.role), Action.DATABASE_MAINTAIN) is Decision.DENIED
                    ):
                        raise PermissionError(
                            f"{username!r} is not an active administrator of the backed-up"
                            " database: only its administrators may restore it"
                        )
            return verify_chain(restored.uow())
        finally:
            restored.dispose()
    finally:
        copies.drop(scratch)


def back_up(database: Database, username: str, terminal: str, path: Path) -> BackupResult:
    """Write a backup of `database` to the new file `path`, check it, and audit it."""
    started = time.perf_counter()
    actor = sign_in_administrator(database, username, terminal)
    try:
        copies.write_backup(database.url, path)
        verification = verify_in_scratch(path, database.url)
    except CopyFailed as exc:
        _audit_backup(database, actor, Outcome.FAILED, f"{path.name}: {exc}")
        raise BackupFailed(f"backup failed: {exc}") from None
    if not verification.intact:
        path.unlink(missing_ok=True)
        broken = verification.broken
        problem = f"audit chain broken at event {broken.seq}" if broken else "audit chain broken"
        _audit_backup(database, actor, Outcome.FAILED, f"{path.name}: {problem}; file deleted")
        raise BackupFailed(
            f"the backup did not check out ({problem} in the restored copy); the file was"
            " deleted. Run `controlroom audit verify` on the database itself."
        )
    size = path.stat().st_size
    _audit_backup(
        database,
        actor,
        Outcome.SUCCESS,
        f"{path.name}: {size} bytes; restored to a scratch database, audit chain intact"
        f" ({verification.events} events)",
    )
    return BackupResult(path, size, verification.events, time.perf_counter() - started)


def _audit_backup(database: Database, actor: Actor, outcome: Outcome, detail: str) -> None:
    with database.uow() as uow:
        audit.record(uow, actor, "database.backup", "database", 1, outcome=outcome, detail=detail)
        uow.commit()


def restore(path: Path, url: str, username: str, terminal: str) -> RestoreResult:
    """Restore the backup `path` into the new or empty database at `url`, after checking
    it in a scratch database; append `database.restore` to the restored audit trail."""
    started = time.perf_counter()
    try:
        if copies.holds_tables(url):
            raise RestoreRefused(
                f"{copies.mask(url)} holds a database already; restore into a new or empty"
                " one (move or rename the damaged one first)"
            )
        try:
            checked = verify_in_scratch(path, url, username=username)
        except PermissionError as exc:
            log.warning("restore of %s refused for %s at %s: %s", path, username, terminal, exc)
            raise
        if not checked.intact:
            raise BackupFailed(
                "the backup's audit chain does not verify: not restored (is it the file"
                " `controlroom db backup` wrote?)"
            )
        copies.restore_backup(path, url)
    except RestoreRefused:
        raise
    except CopyFailed as exc:
        raise BackupFailed(f"restore failed: {exc}") from None
    restored = Database(url)
    try:
        verification = verify_chain(restored.uow())
        actor = staff.sign_in(restored.uow(), username, terminal).actor(terminal)
        with restored.uow() as uow:
            audit.record(
                uow,
                actor,
                "database.restore",
                "database",
                1,
                detail=f"from {path.name}; audit chain intact ({verification.events} events)",
            )
            uow.commit()
    finally:
        restored.dispose()
    return RestoreResult(verification.events, time.perf_counter() - started)
