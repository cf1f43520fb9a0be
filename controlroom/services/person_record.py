"""The person record: identity and aliases, markers with who set them and when,
addresses, linked incidents (newest first) and possible duplicate records.

A record that other records were merged into (controlroom.services.person_merge) reads
their markers, aliases, addresses and incidents as its own, and names each merged record
as an alias line; a record merged away says into which record, by whom, when and why,
and shows only its own data.

A restricted person's record opens only with a written justification, which goes into
the audit event; without one the service refuses, and that refusal is audited too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, Decision
from controlroom.services import access, audit
from controlroom.services.audit import Outcome
from controlroom.services.person_merge import MergeInfo, merge_info

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

JUSTIFICATION_MINIMUM = 10
INCIDENT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class MarkerDetail:
    code: str
    label: str
    severity: int
    note: str | None
    set_by: str | None
    set_at: datetime
    valid_from: date
    valid_to: date | None
    current: bool


@dataclass(frozen=True, slots=True)
class AddressLine:
    location_id: int
    text: str
    kind: str
    valid_from: date | None
    valid_to: date | None
    current: bool


@dataclass(frozen=True, slots=True)
class PersonIncident:
    incident_id: int
    reference: str
    opened_at: datetime
    type_label: str
    grade: str
    status: str
    role: str
    legacy: bool = False  # an old system's incident (issue 19): read-only, shown LEGACY


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    person_id: int
    name: str
    date_of_birth: date | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: int
    forename: str
    middle_names: str | None
    surname: str
    date_of_birth: date | None
    gender: str | None
    restricted: bool
    aliases: tuple[str, ...]
    markers: tuple[MarkerDetail, ...]
    addresses: tuple[AddressLine, ...]
    incidents: tuple[PersonIncident, ...]
    incident_count: int
    possible_duplicates: tuple[DuplicateCandidate, ...]
    # Set when this record was merged into another: it shows its own data only.
    merged_into: MergeInfo | None = None
    # Live merges of other records into this one, newest first (undo takes the first).
    merged_records: tuple[MergeInfo, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.forename, self.middle_names, self.surname) if p)


class PersonNotFound(LookupError):
    pass


class JustificationRequired(PermissionError):
    """The record is restricted: say why you need it (at least 10 characters)."""


def view_person(
    uow: UnitOfWork, actor: Actor, person_id: int, *, justification: str | None = None, today: date
) -> PersonRecord:
    reason = (justification or "").strip() or None
    with uow:
        access.require(uow, actor, Action.PERSON_VIEW, "person", person_id)
        subject = uow.person_records.person(person_id)
        if subject is None:
            audit.record(
                uow,
                actor,
                "person.view",
                "person",
                person_id,
                outcome=Outcome.FAILED,
                detail="no such person",
            )
            uow.commit()
            raise PersonNotFound(f"no person with id {person_id}")
        others = (
            [] if subject.merged_into_id is not None else uow.person_records.merged_into(person_id)
        )
        restricted = subject.restricted or any(other.restricted for other in others)
        marking = access.person_marking(
            uow, [person_id, *(o.id for o in others)], restricted=restricted
        )
        decision = access.require(
            uow, actor, Action.PERSON_VIEW, "person", person_id, marking=marking
        )
        if decision is Decision.JUSTIFY and (reason is None or len(reason) < JUSTIFICATION_MINIMUM):
            audit.record(
                uow,
                actor,
                "person.view",
                "person",
                person_id,
                outcome=Outcome.DENIED,
                justification=reason,
                detail="restricted: justification required",
            )
            uow.commit()
            raise JustificationRequired(
                "this record is restricted: write why you need it (at least "
                f"{JUSTIFICATION_MINIMUM} characters); it is recorded with your name"
            )
        record = _record(uow, subject, today)
        audit.record(uow, actor, "person.view", "person", person_id, justification=reason)
        uow.commit()
        return record


def _record(uow: UnitOfWork, subject, today: date) -> PersonRecord:
    merged_into = None
    merged_records: tuple[MergeInfo, ...] = ()
    ids = [subject.id]
    if subject.merged_into_id is not None:
        live = uow.person_records.live_merge(subject.id)
        if live is not None:
            merged_into = merge_info(uow.person_records.merge_detail(live.id))
    else:
        merged_records = tuple(
            merge_info(uow.person_records.merge_detail(merge.id))
            for merge, _person, _by in uow.person_records.live_merges_into(subject.id)
        )
        ids += [merge.merged_id for merge in merged_records]
    markers = tuple(
        MarkerDetail(
            code=marker.marker_code,
            label=label,
            severity=severity,
            note=marker.note,
            set_by=set_by,
            set_at=marker.set_at,
            valid_from=marker.valid_from,
            valid_to=marker.valid_to,
            current=marker.valid_from <= today
            and (marker.valid_to is None or marker.valid_to >= today),
        )
        for marker, label, severity, set_by in uow.person_records.markers(ids)
    )
    addresses = tuple(
        AddressLine(
            location_id=location.id,
            text=", ".join(p for p in (location.address, location.town, location.postcode) if p),
            kind=link.kind,
            valid_from=link.valid_from,
            valid_to=link.valid_to,
            current=link.valid_to is None or link.valid_to >= today,
        )
        for link, location in uow.person_records.addresses(ids)
    )
    # One line per incident: a person (or a survivor and a record merged into it) linked
    # in several roles reads "victim/caller".
    by_incident: dict[int, PersonIncident] = {}
    for incident, label, role in uow.person_records.incidents(ids, INCIDENT_LIMIT):
        seen = by_incident.get(incident.id)
        if seen is not None:
            if role not in seen.role.split("/"):
                by_incident[incident.id] = replace(seen, role=f"{seen.role}/{role}")
            continue
        by_incident[incident.id] = PersonIncident(
            incident_id=incident.id,
            reference=incident.reference,
            opened_at=incident.opened_at,
            type_label=label,
            grade=incident.grade,
            status=incident.status,
            role=role,
            legacy=incident.legacy_batch_id is not None,
        )
    incidents = tuple(by_incident.values())
    aliases = tuple(
        " ".join(p for p in (alias.forename, alias.surname) if p) + f" ({alias.kind})"
        for alias in uow.person_records.aliases(ids)
    )
    aliases += tuple(
        f"{merge.merged_name} (merged record {merge.merged_id})" for merge in merged_records
    )
    duplicates = tuple(
        DuplicateCandidate(
            person_id=other.id,
            name=f"{other.forename} {other.surname}",
            date_of_birth=other.date_of_birth,
        )
        for other in uow.person_records.possible_duplicates(subject)
    )
    return PersonRecord(
        id=subject.id,
        forename=subject.forename,
        middle_names=subject.middle_names,
        surname=subject.surname,
        date_of_birth=subject.date_of_birth,
        gender=subject.gender,
        # A survivor holding a restricted record's data is restricted too.
        restricted=subject.restricted
        or any(other.restricted for other in uow.person_records.merged_into(subject.id))
        if subject.merged_into_id is None
        else subject.restricted,
        aliases=aliases,
        markers=markers,
        addresses=addresses,
        incidents=incidents,
        incident_count=uow.person_records.incident_count(ids),
        possible_duplicates=duplicates,
        merged_into=merged_into,
        merged_records=merged_records,
    )
