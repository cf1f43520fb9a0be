"""Snapshot tests of the DASH screen at 80x24 (and in 16 colours), part answered, so the
cursor, the answers in words, the live score and level and the hints all show; and of a
regrade to G4 refused by the safeguarding rules, with the supervisor's override field.
After a deliberate change: pytest --snapshot-update."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.services import incidents
from tests.apps import build_app, settle
from tests.databases import SEED_ANCHOR

SIZE = (80, 24)
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)


@pytest.fixture
def reference(database, supervisor) -> str:
    saved = incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="snapshot-dash",
            type_code="DOM",
            location_text="7 Test Row, Testtown",
            grade="G2",
            thrive_skipped=True,
            domestic=True,
            child_present=True,
        ),
        SEED_ANCHOR - timedelta(minutes=10),
        GRADE_CODES,
    )
    return saved.reference


def answering(reference: str, *keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_incident(reference)
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False

    return run_before


def test_dash_part_answered_high(snap_compare, database, tmp_path, reference):
    app = build_app(database, tmp_path)
    keys = ("y",) * 9 + ("n", "k") + ("y",) * 5
    assert snap_compare(app, terminal_size=SIZE, run_before=answering(reference, *keys))


def test_dash_judgement_in_16_colours(snap_compare, database, tmp_path, reference):
    app = build_app(database, tmp_path, term="linux")
    keys = ("n",) * 5 + ("y",) * 3 + ("j",)
    assert snap_compare(app, terminal_size=SIZE, run_before=answering(reference, *keys))


def test_regrade_to_g4_refused_by_safeguarding_rules(snap_compare, database, tmp_path, reference):
    """The regrade dialog after ctrl+s on G4: the rules in words, the override field."""
    app = build_app(database, tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_incident(reference)
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("4", "enter", *"calm now", "ctrl+s")
        await settle(pilot)
        for widget in pilot.app.screen.query("Input"):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
