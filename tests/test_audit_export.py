"""`audit export` for the data-protection officer: who may run it, the justification a
production database asks for, and what it leaves out (restricted records and
sexual-offence complainants) unless explicitly authorised, which is recorded."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import update

from controlroom.data.cold_models import Person
from controlroom.data.models import DatabaseInfo
from controlroom.domain.roles import Role
from controlroom.services import audit, incidents
from controlroom.services.audit_trail import WITHHELD, AuditTrailRefused, export_events
from tests.audit_stations import enrol
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import SEED_ANCHOR
from tests.factories import add_person

SINCE = date(2000, 1, 1)
REASON = "Subject access request 2026/114"


def make_production(database) -> None:
    with database.engine.begin() as connection:
        connection.execute(update(DatabaseInfo.__table__).values(environment="production"))


@pytest.fixture
def trail(database, database_url):
    """Looks at an ordinary person, a restricted one and a sexual-offence complainant,
    and a search naming someone."""
    supervisor = enrol(database_url, Role.SUPERVISOR, "dpo.supervisor")
    handler = enrol(database_url, Role.CALL_HANDLER, "export.handler")
    ordinary = add_person(database, "Olive", "Ordinary", date_of_birth=date(1970, 1, 1))
    hidden = add_person(database, "Rory", "Restricted")
    complainant = add_person(database, "Cass", "Complainant")
    with database.uow() as uow:
        uow.session.get(Person, hidden).restricted = True
        uow.commit()
    incidents.save_new_incident(
        database.uow(),
        supervisor,
        incidents.NewIncident(
            idempotency_key="sexo-1",
            type_code="SEXO",
            location_text="4 Quiet Close",
            thrive_skipped=True,
            persons=((complainant, "victim"),),
        ),
        SEED_ANCHOR,
        ("G1", "G2", "G3", "G4"),
    )
    with database.uow() as uow:
        for person, why in (
            (ordinary, None),
            (hidden, "MAPPA review"),
            (complainant, "victim contact"),
        ):
            audit.record(uow, handler, "person.view", "person", person, justification=why)
        audit.record(
            uow,
            handler,
            "person.search",
            "person",
            None,
            detail="query='cass complainant'; shown: " + str(complainant),
        )
        uow.commit()
    return {
        "supervisor": supervisor,
        "handler": handler,
        "ordinary": ordinary,
        "hidden": hidden,
        "complainant": complainant,
    }


def test_only_supervisors_and_administrators_may_export_and_a_refusal_is_audited(database, trail):
    with pytest.raises(AuditTrailRefused, match="only supervisors and administrators"):
        export_events(database.uow(), trail["handler"], since=SINCE, justification=REASON)
    with database.uow() as uow:
        last = uow.audit.latest(1)[0]
        assert (last.actor, last.action, last.outcome) == (
            "export.handler",
            "audit.export",
            "denied",
        )


def test_a_test_database_exports_everything_without_a_reason(database, trail):
    exported = export_events(database.uow(), trail["supervisor"], since=SINCE)
    assert exported.withheld == 0
    shown = {e.object_id for e in exported.events if e.action == "person.view"}
    assert {str(trail["hidden"]), str(trail["complainant"])} <= shown


def test_production_needs_a_justification_and_withholds_protected_people(database, trail):
    make_production(database)
    with pytest.raises(AuditTrailRefused, match="needs a justification"):
        export_events(database.uow(), trail["supervisor"], since=SINCE)
    exported = export_events(database.uow(), trail["supervisor"], since=SINCE, justification=REASON)
    views = [e for e in exported.events if e.action == "person.view"]
    by_id = {e.object_id: e for e in views}
    assert str(trail["ordinary"]) in by_id  # ordinary records are named
    assert str(trail["hidden"]) not in by_id and str(trail["complainant"]) not in by_id
    withheld = [e for e in views if e.withheld]
    assert len(withheld) == 2
    assert {e.object_id for e in withheld} == {WITHHELD}
    assert {e.justification for e in withheld} == {WITHHELD}
    assert all(e.actor == "export.handler" for e in withheld)  # who looked is still there
    [search] = [e for e in exported.events if e.action == "person.search"]
    assert "cass" not in (search.detail or "").lower()
    with database.uow() as uow:
        last = audit.to_record(uow.audit.latest(1)[0])
    assert (last.action, last.justification) == ("audit.export", REASON)
    assert "withheld" in last.detail and "environment=production" in last.detail


def test_an_explicit_authorisation_includes_them_and_is_recorded(database, trail):
    make_production(database)
    exported = export_events(
        database.uow(),
        trail["supervisor"],
        since=SINCE,
        person_id=trail["complainant"],
        justification=REASON,
        include_protected=True,
    )
    assert [e.justification for e in exported.events if e.action == "person.view"] == [
        "victim contact"
    ]
    with database.uow() as uow:
        last = audit.to_record(uow.audit.latest(1)[0])
    assert "include_protected=yes" in last.detail
    assert f"person={trail['complainant']}" in last.detail


def test_an_export_about_a_protected_person_needs_the_authorisation(database, trail):
    make_production(database)
    with pytest.raises(AuditTrailRefused, match="include-protected"):
        export_events(
            database.uow(),
            trail["supervisor"],
            since=SINCE,
            person_id=trail["complainant"],
            justification=REASON,
        )


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, tmp_path, database_url, trail):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: "dpo.supervisor")
    return database_url


def test_export_writes_csv_or_json_lines_to_stdout(cli, capsys, trail):
    result = run_cli(
        capsys,
        "audit",
        "export",
        "--since",
        "2000-01-01",
        "--person",
        str(trail["ordinary"]),
        "--database-url",
        cli,
    )
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["actor"], r["action"], r["object_id"]) for r in rows] == [
        ("export.handler", "person.view", str(trail["ordinary"]))
    ]
    assert "1 event(s) exported, 0 withheld (test database)" in result.err
    lines = run_cli(
        capsys,
        "audit",
        "export",
        "--since",
        "2000-01-01",
        "--format",
        "jsonl",
        "--database-url",
        cli,
    )
    assert lines.code == 0
    events = [json.loads(line) for line in lines.out.splitlines()]
    assert events[0]["seq"] == 1 and len(events[0]["event_hash"]) == 64


def test_export_refuses_a_bad_date_and_a_missing_reason_on_production(cli, capsys, database):
    bad = run_cli(capsys, "audit", "export", "--since", "26/11/2026", "--database-url", cli)
    assert bad.code == 2 and "--since must be a date as YYYY-MM-DD" in bad.err
    make_production(database)
    refused = run_cli(capsys, "audit", "export", "--since", "2000-01-01", "--database-url", cli)
    assert refused.code == 2 and "needs a justification" in refused.err
    assert refused.out == ""
