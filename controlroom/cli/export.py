"""`controlroom export open-data`: the month's street-level crime CSV, anonymised."""

from __future__ import annotations

import sys
from pathlib import Path

from controlroom.cli.common import CliError, _open_database, _operator_actor, _settings, _terminal


def _export_parsers(commands, common) -> None:
    export = commands.add_parser("export", help="anonymised exports (audited)").add_subparsers(
        dest="export_command", metavar="WHAT", required=True
    )
    open_data = export.add_parser(
        "open-data",
        parents=[common],
        help="one month's street-level crime CSV as data.police.uk publishes it",
    )
    open_data.add_argument("--month", required=True, metavar="YYYY-MM")
    open_data.add_argument(
        "--output", type=Path, metavar="FILE", help="write the CSV here (default: standard output)"
    )
    open_data.add_argument(
        "--justification", metavar="TEXT", help="why: an export from a production database needs it"
    )


def cmd_export(args) -> int:
    """`export open-data`: services.open_data, as the OS user; the CSV is written only
    after its audit event is committed."""
    import io

    from controlroom.domain.open_data import COLUMNS, parse_month
    from controlroom.domain.permissions import Action
    from controlroom.services import access
    from controlroom.services.open_data import AUDIT_ACTION, crime_id_salt, export_month
    from controlroom.services.secrets import KeyringUnavailable

    try:
        parse_month(args.month)
    except ValueError as exc:
        raise CliError(f"--month: {exc}") from None
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        actor = _operator_actor(database).actor(_terminal())
        # The permission first, audited, before anything else is asked (the keyring was).
        denial = access.check(
            database.uow(),
            actor,
            Action.EXPORT_ANONYMISED,
            "export",
            args.month,
            audit_action=AUDIT_ACTION,
        )
        if denial is not None:
            raise CliError(denial)
        try:
            salt = crime_id_salt()
        except KeyringUnavailable:
            # The keyring here holds the Crime IDs' salt, not a database password (an
            # SQLite database has none): say so, not the database password's advice.
            raise CliError(
                "export open-data keeps the salt of its Crime IDs in the OS keyring (the IDs "
                "stay the same month to month and cannot be traced back to incidents), and "
                "no keyring backend is available for this OS user. Set one up (a desktop "
                "Secret Service, or e.g. `pip install keyrings.alt` on a server; `python -m "
                "keyring diagnose` shows what keyring finds), then export again."
            ) from None
        exported = export_month(
            database.uow(), actor, args.month, salt=salt, justification=args.justification
        )
    finally:
        database.dispose()
    from controlroom.domain.spreadsheet import csv_writer, safe_cell

    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(COLUMNS)
    for row in exported.rows:
        # A cell that could start a formula (a street name is typed by somebody) is
        # written as text; coordinates are plain numbers and keep their sign.
        writer.writerow([safe_cell(c) for c in row.cells()])
    if args.output is not None:
        # newline="": the CR LF line ends are the writer's, written as they are.
        with args.output.open("w", encoding="utf-8", newline="") as output:
            output.write(buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())
    print(
        f"{len(exported.rows)} row(s) for {exported.month}, {exported.not_exportable}"
        f" incident(s) not exportable ({exported.environment.value} database)",
        file=sys.stderr,
    )
    return 0
