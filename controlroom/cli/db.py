"""`controlroom db`: upgrade, current, set-password, copy between training and test databases."""

from __future__ import annotations

import getpass

from controlroom.cli import common
from controlroom.cli.common import (
    CliError,
    _ensure_sqlite_parent,
    _open_database,
    _schema_state,
    _settings,
    _terminal,
)


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
        database = Database(common._connect_url(settings.database_url))
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
            created_by=common._os_user(),
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
            summary = copy_records(source.uow, target.uow, common._os_user(), terminal)
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
