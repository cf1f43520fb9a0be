"""Persons for call handling: finding the people a call is about, creating a new one
(after a possible-duplicate check), and their warning markers.

`find_persons` keeps the entry form's signature and delegates to person search
(`controlroom.services.person_search`: spelling variants, phonetic keys, aliases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from controlroom.data.cold_models import Person
from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action, Decision
from controlroom.domain.phonetics import parse_person_query
from controlroom.services import access, audit, fields
from controlroom.services.audit import Outcome
from controlroom.services.fields import FieldError
from controlroom.services.markers import MarkerInfo, current_markers

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

NAME_LIMIT = 80
GENDER_LIMIT = 16
QUERY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PersonSummary:
    id: int
    forename: str
    surname: str
    date_of_birth: date | None
    address: str | None  # the current address, one line
    markers: tuple[MarkerInfo, ...]

    @property
    def name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


class PersonInputError(FieldError):
    """Input the service cannot use; `.field` names the form field, `.message` says why."""


class PersonNotFound(LookupError):
    pass


class PossibleDuplicate(Exception):
    """The person may already be on record; nothing was created.

    `.candidates` are the people it may be. Create anyway with `confirmed_new=True`.
    """

    def __init__(self, candidates: list[PersonSummary]) -> None:
        super().__init__(f"{len(candidates)} person(s) on record may be the same person")
        self.candidates = candidates


def _summaries(uow: UnitOfWork, people, today: date) -> list[PersonSummary]:
    ids = [p.id for p in people]
    markers = current_markers(uow, ids, today)
    homes = uow.persons.current_homes(ids, today)
    result = []
    for person in people:
        home = homes.get(person.id)
        address = None
        if home is not None:
            address = ", ".join(part for part in (home.address, home.town, home.postcode) if part)
        result.append(
            PersonSummary(
                id=person.id,
                forename=person.forename,
                surname=person.surname,
                date_of_birth=person.date_of_birth,
                address=address,
                markers=markers[person.id],
            )
        )
    return result


def find_persons(
    uow: UnitOfWork, actor: Actor, query: str, limit: int = 10, *, today: date
) -> list[PersonSummary]:
    """People by name, date of birth and address, however the name was spelled: "smith",
    "smith john", "muhammad smyth 02/03/1984", "jo sm" (see
    `controlroom.services.person_search`, which this delegates to). A query that cannot
    run says why; the search is audited with what was asked and whom it showed."""
    text = fields.text(query, "query", "search", limit=QUERY_LIMIT, error=PersonInputError)
    parsed = parse_person_query(text, today=today)
    if parsed.invalid_dates:
        raise PersonInputError("query", f"{parsed.invalid_dates[0]} is not a real date")
    if parsed.empty:
        raise PersonInputError("query", "type a surname, a name, or a date of birth")
    # The search and its matching (rapidfuzz, jellyfish: about 3.5 MiB) load with the
    # first search, not with every screen that names a person (intelligence, F4).
    from controlroom.services.person_search import search_persons

    hits = search_persons(uow, actor, text, today=today, limit=limit)
    return [
        PersonSummary(
            id=hit.person_id,
            forename=hit.forename,
            surname=hit.surname,
            date_of_birth=hit.date_of_birth,
            address=hit.address,
            markers=hit.markers,
        )
        for hit in hits
    ]


def _swapped(value: date) -> date | None:
    try:
        swapped = date(value.year, value.day, value.month)
    except ValueError:
        return None
    return swapped if swapped != value else None


def _same_forename(a: str, b: str) -> bool:
    a, b = a.casefold(), b.casefold()
    # "Jon" / "Jonathan", "Kath" / "Katherine": the first three letters as well.
    return a == b or (len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3])


def _likely_duplicates(uow: UnitOfWork, forename: str, surname: str, dob: date | None) -> list:
    matches = []
    for person in uow.persons.by_surname(surname):
        if not _same_forename(person.forename, forename):
            continue
        if dob is None or person.date_of_birth is None:
            matches.append(person)  # the name alone: nothing to tell them apart by
        elif person.date_of_birth in (dob, _swapped(dob)):
            matches.append(person)  # the same date, or day and month typed the other way
    return matches


def create_person(
    uow: UnitOfWork,
    actor: Actor,
    *,
    forename: str,
    surname: str,
    date_of_birth: date | None,
    gender: str | None,
    today: date,
    confirmed_new: bool = False,
) -> PersonSummary:
    """Add a person. Unless `confirmed_new`, a likely duplicate raises PossibleDuplicate
    (and the candidates shown are audited) instead."""
    forename = fields.text(
        forename, "forename", "forename", limit=NAME_LIMIT, required=True, error=PersonInputError
    )
    surname = fields.text(
        surname, "surname", "surname", limit=NAME_LIMIT, required=True, error=PersonInputError
    )
    dob = fields.date_of_birth(date_of_birth, today, error=PersonInputError)
    gender_text = fields.optional_text(
        gender, "gender", "gender", limit=GENDER_LIMIT, error=PersonInputError
    )
    with uow:
        access.require(uow, actor, Action.PERSON_CREATE, "person")
        if not confirmed_new:
            candidates = _likely_duplicates(uow, forename, surname, dob)
            if candidates:
                shown = _summaries(uow, candidates, today)
                audit.record(
                    uow,
                    actor,
                    "person.create",
                    "person",
                    shown[0].id,
                    outcome=Outcome.REFUSED,
                    detail="possible duplicates shown: " + ",".join(str(p.id) for p in shown),
                )
                uow.commit()
                raise PossibleDuplicate(shown)
        person = Person(
            forename=forename,
            surname=surname,
            date_of_birth=dob,
            gender=gender_text,
            created_by_id=actor.staff_id,
        )
        uow.persons.add(person)
        uow.flush()
        audit.record(
            uow,
            actor,
            "person.create",
            "person",
            person.id,
            detail="confirmed new after duplicate check" if confirmed_new else None,
        )
        summary = _summaries(uow, [person], today)[0]
        uow.commit()
        return summary


def person_markers(uow: UnitOfWork, actor: Actor, person_id: int, *, today: date) -> PersonSummary:
    """One person with their current markers and address (audited as a view)."""
    with uow:
        access.require(uow, actor, Action.PERSON_VIEW, "person", person_id)
        person = uow.persons.get(person_id)
        if person is None:
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
        marking = access.person_marking(uow, [person.id], restricted=bool(person.restricted))
        if (
            access.require(uow, actor, Action.PERSON_VIEW, "person", person.id, marking=marking)
            is Decision.JUSTIFY
        ):
            # No justification can be given here: the record opens from person search.
            access.refuse(
                uow,
                actor,
                Action.PERSON_VIEW,
                "person",
                person.id,
                marking=marking,
                detail=f"{marking.value}: justification required",
                message="this record is restricted: open it from person search (F3) "
                "and write why you need it",
            )
        summary = _summaries(uow, [person], today)[0]
        audit.record(uow, actor, "person.view", "person", person.id)
        uow.commit()
        return summary
