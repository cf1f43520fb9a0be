"""DASH assessments of domestic-abuse incidents: record one, read the current one and its
history.

An assessment is never edited: saving a new one supersedes the one in force, and both
stay. Saving runs the referral triggers in the same unit of work, so a high-risk DASH
and its MARAC referral commit together, and announces the incident's queue items so
every open queue shows the new level. Every save and every read writes an audit event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from controlroom.data.cold_models import DashAssessment
from controlroom.domain.dash import (
    QUESTIONS,
    Answer,
    DashError,
    RiskLevel,
    assess,
    decode_answers,
    encode_answers,
)
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import LogKind
from controlroom.domain.permissions import Action
from controlroom.services import access, audit, incident_log
from controlroom.services.fields import FieldError
from controlroom.services.queues import route_incident
from controlroom.services.referrals import ReferralInfo, raise_referrals

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

__all__ = [
    "DashInputError",
    "DashRecord",
    "DashSaved",
    "DashView",
    "dash_for_incident",
    "record_dash",
]


class DashInputError(FieldError):
    """An assessment that cannot be saved; `.field` is `answers`, `judgement_level`,
    `judgement_reason` or `incident`."""


@dataclass(frozen=True, slots=True)
class DashRecord:
    id: int
    answers: dict[int, Answer]
    score: int
    score_level: RiskLevel
    judgement_level: RiskLevel | None
    judgement_reason: str | None
    level: RiskLevel
    assessed_at: datetime
    assessed_by: str
    supersedes_id: int | None


@dataclass(frozen=True, slots=True)
class DashView:
    incident_id: int
    reference: str
    domestic: bool
    child_present: bool
    current: DashRecord | None
    history: tuple[DashRecord, ...]  # newest first, the current one included


@dataclass(frozen=True, slots=True)
class DashSaved:
    assessment: DashRecord
    referrals: tuple[ReferralInfo, ...]  # the referrals this save raised


def _record(row: DashAssessment, assessor: str) -> DashRecord:
    return DashRecord(
        id=row.id,
        answers=decode_answers(row.answers),
        score=row.score,
        score_level=RiskLevel(row.score_level),
        judgement_level=RiskLevel(row.judgement_level) if row.judgement_level else None,
        judgement_reason=row.judgement_reason,
        level=RiskLevel(row.level),
        assessed_at=row.assessed_at,
        assessed_by=assessor,
        supersedes_id=row.supersedes_id,
    )


def _incident(uow: UnitOfWork, incident_id: int):
    incident = uow.incidents.get(incident_id)
    if incident is None:
        raise LookupError(f"no incident with id {incident_id}")
    return incident


def dash_for_incident(uow: UnitOfWork, actor: Actor, incident_id: int) -> DashView:
    """The incident's DASH in force and its history (audited)."""
    with uow:
        access.require(
            uow, actor, Action.INCIDENT_VIEW, "incident", incident_id, audit_action="dash.view"
        )
        incident = _incident(uow, incident_id)
        history = tuple(
            _record(row, name) for row, name in uow.safeguarding.dash_history(incident.id)
        )
        audit.record(
            uow, actor, "dash.view", "incident", incident.id, detail=f"{len(history)} assessment(s)"
        )
        view = DashView(
            incident_id=incident.id,
            reference=incident.reference,
            domestic=uow.safeguarding.is_domestic(incident),
            child_present=bool(incident.child_present),
            current=history[0] if history else None,
            history=history,
        )
        uow.commit()
        return view


def _answers(answers: Mapping[int, Answer | str]) -> dict[int, Answer]:
    checked = {}
    for number, answer in answers.items():
        try:
            checked[int(number)] = Answer(answer)
        except ValueError:
            raise DashInputError(
                "answers", f"question {number}: answer yes, no or not known (Y, N or K)"
            ) from None
    return checked


def record_dash(
    uow: UnitOfWork,
    actor: Actor,
    incident_id: int,
    answers: Mapping[int, Answer | str],
    now: datetime,
    *,
    judgement_level: RiskLevel | str | None = None,
    judgement_reason: str | None = None,
) -> DashSaved:
    """Score and save a complete DASH for a domestic-abuse incident, superseding the one
    in force; raise the referrals its triggers call for. Audited as `dash.record` (and
    each referral as `referral.create`)."""
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    now = now.astimezone(UTC)
    if actor.staff_id is None:
        raise PermissionError("only an enrolled member of staff can record a DASH")
    try:
        result = assess(_answers(answers), judgement_level, judgement_reason)
    except DashError as exc:
        raise DashInputError(exc.field, exc.message) from None
    with uow:
        access.require(uow, actor, Action.DASH_RECORD, "incident", incident_id)
        incident = _incident(uow, incident_id)
        if not uow.safeguarding.is_domestic(incident):
            raise DashInputError(
                "incident",
                "DASH is for domestic-abuse incidents: this incident is not flagged domestic",
            )
        previous = uow.safeguarding.current_dash(incident.id)
        row = DashAssessment(
            incident_id=incident.id,
            answers=encode_answers(_answers(answers)),
            score=result.score,
            score_level=result.score_level.value,
            judgement_level=result.judgement_level.value if result.judgement_level else None,
            judgement_reason=result.judgement_reason,
            level=result.level.value,
            assessed_at=now,
            assessed_by_id=actor.staff_id,
            supersedes_id=previous.id if previous is not None else None,
        )
        uow.add(row)
        uow.flush()
        detail = (
            f"assessment {row.id}: score {row.score}, level {row.level}"
            + (f" (raised by judgement from {row.score_level})" if row.judgement_level else "")
            + (f"; supersedes {previous.id}" if previous is not None else "")
        )
        audit.record(
            uow,
            actor,
            "dash.record",
            "incident",
            incident.id,
            justification=result.judgement_reason,
            detail=detail,
        )
        incident_log.append(
            uow,
            actor,
            incident.id,
            LogKind.DASH,
            f"DASH recorded: {RiskLevel(row.level).label} risk, score {row.score} of "
            f"{len(QUESTIONS)}"
            + (
                f" (raised by judgement from {RiskLevel(row.score_level).label}: "
                f"{row.judgement_reason})"
                if row.judgement_level
                else ""
            )
            + ("; replaces the earlier DASH" if previous is not None else ""),
            now,
            new=row.level,
        )
        referrals = raise_referrals(uow, actor, incident, now, dash_assessment_id=row.id)
        # The queues order by DASH level and escalate a DA incident without one: every
        # station's queue redraws this incident's rows.
        route_incident(uow, incident, now)
        assessor = uow.safeguarding.staff_names([actor.staff_id]).get(actor.staff_id, "")
        saved = DashSaved(assessment=_record(row, assessor), referrals=tuple(referrals))
        uow.commit()
        return saved
