"""`controlroom units`: the resource board and dispatch for scripts, as a dispatcher
would use them: list units, set a status, send units to an incident, read a unit's
history, and (on a synthetic force only) move the units on their way.

Each command goes through the same services as the screens: the permission table first
(call handlers may list, dispatchers and supervisors change), every change audited
(`unit.status`, `unit.assign`), a refusal audited and said in words (exit status 2).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from controlroom.cli.common import (
    CliError,
    _console,
    _open_database,
    _operator_actor,
    _print_json,
    _settings,
    _table,
    _terminal,
)


def cmd_units(args) -> int:
    from controlroom.domain.resources import TransitionRefused
    from controlroom.services import resources

    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        member = _operator_actor(database)
        actor = member.actor(_terminal())
        now = datetime.now(UTC)
        command = args.units_command
        try:
            if command == "list":
                _list(database, actor, args)
            elif command == "status":
                changed = resources.set_status(
                    database.uow(),
                    actor,
                    args.callsign,
                    args.code.upper(),
                    now,
                    settings.grades,
                )
                print(_said(changed.said))
            elif command == "assign":
                callsigns = [c for part in args.callsigns for c in part.split(",") if c]
                changed = resources.assign(
                    database.uow(),
                    actor,
                    callsigns,
                    args.reference,
                    now,
                    override=args.override,
                )
                print(_said(changed.said))
            elif command == "history":
                _history(database, actor, args, settings)
            elif command == "simulate":
                _simulate(database, actor, args)
        except (
            TransitionRefused,
            resources.UnitNotFound,
            resources.IncidentNotOpen,
            resources.UnitUnavailable,
            resources.NotSynthetic,
        ) as exc:
            raise CliError(str(exc)) from None
        return 0
    finally:
        database.dispose()


def _said(words: str) -> str:
    from controlroom.domain.safe_text import printable

    return printable(words)


def _list(database, actor, args) -> None:
    from rich.text import Text

    from controlroom.domain.resources import BoardFilter
    from controlroom.domain.safe_text import printable
    from controlroom.services import resources

    board = resources.read_board(database.uow(), actor)
    wanted = BoardFilter(
        station=args.station,
        area=args.area,
        type_code=args.type.upper() if args.type else None,
        status_code=args.status.upper() if args.status else None,
    )
    rows = [r for r in board.units if wanted.admits(r.station, r.area, r.type_code, r.status_code)]
    if args.json:
        _print_json(
            [
                {
                    "callsign": r.callsign,
                    "type": r.type_code,
                    "status": r.status_code,
                    "since": r.status_since.isoformat(),
                    "incident": r.incident_reference,
                    "skills": list(r.skills),
                    "crew": r.crew,
                    "station": r.station,
                    "area": r.area,
                    "latitude": r.latitude,
                    "longitude": r.longitude,
                }
                for r in rows
            ]
        )
        return
    table = _table(
        ("unit", True),
        ("type", True),
        ("status", True),
        ("since (UTC)", True),
        ("incident", True),
        ("skills", False),
        ("station", False),
    )
    for r in rows:
        table.add_row(
            *(
                Text(printable(value))
                for value in (
                    r.callsign,
                    r.type_code,
                    r.status_code,
                    f"{r.status_since.astimezone(UTC):%Y-%m-%d %H:%M}",
                    r.incident_reference or "",
                    " ".join(r.skills),
                    r.station,
                )
            )
        )
    console = _console()
    console.print(table)
    console.print(f"{len(rows)} of {len(board.units)} units")


def _history(database, actor, args, settings) -> None:
    from rich.text import Text

    from controlroom.domain.safe_text import printable
    from controlroom.services import resources

    record = resources.unit_record(database.uow(), actor, args.callsign, limit=args.limit)
    if args.json:
        _print_json(
            [
                {
                    "kind": "status",
                    "at": c.changed_at.isoformat(),
                    "status": c.status_code,
                    "incident": c.reference,
                    "by": c.by,
                    "terminal": c.terminal,
                    "override": c.override,
                }
                for c in record.changes
            ]
            + [
                {
                    "kind": "assignment",
                    "at": a.assigned_at.isoformat(),
                    "incident": a.reference,
                    "by": a.by,
                    "override": a.override,
                    "arrived": a.arrived_at.isoformat() if a.arrived_at else None,
                    "cleared": a.cleared_at.isoformat() if a.cleared_at else None,
                }
                for a in record.assignments
            ]
        )
        return
    table = _table(
        ("when (UTC)", True),
        ("status", True),
        ("incident", True),
        ("by", False),
        ("terminal", False),
    )
    for c in record.changes:
        table.add_row(
            *(
                Text(printable(value))
                for value in (
                    f"{c.changed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                    c.status_code + (" (override)" if c.override else ""),
                    c.reference or "",
                    c.by or "",
                    c.terminal,
                )
            )
        )
    _console().print(table)


def _simulate(database, actor, args) -> None:
    """Move the synthetic force every `--every` seconds, `--times` times (0: until
    interrupted), saying who arrived."""
    from controlroom.services import resources

    done = 0
    while args.times == 0 or done < args.times:
        moved = resources.move_synthetic_force(database.uow(), actor, args.every)
        done += 1
        arrived = f"; at their incident: {', '.join(moved.arrived)}" if moved.arrived else ""
        print(f"{moved.moved} unit(s) moved{_said(arrived)}", flush=True)
        if args.times == 0 or done < args.times:
            time.sleep(args.every)
