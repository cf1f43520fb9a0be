"""The `controlroom` command: the composition root.

It loads settings once, builds the one engine and unit-of-work factory, checks the
schema and the operator, and hands them to the app or to a service. Every sub-command
that touches records is audited as the OS user.

    controlroom                         run the app on the configured database
    controlroom demo [--seed-only]      the synthetic training force
    controlroom db upgrade | current    migrations
    controlroom db set-password         keep the PostgreSQL password in the keyring
    controlroom staff add|list|lock|unlock|set-pin
    controlroom search person|intel QUERY [--json] [--limit N]
"""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import sys
from datetime import date
from pathlib import Path

from controlroom import __version__

DEMO_SUPERVISOR = "demo.supervisor"
SEARCH_LIMIT_DEFAULT = 20
SEARCH_LIMIT_MAX = 500


class CliError(Exception):
    """Stop with this message on stderr and exit status 2."""


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database-url", help="database URL (default: the embedded SQLite file)")
    common.add_argument("--config", type=Path, help="TOML settings file")

    parser = argparse.ArgumentParser(
        prog="controlroom",
        parents=[common],
        description="Control Room: keyboard-driven incident, search and triage system.",
    )
    parser.add_argument("--version", action="version", version=f"controlroom {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", parents=[common], help="open the app on a synthetic training database"
    )
    demo.add_argument("--seed-only", action="store_true", help="seed the demo database and exit")
    demo.add_argument("--size", choices=("small", "large"), default="small")
    demo.add_argument("--reset", action="store_true", help="delete and re-seed the demo database")

    db = commands.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", metavar="ACTION", required=True
    )
    upgrade = db.add_parser(
        "upgrade", parents=[common], help="migrate the database to this version"
    )
    upgrade.add_argument(
        "--environment",
        choices=("production", "training", "test"),
        default="production",
        help="recorded on a new database only",
    )
    db.add_parser("current", parents=[common], help="show the database's schema revision")
    db.add_parser(
        "set-password",
        parents=[common],
        help="store the PostgreSQL password in the keyring (prompted, never an argument)",
    )

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", metavar="ACTION", required=True
    )
    add = staff.add_parser("add", parents=[common], help="enrol an OS user")
    add.add_argument("username")
    add.add_argument("--role", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--collar")
    add.add_argument("--station")
    staff.add_parser("list", parents=[common], help="list staff accounts")
    for action in ("lock", "unlock"):
        sub = staff.add_parser(action, parents=[common], help=f"{action} an account")
        sub.add_argument("username")
    pin = staff.add_parser(
        "set-pin", parents=[common], help="set the PIN that unlocks an idle session (prompted)"
    )
    pin.add_argument(
        "username",
        nargs="?",
        help="an administrator may set another account's PIN; default: your own",
    )

    search = commands.add_parser(
        "search", help="search people or intelligence (audited)"
    ).add_subparsers(dest="search_command", metavar="WHAT", required=True)
    person = search.add_parser(
        "person", parents=[common], help="people by name, date of birth, postcode or address"
    )
    person.add_argument("query", help='e.g. "muhammad smyth 02/03/1984", "smith LS6"')
    intel = search.add_parser(
        "intel", parents=[common], help="intelligence reports by text or by subject"
    )
    intel.add_argument("query", nargs="?", help="text the report contains")
    intel.add_argument("--person", metavar="ID", help="reports with this person as a subject")
    for sub in (person, intel):
        sub.add_argument(
            "--json",
            action="store_true",
            help="a JSON list for other systems (same order as the screen)",
        )
        sub.add_argument(
            "--justification",
            metavar="TEXT",
            help="why: --json from a production database is an export and needs it",
        )
        sub.add_argument(
            "--include-protected",
            action="store_true",
            help="with --json on production: keep restricted persons and"
            " sexual-offence complainants (an explicit authorisation, recorded)",
        )
        sub.add_argument(
            "--limit",
            default=str(SEARCH_LIMIT_DEFAULT),
            metavar="N",
            help=f"at most N results, 1-{SEARCH_LIMIT_MAX} (default {SEARCH_LIMIT_DEFAULT})",
        )
    _audit_parsers(commands, common)
    _export_parsers(commands, common)
    copy = db.add_parser(
        "copy",
        help="copy persons, locations and incidents between databases"
        " (never from production into training or test)",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL")
    copy.add_argument("--to", dest="target", required=True, metavar="URL")
    copy.set_defaults(database_url=None, config=None)
    return parser


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
    import csv
    import io

    from controlroom.domain.open_data import COLUMNS, parse_month
    from controlroom.services.open_data import crime_id_salt, export_month
    from controlroom.services.secrets import KeyringUnavailable

    try:
        parse_month(args.month)
    except ValueError as exc:
        raise CliError(f"--month: {exc}") from None
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        actor = _operator_actor(database).actor(_terminal())
        try:
            salt = crime_id_salt()
        except KeyringUnavailable as exc:
            raise CliError(str(exc)) from None
        exported = export_month(
            database.uow(), actor, args.month, salt=salt, justification=args.justification
        )
    finally:
        database.dispose()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in exported.rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet (a street
        # name is typed by somebody); coordinates are numbers and keep their sign.
        writer.writerow(
            [
                c if i in (4, 5) or c[:1] not in "=+-@" else f"'{c}"
                for i, c in enumerate(row.cells())
            ]
        )
    if args.output is not None:
        args.output.write_text(buffer.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(buffer.getvalue())
    print(
        f"{len(exported.rows)} row(s) for {exported.month}, {exported.not_exportable}"
        f" incident(s) not exportable ({exported.environment.value} database)",
        file=sys.stderr,
    )
    return 0


def _audit_parsers(commands, common) -> None:
    audit = commands.add_parser(
        "audit", help="the audit trail: verify the chain, export"
    ).add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit.add_parser(
        "verify", parents=[common], help="check the hash chain; exit 1 at the first broken link"
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


def _settings(args):
    from controlroom.config import ConfigError, load_settings

    try:
        return load_settings(config_path=args.config, database_url=args.database_url)
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from None


def _fix_command(args, *words: str) -> str:
    command = ["controlroom", *words]
    if args.database_url:
        from controlroom.config import mask_url

        command += ["--database-url", mask_url(args.database_url)]
    # Quoted for the shell: a path with a space must still paste as one argument.
    return shlex.join(command)


def _connect_url(url: str) -> str:
    """The URL the engine connects with: a PostgreSQL URL gets its password from the
    keyring (controlroom.services.secrets). Only the engine sees the result; messages
    show `mask_url` of it. SQLite URLs pass untouched, without loading anything."""
    if not url.startswith("postgres"):
        return url
    from controlroom.services.secrets import KeyringUnavailable, SecretError, connection_url

    try:
        return connection_url(url)
    except (KeyringUnavailable, SecretError) as exc:
        raise CliError(str(exc)) from None


def _ensure_sqlite_parent(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        from controlroom.config import mask_url

        raise CliError(f"not a database URL: {mask_url(url)}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)


def _schema_state(database, schema_state):
    try:
        return schema_state(database.engine)
    except Exception as exc:  # connection refused, bad credentials, unreadable file
        from controlroom.config import mask_url

        database.dispose()
        raise CliError(
            f"cannot open database {mask_url(database.url)}: {exc.__class__.__name__}: {exc}"
        ) from None


def _open_database(url: str, args, *, create_sqlite: bool, environment=None, any_backend=False):
    """The process's Database, opened now and checked to be at this program's revision.

    A new SQLite file is created and migrated when `create_sqlite`; the demo's own
    database (`any_backend`) is created on PostgreSQL too, as `environment`.
    """
    from controlroom.data.opening import DatabaseNotReady, open_database
    from controlroom.domain.environment import Environment

    try:
        return open_database(
            _connect_url(url),
            create=create_sqlite,
            environment=environment or Environment.PRODUCTION,
            any_backend=any_backend,
            upgrade_command=_fix_command(args, "db", "upgrade"),
            terminal=_terminal(),
        )
    except DatabaseNotReady as exc:
        raise CliError(str(exc)) from None


def _deferred_database(url: str, args, *, environment=None, any_backend=False):
    """The same checks, made by the app's sign-in worker after the first frame is drawn."""
    from controlroom.data.opening import DeferredDatabase
    from controlroom.domain.environment import Environment

    return DeferredDatabase(
        _connect_url(url),
        create=True,
        environment=environment or Environment.PRODUCTION,
        # Built when needed: masking the URL loads SQLAlchemy, which waits for the worker.
        any_backend=any_backend,
        upgrade_command=lambda: _fix_command(args, "db", "upgrade"),
        terminal=_terminal(),
    )


def _terminal() -> str:
    from controlroom.domain.identity import terminal_from_environment

    return terminal_from_environment(os.environ)


def _os_user() -> str:
    return getpass.getuser()


def _operator_actor(database):
    from controlroom.services import staff
    from controlroom.services.staff import AccessRefused

    try:
        member = staff.sign_in(database.uow(), _os_user(), _terminal())
    except AccessRefused as exc:
        raise CliError(f"access refused: {exc}") from None
    return member


def _build_app(settings, database, username: str):
    from controlroom.app import make_app

    return make_app(
        settings, database.uow, username, terminal=_terminal(), term=os.environ.get("TERM")
    )


def _run_app(settings, database, username: str) -> int:
    app = _build_app(settings, database, username)
    try:
        app.run()
    finally:
        if app.operator is not None:
            from controlroom.services import staff

            # A dropped connection (SIGHUP) ends the session too; record it either way.
            staff.sign_out(database.uow(), app.operator, app.terminal)
        database.dispose()
    if app.refusal:
        raise CliError(app.refusal)
    return app.return_code or 0


def cmd_run(args) -> int:
    settings = _settings(args)
    return _run_app(settings, _deferred_database(settings.database_url, args), _os_user())


def _existing_sqlite_file(url: str) -> bool:
    """True when `url` names an SQLite file that exists (a cheap test, no SQLAlchemy).

    Only decides whether the demo may skip the seeding check before the first frame;
    a wrong "False" merely takes the slower, eager path.
    """
    scheme, _, path = url.partition(":///")
    return scheme.startswith("sqlite") and bool(path) and Path(path).is_file()


def _prepare_demo(args):
    """The demo database, created and seeded on first use, and its supervisor's username.

    Returns (settings, database, username), or None after `--seed-only`. A demo file that
    already exists opens in the app's sign-in worker, so the first frame comes at once.
    """
    from controlroom.config import mask_url
    from controlroom.domain.environment import Environment

    settings = _settings(args)
    url = args.database_url or settings.demo_database_url
    if args.reset:
        _reset_demo(url)
    if args.seed_only or not _existing_sqlite_file(url):
        from controlroom.services.database import profile

        database = _open_database(
            url, args, create_sqlite=True, environment=Environment.TRAINING, any_backend=True
        )
        try:
            # The profile says whether it was ever seeded, without importing the
            # generator (and Faker) on every start.
            if profile(database.uow()).seed is None:
                from controlroom.services import synthetic

                try:
                    summary = _seed_with_progress(database, args.size)
                except synthetic.SeedRefused as exc:
                    raise CliError(f"demo: {exc}") from None
                _print_seed_summary(summary)
            elif args.seed_only:
                _console().print(
                    "Demo database already seeded (use --reset to start again).",
                    markup=False,
                    highlight=False,
                )
        finally:
            database.dispose()
        if args.seed_only:
            _console().print(f"Demo database ready: {mask_url(url)}", markup=False, highlight=False)
            return None
    database = _deferred_database(url, args, environment=Environment.TRAINING, any_backend=True)
    return settings.with_database(url), database, DEMO_SUPERVISOR


def demo_app(argv: list[str]):
    """The app exactly as `controlroom demo ARGV` builds it, not yet running.

    benchmarks/startup.py times this path to the first frame.
    """
    prepared = _prepare_demo(_parser().parse_args(["demo", *argv]))
    if prepared is None:
        raise CliError("demo_app needs an app, not --seed-only")
    return _build_app(*prepared)


def cmd_demo(args) -> int:
    prepared = _prepare_demo(args)
    if prepared is None:
        return 0
    return _run_app(*prepared)


def _reset_demo(url: str) -> None:
    """Delete a demo SQLite file; refuse to wipe anything that is not a training database."""
    from sqlalchemy.engine import make_url

    from controlroom.data.schema import SchemaStatus, schema_state
    from controlroom.data.uow import Database
    from controlroom.services.database import profile

    parsed = make_url(url)
    database = Database(_connect_url(url))
    try:
        if schema_state(database.engine).status is SchemaStatus.CURRENT:
            if profile(database.uow()).environment.value != "training":
                raise CliError("--reset only wipes a training database; this one is not")
        if parsed.get_backend_name() == "sqlite":
            database.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        else:
            from controlroom.data.models import Base

            Base.metadata.drop_all(database.engine)
            from controlroom.data.schema import drop_version_table

            drop_version_table(database.engine)
    finally:
        database.dispose()


def cmd_db(args) -> int:
    if args.db_command == "copy":
        return cmd_db_copy(args)
    if args.db_command == "set-password":
        return cmd_db_set_password(args)
    from controlroom.config import mask_url
    from controlroom.data.schema import SchemaStatus, schema_state, upgrade
    from controlroom.data.uow import Database
    from controlroom.domain.environment import Environment

    settings = _settings(args)
    _ensure_sqlite_parent(settings.database_url)
    try:
        database = Database(_connect_url(settings.database_url))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        state = _schema_state(database, schema_state)
        if args.db_command == "current":
            print(
                f"{mask_url(settings.database_url)}: {state.status.value}"
                + (f" at revision {state.revision}" if state.revision else "")
            )
            return 0 if state.status is SchemaStatus.CURRENT else 1
        if state.status is SchemaStatus.UNKNOWN:
            raise CliError(
                f"refusing to upgrade: schema revision {state.revision!r} is unknown "
                "to this program"
            )
        before = state.revision
        state = upgrade(
            database.engine,
            environment=Environment(args.environment),
            created_by=_os_user(),
            terminal=_terminal(),
        )
        print(f"{mask_url(settings.database_url)}: {before or 'empty'} -> {state.revision}")
        return 0
    finally:
        database.dispose()


def cmd_db_set_password(args) -> int:
    """Prompt for the PostgreSQL password (twice, not echoed) and keep it in the keyring."""
    from controlroom.config import mask_url
    from controlroom.services.secrets import (
        SERVICE_NAME,
        KeyringUnavailable,
        SecretError,
        check_storable,
        store_password,
    )

    url = _settings(args).database_url
    try:
        check_storable(url)  # before the prompt: no keyring, no point typing it
    except (KeyringUnavailable, SecretError) as exc:
        raise CliError(str(exc)) from None
    shown = mask_url(url)
    first = getpass.getpass(f"PostgreSQL password for {shown}: ")
    again = getpass.getpass("The same password again: ")
    if first != again:
        raise CliError("the two passwords differ; nothing stored")
    try:
        key = store_password(url, first)
    except (KeyringUnavailable, SecretError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"stored the password for {shown} in the keyring "
        f"(service {SERVICE_NAME!r}, username {key!r})"
    )
    return 0


def cmd_staff(args) -> int:
    from controlroom.domain.roles import parse_role
    from controlroom.services import staff
    from controlroom.services.staff import AccessRefused, StaffError

    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        member = _operator_actor(database)
        actor = member.actor(_terminal())
        if args.staff_command == "add":
            try:
                role = parse_role(args.role)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            added = staff.add_staff(
                database.uow(),
                actor,
                username=args.username,
                role=role,
                display_name=args.name,
                collar_number=args.collar,
                station=args.station,
            )
            print(f"enrolled {added.username} as {added.role.value}")
        elif args.staff_command == "list":
            _print_staff(staff.list_staff(database.uow(), actor))
        elif args.staff_command == "set-pin":
            _set_pin(database, actor, args.username or actor.username)
        else:
            changed = staff.set_locked(
                database.uow(), actor, args.username, args.staff_command == "lock"
            )
            print(f"{changed.username} is now {'locked' if changed.locked else 'unlocked'}")
        return 0
    except (AccessRefused, StaffError) as exc:
        raise CliError(str(exc)) from None
    finally:
        database.dispose()


def _set_pin(database, actor, username: str) -> None:
    """Prompt for the PIN twice (not echoed, never an argument) and store its hash."""
    from controlroom.services.session_lock import PinError, check_pin_rules, set_pin

    first = getpass.getpass(f"New PIN for {username} (4 to 12 digits): ")
    again = getpass.getpass("The same PIN again: ")
    if first != again:
        raise CliError("the two PINs differ; nothing changed")
    try:
        check_pin_rules(first)
        set_pin(database.uow(), actor, username, first)
    except PinError as exc:
        raise CliError(f"set-pin: {exc}") from None
    print(f"PIN set for {username}; it unlocks an idle session")


def _whole_number(text: str, name: str, *, maximum: int | None = None) -> int:
    """`text` as a whole number from 1 (to `maximum`), or a CliError naming `name`."""
    value = (text or "").strip()
    span = f"from 1 to {maximum}" if maximum is not None else "from 1"
    if (
        not value.isascii()
        or not value.isdigit()
        or int(value) < 1
        or (maximum is not None and int(value) > maximum)
    ):
        raise CliError(f"{name} must be a whole number {span}, not {text!r}")
    return int(value)


def cmd_search(args) -> int:
    """Search as the OS user; the service audits each search with its query and results."""
    limit = _whole_number(args.limit, "--limit", maximum=SEARCH_LIMIT_MAX)
    person_id = None
    if args.search_command == "intel":
        if args.person is not None:
            # Ids are 32-bit integers on both backends; a larger one would fail in the driver.
            person_id = _whole_number(args.person, "--person", maximum=2**31 - 1)
        if person_id is None and not (args.query or "").strip():
            raise CliError("search intel needs QUERY text or --person ID")
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        actor = _operator_actor(database).actor(_terminal())
        policy = _record_export_policy(database, actor, args) if args.json else None
        if args.search_command == "person":
            from datetime import UTC, datetime

            from controlroom.domain.incidents import REFERENCE_ZONE
            from controlroom.services.person_search import search_persons

            today = datetime.now(UTC).astimezone(REFERENCE_ZONE).date()
            hits = search_persons(database.uow(), actor, args.query, today=today, limit=limit)
            if policy is not None:  # --json
                rows = [
                    _person_json(hit) for hit in hits if not policy.withholds_person(hit.person_id)
                ]
                _record_export(database, actor, policy, args, len(rows), len(hits) - len(rows))
                _print_json(rows)
            else:
                _print_person_hits(hits)
        else:
            from controlroom.services.intelligence import IntelligenceInputError, search_reports

            try:
                reports = search_reports(
                    database.uow(), actor, text=args.query or None, person_id=person_id, limit=limit
                )
            except IntelligenceInputError as exc:
                raise CliError(f"search intel: {exc.message}") from None
            if policy is not None:  # --json
                rows = [_intel_json(report) for report in reports]
                withheld = 0
                for row in rows:
                    for subject in row["subjects"]:
                        if policy.withholds_person(subject["person_id"]):
                            subject.update(person_id=None, label="WITHHELD")
                            withheld += 1
                _record_export(database, actor, policy, args, len(rows), withheld)
                _print_json(rows)
            else:
                _print_intel(reports)
        return 0
    finally:
        database.dispose()


def _record_export_policy(database, actor, args):
    """A JSON search result leaves the system: on production it needs a role and a
    justification, and leaves out protected persons unless authorised (see README)."""
    from controlroom.services.audit_trail import AuditTrailRefused, record_export_policy

    try:
        return record_export_policy(
            database.uow(),
            actor,
            _export_what(args),
            justification=args.justification,
            include_protected=args.include_protected,
        )
    except AuditTrailRefused as exc:
        raise CliError(str(exc)) from None


def _export_what(args) -> str:
    return f"search {args.search_command} --json limit={args.limit}"


def _record_export(database, actor, policy, args, shown: int, withheld: int) -> None:
    from controlroom.services.audit import AuditUnavailable
    from controlroom.services.audit_trail import record_export

    try:
        record_export(
            database.uow(), actor, policy, _export_what(args), shown=shown, withheld=withheld
        )
    except AuditUnavailable as exc:
        raise CliError(str(exc)) from None


def _print_json(rows: list[dict]) -> None:
    import json

    # ASCII only: a control character or bidi override in a record arrives escaped
    # ("\u202e"), never raw on the terminal or in the receiving system's log.
    sys.stdout.write(json.dumps(rows, ensure_ascii=True, indent=2) + "\n")


def _person_json(hit) -> dict:
    return {
        "person_id": hit.person_id,
        "forename": hit.forename,
        "surname": hit.surname,
        "date_of_birth": hit.date_of_birth.isoformat() if hit.date_of_birth else None,
        "address": hit.address,
        "markers": [m.label for m in hit.markers],
        "marker_codes": [m.code for m in hit.markers],
        "match": hit.match,
        "score": hit.score,
        "incident_count": hit.incident_count,
        "intelligence_count": hit.intelligence_count,
        "restricted": hit.restricted,
        "ask": hit.ask,
    }


def _intel_json(report) -> dict:
    return {
        "id": report.id,
        "reference": report.reference,
        "submitted_at": report.submitted_at.isoformat(),
        "grading_code": report.grading_code,
        "handling_code": report.handling_code,
        "restricted": report.restricted,
        "superseded": report.superseded,
        "preview": report.preview,
        "ask": report.ask,
        "conditions": report.conditions,
        "subjects": [
            {"person_id": s.person_id, "location_id": s.location_id, "label": s.label}
            for s in report.subjects
        ],
    }


def _table(*columns: tuple[str, bool]):
    """A results table; codes, dates and counts never wrap (`True`), names and text do."""
    from rich.table import Table

    table = Table()
    for heading, whole in columns:
        table.add_column(heading, no_wrap=whole, overflow="ellipsis" if whole else "fold")
    return table


def _print_person_hits(hits) -> None:
    from rich.text import Text

    from controlroom.domain.safe_text import printable

    if not hits:
        _console().print("No one found.", markup=False, highlight=False)
        return
    table = _table(
        ("id", True),
        ("name", False),
        ("born", True),
        ("markers", False),
        ("address", False),
        ("incidents", True),
        ("intel", True),
        ("match", True),
    )
    for hit in hits:
        born = hit.date_of_birth.strftime("%d/%m/%Y") if hit.date_of_birth else ""
        markers = ", ".join(m.label for m in hit.markers)
        table.add_row(
            *(
                Text(printable(str(v)))
                for v in (
                    hit.person_id,
                    hit.name,
                    born,
                    markers,
                    hit.address or "",
                    "" if hit.restricted else hit.incident_count,
                    "" if hit.restricted else hit.intelligence_count,
                    hit.match,
                )
            )
        )
    _console().print(table)


def _print_intel(reports) -> None:
    from rich.text import Text

    from controlroom.domain.incidents import REFERENCE_ZONE
    from controlroom.domain.safe_text import printable
    from controlroom.services.person_search import RESTRICTED_LABEL, UNKNOWN_OWNER

    if not reports:
        _console().print("No reports found.", markup=False, highlight=False)
        return
    table = _table(
        ("reference", True),
        ("submitted", True),
        ("grading", True),
        ("subjects", False),
        ("report", False),
    )
    for report in reports:
        when = report.submitted_at.astimezone(REFERENCE_ZONE).strftime("%d/%m/%Y %H:%M")
        if report.restricted:
            about = RESTRICTED_LABEL.format(owner=report.ask or UNKNOWN_OWNER)
        else:
            about = report.about() or ""
        subjects = "; ".join(s.label for s in report.subjects)
        table.add_row(
            *(
                Text(printable(v))
                for v in (report.reference, when, report.grading_code, subjects, about)
            )
        )
    _console().print(table)


def _seed_with_progress(database, size: str):
    """Seed with a rich.progress bar: one task per stage, advanced by the service's callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from controlroom.services import synthetic

    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console(),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summary = synthetic.seed(database.uow, size=size, progress=progress)
    # The generator writes incidents in bulk, outside the services that route them: put
    # the open ones in their triage queues (entered when they were opened).
    from datetime import UTC, datetime

    from controlroom.services import queues

    queues.route_unrouted(database.uow, datetime.now(UTC))
    return summary


def _print_seed_summary(summary) -> None:
    from rich.table import Table

    table = Table("synthetic force", "rows", title=f"Seeded ({summary.size}, seed {summary.seed})")
    for name, count in summary.counts:
        table.add_row(name, f"{count:,}")
    table.add_row("seconds", f"{summary.seconds:.1f}")
    _console().print(table)


def _console():
    from rich.console import Console

    return Console(stderr=False)


def _print_staff(members) -> None:
    from rich.table import Table
    from rich.text import Text

    from controlroom.domain.safe_text import printable

    table = Table("username", "name", "role", "collar", "station", "status")
    for m in members:
        status = "locked" if m.locked else ("inactive" if not m.active else "active")
        table.add_row(
            *(
                Text(printable(v))
                for v in (
                    m.username,
                    m.display_name,
                    m.role.value,
                    m.collar_number,
                    m.station,
                    status,
                )
            )
        )
    _console().print(table)


def cmd_audit(args) -> int:
    """`audit verify` and `audit export`, as the OS user (see services.audit_trail)."""
    from controlroom.services.audit import AuditUnavailable
    from controlroom.services.audit_trail import AuditTrailRefused, export_events, verify_chain

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
        actor = _operator_actor(database).actor(_terminal())
        if args.audit_command == "verify":
            result = verify_chain(database.uow(), actor)
            broken = result.broken
            if broken is None:
                head = result.head.last_hash if result.head is not None else "none"
                print(f"audit trail intact: {result.events} events, head {head}")
                return 0
            where = f"event {broken.seq}" + (
                f" (row id {broken.event_id})" if broken.event_id is not None else ""
            )
            print(f"audit trail BROKEN at {where}: {broken.problem}")
            return 1
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


def _write_export(events, fmt: str) -> None:
    import csv
    import json

    from controlroom.services.audit_trail import EXPORT_FIELDS

    if fmt == "jsonl":
        for event in events:
            # ASCII only: control characters in a record arrive escaped, never raw.
            sys.stdout.write(json.dumps(event.as_dict(), ensure_ascii=True) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        row = event.as_dict()
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(
            {k: (f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()}
        )


def cmd_db_copy(args) -> int:
    """`db copy --from URL --to URL`: refused from production into training or test."""
    from controlroom.config import mask_url
    from controlroom.services.audit import AuditUnavailable
    from controlroom.services.environments import CopyRefused, copy_records

    for url in (args.source, args.target):
        _ensure_sqlite_parent(url)
    source = _open_database(args.source, args, create_sqlite=False)
    try:
        target = _open_database(args.target, args, create_sqlite=False)
    except CliError:
        source.dispose()
        raise
    try:
        terminal = _terminal()
        try:
            summary = copy_records(source.uow, target.uow, _os_user(), terminal)
        except (CopyRefused, AuditUnavailable) as exc:
            raise CliError(str(exc)) from None
        print(
            f"copied {mask_url(args.source)} -> {mask_url(args.target)}: "
            + ", ".join(f"{n} {what}" for what, n in summary.counts)
        )
        return 0
    finally:
        source.dispose()
        target.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        None: cmd_run,
        "demo": cmd_demo,
        "db": cmd_db,
        "staff": cmd_staff,
        "search": cmd_search,
        "audit": cmd_audit,
        "export": cmd_export,
    }
    try:
        return handlers[args.command](args)
    except CliError as exc:
        print(f"controlroom: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:  # the permission table said no; the service audited it
        print(f"controlroom: not allowed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # Fail closed, said plainly: the audit trail refused the event, so nothing was
        # read or changed (imported here: the module is loaded whenever this can happen).
        from controlroom.services.audit import AuditUnavailable

        if not isinstance(exc, AuditUnavailable):
            raise
        print(f"controlroom: {exc}", file=sys.stderr)
        return 2
