"""A unit's history view, reached by keys from the resource board (h): every status
change with who, when and from where, and every assignment; Esc back to the board.
Pilot at 80x24 (SQLite only: the service beneath is tested on both backends)."""

from __future__ import annotations

from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.roles import Role
from controlroom.screens.resource_board import ResourceBoard
from controlroom.screens.unit_history import UnitHistory
from controlroom.services import resources
from tests.apps import build_app, screen_text, until
from tests.databases import SEED_ANCHOR
from tests.factories import staff_actor
from tests.test_resource_board_screen import SIZE, open_board, three_units


async def test_h_on_the_board_shows_the_units_history_by_keys(database, tmp_path):
    reference = three_units(database)
    dispatcher = staff_actor(database, Role.DISPATCHER, terminal="10.0.0.7")
    resources.assign(database.uow(), dispatcher, ["AR1"], reference, SEED_ANCHOR)
    resources.set_status(database.uow(), dispatcher, "AR1", "SC", SEED_ANCHOR, DEFAULT_GRADES)
    app = build_app(database, tmp_path, username=dispatcher.username)
    async with app.run_test(size=SIZE) as pilot:
        await open_board(pilot)  # AR1 is the first row, highlighted
        await pilot.press("h")
        await until(pilot, lambda: "Assignments (1)" in screen_text(app))
        assert isinstance(app.screen, UnitHistory)
        text = screen_text(app)
        assert "Status changes (2)" in text and "now At scene" in text
        # Newest first: at scene above assigned, each by whom and from which terminal.
        changes = text.index("Status changes (2)")
        assert text.index("At scene", changes) < text.index("Assigned", changes)
        assert dispatcher.username[:12] in text and "10.0.0.7" in text
        assert text.count(reference) == 3  # two changes and the assignment
        await pilot.press("tab", "escape")  # the assignments table; Esc back to the board
        await until(pilot, lambda: isinstance(app.screen, ResourceBoard))
