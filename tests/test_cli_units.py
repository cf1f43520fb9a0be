"""`controlroom units` in-process on a real database: list, assign, status and history
as a dispatcher scripts them, a call handler refused a change (audited, in words), and
the synthetic mover refused on a database that is not synthetic."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.domain.roles import Role
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.factories import add_incident, add_location, add_unit, staff_actor


@pytest.fixture
def force(database):
    place = add_location(database, latitude=53.80, longitude=-1.55)
    reference = add_incident(database, grade="G1", location_id=place)
    add_unit(database, "MP21", station="North Police Station", latitude=53.81)
    add_unit(database, "MP22", station="South Police Station", status_code="OD")
    return reference


def as_user(monkeypatch, tmp_path, username: str) -> None:
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: username)


def test_a_dispatcher_scripts_list_assign_status_and_history(
    database, database_url, force, monkeypatch, tmp_path, capsys
):
    dispatcher = staff_actor(database, Role.DISPATCHER)
    as_user(monkeypatch, tmp_path, dispatcher.username)
    url = ["--database-url", database_url]

    listed = run_cli(capsys, "units", "list", "--status", "av", "--json", *url)
    assert listed.code == 0, listed.err
    assert [(u["callsign"], u["status"]) for u in json.loads(listed.out)] == [("MP21", "AV")]

    sent = run_cli(capsys, "units", "assign", "MP21", force[-4:], *url)
    assert (sent.code, sent.out.strip()) == (0, f"MP21 assigned to {force}")
    arrived = run_cli(capsys, "units", "status", "mp21", "sc", *url)
    # The CLI runs on the real clock: the incident opened (at the anchor) long before.
    assert arrived.code == 0 and "Attendance target MISSED" in arrived.out
    refused = run_cli(capsys, "units", "status", "MP22", "SC", *url)
    assert refused.code == 2 and "MP22 has no incident: assign it first" in refused.err

    history = run_cli(capsys, "units", "history", "MP21", "--json", *url)
    rows = json.loads(history.out)
    assert [(r["kind"], r.get("status"), r["incident"]) for r in rows] == [
        ("status", "SC", force),
        ("status", "AS", force),
        ("assignment", None, force),
    ]
    table = run_cli(capsys, "units", "list", *url)
    assert "MP21" in table.out and "SC" in table.out and "2 of 2 units" in table.out
    with database.uow() as uow:
        actions = list(
            uow.session.scalars(
                select(AuditEvent.action).where(AuditEvent.actor == dispatcher.username)
            )
        )
    assert {"resource.board", "unit.assign", "unit.status", "unit.history"} <= set(actions)


def test_a_call_handler_lists_but_may_not_change_and_the_refusal_is_audited(
    database, database_url, force, monkeypatch, tmp_path, capsys
):
    handler = staff_actor(database, Role.CALL_HANDLER)
    as_user(monkeypatch, tmp_path, handler.username)
    url = ["--database-url", database_url]
    assert run_cli(capsys, "units", "list", *url).code == 0
    refused = run_cli(capsys, "units", "assign", "MP21", force, *url)
    assert refused.code == 2 and "not allowed" in refused.err
    with database.uow() as uow:
        outcomes = list(
            uow.session.scalars(
                select(AuditEvent.outcome).where(
                    AuditEvent.actor == handler.username, AuditEvent.action == "unit.assign"
                )
            )
        )
    assert outcomes == ["denied"]
    dispatcher = staff_actor(database, Role.DISPATCHER)
    as_user(monkeypatch, tmp_path, dispatcher.username)
    moved = run_cli(capsys, "units", "simulate", "--times", "1", *url)
    assert moved.code == 2 and "only a synthetic force" in moved.err
