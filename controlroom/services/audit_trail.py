"""Reading the audit trail: verifying the chain, "who looked at this", and the export for
the data-protection officer.

Who may do what here is the permission table's (`controlroom.domain.permissions`:
AUDIT_VIEW, AUDIT_EXPORT, AUDIT_VERIFY, EXPORT_RECORDS); the `may_*` switches ask it:
- "who looked at this" (a person, an incident, an intelligence report): supervisors;
- `audit export`: supervisors and administrators (the data-protection officer is given
  one of these accounts), with a justification when the database is production;
- `audit verify`: supervisors and administrators (it shows positions, never content).
Each of them is itself audited; a refusal too.

Exports from production leave out what could identify a protected person (a restricted
person, a sexual-offence complainant, a restricted intelligence report): their events
keep who, when and what was done, but the object id, justification and detail read
WITHHELD; search events keep no query text (it may name anyone). `include_protected`
(an explicit authorisation, `--include-protected` on the command line) lifts that and
is recorded in the export's own audit event.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from controlroom.data.models import AuditEvent
from controlroom.domain.audit_chain import (
    Anchor,
    Verification,
    anchor_mac,
    anchor_problem,
    verify,
)
from controlroom.domain.environment import Environment
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import SEXUAL_OFFENCE_TYPE_CODES, Action
from controlroom.services import access, audit
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

WITHHELD = "WITHHELD"
JUSTIFICATION_MINIMUM = 10
# The object types "who looked at this" is offered on, with the words for the heading.
WATCHED_OBJECTS = {
    "person": "person",
    "incident": "incident",
    "intelligence": "intelligence report",
}


class AuditTrailRefused(PermissionError):
    """The operator may not do this (or did not say why); the message says which."""


@dataclass(frozen=True, slots=True)
class Look:
    """One line of "who looked at this"."""

    occurred_at: datetime
    actor: str
    terminal: str
    action: str
    outcome: str
    justification: str | None


@dataclass(frozen=True, slots=True)
class ExportedEvent:
    seq: int
    occurred_at: datetime
    actor: str
    terminal: str
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    justification: str | None
    detail: str | None
    event_hash: str
    withheld: bool

    def as_dict(self) -> dict:
        return {
            "seq": self.seq,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "terminal": self.terminal,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "justification": self.justification,
            "detail": self.detail,
            "event_hash": self.event_hash,
            "withheld": self.withheld,
        }


EXPORT_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "terminal",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "justification",
    "detail",
    "event_hash",
    "withheld",
)


@dataclass(frozen=True, slots=True)
class AuditExport:
    events: list[ExportedEvent]
    withheld: int
    environment: Environment


# --- who may ---------------------------------------------------------------------------


def may_see_who_looked(actor: Actor) -> bool:
    return access.allowed(actor, Action.AUDIT_VIEW)


def may_export(actor: Actor) -> bool:
    return access.allowed(actor, Action.AUDIT_EXPORT)


def may_verify(actor: Actor) -> bool:
    return access.allowed(actor, Action.AUDIT_VERIFY)


def may_export_records(actor: Actor) -> bool:
    """Identifiable records out of a production database (`search ... --json`)."""
    return access.allowed(actor, Action.EXPORT_RECORDS)


def _refuse(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    object_type: str,
    object_id,
    message: str,
    *,
    outcome: Outcome = Outcome.DENIED,
    detail: str | None = None,
    justification: str | None = None,
) -> NoReturn:
    uow.rollback()
    audit.record(
        uow,
        actor,
        action,
        object_type,
        object_id,
        outcome=outcome,
        justification=justification,
        detail=detail or message,
    )
    uow.commit()
    raise AuditTrailRefused(message)


# --- verify ----------------------------------------------------------------------------


def verify_chain(uow: UnitOfWork, actor: Actor | None = None) -> Verification:
    """Check the whole chain (first broken link, if any). With an `actor`, the check
    is permission-checked and audited after it ran (so it never verifies its own row)."""
    with uow:
        if actor is not None and not may_verify(actor):
            _refuse(
                uow,
                actor,
                "audit.verify",
                "audit",
                None,
                "only supervisors and administrators may verify the audit trail",
            )
        result = verify(uow.audit.chain_rows(), uow.audit.chain_head())
        if actor is not None:
            broken = result.broken
            detail = (
                f"intact: {result.events} events"
                if broken is None
                else f"broken at event {broken.seq}: {broken.problem}"
            )
            audit.record(
                uow,
                actor,
                "audit.verify",
                "audit",
                None,
                outcome=Outcome.SUCCESS if result.intact else Outcome.FAILED,
                detail=detail,
            )
            uow.commit()
        return result


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What `audit verify` found, and whether the check itself is on the record: when
    the trail cannot be written, `unrecorded` says why in a sentence. `anchor` says, in
    a sentence, how the chain stands against the head anchored outside the database;
    `anchor_broken` when it does not extend it."""

    result: Verification
    unrecorded: str | None = None
    anchor: str | None = None
    anchor_broken: bool = False


@dataclass(frozen=True, slots=True)
class AnchorPlace:
    """Where `audit verify` keeps the anchor: a file named outright, or one per database
    in a directory; `key` signs it (None: unkeyed)."""

    directory: Path | None = None
    file: Path | None = None
    key: bytes | None = None


def database_key(info) -> str:
    """A name for this database that a copy of its rows under another URL keeps: its
    creation time, creator and force (database_info), hashed."""
    if info is None:
        return "unrecorded"
    text = f"{info.created_at.isoformat()}|{info.created_by}|{info.force_name}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _anchor_signature(place: AnchorPlace, anchor: Anchor) -> str | None:
    """Why the anchor's signature cannot be trusted, None when it can ("" suffix words
    are given by the caller)."""
    if anchor.mac is None or place.key is None:
        return None
    expected = anchor_mac(
        place.key,
        anchor.database,
        anchor.count,
        anchor.last_hash,
        anchor.anchored_at,
        anchor.anchored_by,
    )
    return None if hmac.compare_digest(expected, anchor.mac) else "its signature does not match"


def check_anchor(
    uow_factory: UnitOfWorkFactory,
    result: Verification,
    place: AnchorPlace,
    username: str,
    now: datetime,
) -> tuple[str, bool]:
    """Compare the chain with the head anchored outside the database, and move the
    anchor to the head now when the chain is intact and extends it. Returns a sentence
    and whether the anchor shows a rewrite (or was itself tampered with)."""
    from controlroom.data.anchors import AnchorUnreadable, read_anchor, write_anchor

    with uow_factory() as uow:
        database = database_key(uow.database.get())
        path = place.file or (place.directory or Path(".")) / f"{database}.json"
        try:
            anchor = read_anchor(path)
        except AnchorUnreadable as exc:
            return f"ANCHOR UNREADABLE: {exc}; nothing compared, nothing written", True
        note = ""
        if anchor is not None:
            if anchor.database != database:
                return f"ANCHOR MISMATCH: {path} anchors another database", True
            forged = _anchor_signature(place, anchor)
            if forged is not None:
                return f"ANCHOR ALTERED: {path}: {forged}", True
            if anchor.mac is None:
                note = " (unkeyed)"
            elif place.key is None:
                note = " (its signature not checked: no keyring here)"
            problem = anchor_problem(anchor, uow.audit.hash_at(anchor.count))
            if problem is not None:
                return f"ANCHOR MISMATCH: {problem}", True
    if not result.intact or result.head is None:
        kept = "kept" if anchor is not None else "none written"
        return f"anchor at {path} {kept}: a broken chain is never anchored", False
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    head = result.head
    mac = (
        None
        if place.key is None
        else anchor_mac(place.key, database, head.count, head.last_hash, at, username)
    )
    write_anchor(path, Anchor(database, head.count, head.last_hash, at, username, mac))
    since = (
        "no anchor before"
        if anchor is None
        else f"it extends the head anchored {anchor.anchored_at} by {anchor.anchored_by}{note}"
    )
    return f"anchored {head.count} events at {path}; {since}", False


def verify_as(
    uow_factory: UnitOfWorkFactory,
    username: str,
    terminal: str,
    *,
    anchor: AnchorPlace | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """`audit verify` for the OS account `username`: it always runs and reports.

    Normally the operator signs in and the check is audited like any command. When the
    audit trail cannot be written (a row the chain does not expect, a deleted head, a
    revoked grant: the very thing being checked), a supervisor or administrator on
    record still gets the verification, told that it could not be recorded; anyone else
    is refused as before. With `anchor`, the chain is compared with the head anchored
    outside the database (`check_anchor`).
    """
    from controlroom.services import staff

    unrecorded: str | None = None
    try:
        member = staff.sign_in(uow_factory(), username, terminal)
        result = verify_chain(uow_factory(), member.actor(terminal))
    except audit.AuditUnavailable as exc:
        unrecorded = str(exc)
        on_record = staff.member_on_record(uow_factory(), username)
        if on_record is None:
            raise AuditTrailRefused(
                f"{username!r} is not an active Control Room user on this database"
            ) from None
        if not may_verify(on_record.actor(terminal)):
            raise AuditTrailRefused(
                "only supervisors and administrators may verify the audit trail"
            ) from None
        result = verify_chain(uow_factory())
    if anchor is None:
        return VerifyReport(result, unrecorded)
    sentence, broken = check_anchor(uow_factory, result, anchor, username, now or datetime.now(UTC))
    return VerifyReport(result, unrecorded, sentence, broken)


# --- who looked at this ----------------------------------------------------------------


def who_looked(
    uow: UnitOfWork, actor: Actor, object_type: str, object_id: int | str, *, limit: int = 500
) -> list[Look]:
    """Every audit event on this object, newest first, this look included (supervisors
    only; audited)."""
    if object_type not in WATCHED_OBJECTS:
        raise ValueError(f"no audit view for {object_type!r}")
    wanted = str(object_id)
    with uow:
        if not may_see_who_looked(actor):
            _refuse(
                uow,
                actor,
                "audit.view",
                object_type,
                wanted,
                "only supervisors may see who looked at a record",
            )
        # Recorded first, so the list it returns names this look too.
        audit.record(uow, actor, "audit.view", object_type, wanted, detail="who looked at this")
        events = [_event_of(row) for row in uow.audit.on_object(object_type, wanted, limit)]
        uow.commit()
        return events


def _event_of(row: AuditEvent) -> Look:
    return Look(
        row.occurred_at, row.actor, row.terminal, row.action, row.outcome, row.justification
    )


# --- export ----------------------------------------------------------------------------


def export_events(
    uow: UnitOfWork,
    actor: Actor,
    *,
    since: date,
    person_id: int | None = None,
    justification: str | None = None,
    include_protected: bool = False,
) -> AuditExport:
    """The events since `since` (UTC midnight), optionally only those on one person,
    oldest first; audited as one `audit.export` event with what was asked and given."""
    reason = (justification or "").strip() or None
    asked = (
        f"since={since.isoformat()}"
        + (f" person={person_id}" if person_id else "")
        + (" include_protected=yes" if include_protected else "")
    )
    with uow:
        info = uow.database.get()
        environment = Environment(info.environment) if info is not None else Environment.PRODUCTION
        if not may_export(actor):
            _refuse(
                uow,
                actor,
                "audit.export",
                "audit",
                person_id,
                "only supervisors and administrators may export the audit trail",
                detail=asked,
                justification=reason,
            )
        needs_reason = environment is Environment.PRODUCTION or include_protected
        if needs_reason and (reason is None or len(reason) < JUSTIFICATION_MINIMUM):
            _refuse(
                uow,
                actor,
                "audit.export",
                "audit",
                person_id,
                f"an export from a {environment.value} database needs a justification"
                f" (--justification, at least {JUSTIFICATION_MINIMUM} characters)",
                detail=asked,
                justification=reason,
            )
        start = datetime.combine(since, time(), tzinfo=UTC)
        rows = uow.audit.since(start, person_id)
        protect = environment is Environment.PRODUCTION and not include_protected
        hidden = uow.audit.protected_ids(SEXUAL_OFFENCE_TYPE_CODES) if protect else {}
        if protect and person_id is not None and str(person_id) in hidden.get("person", ()):
            _refuse(
                uow,
                actor,
                "audit.export",
                "audit",
                person_id,
                "this person is protected (restricted or a sexual-offence complainant):"
                " an export about them needs --include-protected, which is recorded",
                detail=asked,
                justification=reason,
            )
        events = [_exported(row, hidden, protect) for row in rows]
        withheld = sum(1 for e in events if e.withheld)
        audit.record(
            uow,
            actor,
            "audit.export",
            "audit",
            person_id,
            justification=reason,
            detail=f"{asked}; {len(events)} event(s), {withheld} withheld;"
            f" environment={environment.value}",
        )
        uow.commit()
        return AuditExport(events, withheld, environment)


def _exported(row: AuditEvent, hidden: dict[str, set[str]], protect: bool) -> ExportedEvent:
    withheld = row.object_id is not None and row.object_id in hidden.get(row.object_type, ())
    detail = row.detail
    if protect and not withheld and row.action.endswith(".search"):
        detail = f"{WITHHELD} (search text)"
    return ExportedEvent(
        seq=row.chain_seq,
        occurred_at=row.occurred_at,
        actor=row.actor,
        terminal=row.terminal,
        action=row.action,
        object_type=row.object_type,
        object_id=WITHHELD if withheld else row.object_id,
        outcome=row.outcome,
        justification=WITHHELD if withheld and row.justification else row.justification,
        detail=WITHHELD if withheld and detail else detail,
        event_hash=row.event_hash,
        withheld=withheld,
    )


# --- record exports (`controlroom search ... --json`) -----------------------------------


@dataclass(frozen=True, slots=True)
class RecordExportPolicy:
    """What a record export may carry: on production without an explicit authorisation,
    nothing that identifies the protected persons and reports listed here."""

    environment: Environment
    protect: bool
    persons: frozenset[int]
    reports: frozenset[int]
    justification: str | None
    include_protected: bool

    def withholds_person(self, person_id: int | None) -> bool:
        return self.protect and person_id is not None and person_id in self.persons


def record_export_policy(
    uow: UnitOfWork,
    actor: Actor,
    what: str,
    *,
    justification: str | None = None,
    include_protected: bool = False,
) -> RecordExportPolicy:
    """Check that `actor` may export records from this database (a role and a
    justification on production; a refusal is audited) and say what to leave out."""
    reason = (justification or "").strip() or None
    with uow:
        info = uow.database.get()
        environment = Environment(info.environment) if info is not None else Environment.PRODUCTION
        if environment is Environment.PRODUCTION:
            asked = f"{what}" + (" include_protected=yes" if include_protected else "")
            if not may_export_records(actor):
                _refuse(
                    uow,
                    actor,
                    "records.export",
                    "export",
                    None,
                    "only supervisors and intelligence staff may export records from a"
                    " production database",
                    detail=asked,
                    justification=reason,
                )
            if reason is None or len(reason) < JUSTIFICATION_MINIMUM:
                _refuse(
                    uow,
                    actor,
                    "records.export",
                    "export",
                    None,
                    "an export from a production database needs a justification"
                    f" (--justification, at least {JUSTIFICATION_MINIMUM} characters)",
                    detail=asked,
                    justification=reason,
                )
        protect = environment is Environment.PRODUCTION and not include_protected
        hidden = uow.audit.protected_ids(SEXUAL_OFFENCE_TYPE_CODES) if protect else {}
        return RecordExportPolicy(
            environment,
            protect,
            frozenset(int(i) for i in hidden.get("person", ())),
            frozenset(int(i) for i in hidden.get("intelligence", ())),
            reason,
            include_protected,
        )


def record_export(
    uow: UnitOfWork,
    actor: Actor,
    policy: RecordExportPolicy,
    what: str,
    *,
    shown: int,
    withheld: int,
) -> None:
    """Audit a record export (a disclosure) before it is written out; fails closed."""
    with uow:
        audit.record(
            uow,
            actor,
            "records.export",
            "export",
            None,
            justification=policy.justification,
            detail=f"{what}; {shown} record(s) out, {withheld} withheld;"
            f" environment={policy.environment.value}"
            + ("; include_protected=yes" if policy.include_protected else ""),
        )
        uow.commit()
