"""`controlroom audit verify | export`: the hash chain checked, events for the DPO."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from controlroom.cli import common
from controlroom.cli.common import (
    CliError,
    _open_database,
    _operator_actor,
    _settings,
    _terminal,
    _whole_number,
)


def _audit_parsers(commands, common) -> None:
    audit = commands.add_parser(
        "audit", help="the audit trail: verify the chain, export"
    ).add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit.add_parser(
        "verify", parents=[common], help="check the hash chain; exit 1 at the first broken link"
    )
    verify.add_argument(
        "--anchor",
        type=Path,
        metavar="FILE",
        help="keep the anchored chain head in FILE (default: one per database in"
        " <data dir>/audit-anchors/)",
    )
    export = audit.add_parser(
        "export", parents=[common], help="audit events for the data-protection officer (audited)"
    )
    export.add_argument("--since", required=True, metavar="DATE", help="YYYY-MM-DD (UTC)")
    export.add_argument("--person", metavar="ID", help="only events on this person record")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument(
        "--justification", metavar="TEXT", help="why (required on a production database)"
    )
    export.add_argument(
        "--include-protected",
        action="store_true",
        help="include restricted records and sexual-offence complainants"
        " (an explicit authorisation, recorded)",
    )


def cmd_audit(args) -> int:
    """`audit verify` and `audit export`, as the OS user (see services.audit_trail)."""
    from controlroom.services.audit import AuditUnavailable
    from controlroom.services.audit_trail import AuditTrailRefused, export_events

    since: date | None = None
    person_id: int | None = None
    if args.audit_command == "export":
        try:
            since = date.fromisoformat(args.since.strip())
        except ValueError:
            raise CliError(f"--since must be a date as YYYY-MM-DD, not {args.since!r}") from None
        if args.person is not None:
            person_id = _whole_number(args.person, "--person", maximum=2**31 - 1)
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        if args.audit_command == "verify":
            return _verify(database, args, settings)
        actor = _operator_actor(database).actor(_terminal())
        assert since is not None  # read above for `audit export`
        exported = export_events(
            database.uow(),
            actor,
            since=since,
            person_id=person_id,
            justification=args.justification,
            include_protected=args.include_protected,
        )
        _write_export(exported.events, args.format)
        print(
            f"{len(exported.events)} event(s) exported, {exported.withheld} withheld"
            f" ({exported.environment.value} database)",
            file=sys.stderr,
        )
        return 0
    except (AuditTrailRefused, AuditUnavailable) as exc:
        raise CliError(str(exc)) from None
    finally:
        database.dispose()


def _verify(database, args, settings) -> int:
    """`audit verify`: runs and reports whatever the state of the chain (0 intact, 1
    broken or not extending its anchor); says so when the check itself could not be
    written to the trail."""
    from controlroom.services.audit_trail import AnchorPlace, verify_as
    from controlroom.services.secrets import anchor_key
    from controlroom.services.staff import AccessRefused

    place = AnchorPlace(
        directory=settings.data_dir / "audit-anchors", file=args.anchor, key=anchor_key()
    )
    try:
        report = verify_as(database.uow, common._os_user(), _terminal(), anchor=place)
    except AccessRefused as exc:
        raise CliError(f"access refused: {exc}") from None
    result, broken = report.result, report.result.broken
    if broken is None:
        head = result.head.last_hash if result.head is not None else "none"
        print(f"audit trail intact: {result.events} events, head {head}")
    else:
        where = f"event {broken.seq}" + (
            f" (row id {broken.event_id})" if broken.event_id is not None else ""
        )
        print(f"audit trail BROKEN at {where}: {broken.problem}")
    if report.anchor is not None:
        print(report.anchor)
    if report.unrecorded is not None:
        print(
            "this check could not be written to the audit trail: " + report.unrecorded,
            file=sys.stderr,
        )
    return 0 if broken is None and not report.anchor_broken else 1


def _write_export(events, fmt: str) -> None:
    import json

    from controlroom.services.audit_trail import EXPORT_FIELDS

    if fmt == "jsonl":
        for event in events:
            # ASCII only: control characters in a record arrive escaped, never raw.
            sys.stdout.write(json.dumps(event.as_dict(), ensure_ascii=True) + "\n")
        return
    from controlroom.domain.spreadsheet import csv_writer, safe_cell

    writer = csv_writer(sys.stdout)
    writer.writerow(EXPORT_FIELDS)
    for event in events:
        row = event.as_dict()
        # A cell that could start a formula in a spreadsheet is written as text.
        writer.writerow([safe_cell(row[field]) for field in EXPORT_FIELDS])
