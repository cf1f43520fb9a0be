"""`controlroom db`: upgrade (a production database backed up first), current,
set-password, backup, restore, rehearse, copy between training and test databases."""

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
from controlroom.domain.environment import Environment


def cmd_db(args) -> int:
    if args.db_command == "copy":
        return cmd_db_copy(args)
    if args.db_command == "set-password":
        return cmd_db_set_password(args)
    if args.db_command == "backup":
        return cmd_db_backup(args)
    if args.db_command == "restore":
        return cmd_db_restore(args)
    if args.db_command == "rehearse":
        return cmd_db_rehearse(args)
    from controlroom.config import mask_url
    from controlroom.data.schema import SchemaStatus, schema_state, upgrade
    from controlroom.data.uow import Database

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
        if state.status is SchemaStatus.BEHIND:
            _backup_before_upgrade(args, settings, database, state.revision)
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


def _existing_database(args, url: str):
    """A `Database` on `url` as it is (an older schema too), or a CliError: the
    maintenance commands work on databases `_open_database` would refuse as behind."""
    from controlroom.config import sqlite_path
    from controlroom.data.schema import schema_state
    from controlroom.data.uow import Database

    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise CliError(f"there is no database at {path}")
    try:
        database = Database(common._connect_url(url))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _schema_state(database, schema_state)  # reachable, or a CliError
    return database


def _backup_before_upgrade(args, settings, database, revision: str | None) -> None:
    """A production database is backed up (and the backup checked) before an upgrade."""
    from datetime import UTC, datetime
    from pathlib import Path

    from controlroom.services.backups import BackupFailed, back_up
    from controlroom.services.rehearsal import environment_of

    if environment_of(database) is not Environment.PRODUCTION:
        return
    if args.backup_to:
        path = Path(args.backup_to)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        suffix = ".sqlite" if database.dialect == "sqlite" else ".dump"
        path = settings.data_dir / "backups" / f"before-upgrade-{revision}-{stamp}{suffix}"
    try:
        result = back_up(database, common._os_user(), _terminal(), path)
    except (BackupFailed, PermissionError) as exc:
        raise CliError(f"not upgraded: the backup before the upgrade failed: {exc}") from None
    print(f"backed up to {result.path} ({result.size} bytes; restored and checked)")


def cmd_db_backup(args) -> int:
    """`db backup --to PATH`: the backup, restored into a scratch database and checked."""
    from pathlib import Path

    from controlroom.services.backups import BackupFailed, back_up

    settings = _settings(args)
    database = _existing_database(args, settings.database_url)
    try:
        try:
            result = back_up(database, common._os_user(), _terminal(), Path(args.backup_path))
        except (BackupFailed, PermissionError) as exc:
            raise CliError(str(exc)) from None
    finally:
        database.dispose()
    print(
        f"backed up to {result.path}: {result.size} bytes in {result.seconds:.1f} s;"
        f" restored to a scratch database, audit trail intact ({result.events} events)"
    )
    return 0


def cmd_db_restore(args) -> int:
    """`db restore --from PATH`: into the new or empty database of --database-url."""
    from pathlib import Path

    from controlroom.config import mask_url
    from controlroom.services.backups import BackupFailed, CopyFailed, restore

    url = _settings(args).database_url
    _ensure_sqlite_parent(url)
    try:
        result = restore(
            Path(args.backup_path), common._connect_url(url), common._os_user(), _terminal()
        )
    except (BackupFailed, CopyFailed, PermissionError) as exc:
        raise CliError(f"not restored: {exc}") from None
    print(
        f"restored {args.backup_path} into {mask_url(url)} in {result.seconds:.1f} s;"
        f" audit trail intact ({result.events} events)"
    )
    return 0


def cmd_db_rehearse(args) -> int:
    """`db rehearse`: the pending upgrade on a copy, checked, timed."""
    from controlroom.services.rehearsal import RehearsalFailed, RehearsalRefused, rehearse

    settings = _settings(args)
    database = _existing_database(args, settings.database_url)
    console = common._console()
    try:
        try:
            with console.status("rehearsing") as status:
                result = rehearse(
                    database,
                    common._os_user(),
                    _terminal(),
                    production_shaped=args.production_shaped,
                    progress=lambda step: status.update(step),
                )
        except (RehearsalRefused, RehearsalFailed, PermissionError) as exc:
            raise CliError(str(exc)) from None
    finally:
        database.dispose()
    table = common._table(("table", True), ("rows before", True), ("rows after", True))
    for count in result.counts:
        table.add_row(
            count.table,
            str(count.before),
            str(count.after) + ("  LOST ROWS" if count.lost_rows else ""),
        )
    console.print(table)
    what = "a production-shaped synthetic copy" if result.production_shaped else "a copy"
    if result.from_revision == result.to_state.revision:
        what += " (no migration pending: the reference tables only)"
    print(
        f"upgrade {result.from_revision or 'empty'} -> {result.to_state.revision} on {what}:"
        f" {result.upgrade_seconds:.1f} s (making the copy took {result.copy_seconds:.1f} s)"
    )
    print(
        f"db current on the copy: {result.to_state.status.value};"
        f" audit verify on the copy: "
        + (f"intact ({result.audit_events} events)" if result.audit_intact else "BROKEN")
    )
    if not result.passed:
        print("REHEARSAL FAILED: " + "; ".join(result.problems))
        return 1
    print("rehearsal passed: the database itself was not touched")
    return 0
