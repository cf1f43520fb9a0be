"""Pilot tests (80x24, keyboard alone) of what issue 19 puts on screen: an old system's
incident and report marked LEGACY and read-only, and the supervisor's review list."""

from __future__ import annotations

from textual.command import CommandList

from controlroom.domain.roles import Role
from controlroom.screens.incident.actions import NoteDialog
from controlroom.screens.incident.view import IncidentView
from controlroom.screens.intelligence.report import IntelligenceReportScreen
from controlroom.screens.legacy_review import LegacyReview
from controlroom.services.legacy_import import import_extract
from controlroom.services.legacy_review import review_list
from tests.apps import build_app, screen_text, settle, until
from tests.factories import staff_actor
from tests.maintenance import audit_actions
from tests.test_legacy_import import extract, mapping_for  # noqa: F401  (a fixture)
from tests.test_legacy_records import imported  # noqa: F401  (the fixture)

SIZE = (80, 24)


async def test_a_legacy_incident_and_report_say_so_and_refuse_changes(
    database,
    tmp_path,
    imported,  # noqa: F811
):
    reference, *_rest, report_id = imported
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_incident(reference)
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert "LEGACY" in screen_text(app) and reference in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, NoteDialog)
        assert "is a LEGACY incident from the old system and is read-only" in screen_text(app)

        await app.push_screen(IntelligenceReportScreen(report_id))
        await settle(pilot)
        assert "LEGACY read-only, from the old system" in screen_text(app)
        assert "in the old system (imported by" in screen_text(app)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, IntelligenceReportScreen)
        assert "LEGACY intelligence report" in screen_text(app)


async def test_a_supervisor_merges_a_held_person_from_the_review_list(
    database,
    tmp_path,
    admin,
    extract,  # noqa: F811
):
    """Reached from the command palette; the held person beside the record it probably
    is; m, a reason, y: merged, audited, off the list. Slow (7 s at load 6 on 2 cores,
    16 s at load 10): the palette's search, a dialog and a confirmation are the path
    under test."""
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"legacy review")
        await until(  # the palette searches asynchronously: wait for its hit
            pilot,
            lambda: any(
                "Legacy review list" in str(option.prompt)
                for option in app.screen.query_one(CommandList).options
            ),
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LegacyReview)
        text = screen_text(app)
        assert "REVIEW LIST" in text and "HELD OLDCAD P0000001" in text
        first = app.screen.items[0]
        assert f"PROBABLY RECORD {first.candidate_id}" in text
        assert first.legacy_name in text and "5 held for a decision" in text
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*"same date of birth and town", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, LegacyReview)
        assert f"the same person as record {first.candidate_id}" in screen_text(app)
        assert "4 held for a decision" in screen_text(app)
    remaining = review_list(database.uow(), staff_actor(database, Role.SUPERVISOR))
    assert first.record_id not in {i.record_id for i in remaining} and len(remaining) == 4
    decided = [a for a in audit_actions(database.url) if a[1] == "legacy.decide"]
    assert [a[2] for a in decided] == ["success"]
