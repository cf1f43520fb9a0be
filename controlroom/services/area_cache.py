"""The station's own copy of what entry needs about places, for when the database does
not answer (issue 13, item 2): the gazetteer of the station's area and the warnings
last seen here.

- **The gazetteer** (`<data dir>/offline/<user>.area.json`): the known places of the
  station's area — the postcode districts where incidents opened by the staff of the
  operator's station (or by the operator, without a station) happened in the last year
  — at most `GAZETTEER_CAP` places, each with its hazards. Written at each good
  sign-in. Addresses are not person records.
- **The warnings last seen** (`<data dir>/offline/<user>.seen.json`): what the form
  showed about a place (its hazards, history and the people there with their markers)
  the last time this operator picked it while the database answered — a read audited
  then — at most `SEEN_CAP` places, the most recent.

Both are 0600 in the 0700 offline directory, written whole or not at all. Offline, the
entry form offers the gazetteer's addresses, saying they come from the cache and how
old it is, and shows a picked place's warnings as they were last seen, saying when.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controlroom.data.offline_journal import (
    journal_path,
    read_cache,
    write_cache,
    write_cache_listing,
)
from controlroom.domain.identity import Actor

# What the form reads back from the cache is shaped as the location services shape it;
# those (and the incident services under them) load when the form first asks, not with
# the gazetteer written at every sign-in (issue 15: 1.4 MiB of every operator's memory).
if TYPE_CHECKING:
    from controlroom.services.locations import LocationContext, LocationMatch
    from controlroom.services.unit_of_work import UnitOfWorkFactory

# The station's area: incidents of the last year; at most this many places (about 2 MB).
AREA_PERIOD = timedelta(days=365)
GAZETTEER_CAP = 10_000
DISTRICTS_CAP = 200  # postcodes read to find the area's districts: many more than there are
SEEN_CAP = 300
# Places (and their hazards) read and written at a time. Each chunk's rows are freed
# before the next, but the heap they grew stays with the process: 500 at a time cost
# every operator about 0.55 MiB of peak memory on the demo force's 3,000 places, 100 at
# a time about none, for some 40 ms more of the sign-in's background read (issue 15).
_HAZARD_CHUNK = 100


@dataclass(frozen=True, slots=True)
class CachedMatches:
    """Addresses from the gazetteer, and when it was read from the database."""

    matches: list[LocationMatch]
    as_of: datetime


@dataclass(frozen=True, slots=True)
class CachedContext:
    """A place's warnings from the cache: as last seen at `as_of` (`seen`), or — never
    picked here while the database answered — its hazards alone, as of the gazetteer."""

    context: LocationContext
    as_of: datetime
    seen: bool


def area_path(data_dir: Path, username: str) -> Path:
    journal_path(data_dir, username, "area")  # the same checks on the name
    return Path(data_dir) / "offline" / f"{username}.area.json"


def seen_path(data_dir: Path, username: str) -> Path:
    journal_path(data_dir, username, "seen")
    return Path(data_dir) / "offline" / f"{username}.seen.json"


def _districts(postcodes) -> list[str]:
    """The outward codes ("LS6") of `postcodes`, each once, in order."""
    found: dict[str, None] = {}
    for postcode in postcodes:
        outward = (postcode or "").split(" ")[0]
        if outward:
            found.setdefault(outward, None)
    return list(found)


def cache_area(
    uow_factory: UnitOfWorkFactory,
    data_dir: Path,
    username: str,
    staff_id: int,
    station: str | None,
    now: datetime,
    cap: int = GAZETTEER_CAP,
) -> int:
    """Read the station's area from the database and keep it on this station; returns
    how many places were kept. Not audited: addresses and hazards are not person
    records (as for `locations.match_locations`)."""
    from controlroom.data.models import street_key

    uow = uow_factory()
    with uow:
        # Up to 10,000 places and their hazards, read once per sign-in: on SQLite their
        # pages filled the pooled connection's cache, 2.3 MiB kept by every operator's
        # process for the rest of the session (issue 15). The connection is closed after.
        uow.close_connection_after()
        postcodes = uow.locations.station_postcodes(
            station, staff_id, now - AREA_PERIOD, DISTRICTS_CAP
        )
        districts = _districts(sorted(postcodes))
        ids: list[int] = []
        for district in districts:
            if len(ids) >= cap:
                break
            ids.extend(uow.locations.ids_by_postcode_prefix(f"{district} ", cap - len(ids)))

        kept = 0

        def places() -> Iterator[dict[str, Any]]:
            nonlocal kept
            # A chunk of places at a time, each with its hazards, written as it comes:
            # the whole area is never held at once (issue 15: 3,000 places held whole
            # raised the app's peak memory by 3 MiB at every sign-in).
            for start in range(0, len(ids), _HAZARD_CHUNK):
                chunk = ids[start : start + _HAZARD_CHUNK]
                rows = {row.id: row for row in uow.locations.places(chunk)}
                hazards: dict[int, list[str]] = {}
                for hazard in uow.locations.hazards_of(chunk):
                    words = f"{hazard.hazard} — {hazard.note}" if hazard.note else hazard.hazard
                    hazards.setdefault(hazard.location_id, []).append(words)
                for location_id in chunk:
                    row = rows.get(location_id)
                    if row is None:  # gone since its id was read
                        continue
                    kept += 1
                    yield {
                        "id": row.id,
                        "address": row.address,
                        "street": row.street,
                        "town": row.town,
                        "postcode": row.postcode,
                        "latitude": row.latitude,
                        "longitude": row.longitude,
                        "key": street_key(row.street or row.address) or "",
                        "hazards": hazards.get(location_id, []),
                    }

        write_cache_listing(
            area_path(data_dir, username),
            {
                "as_of": now.astimezone(UTC).isoformat(),
                "station": station,
                "districts": districts,
            },
            "places",
            places(),
        )
    return kept


# The gazetteer last read, by file and its modification: offline, every keystroke in
# the address field looks it up, and parsing 10,000 places each time would lag.
_READ: dict[Path, tuple[tuple[int, int, int], tuple[list[dict[str, Any]], datetime]]] = {}


def _area(data_dir: Path, username: str) -> tuple[list[dict[str, Any]], datetime] | None:
    path = area_path(data_dir, username)
    try:
        facts = path.stat()  # written by rename: a new file each time
        stamp = (facts.st_ino, facts.st_mtime_ns, facts.st_size)
    except OSError:
        return None
    known = _READ.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    content = read_cache(path)
    if content is None:
        return None
    try:
        area = list(content["places"]), datetime.fromisoformat(content["as_of"])
    except (KeyError, TypeError, ValueError):
        return None
    _READ.clear()  # one station, one operator: keep only the latest
    _READ[path] = (stamp, area)
    return area


def _location(place: dict[str, Any]) -> LocationMatch:
    from controlroom.services.locations import LocationMatch

    return LocationMatch(
        id=place["id"],
        address=place["address"],
        street=place.get("street"),
        town=place.get("town"),
        postcode=place.get("postcode"),
        latitude=place.get("latitude"),
        longitude=place.get("longitude"),
    )


def _holds(place: dict[str, Any], word: str) -> bool:
    word = word.lower()
    return any(word in (place.get(name) or "").lower() for name in ("address", "street", "town"))


def match_cached(data_dir: Path, username: str, text: str, limit: int = 8) -> CachedMatches | None:
    """The gazetteer's places for what has been typed, matched as the database would
    (`locations.match_locations`); None when this station has no gazetteer."""
    from controlroom.data.models import street_key
    from controlroom.services.locations import _postcode_prefix

    area = _area(data_dir, username)
    if area is None:
        return None
    places, as_of = area
    words = [w.strip(",.;") for w in (text or "").split()]
    words = [w for w in words if w]
    if not words:
        return CachedMatches([], as_of)
    prefix, rest, complete = _postcode_prefix(words)

    def first(found: list[dict[str, Any]], order: str) -> CachedMatches:
        found.sort(key=lambda p: (p.get(order) or "", p["address"], p["id"]))
        return CachedMatches([_location(p) for p in found[:limit]], as_of)

    if prefix is not None:
        inside = [p for p in places if (p.get("postcode") or "").startswith(prefix)]
        found = [p for p in inside if all(_holds(p, w) for w in rest)] or (inside if rest else [])
        if found or complete:
            return first(found, "postcode")
    numbers = [w.lower() for w in words if any(c.isdigit() for c in w)]
    names = [w for w in words if not any(c.isdigit() for c in w)]
    for end in range(len(names), 0, -1):
        key = street_key(" ".join(names[:end]))
        if not key:
            continue
        found = [
            p
            for p in places
            if p.get("key", "").startswith(key)
            and all(
                p["address"].lower().startswith(n) or f" {n}" in p["address"].lower()
                for n in numbers
            )
            and all(_holds(p, w) for w in names[end:])
        ]
        if found:
            return first(found, "key")
    return CachedMatches([], as_of)


def _context_fields(context: LocationContext) -> dict[str, Any]:
    fields = dataclasses.asdict(context)
    for incident in fields["recent"]:
        incident["opened_at"] = incident["opened_at"].isoformat()
    for person in fields["people"]:
        born = person["date_of_birth"]
        person["date_of_birth"] = None if born is None else born.isoformat()
    return fields


def _context(fields: dict[str, Any]) -> LocationContext:
    from controlroom.services.incidents import IncidentSummary
    from controlroom.services.locations import LocationContext, LocationMatch, PersonAtLocation
    from controlroom.services.markers import MarkerInfo

    return LocationContext(
        location=LocationMatch(**fields["location"]),
        hazards=tuple(fields["hazards"]),
        incidents_12m=fields["incidents_12m"],
        recent=tuple(
            IncidentSummary(**{**i, "opened_at": datetime.fromisoformat(i["opened_at"])})
            for i in fields["recent"]
        ),
        people=tuple(
            PersonAtLocation(
                person_id=p["person_id"],
                name=p["name"],
                date_of_birth=None
                if p["date_of_birth"] is None
                else date.fromisoformat(p["date_of_birth"]),
                markers=tuple(MarkerInfo(**m) for m in p["markers"]),
            )
            for p in fields["people"]
        ),
    )


def remember_seen(data_dir: Path, username: str, context: LocationContext, now: datetime) -> None:
    """What the form just showed about a place (read, and audited, from the database),
    kept as the warnings last seen here; the oldest go beyond `SEEN_CAP`."""
    path = seen_path(data_dir, username)
    content = read_cache(path) or {}
    seen = content.get("places")
    if not isinstance(seen, dict):
        seen = {}
    seen[str(context.location.id)] = {
        "seen_at": now.astimezone(UTC).isoformat(),
        "context": _context_fields(context),
    }
    if len(seen) > SEEN_CAP:
        newest = sorted(seen.items(), key=lambda item: item[1]["seen_at"], reverse=True)
        seen = dict(newest[:SEEN_CAP])
    write_cache(path, {"places": seen})


def cached_context(data_dir: Path, username: str, location_id: int) -> CachedContext | None:
    """A place's warnings from this station: as last seen here, or its gazetteer
    hazards alone; None when the station knows nothing of it."""
    from controlroom.services.locations import LocationContext

    content = read_cache(seen_path(data_dir, username)) or {}
    seen = content.get("places")
    if isinstance(seen, dict) and str(location_id) in seen:
        try:
            entry = seen[str(location_id)]
            return CachedContext(
                _context(entry["context"]), datetime.fromisoformat(entry["seen_at"]), True
            )
        except (KeyError, TypeError, ValueError):
            pass  # an unreadable entry: the gazetteer's hazards below
    area = _area(data_dir, username)
    if area is None:
        return None
    places, as_of = area
    place = next((p for p in places if p.get("id") == location_id), None)
    if place is None:
        return None
    context = LocationContext(
        location=_location(place),
        hazards=tuple(place.get("hazards") or ()),
        incidents_12m=0,
        recent=(),
        people=(),
    )
    return CachedContext(context, as_of, False)


def audit_event(actor: Actor, cached: CachedContext, now: datetime) -> dict[str, object]:
    """The audit event of showing `cached` (for the session's offline journal): the
    people whose markers were shown, as the database's own read says them."""
    shown = [str(p.person_id) for p in cached.context.people if p.markers]
    when = f"as last seen {cached.as_of.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return {
        "occurred_at": now,
        "actor": actor.username,
        "staff_id": actor.staff_id,
        "terminal": actor.terminal,
        "action": "location.context",
        "object_type": "location",
        "object_id": cached.context.location.id,
        "outcome": "success",
        "detail": "markers shown for persons: " + (",".join(shown) or "none"),
        "read_from": f"read from this station's cache ({when}): the database not answering",
    }
