"""Queries over DASH assessments, referrals and safeguarding overrides for views that show
many incidents at once (the queue and the command view).

Plain functions of a session (`uow.session`), returning plain values or frozen rows; they
write no audit event (the calling service audits what it shows) and never commit.
SQLAlchemy expressions only.

A *domestic-abuse (DA) incident* is one flagged domestic, or opened under a domestic
incident type; it is *open* until its status is closed. The DASH *in force* on an
incident is its newest assessment (highest id), whose `level` already includes any
raise by professional judgement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from controlroom.data.cold_models import (
    DashAssessment,
    IncidentPerson,
    Referral,
    SafeguardingOverride,
)
from controlroom.data.models import Incident, IncidentType, Staff, UtcDateTime
from controlroom.domain.incidents import OPEN_STATUSES
from controlroom.domain.safeguarding import RULE_TITLES


def domestic_condition():
    """The WHERE clause of a DA incident (needs `Incident` joined to its opening type,
    or uses a correlated test on the type)."""
    return or_(
        Incident.domestic.is_(True),
        exists().where(
            IncidentType.code == Incident.opening_type_code, IncidentType.domestic.is_(True)
        ),
    )


def _open_da_without_dash():
    """The WHERE clauses of an open DA incident with no DASH.

    Open is spelled as the open statuses (`status IN (...)`), not `status != 'closed'`:
    the same rows (the column's check constraint allows only those and 'closed'), but an
    IN list is a few ranges of an index, where `!=` made both backends walk every
    incident ever recorded (on SQLite by the opened_at index, with the two subqueries
    run for each of 500,000 rows: 320 ms on the large seed). The domestic types are a
    list read once (a non-correlated IN) rather than a lookup per row, and
    ix_incident_open_domestic (migration 0012) holds every column asked about, so the
    open incidents are read from the index alone.
    """
    return (
        Incident.status.in_([status.value for status in OPEN_STATUSES]),
        or_(
            Incident.domestic.is_(True),
            Incident.opening_type_code.in_(
                select(IncidentType.code).where(IncidentType.domestic.is_(True))
            ),
        ),
        ~exists().where(DashAssessment.incident_id == Incident.id),
    )


def latest_dash_ids():
    """A subquery: the id of the DASH in force, per incident."""
    return (
        select(DashAssessment.incident_id, func.max(DashAssessment.id).label("dash_id"))
        .group_by(DashAssessment.incident_id)
        .subquery()
    )


@dataclass(frozen=True, slots=True)
class OverrideRow:
    """One supervisor override as the command view lists it."""

    incident_id: int
    incident_reference: str
    rule: str  # the rules overridden, in words ("Registered sex offender linked")
    rules: tuple[str, ...]  # their codes ("rso_linked", ...)
    action: str  # 'grade_no_deployment' or 'close'
    supervisor: str  # display name
    overridden_at: datetime
    reason: str


def rule_words(codes: Iterable[str]) -> str:
    return "; ".join(RULE_TITLES.get(code, code) for code in codes)


# --- for the DASH, referral and safeguarding services ------------------------------------


VICTIM_OR_PERPETRATOR = ("victim", "suspect")


class SafeguardingRepository:
    """Safeguarding's reads and writes (DASH, referrals, overrides), on one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest_dash_levels(self, incident_ids: Iterable[int]) -> dict[int, str]:
        """The DASH level in force ('standard', 'medium', 'high') for each of `incident_ids`
        that has a DASH; incidents with none are absent from the result."""
        ids = list(dict.fromkeys(incident_ids))
        if not ids:
            return {}
        found: dict[int, str] = {}
        # Chunked so a queue of thousands stays within every backend's parameter limit.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            newest = (
                select(DashAssessment.incident_id, func.max(DashAssessment.id).label("dash_id"))
                .where(DashAssessment.incident_id.in_(chunk))
                .group_by(DashAssessment.incident_id)
                .subquery()
            )
            rows = self.session.execute(
                select(DashAssessment.incident_id, DashAssessment.level).join(
                    newest, DashAssessment.id == newest.c.dash_id
                )
            )
            found.update({incident_id: level for incident_id, level in rows})
        return found

    def da_incidents_without_dash(self) -> list[tuple[int, datetime]]:
        """Open DA incidents with no DASH at all: (incident id, opened_at), oldest first."""
        rows = self.session.execute(
            select(Incident.id, Incident.opened_at)
            .where(*_open_da_without_dash())
            .order_by(Incident.opened_at, Incident.id)
        )
        return [(incident_id, opened_at) for incident_id, opened_at in rows]

    def da_without_dash_summary(self) -> tuple[int, datetime | None]:
        """How many open DA incidents have no DASH at all, and when the oldest of them was
        opened (None when there are none): `da_incidents_without_dash`'s length and first
        row, counted in the database (the command view shows no more than that)."""
        count, oldest = self.session.execute(
            select(func.count(), func.min(Incident.opened_at)).where(*_open_da_without_dash())
        ).one()
        return count or 0, oldest

    def referral_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """How many referrals were created, sent and acknowledged in [start, end) (aware UTC):
        {"created": n, "sent": n, "acknowledged": n}. A referral created on Monday and sent
        on Tuesday counts as created in a window holding Monday and as sent in one holding
        Tuesday."""
        return self.referral_counts_in([(start, end)])[0]

    def referral_counts_in(
        self, windows: Sequence[tuple[datetime, datetime]]
    ) -> list[dict[str, int]]:
        """`referral_counts` for each of `windows`, in one statement (the command view
        asks for five weeks: fifteen counts were fifteen statements)."""
        if not windows:
            return []
        columns = []
        for start, end in windows:
            for column in (Referral.created_at, Referral.sent_at, Referral.acknowledged_at):
                inside = and_(
                    column.is_not(None),
                    column >= literal(start, UtcDateTime()),
                    column < literal(end, UtcDateTime()),
                )
                columns.append(func.coalesce(func.sum(case((inside, 1), else_=0)), 0))
        row = self.session.execute(select(*columns).select_from(Referral)).one()
        return [
            {
                name: int(row[3 * k + i])
                for i, name in enumerate(("created", "sent", "acknowledged"))
            }
            for k in range(len(windows))
        ]

    def overrides_between(self, start: datetime, end: datetime) -> list[OverrideRow]:
        """Overrides made in [start, end) (aware UTC), newest first."""
        rows = self.session.execute(
            select(SafeguardingOverride, Incident.reference, Staff.display_name)
            .join(Incident, Incident.id == SafeguardingOverride.incident_id)
            .join(Staff, Staff.id == SafeguardingOverride.supervisor_id)
            .where(
                SafeguardingOverride.overridden_at >= start,
                SafeguardingOverride.overridden_at < end,
            )
            .order_by(SafeguardingOverride.overridden_at.desc(), SafeguardingOverride.id.desc())
        )
        found = []
        for override, reference, supervisor in rows:
            codes = tuple(code for code in override.rules.split(",") if code)
            found.append(
                OverrideRow(
                    incident_id=override.incident_id,
                    incident_reference=reference,
                    rule=rule_words(codes),
                    rules=codes,
                    action=override.action,
                    supervisor=supervisor,
                    overridden_at=override.overridden_at,
                    reason=override.reason,
                )
            )
        return found

    def dash_history(self, incident_id: int) -> list[tuple[DashAssessment, str]]:
        """An incident's assessments with the assessor's display name, newest first."""
        rows = self.session.execute(
            select(DashAssessment, Staff.display_name)
            .join(Staff, Staff.id == DashAssessment.assessed_by_id)
            .where(DashAssessment.incident_id == incident_id)
            .order_by(DashAssessment.id.desc())
        )
        return [(assessment, name) for assessment, name in rows]

    def current_dash(self, incident_id: int) -> DashAssessment | None:
        return self.session.scalars(
            select(DashAssessment)
            .where(DashAssessment.incident_id == incident_id)
            .order_by(DashAssessment.id.desc())
            .limit(1)
        ).first()

    def referrals_of(self, incident_id: int) -> list[Referral]:
        return list(
            self.session.scalars(
                select(Referral).where(Referral.incident_id == incident_id).order_by(Referral.id)
            )
        )

    def referral_for_update(self, referral_id: int) -> Referral | None:
        return self.session.scalars(
            select(Referral).where(Referral.id == referral_id).with_for_update()
        ).first()

    def staff_names(self, staff_ids: Iterable[int | None]) -> dict[int, str]:
        ids = {staff_id for staff_id in staff_ids if staff_id is not None}
        if not ids:
            return {}
        rows = self.session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(ids)))
        return {staff_id: name for staff_id, name in rows}

    def victims_and_perpetrators(self, incident_id: int) -> list[int]:
        """The people linked to the incident as victim or suspect (the perpetrator)."""
        return list(
            self.session.scalars(
                select(IncidentPerson.person_id)
                .distinct()
                .where(
                    IncidentPerson.incident_id == incident_id,
                    IncidentPerson.role.in_(VICTIM_OR_PERPETRATOR),
                )
                .order_by(IncidentPerson.person_id)
            )
        )

    def da_incident_counts(
        self, person_ids: Iterable[int], since: datetime, until: datetime
    ) -> dict[int, int]:
        """Per person, how many DA incidents opened in [since, until] they were victim or
        suspect in (every person asked for has an entry)."""
        ids = list(dict.fromkeys(person_ids))
        counts = {person_id: 0 for person_id in ids}
        if not ids:
            return counts
        rows = self.session.execute(
            select(IncidentPerson.person_id, func.count(func.distinct(Incident.id)))
            .join(Incident, Incident.id == IncidentPerson.incident_id)
            .where(
                IncidentPerson.person_id.in_(ids),
                IncidentPerson.role.in_(VICTIM_OR_PERPETRATOR),
                Incident.opened_at >= since,
                Incident.opened_at <= until,
                domestic_condition(),
            )
            .group_by(IncidentPerson.person_id)
        )
        counts.update({person_id: count for person_id, count in rows})
        return counts

    def last_marac_for(
        self, person_ids: Iterable[int], other_than_incident: int
    ) -> datetime | None:
        """When the newest MARAC referral was made for another incident in which any of
        these people was victim or suspect (None if never)."""
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return None
        return self.session.scalar(
            select(func.max(Referral.created_at))
            .join(IncidentPerson, IncidentPerson.incident_id == Referral.incident_id)
            .where(
                Referral.kind == "marac",
                Referral.incident_id != other_than_incident,
                IncidentPerson.person_id.in_(ids),
                IncidentPerson.role.in_(VICTIM_OR_PERPETRATOR),
            )
        )

    def is_domestic(self, incident: Incident) -> bool:
        if incident.domestic:
            return True
        return bool(
            self.session.scalar(
                select(IncidentType.domestic).where(IncidentType.code == incident.opening_type_code)
            )
        )

    def overrides_of(self, incident_id: int) -> list[tuple[SafeguardingOverride, str]]:
        rows = self.session.execute(
            select(SafeguardingOverride, Staff.display_name)
            .join(Staff, Staff.id == SafeguardingOverride.supervisor_id)
            .where(SafeguardingOverride.incident_id == incident_id)
            .order_by(SafeguardingOverride.id)
        )
        return [(override, name) for override, name in rows]
