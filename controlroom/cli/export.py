"""`controlroom export open-data`: the month's data.police.uk street and outcomes files,
anonymised; `controlroom export salt`: the force's Crime-ID salt between keyrings."""

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
        "--output",
        type=Path,
        metavar="FILE",
        help="write the street file here (default: standard output)",
    )
    open_data.add_argument(
        "--outcomes", type=Path, metavar="FILE", help="write the outcomes file here"
    )
    open_data.add_argument(
        "--directory",
        type=Path,
        metavar="DIR",
        help="write both files here, named as data.police.uk names them",
    )
    open_data.add_argument(
        "--justification", metavar="TEXT", help="why: an export from a production database needs it"
    )
    salt = export.add_parser(
        "salt",
        parents=[common],
        help="pass the force's Crime-ID salt between analysts' keyrings (audited)",
    )
    way = salt.add_mutually_exclusive_group(required=True)
    way.add_argument("--show", action="store_true", help="print this keyring's salt")
    way.add_argument(
        "--import",
        dest="import_salt",
        action="store_true",
        help="read the force's salt (typed or pasted, not echoed) into this keyring",
    )


NO_KEYRING = (
    "export open-data keeps the salt of its Crime IDs in the OS keyring (the IDs "
    "stay the same month to month and cannot be traced back to incidents), and "
    "no keyring backend is available for this OS user. Set one up (a desktop "
    "Secret Service, or e.g. `pip install keyrings.alt` on a server; `python -m "
    "keyring diagnose` shows what keyring finds), then export again."
)


def cmd_export(args) -> int:
    if args.export_command == "salt":
        return _cmd_salt(args)
    return _cmd_open_data(args)


def _cmd_salt(args) -> int:
    """`export salt --show | --import`: the force's Crime-ID salt from one analyst's
    keyring to another's, through the terminal only (never a file), audited."""
    import getpass

    from controlroom.services.access import PermissionDenied
    from controlroom.services.open_data import keyring_salt, share_salt, store_salt
    from controlroom.services.secrets import KeyringUnavailable

    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        actor = _operator_actor(database).actor(_terminal())
        try:
            if args.import_salt:
                if sys.stdin.isatty():
                    typed = getpass.getpass("The force's Crime-ID salt: ")
                else:
                    typed = sys.stdin.readline()
                salt = typed.strip().lower()
                share_salt(database.uow(), actor, salt, importing=True)
                store_salt(salt)
                print("the force's Crime-ID salt is now in this keyring", file=sys.stderr)
            else:
                salt = keyring_salt() or ""
                share_salt(database.uow(), actor, salt, importing=False)
                print(salt)
        except KeyringUnavailable:
            raise CliError(NO_KEYRING) from None
        except PermissionDenied as exc:
            raise CliError(str(exc)) from None
    finally:
        database.dispose()
    return 0


def _cmd_open_data(args) -> int:
    """`export open-data`: services.open_data, as the OS user; the files are written
    only after their audit event is committed."""
    from controlroom.domain.open_data import parse_month
    from controlroom.domain.permissions import Action
    from controlroom.services import access
    from controlroom.services.access import PermissionDenied
    from controlroom.services.open_data import (
        AUDIT_ACTION,
        SALT_MISSING,
        ReturnInvalid,
        crime_id_salt,
        export_month,
        force_salt_set,
        keyring_salt,
    )
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
            salt = keyring_salt()
            if salt is None:
                # The force's salt is shared: a new one is made only for the first export.
                if force_salt_set(database.uow()):
                    raise CliError(SALT_MISSING)
                salt = crime_id_salt()
        except KeyringUnavailable:
            # The keyring here holds the Crime IDs' salt, not a database password (an
            # SQLite database has none): say so, not the database password's advice.
            raise CliError(NO_KEYRING) from None
        try:
            exported = export_month(
                database.uow(), actor, args.month, salt=salt, justification=args.justification
            )
        except (PermissionDenied, ReturnInvalid) as exc:
            raise CliError(str(exc)) from None
    finally:
        database.dispose()
    # The files' bytes are the service's (CR LF line ends, formula-like cells led by
    # `'`, empty cells empty), written as they are.
    written = []
    targets = [(args.output, exported.street_file), (args.outcomes, exported.outcomes_file)]
    if args.directory is not None:
        args.directory.mkdir(parents=True, exist_ok=True)
        targets += [
            (args.directory / exported.street_name, exported.street_file),
            (args.directory / exported.outcomes_name, exported.outcomes_file),
        ]
    for path, content in targets:
        if path is not None:
            path.write_bytes(content)
            written.append(str(path))
    if args.output is None and args.directory is None:
        sys.stdout.write(exported.street_file.decode("utf-8"))
    if exported.rows and not exported.rows[0].reported_by:
        print(
            "warning: this database names no force, so 'Reported by' and 'Falls within' "
            "are empty (data.police.uk's files name the force)",
            file=sys.stderr,
        )
    same = {None: "", True: "; the same bytes as last made", False: "; changed since last made"}
    print(
        f"{len(exported.rows)} row(s) for {exported.month}, {exported.not_exportable}"
        f" incident(s) not exportable, {len(exported.outcome_rows)} outcome(s)"
        f"{same[exported.same_as_before]} ({exported.environment.value} database)"
        + (f"; written: {', '.join(written)}" if written else ""),
        file=sys.stderr,
    )
    return 0
