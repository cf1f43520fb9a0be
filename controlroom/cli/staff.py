"""`controlroom staff`: enrol, list, lock, unlock, change roles, end access and set PINs
(administrators; a PIN also for oneself)."""

from __future__ import annotations

import getpass

from controlroom.cli.common import (
    CliError,
    _console,
    _open_database,
    _operator_actor,
    _settings,
    _terminal,
)


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
        elif args.staff_command == "set-role":
            try:
                role = parse_role(args.role)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            changed = staff.set_role(database.uow(), actor, args.username, role)
            print(f"{changed.username} is now {changed.role.value}")
        elif args.staff_command == "deactivate":
            ended = staff.deactivate(database.uow(), actor, args.username)
            print(f"{ended.username} no longer has access (their records keep their name)")
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
    from controlroom.services import staff
    from controlroom.services.session_lock import PinError, check_pin_rules, set_pin

    # The account first: nobody is asked for a PIN for an account that does not exist.
    if username != actor.username and not staff.is_enrolled(database.uow(), actor, username):
        raise CliError(f"set-pin: {username!r} is not an enrolled, active account")
    try:
        first = getpass.getpass(f"New PIN for {username} (4 to 12 digits): ")
        again = getpass.getpass("The same PIN again: ")
    except EOFError:
        raise CliError("set-pin needs a terminal to ask for the PIN on; nothing changed") from None
    if first != again:
        raise CliError("the two PINs differ; nothing changed")
    try:
        check_pin_rules(first)
        set_pin(database.uow(), actor, username, first)
    except PinError as exc:
        raise CliError(f"set-pin: {exc}") from None
    print(f"PIN set for {username}; it unlocks an idle session")


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
