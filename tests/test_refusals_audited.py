"""Every refusal is on the audit record, before anything else is asked (issue 16).

F6 for a role that may not see the command view and `a` (reassign) on the triage queue
were refused by the screen alone, with nothing audited; `queues.reassign` checked the
reason before the permission; `export open-data` asked the keyring before the
permission table.
"""

from __future__ import annotations

import pytest

from controlroom.domain.roles import Role
from controlroom.services import queues
from controlroom.services.access import PermissionDenied
from tests.apps import build_app, screen_text, settle, until
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import SEED_ANCHOR, postgres_url
from tests.test_queue_services import POLICY, item_id, new_incident, staff

SIZE = (80, 24)


def denials(database) -> list[tuple[str, str, str]]:
    with database.uow() as uow:
        return [
            (e.actor, e.action, e.outcome)
            for e in reversed(uow.audit.latest(40))
            if e.outcome == "denied"
        ]


async def test_f6_refused_to_a_call_handler_is_audited(database, tmp_path):
    staff(database, Role.CALL_HANDLER, "q.handler", "Hana Handler")
    app = build_app(database, tmp_path, username="q.handler")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert "The command view is for supervisors" in screen_text(app)
    assert denials(database) == [("q.handler", "command.view", "denied")]


async def test_reassign_refused_on_the_queue_screen_is_audited(database, tmp_path):
    supervisor = staff(database, Role.SUPERVISOR, "q.super", "Sam Supervisor")
    staff(database, Role.CALL_HANDLER, "q.handler", "Hana Handler")
    new_incident(database, supervisor, type_code="DOM")
    app = build_app(database, tmp_path, username="q.handler")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await until(pilot, lambda: "1 waiting" in screen_text(app))
        await pilot.press("a")
        await until(pilot, lambda: bool(denials(database)))
        assert "Only a supervisor can reassign" in screen_text(app)
    assert denials(database) == [("q.handler", "queue.reassign", "denied")]


def test_reassign_checks_the_permission_before_the_reason(database):
    supervisor = staff(database, Role.SUPERVISOR, "q.super", "Sam Supervisor")
    handler = staff(database, Role.CALL_HANDLER, "q.handler", "Hana Handler")
    saved = new_incident(database, supervisor, type_code="DOM")
    with pytest.raises(PermissionDenied):
        queues.reassign(
            database.uow(), handler, item_id(database, saved.id), "", "", POLICY, SEED_ANCHOR
        )
    assert denials(database) == [("q.handler", "queue.reassign", "denied")]


@pytest.mark.skipif(
    postgres_url() is not None,
    reason="on PostgreSQL the keyring holds the database password, asked to connect at all",
)
def test_export_open_data_is_refused_and_audited_before_the_keyring(
    monkeypatch, tmp_path, capsys, database, database_url
):
    import keyring
    from keyring.backends import fail

    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    handler = staff(database, Role.CALL_HANDLER, "q.handler", "Hana Handler")
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: handler.username)
    keyring.set_keyring(fail.Keyring())
    result = run_cli(
        capsys, "export", "open-data", "--month", "2026-11", "--database-url", database_url
    )
    assert result.code == 2
    assert "may not export anonymised data" in result.err
    assert "keyring" not in result.err
    assert denials(database) == [("q.handler", "open_data.export", "denied")]
