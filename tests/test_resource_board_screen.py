"""The resource board (F8) with Pilot at 80x24: units by keys alone, filters, a status
by one key, assignment by the command line (with completion), refusals in words, and a
change made at another station shown within 2 s.

The board keeps a worker polling the change counter for as long as it is open, so these
tests wait for what the operator would see (`until`) rather than for every worker."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.resource_board import ResourceBoard
from controlroom.services import resources
from tests.apps import build_app, screen_text, settle, until
from tests.databases import SEED_ANCHOR
from tests.factories import add_incident, add_location, add_unit, staff_actor

SIZE = (80, 24)


def three_units(database) -> str:
    place = add_location(database, latitude=53.80, longitude=-1.55)
    reference = add_incident(database, grade="G1", age=timedelta(minutes=10), location_id=place)
    add_unit(
        database,
        "AR1",
        type_code="ARV",
        skills=("FA", "AD"),
        station="North Police Station",
        latitude=53.83,
    )
    add_unit(database, "MP21", station="North Police Station", latitude=53.82)
    add_unit(database, "MP22", status_code="OD", station="South Police Station")
    return reference


async def open_board(pilot) -> ResourceBoard:
    await settle(pilot)
    await pilot.press("f8")
    await until(pilot, lambda: "3 of 3 units ·" in screen_text(pilot.app))
    board = pilot.app.screen
    assert isinstance(board, ResourceBoard)
    return board


async def send(pilot, *keys: str) -> None:
    """Keys as one read delivers them (a lagging SSH link), without waiting for the
    board's poll worker, which runs as long as the board is open."""
    from textual import events

    for key in keys:
        character = {"space": " "}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, character)
        event.set_sender(pilot.app)
        pilot.app._driver.send_message(event)
    await pilot.pause()


async def test_f8_shows_every_unit_and_the_filters_cycle(database, tmp_path):
    three_units(database)
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        text = screen_text(app)
        assert "2 on duty · 2 available · 0 committed" in text
        assert text.index("AR1") < text.index("MP21") < text.index("MP22")
        assert "AD FA" in text and "Off duty" in text
        await pilot.press("t")  # type: ARV
        await until(pilot, lambda: "1 of 3 units ·" in screen_text(app))
        assert "t type: ARV" in screen_text(app) and "MP21    IRV" not in screen_text(app)
        await pilot.press("t", "t", "n")  # type: IRV, then every type; station: North
        await until(pilot, lambda: "2 of 3 units ·" in screen_text(app))
        assert "n station: North" in screen_text(app) and "MP22    IRV" not in screen_text(app)
        await pilot.press("f1")  # the grammar is on F1, with the configured status keys
        await until(pilot, lambda: "Command line (c or :)" in screen_text(app))
        assert "4 At scene sc" in screen_text(app)


async def test_alike_cells_of_the_board_are_one_text_not_a_copy_per_unit(database, tmp_path):
    """A force's 900 units were 6,300 cell Texts, most alike (issue 15, memory): cells of
    the same text and style are one object, and each still reads as before."""
    from controlroom.widgets.fixed_table import FixedColumnsTable

    three_units(database)
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        table = board.query_one("#res-table", FixedColumnsTable)
        # MP21 and MP22: both IRV, both with no incident, both with the skills "TA".
        for key, plain in (("type", "IRV"), ("incident", ""), ("skills", "TA")):
            first, second = table.get_cell("MP21", key), table.get_cell("MP22", key)
            assert first.plain == plain and first is second
        # Different text or style: not shared (MP21 available, MP22 off duty).
        assert table.get_cell("MP21", "status") is not table.get_cell("MP22", "status")
        assert table.get_cell("MP21", "callsign").plain == "MP21"


async def test_assign_by_the_command_line_with_completion_then_at_scene_by_one_key(
    database, tmp_path
):
    reference = three_units(database)
    dispatcher = staff_actor(database, Role.DISPATCHER)
    app = build_app(database, tmp_path, username=dispatcher.username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        # c puts the highlighted unit (AR1) on the line; "as" and the reference's end,
        # Tab completes it to the whole reference.
        await send(pilot, "c", "a", "s", "space", *reference[-4:])
        line = app.screen.query_one("#res-command")
        await until(pilot, lambda: line._suggestion == f"AR1 as {reference}")
        await send(pilot, "tab")
        assert line.value == f"AR1 as {reference}"
        await send(pilot, "enter")
        await until(pilot, lambda: f"AR1 assigned to {reference}" in screen_text(app))
        await until(pilot, lambda: "1 committed" in screen_text(app))
        assert reference[7:] in screen_text(app)  # the incident column: 1126-NNNN
        # Esc back to the table; 4 (at scene) on AR1: the G1 clock stops, met.
        await send(pilot, "escape", "4")
        await until(pilot, lambda: "Attendance target MET" in screen_text(app))
        assert isinstance(app.screen, ResourceBoard)  # Esc left the line, not the board
    board = resources.read_board(database.uow(), dispatcher)
    assert {u.callsign: u.status_code for u in board.units} == {
        "AR1": "SC",
        "MP21": "AV",
        "MP22": "OD",
    }


async def test_a_wrong_command_is_said_in_words_and_the_typing_kept(database, tmp_path):
    three_units(database)
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        await send(pilot, "c", "x", "y", "enter")
        await until(pilot, lambda: "xy is not a command" in screen_text(app))
        assert app.screen.query_one("#res-command").value == "AR1 xy"
        await send(pilot, "escape", "down", "down", "2")  # MP22, off duty: assign asks which
        await until(pilot, lambda: "Which incident for MP22?" in screen_text(app))
        assert app.screen.query_one("#res-command").value == "MP22 as "


async def test_a_call_handler_sees_the_board_but_is_told_they_may_not_dispatch(database, tmp_path):
    three_units(database)
    handler = staff_actor(database, Role.CALL_HANDLER)
    app = build_app(database, tmp_path, username=handler.username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        await send(pilot, "5")  # busy, on AR1
        await until(
            pilot, lambda: "may not assign units or change their status" in screen_text(app)
        )
    with database.uow() as uow:
        denied = uow.session.scalars(
            select(AuditEvent.outcome).where(AuditEvent.action == "unit.status")
        ).all()
    assert denied == ["denied"]


async def test_a_change_at_another_station_shows_within_two_seconds(database, tmp_path):
    reference = three_units(database)
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    other_station = staff_actor(database, Role.SUPERVISOR, terminal="10.0.0.9")
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        resources.assign(database.uow(), other_station, ["MP21"], reference, SEED_ANCHOR)
        taken = await until(pilot, lambda: "1 committed" in screen_text(app), timeout=2.0)
        assert taken < 2.0
        resources.set_status(
            database.uow(), other_station, "MP21", "ER", SEED_ANCHOR, DEFAULT_GRADES
        )
        await until(pilot, lambda: "En route" in screen_text(app), timeout=2.0)


async def test_a_read_answered_after_a_newer_one_does_not_put_an_old_status_back(
    database, tmp_path
):
    # The board's poll and its read after this station's own change can be answered
    # out of order: the older read's rows held MP21 as it was, and drew it so again.
    reference = three_units(database)
    dispatcher = staff_actor(database, Role.DISPATCHER)
    app = build_app(database, tmp_path, username=dispatcher.username)
    async with app.run_test(size=SIZE) as pilot:
        board = await open_board(pilot)
        older = resources.read_board(database.uow(), dispatcher)  # every unit as it is
        resources.assign(database.uow(), dispatcher, ["MP21"], reference, SEED_ANCHOR)
        await until(pilot, lambda: "1 committed" in screen_text(app), timeout=2.0)
        board.changed(ResourceBoard.Changed(older))  # answered now
        await pilot.pause()
        assert "1 committed" in screen_text(app)
        assert board.units["MP21"].incident_reference == reference


async def test_send_units_from_the_incident_by_keys_nearest_first(database, tmp_path):
    from tests.apps import burst

    reference = three_units(database)
    add_unit(database, "NEAR", latitude=53.801, station="North Police Station")
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "ctrl+o", *reference[-4:], "enter")
        await burst(pilot, "u")
        text = screen_text(app)
        assert f"Send units — {reference}" in text
        assert text.index("NEAR") < text.index("AR1") and "MP22" not in text  # off duty
        await burst(pilot, "enter")
        text = screen_text(app)
        assert f"NEAR assigned to {reference}" in text and "DISPATCHED" in text
        assert "Units     NEAR AS" in text
        await burst(pilot, "u")  # NEAR is committed now: only with o (the override)
        assert "NEAR " not in screen_text(app)
        await burst(pilot, "o")
        assert "COMMITTED (AS)" in screen_text(app)


async def test_a_unit_at_scene_too_long_without_an_update_prompts_a_welfare_check(
    database, tmp_path
):
    add_unit(database, "MP21", status_code="SC")  # at scene since 30 minutes before the clock
    add_unit(database, "MP22", status_code="AV")
    add_unit(database, "MP23", status_code="BU")
    app = build_app(database, tmp_path, username=staff_actor(database, Role.DISPATCHER).username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)
        text = screen_text(app)
        assert "! Welfare check due: MP21 at scene 30m" in text
        assert "! 1 welfare" in text and "! WELFARE" in text


async def test_the_command_view_shows_todays_attendance_once_there_is_one(database, tmp_path):
    reference = three_units(database)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    resources.assign(database.uow(), supervisor, ["MP21"], reference, SEED_ANCHOR)
    resources.set_status(database.uow(), supervisor, "MP21", "SC", SEED_ANCHOR, DEFAULT_GRADES)
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await until(
            pilot, lambda: "Attendance today: 1 met, 0 missed (G1 1 met" in screen_text(app)
        )
