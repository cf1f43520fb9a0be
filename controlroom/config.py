"""Settings: one typed object, loaded once by the CLI and passed in.

Precedence, lowest first: built-in defaults, the TOML file, `CONTROLROOM_*` environment
variables, command-line flags. Nothing deeper in the program reads the environment or
the file for configuration; it receives a `Settings`.

TOML file (default `~/.config/controlroom/config.toml`, or the path in
`CONTROLROOM_CONFIG`):

    database_url = "postgresql+psycopg://controlroom_app@db.example/controlroom"
    board_refresh_seconds = 5
    ansi = false
    duplicate_radius_m = 200          # possible duplicate calls: this close...
    duplicate_window_minutes = 60     # ...and opened this recently
    claim_stale_minutes = 10          # a queue claim idle this long may be reclaimed
    dash_escalation_hours = 24        # a DA incident without a DASH escalates after this
    idle_lock_minutes = 15            # lock the screen after this long idle (1 to 30)
    welfare_check_minutes = 30        # a unit at scene this long without an update

    [keymap]            # binding id = keys; see F1 on each screen for the ids
    "app.help" = "f1,question_mark"

    [[grades]]          # replaces the default national four when present
    code = "G1"
    name = "Emergency"
    target_minutes = 15
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from controlroom.domain.grades import DEFAULT_GRADES, Grade

APP_NAME = "controlroom"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Per-user data directory (databases, drafts): $CONTROLROOM_DATA_DIR or the XDG one."""
    environ = os.environ if environ is None else environ
    override = environ.get("CONTROLROOM_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def sqlite_url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL as `sqlite_url` writes them; None for any other URL."""
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return Path(url[len(prefix) :])
    return None


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    demo_database_url: str
    data_dir: Path
    grades: tuple[Grade, ...] = DEFAULT_GRADES
    board_refresh_seconds: float = 5.0
    # None: decide from the terminal (TERM=linux and friends get the 16-colour ansi theme).
    ansi: bool | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    # A new call is offered as a possible duplicate of an open incident of a related type
    # this close (metres) or at the same address or phone, opened this recently (minutes).
    duplicate_radius_m: float = 200.0
    duplicate_window_minutes: float = 60.0
    # Triage queue: a claim not heard from (heartbeat) for this long shows as stale and
    # may be reclaimed; a domestic-abuse item without a DASH this long escalates.
    claim_stale_minutes: float = 10.0
    dash_escalation_hours: float = 24.0
    # Session security: the screen locks (record data hidden, PIN to resume) after this
    # many idle minutes. At most IDLE_LOCK_MAXIMUM: a longer lock is no lock.
    idle_lock_minutes: float = 15.0
    # Resources: a unit at scene this long without a status update prompts a welfare
    # check on the resource board.
    welfare_check_minutes: float = 30.0
    # The text cursor blinks (a repaint twice a second, about 1.7 KB/s over SSH). None:
    # decide from the session — still over SSH (SSH_CONNECTION set), blinking on a console.
    cursor_blink: bool | None = None

    def with_database(self, url: str) -> Settings:
        return replace(self, database_url=url)


IDLE_LOCK_MAXIMUM = 30.0
# The home board reads its figures every this many seconds: at least half a second (the
# database is not a busy loop), at most an hour.
REFRESH_RANGE = (0.5, 3600.0)


class ConfigError(Exception):
    """The configuration file or an environment variable is unusable; the message says which."""


def _grades_from(entries: object) -> tuple[Grade, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError("[[grades]] must be a non-empty list of tables")
    grades = []
    for entry in entries:
        try:
            minutes = entry.get("target_minutes")
            rural = entry.get("rural_target_minutes")
            grades.append(
                Grade(
                    code=str(entry["code"]),
                    name=str(entry["name"]),
                    target=None if minutes is None else timedelta(minutes=float(minutes)),
                    rural_target=None if rural is None else timedelta(minutes=float(rural)),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"bad [[grades]] entry {entry!r}: {exc}") from None
    return tuple(grades)


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    database_url: str | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    directory = data_dir(environ)
    values: dict[str, Any] = {}  # as TOML gives them: each is checked where it is read

    named = config_path or (
        Path(environ["CONTROLROOM_CONFIG"]) if environ.get("CONTROLROOM_CONFIG") else None
    )
    path = named or (
        Path(environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / APP_NAME / "config.toml"
    )
    # A file named on purpose must exist: a typo must not silently run on the defaults.
    if named is not None and not named.is_file():
        raise ConfigError(f"{named}: no such configuration file")
    if path.is_file():
        # Only with a file to read: most stations have none, and the TOML parser is
        # 0.1 MiB of every operator's process (issue 15).
        import tomllib

        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None

    settings = Settings(
        database_url=str(
            values.get("database_url") or sqlite_url(directory / "controlroom.sqlite")
        ),
        demo_database_url=str(
            values.get("demo_database_url") or sqlite_url(directory / "demo.sqlite")
        ),
        data_dir=directory,
    )
    if "grades" in values:
        settings = replace(settings, grades=_grades_from(values["grades"]))
    if "board_refresh_seconds" in values:
        settings = replace(
            settings,
            board_refresh_seconds=_refresh(
                values["board_refresh_seconds"], f"{path}: board_refresh_seconds"
            ),
        )
    positive: dict[str, float] = {}
    for key in (
        "duplicate_radius_m",
        "duplicate_window_minutes",
        "claim_stale_minutes",
        "dash_escalation_hours",
        "welfare_check_minutes",
    ):
        if key in values:
            try:
                number = float(values[key])
            except (TypeError, ValueError):
                raise ConfigError(f"{path}: {key} must be a number") from None
            if not math.isfinite(number) or number <= 0:
                raise ConfigError(f"{path}: {key} must be more than 0")
            positive[key] = number
    settings = replace(
        settings,
        duplicate_radius_m=positive.get("duplicate_radius_m", settings.duplicate_radius_m),
        duplicate_window_minutes=positive.get(
            "duplicate_window_minutes", settings.duplicate_window_minutes
        ),
        claim_stale_minutes=positive.get("claim_stale_minutes", settings.claim_stale_minutes),
        dash_escalation_hours=positive.get("dash_escalation_hours", settings.dash_escalation_hours),
        welfare_check_minutes=positive.get("welfare_check_minutes", settings.welfare_check_minutes),
    )
    if "idle_lock_minutes" in values:
        settings = replace(
            settings,
            idle_lock_minutes=_idle_lock(values["idle_lock_minutes"], f"{path}: idle_lock_minutes"),
        )
    if "cursor_blink" in values:
        if not isinstance(values["cursor_blink"], bool):
            raise ConfigError(f"{path}: cursor_blink must be true or false")
        settings = replace(settings, cursor_blink=values["cursor_blink"])
    if "ansi" in values:
        # bool("false") is True: accept only a TOML boolean.
        if not isinstance(values["ansi"], bool):
            raise ConfigError(f"{path}: ansi must be true or false")
        settings = replace(settings, ansi=values["ansi"])
    if isinstance(values.get("keymap"), dict):
        settings = replace(settings, keymap={str(k): str(v) for k, v in values["keymap"].items()})

    if environ.get("CONTROLROOM_DATABASE_URL"):
        settings = replace(settings, database_url=environ["CONTROLROOM_DATABASE_URL"])
    if environ.get("CONTROLROOM_DEMO_DATABASE_URL"):
        settings = replace(settings, demo_database_url=environ["CONTROLROOM_DEMO_DATABASE_URL"])
    if environ.get("CONTROLROOM_BOARD_REFRESH_SECONDS"):
        settings = replace(
            settings,
            board_refresh_seconds=_refresh(
                environ["CONTROLROOM_BOARD_REFRESH_SECONDS"], "CONTROLROOM_BOARD_REFRESH_SECONDS"
            ),
        )
    if environ.get("CONTROLROOM_IDLE_LOCK_MINUTES"):
        settings = replace(
            settings,
            idle_lock_minutes=_idle_lock(
                environ["CONTROLROOM_IDLE_LOCK_MINUTES"], "CONTROLROOM_IDLE_LOCK_MINUTES"
            ),
        )
    if environ.get("CONTROLROOM_ANSI"):
        settings = replace(
            settings, ansi=environ["CONTROLROOM_ANSI"].lower() in {"1", "true", "yes"}
        )

    if database_url:
        settings = replace(settings, database_url=database_url)
    return settings


def _refresh(value: Any, where: str) -> float:
    """The board's refresh interval: a number of seconds in REFRESH_RANGE. A negative one
    gave a blank board at 89% CPU (issue 16); nan and infinity are not numbers of seconds."""
    low, high = REFRESH_RANGE
    try:
        if isinstance(value, bool):
            raise ValueError
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number of seconds") from None
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise ConfigError(f"{where} must be from {low:g} to {high:g} seconds (got {value})")
    return seconds


def _idle_lock(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a number of minutes")
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number of minutes") from None
    if not math.isfinite(minutes) or not 0 < minutes <= IDLE_LOCK_MAXIMUM:
        raise ConfigError(
            f"{where} must be more than 0 and at most {IDLE_LOCK_MAXIMUM:g} "
            f"minutes (got {minutes:g})"
        )
    return minutes


def scrub_secrets(text: str, url: str) -> str:
    """`text` (a driver's error message, say) with every piece of `url`'s password taken
    out, whatever characters it holds: a password with an unencoded "@" is cut short by
    the URL parser, and its tail then appears in the driver's error as part of the host
    ('failed to resolve host "cr3t@dbhost"')."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return text
    userinfo = rest.rsplit("@", 1)[0]
    _user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return text
    pieces = password.split("@")
    # The whole password, and each tail after an "@" where it meets the host.
    for index in range(len(pieces)):
        tail = "@".join(pieces[index:])
        if index == 0:
            text = text.replace(tail, "***")
        elif tail:
            text = text.replace(tail + "@", "***@")
    return text


def mask_url(url: str) -> str:
    """A database URL fit to show or log: any password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparseable URL is shown only as its scheme
        return url.split(":", 1)[0] + ":***"
    if "@" in (parsed.host or ""):
        # An unencoded "@" in the password: the parser cut the password short and the
        # rest of it sits in the host, so show the scheme only.
        return url.split(":", 1)[0] + ":***"
    return parsed.render_as_string(hide_password=True)
