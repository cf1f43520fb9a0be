"""Queries behind the person record: everything held about one person, in one place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from controlroom.data.cold_models import (
    IncidentPerson,
    MarkerType,
    Person,
    PersonAddress,
    PersonAlias,
    PersonMerge,
    WarningMarker,
)
from controlroom.data.models import Incident, IncidentType, Location, Staff
from controlroom.data.search import START_LETTERS, name_start


def _ids(person_id: int | Iterable[int]) -> list[int]:
    """One person id, or several: a survivor's record reads the records merged into it."""
    return [person_id] if isinstance(person_id, int) else list(person_id)


# --- merges ----------------------------------------------------------------------------


class PersonRecordRepository:
    """What a person record shows and what merging needs, on one unit of work's session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def person(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def aliases(self, person_id: int | Iterable[int]) -> Sequence[PersonAlias]:
        return self.session.scalars(
            select(PersonAlias)
            .where(PersonAlias.person_id.in_(_ids(person_id)))
            .order_by(PersonAlias.id)
        ).all()

    def markers(self, person_id: int | Iterable[int]):
        """Every marker ever set (current and expired), with its words and who set it."""
        setter = aliased(Staff)
        return self.session.execute(
            select(WarningMarker, MarkerType.label, MarkerType.severity, setter.display_name)
            .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
            .outerjoin(setter, setter.id == WarningMarker.set_by_id)
            .where(WarningMarker.person_id.in_(_ids(person_id)))
            .order_by(MarkerType.severity, WarningMarker.valid_from.desc())
        ).all()

    def addresses(self, person_id: int | Iterable[int]):
        return self.session.execute(
            select(PersonAddress, Location)
            .join(Location, Location.id == PersonAddress.location_id)
            .where(PersonAddress.person_id.in_(_ids(person_id)))
            .order_by(PersonAddress.valid_to.is_not(None), PersonAddress.valid_from.desc())
        ).all()

    def incidents(self, person_id: int | Iterable[int], limit: int):
        return self.session.execute(
            select(Incident, IncidentType.label, IncidentPerson.role)
            .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
            .join(IncidentType, IncidentType.code == Incident.opening_type_code)
            .where(IncidentPerson.person_id.in_(_ids(person_id)))
            .order_by(Incident.opened_at.desc(), Incident.id.desc())
            .limit(limit)
        ).all()

    def incident_count(self, person_id: int | Iterable[int]) -> int:
        return (
            self.session.scalar(
                select(func.count(func.distinct(IncidentPerson.incident_id))).where(
                    IncidentPerson.person_id.in_(_ids(person_id))
                )
            )
            or 0
        )

    def possible_duplicates(self, subject: Person, limit: int = 10) -> Sequence[Person]:
        """Other records with the same surname and forename start, and a compatible date of
        birth (equal, day and month swapped, or unknown on either side).

        Found through the (surname start, forename start, date of birth) index of migration
        0011, whose expressions `name_start` writes, then the whole surname compared: with
        lower(surname) alone no index serves it, and on a million people SQLite walked them
        all by id to find ten (about 200 ms every time a record opened)."""
        same_name = (
            (name_start(Person.surname) == subject.surname[:START_LETTERS].lower())
            & (name_start(Person.forename) == subject.forename[:START_LETTERS].lower())
            & (func.lower(Person.surname) == subject.surname.lower())
        )
        # Records already merged away are not offered again (their survivor may be).
        query = select(Person).where(
            Person.id != subject.id, same_name, Person.merged_into_id.is_(None)
        )
        born = subject.date_of_birth
        if born is not None:
            dates = [born]
            if born.day <= 12 and born.day != born.month:
                dates.append(born.replace(day=born.month, month=born.day))
            query = query.where(
                or_(Person.date_of_birth.is_(None), Person.date_of_birth.in_(dates))
            )
        # Sorted here, not by the database: with ORDER BY id and a LIMIT, SQLite prefers to
        # walk every person by id. The name and date of birth leave a handful (a few dozen
        # namesakes at most when the date is unknown).
        return sorted(self.session.scalars(query).all(), key=lambda person: person.id)[:limit]

    def merged_into(self, person_id: int) -> Sequence[Person]:
        """The records merged (and not unmerged) into this one, oldest merge first."""
        return self.session.scalars(
            select(Person).where(Person.merged_into_id == person_id).order_by(Person.id)
        ).all()

    def live_merge(self, merged_id: int) -> PersonMerge | None:
        """The merge that holds this record now (not undone), if any."""
        return self.session.scalars(
            select(PersonMerge)
            .where(PersonMerge.merged_id == merged_id, PersonMerge.undone_at.is_(None))
            .order_by(PersonMerge.id.desc())
            .limit(1)
        ).first()

    def live_merges_into(self, survivor_id: int):
        """(merge, merged person, merged by) for each live merge into `survivor_id`, newest
        first."""
        merger = aliased(Staff)
        return self.session.execute(
            select(PersonMerge, Person, merger.display_name)
            .join(Person, Person.id == PersonMerge.merged_id)
            .outerjoin(merger, merger.id == PersonMerge.merged_by_id)
            .where(PersonMerge.survivor_id == survivor_id, PersonMerge.undone_at.is_(None))
            .order_by(PersonMerge.id.desc())
        ).all()

    def merge_detail(self, merge_id: int):
        """(merge, survivor, merged person, merged by, undone by) or None."""
        survivor, merged = aliased(Person), aliased(Person)
        merger, undoer = aliased(Staff), aliased(Staff)
        return self.session.execute(
            select(PersonMerge, survivor, merged, merger.display_name, undoer.display_name)
            .join(survivor, survivor.id == PersonMerge.survivor_id)
            .join(merged, merged.id == PersonMerge.merged_id)
            .outerjoin(merger, merger.id == PersonMerge.merged_by_id)
            .outerjoin(undoer, undoer.id == PersonMerge.undone_by_id)
            .where(PersonMerge.id == merge_id)
        ).first()

    def survivors(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """The records these ids were merged into, by id (merges are one level deep)."""
        ids = list(set(person_ids))
        if not ids:
            return {}
        return {p.id: p for p in self.session.scalars(select(Person).where(Person.id.in_(ids)))}

    def merge_ids(self, person_id: int) -> Sequence[int]:
        """Every merge (live or undone) the record took part in, either side, newest first."""
        return self.session.scalars(
            select(PersonMerge.id)
            .where(or_(PersonMerge.survivor_id == person_id, PersonMerge.merged_id == person_id))
            .order_by(PersonMerge.id.desc())
        ).all()

    def lock_persons(self, person_ids: Iterable[int]) -> dict[int, Person]:
        """The persons, row-locked until the transaction ends (PostgreSQL; SQLite's writes
        are serialised by BEGIN IMMEDIATE), in id order so two merges cannot deadlock: two
        supervisors merging A into B and B into A at once cannot make a cycle."""
        ids = sorted(set(person_ids))
        return {
            p.id: p
            for p in self.session.scalars(
                select(Person).where(Person.id.in_(ids)).order_by(Person.id).with_for_update()
            )
        }

    def lock_merge(self, merge_id: int) -> PersonMerge | None:
        return self.session.scalars(
            select(PersonMerge).where(PersonMerge.id == merge_id).with_for_update()
        ).first()
