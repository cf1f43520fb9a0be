"""The screens of the offline reconciliation (issue 13, item 4): the report a station is
shown after its journal is replayed, and the supervisors' list of entries kept back,
resolved from it with a line on what was done (audited; the station stops sending it)."""

from __future__ import annotations

import uuid

import pytest

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


@pytest.mark.slow
async def test_a_station_started_while_the_database_is_away_signs_in_from_its_cache(
    database_url, tmp_path
):
    """The database file's directory gone (SQLite cannot open it): the app signs the
    operator in from the station's cache of the last good sign-in, says so, and takes a
    call offline; when the database is back the account is checked, the call replayed
    and the offline sign-in reaches the main audit chain, which verifies. Slow (about
    7 s on a loaded host): the sign-in waits out its probe, and the database watch must
    see the return."""
    import shutil

    from sqlalchemy import select

    from controlroom.data.models import AuditEvent, Incident
    from controlroom.data.uow import Database
    from controlroom.domain.roles import Role
    from controlroom.services.audit_trail import verify_chain
    from controlroom.services.session import open_session
    from tests.factories import staff_actor

    home = tmp_path / "db"
    home.mkdir()
    shutil.move(database_url.removeprefix("sqlite+pysqlite:///"), home / "station.sqlite")
    url = f"sqlite+pysqlite:///{home / 'station.sqlite'}"
    data = tmp_path / "data"
    first = Database(url)
    try:
        actor = staff_actor(first, Role.SUPERVISOR)
        # The last good sign-in and entry form on this station left their caches.
        offline.cache_identity(data, open_session(first.uow, actor.username, "local"))
        offline.incident_types_or_cached(first.uow, data)
    finally:
        first.dispose()
    home.rename(tmp_path / "away")  # the database cannot be reached
    station = Database(url)
    app = build_app(station, data, username=actor.username)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(pilot, lambda: "DATABASE NOT ANSWERING" in screen_text(app), 8.0)
            assert app.operator is not None and app.operator.role is Role.SUPERVISOR
            assert any("STATION'S CACHE" in n.message for n in app._notifications)
            await pilot.press("f2")
            await settle(pilot)
            await burst(pilot, *"Cached Caller", "alt+l", *"14 Mill Lane", "tab", *"burg")
            await burst(pilot, "alt+k")
            await pilot.press("ctrl+s")
            await until(
                pilot,
                lambda: any("OFFLINE — SAVED" in n.message for n in app._notifications),
            )
            (tmp_path / "away").rename(home)  # back
            await until(
                pilot,
                lambda: any("now in the database" in n.message for n in app._notifications),
                10.0,
            )
            assert app.session_id is not None  # the session is on the record now
    finally:
        station.dispose()
    check = Database(url)
    try:
        with check.uow() as uow:
            callers = uow.session.scalars(select(Incident.caller_name)).all()
            starts = uow.session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "session.start")
            ).all()
        assert callers.count("Cached Caller") == 1
        assert any("station's cache" in (d or "") for d in starts)
        assert verify_chain(check.uow()).intact
    finally:
        check.dispose()
