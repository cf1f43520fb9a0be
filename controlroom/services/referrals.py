"""MARAC and children's services referrals: raised by the triggers of
`controlroom.domain.dash`, then marked sent and acknowledged.

`raise_referrals` runs inside a caller's unit of work (the DASH service calls it when an
assessment is saved, so the assessment and the referrals it causes commit together);
`check_referrals` is the same as a use case of its own, for when an incident's people
change (a victim or suspect linked can make it an escalation or a repeat). Every
referral created, sent or acknowledged writes an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from controlroom.data.cold_models import Referral
from controlroom.data.models import Incident
from controlroom.domain.dash import (
    ESCALATION_WINDOW,
    ReferralFacts,
    ReferralKind,
    ReferralStatus,
    RiskLevel,
    Trigger,
    acknowledge_due,
    due_at,
    is_overdue,
    next_status,
    referrals_needed,
    send_due,
    triggers,
)
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import LogKind
from controlroom.domain.permissions import Action
from controlroom.services import access, audit, incident_log
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

__all__ = [
    "ReferralInfo",
    "ReferralNotFound",
    "ReferralStepError",
    "check_referrals",
    "mark_acknowledged",
    "mark_sent",
    "raise_referrals",
    "referral_infos",
    "referrals_for_incident",
]


class ReferralNotFound(LookupError):
    pass


class ReferralStepError(ValueError):
    """The referral cannot take that step (already sent, not yet sent, ...)."""


@dataclass(frozen=True, slots=True)
class ReferralInfo:
    id: int
    incident_id: int
    kind: str
    status: str
    triggers: tuple[str, ...]
    created_at: datetime
    created_by: str
    send_due_at: datetime
    sent_at: datetime | None
    sent_by: str | None
    acknowledge_due_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def kind_label(self) -> str:
        return ReferralKind(self.kind).label

    @property
    def trigger_words(self) -> str:
        return "; ".join(Trigger(t).label for t in self.triggers)

    @property
    def due_at(self) -> datetime | None:
        """When the next step (send, acknowledge) is due; None once acknowledged."""
        return due_at(self.status, self.send_due_at, self.acknowledge_due_at)

    def overdue(self, now: datetime) -> bool:
        return is_overdue(self.status, self.send_due_at, self.acknowledge_due_at, now)


def _info(row: Referral, names: dict[int, str]) -> ReferralInfo:
    def name(staff_id):
        return None if staff_id is None else names.get(staff_id, "")

    return ReferralInfo(
        id=row.id,
        incident_id=row.incident_id,
        kind=row.kind,
        status=row.status,
        triggers=tuple(t for t in row.triggers.split(",") if t),
        created_at=row.created_at,
        created_by=name(row.created_by_id) or "",
        send_due_at=row.send_due_at,
        sent_at=row.sent_at,
        sent_by=name(row.sent_by_id),
        acknowledge_due_at=row.acknowledge_due_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=name(row.acknowledged_by_id),
    )


def referral_infos(uow: UnitOfWork, rows) -> list[ReferralInfo]:
    names = uow.safeguarding.staff_names(
        [s for r in rows for s in (r.created_by_id, r.sent_by_id, r.acknowledged_by_id)]
    )
    return [_info(row, names) for row in rows]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    return now.astimezone(UTC)


def referral_facts(uow: UnitOfWork, incident: Incident, now: datetime) -> ReferralFacts:
    people = uow.safeguarding.victims_and_perpetrators(incident.id)
    counts = uow.safeguarding.da_incident_counts(people, now - ESCALATION_WINDOW, now)
    level = uow.safeguarding.latest_dash_levels([incident.id]).get(incident.id)
    return ReferralFacts(
        domestic=uow.safeguarding.is_domestic(incident),
        child_present=bool(incident.child_present),
        level=RiskLevel(level) if level else None,
        da_incident_counts=tuple(counts.values()),
        last_marac_at=uow.safeguarding.last_marac_for(people, incident.id),
        now=now,
    )


def _kind_words(kind: str) -> str:
    """A referral's recipient as the log says it: "MARAC", "children's services"."""
    return {"marac": "MARAC", "childrens_services": "children's services"}.get(
        kind, kind.replace("_", " ")
    )


def raise_referrals(
    uow: UnitOfWork,
    actor: Actor,
    incident: Incident,
    now: datetime,
    dash_assessment_id: int | None = None,
) -> list[ReferralInfo]:
    """Create the referrals the triggers call for and the incident does not have yet,
    in the caller's open unit of work (not committed here); one audit event each."""
    now = _aware(now)
    facts = referral_facts(uow, incident, now)
    existing = [ReferralKind(r.kind) for r in uow.safeguarding.referrals_of(incident.id)]
    kinds = referrals_needed(facts, existing)
    if not kinds:
        return []
    found = ",".join(t.value for t in triggers(facts))
    rows = []
    for kind in kinds:
        row = Referral(
            incident_id=incident.id,
            kind=kind.value,
            status=ReferralStatus.CREATED.value,
            triggers=found,
            dash_assessment_id=dash_assessment_id,
            created_at=now,
            created_by_id=actor.staff_id,
            send_due_at=send_due(now),
        )
        uow.add(row)
        rows.append(row)
    uow.flush()
    for row in rows:
        audit.record(
            uow,
            actor,
            "referral.create",
            "referral",
            row.id,
            detail=f"incident {incident.id}: {row.kind}; triggers {found}",
        )
        incident_log.append(
            uow,
            actor,
            incident.id,
            LogKind.REFERRAL,
            f"Referral to {_kind_words(row.kind)} raised ({found.replace(',', ', ')})",
            now,
            new=row.status,
        )
    return referral_infos(uow, rows)


def check_referrals(
    uow: UnitOfWork, actor: Actor, incident_id: int, now: datetime
) -> list[ReferralInfo]:
    """Raise any referrals now due for the incident (after its people changed)."""
    now = _aware(now)
    with uow:
        access.require(
            uow,
            actor,
            Action.REFERRAL_MANAGE,
            "incident",
            incident_id,
            audit_action="referral.check",
        )
        incident = uow.incidents.get(incident_id)
        if incident is None:
            raise LookupError(f"no incident with id {incident_id}")
        created = raise_referrals(uow, actor, incident, now)
        if not created:
            audit.record(
                uow, actor, "referral.check", "incident", incident.id, detail="no referral needed"
            )
        uow.commit()
        return created


def referrals_for_incident(uow: UnitOfWork, actor: Actor, incident_id: int) -> list[ReferralInfo]:
    """The incident's referrals, oldest first (audited)."""
    with uow:
        access.require(
            uow, actor, Action.INCIDENT_VIEW, "incident", incident_id, audit_action="referral.list"
        )
        rows = uow.safeguarding.referrals_of(incident_id)
        infos = referral_infos(uow, rows)
        audit.record(
            uow,
            actor,
            "referral.list",
            "incident",
            incident_id,
            detail="shown: " + (",".join(str(r.id) for r in infos) or "none"),
        )
        uow.commit()
        return infos


def _step(
    uow: UnitOfWork, actor: Actor, referral_id: int, wanted: ReferralStatus, now: datetime
) -> ReferralInfo:
    now = _aware(now)
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can update referrals")
    action = f"referral.{wanted.value}"
    with uow:
        access.require(
            uow, actor, Action.REFERRAL_MANAGE, "referral", referral_id, audit_action=action
        )
        row = uow.safeguarding.referral_for_update(referral_id)
        if row is None:
            raise ReferralNotFound(f"no referral with id {referral_id}")
        try:
            next_status(row.status, wanted)
        except ValueError as exc:
            audit.record(
                uow, actor, action, "referral", row.id, outcome=Outcome.FAILED, detail=str(exc)
            )
            uow.commit()
            raise ReferralStepError(str(exc)) from None
        row.status = wanted.value
        if wanted is ReferralStatus.SENT:
            row.sent_at, row.sent_by_id = now, actor.staff_id
            row.acknowledge_due_at = acknowledge_due(row.kind, now)
        else:
            row.acknowledged_at, row.acknowledged_by_id = now, actor.staff_id
        uow.flush()
        audit.record(
            uow,
            actor,
            action,
            "referral",
            row.id,
            detail=f"incident {row.incident_id}: {row.kind} {wanted.value}",
        )
        incident_log.append(
            uow,
            actor,
            row.incident_id,
            LogKind.REFERRAL,
            f"Referral to {_kind_words(row.kind)} {wanted.value}",
            now,
            new=wanted.value,
        )
        info = referral_infos(uow, [row])[0]
        uow.commit()
        return info


def mark_sent(uow: UnitOfWork, actor: Actor, referral_id: int, now: datetime) -> ReferralInfo:
    return _step(uow, actor, referral_id, ReferralStatus.SENT, now)


def mark_acknowledged(
    uow: UnitOfWork, actor: Actor, referral_id: int, now: datetime
) -> ReferralInfo:
    return _step(uow, actor, referral_id, ReferralStatus.ACKNOWLEDGED, now)
