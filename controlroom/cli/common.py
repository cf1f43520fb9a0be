"""What every command shares: settings, opening the database, who the operator is, output."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path


class CliError(Exception):
    """Stop with this message on stderr and exit status 2."""


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
        from controlroom.config import mask_url, scrub_secrets

        database.dispose()
        raise CliError(
            f"cannot open database {mask_url(database.url)}: {exc.__class__.__name__}: "
            + scrub_secrets(str(exc), database.url)
        ) from None


def _open_database(
    url: str,
    args,
    *,
    create_sqlite: bool,
    environment=None,
    any_backend=False,
    upgrade_training=False,
):
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
            upgrade_training=upgrade_training,
        )
    except DatabaseNotReady as exc:
        raise CliError(str(exc) + _demo_hint(url, args)) from None


def _demo_hint(url: str, args) -> str:
    """When a command found no usable database at the default place and the demo's
    training database exists, where that is: after `controlroom demo`, a command run
    without --database-url otherwise looked at an empty default database."""
    from controlroom.config import sqlite_path

    if getattr(args, "database_url", None) or getattr(args, "command", None) == "demo":
        return ""
    try:
        demo_url = _settings(args).demo_database_url
    except CliError:
        return ""
    demo_path = sqlite_path(demo_url)
    if demo_url == url or demo_path is None or not demo_path.exists():
        return ""
    return (
        f"\nThe demo's training database is {demo_path}: add --database-url {demo_url} to use it."
    )


def _deferred_database(
    url: str, args, *, environment=None, any_backend=False, create=True, upgrade_training=False
):
    """The same checks, made by the app's sign-in worker after the first frame is drawn."""
    from controlroom.data.opening import DeferredDatabase
    from controlroom.domain.environment import Environment

    return DeferredDatabase(
        _connect_url(url),
        create=create,
        environment=environment or Environment.PRODUCTION,
        # Built when needed: masking the URL loads SQLAlchemy, which waits for the worker.
        any_backend=any_backend,
        upgrade_command=lambda: _fix_command(args, "db", "upgrade"),
        terminal=_terminal(),
        upgrade_training=upgrade_training,
        # The app: nothing the operator does waits long on the database.
        interactive=True,
    )


def _terminal() -> str:
    """The SSH client address sshd gave this session, or `local`. An SSH_CLIENT with no
    sshd among the process's ancestors was set by the caller: not believed."""
    from controlroom.domain.identity import LOCAL_TERMINAL, terminal_from_environment, under_sshd

    if under_sshd() is False:
        return LOCAL_TERMINAL
    return terminal_from_environment(os.environ)


def _os_user() -> str:
    """The operator: the account of the process's real uid, whatever LOGNAME or USER say."""
    from controlroom.domain.identity import NoAccount, process_account

    try:
        return process_account()
    except NoAccount as exc:
        raise CliError(str(exc)) from None


def _operator_actor(database):
    from controlroom.services import staff
    from controlroom.services.staff import AccessRefused

    try:
        member = staff.sign_in(database.uow(), _os_user(), _terminal())
    except AccessRefused as exc:
        raise CliError(f"access refused: {exc}") from None
    _warn_if_exposed(database)
    return member


def _warn_if_exposed(database) -> None:
    """Say on stderr when a production SQLite file is open to other accounts."""
    from controlroom.services.database import exposure_warning, profile

    try:
        warning = exposure_warning(profile(database.uow()), database.url)
    except Exception:  # noqa: BLE001 - a warning never stops a command
        return
    if warning is not None:
        print(f"controlroom: {warning}", file=sys.stderr)


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


def _console():
    from rich.console import Console

    return Console(stderr=False)


def _table(*columns: tuple[str, bool]):
    """A results table; codes, dates and counts never wrap (`True`), names and text do."""
    from rich.table import Table

    table = Table()
    for heading, whole in columns:
        table.add_column(heading, no_wrap=whole, overflow="ellipsis" if whole else "fold")
    return table


def _print_json(rows: list[dict]) -> None:
    import json

    # ASCII only: a control character or bidi override in a record arrives escaped
    # ("\u202e"), never raw on the terminal or in the receiving system's log.
    sys.stdout.write(json.dumps(rows, ensure_ascii=True, indent=2) + "\n")
