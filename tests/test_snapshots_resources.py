"""Snapshots of the resource board at 80x24, in full colour and on a 16-colour Linux
console, on the seeded synthetic force (fixed seed, anchor and clock).
After a deliberate change: pytest tests/test_snapshots_resources.py --snapshot-update."""

from __future__ import annotations

from controlroom.screens.resource_board import ResourceBoard
from tests.apps import build_app, screen_text, settle, until

SIZE = (80, 24)


async def open_board(pilot):
    await settle(pilot)
    await pilot.press("f8")
    await until(
        pilot,
        lambda: (
            isinstance(pilot.app.screen, ResourceBoard)
            and "240 of 240 units ·" in screen_text(pilot.app)
        ),
    )
    await pilot.pause()


def test_resource_board(snap_compare, seeded_database, tmp_path):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_board)


def test_resource_board_on_a_16_colour_linux_console(snap_compare, seeded_database, tmp_path):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_board)


async def open_map(pilot):
    await open_board(pilot)
    await pilot.press("m")
    await until(pilot, lambda: "× incident" in screen_text(pilot.app))
    # The open incidents arrive by a read of their own: wait for them on the map.
    await until(pilot, lambda: "× incident 0 " not in screen_text(pilot.app))
    await pilot.pause()


def test_resource_board_map_on_a_16_colour_linux_console(snap_compare, seeded_database, tmp_path):
    """The map pane (m): units and open incidents by position, readable on 16 colours."""
    app = build_app(seeded_database, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_map)
