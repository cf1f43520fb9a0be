"""The screens of the offline reconciliation (issue 13, item 4): the report a station is
shown after its journal is replayed, and the supervisors' list of entries kept back,
resolved from it with a line on what was done (audited; the station stops sending it)."""

from __future__ import annotations

import uuid

from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.messages import OfflineReplayed
from controlroom.screens.offline_kept import KeptBackScreen, ReconciliationScreen
from controlroom.services import offline
from controlroom.services.incidents import NewIncident
from tests.apps import build_app, burst, screen_text, settle, until
from tests.databases import SEED_ANCHOR

SIZE = (80, 24)


async def test_a_supervisor_sees_what_was_kept_back_and_resolves_it(database, tmp_path, supervisor):
    actor = Actor(supervisor.staff_id, supervisor.username, supervisor.role, "local")
    token = "VM-10-1000"
    journal = offline.open_journal(tmp_path / "station", supervisor.username, token)
    bad = offline.record_incident(
        journal,
        actor,
        NewIncident(uuid.uuid4().hex, "NO-SUCH-TYPE", "7 Mill Lane, Leeds LS6 2AB"),
        SEED_ANCHOR,
        token,
    )
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    app = build_app(database, tmp_path, username=supervisor.username)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        # The station's own report first: what did not go in, and why.
        app.post_message(OfflineReplayed(report))
        await until(pilot, lambda: isinstance(app.screen, ReconciliationScreen))
        await settle(pilot)
        text = screen_text(app)
        assert f"{bad.provisional_reference}: NOT IN — refused" in " ".join(text.split())
        await pilot.press("escape")
        await settle(pilot)
        app.action_kept_offline()
        await settle(pilot)
        assert isinstance(app.screen, KeptBackScreen)
        text = screen_text(app)
        assert bad.provisional_reference in text and "REFUSED" in text
        assert "NO-SUCH-TYPE" in text  # what was typed, beneath
        await pilot.press("enter")
        await settle(pilot)
        await burst(pilot, *"entered by hand", "ctrl+s")
        await until(pilot, lambda: "Nothing kept offline is waiting" in screen_text(app))
    again = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    assert again.refused == () and journal.pending() == []
    journal.close()
