"""Legacy import throughput: `import_extract` against a bulk insert of the same rows, in
the same run, with the import's peak RSS.

A synthetic extract of N people (with aliases and warning markers, and the generator's
planted faults: duplicates of people already there, bad dates, unknown codes, a
truncated file) is written by a child process (so its memory is not counted), then
imported through the service into a new database: every row read, checked, matched
against the people there by phonetic keys and date of birth, accounted for in the
provenance ledger, a chunk a transaction. The floor: the rows the import made (persons,
aliases, markers), inserted plainly into a second new database with the bulk writer
the synthetic force uses, a batch a transaction.

    .venv/bin/python benchmarks/legacy_import.py --persons 1000000
    .venv/bin/python benchmarks/legacy_import.py --persons 500000     # a busy machine
    .venv/bin/python benchmarks/legacy_import.py --persons 20000      # a quick try
    .venv/bin/python benchmarks/legacy_import.py --database-url postgresql+psycopg://...

With --database-url (PostgreSQL), the import goes there and the floor into a database
named `<name>_floor` beside it; both must exist and be empty. Target (issue 19): rows per
second at most 3x slower than the bulk insert. The extract holds persons, aliases,
addresses and markers (no old incidents or intelligence: the figure is the people's).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from controlroom.config import mask_url, sqlite_url
from controlroom.data.cold_models import ImportRecord, Person, PersonAlias, WarningMarker
from controlroom.data.schema import upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.identity import Actor
from controlroom.domain.legacy import LegacyMapping
from controlroom.domain.roles import Role
from controlroom.services.legacy_import import import_extract

GOAL_RATIO = 3.0
ADMIN = "bench.admin"
BATCH = 10_000


def new_database(url: str) -> Database:
    database = Database(url)
    upgrade(database.engine, environment=Environment.TEST, created_by=ADMIN)
    return database


def write_extract_in_child(url: str, path: Path, persons: int) -> None:
    code = (
        "import sys; from pathlib import Path; from controlroom.data.uow import Database;"
        "from controlroom.services.synthetic.legacy_extract import write_extract;"
        "d = Database(sys.argv[1]);"
        "p = write_extract(Path(sys.argv[2]), persons=int(sys.argv[3]), duplicates_of=d.uow,"
        " duplicates=100, legacy_records=False);"
        "print(p)"
    )
    subprocess.run([sys.executable, "-c", code, url, str(path), str(persons)], check=True)


def some_people_already_there(database: Database, count: int = 100) -> None:
    with database.uow() as uow:
        uow.legacy.insert_persons(
            [
                {
                    "forename": f"Existing{n}",
                    "surname": "Resident",
                    "date_of_birth": date(1970 + n % 40, 1 + n % 12, 1 + n % 28),
                    "restricted": False,
                }
                for n in range(count)
            ]
        )
        uow.commit()


def imported_rows(database: Database) -> tuple[list[dict], list[dict], list[dict]]:
    """What the import made, as plain rows (person ids renumbered from 1)."""
    with database.engine.connect() as connection:
        made = {
            (source_file, target)
            for source_file, target in connection.execute(
                select(ImportRecord.source_file, ImportRecord.target_id).where(
                    ImportRecord.outcome == "imported"
                )
            )
        }
        person_ids = sorted(t for f, t in made if f == "persons")
        persons = [
            dict(row._mapping)
            for row in connection.execute(
                select(
                    Person.id,
                    Person.forename,
                    Person.middle_names,
                    Person.surname,
                    Person.date_of_birth,
                    Person.gender,
                    Person.restricted,
                )
                .where(Person.id >= person_ids[0])
                .order_by(Person.id)
            )
        ]
        aliases = [
            dict(row._mapping)
            for row in connection.execute(
                select(PersonAlias.person_id, PersonAlias.forename, PersonAlias.surname)
            )
        ]
        markers = [
            dict(row._mapping)
            for row in connection.execute(
                select(
                    WarningMarker.person_id,
                    WarningMarker.marker_code,
                    WarningMarker.note,
                    WarningMarker.set_at,
                    WarningMarker.valid_from,
                )
            )
        ]
    return persons, aliases, markers


def bulk_insert(database: Database, persons, aliases, markers) -> float:
    started = time.perf_counter()
    with database.uow() as uow:
        renumber: dict[int, int] = {}
        for start in range(0, len(persons), BATCH):
            chunk = persons[start : start + BATCH]
            old_ids = [row.pop("id") for row in chunk]
            new_ids = uow.bulk.rows_with_ids(Person, chunk)
            renumber.update(zip(old_ids, new_ids, strict=True))
            uow.commit()
        for model, rows in ((PersonAlias, aliases), (WarningMarker, markers)):
            for row in rows:
                row["person_id"] = renumber[row["person_id"]]
            for start in range(0, len(rows), BATCH):
                uow.bulk.rows(model, rows[start : start + BATCH])
                uow.commit()
    return time.perf_counter() - started


class Ticker:
    """A line every `every` rows of a file while the import runs (rows, rows per second
    so far, peak RSS): on a shared machine a run cut short still says how far it got."""

    def __init__(self, started: float, every: int = 100_000) -> None:
        self.started, self.every, self.next = started, every, every
        self.file = ""

    def progress(self, source_file: str, done: int, total: int) -> None:
        if source_file != self.file:
            self.file, self.next = source_file, self.every
        if done >= self.next or (done == total and total):
            self.next = done + self.every
            seconds = time.perf_counter() - self.started
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  ... {source_file}: {done:,} of {total:,} after {seconds:.0f} s"
                f" (peak RSS {rss:.0f} MiB)",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legacy-bench-") as scratch:
        work = Path(scratch)
        if args.database_url:
            url = args.database_url
            parsed = make_url(url)
            floor_url = parsed.set(database=f"{parsed.database}_floor").render_as_string(
                hide_password=False
            )
        else:
            url, floor_url = sqlite_url(work / "import.sqlite"), sqlite_url(work / "floor.sqlite")
        database = new_database(url)
        some_people_already_there(database)
        extract = work / "extract"
        started = time.perf_counter()
        write_extract_in_child(url, extract, args.persons)
        print(
            f"extract of {args.persons:,} persons written in {time.perf_counter() - started:.0f} s"
        )
        data = tomllib.loads((extract / "mapping.toml").read_text(encoding="utf-8"))
        with database.uow() as uow:
            mapping = LegacyMapping.from_toml(data, uow.legacy.marker_codes())
            admin = uow.staff.by_username(ADMIN)
            actor = Actor(admin.id, ADMIN, Role.ADMINISTRATOR, "local")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = import_extract(
            database.uow, actor, extract, mapping, progress=Ticker(started).progress
        )
        import_seconds = time.perf_counter() - started
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        read = sum(f.read for f in result.files)
        for f in result.files:
            print(
                f"  {f.source_file:<8} read {f.read:>9,}  imported {f.imported:>9,}"
                f"  matched {f.matched:>5,}  rejected {f.rejected:>6,}"
            )

        persons, aliases, markers = imported_rows(database)
        database.dispose()
        written = len(persons) + len(aliases) + len(markers)
        floor = new_database(floor_url)
        floor_seconds = bulk_insert(floor, persons, aliases, markers)
        floor.dispose()

    import_rate = read / import_seconds
    floor_rate = written / floor_seconds
    ratio = floor_rate / import_rate
    print(f"database: {mask_url(url)}")
    print(f"import:      {read:,} rows read in {import_seconds:.1f} s = {import_rate:,.0f} rows/s")
    print(f"bulk insert: {written:,} rows in {floor_seconds:.1f} s = {floor_rate:,.0f} rows/s")
    print(
        f"ratio: {ratio:.2f}x slower than the bulk insert (goal <= {GOAL_RATIO:.0f}x):"
        f" {'met' if ratio <= GOAL_RATIO else 'NOT met'}"
    )
    print(f"peak RSS: {rss_peak / 1024:.0f} MiB (before the import: {rss_before / 1024:.0f} MiB)")
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
