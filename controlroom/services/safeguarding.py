"""Safeguarding rules on an incident, and the supervisor override that lets a covered
incident be graded for resolution without deployment (G4) or closed.

`evaluate` tells a screen which rules cover an incident. `guard` is what
`services.incidents.change_grade` and `close_incident` call inside their own unit of
work before they change anything: with no rule covering the action it does nothing;
otherwise it refuses (`SafeguardingRefused`, audited and committed) unless an override
reason is given by a supervisor, in which case it records the override (a
`SafeguardingOverride` row, an `override` entry in the incident log and a
`safeguarding.override` audit event) in that same unit of work, so the override and the
change it allows commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from controlroom.data import safeguarding_queries as queries
from controlroom.data.cold_models import IncidentLogEntry, SafeguardingOverride
from controlroom.data.models import Incident
from controlroom.domain.dash import RiskLevel
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.identity import Actor
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.domain.safeguarding import (
    OVERRIDE_LOG_KIND,
    RULE_TITLES,
    GuardedAction,
    RuleBreach,
    SafeguardingFacts,
    breaches,
    describe,
    no_deployment_grades,
    override_reason_problem,
)
from controlroom.services import access, audit
from controlroom.services.audit import Outcome
from controlroom.services.fields import FieldError
from controlroom.services.referrals import ReferralInfo, referral_infos

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_NO_DEPLOYMENT",
    "OverrideInfo",
    "OverrideInputError",
    "OverrideNotPermitted",
    "SafeguardingRefused",
    "SafeguardingStatus",
    "evaluate",
    "guard",
    "may_override",
]

DEFAULT_NO_DEPLOYMENT = no_deployment_grades(DEFAULT_GRADES)


class SafeguardingRefused(Exception):
    """The action is covered by safeguarding rules and no override was given.

    `.breaches` names the rules and why each applies; nothing was changed."""

    def __init__(self, action: GuardedAction, found: tuple[RuleBreach, ...]) -> None:
        super().__init__(
            f"{action.label.capitalize()} this incident is refused by safeguarding rules: "
            f"{describe(found)}. A supervisor may override with a written reason."
        )
        self.action = action
        self.breaches = found


class OverrideNotPermitted(PermissionError):
    """Only a supervisor may override a safeguarding rule."""


class OverrideInputError(FieldError):
    """The override reason is missing or too short (field `override_reason`)."""


@dataclass(frozen=True, slots=True)
class OverrideInfo:
    id: int
    rules: tuple[str, ...]
    rule_words: str
    action: str
    new_grade: str | None
    reason: str
    supervisor: str
    overridden_at: datetime


@dataclass(frozen=True, slots=True)
class SafeguardingStatus:
    """What the incident view shows under Safeguarding and Referrals."""

    incident_id: int
    domestic: bool
    breaches: tuple[RuleBreach, ...]
    overrides: tuple[OverrideInfo, ...]
    dash_level: RiskLevel | None  # the DASH in force; None where none is done
    dash_score: int | None
    dash_raised: bool  # raised by professional judgement
    referrals: tuple[ReferralInfo, ...]


def may_override(actor: Actor) -> bool:
    """The permission table's OVERRIDE (controlroom.domain.permissions)."""
    return access.allowed(actor, Action.OVERRIDE)


def facts(uow: UnitOfWork, incident: Incident, today: date) -> SafeguardingFacts:
    """What the rules look at, read in `uow` (open)."""
    links = uow.incidents.person_links(incident.id)
    person_ids = [person.id for _, person in links]
    codes = frozenset(kind.code for _, kind in uow.persons.current_markers(person_ids, today))
    level = uow.safeguarding.latest_dash_levels([incident.id]).get(incident.id)
    return SafeguardingFacts(
        domestic=uow.safeguarding.is_domestic(incident),
        child_present=bool(incident.child_present),
        dash_level=RiskLevel(level) if level else None,
        marker_codes=codes,
    )


def _override_info(row: SafeguardingOverride, supervisor: str) -> OverrideInfo:
    codes = tuple(code for code in row.rules.split(",") if code)
    return OverrideInfo(
        id=row.id,
        rules=codes,
        rule_words=queries.rule_words(codes),
        action=row.action,
        new_grade=row.new_grade,
        reason=row.reason,
        supervisor=supervisor,
        overridden_at=row.overridden_at,
    )


def evaluate(uow: UnitOfWork, actor: Actor, incident_id: int, *, today: date) -> SafeguardingStatus:
    """The rules covering the incident now, its DASH in force, its referrals and the
    overrides made on it (one audit event)."""
    with uow:
        access.require(
            uow,
            actor,
            Action.INCIDENT_VIEW,
            "incident",
            incident_id,
            audit_action="safeguarding.view",
        )
        incident = uow.incidents.get(incident_id)
        if incident is None:
            raise LookupError(f"no incident with id {incident_id}")
        known = facts(uow, incident, today)
        found = breaches(known)
        overrides = tuple(
            _override_info(row, name) for row, name in uow.safeguarding.overrides_of(incident.id)
        )
        dash = uow.safeguarding.current_dash(incident.id)
        referral_rows = uow.safeguarding.referrals_of(incident.id)
        audit.record(
            uow,
            actor,
            "safeguarding.view",
            "incident",
            incident.id,
            detail="rules: "
            + (",".join(b.rule for b in found) or "none")
            + "; referrals: "
            + (",".join(str(r.id) for r in referral_rows) or "none"),
        )
        status = SafeguardingStatus(
            incident_id=incident.id,
            domestic=known.domestic,
            breaches=found,
            overrides=overrides,
            dash_level=RiskLevel(dash.level) if dash is not None else None,
            dash_score=dash.score if dash is not None else None,
            dash_raised=bool(dash is not None and dash.judgement_level),
            referrals=tuple(referral_infos(uow, referral_rows)),
        )
        uow.commit()
        return status


def check_override_reason(reason: str | None) -> str:
    """The reason trimmed, or OverrideInputError at the field `override_reason`."""
    problem = override_reason_problem(reason)
    if problem:
        raise OverrideInputError("override_reason", problem)
    return (reason or "").strip()


def guard(
    uow: UnitOfWork,
    actor: Actor,
    incident: Incident,
    action: GuardedAction | None,
    *,
    override_reason: str | None,
    now: datetime,
    audit_action: str,
    new_grade: str | None = None,
) -> OverrideInfo | None:
    """Apply the safeguarding rules to `action` on `incident`, inside the caller's open
    unit of work, before it changes anything.

    Returns None when no rule covers the action, the recorded override when a
    supervisor gave one; raises SafeguardingRefused (no override) or
    OverrideNotPermitted (not a supervisor), both audited under `audit_action` and
    committed, with nothing else changed; OverrideInputError for an unusable reason.
    """
    if action is None:
        return None
    found = breaches(facts(uow, incident, local_day(now)))
    if not found:
        return None
    codes = ",".join(b.rule for b in found)
    if override_reason is None:
        audit.record(
            uow,
            actor,
            audit_action,
            "incident",
            incident.id,
            outcome=Outcome.REFUSED,
            detail=f"safeguarding rules {codes}: {action.value} refused without "
            "a supervisor override",
        )
        uow.commit()
        raise SafeguardingRefused(action, found)
    if not may_override(actor):
        audit.record(
            uow,
            actor,
            "safeguarding.override",
            "incident",
            incident.id,
            outcome=Outcome.DENIED,
            detail=f"rules {codes}: {action.value}; only a supervisor may override",
        )
        uow.commit()
        raise OverrideNotPermitted(
            "Only a supervisor can override a safeguarding rule: ask a supervisor to do it."
        )
    reason = check_override_reason(override_reason)
    row = SafeguardingOverride(
        incident_id=incident.id,
        rules=codes,
        action=action.value,
        new_grade=new_grade,
        reason=reason,
        supervisor_id=actor.staff_id,
        overridden_at=now,
    )
    uow.add(row)
    words = "; ".join(RULE_TITLES.get(b.rule, b.title) for b in found)
    what = f"grade {new_grade}" if action is GuardedAction.GRADE_NO_DEPLOYMENT else "closing"
    uow.incidents.add_log_entry(
        IncidentLogEntry(
            incident_id=incident.id,
            entered_at=now,
            entered_by_id=actor.staff_id,
            kind=OVERRIDE_LOG_KIND,
            text=f"Safeguarding override for {what}: {words}.\nReason: {reason}",
            new_value=new_grade,
        )
    )
    uow.flush()
    audit.record(
        uow,
        actor,
        "safeguarding.override",
        "incident",
        incident.id,
        justification=reason,
        detail=f"override {row.id}: rules {codes}; action {action.value}"
        + (f" to {new_grade}" if new_grade else ""),
    )
    names = uow.safeguarding.staff_names([actor.staff_id])
    supervisor = names.get(actor.staff_id, actor.username) if actor.staff_id else actor.username
    return _override_info(row, supervisor)
