"""Snapshots of the triage queue and the command view at 80x24, on the seeded synthetic
force with its open incidents routed into the queues (fixed seed, anchor and clock).
After a deliberate change: pytest tests/test_snapshots_queue.py --snapshot-update."""

from __future__ import annotations

import pytest

from controlroom.screens.queue import TriageQueue
from controlroom.services import queues
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR
from tests.test_queue_screens import until

SIZE = (80, 24)


@pytest.fixture
def routed(seeded_database):
    queues.route_unrouted(seeded_database.uow, SEED_ANCHOR)
    return seeded_database


async def open_queue(pilot):
    await settle(pilot)
    await pilot.press("f5")
    await until(
        pilot, lambda: isinstance(pilot.app.screen, TriageQueue) and pilot.app.screen.loaded
    )
    await pilot.pause()


async def open_command_view(pilot):
    await settle(pilot)
    await pilot.press("f6")
    await until(pilot, lambda: "Updated" in screen_text(pilot.app))
    await pilot.pause()


def test_triage_queue(snap_compare, routed, tmp_path):
    app = build_app(routed, tmp_path, username="demo.supervisor")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_queue)


def test_triage_queue_on_a_16_colour_linux_console(snap_compare, routed, tmp_path):
    app = build_app(routed, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_queue)


def test_command_view(snap_compare, routed, tmp_path):
    app = build_app(routed, tmp_path, username="demo.supervisor")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_command_view)
