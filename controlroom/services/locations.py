"""Locations for call handling: matching what the operator types to known places, and
everything the form must show about a place without being asked (its incident history,
its hazards, and the warning markers of the people who live there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from controlroom.domain.identity import Actor
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.domain.postcode import find_postcode, outward_code
from controlroom.services import access, audit
from controlroom.services.incidents import (
    IncidentSummary,
    _summary,
    _with_note,
    anonymity,
    withheld_text,
)
from controlroom.services.markers import MarkerInfo, current_markers

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

HISTORY_PERIOD = timedelta(days=365)
RECENT_SHOWN = 5


@dataclass(frozen=True, slots=True)
class LocationMatch:
    id: int
    address: str
    street: str | None
    town: str | None
    postcode: str | None
    latitude: float | None
    longitude: float | None

    @property
    def label(self) -> str:
        """One line for a suggestion list: "12 Mill Lane, Leeds LS6 2AB"."""
        place = " ".join(p for p in (self.town, self.postcode) if p)
        return ", ".join(p for p in (self.address, place) if p)


@dataclass(frozen=True, slots=True)
class PersonAtLocation:
    person_id: int
    name: str
    date_of_birth: date | None
    markers: tuple[MarkerInfo, ...]


@dataclass(frozen=True, slots=True)
class LocationContext:
    location: LocationMatch
    hazards: tuple[str, ...]
    incidents_12m: int  # opened here in the 365 days up to now
    recent: tuple[IncidentSummary, ...]  # the last five of those, newest first
    people: tuple[PersonAtLocation, ...]  # residents; those with markers first


class LocationNotFound(LookupError):
    pass


def _match(location) -> LocationMatch:
    return LocationMatch(
        id=location.id,
        address=location.address,
        street=location.street,
        town=location.town,
        postcode=location.postcode,
        latitude=location.latitude,
        longitude=location.longitude,
    )


def _postcode_prefix(words: list[str]) -> tuple[str | None, list[str], bool]:
    """A postcode (or the start of one) among the typed words, as a prefix of the
    normal form; the words that are left; and whether the postcode is complete.

    "LS6" -> "LS6 " (the whole district, not LS60); "LS6 2" -> "LS6 2"; "ls62ab" ->
    "LS6 2AB". The outward code must be complete, so a house number never reads as one.
    """
    text = " ".join(words)
    full = find_postcode(text)
    if full is not None:
        outward, inward = full.split(" ")
        rest = [w for w in words if w.upper() not in {outward, inward, outward + inward}]
        return full, rest, True
    for index, word in enumerate(words):
        district = outward_code(word)
        if district is None:
            continue
        prefix = district + " "
        rest = words[:index] + words[index + 1 :]
        following = words[index + 1] if index + 1 < len(words) else ""
        # The inward code being typed: a digit and up to one letter so far.
        if following and following[0].isdigit() and len(following) <= 2 and following.isalnum():
            prefix += following.upper()
            rest = words[:index] + words[index + 2 :]
        return prefix, rest, False
    return None, words, False


def match_locations(uow: UnitOfWork, text: str, limit: int = 8) -> list[LocationMatch]:
    """Known locations for what has been typed so far (called on each keystroke).

    - A postcode, or an outward code with perhaps the start of the inward one ("LS6",
      "LS6 2"): the locations in it, narrowed by any other words when that leaves some.
    - Otherwise a street: the words without digits are the start of the street's name
      ("mill la"), words with digits start a word of the address ("12", "3a"); trailing
      words that are not part of the street name ("mill lane leeds") must appear in the
      town or address.

    Every search starts from an index (postcode or street key), so it stays fast however
    many locations the force has. Addresses are not person records: no audit.
    """
    words = [w.strip(",.;") for w in (text or "").split()]
    words = [w for w in words if w]
    if not words:
        return []
    prefix, rest, complete = _postcode_prefix(words)
    with uow:
        if prefix is not None:
            found = uow.locations.by_postcode_prefix(prefix, rest, limit)
            if not found and rest:
                found = uow.locations.by_postcode_prefix(prefix, [], limit)
            if found or complete:
                return [_match(location) for location in found]
            # An outward code with nothing in it ("Flat A1"): read the words as a street.
        numbers = [w for w in words if any(c.isdigit() for c in w)]
        names = [w for w in words if not any(c.isdigit() for c in w)]
        found = []
        # The longest run of leading names that starts a street; the rest narrow it.
        for end in range(len(names), 0, -1):
            found = uow.locations.by_street(" ".join(names[:end]), numbers, names[end:], limit)
            if found:
                break
        return [_match(location) for location in found]


def location_context(
    uow: UnitOfWork, actor: Actor, location_id: int, now: datetime
) -> LocationContext:
    """What the form shows as soon as a location is set. Showing residents' markers is a
    consultation of their records: the audit event lists whose."""
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    now = now.astimezone(UTC)
    today = local_day(now)
    with uow:
        access.require(
            uow,
            actor,
            Action.LOCATION_VIEW,
            "location",
            location_id,
            audit_action="location.context",
        )
        location = uow.locations.get(location_id)
        if location is None:
            raise LocationNotFound(f"no location with id {location_id}")
        hazards = tuple(
            f"{h.hazard} — {h.note}" if h.note else h.hazard
            for h in uow.locations.hazards(location.id)
        )
        count = uow.incidents.count_at_location(location.id, now - HISTORY_PERIOD, now)
        recent = tuple(
            _summary(i, label)
            for i, label in uow.incidents.at_location(
                location.id, now - HISTORY_PERIOD, now, RECENT_SHOWN
            )
        )
        residents = uow.locations.residents(location.id, today)
        markers = current_markers(uow, (p.id for p in residents), today)
        # A resident who is a sexual-offence complainant is named only to need-to-know.
        anon = anonymity(uow, actor, residents)
        hidden = set(anon.names) if anon.withholds else set()
        people = [
            PersonAtLocation(
                person_id=p.id,
                name=f"{p.forename} {p.surname}".strip(),
                date_of_birth=p.date_of_birth,
                markers=markers[p.id],
            )
            if p.id not in hidden
            else PersonAtLocation(
                person_id=p.id, name=withheld_text(), date_of_birth=None, markers=markers[p.id]
            )
            for p in residents
        ]
        # Those with markers first, the most severe first; the rest keep name order.
        people.sort(key=lambda p: min((m.severity for m in p.markers), default=99))
        shown = [p.person_id for p in people if p.markers]
        audit.record(
            uow,
            actor,
            "location.context",
            "location",
            location.id,
            detail=_with_note(
                "markers shown for persons: " + (",".join(map(str, shown)) or "none"), anon.note()
            ),
        )
        uow.commit()
        return LocationContext(
            location=_match(location),
            hazards=hazards,
            incidents_12m=count,
            recent=recent,
            people=tuple(people),
        )
