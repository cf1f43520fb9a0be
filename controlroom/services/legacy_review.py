"""The legacy import's review list (issue 19, item 2): people an extract held back as
probably someone already here, for a supervisor to decide.

- the same person: nothing new is made; the legacy row is `merged` into the person it
  matched, and the aliases and markers held with it are added to that person;
- a different person: the legacy row is imported as a new person after all, with its
  held aliases and markers.

Either way the ledger keeps the row's source id, so a re-run of the extract changes
nothing. Supervisors only (the permission table's PERSON_MERGE, as for merging two
records); each decision needs a reason and is audited. Listing the review list shows
names and dates of birth, so it is audited too (`legacy.review`, with the ids shown);
a restricted person or a sexual-offence complainant it matched is shown by record id
only (their record opens with a justification).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from controlroom.data.models import utcnow
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, Marking
from controlroom.services import access, audit
from controlroom.services.legacy_import import (
    LEGACY_RECORDS,
    insert_belongings,
    released_values,
)
from controlroom.services.person_merge import REASON_MINIMUM

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


class ReviewRefused(ValueError):
    """The decision cannot be made as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class ReviewItem:
    record_id: int
    source_system: str
    source_id: str
    legacy_name: str
    legacy_born: date | None
    candidate_id: int
    candidate_name: str
    candidate_born: date | None
    waiting: int  # aliases, addresses, markers, incidents and reports held with it
    legacy_gender: str | None = None
    waiting_words: str = "nothing else"  # "2 aliases, 1 LEGACY incident"


@dataclass(frozen=True, slots=True)
class Decision:
    record_id: int
    person_id: int  # the person the legacy row now is
    same_person: bool
    aliases: int
    addresses: int
    markers: int
    incidents: int = 0  # LEGACY incidents and reports that waited with the person
    intelligence: int = 0


def _name(*parts: str | None) -> str:
    return " ".join(p for p in parts if p)


_WAITING_NAMES = {
    "aliases": ("alias", "aliases"),
    "addresses": ("address", "addresses"),
    "markers": ("marker", "markers"),
    "incidents": ("LEGACY incident", "LEGACY incidents"),
    "intelligence": ("LEGACY intel report", "LEGACY intel reports"),
}


def _waiting_words(files: list[str]) -> str:
    """What waits with a held person, in words: "2 aliases, 1 LEGACY incident"."""
    parts = []
    for kind, (one, many) in _WAITING_NAMES.items():
        count = files.count(kind)
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts) or "nothing else"


def may_decide(actor: Actor) -> bool:
    """Whether `actor`'s role may decide the review list (a screen offers the keys; the
    service decides and audits)."""
    return access.allowed(actor, Action.PERSON_MERGE)


def review_list(uow: UnitOfWork, actor: Actor, limit: int = 50) -> list[ReviewItem]:
    with uow:
        access.require(uow, actor, Action.PERSON_MERGE, "import_record", None)
        held = uow.legacy.review_list(limit)
        people = uow.legacy.people(r.candidate_id for r in held if r.candidate_id is not None)
        items = []
        for record in held:
            row = json.loads(record.held or "{}")
            candidate = people.get(record.candidate_id or 0)
            if candidate is not None and (
                access.person_marking(uow, [candidate.id], restricted=candidate.restricted)
                is not Marking.NORMAL
            ):
                candidate = None  # need-to-know: its record, with a justification, says who
            born = row.get("date_of_birth")
            held_with = uow.legacy.waiting_with(record.source_system, record.source_id)
            items.append(
                ReviewItem(
                    record_id=record.id,
                    source_system=record.source_system,
                    source_id=record.source_id,
                    legacy_name=_name(
                        row.get("forename"), row.get("middle_names"), row.get("surname")
                    ),
                    legacy_born=date.fromisoformat(born) if born else None,
                    candidate_id=record.candidate_id or 0,
                    candidate_name=_name(
                        candidate.forename, candidate.middle_names, candidate.surname
                    )
                    if candidate
                    else "(restricted, or no longer here: open the record)",
                    candidate_born=candidate.date_of_birth if candidate else None,
                    waiting=len(held_with),
                    legacy_gender=row.get("gender"),
                    waiting_words=_waiting_words([w.source_file for w in held_with]),
                )
            )
        audit.record(
            uow,
            actor,
            "legacy.review",
            "import_record",
            None,
            detail="shown: " + ",".join(str(i.record_id) for i in items),
        )
        uow.commit()
        return items


def decide(
    uow: UnitOfWork, actor: Actor, record_id: int, *, same_person: bool, reason: str | None
) -> Decision:
    """The supervisor's decision on review-list entry `record_id`."""
    with uow:
        access.require(
            uow,
            actor,
            Action.PERSON_MERGE,
            "import_record",
            record_id,
            audit_action="legacy.decide",
        )
        text = (reason or "").strip()
        if len(text) < REASON_MINIMUM:
            raise ReviewRefused(
                f"write why (at least {REASON_MINIMUM} characters); it is recorded with your name"
            )
        record = uow.legacy.held_person(record_id)
        if record is None:
            raise ReviewRefused(f"no person waiting on the review list with id {record_id}")
        held = json.loads(record.held or "{}")
        if same_person:
            if record.candidate_id is None or not uow.legacy.people([record.candidate_id]):
                raise ReviewRefused("the person it matched is no longer here; keep it apart")
            person_id = record.candidate_id
            uow.legacy.settle(record, "merged", person_id, f"the same person: {text}")
        else:
            born = held.get("date_of_birth")
            (person_id,) = uow.legacy.insert_persons(
                [
                    {
                        "forename": held["forename"],
                        "middle_names": held.get("middle_names"),
                        "surname": held["surname"],
                        "date_of_birth": date.fromisoformat(born) if born else None,
                        "gender": held.get("gender"),
                        "restricted": False,
                        "created_at": utcnow(),
                        "created_by_id": actor.staff_id,
                    }
                ]
            )
            uow.legacy.settle(
                record, "imported", person_id, f"not record {record.candidate_id}: {text}"
            )
        counts = dict.fromkeys(("aliases", "addresses", "markers", *LEGACY_RECORDS), 0)
        for waiting in uow.legacy.waiting_with(record.source_system, record.source_id):
            values = {**released_values(waiting.held or "{}"), "person_id": person_id}
            (target,) = insert_belongings(uow, waiting.source_file, [values])
            uow.legacy.settle(waiting, "imported", target, f"with its person: {text}")
            counts[waiting.source_file] += 1
        audit.record(
            uow,
            actor,
            "legacy.decide",
            "person",
            person_id,
            justification=text,
            detail=f"{record.source_system} {record.source_id}: "
            + (
                f"the same person as record {person_id}"
                if same_person
                else f"not record {record.candidate_id}: imported as record {person_id}"
            )
            + f"; {counts['aliases']} aliases, {counts['addresses']} addresses,"
            f" {counts['markers']} markers, {counts['incidents']} LEGACY incidents,"
            f" {counts['intelligence']} LEGACY intelligence reports",
        )
        uow.commit()
        return Decision(
            record_id,
            person_id,
            same_person,
            counts["aliases"],
            counts["addresses"],
            counts["markers"],
            counts["incidents"],
            counts["intelligence"],
        )
