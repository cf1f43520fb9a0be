"""Queries behind the person record: everything held about one person, in one place."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from controlroom.data.models import (
    Incident,
    IncidentPerson,
    IncidentType,
    Location,
    MarkerType,
    Person,
    PersonAddress,
    PersonAlias,
    Staff,
    WarningMarker,
)


def person(session: Session, person_id: int) -> Person | None:
    return session.get(Person, person_id)


def aliases(session: Session, person_id: int) -> Sequence[PersonAlias]:
    return session.scalars(
        select(PersonAlias).where(PersonAlias.person_id == person_id).order_by(PersonAlias.id)
    ).all()


def markers(session: Session, person_id: int):
    """Every marker ever set (current and expired), with its words and who set it."""
    setter = aliased(Staff)
    return session.execute(
        select(WarningMarker, MarkerType.label, MarkerType.severity, setter.display_name)
        .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
        .outerjoin(setter, setter.id == WarningMarker.set_by_id)
        .where(WarningMarker.person_id == person_id)
        .order_by(MarkerType.severity, WarningMarker.valid_from.desc())
    ).all()


def addresses(session: Session, person_id: int):
    return session.execute(
        select(PersonAddress, Location)
        .join(Location, Location.id == PersonAddress.location_id)
        .where(PersonAddress.person_id == person_id)
        .order_by(PersonAddress.valid_to.is_not(None), PersonAddress.valid_from.desc())
    ).all()


def incidents(session: Session, person_id: int, limit: int):
    return session.execute(
        select(Incident, IncidentType.label, IncidentPerson.role)
        .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
        .join(IncidentType, IncidentType.code == Incident.opening_type_code)
        .where(IncidentPerson.person_id == person_id)
        .order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()


def incident_count(session: Session, person_id: int) -> int:
    return session.scalar(
        select(func.count(func.distinct(IncidentPerson.incident_id)))
        .where(IncidentPerson.person_id == person_id)
    ) or 0


def possible_duplicates(session: Session, subject: Person, limit: int = 10) -> Sequence[Person]:
    """Other records with the same surname and forename start, and a compatible date of
    birth (equal, day and month swapped, or unknown on either side)."""
    same_name = (
        (func.lower(Person.surname) == subject.surname.lower())
        & (func.lower(func.substr(Person.forename, 1, 3)) == subject.forename[:3].lower())
    )
    query = select(Person).where(Person.id != subject.id, same_name)
    born = subject.date_of_birth
    if born is not None:
        dates = [born]
        if born.day <= 12 and born.day != born.month:
            dates.append(born.replace(day=born.month, month=born.day))
        query = query.where(or_(Person.date_of_birth.is_(None), Person.date_of_birth.in_(dates)))
    return session.scalars(query.order_by(Person.id).limit(limit)).all()
