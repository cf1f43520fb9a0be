"""Crime recording (NCRS): crimes recorded from incidents, their classification,
cancellation and outcomes, and the 24-hour clock of every possible-crime incident.

Invariants:
- every function opens the unit of work it is given, checks the permission table
  first (`access.require`, a refusal audited), writes one audit event and commits it
  with the change it records (or alone, for a read);
- every change to a crime is also a line in its incident's log;
- one crime per victim: recording names the victims (linked to the incident as
  victims) and makes one crime each; a victim with a live crime from the same incident
  is refused. An offence with no victim (drugs, weapons) makes one crime;
- the incident's clock (`incident.crime_clock_stopped_at`) stops in the transaction that
  records its first crime, or that signs its no-crime closure off
  (`services.incidents`); a breach is never silent: the incident view, the recording
  queue and the command view all say BREACHED in words;
- changes to a crime carry the version the operator read; a stale one changes nothing
  (`CrimeConflict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy.orm.exc import StaleDataError

from controlroom.data.cold_models import Crime, CrimeClassification, CrimeOutcome, CrimeSuspect
from controlroom.domain import crime as rules
from controlroom.domain.crime import ApprovalState, ClockReading, CrimeState
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import LogKind, PersonRole
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.services import access, audit, fields, incident_log
from controlroom.services.fields import FieldError

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

QUEUE_LIMIT = 500


class CrimeInputError(FieldError):
    """Input the service cannot use; `.field` names the form field, `.message` says why."""


class CrimeNotFound(LookupError):
    pass


class CrimeConflict(Exception):
    """Somebody changed the crime since the operator read it; nothing was changed."""

    def __init__(self, reference: str) -> None:
        super().__init__(
            f"{reference} was changed by someone else; nothing was saved: read it again"
        )


@dataclass(frozen=True, slots=True)
class OffenceOption:
    code: str
    name: str
    open_data_type: str
    sexual: bool
    victim_based: bool

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True, slots=True)
class CrimeSummary:
    id: int
    reference: str
    version: int
    offence_code: str
    offence_name: str
    victim: str | None  # the name, or the withheld words for a complainant
    suspects: tuple[str, ...]
    recorded_at: datetime
    recorded_by: str
    committed_from: datetime
    location_text: str
    domestic: bool
    state: str
    cancel_reason: str | None
    outcome_code: int
    outcome_date: date | None
    outcome_awaiting: int | None  # an outcome waiting for a supervisor's approval
    reclassifications: tuple[str, ...]  # "8N -> 5D: reason", oldest first
    victim_id: int | None = None
    suspect_ids: tuple[int, ...] = ()
    victim_based: bool = True  # its offence has a victim (db/offence_class.csv)

    @property
    def outcome_words(self) -> str:
        return rules.outcome_label(self.outcome_code)


@dataclass(frozen=True, slots=True)
class PartyOption:
    """A person linked to the incident whom a crime can name."""

    person_id: int
    role: str
    name: str
    has_crime: bool = False


@dataclass(frozen=True, slots=True)
class IncidentCrimes:
    """An incident's crimes and its NCRS clock (None when no clock applies)."""

    incident_id: int
    reference: str
    clock: ClockReading | None
    crimes: tuple[CrimeSummary, ...]
    victims: tuple[PartyOption, ...]
    suspects: tuple[PartyOption, ...]


@dataclass(frozen=True, slots=True)
class ClockLine:
    """One possible-crime incident whose clock runs, for the recording queue."""

    incident_id: int
    reference: str
    type_label: str
    location_text: str
    station: str
    status: str
    clock: ClockReading


@dataclass(frozen=True, slots=True)
class StationClocks:
    station: str
    running: int
    due_soon: int
    breached: int


@dataclass(frozen=True, slots=True)
class RecordingQueue:
    lines: tuple[ClockLine, ...]  # least time left first
    stations: tuple[StationClocks, ...]
    read_at: datetime

    @property
    def running(self) -> int:
        return sum(s.running for s in self.stations)

    @property
    def breached(self) -> int:
        return sum(s.breached for s in self.stations)

    @property
    def due_soon(self) -> int:
        return sum(s.due_soon for s in self.stations)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    return now.astimezone(UTC)


def _staff_id(actor: Actor) -> int:
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can record crimes")
    return actor.staff_id


def _option(offence) -> OffenceOption:
    return OffenceOption(
        code=offence.code,
        name=offence.name,
        open_data_type=offence.open_data_type,
        sexual=offence.sexual,
        victim_based=offence.victim_based,
    )


# --- reference data --------------------------------------------------------------------------


def offence_classes(uow: UnitOfWork) -> list[OffenceOption]:
    """The Home Office offence classes in use (reference data: not audited)."""
    with uow:
        return [_option(o) for o in uow.crimes.offence_classes()]


# --- reading ---------------------------------------------------------------------------------


def clock_stop_of(incident) -> datetime | None:
    return incident.crime_clock_stopped_at


def _incident_crimes(uow: UnitOfWork, actor: Actor, incident, now: datetime) -> IncidentCrimes:
    from controlroom.services.incidents import may_see_complainants, withheld_text

    crimes = list(uow.crimes.of_incident(incident.id))
    suspects = uow.crimes.suspects([c.id for c in crimes])
    links = uow.incidents.person_links(incident.id)
    person_ids = [c.victim_id for c in crimes if c.victim_id is not None]
    person_ids += [p for ids in suspects.values() for p in ids]
    person_ids += [link.person_id for link, _ in links]
    names = uow.crimes.names(sorted(set(person_ids)))
    shown = may_see_complainants(actor)
    offences = {o.code: o for o in uow.crimes.offence_classes()}
    staff_names: dict[int, str] = {}

    def staff_name(staff_id: int) -> str:
        if staff_id not in staff_names:
            member = uow.staff.get(staff_id)
            staff_names[staff_id] = member.display_name if member else f"staff {staff_id}"
        return staff_names[staff_id]

    # Victims of a sexual offence (by the crime's class or the incident's type) are
    # complainants: their names are withheld from roles without need-to-know.
    from controlroom.services.incidents import complainant_ids

    complainants = complainant_ids(uow, [link.person_id for link, _ in links])
    for c in crimes:
        offence = offences.get(c.offence_code) or uow.crimes.offence(c.offence_code)
        if offence is not None and offence.sexual and c.victim_id is not None:
            complainants.add(c.victim_id)

    def name(person_id: int | None) -> str | None:
        if person_id is None:
            return None
        if person_id in complainants and not shown:
            return withheld_text()
        return names.get(person_id, f"person {person_id}")

    summaries = []
    for c in crimes:
        offence = offences.get(c.offence_code) or uow.crimes.offence(c.offence_code)
        pending = uow.crimes.pending_outcome(c.id)
        summaries.append(
            CrimeSummary(
                id=c.id,
                reference=c.reference,
                version=c.version,
                offence_code=c.offence_code,
                offence_name=offence.name if offence else c.offence_code,
                victim=name(c.victim_id),
                suspects=tuple(name(p) or "" for p in suspects.get(c.id, [])),
                recorded_at=c.recorded_at,
                recorded_by=staff_name(c.recorded_by_id),
                committed_from=c.committed_from,
                location_text=c.location_text,
                domestic=c.domestic,
                state=c.state,
                cancel_reason=c.cancel_reason,
                outcome_code=c.outcome_code,
                outcome_date=c.outcome_date,
                outcome_awaiting=pending.outcome_code if pending else None,
                reclassifications=tuple(
                    f"{k.old_code} -> {k.new_code}: {k.reason}"
                    for k in uow.crimes.classifications(c.id)
                    if k.old_code is not None
                ),
                victim_id=c.victim_id,
                suspect_ids=tuple(suspects.get(c.id, [])),
                victim_based=bool(offence.victim_based) if offence else True,
            )
        )
    live = {
        c.victim_id
        for c in crimes
        if c.victim_id is not None and c.state != CrimeState.CANCELLED.value
    }
    victims = tuple(
        PartyOption(link.person_id, link.role, name(link.person_id) or "", link.person_id in live)
        for link, _ in links
        if link.role == PersonRole.VICTIM.value
    )
    suspect_options = tuple(
        PartyOption(link.person_id, link.role, name(link.person_id) or "")
        for link, _ in links
        if link.role == PersonRole.SUSPECT.value
    )
    clock = (
        rules.read_clock(incident.opened_at, incident.crime_clock_stopped_at, now)
        if incident.possible_crime
        else None
    )
    return IncidentCrimes(
        incident_id=incident.id,
        reference=incident.reference,
        clock=clock,
        crimes=tuple(summaries),
        victims=victims,
        suspects=suspect_options,
    )


def incident_crimes(uow: UnitOfWork, actor: Actor, incident_id: int, now: datetime):
    """The incident's crimes and its clock (audited as `crime.view`)."""
    now = _aware(now)
    with uow:
        access.require(uow, actor, Action.CRIME_VIEW, "incident", incident_id)
        incident = uow.incidents.get(incident_id)
        if incident is None:
            raise CrimeNotFound(f"no incident with id {incident_id}")
        result = _incident_crimes(uow, actor, incident, now)
        audit.record(
            uow,
            actor,
            "crime.view",
            "incident",
            incident.id,
            detail=f"{len(result.crimes)} crime(s)",
        )
        uow.commit()
        return result


# --- recording -------------------------------------------------------------------------------


def record_crimes(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    now: datetime,
    *,
    offence_code: str | None,
    victim_ids: tuple[int, ...] = (),
    suspect_ids: tuple[int, ...] = (),
    committed_from: datetime | None = None,
    committed_to: datetime | None = None,
) -> IncidentCrimes:
    """Record a crime from the incident for each victim named (one crime per victim), or
    one crime for an offence with no victim; the incident's clock stops if it runs."""
    now = _aware(now)
    staff_id = _staff_id(actor)
    code = (offence_code or "").strip().upper() or None
    with uow:
        access.require(uow, actor, Action.CRIME_RECORD, "incident", incident_id)
        incident = uow.incidents.get(incident_id, for_update=True)
        if incident is None:
            raise CrimeNotFound(f"no incident with id {incident_id}")
        offence = uow.crimes.offence(code) if code else None
        existing = uow.crimes.of_incident(incident.id)
        links = uow.incidents.person_links(incident.id)
        incident_victims = frozenset(
            link.person_id for link, _ in links if link.role == PersonRole.VICTIM.value
        )
        incident_suspects = frozenset(
            link.person_id for link, _ in links if link.role == PersonRole.SUSPECT.value
        )
        problems = rules.recording_problems(
            offence_code=code,
            offence_known=offence is not None and offence.active,
            victim_based=bool(offence and offence.victim_based),
            victim_ids=tuple(victim_ids),
            victims_with_crime=frozenset(
                c.victim_id
                for c in existing
                if c.victim_id is not None and c.state != CrimeState.CANCELLED.value
            ),
            incident_victims=incident_victims,
        )
        strangers = [s for s in suspect_ids if s not in incident_suspects]
        if strangers:
            problems["suspects"] = "a suspect must be linked to the incident as a suspect first"
        start = committed_from or incident.opened_at
        if committed_to is not None and committed_to < start:
            problems["committed_to"] = "the end of when it happened is before its start"
        if start > now:
            problems["committed_from"] = "when it happened is in the future"
        if problems:
            field_name, message = next(iter(problems.items()))
            raise CrimeInputError(field_name, message)
        assert offence is not None  # recording_problems refused an unknown offence
        year = local_day(now).year
        # The year's next numbers (the seeded and migrated crimes share the sequence).
        # Two stations racing for one number on PostgreSQL: the unique reference makes
        # the later save fail whole, and the operator saves again.
        number = uow.crimes.next_number(f"CRM-{year}-")
        made: list[Crime] = []
        for victim_id in tuple(victim_ids) or (None,):
            crime = Crime(
                reference=rules.crime_reference(year, number),
                incident_id=incident.id,
                offence_code=offence.code,
                victim_id=victim_id,
                recorded_at=now,
                recorded_by_id=staff_id,
                committed_from=start,
                committed_to=committed_to,
                location_id=incident.location_id,
                location_text=incident.location_text,
                domestic=bool(incident.domestic),
                state=CrimeState.RECORDED.value,
                outcome_code=rules.NO_OUTCOME,
            )
            uow.crimes.add(crime)
            uow.flush()
            number += 1
            uow.crimes.add(
                CrimeClassification(
                    crime_id=crime.id,
                    old_code=None,
                    new_code=offence.code,
                    reason=None,
                    changed_at=now,
                    changed_by_id=staff_id,
                )
            )
            for suspect_id in dict.fromkeys(suspect_ids):
                uow.crimes.add(CrimeSuspect(crime_id=crime.id, person_id=suspect_id))
            made.append(crime)
        # Kept for the integrity counts: how long after the report a crime was first
        # recorded (this one, unless one came earlier).
        incident.crime_recording_delay = rules.recording_delay(
            incident.opened_at, incident.crime_recording_delay, now
        )
        stopped = ""
        if incident.possible_crime and incident.crime_clock_stopped_at is None:
            incident.crime_clock_stopped_at = now
            stopped = (
                f"; NCRS clock stopped after {rules.read_clock(incident.opened_at, now, now).words}"
            )
        uow.flush()
        refs = ", ".join(c.reference for c in made)
        incident_log.append(
            uow,
            actor,
            incident.id,
            LogKind.CRIME,
            f"Crime recorded: {refs} · {offence.code} {offence.name}"
            + (f" · {len(made)} victims, one crime each" if len(made) > 1 else ""),
            now,
            new=offence.code,
        )
        result = _incident_crimes(uow, actor, incident, now)
        audit.record(
            uow,
            actor,
            "crime.record",
            "incident",
            incident.id,
            detail=f"{refs} as {offence.code}{stopped}",
        )
        uow.commit()
        return result


# --- changing a crime ------------------------------------------------------------------------


def _crime_for_change(uow: UnitOfWork, crime_id: int, expected_version: int) -> Crime:
    crime = uow.crimes.get(crime_id, for_update=True)
    if crime is None:
        raise CrimeNotFound(f"no crime with id {crime_id}")
    if crime.version != expected_version:
        raise CrimeConflict(crime.reference)
    return crime


def _finish(
    uow: UnitOfWork, actor: Actor, crime: Crime, action: str, detail: str, log: str, now
) -> IncidentCrimes:
    try:
        uow.flush()
    except StaleDataError:
        uow.rollback()
        raise CrimeConflict(crime.reference) from None
    incident_log.append(uow, actor, crime.incident_id, LogKind.CRIME, log, now)
    incident = uow.incidents.get(crime.incident_id)
    result = _incident_crimes(uow, actor, incident, now)
    audit.record(uow, actor, action, "crime", crime.id, detail=detail)
    uow.commit()
    return result


def reclassify(
    uow: UnitOfWork,
    actor: Actor,
    crime_id: int,
    expected_version: int,
    now: datetime,
    *,
    offence_code: str | None,
    reason: str | None,
) -> IncidentCrimes:
    """Change a crime's Home Office classification; the reason is required and the
    change (old -> new) is kept."""
    now = _aware(now)
    staff_id = _staff_id(actor)
    code = (offence_code or "").strip().upper() or None
    why = fields.text(
        reason, "reason", "reason", limit=rules.REASON_LIMIT, error=CrimeInputError, multiline=True
    )
    with uow:
        access.require(uow, actor, Action.CRIME_UPDATE, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        if crime.state == CrimeState.CANCELLED.value:
            raise CrimeInputError("offence_code", f"{crime.reference} is cancelled")
        problems = rules.reclassification_problems(crime.offence_code, code, why)
        new = uow.crimes.offence(code) if code else None
        if code and "offence_code" not in problems and (new is None or not new.active):
            problems["offence_code"] = f"not a Home Office offence code in use here: {code}"
        if problems:
            field_name, message = next(iter(problems.items()))
            raise CrimeInputError(field_name, message)
        assert new is not None
        old = crime.offence_code
        crime.offence_code = new.code
        uow.crimes.add(
            CrimeClassification(
                crime_id=crime.id,
                old_code=old,
                new_code=new.code,
                reason=why,
                changed_at=now,
                changed_by_id=staff_id,
            )
        )
        return _finish(
            uow,
            actor,
            crime,
            "crime.reclassify",
            f"{crime.reference}: {old} -> {new.code}",
            f"Crime {crime.reference} reclassified {old} -> {new.code} {new.name}: {why}",
            now,
        )


def change_parties(
    uow: UnitOfWork,
    actor: Actor,
    crime_id: int,
    expected_version: int,
    now: datetime,
    *,
    victim_id: int | None,
    suspect_ids: tuple[int, ...],
) -> IncidentCrimes:
    """Link a victim to a crime recorded without one (`victim_id`; None leaves it), and
    make its suspects exactly `suspect_ids` (people linked to the incident as suspects).
    Audited as `crime.parties`, logged on the incident with who was added or removed."""
    now = _aware(now)
    _staff_id(actor)
    with uow:
        access.require(uow, actor, Action.CRIME_RECORD, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        if crime.state == CrimeState.CANCELLED.value:
            raise CrimeInputError("crime", f"{crime.reference} is cancelled")
        links = uow.incidents.person_links(crime.incident_id)
        others = uow.crimes.of_incident(crime.incident_id)
        problems = rules.parties_problems(
            victim_id=victim_id,
            current_victim=crime.victim_id,
            incident_victims=frozenset(
                link.person_id for link, _ in links if link.role == PersonRole.VICTIM.value
            ),
            victims_with_crime=frozenset(
                c.victim_id
                for c in others
                if c.victim_id is not None and c.state != CrimeState.CANCELLED.value
            ),
            suspect_ids=tuple(suspect_ids),
            incident_suspects=frozenset(
                link.person_id for link, _ in links if link.role == PersonRole.SUSPECT.value
            ),
        )
        if problems:
            field_name, message = next(iter(problems.items()))
            raise CrimeInputError(field_name, message)
        before = uow.crimes.suspects([crime.id]).get(crime.id, [])
        added = [p for p in suspect_ids if p not in before]
        removed = [p for p in before if p not in suspect_ids]
        linked = victim_id is not None and victim_id != crime.victim_id
        if not (linked or added or removed):
            raise CrimeInputError("suspects", "nothing changed: tick or untick someone")
        if linked:
            crime.victim_id = victim_id
        for person_id in added:
            uow.crimes.add(CrimeSuspect(crime_id=crime.id, person_id=person_id))
        uow.crimes.remove_suspects(crime.id, removed)
        uow.crimes.touch(crime)
        # No names in the log (a complainant's is withheld from some readers): who
        # changed is on the crime, for those who may see it.
        said = []
        if linked:
            said.append("victim linked")
        if added:
            said.append(f"{len(added)} suspect(s) added")
        if removed:
            said.append(f"{len(removed)} suspect(s) removed")
        return _finish(
            uow,
            actor,
            crime,
            "crime.parties",
            f"{crime.reference}: "
            + "; ".join(
                part
                for part in (
                    f"victim {victim_id}" if linked else "",
                    f"+suspects {added}" if added else "",
                    f"-suspects {removed}" if removed else "",
                )
                if part
            ),
            f"Crime {crime.reference}: " + "; ".join(said),
            now,
        )


def request_cancellation(
    uow: UnitOfWork,
    actor: Actor,
    crime_id: int,
    expected_version: int,
    now: datetime,
    *,
    reason: str | None,
) -> IncidentCrimes:
    """Ask for a crime to be cancelled, with the reason; a supervisor decides."""
    now = _aware(now)
    _staff_id(actor)
    why = fields.text(
        reason, "reason", "reason", limit=rules.REASON_LIMIT, error=CrimeInputError, multiline=True
    )
    problem = rules.reason_problem(why, "crime should be cancelled")
    if problem:
        raise CrimeInputError("reason", problem)
    with uow:
        access.require(uow, actor, Action.CRIME_UPDATE, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        if crime.state != CrimeState.RECORDED.value:
            raise CrimeInputError("reason", f"{crime.reference} is {CrimeState(crime.state).label}")
        crime.state = CrimeState.CANCELLATION_REQUESTED.value
        crime.cancel_reason = why
        crime.cancel_requested_by_id = actor.staff_id
        crime.cancel_requested_at = now
        return _finish(
            uow,
            actor,
            crime,
            "crime.cancel_request",
            f"{crime.reference}: cancellation asked for",
            f"Cancellation of crime {crime.reference} asked for (a supervisor decides): {why}",
            now,
        )


def decide_cancellation(
    uow: UnitOfWork,
    actor: Actor,
    crime_id: int,
    expected_version: int,
    now: datetime,
    *,
    approve: bool,
    note: str = "",
) -> IncidentCrimes:
    """A supervisor cancels the crime (`approve`) or keeps it recorded (a note needed)."""
    now = _aware(now)
    _staff_id(actor)
    words = fields.optional_text(
        note, "note", "note", limit=rules.REASON_LIMIT, error=CrimeInputError, multiline=True
    )
    if not approve and not words:
        raise CrimeInputError("note", "write why the crime stays recorded")
    with uow:
        access.require(uow, actor, Action.CRIME_DECIDE, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        if crime.state != CrimeState.CANCELLATION_REQUESTED.value:
            raise CrimeInputError("note", f"{crime.reference} has no cancellation asked for")
        crime.cancel_decided_by_id = actor.staff_id
        crime.cancel_decided_at = now
        crime.cancel_decision_note = words
        if approve:
            crime.state = CrimeState.CANCELLED.value
            log = f"Crime {crime.reference} cancelled by a supervisor: {crime.cancel_reason}"
        else:
            crime.state = CrimeState.RECORDED.value
            log = f"Cancellation of crime {crime.reference} refused: {words}"
        return _finish(
            uow,
            actor,
            crime,
            "crime.cancel_decide",
            f"{crime.reference}: {'cancelled' if approve else 'kept recorded'}",
            log + (f" ({words})" if approve and words else ""),
            now,
        )


def give_outcome(
    uow: UnitOfWork,
    actor: Actor,
    crime_id: int,
    expected_version: int,
    now: datetime,
    *,
    outcome: int | None,
    outcome_date: date | None,
    victim_decision: str | None = None,
    victim_decision_on: date | None = None,
    victim_decision_by: str | None = None,
) -> IncidentCrimes:
    """Give a crime its outcome (0-22) with its date. 14 and 16 need the victim's
    decision; 16 on domestic abuse waits for a supervisor's approval unless a supervisor
    gives it (approving it in doing so)."""
    now = _aware(now)
    staff_id = _staff_id(actor)
    decision = fields.optional_text(
        victim_decision,
        "victim_decision",
        "victim's decision",
        limit=rules.REASON_LIMIT,
        error=CrimeInputError,
        multiline=True,
    )
    taken_by = fields.optional_text(
        victim_decision_by,
        "victim_decision_by",
        "who took the decision",
        limit=120,
        error=CrimeInputError,
    )
    with uow:
        access.require(uow, actor, Action.CRIME_UPDATE, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        if crime.state == CrimeState.CANCELLED.value:
            raise CrimeInputError("outcome", f"{crime.reference} is cancelled")
        problems = rules.outcome_problems(
            code=outcome,
            outcome_date=outcome_date,
            recorded_on=local_day(crime.recorded_at),
            today=local_day(now),
            victim_decision=decision,
            victim_decision_on=victim_decision_on,
            victim_decision_by=taken_by,
        )
        if problems:
            field_name, message = next(iter(problems.items()))
            raise CrimeInputError(field_name, message)
        assert outcome is not None and outcome_date is not None
        needs = rules.outcome_needs_approval(outcome, crime.domestic)
        by_supervisor = access.allowed(actor, Action.CRIME_DECIDE)
        state = (
            ApprovalState.NOT_NEEDED
            if not needs
            else ApprovalState.APPROVED
            if by_supervisor
            else ApprovalState.AWAITING
        )
        uow.crimes.add(
            CrimeOutcome(
                crime_id=crime.id,
                outcome_code=outcome,
                outcome_date=outcome_date,
                given_at=now,
                given_by_id=staff_id,
                victim_decision=decision if outcome in rules.VICTIM_DECISION_OUTCOMES else None,
                victim_decision_on=victim_decision_on
                if outcome in rules.VICTIM_DECISION_OUTCOMES
                else None,
                victim_decision_by=taken_by if outcome in rules.VICTIM_DECISION_OUTCOMES else None,
                approval_state=state.value,
                approved_by_id=staff_id if state is ApprovalState.APPROVED else None,
                approved_at=now if state is ApprovalState.APPROVED else None,
            )
        )
        if state is ApprovalState.AWAITING:
            log = (
                f"Outcome {rules.outcome_label(outcome)} given to crime {crime.reference} "
                "on domestic abuse: awaiting a supervisor's approval"
            )
        else:
            crime.outcome_code = outcome
            crime.outcome_date = outcome_date
            log = f"Crime {crime.reference} outcome: {rules.outcome_label(outcome)}" + (
                f" (dated {outcome_date:%d/%m/%Y})"
            )
            if state is ApprovalState.APPROVED:
                log += " — approved by the supervisor giving it"
        if outcome in rules.VICTIM_DECISION_OUTCOMES:
            log += f"\nVictim's decision ({victim_decision_on:%d/%m/%Y}, taken by {taken_by}): {decision}"
        return _finish(
            uow,
            actor,
            crime,
            "crime.outcome",
            f"{crime.reference}: outcome {outcome} ({state.value})",
            log,
            now,
        )


def approve_outcome(
    uow: UnitOfWork, actor: Actor, crime_id: int, expected_version: int, now: datetime
) -> IncidentCrimes:
    """A supervisor approves the outcome waiting on a domestic-abuse crime."""
    now = _aware(now)
    _staff_id(actor)
    with uow:
        access.require(uow, actor, Action.CRIME_DECIDE, "crime", crime_id)
        crime = _crime_for_change(uow, crime_id, expected_version)
        pending = uow.crimes.pending_outcome(crime.id)
        if pending is None:
            raise CrimeInputError("outcome", f"{crime.reference} has no outcome awaiting approval")
        pending.approval_state = ApprovalState.APPROVED.value
        pending.approved_by_id = actor.staff_id
        pending.approved_at = now
        crime.outcome_code = pending.outcome_code
        crime.outcome_date = pending.outcome_date
        return _finish(
            uow,
            actor,
            crime,
            "crime.outcome_approve",
            f"{crime.reference}: outcome {pending.outcome_code} approved",
            f"Outcome {rules.outcome_label(pending.outcome_code)} of crime {crime.reference} "
            "approved by a supervisor",
            now,
        )


# --- the recording queue ---------------------------------------------------------------------


# The command view counts the clocks started in this window: the whole history is a
# scan of every clock ever left running (hundreds of thousands on a force's database),
# and the view opens within 100 ms. Older breaches stay on the F9 queue and in F11.
COMMAND_VIEW_WINDOW = timedelta(days=31)


def _station_clocks(
    uow: UnitOfWork, now: datetime, since: datetime | None = None
) -> tuple[StationClocks, ...]:
    rows = uow.crimes.clock_counts(
        now - rules.RECORDING_LIMIT, now - rules.RECORDING_LIMIT + rules.DUE_SOON, since
    )
    return tuple(StationClocks(s, n, d, b) for s, n, d, b in rows)


def station_clocks(uow: UnitOfWork, now: datetime) -> tuple[StationClocks, ...]:
    """The clocks started in the last COMMAND_VIEW_WINDOW that still run, by station, for
    a service that has checked its own permission inside an open unit of work (the
    command view)."""
    now = _aware(now)
    return _station_clocks(uow, now, now - COMMAND_VIEW_WINDOW)


def recording_queue(
    uow: UnitOfWork, actor: Actor, now: datetime, *, limit: int = QUEUE_LIMIT, audited=True
) -> RecordingQueue:
    """Possible crimes whose clock runs, the least time left first (breaches on top),
    and the counts by station."""
    now = _aware(now)
    with uow:
        access.require(uow, actor, Action.CRIME_VIEW, "crime_queue")
        lines = tuple(
            ClockLine(
                incident_id=incident_id,
                reference=reference,
                type_label=label,
                location_text=location_text,
                station=station or "(no station)",
                status=status,
                clock=rules.read_clock(opened_at, None, now),
            )
            for (
                incident_id,
                reference,
                location_text,
                status,
                opened_at,
                label,
                station,
            ) in uow.crimes.running_clocks(limit)
        )
        result = RecordingQueue(lines=lines, stations=_station_clocks(uow, now), read_at=now)
        if audited:
            audit.record(
                uow,
                actor,
                "crime.queue",
                "crime_queue",
                None,
                detail=f"running={result.running}; breached={result.breached}",
            )
            uow.commit()
        return result


# --- crime data integrity ----------------------------------------------------------------------

TREND_MONTHS = 12


class UnrecordedIncident(NamedTuple):
    """A crime-related incident with no crime recorded within 24 h of its report (a
    tuple: a busy month lists thousands, made on every read of the measure)."""

    incident_id: int
    reference: str
    opened_at: datetime
    station: str
    recorded_at: datetime | None  # late, or None: never recorded


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """The inspectorate's crime data integrity measure for one month (local time): of
    the crime-related incidents reported in it, the share with a crime recorded within
    24 h (and 7 days); the same by station; each month of the year to it; and the
    incidents not recorded within 24 h, oldest first."""

    month: date
    count: rules.IntegrityCount
    stations: tuple[tuple[str, rules.IntegrityCount], ...]
    months: tuple[tuple[date, rules.IntegrityCount], ...]  # oldest first, `month` last
    unrecorded: tuple[UnrecordedIncident, ...]
    read_at: datetime


def _month_start(first: date) -> datetime:
    from datetime import time

    from controlroom.domain.incidents import REFERENCE_ZONE

    return datetime.combine(first, time(0), tzinfo=REFERENCE_ZONE).astimezone(UTC)


def crime_data_integrity(uow: UnitOfWork, actor: Actor, month: date, now: datetime):
    """The crime data integrity measure for `month` (any day of it), with its year's trend
    and the incidents not recorded within 24 h; for analysts and supervisors (audited as
    `crime.integrity`)."""
    from controlroom.domain.open_data import next_month

    now = _aware(now)
    first = month.replace(day=1)
    start = first
    for _ in range(TREND_MONTHS - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    with uow:
        access.require(
            uow,
            actor,
            Action.STATISTICS_VIEW,
            "crime_integrity",
            f"{first:%Y-%m}",
            audit_action="crime.integrity",
        )
        trend = [start]
        while trend[-1] < first:
            trend.append(next_month(trend[-1]))
        bounds = [_month_start(m) for m in trend] + [_month_start(next_month(first))]
        # The year's trend and the month's figure from the kept monthly counts
        # (`data.crime_counts`), equal to counting the incidents again (a test proves
        # it); the month by station counted by the database, and only the month's
        # unrecorded incidents read out.
        counts = uow.crimes.integrity_months(trend[0], trend[-1])
        months = [(m, rules.IntegrityCount(*counts.get(m, (0, 0, 0)))) for m in trend]
        limits = (rules.RECORDING_LIMIT, rules.WEEK)
        stations = uow.crimes.integrity_by_station(bounds[-2], bounds[-1], limits)
        unrecorded = tuple(
            map(
                UnrecordedIncident._make,
                uow.crimes.crime_related(bounds[-2], bounds[-1], not_within=rules.RECORDING_LIMIT),
            )
        )
        report = IntegrityReport(
            month=first,
            count=months[-1][1],
            stations=tuple((s, rules.IntegrityCount(n, a, b)) for s, n, a, b in stations),
            months=tuple(months),
            unrecorded=unrecorded,
            read_at=now,
        )
        audit.record(
            uow,
            actor,
            "crime.integrity",
            "crime_integrity",
            f"{first:%Y-%m}",
            detail=f"{report.count.within_24h}/{report.count.total} within 24h "
            f"({rules.rate_words(report.count.rate_24h)})",
        )
        uow.commit()
        return report


# --- the integrity audit sample --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleItem:
    check_id: int
    incident_id: int
    reference: str
    reported_at: datetime
    finding: str | None
    checked_at: datetime | None


def _sample_items(uow: UnitOfWork, month: date) -> tuple[SampleItem, ...]:
    return tuple(
        SampleItem(
            check_id=check.id,
            incident_id=check.incident_id,
            reference=reference,
            reported_at=opened,
            finding=check.finding,
            checked_at=check.checked_at,
        )
        for check, reference, opened in uow.crimes.sample(month)
    )


def audit_sample(
    uow: UnitOfWork, actor: Actor, month: date, now: datetime, *, size: int = rules.SAMPLE_SIZE
) -> tuple[SampleItem, ...]:
    """The month's audit sample for a supervisor to check: drawn at random (`size`
    crime-related incidents of the month) the first time it is asked for, the same
    sample afterwards. Audited as `crime.audit_sample`."""
    import random

    from controlroom.data.cold_models import IntegrityCheck
    from controlroom.domain.open_data import next_month

    now = _aware(now)
    staff_id = _staff_id(actor)
    first = month.replace(day=1)
    with uow:
        access.require(uow, actor, Action.CRIME_AUDIT, "crime_integrity", f"{first:%Y-%m}")
        items = _sample_items(uow, first)
        drawn = 0
        if not items:
            related = list(
                uow.crimes.crime_related(_month_start(first), _month_start(next_month(first)))
            )
            # A fair draw nobody can steer: the system's random source.
            chosen = random.SystemRandom().sample(related, min(size, len(related)))
            for iid, *_ in sorted(chosen, key=lambda row: row[2]):
                uow.crimes.add(
                    IntegrityCheck(month=first, incident_id=iid, drawn_at=now, drawn_by_id=staff_id)
                )
            uow.flush()
            items = _sample_items(uow, first)
            drawn = len(items)
        audit.record(
            uow,
            actor,
            "crime.audit_sample",
            "crime_integrity",
            f"{first:%Y-%m}",
            detail=f"{drawn} drawn" if drawn else f"{len(items)} shown",
        )
        uow.commit()
        return items


def record_check(
    uow: UnitOfWork,
    actor: Actor,
    check_id: int,
    now: datetime,
    *,
    finding: str,
    note: str | None = None,
) -> SampleItem:
    """A supervisor's finding on one incident of an audit sample (audited, logged on the
    incident). A check may be recorded again: the newest finding stands, each is audited."""
    now = _aware(now)
    _staff_id(actor)
    try:
        found = rules.Finding(finding)
    except ValueError:
        raise CrimeInputError("finding", "correct, crime missed or misclassified") from None
    words = fields.optional_text(
        note, "note", "note", limit=rules.REASON_LIMIT, error=CrimeInputError, multiline=True
    )
    with uow:
        access.require(uow, actor, Action.CRIME_AUDIT, "integrity_check", check_id)
        check = uow.crimes.check(check_id, for_update=True)
        if check is None:
            raise CrimeNotFound(f"no audit sample item {check_id}")
        check.finding = found.value
        check.note = words
        check.checked_at = now
        check.checked_by_id = actor.staff_id
        incident_log.append(
            uow,
            actor,
            check.incident_id,
            LogKind.CRIME,
            f"Crime data integrity audit ({check.month:%B %Y}): {found.label}"
            + (f" — {words}" if words else ""),
            now,
        )
        uow.flush()
        item = next(i for i in _sample_items(uow, check.month) if i.check_id == check.id)
        audit.record(
            uow,
            actor,
            "crime.audit_check",
            "incident",
            check.incident_id,
            detail=f"{check.month:%Y-%m}: {found.value}",
        )
        uow.commit()
        return item


# --- statistics --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatisticsReport:
    """Twelve months of crime statistics to `months[-1]` (local months, oldest first):
    crimes recorded (not cancelled) per month, by open-data type and by Home Office
    class; the outcomes of the year's crimes; the integrity rate; MARAC referrals."""

    months: tuple[date, ...]
    recorded: tuple[int, ...]
    by_type: tuple[tuple[str, tuple[int, ...]], ...]  # the 14 open-data types, in order
    by_class: tuple[tuple[str, tuple[int, ...]], ...]  # "8N Assault with injury", by code
    outcomes: tuple[tuple[int, int], ...]  # (outcome code, crimes), most first
    integrity: tuple[rules.IntegrityCount, ...]
    marac_referrals: tuple[int, ...]
    read_at: datetime


def crime_statistics(uow: UnitOfWork, actor: Actor, month: date, now: datetime):
    """The statistics of the twelve months to `month`, for analysts and supervisors
    (audited as `statistics.view`)."""
    from controlroom.domain.open_data import CRIME_TYPES, next_month

    now = _aware(now)
    last = month.replace(day=1)
    months = [last]
    for _ in range(TREND_MONTHS - 1):
        months.insert(0, (months[0] - timedelta(days=1)).replace(day=1))
    end = _month_start(next_month(last))
    with uow:
        access.require(
            uow,
            actor,
            Action.STATISTICS_VIEW,
            "statistics",
            f"{last:%Y-%m}",
            audit_action="statistics.view",
        )
        bounds = [_month_start(m) for m in months] + [end]
        recorded = [0] * len(months)
        types: dict[str, list[int]] = {t: [0] * len(months) for t in CRIME_TYPES}
        classes: dict[str, list[int]] = {}
        outcomes: dict[int, int] = {}
        offences = {o.code: o for o in uow.crimes.offence_classes()}
        # The kept monthly counts (`data.crime_counts`): equal to counting the crimes
        # again (a test proves it), a few hundred rows where the crimes are 100,000s.
        index = {m: k for k, m in enumerate(months)}
        for first, code, outcome, n in uow.crimes.recorded_months(months[0], months[-1]):
            k = index[first]
            offence = offences.get(code) or uow.crimes.offence(code)  # retired: still counted
            recorded[k] += n
            if offence is not None:
                types.setdefault(offence.open_data_type, [0] * len(months))[k] += n
            label = f"{code} {offence.name if offence else ''}".strip()
            classes.setdefault(label, [0] * len(months))[k] += n
            outcomes[outcome] = outcomes.get(outcome, 0) + n
        counts = uow.crimes.integrity_months(months[0], months[-1])
        integrity = [rules.IntegrityCount(*counts.get(m, (0, 0, 0))) for m in months]
        marac = uow.crimes.marac_counts(bounds)
        referrals = [marac.get(k, 0) for k in range(len(months))]
        report = StatisticsReport(
            months=tuple(months),
            recorded=tuple(recorded),
            by_type=tuple((t, tuple(types[t])) for t in CRIME_TYPES if t in types),
            by_class=tuple((c, tuple(v)) for c, v in sorted(classes.items())),
            outcomes=tuple(sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))),
            integrity=tuple(integrity),
            marac_referrals=tuple(referrals),
            read_at=now,
        )
        audit.record(
            uow,
            actor,
            "statistics.view",
            "statistics",
            f"{last:%Y-%m}",
            detail=f"{sum(recorded)} crimes in 12 months",
        )
        uow.commit()
        return report
