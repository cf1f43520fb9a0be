"""Snapshot at 80x24 of the supervisor's legacy review list (issue 19): people from an
old system's extract held for a decision, each beside the record it probably is. The
extract is the synthetic one of `tests/test_legacy_import.py` (fixed seed), so every run
draws the same list. After a deliberate change:
pytest tests/test_snapshots_legacy.py --snapshot-update."""

from __future__ import annotations

from controlroom.screens.legacy_review import LegacyReview
from controlroom.services.legacy_import import import_extract
from tests.apps import build_app, settle, until
from tests.test_legacy_import import extract, mapping_for  # noqa: F401  (a fixture)

SIZE = (80, 24)


def test_legacy_review_list(snap_compare, database, tmp_path, admin, extract):  # noqa: F811
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    app = build_app(database, tmp_path)

    async def open_review(pilot):
        await settle(pilot)
        await pilot.app.push_screen(LegacyReview())
        await until(pilot, lambda: bool(getattr(pilot.app.screen, "items", None)))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_review)
