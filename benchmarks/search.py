"""Person search latency: 200 varied queries through the service layer against the plain
indexed query for the same terms, in the same run, on the same database.

The queries are drawn from the seeded people themselves, then misspelled the way callers
do: a spelling from the person's name family (controlroom.domain.name_variants: Smyth
for Smith, Muhammad for Mohammed) or, for a name with no family, a keying slip (two
letters swapped, one dropped). Four kinds, in turn:

    name          "muhammad smyth"                 misspelled forename and surname
    name + DOB    "muhammad smyth 02/03/1984"      and the exact date of birth
    DOB range     "smyth 1982-1986"                misspelled surname, five-year range
    postcode      "smyth LS6 2AB"                  misspelled surname, home postcode

Each runs through `search_persons` (parse, candidates, ranking, markers, address,
counts, the audit event and its commit: what the screen and `controlroom search` pay),
and, interleaved so drift in the machine's load hits both alike, the floor: one plain
SQLAlchemy select on the indexed columns with the terms spelled correctly (surname =
, forename = , date_of_birth = / BETWEEN, or a join to the home address's postcode),
each in a unit of work of its own. For context it also times the floor plus the one
audit row a search must commit (not the target's floor), and counts how often the
intended person is in the top five.

    .venv/bin/python benchmarks/search.py                      # large seed, SQLite, ~11 min to seed (2 cores)
    .venv/bin/python benchmarks/search.py --size small         # a quick try
    .venv/bin/python benchmarks/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Without --database-url it seeds a scratch SQLite database (`controlroom demo --seed-only
--size SIZE`); with one it seeds it only when it is not yet seeded (a PostgreSQL URL
needs an existing, empty or seeded database). PostgreSQL plans by its statistics: where
autovacuum is off, run `ANALYZE` (psql) once the seed is in, or every plan is a guess.

Target (issue 4): p95 at most 5x the floor's p95, and under 100 ms.

Recall (issue 20), printed beside the ratio: --recall lines (300 by default) a caller
might say, written by our own rules (controlroom.domain.search_recall: two facts each,
names with keying slips anywhere, controlroom.domain.slips, or another spelling of their
family), for people drawn with the seed; the share where the intended person is in the
top five, and the share where they come first among the lines whose facts, spelled as
stored, name them only. Run after the timed queries, so they do not disturb them.
Beside it, the top-five share among the lines whose facts name at most five people: on
a million persons a forename and a surname often name dozens alike, and only where they
name five or fewer can the intended one be in the top five by more than luck.
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# benchmarks/statistics.py (issue 18) and queue.py would hide the standard library's
# modules of those names while this script's own directory is first on sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime

from sqlalchemy import and_, func, or_, select

from controlroom.config import mask_url, sqlite_url
from controlroom.data.cold_models import Person, PersonAddress
from controlroom.data.engine import APP_CACHE_KIB, APP_HEAP_LIMIT_KIB
from controlroom.data.models import Location, Staff
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import REFERENCE_ZONE
from controlroom.domain.name_variants import FORENAME_FAMILIES, SURNAME_FAMILIES, name_family
from controlroom.domain.phonetics import phonetic_keys, transposed
from controlroom.domain.roles import Role
from controlroom.domain.search_recall import KINDS as RECALL_KINDS
from controlroom.domain.search_recall import Caller, caller_lines
from controlroom.services import audit
from controlroom.services.person_search import search_persons

KINDS = ("name", "name + DOB", "DOB range", "postcode")
LIMIT = 20
TOP = 5
SAMPLE_FACTOR = 4  # draw this many candidate people per query wanted (some are unusable)

_FAMILY_OF = {s: f.spellings for f in FORENAME_FAMILIES for s in f.spellings}
_FAMILY_OF.update({s: family for family in SURNAME_FAMILIES for s in family})


def misspelled(name: str, rng: random.Random) -> str:
    """Another spelling of `name`: from its variant family, else a keying slip."""
    family = _FAMILY_OF.get(name)
    if family is not None and len(family) > 1:
        return rng.choice([s for s in family if s != name])
    letters = list(name)
    swaps = [
        i
        for i in range(1, len(letters) - 1)
        if letters[i].isalpha() and letters[i + 1].isalpha() and letters[i] != letters[i + 1]
    ]
    if swaps and rng.random() < 0.5:
        i = rng.choice(swaps)
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    elif len(letters) > 4:
        del letters[rng.randrange(1, len(letters) - 1)]
    else:
        return name  # too short to misspell and still mean the same person
    return "".join(letters)


def seed_scratch(size: str) -> str:
    scratch = Path(tempfile.mkdtemp(prefix="controlroom-search-"))
    url = sqlite_url(scratch / f"{size}.sqlite")
    print(f"seeding the {size} synthetic force into {scratch} …", flush=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "controlroom",
            "demo",
            "--seed-only",
            "--size",
            size,
            "--database-url",
            url,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "CONTROLROOM_DATA_DIR": str(scratch)},
    )
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def seeded_database(url: str | None, size: str) -> str:
    """The benchmark's database: `url` (seeded first if empty) or a scratch file."""
    if url is None:
        return seed_scratch(size)
    ensure_seeded(url, size)
    return url


def ensure_seeded(url: str, size: str) -> None:
    """Seed a named database unless it already holds people (a synthetic force)."""
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app
    try:
        with database.uow() as uow:
            seeded = uow.session.scalar(select(Person.id).limit(1)) is not None
    except Exception:  # no tables yet: `controlroom demo` migrates and seeds
        seeded = False
    finally:
        database.dispose()
    if seeded:
        return
    print(f"seeding the {size} synthetic force into {mask_url(url)} …", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "controlroom",
            "demo",
            "--seed-only",
            "--size",
            size,
            "--database-url",
            url,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def sample_people(database: Database, wanted: int, rng: random.Random):
    """(id, forename, surname, date of birth, home postcode) of random unrestricted people."""
    with database.uow() as uow:
        low, high = uow.session.execute(select(func.min(Person.id), func.max(Person.id))).one()
        ids = rng.sample(range(low, high + 1), min(high - low + 1, wanted * SAMPLE_FACTOR))
        rows = uow.session.execute(
            select(
                Person.id, Person.forename, Person.surname, Person.date_of_birth, Location.postcode
            )
            .outerjoin(
                PersonAddress,
                and_(
                    PersonAddress.person_id == Person.id,
                    PersonAddress.kind == "home",
                    PersonAddress.valid_to.is_(None),
                ),
            )
            .outerjoin(Location, Location.id == PersonAddress.location_id)
            .where(Person.id.in_(ids), Person.restricted.is_(False))
        ).all()
    people = {row[0]: row for row in rows}  # one row a person, whatever their addresses
    ordered = [people[i] for i in ids if i in people]
    return ordered


def build_queries(people, count: int, rng: random.Random):
    """(kind, query text, floor select, intended person id) for `count` queries."""
    queries = []
    pool = iter(people)
    while len(queries) < count:
        kind = KINDS[len(queries) % len(KINDS)]
        for person_id, forename, surname, born, postcode in pool:
            fore, sur = misspelled(forename, rng), misspelled(surname, rng)
            if kind == "name":
                text = f"{fore} {sur}"
                floor = select(Person).where(Person.surname == surname, Person.forename == forename)
            elif kind == "name + DOB":
                if born is None:
                    continue
                text = f"{fore} {sur} {born:%d/%m/%Y}"
                floor = select(Person).where(
                    Person.surname == surname,
                    Person.forename == forename,
                    Person.date_of_birth == born,
                )
            elif kind == "DOB range":
                if born is None:
                    continue
                # A range reaching past this year reads as words, not dates (as it should).
                low, high = born.year - 2, min(born.year + 2, date.today().year)
                text = f"{sur} {low}-{high}"
                floor = select(Person).where(
                    Person.surname == surname,
                    Person.date_of_birth.between(date(low, 1, 1), date(high, 12, 31)),
                )
            else:
                if not postcode:
                    continue
                text = f"{sur} {postcode}"
                # Driven from the postcode's index (a join SQLite may start from the
                # surname instead, reading every Smith).
                floor = select(Person).where(
                    Person.surname == surname,
                    Person.id.in_(
                        select(PersonAddress.person_id)
                        .join(Location, Location.id == PersonAddress.location_id)
                        .where(
                            Location.postcode == postcode,
                            or_(
                                PersonAddress.valid_to.is_(None),
                                PersonAddress.valid_to >= date.today(),
                            ),
                        )
                    ),
                )
            queries.append((kind, text, floor.limit(LIMIT), person_id))
            break
        else:
            raise SystemExit(f"only {len(queries)} usable people sampled; try again")
    return queries


def recall_people(database: Database, wanted: int, rng: random.Random):
    """(id, Caller) of random unrestricted, unmerged people, with their home's postcode
    and street."""
    with database.uow() as uow:
        low, high = uow.session.execute(select(func.min(Person.id), func.max(Person.id))).one()
        ids = rng.sample(range(low, high + 1), min(high - low + 1, wanted))
        rows = uow.session.execute(
            select(
                Person.id,
                Person.forename,
                Person.surname,
                Person.date_of_birth,
                Location.postcode,
                Location.street,
            )
            .outerjoin(
                PersonAddress,
                and_(
                    PersonAddress.person_id == Person.id,
                    PersonAddress.kind == "home",
                    PersonAddress.valid_to.is_(None),
                ),
            )
            .outerjoin(Location, Location.id == PersonAddress.location_id)
            .where(
                Person.id.in_(ids),
                Person.restricted.is_(False),
                Person.merged_into_id.is_(None),
            )
            .order_by(Person.id, PersonAddress.id)
        ).all()
    people: dict[int, Caller] = {}
    for person_id, *facts in rows:
        people.setdefault(person_id, Caller(*facts))
    return list(people.items())


def _spellings(name: str) -> list[str]:
    """The stored spellings that are the same name as `name` (its family, as cased)."""
    return [name, *name_family(name)]


def named_in_database(database: Database, kind: str, person: Caller) -> int:
    """How many people the facts of a line of `kind` name, spelled as stored (another
    spelling of the name counts): `search_recall.named_by` asked of the database."""
    born = person.date_of_birth
    conditions = []
    if kind == "forename + surname":
        conditions.append(Person.forename.in_(_spellings(person.forename)))
        conditions.append(Person.surname.in_(_spellings(person.surname)))
    else:
        # A lone name word names whoever bears it as either name ("martin 26/01/2005":
        # Martin Davies and Carl Martin): as a forename through its keys' index.
        word = person.forename if kind.startswith("forename") else person.surname
        spellings = _spellings(word)
        keys = {key for spelling in spellings for key in phonetic_keys(spelling)}
        conditions.append(
            or_(
                Person.surname.in_(spellings),
                and_(Person.forename_key.in_(keys), Person.forename.in_(spellings)),
            )
        )
    statement = select(func.count(func.distinct(Person.id))).where(*conditions)
    if kind in ("surname + DOB", "forename + DOB"):
        statement = statement.where(Person.date_of_birth == born)
    elif kind == "surname + DOB swapped" and born is not None:
        # The date said (the mirror) names whoever was born on it as well.
        mirror = transposed(born) or born
        statement = statement.where(Person.date_of_birth.in_([born, mirror]))
    elif kind == "surname + year" and born is not None:
        statement = statement.where(
            Person.date_of_birth.between(date(born.year, 1, 1), date(born.year, 12, 31))
        )
    elif kind in ("surname + postcode", "surname + street"):
        at = (
            Location.postcode == person.postcode
            if kind == "surname + postcode"
            else func.lower(Location.street) == (person.street or "").casefold()
        )
        statement = (
            statement.join(PersonAddress, PersonAddress.person_id == Person.id)
            .join(Location, Location.id == PersonAddress.location_id)
            .where(at, PersonAddress.kind == "home", PersonAddress.valid_to.is_(None))
        )
    with database.uow() as uow:
        return uow.session.scalar(statement) or 0


def measure_recall(database: Database, actor: Actor, count: int, rng: random.Random, today):
    """Per kind of line: [lines, intended in the top TOP, lines whose facts name one
    person, of those the intended first, lines whose facts name at most TOP people, of
    those the intended in the top TOP]; the lines missed; and each line's search time.

    The facts, spelled as stored, may name many people (on a million persons a forename
    and surname often name dozens: every Linda Burns ranks alike): only where they name
    at most TOP can the intended person be in the top TOP by more than luck."""
    people = recall_people(database, count * SAMPLE_FACTOR, rng)
    by_caller = {id(caller): person_id for person_id, caller in people}
    per_kind = -(-count // len(RECALL_KINDS))
    lines = caller_lines([caller for _, caller in people], rng, per_kind)
    tally = {kind: [0, 0, 0, 0, 0, 0] for kind in RECALL_KINDS}
    misses = []
    times: list[float] = []
    for made, caller in lines:
        wanted = by_caller[id(caller)]
        elapsed, ids = run_service(database, actor, made.line, today)
        times.append(elapsed)
        counts = tally[made.kind]
        counts[0] += 1
        counts[1] += wanted in ids[:TOP]
        named = named_in_database(database, made.kind, caller)
        alone = named == 1
        if alone:
            counts[2] += 1
            counts[3] += ids[:1] == [wanted]
        if named <= TOP:
            counts[4] += 1
            counts[5] += wanted in ids[:TOP]
        if (named <= TOP and wanted not in ids[:TOP]) or (alone and ids[:1] != [wanted]):
            place = ids.index(wanted) + 1 if wanted in ids else None
            misses.append((made.kind, made.line, wanted, place, named))
    return tally, misses, times


def benchmark_actor(database: Database) -> Actor:
    with database.uow() as uow:
        staff = (
            uow.session.scalars(select(Staff).where(Staff.username == "demo.supervisor")).first()
            or uow.session.scalars(select(Staff).order_by(Staff.id)).first()
        )
        return Actor(
            staff_id=staff.id, username=staff.username, role=Role(staff.role), terminal="benchmark"
        )


def run_service(database: Database, actor: Actor, text: str, today: date):
    started = time.perf_counter()
    hits = search_persons(database.uow(), actor, text, today=today, limit=LIMIT)
    return time.perf_counter() - started, [hit.person_id for hit in hits]


def run_floor(
    database: Database, floor, actor: Actor | None = None, text: str = ""
) -> tuple[float, int]:
    """The plain query's time and how many people it found; with `actor`, also the one
    audit row every search must commit."""
    started = time.perf_counter()
    with database.uow() as uow:
        ids = [person.id for person in uow.session.scalars(floor).all()]
        if actor is not None:
            audit.record(
                uow,
                actor,
                "person.search",
                "person",
                None,
                detail=f"query={text!r}; shown: {','.join(map(str, ids)) or 'none'}",
            )
            uow.commit()
    return time.perf_counter() - started, len(ids)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def describe_backend(database: Database) -> str:
    engine = database.engine
    version = ".".join(str(v) for v in (engine.dialect.server_version_info or ()))
    return f"{engine.dialect.name} {version}".strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a database to use (seeded if empty)")
    parser.add_argument("--size", choices=("small", "large"), default="large")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--warmup", type=int, default=20, help="queries of each path run first and not counted"
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--misses",
        action="store_true",
        help="list the queries whose intended person was not in the top five (and the"
        " caller lines naming one person whose person was not first)",
    )
    parser.add_argument(
        "--recall",
        type=int,
        default=300,
        help="caller lines (two facts each, slips and name families) for the recall figure",
    )
    args = parser.parse_args()

    url = seeded_database(args.database_url, args.size)
    database = Database(
        url, cache_kib=APP_CACHE_KIB, heap_limit_kib=APP_HEAP_LIMIT_KIB
    )  # as the app
    rng = random.Random(args.seed)
    today = datetime.now(UTC).astimezone(REFERENCE_ZONE).date()
    try:
        actor = benchmark_actor(database)
        with database.uow() as uow:
            persons = uow.session.scalar(select(func.count()).select_from(Person))
        people = sample_people(database, args.queries + args.warmup, rng)
        queries = build_queries(people, args.queries + args.warmup, rng)
        warmup, measured = queries[: args.warmup], queries[args.warmup :]
        for _, text, floor, _ in warmup:
            run_service(database, actor, text, today)
            run_floor(database, floor)
        # Queries whose terms, spelled right, name at most TOP people: only for those can
        # the intended person be in the top TOP by more than luck (ten John Smiths born
        # in 1983 rank alike).
        distinct = dict.fromkeys(KINDS, 0)
        distinct_found = dict.fromkeys(KINDS, 0)

        service_times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        floor_times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        audited: list[float] = []
        found = dict.fromkeys(KINDS, 0)
        misses: list = []
        for number, (kind, text, floor, intended) in enumerate(measured):
            # Alternate which path goes first, so neither always meets the warmer cache.
            if number % 2:
                floor_time, named = run_floor(database, floor)
            elapsed, ids = run_service(database, actor, text, today)
            service_times[kind].append(elapsed)
            if not number % 2:
                floor_time, named = run_floor(database, floor)
            floor_times[kind].append(floor_time)
            found[kind] += intended in ids[:TOP]
            if args.misses and intended not in ids[:TOP]:
                misses.append(
                    (
                        kind,
                        text,
                        intended,
                        named,
                        ids.index(intended) + 1 if intended in ids else None,
                    )
                )
            if named <= TOP:
                distinct[kind] += 1
                distinct_found[kind] += intended in ids[:TOP]
            audited.append(run_floor(database, floor, actor, text)[0])
        recall_started = time.perf_counter()
        recall, recall_misses, recall_times = measure_recall(
            database, actor, args.recall, random.Random(args.seed), today
        )
        recall_seconds = time.perf_counter() - recall_started
    finally:
        database.dispose()

    service = [t for times in service_times.values() for t in times]
    floors = [t for times in floor_times.values() for t in times]
    s50, s95 = percentile(service, 0.5), percentile(service, 0.95)
    f50, f95 = percentile(floors, 0.5), percentile(floors, 0.95)
    ratio = s95 / f95
    print(f"backend: {describe_backend(database)} ({mask_url(url)})")
    print(
        f"persons: {persons:,}; queries: {len(measured)} "
        f"({', '.join(f'{len(service_times[k])} {k}' for k in KINDS)}), "
        f"{args.warmup} warm-up not counted"
    )
    print(f"{'':34}{'p50':>10}{'p95':>10}")
    print(f"{'search_persons (service layer)':34}{s50 * 1000:8.1f}ms{s95 * 1000:8.1f}ms")
    print(f"{'plain indexed query (floor)':34}{f50 * 1000:8.1f}ms{f95 * 1000:8.1f}ms")
    print(
        f"{'floor + its audit row committed':34}{percentile(audited, 0.5) * 1000:8.1f}ms"
        f"{percentile(audited, 0.95) * 1000:8.1f}ms   (context: every search commits one)"
    )
    for kind in KINDS:
        print(
            f"{'  ' + kind:34}{percentile(service_times[kind], 0.5) * 1000:8.1f}ms"
            f"{percentile(service_times[kind], 0.95) * 1000:8.1f}ms   floor "
            f"{percentile(floor_times[kind], 0.95) * 1000:.1f}ms p95, "
            f"intended in top {TOP}: {found[kind]}/{len(service_times[kind])}"
            f" ({distinct_found[kind]}/{distinct[kind]} where the right spelling"
            f" names <= {TOP})"
        )
    lines = sum(c[0] for c in recall.values())
    top = sum(c[1] for c in recall.values())
    unique = sum(c[2] for c in recall.values())
    first = sum(c[3] for c in recall.values())
    few = sum(c[4] for c in recall.values())
    few_top = sum(c[5] for c in recall.values())
    print(
        f"p95 / floor p95: {ratio:.1f}x (target <= 5x) {'met' if ratio <= 5 else 'NOT MET'}"
        f"   |   recall over {lines} caller lines: top {TOP} {top / max(1, lines):.1%}"
        f" ({top}/{lines}), first {first / max(1, unique):.1%} ({first}/{unique}"
        " where the facts name one person)"
    )
    print(
        f"recall where the facts name at most {TOP} people: top {TOP}"
        f" {few_top / max(1, few):.1%} ({few_top}/{few}); recall phase"
        f" {recall_seconds:.0f} s, a line p50 {percentile(recall_times or [0.0], 0.5) * 1000:.0f} ms"
        f" p95 {percentile(recall_times or [0.0], 0.95) * 1000:.0f} ms"
    )
    for kind, (made, found_top, named_one, found_first, named_few, few_found) in recall.items():
        print(
            f"{'  recall: ' + kind:34}top {TOP} {found_top}/{made}"
            f" ({few_found}/{named_few} where the facts name <= {TOP})"
            f", first {found_first}/{named_one} where they name one"
        )
    print(f"p95 under 100 ms: {'yes' if s95 < 0.1 else 'NO'} ({s95 * 1000:.1f} ms)")
    print(
        f"intended person in the top {TOP}: {sum(found.values())}/{len(measured)}; "
        f"{sum(distinct_found.values())}/{sum(distinct.values())} of the queries whose "
        f"terms, spelled right, name at most {TOP} people"
    )
    print(
        f"means: service {statistics.fmean(service) * 1000:.1f} ms, "
        f"floor {statistics.fmean(floors) * 1000:.1f} ms"
    )
    if args.misses:
        for kind, text, intended, place, named in recall_misses:
            print(
                f"  recall: {kind:22} {text!r}: person {intended}, "
                f"{'not found' if place is None else f'at {place}'}; the facts name {named}"
            )
    for kind, text, intended, named, place in misses:
        print(
            f"  missed {kind:10} {text!r}: person {intended}, "
            f"{'not found' if place is None else f'at {place}'}; "
            f"the right spelling names {named}"
        )
    return 0


if __name__ == "__main__":
    # This script's directory is no import root: benchmarks/queue.py would shadow the
    # standard library's `queue`, which psycopg imports when the engine is made.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    raise SystemExit(main())
