"""`controlroom import legacy PATH`: an old system's extract in, with a reconciliation;
`controlroom import write-extract DIR`: a synthetic extract with planted faults."""

from __future__ import annotations

import sys
from pathlib import Path

from controlroom.cli import common
from controlroom.cli.common import CliError, _open_database, _settings, _terminal


def _import_parsers(commands, common_options) -> None:
    group = commands.add_parser(
        "import", help="bring an old system's records in (administrators)"
    ).add_subparsers(dest="import_command", metavar="ACTION", required=True)
    legacy = group.add_parser(
        "legacy",
        parents=[common_options],
        help="import an extract (PERSONS, ALIASES, ADDRESSES, MARKERS, INCIDENTS,"
        " INTELLIGENCE .CSV); safe to re-run",
    )
    legacy.add_argument("path", type=Path, metavar="PATH", help="the extract's directory")
    legacy.add_argument(
        "--mapping", type=Path, metavar="FILE", help="TOML mapping (default: PATH/mapping.toml)"
    )
    legacy.add_argument(
        "--report", type=Path, metavar="FILE", help="write the reconciliation as CSV here"
    )
    group.add_parser(
        "review",
        parents=[common_options],
        help="the people an import held back as probably someone here (supervisors, audited)",
    )
    decide = group.add_parser(
        "decide",
        parents=[common_options],
        help="decide a review-list entry: the same person, or a different one (supervisors)",
    )
    decide.add_argument("record_id", metavar="ID", help="the review list's id")
    which = decide.add_mutually_exclusive_group(required=True)
    which.add_argument("--same-person", action="store_true")
    which.add_argument("--different-person", action="store_true")
    decide.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")
    write = group.add_parser(
        "write-extract",
        parents=[common_options],
        help="write a synthetic extract with planted faults (duplicates of this database's"
        " people, bad dates, unknown codes, a truncated file), old incidents and intelligence",
    )
    write.add_argument("path", type=Path, metavar="DIR")
    write.add_argument("--persons", type=int, default=1000, metavar="N")


def cmd_import(args) -> int:
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        if args.import_command == "write-extract":
            return _write_extract(args, database)
        if args.import_command == "review":
            return _review(database)
        if args.import_command == "decide":
            return _decide(args, database)
        return _import(args, database)
    finally:
        database.dispose()


def _write_extract(args, database) -> int:
    from controlroom.services.synthetic.legacy_extract import write_extract

    planted = write_extract(args.path, persons=args.persons, duplicates_of=database.uow)
    print(
        f"wrote {args.path}: {planted.persons} persons ({planted.duplicates} already in the"
        f" database, {planted.bad_dates} with bad dates), {planted.aliases} aliases,"
        f" {planted.markers} markers (the last line cut off), {planted.incidents} incidents,"
        f" {planted.reports} intelligence reports; mapping: {args.path}/mapping.toml"
    )
    return 0


def _import(args, database) -> int:
    import tomllib

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from controlroom.domain.legacy import LegacyMapping, MappingError
    from controlroom.services.legacy_import import import_extract

    mapping_path = args.mapping or args.path / "mapping.toml"
    if not args.path.is_dir():
        raise CliError(f"{args.path} is not a directory holding an extract")
    try:
        data = tomllib.loads(mapping_path.read_text(encoding="utf-8"))
        with database.uow() as uow:
            mapping = LegacyMapping.from_toml(
                data, uow.legacy.marker_codes(), frozenset(uow.legacy.incident_types())
            )
    except OSError as exc:
        raise CliError(f"cannot read the mapping {mapping_path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, MappingError) as exc:
        raise CliError(f"mapping {mapping_path}: {exc}") from None
    actor = common._operator_actor(database).actor(_terminal())
    console = common._console()
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(source_file: str, done: int, total: int) -> None:
            if source_file not in tasks:
                tasks[source_file] = bar.add_task(source_file, total=total)
            bar.update(tasks[source_file], completed=done, total=total)

        try:
            result = import_extract(database.uow, actor, args.path, mapping, progress=progress)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    table = common._table(
        ("file", True),
        ("read", True),
        ("imported", True),
        ("matched", True),
        ("rejected", True),
        ("earlier", True),
    )
    for f in result.files:
        table.add_row(
            f.source_file,
            *(str(n) for n in (f.read, f.imported, f.matched, f.rejected, f.earlier)),
        )
    console.print(table)
    print(
        f"batch {result.batch_id} ({result.source_system})"
        + (": a re-run or resumed run of this extract" if result.resumed else "")
        + "; matched persons wait on the review list for a supervisor"
    )
    from controlroom.domain.safe_text import printable

    if result.rejections:
        print("rejected:")
    for rejection in result.rejections[:10]:
        print(
            printable(
                f"  {rejection.source_file} line {rejection.line}"
                f" {rejection.source_id or '(no id)'}: {rejection.reason}"
            )
        )
    if len(result.rejections) > 10:
        print(f"  ... and {len(result.rejections) - 10} more (--report FILE lists them all)")
    if args.report:
        with args.report.open("w", encoding="utf-8", newline="") as out:
            result.write_csv(out)
        print(f"reconciliation written to {args.report}")
    sys.stdout.flush()
    return 0


def _review(database) -> int:
    from rich.text import Text

    from controlroom.domain.safe_text import printable
    from controlroom.services.legacy_review import review_list

    actor = common._operator_actor(database).actor(_terminal())
    items = review_list(database.uow(), actor)
    if not items:
        print("the review list is empty")
        return 0
    table = common._table(
        ("id", True), ("legacy row", False), ("probably record", False), ("waiting", True)
    )
    for item in items:
        table.add_row(  # record data as Text: never read as markup
            str(item.record_id),
            Text(
                printable(
                    f"{item.source_system} {item.source_id}: {item.legacy_name}"
                    + (f", born {item.legacy_born:%d/%m/%Y}" if item.legacy_born else "")
                )
            ),
            Text(
                printable(
                    f"{item.candidate_id}: {item.candidate_name}"
                    + (f", born {item.candidate_born:%d/%m/%Y}" if item.candidate_born else "")
                )
            ),
            str(item.waiting),
        )
    common._console().print(table)
    print(
        "decide each: controlroom import decide ID --same-person|--different-person --reason TEXT"
    )
    return 0


def _decide(args, database) -> int:
    from controlroom.services.legacy_review import ReviewRefused, decide

    record_id = common._whole_number(args.record_id, "ID", maximum=2**31 - 1)
    actor = common._operator_actor(database).actor(_terminal())
    try:
        decision = decide(
            database.uow(), actor, record_id, same_person=args.same_person, reason=args.reason
        )
    except ReviewRefused as exc:
        raise CliError(str(exc)) from None
    what = "the same person as" if decision.same_person else "a new person,"
    print(
        f"review-list entry {decision.record_id}: {what} record {decision.person_id};"
        f" {decision.aliases} aliases, {decision.addresses} addresses and"
        f" {decision.markers} markers added to it, with {decision.incidents} LEGACY"
        f" incidents and {decision.intelligence} LEGACY intelligence reports"
    )
    return 0
