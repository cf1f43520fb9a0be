"""Record exports from production (`controlroom search ... --json`, for other systems):
a role and a justification, and no sexual-offence complainant or restricted person
unless explicitly authorised, which is recorded. Elsewhere the JSON goes out as before
(still audited as an export)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from controlroom.data.models import DatabaseInfo
from controlroom.domain.roles import Role
from controlroom.services import audit, incidents
from tests.audit_stations import enrol
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import SEED_ANCHOR
from tests.factories import add_person

REASON = "Partner agency request ref 77/2026"


@pytest.fixture
def people(database, database_url):
    supervisor = enrol(database_url, Role.SUPERVISOR, "export.supervisor")
    enrol(database_url, Role.CALL_HANDLER, "export.handler")
    complainant = add_person(database, "Tamsin", "Exportable")
    ordinary = add_person(database, "Toby", "Exportable")
    incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="sexo-export",
            type_code="SEXO",
            location_text="8 Quiet Close",
            thrive_skipped=True,
            persons=((complainant, "victim"),),
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    return {"complainant": complainant, "ordinary": ordinary}


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    user = {"name": "export.supervisor"}
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: user["name"])
    return user


def production(database) -> None:
    with database.engine.begin() as connection:
        connection.execute(update(DatabaseInfo.__table__).values(environment="production"))


def last_export(database) -> audit.AuditRecord:
    with database.uow() as uow:
        return audit.to_record(
            next(e for e in uow.audit.latest(10) if e.action == "records.export")
        )


def ids(output: str) -> set[int]:
    return {hit["person_id"] for hit in json.loads(output)}


def search(capsys, database_url, *extra):
    return run_cli(
        capsys, "search", "person", "exportable", "--json", "--database-url", database_url, *extra
    )


def test_a_test_database_exports_as_before_and_records_it(
    cli, capsys, database, database_url, people
):
    result = search(capsys, database_url)
    assert result.code == 0, result.err
    assert ids(result.out) == {people["complainant"], people["ordinary"]}
    assert "2 record(s) out, 0 withheld; environment=test" in last_export(database).detail


def test_production_needs_a_justification_and_leaves_the_complainant_out(
    cli, capsys, database, database_url, people
):
    production(database)
    refused = search(capsys, database_url)
    assert refused.code == 2 and "needs a justification" in refused.err and refused.out == ""
    result = search(capsys, database_url, "--justification", REASON)
    assert result.code == 0, result.err
    assert ids(result.out) == {people["ordinary"]}
    assert "Tamsin" not in result.out
    event = last_export(database)
    assert event.justification == REASON and "1 withheld" in event.detail


def test_an_explicit_authorisation_is_recorded(cli, capsys, database, database_url, people):
    production(database)
    result = search(capsys, database_url, "--justification", REASON, "--include-protected")
    assert result.code == 0, result.err
    assert people["complainant"] in ids(result.out)
    assert "include_protected=yes" in last_export(database).detail


def test_a_call_handler_may_not_export_from_production(cli, capsys, database, database_url, people):
    production(database)
    cli["name"] = "export.handler"
    result = search(capsys, database_url, "--justification", REASON)
    assert result.code == 2 and "only supervisors and intelligence staff" in result.err
    assert result.out == ""
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.actor, event.action, event.outcome) == (
            "export.handler",
            "records.export",
            "denied",
        )
