"""Snapshot tests of the main screens at 80x24, on the seeded synthetic force.

The seed, the seeding anchor and the app's clock are all fixed, so a snapshot changes
only when the screen does. After a deliberate change: pytest --snapshot-update.
"""

from __future__ import annotations

import pytest

from tests.apps import build_app, settle

SIZE = (80, 24)


@pytest.fixture
def demo_app(seeded_database, tmp_path):
    return build_app(seeded_database, tmp_path, username="demo.supervisor")


def test_home_board(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=settle)


def test_help_over_the_home_board(snap_compare, demo_app):
    async def open_help(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=open_help)


def test_home_board_on_a_16_colour_linux_console(snap_compare, seeded_database, tmp_path):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
