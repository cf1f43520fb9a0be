"""The command line: every command, its options and its help, in one parser."""

from __future__ import annotations

import argparse
from pathlib import Path

from controlroom import __version__
from controlroom.cli.audit import _audit_parsers
from controlroom.cli.export import _export_parsers
from controlroom.cli.legacy import _import_parsers
from controlroom.cli.search import SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX


def _parser() -> argparse.ArgumentParser:
    # The global options, accepted before the command or after it. The subcommands' copy
    # leaves the value alone when not given (SUPPRESS): argparse would otherwise write
    # its default over one given before the command ("controlroom --database-url X
    # search person ..." searched the default database).
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--database-url", help="database URL (default: the embedded SQLite file)")
    top.add_argument("--config", type=Path, help="TOML settings file")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="database URL (default: the embedded SQLite file)",
    )
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML settings file")

    parser = argparse.ArgumentParser(
        prog="controlroom",
        parents=[top],
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
    upgrade.add_argument(
        "--backup-to",
        metavar="PATH",
        help="where the backup taken before upgrading a production database goes"
        " (default: <data dir>/backups/)",
    )
    db.add_parser("current", parents=[common], help="show the database's schema revision")
    backup = db.add_parser(
        "backup",
        parents=[common],
        help="back up the database to a file and check it restores (administrators)",
    )
    backup.add_argument("--to", dest="backup_path", required=True, metavar="PATH")
    restore = db.add_parser(
        "restore",
        parents=[common],
        help="restore a backup into a new or empty database (administrators)",
    )
    restore.add_argument("--from", dest="backup_path", required=True, metavar="PATH")
    rehearse = db.add_parser(
        "rehearse",
        parents=[common],
        help="run the pending upgrade on a copy, check it and time it (administrators)",
    )
    rehearse.add_argument(
        "--production-shaped",
        action="store_true",
        help="production: rehearse on a synthetic force of its size at its revision"
        " (its records are never copied)",
    )
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
    set_role = staff.add_parser("set-role", parents=[common], help="change an account's role")
    set_role.add_argument("username")
    set_role.add_argument("--role", required=True)
    end = staff.add_parser(
        "deactivate", parents=[common], help="end an account's access for good (a leaver)"
    )
    end.add_argument("username")
    pin = staff.add_parser(
        "set-pin", parents=[common], help="set the PIN that unlocks an idle session (prompted)"
    )
    pin.add_argument(
        "username",
        nargs="?",
        help="an administrator may set another account's PIN; default: your own",
    )

    units = commands.add_parser(
        "units", help="units and dispatch: list, status, assign, history (audited)"
    ).add_subparsers(dest="units_command", metavar="ACTION", required=True)
    listing = units.add_parser("list", parents=[common], help="every unit, as on the board")
    listing.add_argument("--status", help="only this status code (AV, SC, …)")
    listing.add_argument("--station", help="only this station (its whole name)")
    listing.add_argument("--area", help="only this area")
    listing.add_argument("--type", help="only this unit type (IRV, ARV, …)")
    listing.add_argument("--json", action="store_true", help="JSON for scripts")
    status = units.add_parser(
        "status", parents=[common], help="set a unit's status: units status MP21 SC"
    )
    status.add_argument("callsign")
    status.add_argument("code", help="a status code of db/unit_status.csv (AV, ER, SC, …)")
    assign = units.add_parser(
        "assign", parents=[common], help="send units to an open incident: units assign MP21 0042"
    )
    assign.add_argument("callsigns", nargs="+", metavar="CALLSIGN", help="one or more (or A,B)")
    assign.add_argument("reference", help="the incident's reference, or its end")
    assign.add_argument(
        "--override", action="store_true", help="take a committed unit off its incident"
    )
    history = units.add_parser("history", parents=[common], help="a unit's status changes")
    history.add_argument("callsign")
    history.add_argument("--limit", type=int, default=100)
    history.add_argument("--json", action="store_true", help="JSON for scripts")
    simulate = units.add_parser(
        "simulate",
        parents=[common],
        help="synthetic force only: move units on their way towards their incidents",
    )
    simulate.add_argument("--every", type=float, default=5.0, help="seconds between moves")
    simulate.add_argument("--times", type=int, default=0, help="how many moves (0: until ^C)")

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
    _import_parsers(commands, common)
    copy = db.add_parser(
        "copy",
        help="copy persons, locations and incidents between databases"
        " (never from production into training or test)",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL")
    copy.add_argument("--to", dest="target", required=True, metavar="URL")
    copy.set_defaults(database_url=None, config=None)
    return parser
