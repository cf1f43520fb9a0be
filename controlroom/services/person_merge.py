"""Merging duplicate person records, and undoing a merge: supervisors only.

A merge keeps both histories. Nothing is deleted or rewritten: the merged record gets
`merged_into_id` = the survivor, and a `person_merge` row keeps who merged, when and
why. The survivor's record then reads the merged record's markers, aliases, addresses
and incidents as its own (controlroom.services.person_record); person search shows the
survivor in the merged record's place. Undo clears `merged_into_id` and stamps who,
when and why on the same row, so both records read exactly as before and the history
of the merge stays.

Invariants the service keeps: merges are one level deep (a survivor is never itself
merged away, and a record that others were merged into is not merged until they are
undone), and a record has at most one live merge. Every attempt by someone who may not
merge is audited as denied; every merge and undo is audited with its reason as the
justification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from controlroom.data.cold_models import PersonMerge
from controlroom.data.models import utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, roles_allowed
from controlroom.domain.safe_text import control_message, unsafe_character
from controlroom.services import access, audit
from controlroom.services.access import PermissionDenied

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

REASON_MINIMUM = 10
# Per the search issue: "a merge action for supervisors". Administrators run the system
# but do not read records by default, so they do not merge them either. The permission
# table (controlroom.domain.permissions) says so; this is its answer.
MERGE_ROLES = frozenset(roles_allowed(Action.PERSON_MERGE))


@dataclass(frozen=True, slots=True)
class MergeInfo:
    merge_id: int
    survivor_id: int
    survivor_name: str
    merged_id: int
    merged_name: str
    merged_by: str | None
    merged_at: datetime
    reason: str
    undone_by: str | None = None
    undone_at: datetime | None = None
    undo_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.undone_at is None


class MergeNotAllowed(PermissionDenied):
    """Only a supervisor may merge person records or undo a merge."""


class MergeRefused(ValueError):
    """The merge (or undo) cannot be done as asked; the message says why."""


class ReasonRequired(ValueError):
    """A merge and its undo each need a written reason."""


def may_merge(actor: Actor) -> bool:
    return access.allowed(actor, Action.PERSON_MERGE)


def _name(person) -> str:
    return " ".join(p for p in (person.forename, person.middle_names, person.surname) if p)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < REASON_MINIMUM:
        raise ReasonRequired(
            f"write why (at least {REASON_MINIMUM} characters); it is recorded with your name"
        )
    if (char := unsafe_character(text, multiline=True)) is not None:
        raise ReasonRequired(control_message("the reason", char))
    return text


def merge_info(row) -> MergeInfo:
    """A MergeInfo from a `person_queries.merge_detail` row."""
    merge, survivor, merged, merged_by, undone_by = row
    return MergeInfo(
        merge_id=merge.id,
        survivor_id=survivor.id,
        survivor_name=_name(survivor),
        merged_id=merged.id,
        merged_name=_name(merged),
        merged_by=merged_by,
        merged_at=merge.merged_at,
        reason=merge.reason,
        undone_by=undone_by,
        undone_at=merge.undone_at,
        undo_reason=merge.undo_reason,
    )


def _deny(uow: UnitOfWork, actor: Actor, action: str, person_id: int | None, detail: str) -> None:
    access.refuse(
        uow,
        actor,
        Action.PERSON_MERGE,
        "person",
        person_id,
        audit_action=action,
        detail=f"{detail}; only a supervisor may",
        error=MergeNotAllowed,
        message=f"only a supervisor may "
        f"{'merge' if action == 'person.merge' else 'undo'}"
        " person records; ask the duty supervisor",
    )


def merge_persons(
    uow: UnitOfWork, actor: Actor, survivor_id: int, merged_id: int, reason: str | None
) -> MergeInfo:
    """Merge record `merged_id` into `survivor_id` (which stays the record in use)."""
    with uow:
        if not may_merge(actor):
            _deny(uow, actor, "person.merge", merged_id, f"merge into {survivor_id}")
        text = _reason(reason)
        if survivor_id == merged_id:
            raise MergeRefused("a record cannot be merged into itself")
        locked = uow.person_records.lock_persons((survivor_id, merged_id))
        survivor, merged = locked.get(survivor_id), locked.get(merged_id)
        if survivor is None or merged is None:
            raise MergeRefused(f"no person with id {merged_id if survivor else survivor_id}")
        if merged.merged_into_id is not None:
            raise MergeRefused(
                f"record {merged_id} is already merged into record {merged.merged_into_id}"
            )
        if survivor.merged_into_id is not None:
            raise MergeRefused(
                f"record {survivor_id} is itself merged into record "
                f"{survivor.merged_into_id}; open that record instead"
            )
        if uow.person_records.merged_into(merged_id):
            raise MergeRefused(
                f"other records are merged into record {merged_id}; undo those "
                "merges first, or merge this record into it instead"
            )
        merge = PersonMerge(
            survivor_id=survivor_id,
            merged_id=merged_id,
            merged_by_id=actor.staff_id,
            merged_at=utcnow(),
            reason=text,
        )
        uow.add(merge)
        merged.merged_into_id = survivor_id
        uow.flush()
        audit.record(
            uow,
            actor,
            "person.merge",
            "person",
            merged_id,
            justification=text,
            detail=f"record {merged_id} merged into record {survivor_id}; merge {merge.id}",
        )
        info = merge_info(uow.person_records.merge_detail(merge.id))
        uow.commit()
        return info


def undo_merge(uow: UnitOfWork, actor: Actor, merge_id: int, reason: str | None) -> MergeInfo:
    """Undo a live merge: both records read exactly as before it; the merge row keeps
    who undid it, when and why."""
    with uow:
        uow.person_records.lock_merge(merge_id)
        row = uow.person_records.merge_detail(merge_id)
        if not may_merge(actor):
            _deny(
                uow, actor, "person.unmerge", row[2].id if row else None, f"undo merge {merge_id}"
            )
        text = _reason(reason)
        if row is None:
            raise MergeRefused(f"no merge with id {merge_id}")
        merge, _survivor, merged = row[0], row[1], row[2]
        if merge.undone_at is not None:
            raise MergeRefused(f"merge {merge_id} was already undone")
        merge.undone_by_id = actor.staff_id
        merge.undone_at = utcnow()
        merge.undo_reason = text
        merged.merged_into_id = None
        uow.flush()
        audit.record(
            uow,
            actor,
            "person.unmerge",
            "person",
            merged.id,
            justification=text,
            detail=f"record {merged.id} no longer merged into record "
            f"{merge.survivor_id}; merge {merge.id} undone",
        )
        info = merge_info(uow.person_records.merge_detail(merge_id))
        uow.commit()
        return info


def merges_of(uow: UnitOfWork, person_id: int) -> list[MergeInfo]:
    """Every merge (live or undone) this record took part in, newest first. Read as part
    of the person record, which is audited there."""
    with uow:
        return [
            merge_info(uow.person_records.merge_detail(merge_id))
            for merge_id in uow.person_records.merge_ids(person_id)
        ]
