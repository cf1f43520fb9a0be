"""Repositories: the queries the services need, one class per aggregate.

They hand ORM objects to the service layer, which copies what it returns into frozen
dataclasses before the unit of work closes. No repository commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from controlroom.data.models import (
    AuditEvent,
    DatabaseInfo,
    Incident,
    IncidentType,
    IntelligenceReport,
    MarkerType,
    Person,
    Staff,
)


class DatabaseInfoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self) -> DatabaseInfo | None:
        return self.session.get(DatabaseInfo, 1)

    def add(self, info: DatabaseInfo) -> None:
        self.session.add(info)


class StaffRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, staff_id: int) -> Staff | None:
        return self.session.get(Staff, staff_id)

    def by_username(self, username: str) -> Staff | None:
        return self.session.scalars(select(Staff).where(Staff.username == username)).one_or_none()

    def add(self, staff: Staff) -> None:
        self.session.add(staff)

    def list(self) -> Sequence[Staff]:
        return self.session.scalars(select(Staff).order_by(Staff.username)).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Staff)) or 0


class ReferenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def incident_types(self) -> Sequence[IncidentType]:
        return self.session.scalars(select(IncidentType).order_by(IncidentType.code)).all()

    def marker_types(self) -> Sequence[MarkerType]:
        return self.session.scalars(select(MarkerType).order_by(MarkerType.severity)).all()


class IncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count_by(self, column_name: str, statuses: Sequence[str]) -> dict[str, int]:
        """Open incidents counted by `grade` or `status`."""
        column = {"grade": Incident.grade, "status": Incident.status}[column_name]
        rows = self.session.execute(
            select(column, func.count())
            .where(Incident.status.in_(list(statuses)))
            .group_by(column)
        ).all()
        return {str(key): int(count) for key, count in rows}

    def count_open_by_heading(self, statuses: Sequence[str]) -> dict[str, int]:
        rows = self.session.execute(
            select(IncidentType.heading, func.count())
            .join(Incident, Incident.opening_type_code == IncidentType.code)
            .where(Incident.status.in_(list(statuses)))
            .group_by(IncidentType.heading)
        ).all()
        return {str(key): int(count) for key, count in rows}

    def oldest_open_at(self, statuses: Sequence[str]):
        return self.session.scalar(
            select(func.min(Incident.opened_at)).where(Incident.status.in_(list(statuses)))
        )

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Incident)) or 0


class PersonRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Person)) or 0


class IntelligenceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(IntelligenceReport)) or 0


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: AuditEvent) -> None:
        self.session.add(event)

    def for_object(self, object_type: str, object_id: str) -> Sequence[AuditEvent]:
        return self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        ).all()

    def latest(self, limit: int = 50) -> Sequence[AuditEvent]:
        return self.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        ).all()

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
