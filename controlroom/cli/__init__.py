"""The `controlroom` command: the composition root (one module per command group).

It loads settings once, builds the one engine and unit-of-work factory, checks the
schema and the operator, and hands them to the app or to a service. Every sub-command
that touches records is audited as the OS user.

    controlroom                         run the app on the configured database
    controlroom demo [--seed-only]      the synthetic training force
    controlroom db upgrade | current    migrations
    controlroom db set-password         keep the PostgreSQL password in the keyring
    controlroom staff add|list|lock|unlock|set-pin
    controlroom units list|status|assign|history|simulate   dispatch for scripts
    controlroom search person|intel QUERY [--json] [--limit N]
    controlroom import legacy PATH      an old system's extract, reconciled
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from controlroom.cli.common import CliError
from controlroom.cli.parser import _parser

# Each command's module and function, imported when that command runs: the app's own
# start (`controlroom`, `controlroom demo`) loads neither the database commands nor the
# staff and units commands, nor what they import (issue 15, start-up memory).
COMMANDS: dict[str | None, tuple[str, str]] = {
    None: ("app", "cmd_run"),
    "demo": ("app", "cmd_demo"),
    "db": ("db", "cmd_db"),
    "staff": ("staff", "cmd_staff"),
    "units": ("units", "cmd_units"),
    "search": ("search", "cmd_search"),
    "audit": ("audit", "cmd_audit"),
    "export": ("export", "cmd_export"),
    "import": ("legacy", "cmd_import"),
}


def _handler(command: str | None) -> Callable[..., int]:
    module, name = COMMANDS[command]
    return getattr(importlib.import_module(f"controlroom.cli.{module}"), name)


def _one_malloc_arena() -> None:
    """Keep glibc's malloc to one arena for the whole process (issue 15, memory).

    glibc gives each thread that allocates an arena of its own; the app's database and
    watch threads each left a few MiB of partly used heap behind (peak RSS 84 MiB against
    79.7 with one arena, on the demo board). Python's own allocations happen under the GIL,
    so the threads seldom meet on the one arena's lock. Where the C library is not glibc
    (no `mallopt`), nothing changes.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, 1)
    except (AttributeError, OSError):
        pass


# glibc's <malloc.h>: the `mallopt` parameter for the most arenas malloc may make.
M_ARENA_MAX = -8


def main(argv: list[str] | None = None) -> int:
    _one_malloc_arena()
    args = _parser().parse_args(argv)
    try:
        return _handler(args.command)(args)
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

        if isinstance(exc, AuditUnavailable):
            print(f"controlroom: {exc}", file=sys.stderr)
            return 2
        # Anything else: its kind in words, never its text (a database error carries its
        # SQL, a driver's error a URL). The whole of it goes to the operator's log file.
        where = _log_failure(args, exc)
        print(
            f"controlroom: the command failed ({type(exc).__name__}); nothing more is shown "
            f"here. Details: {where}",
            file=sys.stderr,
        )
        return 1


def _log_failure(args, exc: BaseException) -> str:
    """Write `exc` with its traceback to the operator's log file; where it went."""
    import logging

    from controlroom.logs import configure_file_log

    try:
        from controlroom.cli.common import _os_user, _settings

        path = configure_file_log(_settings(args).data_dir, _os_user())
        logging.getLogger("controlroom.cli").error("command failed", exc_info=exc)
        return str(path)
    except Exception:  # noqa: BLE001 - no log to write to: say so, show nothing more
        return "no log file could be written"
