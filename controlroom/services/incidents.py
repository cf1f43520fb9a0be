"""Call handling: creating incidents, finding a call's duplicates, linking a second call,
and everything done to an incident afterwards (notes, grade, status, assessment, closing).

Invariants:
- every function opens the unit of work it is given, writes exactly one audit event in
  it, and commits the event with the change it records (or alone, for a read);
- the log is append-only: a grade, status or assessment change is an entry beside the
  new value, and adding an entry never conflicts with anything;
- changes to the incident row carry the version the operator was looking at; if somebody
  else changed it since, `EditConflict` hands back the current incident and nothing is
  changed (the operator's typing stays on their screen);
- `save_new_incident` and `link_call` are idempotent on the form's key, so a restored
  draft saved again records its call once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from controlroom.data.cold_models import IncidentLogEntry, IncidentPerson
from controlroom.data.models import Incident
from controlroom.domain.crime import closed_as_crime, recording_delay
from controlroom.domain.geo import distance_m
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import (
    OPEN_STATUSES,
    SIGNOFF_APPROVED,
    SIGNOFF_AWAITING,
    TEXT_LIMIT,
    THRIVE_LABELS,
    THRIVE_PARTS,
    IncidentFlag,
    IncidentStatus,
    IncidentTypeFacts,
    LogKind,
    PersonRole,
    closure_problems,
    is_related_type,
    normalise_phone,
    reference_day,
    suggest_grade,
)
from controlroom.domain.legacy import LegacyReadOnly, read_only_message
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import (
    SEXUAL_OFFENCE_TYPE_CODES,
    Action,
    Decision,
    Marking,
    ask_whom,
    decide,
)
from controlroom.domain.postcode import find_postcode, postcode_problem
from controlroom.domain.safeguarding import GuardedAction, guarded_action
from controlroom.services import access, audit, fields, incident_log
from controlroom.services.audit import Outcome
from controlroom.services.fields import FieldError
from controlroom.services.markers import MarkerInfo, current_markers
from controlroom.services.queues import route_incident
from controlroom.services.referrals import raise_referrals
from controlroom.services.safeguarding import DEFAULT_NO_DEPLOYMENT, guard

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

__all__ = [
    "EditConflict",
    "IncidentDetail",
    "IncidentInputError",
    "IncidentNotFound",
    "IncidentSummary",
    "IncidentTypeOption",
    "LinkedPerson",
    "LogEntry",
    "MarkerInfo",
    "NewIncident",
    "SavedIncident",
    "add_note",
    "change_grade",
    "change_status",
    "close_incident",
    "find_duplicate_calls",
    "incident_types",
    "link_call",
    "recent_incidents",
    "save_new_incident",
    "sign_off_closure",
    "update_assessment",
    "view_incident",
    "view_incident_by_id",
]

THRIVE_PART_LIMIT = 500
LOCATION_LIMIT = 200  # the column's width
NAME_LIMIT = 120
RELATIONSHIP_LIMIT = 60
REASON_LIMIT = 500
CRIME_REFERENCE_LIMIT = 40
KEY_LIMIT = 64


# --- what the screens get --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentTypeOption:
    code: str
    label: str
    heading: str
    qualifier: str | None
    domestic: bool
    possible_crime: bool
    suggested_grade: str


@dataclass(frozen=True, slots=True)
class IncidentSummary:
    id: int
    reference: str
    opened_at: datetime
    type_code: str
    type_label: str
    grade: str
    status: str
    location_text: str
    legacy: bool = False  # an old system's incident (issue 19): read-only, shown LEGACY


@dataclass(frozen=True, slots=True)
class LinkedPerson:
    person_id: int
    role: str
    name: str
    date_of_birth: date | None
    markers: tuple[MarkerInfo, ...]


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    entered_at: datetime
    entered_by: str  # the author's display name
    kind: str
    text: str
    old_value: str | None
    new_value: str | None


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    id: int
    reference: str
    version: int
    opened_at: datetime
    opened_by: str
    workstation: str
    type_code: str
    type_label: str
    closing_type_code: str | None
    closing_type_label: str | None
    grade: str
    status: str
    location_id: int | None
    location_text: str
    postcode: str | None
    location_verified: bool
    caller_name: str | None
    caller_phone: str | None
    caller_relationship: str | None
    thrive: dict[str, str | None]  # the six parts, None where not answered
    thrive_skipped: bool
    domestic: bool
    child_present: bool
    weapons: bool
    possible_crime: bool
    narrative: str
    persons: tuple[LinkedPerson, ...]
    log: tuple[LogEntry, ...]
    closed_at: datetime | None
    result: str | None
    crime_reference: str | None
    no_crime_reason: str | None
    # None: no sign-off needed; SIGNOFF_AWAITING: a no-crime closure waits for a
    # supervisor; SIGNOFF_APPROVED: signed off.
    signoff: str | None = None
    legacy: bool = False  # an old system's incident (issue 19): read-only, shown LEGACY

    @property
    def awaiting_signoff(self) -> bool:
        return self.signoff == SIGNOFF_AWAITING

    @property
    def thrive_assessed(self) -> bool:
        return any(self.thrive.values())


@dataclass(frozen=True, slots=True)
class NewIncident:
    """The entry form's content. `idempotency_key` is made once per form (kept in its
    draft), so saving the same form again finds the first save."""

    idempotency_key: str
    type_code: str
    location_text: str
    location_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    caller_relationship: str = ""
    grade: str | None = None
    thrive: dict[str, str | None] | None = None
    thrive_skipped: bool = False
    domestic: bool = False
    child_present: bool = False
    weapons: bool = False
    possible_crime: bool = False
    narrative: str = ""
    persons: tuple[tuple[int, str], ...] = field(default=())  # (person id, role)
    # When the call was taken (the form opened), kept in its draft: the incident opens
    # then, not when a save finally got through (an outage, a restored draft).
    call_taken_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SavedIncident:
    id: int
    reference: str
    created: bool  # False: this form (or call) had already been saved


class IncidentInputError(FieldError):
    """Input the service cannot use; `.field` names the form field, `.message` says why."""


class IncidentNotFound(LookupError):
    pass


class EditConflict(Exception):
    """Somebody changed the incident since the operator read it; nothing was changed.

    `.current` is the incident as it is now, for the screen to show beside what the
    operator typed.
    """

    def __init__(self, current: IncidentDetail) -> None:
        super().__init__(
            f"{current.reference} was changed by someone else (now version {current.version}); "
            "nothing was saved: review it and try again"
        )
        self.current = current


# --- reference data ------------------------------------------------------------------


def incident_types(uow: UnitOfWork) -> list[IncidentTypeOption]:
    """Active incident types, by label (reference data: no audit)."""
    with uow:
        return [_type_option(t) for t in uow.reference.active_incident_types_by_label()]


def _type_option(incident_type) -> IncidentTypeOption:
    return IncidentTypeOption(
        code=incident_type.code,
        label=incident_type.label,
        heading=incident_type.heading,
        qualifier=incident_type.qualifier,
        domestic=incident_type.domestic,
        possible_crime=incident_type.possible_crime,
        suggested_grade=incident_type.suggested_grade,
    )


def _facts(incident_type) -> IncidentTypeFacts:
    return IncidentTypeFacts(
        code=incident_type.code,
        heading=incident_type.heading,
        domestic=incident_type.domestic,
        possible_crime=incident_type.possible_crime,
    )


# --- input checks ----------------------------------------------------------------------


def _text(value, field_name, label, *, limit, required=False, multiline=False) -> str:
    return fields.text(
        value,
        field_name,
        label,
        limit=limit,
        error=IncidentInputError,
        required=required,
        multiline=multiline,
    )


def _optional(value, field_name, label, *, limit, multiline=False) -> str | None:
    return fields.optional_text(
        value, field_name, label, limit=limit, error=IncidentInputError, multiline=multiline
    )


def _key(value: str) -> str:
    key = (value or "").strip()
    if not key or len(key) > KEY_LIMIT or not key.isprintable():
        raise IncidentInputError(
            "idempotency_key", f"the form key must be 1 to {KEY_LIMIT} printable characters"
        )
    return key


def _thrive(parts: dict[str, str | None] | None, skipped: bool) -> dict[str, str | None]:
    parts = dict(parts or {})
    unknown = sorted(set(parts) - set(THRIVE_PARTS))
    if unknown:
        raise IncidentInputError("thrive", f"not a THRIVE part: {', '.join(unknown)}")
    cleaned = {
        part: _optional(
            parts.get(part),
            f"thrive_{part}",
            f"THRIVE {THRIVE_LABELS[part]}",
            limit=THRIVE_PART_LIMIT,
            multiline=True,
        )
        for part in THRIVE_PARTS
    }
    if skipped and any(cleaned.values()):
        raise IncidentInputError(
            "thrive_skipped",
            "THRIVE is marked as skipped but has answers: clear them, or do not skip it",
        )
    return cleaned


def _grade(grade: str | None, grade_codes: tuple[str, ...]) -> str | None:
    if grade is None or not grade.strip():
        return None
    code = grade.strip().upper()
    if code not in grade_codes:
        raise IncidentInputError("grade", f"not a grade: choose one of {', '.join(grade_codes)}")
    return code


def _persons(pairs) -> tuple[tuple[int, str], ...]:
    seen: dict[tuple[int, str], None] = {}
    for person_id, role in pairs:
        try:
            role = PersonRole(str(role).strip().lower()).value
        except ValueError:
            roles = ", ".join(r.value for r in PersonRole)
            raise IncidentInputError("persons", f"role must be one of {roles}") from None
        if isinstance(person_id, bool) or not isinstance(person_id, int):
            raise IncidentInputError("persons", f"not a person id: {person_id!r}")
        seen[(person_id, role)] = None
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class _Call:
    """A call's typed content after the checks (what a new incident and a linked call share)."""

    key: str
    caller_name: str | None
    caller_phone: str | None
    caller_relationship: str | None
    narrative: str
    persons: tuple[tuple[int, str], ...]


def _call(incident: NewIncident) -> _Call:
    return _Call(
        key=_key(incident.idempotency_key),
        caller_name=_optional(incident.caller_name, "caller_name", "caller name", limit=NAME_LIMIT),
        caller_phone=fields.phone(incident.caller_phone, "caller_phone", error=IncidentInputError),
        caller_relationship=_optional(
            incident.caller_relationship,
            "caller_relationship",
            "relationship",
            limit=RELATIONSHIP_LIMIT,
        ),
        narrative=_text(
            incident.narrative, "narrative", "narrative", limit=TEXT_LIMIT, multiline=True
        ),
        persons=_persons(incident.persons),
    )


def _location_text(value: str) -> tuple[str, str | None]:
    text = _text(value, "location_text", "location", limit=LOCATION_LIMIT, required=True)
    problem = postcode_problem(text)
    if problem:
        raise IncidentInputError("location_text", problem)
    return text, find_postcode(text)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    return now.astimezone(UTC)


# --- building what the screens get ------------------------------------------------------


def _summary(incident: Incident, type_label: str) -> IncidentSummary:
    return IncidentSummary(
        id=incident.id,
        reference=incident.reference,
        opened_at=incident.opened_at,
        type_code=incident.opening_type_code,
        type_label=type_label,
        grade=incident.grade,
        status=incident.status,
        location_text=incident.location_text,
        legacy=incident.legacy_batch_id is not None,
    )


def _log_entry(entry: IncidentLogEntry, author: str) -> LogEntry:
    return LogEntry(
        id=entry.id,
        entered_at=entry.entered_at,
        entered_by=author,
        kind=entry.kind,
        text=entry.text,
        old_value=entry.old_value,
        new_value=entry.new_value,
    )


def _person_name(person) -> str:
    return " ".join(part for part in (person.forename, person.surname) if part)


# --- sexual-offence complainants: lifelong anonymity --------------------------------------


def withheld_text() -> str:
    """What a role without need-to-know reads in place of a complainant's identity."""
    return "withheld: sexual-offence complainant — ask " + ask_whom(
        Action.PERSON_VIEW, Marking.SEXUAL_OFFENCE
    )


def may_see_complainants(actor: Actor) -> bool:
    """Need-to-know, as the permission table states it for reading a sexual-offence
    complainant's person record (a justification there; here the view is audited)."""
    return decide(actor.role, Action.PERSON_VIEW, Marking.SEXUAL_OFFENCE) is not Decision.DENIED


def complainant_ids(uow: UnitOfWork, person_ids) -> set[int]:
    """The sexual-offence complainants among `person_ids`, by the permission code's one
    definition (`access.person_marking`: a victim of an incident opened or closed as a
    sexual offence)."""
    return {
        person_id
        for person_id in dict.fromkeys(person_ids)
        if access.person_marking(uow, [person_id], restricted=False) is Marking.SEXUAL_OFFENCE
    }


@dataclass(frozen=True, slots=True)
class Anonymity:
    """What one read shows of the complainants among the persons it touches.

    `shown`: the operator has need-to-know (identities shown, audited as such).
    Otherwise each complainant's name is replaced, wherever record text carries it, by
    `withheld_text()`; the caller fields are withheld too on an incident of a
    sexual-offence type (the caller is often the complainant) or when the caller's name is
    a complainant's."""

    shown: bool
    names: dict[int, str]  # complainant person id -> full name
    caller_withheld: bool = False

    @property
    def withholds(self) -> bool:
        return not self.shown and bool(self.names or self.caller_withheld)

    def text(self, value: str | None) -> str | None:
        if not value or self.shown:
            return value
        for name in sorted(set(self.names.values()), key=len, reverse=True):
            if name.strip():
                value = re.sub(re.escape(name), withheld_text(), value, flags=re.IGNORECASE)
        return value

    def note(self) -> str | None:
        """The words for the read's audit event, or None when no complainant is involved."""
        ids = ",".join(map(str, sorted(self.names)))
        if self.shown and self.names:
            return f"sexual-offence complainant identity shown (need to know): persons {ids}"
        parts = []
        if self.names:
            parts.append(f"sexual-offence complainant identity withheld: persons {ids}")
        if self.caller_withheld and not self.shown:
            parts.append("caller withheld (possible sexual-offence complainant)")
        return "; ".join(parts) or None


def anonymity(
    uow: UnitOfWork,
    actor: Actor,
    persons,
    *,
    sexual_offence_incident: bool = False,
    caller_name: str | None = None,
) -> Anonymity:
    persons = list(persons)
    ids = complainant_ids(uow, (p.id for p in persons))
    names = {p.id: _person_name(p) for p in persons if p.id in ids}
    caller = (caller_name or "").casefold()
    caller_is_complainant = bool(caller) and any(
        n.casefold() in caller for n in names.values() if n.strip()
    )
    return Anonymity(
        shown=may_see_complainants(actor),
        names=names,
        caller_withheld=sexual_offence_incident or caller_is_complainant,
    )


def _with_note(detail: str | None, note: str | None) -> str | None:
    return "; ".join(p for p in (detail, note) if p) or None


def _detail(uow: UnitOfWork, incident: Incident, today: date, actor: Actor) -> IncidentDetail:
    return _detail_noted(uow, incident, today, actor)[0]


def _detail_noted(
    uow: UnitOfWork, incident: Incident, today: date, actor: Actor
) -> tuple[IncidentDetail, str | None]:
    """The incident as `actor` may see it, and the audit words on complainants (if any)."""
    opening = uow.reference.incident_type(incident.opening_type_code)
    closing = (
        uow.reference.incident_type(incident.closing_type_code)
        if incident.closing_type_code
        else None
    )
    opener = uow.staff.get(incident.opened_by_id)
    links = uow.incidents.person_links(incident.id)
    markers = current_markers(uow, (person.id for _, person in links), today)
    codes = SEXUAL_OFFENCE_TYPE_CODES
    anon = anonymity(
        uow,
        actor,
        (person for _, person in links),
        sexual_offence_incident=(
            incident.opening_type_code in codes or incident.closing_type_code in codes
        ),
        caller_name=incident.caller_name,
    )
    hide = anon.withholds
    caller_hidden = hide and anon.caller_withheld
    withheld = withheld_text()

    def person(link, person) -> LinkedPerson:
        if hide and person.id in anon.names:
            return LinkedPerson(
                person_id=person.id,
                role=link.role,
                name=withheld,
                date_of_birth=None,
                markers=markers[person.id],
            )
        return LinkedPerson(
            person_id=person.id,
            role=link.role,
            name=_person_name(person),
            date_of_birth=person.date_of_birth,
            markers=markers[person.id],
        )

    def entry(e, author) -> LogEntry:
        shown = _log_entry(e, author)
        if not hide:
            return shown
        text = anon.text(shown.text)
        if caller_hidden and e.kind == LogKind.MERGED_CALL.value:
            first, _, rest = (text or "").partition("\n")
            text = f"Further call from {withheld}." + (f"\n{anon.text(rest)}" if rest else "")
        return LogEntry(
            id=shown.id,
            entered_at=shown.entered_at,
            entered_by=shown.entered_by,
            kind=shown.kind,
            text=text or "",
            old_value=shown.old_value,
            new_value=shown.new_value,
        )

    return IncidentDetail(
        id=incident.id,
        reference=incident.reference,
        version=incident.version,
        opened_at=incident.opened_at,
        opened_by=opener.display_name if opener else "",
        workstation=incident.workstation,
        type_code=incident.opening_type_code,
        type_label=opening.label if opening else incident.opening_type_code,
        closing_type_code=incident.closing_type_code,
        closing_type_label=closing.label if closing else None,
        grade=incident.grade,
        status=incident.status,
        location_id=incident.location_id,
        location_text=incident.location_text,
        postcode=incident.postcode,
        location_verified=incident.location_id is not None,
        caller_name=withheld
        if caller_hidden and incident.caller_name
        else (anon.text(incident.caller_name) if hide else incident.caller_name),
        caller_phone=None if caller_hidden else incident.caller_phone,
        caller_relationship=None if caller_hidden else incident.caller_relationship,
        thrive={part: getattr(incident, f"thrive_{part}") for part in THRIVE_PARTS},
        thrive_skipped=bool(incident.thrive_skipped),
        domestic=incident.domestic,
        child_present=incident.child_present,
        weapons=incident.weapons,
        possible_crime=incident.possible_crime,
        narrative=(anon.text(incident.narrative) if hide else incident.narrative) or "",
        persons=tuple(person(link, p) for link, p in links),
        log=tuple(entry(e, author) for e, author in uow.incidents.log_with_authors(incident.id)),
        closed_at=incident.closed_at,
        result=anon.text(incident.result) if hide else incident.result,
        crime_reference=incident.crime_reference,
        no_crime_reason=anon.text(incident.no_crime_reason) if hide else incident.no_crime_reason,
        signoff=incident.signoff_state,
        legacy=incident.legacy_batch_id is not None,
    ), anon.note()


# Every incident change writes its log line through the one append.
_log = incident_log.append


def _require_operator(actor: Actor) -> int:
    if actor.staff_id is None:
        # Every log entry and incident names the member of staff behind it.
        raise PermissionError("only an enrolled member of staff can record incidents")
    return actor.staff_id


def _link_persons(uow: UnitOfWork, actor: Actor, incident: Incident, pairs, now: datetime) -> int:
    """Link (person, role) pairs not yet linked, one `link` log entry each."""
    linked = 0
    wanted = dict.fromkeys(pairs)
    if not wanted:
        return 0
    known = uow.persons.existing_ids(person_id for person_id, _ in wanted)
    missing = sorted({person_id for person_id, _ in wanted} - known)
    if missing:
        raise IncidentInputError("persons", f"no such person: {', '.join(map(str, missing))}")
    for person_id, role in wanted:
        if uow.incidents.is_linked(incident.id, person_id, role):
            continue
        person = uow.persons.get(person_id)
        uow.incidents.add_person_link(
            IncidentPerson(
                incident_id=incident.id,
                person_id=person_id,
                role=role,
                linked_at=now,
                linked_by_id=actor.staff_id,
            )
        )
        _log(
            uow,
            actor,
            incident.id,
            LogKind.LINK,
            f"Linked {_person_name(person)} as {role}",
            now,
            new=role,
        )
        linked += 1
    return linked


# --- creating an incident ----------------------------------------------------------------


def save_new_incident(
    uow: UnitOfWork,
    actor: Actor,
    incident: NewIncident,
    now: datetime,
    grade_codes: tuple[str, ...],
) -> SavedIncident:
    """Record a new incident, or find the one this form already made.

    Location text and type are enough; the rest may follow. The reference is the next
    of the local (Europe/London) day of `now`.
    """
    now = _aware(now)
    _require_operator(actor)
    call = _call(incident)
    type_code = (incident.type_code or "").strip().upper()
    if not type_code:
        raise IncidentInputError("type_code", "incident type is required")
    location_text, found_postcode = _location_text(incident.location_text)
    grade = _grade(incident.grade, grade_codes)
    thrive = _thrive(incident.thrive, incident.thrive_skipped)
    with uow:
        access.require(uow, actor, Action.INCIDENT_CREATE, "incident")
        already = _already_saved(uow, actor, call.key)
        if already is not None:
            return already
        incident_type = uow.reference.incident_type(type_code)
        if incident_type is None or not incident_type.active:
            raise IncidentInputError("type_code", f"not a known incident type: {type_code}")
        location = None
        if incident.location_id is not None:
            location = uow.locations.get(incident.location_id)
            if location is None:
                raise IncidentInputError(
                    "location_text", "that location is no longer on record; choose again"
                )
        domestic = incident.domestic or incident_type.domestic
        possible_crime = incident.possible_crime or incident_type.possible_crime
        if grade is None:
            grade = suggest_grade(
                incident_type.suggested_grade,
                weapons=incident.weapons,
                child_present=incident.child_present,
                domestic=domestic,
                grade_codes=grade_codes,
            )
        # Taken last, just before the insert: on PostgreSQL the day's sequence row stays
        # locked until commit, so the less work after it the less other stations wait.
        reference = uow.incidents.next_reference(reference_day(now))
        row = Incident(
            reference=reference,
            opened_at=_opened_at(incident.call_taken_at, now),
            opened_by_id=actor.staff_id,
            workstation=actor.terminal,
            opening_type_code=incident_type.code,
            grade=grade,
            status=IncidentStatus.OPEN.value,
            location_id=None if location is None else location.id,
            location_text=location_text,
            postcode=location.postcode if location is not None else found_postcode,
            narrative=call.narrative,
            caller_name=call.caller_name,
            caller_phone=call.caller_phone,
            caller_relationship=call.caller_relationship,
            idempotency_key=call.key,
            thrive_skipped=incident.thrive_skipped,
            domestic=domestic,
            child_present=incident.child_present,
            weapons=incident.weapons,
            possible_crime=possible_crime,
            version=1,
            **{f"thrive_{part}": value for part, value in thrive.items()},
        )
        if any(thrive.values()):
            row.thrive_assessed_at = now
            row.thrive_assessed_by_id = actor.staff_id
        uow.incidents.add(row)
        try:
            uow.flush()
        except IntegrityError:
            # The same form saved at the same moment from a second process: its key is
            # taken, so that save won; report it as this form's incident.
            uow.rollback()
            already = _already_saved(uow, actor, call.key)
            if already is None:
                raise
            return already
        _log(
            uow,
            actor,
            row.id,
            LogKind.NOTE,
            f"Incident opened: {incident_type.label} at {location_text}, graded {grade}",
            now,
        )
        _link_persons(uow, actor, row, call.persons, now)
        if call.persons:  # a victim or perpetrator with history: escalation or repeat
            uow.flush()
            raise_referrals(uow, actor, row, now)
        # Into its triage queues, in this transaction: it has none yet, and markers only
        # through the persons just linked.
        route_incident(uow, row, now, new=True, persons_linked=bool(call.persons))
        audit.record(
            uow,
            actor,
            "incident.create",
            "incident",
            row.id,
            detail=f"reference={reference} type={incident_type.code} grade={grade}",
        )
        uow.commit()
        return SavedIncident(id=row.id, reference=reference, created=True)


def _opened_at(call_taken_at: datetime | None, now: datetime) -> datetime:
    """When the incident opened: the call's time as the form took it, never after `now`
    (a time from the future is a wrong clock, not a call)."""
    if call_taken_at is None:
        return now
    taken = _aware(call_taken_at)
    return taken if taken <= now else now


def _already_saved(uow: UnitOfWork, actor: Actor, key: str) -> SavedIncident | None:
    """The incident this form (or call) key already recorded, audited as such, or None.

    One key is one call, whichever way it was saved: a form saved as a new incident and
    then, restored from its draft, linked to another incident (or the other way round)
    still records the call once.
    """
    existing = uow.incidents.by_idempotency_key(key)
    how = "saved as this incident"
    if existing is None:
        entry = uow.incidents.log_entry_by_key(key)
        if entry is None:
            return None
        existing = uow.incidents.get(entry.incident_id)
        how = "linked to this incident"
        if existing is None:  # a log entry's incident is never deleted
            return None
    audit.record(
        uow,
        actor,
        "incident.create",
        "incident",
        existing.id,
        detail=f"form already {how} ({existing.reference}); nothing new recorded",
    )
    uow.commit()
    return SavedIncident(id=existing.id, reference=existing.reference, created=False)


# --- duplicate calls ---------------------------------------------------------------------


def find_duplicate_calls(
    uow: UnitOfWork,
    actor: Actor,
    *,
    type_code: str | None,
    location_id: int | None,
    caller_phone: str | None,
    now: datetime,
    radius_m: float = 200,
    window: timedelta = timedelta(minutes=60),
) -> list[IncidentSummary]:
    """Open incidents this call may be about, newest first.

    A candidate was opened within `window` before `now`, is of a related type (see
    `is_related_type`; any type while the form has none yet) and is at the same
    location, within `radius_m` of it, or was called in from the same phone. A phone
    that does not parse is ignored here: the form reports it at its field.
    """
    now = _aware(now)
    try:
        phone = normalise_phone(caller_phone) if caller_phone and caller_phone.strip() else None
    except ValueError:
        phone = None
    with uow:
        access.require(
            uow, actor, Action.INCIDENT_CREATE, "incident", audit_action="incident.duplicate_check"
        )
        facts = None
        if type_code:
            incident_type = uow.reference.incident_type(type_code.strip().upper())
            facts = _facts(incident_type) if incident_type is not None else None
        here = uow.locations.get(location_id) if location_id is not None else None
        if here is None and phone is None:
            return []
        origin = (
            (here.latitude, here.longitude)
            if here is not None and here.latitude is not None and here.longitude is not None
            else None
        )
        matches = []
        for incident, incident_type, latitude, longitude in uow.incidents.opened_between(
            now - window, now, [s.value for s in OPEN_STATUSES]
        ):
            if facts is not None and not is_related_type(facts, _facts(incident_type)):
                continue
            same_place = here is not None and incident.location_id == here.id
            nearby = (
                origin is not None
                and latitude is not None
                and longitude is not None
                and distance_m(origin[0], origin[1], latitude, longitude) <= radius_m
            )
            same_phone = phone is not None and incident.caller_phone == phone
            if same_place or nearby or same_phone:
                matches.append(_summary(incident, incident_type.label))
        if matches:
            audit.record(
                uow,
                actor,
                "incident.duplicate_check",
                "incident",
                matches[0].id,
                detail="shown: " + ",".join(str(m.id) for m in matches),
            )
            uow.commit()
        return matches


def same_place_calls(
    uow: UnitOfWork,
    actor: Actor,
    call: NewIncident,
    at: datetime,
    window: timedelta = timedelta(minutes=60),
) -> list[IncidentSummary]:
    """Open incidents opened within `window` either side of `at` (a call kept offline:
    when it was taken) at the same place — the same gazetteer location, the same address
    as typed (case and spacing aside) — or called in from the same phone; not the one
    this call's key made. For the reconciliation of a replay: the call still goes in."""
    at = _aware(at)
    checked = _call(call)
    typed, _ = _location_text(call.location_text)
    address = " ".join(typed.upper().replace(",", " ").split())
    try:
        phone = normalise_phone(checked.caller_phone) if checked.caller_phone else None
    except ValueError:
        phone = None
    with uow:
        access.require(
            uow, actor, Action.INCIDENT_CREATE, "incident", audit_action="incident.duplicate_check"
        )
        matches = []
        for incident, incident_type, _, _ in uow.incidents.opened_between(
            at - window, at + window, [s.value for s in OPEN_STATUSES]
        ):
            if incident.idempotency_key == checked.key:
                continue
            there = " ".join((incident.location_text or "").upper().replace(",", " ").split())
            if (
                (call.location_id is not None and incident.location_id == call.location_id)
                or (address and there == address)
                or (phone is not None and incident.caller_phone == phone)
            ):
                matches.append(_summary(incident, incident_type.label))
        return matches


def link_call(
    uow: UnitOfWork, actor: Actor, incident_id: int, call: NewIncident, now: datetime
) -> SavedIncident:
    """Add a second call to an existing incident: one `merged_call` log entry with the
    caller's details and account, and links for any persons named. `created` is False
    when this call (its key) was already recorded."""
    now = _aware(now)
    _require_operator(actor)
    checked = _call(call)
    with uow:
        access.require(
            uow,
            actor,
            Action.INCIDENT_UPDATE,
            "incident",
            incident_id,
            audit_action="incident.link_call",
        )
        already = _already_linked(uow, actor, incident_id, checked.key)
        if already is not None:
            return already
        incident = _incident(uow, incident_id)
        _refuse_legacy(uow, actor, incident, "incident.link_call")
        caller = checked.caller_name or "unnamed caller"
        if checked.caller_relationship:
            caller += f" ({checked.caller_relationship})"
        if checked.caller_phone:
            caller += f", tel {checked.caller_phone}"
        text = f"Further call from {caller}."
        if checked.narrative:
            text += f"\n{checked.narrative}"
        _log(uow, actor, incident.id, LogKind.MERGED_CALL, text, now, key=checked.key)
        try:
            uow.flush()
        except IntegrityError:
            uow.rollback()
            already = _already_linked(uow, actor, incident_id, checked.key)
            if already is None:
                raise
            return already
        linked = _link_persons(uow, actor, incident, checked.persons, now)
        if linked:  # a victim or perpetrator with history: escalation or repeat
            uow.flush()
            raise_referrals(uow, actor, incident, now)
        uow.flush()
        route_incident(uow, incident, now)  # a linked person's markers may route it
        audit.record(
            uow,
            actor,
            "incident.link_call",
            "incident",
            incident.id,
            detail=f"merged call; {linked} person(s) linked",
        )
        uow.commit()
        return SavedIncident(id=incident.id, reference=incident.reference, created=True)


def _already_linked(
    uow: UnitOfWork, actor: Actor, incident_id: int, key: str
) -> SavedIncident | None:
    entry = uow.incidents.log_entry_by_key(key)
    existing = (
        uow.incidents.get(entry.incident_id)
        if entry is not None
        else uow.incidents.by_idempotency_key(key)
    )
    if existing is None:
        return None
    audit.record(
        uow,
        actor,
        "incident.link_call",
        "incident",
        existing.id,
        detail=f"call already recorded on {existing.reference}; nothing new recorded",
    )
    uow.commit()
    return SavedIncident(id=existing.id, reference=existing.reference, created=False)


# --- reading -----------------------------------------------------------------------------


def _incident(uow: UnitOfWork, incident_id: int, *, for_update: bool = False) -> Incident:
    incident = uow.incidents.get(incident_id, for_update=for_update)
    if incident is None:
        raise IncidentNotFound(f"no incident with id {incident_id}")
    return incident


def view_incident(uow: UnitOfWork, actor: Actor, reference: str, *, today: date) -> IncidentDetail:
    """The whole incident, by reference (typed in any case) — or by the provisional
    reference a station gave it offline; the view is audited, and so is a reference
    that does not exist (somebody looked for it)."""
    wanted = (reference or "").strip().upper()
    with uow:
        access.require(uow, actor, Action.INCIDENT_VIEW, "incident", wanted[:64] or None)
        incident = uow.incidents.by_reference(wanted) if wanted else None
        if incident is None and wanted.startswith("OFF-"):
            # A provisional reference a station gave a call kept offline: its incident.
            mapped = uow.offline.by_provisional(wanted)
            if mapped is not None and mapped.final_reference:
                incident = uow.incidents.by_reference(mapped.final_reference)
        if incident is None:
            audit.record(
                uow,
                actor,
                "incident.view",
                "incident",
                wanted[:64] or None,
                outcome=Outcome.FAILED,
                detail="no such reference",
            )
            uow.commit()
            raise IncidentNotFound(f"no incident {wanted or '(no reference given)'}")
        detail, note = _detail_noted(uow, incident, today, actor)
        audit.record(uow, actor, "incident.view", "incident", incident.id, detail=note)
        uow.commit()
        return detail


def incident_key(uow: UnitOfWork, reference: str) -> tuple[int, int] | None:
    """(id, version) of the incident `reference` names, or None: for a change kept
    offline, replayed (the change itself is checked and audited as any other)."""
    with uow:
        incident = uow.incidents.by_reference((reference or "").strip().upper())
        return None if incident is None else (incident.id, incident.version)


def view_incident_by_id(
    uow: UnitOfWork, actor: Actor, incident_id: int, *, today: date
) -> IncidentDetail:
    with uow:
        access.require(uow, actor, Action.INCIDENT_VIEW, "incident", incident_id)
        incident = uow.incidents.get(incident_id)
        if incident is None:
            audit.record(
                uow,
                actor,
                "incident.view",
                "incident",
                incident_id,
                outcome=Outcome.FAILED,
                detail="no such incident",
            )
            uow.commit()
            raise IncidentNotFound(f"no incident with id {incident_id}")
        detail, note = _detail_noted(uow, incident, today, actor)
        audit.record(uow, actor, "incident.view", "incident", incident.id, detail=note)
        uow.commit()
        return detail


def recent_incidents(uow: UnitOfWork, actor: Actor, limit: int = 20) -> list[IncidentSummary]:
    """The newest incidents, newest first."""
    with uow:
        access.require(uow, actor, Action.INCIDENT_LIST, "incident")
        summaries = [_summary(i, label) for i, label in uow.incidents.recent(limit)]
        _audit_listing(uow, actor, "", summaries)
        uow.commit()
        return summaries


def _audit_listing(
    uow: UnitOfWork, actor: Actor, asked: str, shown: Sequence[IncidentSummary]
) -> None:
    """One "incident.list" event: what was asked and the ids shown."""
    ids = ",".join(str(s.id) for s in shown) or "none"
    audit.record(uow, actor, "incident.list", "incident", None, detail=f"{asked}shown: {ids}")


# How many incidents the list shows at most (oldest first: the longest waiting).
LIST_LIMIT = 500
# How many incidents "open by reference" offers when the typed end fits several.
REFERENCE_MATCHES = 10


def list_incidents(
    uow: UnitOfWork,
    actor: Actor,
    *,
    statuses: Sequence[str] = tuple(OPEN_STATUSES),
    grades: Sequence[str] = (),
    limit: int = LIST_LIMIT,
) -> list[IncidentSummary]:
    """Incidents by status (open ones by default) and grade, oldest first, for the
    incident list. Audited ("incident.list") with the filters and the ids shown."""
    with uow:
        access.require(uow, actor, Action.INCIDENT_LIST, "incident")
        summaries = [
            _summary(i, label)
            for i, label in uow.incidents.listing(
                statuses=[str(s) for s in statuses], grades=list(grades), limit=limit
            )
        ]
        _audit_listing(
            uow,
            actor,
            f"statuses={','.join(map(str, statuses))}; grades={','.join(grades) or 'all'}; ",
            summaries,
        )
        uow.commit()
        return summaries


def find_references(uow: UnitOfWork, actor: Actor, typed: str) -> list[IncidentSummary]:
    """Incidents a typed reference may mean, newest first: the whole reference ("cr-2026
    1202-0042", any case), or its end ("1202-0042", "0042": today's and earlier ones
    ending so), or the provisional reference a station gave it offline (OFF-…). Empty
    for text that is no part of a reference. Audited as a list."""
    wanted = (typed or "").strip().upper()
    provisional = wanted.startswith("OFF-")  # a station's reference for a call kept offline
    longest = 60 if provisional else 24
    if not wanted or not all(c.isalnum() or c == "-" for c in wanted) or len(wanted) > longest:
        return []
    with uow:
        access.require(uow, actor, Action.INCIDENT_LIST, "incident")
        exact = uow.incidents.by_reference(wanted)
        if exact is None and provisional:
            mapped = uow.offline.by_provisional(wanted)
            if mapped is not None and mapped.final_reference:
                exact = uow.incidents.by_reference(mapped.final_reference)
        if exact is not None:
            kind = uow.reference.incident_type(exact.opening_type_code)
            found = [_summary(exact, kind.label if kind else exact.opening_type_code)]
        else:
            found = [
                _summary(i, label)
                for i, label in uow.incidents.references_ending(wanted, REFERENCE_MATCHES)
            ]
        _audit_listing(uow, actor, f"reference={wanted!r}; ", found)
        uow.commit()
        return found


# --- the log -----------------------------------------------------------------------------


def add_note(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    text: str,
    now: datetime,
    *,
    key: str | None = None,
) -> LogEntry:
    """Append a note. Notes never conflict: no version is checked and the incident row
    is not touched, so two operators writing at once both land. `key` (a note kept
    offline, replayed): the note that key already made is returned, not made again."""
    now = _aware(now)
    key = None if key is None else _key(key)
    _require_operator(actor)
    note = _text(text, "text", "note", limit=TEXT_LIMIT, required=True, multiline=True)
    with uow:
        access.require(
            uow,
            actor,
            Action.INCIDENT_UPDATE,
            "incident",
            incident_id,
            audit_action="incident.note",
        )
        incident = _incident(uow, incident_id)
        _refuse_legacy(uow, actor, incident, "incident.note")
        done = None if key is None else uow.incidents.log_entry_by_key(key)
        if done is not None:
            author = uow.staff.get(done.entered_by_id)
            return _log_entry(done, author.display_name if author else actor.username)
        entry = _log(uow, actor, incident.id, LogKind.NOTE, note, now, key=key)
        uow.flush()
        author = uow.staff.get(actor.staff_id)
        audit.record(
            uow, actor, "incident.note", "incident", incident.id, detail=f"log entry {entry.id}"
        )
        uow.commit()
        return _log_entry(entry, author.display_name if author else actor.username)


# --- changing the incident row -----------------------------------------------------------


def _checked_for_change(
    uow: UnitOfWork, actor: Actor, incident_id: int, expected_version: int, action: str, today: date
) -> Incident:
    """The incident locked for change, or EditConflict (audited and committed) if the
    operator's copy is stale."""
    incident = _incident(uow, incident_id, for_update=True)
    _refuse_legacy(uow, actor, incident, action)
    if incident.version != expected_version:
        _conflict(uow, actor, incident, expected_version, action, today)
    return incident


def _refuse_legacy(uow: UnitOfWork, actor: Actor, incident: Incident, action: str) -> None:
    """An old system's incident is kept as it came: the refusal is audited (committed)
    and said in words (`LegacyReadOnly`). The data layer refuses any other path too."""
    if incident.legacy_batch_id is None:
        return
    message = read_only_message("incident", incident.reference)
    audit.record(
        uow,
        actor,
        action,
        "incident",
        incident.id,
        outcome=Outcome.DENIED,
        detail="LEGACY: read-only",
    )
    uow.commit()
    raise LegacyReadOnly(message)


def _conflict(
    uow: UnitOfWork,
    actor: Actor,
    incident: Incident,
    expected_version: int,
    action: str,
    today: date,
) -> NoReturn:
    current, note = _detail_noted(uow, incident, today, actor)
    audit.record(
        uow,
        actor,
        action,
        "incident",
        incident.id,
        outcome=Outcome.FAILED,
        detail=_with_note(
            f"edit conflict: expected version {expected_version}, "
            f"found {current.version}; nothing changed",
            note,
        ),
    )
    uow.commit()
    raise EditConflict(current)


def _commit_change(
    uow: UnitOfWork,
    actor: Actor,
    incident: Incident,
    expected_version: int,
    action: str,
    detail: str,
    today: date,
    *,
    now: datetime,
) -> IncidentDetail:
    """Flush the change (the version column makes a stale UPDATE fail), audit, commit, and
    return the incident as it now is."""
    incident_id = incident.id
    try:
        uow.flush()
    except StaleDataError:
        # Another station's change landed between our read and our write (only possible
        # where the row lock was not taken); start again from what is there now.
        uow.rollback()
        _conflict(uow, actor, _incident(uow, incident_id), expected_version, action, today)
    # Type, flags, grade or status changed: its queue items follow, in this transaction.
    route_incident(uow, incident, now)
    result, note = _detail_noted(uow, incident, today, actor)
    audit.record(uow, actor, action, "incident", incident_id, detail=_with_note(detail, note))
    uow.commit()
    return result


def _already_changed(
    uow: UnitOfWork, actor: Actor, incident_id: int, now: datetime
) -> IncidentDetail:
    """A change replayed whose key is already in the log: nothing new, the incident as
    it is (read, not audited again: the change itself was)."""
    detail = _detail(uow, _incident(uow, incident_id), local_day(now), actor)
    uow.rollback()
    return detail


def change_grade(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    new_grade: str,
    reason: str,
    expected_version: int,
    now: datetime,
    grade_codes: tuple[str, ...],
    *,
    override_reason: str | None = None,
    no_deployment_grades: tuple[str, ...] = DEFAULT_NO_DEPLOYMENT,
    key: str | None = None,
) -> IncidentDetail:
    """Regrade; the reason is mandatory and the log keeps old -> new, who and when.
    `key` (a change kept offline, replayed): a change that key already made is not
    made again; the incident is returned as it is.

    A grade in `no_deployment_grades` (G4) on an incident a safeguarding rule covers is
    refused (`services.safeguarding.SafeguardingRefused`, naming the rules) unless a
    supervisor gives `override_reason`; the override is logged and audited."""
    now = _aware(now)
    _require_operator(actor)
    grade = _grade(new_grade, grade_codes)
    if grade is None:
        raise IncidentInputError("grade", f"choose a grade: {', '.join(grade_codes)}")
    why = _text(
        reason,
        "reason",
        "reason for the grade change",
        limit=REASON_LIMIT,
        required=True,
        multiline=True,
    )
    key = None if key is None else _key(key)
    with uow:
        access.require(uow, actor, Action.INCIDENT_REGRADE, "incident", incident_id)
        if key is not None and uow.incidents.log_entry_by_key(key) is not None:
            return _already_changed(uow, actor, incident_id, now)
        incident = _checked_for_change(
            uow, actor, incident_id, expected_version, "incident.regrade", local_day(now)
        )
        if incident.status == IncidentStatus.CLOSED.value:
            raise IncidentInputError("grade", "a closed incident cannot be regraded")
        if incident.grade == grade:
            raise IncidentInputError("grade", f"the incident is already graded {grade}")
        guard(
            uow,
            actor,
            incident,
            guarded_action(closing=False, new_grade=grade, no_deployment=no_deployment_grades),
            override_reason=override_reason,
            now=now,
            audit_action="incident.regrade",
            new_grade=grade,
        )
        old = incident.grade
        incident.grade = grade
        _log(uow, actor, incident.id, LogKind.GRADE_CHANGE, why, now, old=old, new=grade, key=key)
        return _commit_change(
            uow,
            actor,
            incident,
            expected_version,
            "incident.regrade",
            f"grade {old} -> {grade}",
            local_day(now),
            now=now,
        )


def change_status(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    new_status: str,
    expected_version: int,
    now: datetime,
    note: str = "",
    *,
    key: str | None = None,
) -> IncidentDetail:
    """Move an open incident between open, dispatched and at scene (closing is
    `close_incident`). `key` as for `change_grade`."""
    now = _aware(now)
    key = None if key is None else _key(key)
    _require_operator(actor)
    allowed = [s.value for s in OPEN_STATUSES]
    status = (new_status or "").strip().lower().replace(" ", "_")
    if status not in allowed:
        raise IncidentInputError(
            "status", f"status must be one of {', '.join(allowed)} (close an incident to close it)"
        )
    text = _text(note, "note", "note", limit=TEXT_LIMIT, multiline=True)
    with uow:
        access.require(
            uow,
            actor,
            Action.INCIDENT_UPDATE,
            "incident",
            incident_id,
            audit_action="incident.status",
        )
        if key is not None and uow.incidents.log_entry_by_key(key) is not None:
            return _already_changed(uow, actor, incident_id, now)
        incident = _checked_for_change(
            uow, actor, incident_id, expected_version, "incident.status", local_day(now)
        )
        if incident.status == IncidentStatus.CLOSED.value:
            raise IncidentInputError("status", "the incident is closed")
        if incident.status == status:
            raise IncidentInputError(
                "status", f"the incident is already {IncidentStatus(status).label}"
            )
        old = incident.status
        incident.status = status
        _log(
            uow,
            actor,
            incident.id,
            LogKind.STATUS_CHANGE,
            text or f"Status: {IncidentStatus(old).label} -> {IncidentStatus(status).label}",
            now,
            old=old,
            new=status,
            key=key,
        )
        return _commit_change(
            uow,
            actor,
            incident,
            expected_version,
            "incident.status",
            f"status {old} -> {status}",
            local_day(now),
            now=now,
        )


def update_assessment(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    expected_version: int,
    now: datetime,
    *,
    thrive: dict[str, str | None] | None,
    thrive_skipped: bool,
    domestic: bool,
    child_present: bool,
    weapons: bool,
    possible_crime: bool,
) -> IncidentDetail:
    """Re-do THRIVE and the flags; the log says which parts and flags changed."""
    now = _aware(now)
    _require_operator(actor)
    parts = _thrive(thrive, thrive_skipped)
    flags = {
        "domestic": domestic,
        "child_present": child_present,
        "weapons": weapons,
        "possible_crime": possible_crime,
    }
    with uow:
        access.require(uow, actor, Action.INCIDENT_UPDATE, "incident", incident_id)
        incident = _checked_for_change(
            uow, actor, incident_id, expected_version, "incident.update", local_day(now)
        )
        changed_parts = [p for p in THRIVE_PARTS if getattr(incident, f"thrive_{p}") != parts[p]]
        changed_flags = [f.value for f in IncidentFlag if getattr(incident, f) != flags[f]]
        skip_changed = bool(incident.thrive_skipped) != thrive_skipped
        if not (changed_parts or changed_flags or skip_changed):
            raise IncidentInputError("thrive", "nothing to save: the assessment is unchanged")
        for part in changed_parts:
            setattr(incident, f"thrive_{part}", parts[part])
        for flag in changed_flags:
            setattr(incident, flag, flags[flag])
        incident.thrive_skipped = thrive_skipped
        if changed_parts:
            incident.thrive_assessed_at = now
            incident.thrive_assessed_by_id = actor.staff_id
        summary = []
        if changed_parts:
            summary.append(
                "THRIVE " + ", ".join(THRIVE_LABELS[p] for p in changed_parts) + " updated"
            )
        if skip_changed:
            summary.append("THRIVE skipped" if thrive_skipped else "THRIVE no longer skipped")
        for flag in changed_flags:
            summary.append(f"{flag.replace('_', ' ')}: {'yes' if flags[flag] else 'no'}")
        text = "Assessment updated: " + "; ".join(summary)
        _log(uow, actor, incident.id, LogKind.NOTE, text, now)
        return _commit_change(
            uow,
            actor,
            incident,
            expected_version,
            "incident.update",
            "; ".join(summary),
            local_day(now),
            now=now,
        )


def close_incident(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    expected_version: int,
    now: datetime,
    *,
    closing_type_code: str | None,
    result: str,
    crime_reference: str | None = None,
    no_crime_reason: str | None = None,
    override_reason: str | None = None,
) -> IncidentDetail:
    """Close with a closing category (it may differ from the opening type) and a result;
    a possible crime needs its crime reference or a written no-crime reason.

    An incident a safeguarding rule covers is not closed (`SafeguardingRefused`, naming
    the rules) unless a supervisor gives `override_reason`; the override is logged and
    audited."""
    now = _aware(now)
    _require_operator(actor)
    code = (closing_type_code or "").strip().upper() or None
    result_text = _text(result, "result", "result", limit=TEXT_LIMIT, multiline=True)
    crime_ref = _optional(
        crime_reference, "crime_reference", "crime reference", limit=CRIME_REFERENCE_LIMIT
    )
    reason = _optional(
        no_crime_reason, "no_crime_reason", "no-crime reason", limit=TEXT_LIMIT, multiline=True
    )
    with uow:
        access.require(uow, actor, Action.INCIDENT_CLOSE, "incident", incident_id)
        incident = _checked_for_change(
            uow, actor, incident_id, expected_version, "incident.close", local_day(now)
        )
        if incident.status == IncidentStatus.CLOSED.value:
            raise IncidentInputError("status", "the incident is already closed")
        problems = closure_problems(
            closing_type_code=code,
            result=result_text,
            possible_crime=incident.possible_crime,
            crime_reference=crime_ref,
            no_crime_reason=reason,
        )
        if problems:
            field_name, message = next(iter(problems.items()))
            raise IncidentInputError(field_name, message)
        closing = uow.reference.incident_type(code) if code else None
        if closing is None or not closing.active:
            raise IncidentInputError("closing_type_code", f"not a known incident type: {code}")
        guard(
            uow,
            actor,
            incident,
            GuardedAction.CLOSE,
            override_reason=override_reason,
            now=now,
            audit_action="incident.close",
        )
        old = incident.status
        incident.status = IncidentStatus.CLOSED.value
        incident.closing_type_code = closing.code
        incident.closed_at = now
        incident.closed_by_id = actor.staff_id
        incident.result = result_text
        incident.crime_reference = crime_ref
        incident.no_crime_reason = None if crime_ref else reason
        # Kept for the integrity counts: a closing with a crime reference records a crime.
        incident.crime_recording_delay = recording_delay(
            incident.opened_at,
            incident.crime_recording_delay,
            closed_as_crime(crime_ref, incident.closed_at),
        )
        # NCRS: a possible crime closed without a crime needs a supervisor's sign-off; a
        # supervisor closing it signs it off in doing so (logged as such).
        signoff = None
        if incident.possible_crime and not crime_ref:
            signoff = (
                SIGNOFF_APPROVED if access.allowed(actor, Action.SIGNOFF) else SIGNOFF_AWAITING
            )
        incident.signoff_state = signoff
        # NCRS: the 24-hour clock stops at a crime reference given or a no-crime
        # decision signed off (here, by the supervisor closing it).
        if incident.possible_crime and incident.crime_clock_stopped_at is None:
            if crime_ref or signoff == SIGNOFF_APPROVED:
                incident.crime_clock_stopped_at = now
        lines = [result_text]
        if closing.code != incident.opening_type_code:
            lines.append(f"Closing category: {closing.label}")
        if crime_ref:
            lines.append(f"Crime reference: {crime_ref}")
        elif incident.possible_crime:
            lines.append(
                "Awaiting supervisor sign-off"
                if signoff == SIGNOFF_AWAITING
                else "Signed off by the closing supervisor"
            )
            lines.append(f"No crime recorded: {reason}")
        _log(
            uow,
            actor,
            incident.id,
            LogKind.CLOSURE,
            "\n".join(lines),
            now,
            old=old,
            new=IncidentStatus.CLOSED.value,
        )
        return _commit_change(
            uow,
            actor,
            incident,
            expected_version,
            "incident.close",
            f"closed as {closing.code}"
            + (
                "; no crime, awaiting sign-off"
                if signoff == SIGNOFF_AWAITING
                else "; no crime, signed off"
                if signoff
                else ""
            ),
            local_day(now),
            now=now,
        )


def sign_off_closure(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    expected_version: int,
    now: datetime,
    *,
    approve: bool,
    reason: str = "",
) -> IncidentDetail:
    """A supervisor signs off a no-crime closure (`approve`), or returns it: the incident
    is open again and `reason` (required) says why. Others are refused (audited)."""
    now = _aware(now)
    _require_operator(actor)
    why = _optional(reason, "reason", "reason", limit=REASON_LIMIT, multiline=True)
    if not approve and not why:
        raise IncidentInputError(
            "reason", "write why the closure is returned (what must be done first)"
        )
    with uow:
        access.require(
            uow, actor, Action.SIGNOFF, "incident", incident_id, audit_action="incident.signoff"
        )
        incident = _checked_for_change(
            uow, actor, incident_id, expected_version, "incident.signoff", local_day(now)
        )
        if incident.signoff_state != SIGNOFF_AWAITING:
            raise IncidentInputError("reason", "this incident has no closure awaiting sign-off")
        if approve:
            incident.signoff_state = SIGNOFF_APPROVED
            if incident.possible_crime and incident.crime_clock_stopped_at is None:
                incident.crime_clock_stopped_at = now  # NCRS: the no-crime decision
            _log(
                uow,
                actor,
                incident.id,
                LogKind.SIGNOFF,
                "No-crime closure signed off" + (f": {why}" if why else ""),
                now,
            )
            detail = "no-crime closure signed off"
        else:
            old = incident.status
            incident.status = IncidentStatus.OPEN.value
            incident.signoff_state = None
            incident.closing_type_code = None
            incident.closed_at = None
            incident.closed_by_id = None
            incident.result = None
            incident.no_crime_reason = None
            _log(
                uow,
                actor,
                incident.id,
                LogKind.STATUS_CHANGE,
                f"No-crime closure returned: {why}",
                now,
                old=old,
                new=IncidentStatus.OPEN.value,
            )
            detail = "no-crime closure returned; incident open again"
        return _commit_change(
            uow,
            actor,
            incident,
            expected_version,
            "incident.signoff",
            detail,
            local_day(now),
            now=now,
        )
