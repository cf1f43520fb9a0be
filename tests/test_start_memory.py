"""What an operator's process holds once the home board is up (issue 15, memory).

Every operator at every station pays for what the app loads before its board: the goal
is a peak RSS within 1.15x a bare Textual + SQLAlchemy app (benchmarks/startup.py). The
code the board never runs stays out until a screen asks for it. A fresh interpreter
signs in and waits for the board, then reports which of those modules it loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from controlroom.domain.roles import Role
from tests.factories import staff_actor

ROOT = Path(__file__).resolve().parents[1]

# What the board does not use, and what each costs every operator if loaded at start
# (tracemalloc, after Textual and SQLAlchemy's ORM).
NOT_AT_START = {
    # the incident services and their rules (crime, DASH, queues, referrals): 1.4 MiB
    "controlroom.services.incidents": "any",
    "controlroom.services.locations": "any",
    # person search and its phonetic keys, and PIN hashing (an earlier session's cut)
    "controlroom.data.search": "any",
    "jellyfish": "any",
    "argon2": "any",
    # Textual's TextArea with its document and syntax modules (no text area on the
    # board): 0.5 MiB
    "textual.widgets._text_area": "any",
    # SQLAlchemy's PostgreSQL dialect, on an SQLite station: 2.3 MiB
    "sqlalchemy.dialects.postgresql": "sqlite",
    # the resource board's and dispatch's services and rules: the emergency watch of a
    # dispatcher's or supervisor's session needs only its poll and the open emergencies
    # (services/emergencies.py): 0.9 MiB of peak RSS
    "controlroom.services.resources": "any",
    "controlroom.domain.resources": "any",
    "controlroom.domain.dispatch_commands": "any",
    # the resource board's queries: the watch's poll says whether an emergency is open
    # (data/unit_watch.py) and reads them only then
    "controlroom.data.resource_queries": "any",
    # the street centres (the statistics' map points and the copies between
    # environments): imported by the repositories' methods that use them
    "controlroom.data.street_centroids": "any",
    # the TOML parser, with no configuration file to read
    "tomllib": "any",
    # the models of the 38 tables the board never reads, mapped: 4.8 MiB
    "controlroom.data.cold_models": "any",
    # persons' phonetic keys (the cold models' column defaults) and the legacy records'
    # words (the guard's refusals): 0.25 MiB
    "controlroom.domain.phonetics": "any",
    "controlroom.domain.legacy": "any",
    # the log file's rotation (logs.py): loaded with the first record a session logs
    "logging.handlers": "any",
    # Textual's inline driver (Control Room never runs inline; the paste guard reaches
    # a driver imported later through Textual's parser module)
    "textual.drivers.linux_inline_driver": "any",
    # Textual's DataTable (no table on the board): mended with the first screen after
    # it (widgets/textual_mends.py)
    "textual.widgets._data_table": "any",
}

# The tables the sign-in and the board read: the only ones mapped when it is up.
MAPPED_AT_START = {
    "audit_chain_head",
    "audit_event",
    "database_info",
    "incident",
    "incident_type",
    "location",
    "location_hazard",
    "staff",
    "staff_session",
    "unit",
    "unit_change_counter",
    "unit_emergency",
}

BOARD_PROBE = textwrap.dedent("""
    import asyncio, json, sys
    from dataclasses import replace
    from pathlib import Path

    from controlroom.app import make_app
    from controlroom.config import load_settings
    from controlroom.data.opening import DeferredDatabase

    url, username, data_dir = sys.argv[1:4]
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": data_dir, "XDG_CONFIG_HOME": data_dir}
    )
    settings = replace(settings, database_url=url)
    database = DeferredDatabase(url, create=False, interactive=True)
    app = make_app(settings, database.uow, username, terminal="local", term="xterm-256color")

    async def main():
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(600):
                await pilot.pause(0.05)
                if type(app.screen).__name__ == "HomeBoard" and not any(
                    w.is_running for w in app.workers
                ):
                    break
            else:
                raise SystemExit(f"no board: {type(app.screen).__name__}")
            from controlroom.data.models import Base

            print(json.dumps([sorted(sys.modules), sorted(Base.metadata.tables)]))

    asyncio.run(main())
    database.dispose()
""")


# Each key given after the probe's arguments, pressed once the screen before has read,
# then `{after}` (in the loop).
PRESS_EACH_KEY = """\
        for key in sys.argv[4:]:
            await pilot.press(key)
            for _ in range(200):
                await pilot.pause(0.05)
                if not any(w.is_running for w in app.workers):
                    break
{after}"""

# The walk: the board, then each of these keys and back (person search, intelligence,
# crime integrity and statistics: the main screens with tables), in a fresh interpreter.
WALK_PROBE = BOARD_PROBE.replace(
    "        print(json.dumps([sorted(sys.modules), sorted(Base.metadata.tables)]))",
    PRESS_EACH_KEY.format(after='            await pilot.press("escape")\n')
    + """\
        print(json.dumps([sorted(sys.modules), sorted(Base.metadata.tables)]))""",
)
assert WALK_PROBE != BOARD_PROBE


# The board's other costs: each search of Unicode's names Textual made for a bound key
# (widgets/key_names.py answers those it need not make), and the style files read with
# the names their rules select.
COSTS_PROBE = textwrap.dedent("""
    import unicodedata

    searched = []
    _lookup = unicodedata.lookup

    def lookup(name):
        searched.append(name)
        return _lookup(name)

    unicodedata.lookup = lookup
    """) + BOARD_PROBE.replace(
    "        print(json.dumps([sorted(sys.modules), sorted(Base.metadata.tables)]))",
    PRESS_EACH_KEY.format(after="")
    + """\
        sheet = app.stylesheet
        styles = [Path(path).name for path, _ in sheet.source if path]
        styles += [name for rule in sheet.rules for name in rule.selector_names]
        print(json.dumps([searched, styles]))""",
)
assert "searched" in COSTS_PROBE and "print(json.dumps([searched" in COSTS_PROBE


def _loaded(database, tmp_path, probe: str, *keys: str) -> tuple[set[str], set[str]]:
    """The modules loaded and the tables mapped when the probe was done."""
    username = staff_actor(database, Role.SUPERVISOR).username
    proc = subprocess.run(
        [sys.executable, "-c", probe, database.url, username, str(tmp_path), *keys],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules, tables = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(modules), set(tables)


def _on_sqlite_only(database) -> None:
    """The walks load the same screens' code on either backend: run once, on SQLite (the
    board's own test, with its backend's dialect, runs on both)."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("the screens load the same code on PostgreSQL: walked on SQLite")


def test_no_screen_loads_rich_emoji_for_its_headings(database, tmp_path):
    _on_sqlite_only(database)
    """A table heading given as a string is Rich markup to Textual, and parsing it loads
    Rich's table of 3,600 emoji codes (about 0.9 MiB for the whole session): the screens
    give their headings as plain text."""
    loaded, _ = _loaded(database, tmp_path, WALK_PROBE, "f3", "f4", "f11", "f12")
    assert "controlroom.screens.crime.statistics" in loaded  # the walk got there
    assert "rich._emoji_codes" not in loaded


def test_the_searches_load_their_matching_with_the_first_search(database, tmp_path):
    _on_sqlite_only(database)
    """Opening the person search (F3) or the intelligence search (F4) loads none of the
    person search's matching (rapidfuzz, jellyfish, the search backends: about 3.5 MiB):
    an operator may open them and leave without searching; the first search loads it."""
    loaded, _ = _loaded(database, tmp_path, WALK_PROBE, "f3", "f4")
    assert "controlroom.screens.intelligence.search" in loaded  # the walk got there
    unwanted = ("rapidfuzz", "jellyfish", "controlroom.data.search")
    assert sorted(name for name in unwanted if name in loaded) == []


def test_the_board_loads_no_code_it_does_not_use(database, tmp_path):
    loaded, tables = _loaded(database, tmp_path, BOARD_PROBE)
    assert "controlroom.screens.home_board" in loaded  # the board is up
    assert "controlroom.screens.emergency" in loaded  # a supervisor's emergency watch too
    backend = database.engine.dialect.name
    unwanted = sorted(
        name
        for name, where in NOT_AT_START.items()
        if where in ("any", backend)
        and (name in loaded or any(m.startswith(name + ".") for m in loaded))
    )
    assert unwanted == []
    assert tables == MAPPED_AT_START


def test_the_board_searches_no_unicode_names_for_its_keys(database, tmp_path):
    """Textual asks Unicode's name tables whether each bound key ("f3", "escape") names
    a character, for the focus chain and the footer: the searches paged in about 0.5 MiB
    of every session's peak (issue 15). The answers for the app's keys are known."""
    _on_sqlite_only(database)
    searched, _ = _loaded(database, tmp_path, COSTS_PROBE)
    assert sorted(searched) == []


def test_the_board_parses_only_its_own_styles(database, tmp_path):
    """The rules of every other screen (screens.tcss) were about 1.4 MiB of a session's
    peak: the board parses app.tcss alone, and the first other screen reads the rest."""
    _on_sqlite_only(database)
    _, styles = _loaded(database, tmp_path, COSTS_PROBE)
    assert {"app.tcss", "#board-grades"} <= styles  # the board's own rules
    assert "#help-panel" not in styles
    _, styles = _loaded(database, tmp_path, COSTS_PROBE, "f1")
    assert {"screens.tcss", "#help-panel"} <= styles
