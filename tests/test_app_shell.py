"""Pilot tests of the app shell: what the operator sees, by keyboard alone, at 80x24."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from textual.command import CommandList

from controlroom.data.cold_models import all_tables
from controlroom.data.models import Incident
from controlroom.screens.ages import format_age
from controlroom.screens.help import HelpScreen
from controlroom.screens.home_board import HomeBoard
from tests.apps import build_app, screen_text, settle, until
from tests.databases import TEST_ADMIN
from tests.factories import add_incident, set_operator

SIZE = (80, 24)

HOSTILE = [
    "[b]x",
    "[/]",
    "[@click=app.quit]x",
    "[link=http://e.x]y[/link]",
    "[TODO] plan",
    "\x1b[2J",
    "\x1b]52;c;SGVsbG8=\x07",
    "\x9b31m",
    "nul\x00here",
    "abc\u202edef",
]


async def test_home_board_shows_the_databases_real_counts(database, tmp_path):
    for grade, status in [
        ("G1", "open"),
        ("G1", "dispatched"),
        ("G2", "open"),
        ("G3", "at_scene"),
        ("G4", "closed"),
        ("G2", "closed"),
    ]:
        add_incident(database, grade=grade, status=status, age=timedelta(hours=5))
    with database.uow() as uow:
        open_in_db = uow.session.scalar(
            select(func.count()).select_from(Incident).where(Incident.status != "closed")
        )
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert isinstance(app.screen, HomeBoard)
    assert f"Open incidents: {open_in_db} · oldest open 5h 00m" in text
    lines = {
        line.strip("│ ").rsplit(" ", 1)[0].strip(): line.strip("│ ").rsplit(" ", 1)[-1]
        for row in text.splitlines()
        for line in row.split("│ │")
    }
    assert lines["G1 Emergency"] == "2"
    assert lines["G2 Priority"] == "1"
    assert lines["G3 Scheduled"] == "1"
    assert lines["open"] == "2" and lines["dispatched"] == "1" and lines["at scene"] == "1"


async def test_board_follows_the_database_when_refreshed(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Open incidents: 0" in screen_text(app)
        add_incident(database, grade="G1")
        await pilot.press("r")
        await settle(pilot)
        assert "Open incidents: 1" in screen_text(app)


async def test_board_says_when_the_database_stops_answering(database, tmp_path):
    add_incident(database)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Open incidents: 1" in screen_text(app)
        # A real failure: the schema disappears underneath the running app.
        all_tables().drop_all(database.engine)
        await pilot.press("r")
        await settle(pilot)
        # The frame's banner (the app's watch on the database, issue 13) and the board's
        # own line, whole at 80 columns.
        await until(pilot, lambda: "DATABASE NOT ANSWERING" in screen_text(app))
        text = screen_text(app)
    assert "Figures of 09:00, may be out of date: database not answering (ref" in text
    assert "Open incidents: 1" in text  # the last figures stay; no false zero


@pytest.mark.parametrize(
    ("environment", "banner"),
    [
        ("training", "TRAINING — synthetic data, not for operational use"),
        ("test", "TEST — not for operational use"),
    ],
)
async def test_every_non_production_screen_carries_the_banner(
    database, tmp_path, environment, banner
):
    set_operator(database, environment=environment)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_text(app).splitlines()[0].strip() == banner
        await pilot.press("f1")
        await pilot.pause()
        # The help overlay leaves the banner line of the screen beneath uncovered.
        assert isinstance(app.screen, HelpScreen)
        assert app.screen_stack[-2].query_one("EnvironmentBanner").display


async def test_production_has_no_banner_but_says_production_in_the_header(database, tmp_path):
    set_operator(database, environment="production")
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = screen_text(app).splitlines()[0]
    assert "TRAINING" not in first and "TEST —" not in first
    assert "CONTROL ROOM" in first and "PRODUCTION" in first


async def test_header_shows_the_operator_from_the_database(database, tmp_path):
    set_operator(database, display_name="Sgt Ada Lovelace", station="North")
    app = build_app(database, tmp_path, username=TEST_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = screen_text(app).splitlines()[1]
    assert "Sgt Ada Lovelace (administrator · North)" in header
    assert "26 Nov 09:00" in header


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_record_text_shows_literally_and_fires_nothing(database, tmp_path, hostile):
    if "\x00" in hostile and database.dialect == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL; services refuse it at the field instead")
    set_operator(database, display_name=hostile[:60], force_name=hostile)
    app = build_app(database, tmp_path)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        # Clicking the text must not run an action hidden in it.
        await pilot.click("#header-operator")
        await pilot.click("#board-force")
        await settle(pilot)
        assert app.is_running and app.return_code is None
        force_line = next(
            line
            for line in text.splitlines()
            if line.startswith(" ")
            and line.strip()
            and "Open incidents" not in line
            and "CONTROL" not in line
            and "TRAINING" not in line
            and "TEST" not in line
        )
    from controlroom.domain.safe_text import printable

    assert printable(hostile) in text
    assert force_line.strip() == printable(hostile)
    assert "\x1b" not in text and "\x9b" not in text and "\x00" not in text and "\u202e" not in text


async def test_f1_lists_the_keys_of_the_current_screen_and_escape_closes(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for expected in ("board.refresh", "app.quit", "app.help"):
            assert expected in text
        # Every key of a binding, not only its first; the rows below the fold scroll.
        table = app.screen.query_one("#help-keys")
        keys = {
            str(table.get_row_at(i)[2]): str(table.get_row_at(i)[0]) for i in range(table.row_count)
        }
        assert keys["app.new_incident"] == "f2 / ^n"
        assert keys["app.back"] == "esc" and keys["app.command_palette"] == "ctrl+p"
        assert keys["app.incident_list"] == "f7" and keys["app.open_by_reference"] == "^o"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeBoard)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_offers_the_apps_commands(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"keys on this")
        # The palette searches asynchronously: wait for its hit, not for a while.
        await until(
            pilot,
            lambda: any(
                "Help: keys on this screen" in str(option.prompt)
                for option in app.screen.query_one(CommandList).options
            ),
        )
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_the_palette_offers_no_textual_system_commands(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press("e")  # in Screenshot, Theme, Keys and in ours
        await until(
            pilot,
            lambda: any(
                "Person search" in str(option.prompt)
                for option in app.screen.query_one(CommandList).options
            ),
        )
        await settle(pilot)
        prompts = " ".join(str(o.prompt) for o in app.screen.query_one(CommandList).options)
        for system in ("Screenshot", "Theme", "Maximize", "Show keys"):
            assert system not in prompts


async def test_the_palette_draws_no_emoji_on_a_linux_console(database, tmp_path):
    app = build_app(database, tmp_path, term="linux")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        text = screen_text(app)
        assert "\U0001f50e" not in text and "> " in text


async def test_keymap_from_settings_remaps_a_binding_by_id(database, tmp_path):
    from dataclasses import replace

    app = build_app(database, tmp_path)
    app.set_keymap({"app.help": "f12"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HomeBoard)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    assert replace  # settings keymaps reach set_keymap in ControlRoomApp.__init__


async def test_linux_console_gets_the_ansi_theme_and_ascii_borders(database, tmp_path):
    app = build_app(database, tmp_path, term="linux")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
    assert app.theme == "ansi-dark"
    assert "╭" not in text and "+----" in text


async def test_ctrl_q_quits(database, tmp_path):
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running


def test_ages_read_as_an_operator_reads_them():
    assert format_age(timedelta(minutes=45)) == "45m"
    assert format_age(timedelta(hours=3, minutes=12)) == "3h 12m"
    assert format_age(timedelta(days=9, hours=4, minutes=5)) == "9d 4h"
    assert format_age(timedelta(seconds=-5)) == "0m"


async def test_first_frame_is_the_sign_in_screen_with_no_record_data(database, tmp_path):
    from controlroom.screens.sign_in import SignInScreen

    app = build_app(database, tmp_path, username=TEST_ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        # Before the worker has opened anything: the operator sees who is signing in.
        assert isinstance(app.screen, SignInScreen)
        assert app.operator is None and app.profile is None
        await settle(pilot)
        assert isinstance(app.screen, HomeBoard)
        assert app.operator.username == "test.admin"


@pytest.mark.parametrize(
    ("prepare", "reason"),
    [("unknown", "not a Control Room user"), ("locked", "is locked")],
)
async def test_a_refused_operator_sees_nothing_open_and_the_app_exits_2(
    database, tmp_path, admin, prepare, reason
):
    from controlroom.domain.roles import Role
    from controlroom.services import staff

    username = "stranger"
    if prepare == "locked":
        staff.add_staff(
            database.uow(),
            admin,
            username=username,
            role=Role.CALL_HANDLER,
            display_name="Locked Out",
        )
        staff.set_locked(database.uow(), admin, username, True)
    app = build_app(database, tmp_path, username=username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not any(isinstance(s, HomeBoard) for s in app.screen_stack)
    assert app.return_code == 2
    assert reason in app.refusal
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.actor, event.action, event.outcome) == (username, "session.start", "refused")


async def test_a_database_of_unknown_schema_is_refused_before_anything_opens(
    database_url, tmp_path
):
    from sqlalchemy import update

    from controlroom.app import make_app
    from controlroom.config import load_settings
    from controlroom.data import schema
    from controlroom.data.engine import make_engine
    from controlroom.data.opening import DeferredDatabase

    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(schema._alembic_version).values(version_num="0000"))
    engine.dispose()
    deferred = DeferredDatabase(
        database_url, create=True, upgrade_command="controlroom db upgrade --database-url X"
    )
    settings = load_settings(
        environ={"CONTROLROOM_DATA_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    )
    app = make_app(settings, deferred.uow, "test.admin")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    deferred.dispose()
    assert app.return_code == 2
    # "0000" is no revision this program ships, so it is unknown rather than behind.
    assert "(0000) is not one this program" in app.refusal


async def test_demo_opens_on_training_with_the_real_counts_of_the_synthetic_force(
    seeded_database, tmp_path
):
    with seeded_database.uow() as uow:
        open_by_grade = dict(
            uow.session.execute(
                select(Incident.grade, func.count())
                .where(Incident.status != "closed")
                .group_by(Incident.grade)
            ).all()
        )
    app = build_app(seeded_database, tmp_path, username="demo.supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert isinstance(app.screen, HomeBoard)
    lines = text.splitlines()
    assert lines[0].strip() == "TRAINING — synthetic data, not for operational use"
    assert "(supervisor" in lines[1]
    assert f"Open incidents: {sum(open_by_grade.values())} ·" in text
    for grade, name in (("G1", "Emergency"), ("G2", "Priority"), ("G3", "Scheduled")):
        row = next(line for line in lines if f"{grade} {name}" in line)
        assert row.split("│")[1].split()[-1] == str(open_by_grade.get(grade, 0))
