"""An old system's incidents and intelligence (issue 19, item 1), on the backend under
test: imported read-only, every change refused in words (and audited) whichever service
or path tries, marked LEGACY in what the screens get, and found by the same searches
as any other record (by reference, incident list, intelligence search, the person's
record).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import ImportRecord, IncidentLogEntry, IntelligenceReport
from controlroom.data.models import Incident
from controlroom.domain.legacy import LegacyReadOnly
from controlroom.domain.roles import Role
from controlroom.services import incidents, intelligence
from controlroom.services.intelligence import IntelligenceInputError
from controlroom.services.legacy_import import import_extract
from controlroom.services.person_record import view_person
from controlroom.services.synthetic.legacy_extract import write_extract
from tests.factories import staff_actor
from tests.maintenance import audit_actions, cli_as_operator
from tests.test_legacy_import import mapping_for

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 7)


@pytest.fixture
def imported(database, admin, tmp_path):
    """A 40-person extract imported: (a LEGACY incident linked to a person, its person's
    id, a LEGACY report about that person)."""
    path = tmp_path / "extract"
    write_extract(path, persons=40)
    import_extract(database.uow, admin, path, mapping_for(database, path))
    with database.uow() as uow:
        session = uow.session
        incident = session.scalars(
            select(Incident)
            .where(Incident.legacy_batch_id.is_not(None), Incident.persons.any())
            .order_by(Incident.id)
        ).first()
        assert incident is not None
        person_id = incident.persons[0].person_id
        report = session.scalars(
            select(IntelligenceReport)
            .where(
                IntelligenceReport.legacy_batch_id.is_not(None),
                IntelligenceReport.subjects.any(person_id=person_id),
            )
            .order_by(IntelligenceReport.id)
        ).first()
        assert report is not None
        return incident.reference, incident.id, incident.version, person_id, report.id


def test_an_imported_incident_keeps_its_provenance_and_reads_legacy(database, supervisor, imported):
    reference, incident_id, _version, person_id, _report = imported
    detail = incidents.view_incident(database.uow(), supervisor, reference.lower(), today=TODAY)
    assert detail.legacy and detail.status == "closed" and detail.id == incident_id
    assert reference.startswith("OLDCAD-I")
    assert any(p.person_id == person_id for p in detail.persons)
    with database.uow() as uow:
        ledger = uow.session.scalars(
            select(ImportRecord).where(
                ImportRecord.source_file == "incidents", ImportRecord.target_id == incident_id
            )
        ).one()
        assert (ledger.source_system, ledger.source_id) == ("OLDCAD", reference.split("-", 1)[1])
        assert uow.session.get(Incident, incident_id).legacy_batch_id == ledger.batch_id


def test_services_refuse_to_change_a_legacy_incident_in_words(database, supervisor, imported):
    reference, incident_id, version, _person, _report = imported
    with pytest.raises(LegacyReadOnly, match=r"LEGACY incident .* read-only"):
        incidents.add_note(database.uow(), supervisor, incident_id, "a new note", NOW)
    assert audit_actions(database.url)[-1][1:3] == ("incident.note", "denied")
    with pytest.raises(LegacyReadOnly, match=reference):
        incidents.change_grade(
            database.uow(),
            supervisor,
            incident_id,
            "G1",
            "it was worse than that",
            version,
            NOW,
            ("G1", "G2", "G3", "G4"),
        )
    detail = incidents.view_incident(database.uow(), supervisor, reference, today=TODAY)
    assert detail.version == version and not detail.log


def test_no_other_path_changes_a_legacy_record_either(database, supervisor, imported):
    """The data layer's backstop: an ORM change, or a row added to the incident, by any
    code that forgot the check, is refused at the flush."""
    _reference, incident_id, _version, _person, report_id = imported
    with database.uow() as uow, pytest.raises(LegacyReadOnly):
        uow.session.get(Incident, incident_id).narrative = "rewritten"
        uow.flush()
    with database.uow() as uow, pytest.raises(LegacyReadOnly):
        uow.add(
            IncidentLogEntry(
                incident_id=incident_id, entered_by_id=supervisor.staff_id, kind="note", text="x"
            )
        )
        uow.flush()
    with database.uow() as uow, pytest.raises(LegacyReadOnly):
        uow.session.get(IntelligenceReport, report_id).text = "rewritten"
        uow.flush()
    with database.uow() as uow:  # an ordinary incident is untouched by the guard
        assert uow.session.get(Incident, incident_id).narrative != "rewritten"


def test_a_legacy_report_cannot_be_superseded(database, imported):
    *_, person_id, report_id = imported
    officer = staff_actor(database, Role.INTELLIGENCE)
    with pytest.raises(IntelligenceInputError, match="LEGACY intelligence report"):
        intelligence.submit_report(
            database.uow(),
            officer,
            source="1",
            intelligence="A",
            handling="P",
            conditions=None,
            text="a correction",
            person_ids=(person_id,),
            supersedes_id=report_id,
            now=NOW,
        )


def test_legacy_records_are_found_by_the_same_searches(database, supervisor, imported):
    reference, incident_id, _version, person_id, report_id = imported
    closed = incidents.list_incidents(database.uow(), supervisor, statuses=("closed",))
    assert any(i.id == incident_id and i.legacy for i in closed)
    hits = incidents.find_references(database.uow(), supervisor, reference.split("-", 1)[1])
    assert [(h.reference, h.legacy) for h in hits] == [(reference, True)]

    found = intelligence.search_reports(database.uow(), supervisor, text="vehicle")
    assert report_id in {r.id for r in found if r.legacy}
    about = intelligence.search_reports(database.uow(), supervisor, person_id=person_id)
    assert [r.legacy for r in about if r.id == report_id] == [True]
    report = intelligence.view_report(database.uow(), supervisor, report_id)
    assert report.legacy and report.text.startswith("SYNTHETIC OLD INTELLIGENCE")

    record = view_person(database.uow(), supervisor, person_id, today=TODAY)
    assert [i.legacy for i in record.incidents if i.incident_id == incident_id] == [True]
    linked = intelligence.reports_for_person(database.uow(), supervisor, person_id)
    assert [r.legacy for r in linked if r.id == report_id] == [True]


def test_legacy_incidents_stay_out_of_crime_data_integrity(database, imported):
    """The old system's crimes were recorded there: its assaults and burglaries must not
    count here as crimes Control Room failed to record."""
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    with database.uow() as uow:
        legacy_crime_types = uow.session.scalar(
            select(func.count()).where(
                Incident.legacy_batch_id.is_not(None),
                Incident.opening_type_code.in_(("ASLT", "BURGR", "DOM")),
            )
        )
        assert legacy_crime_types  # the generator's old incidents include crime types
        assert list(uow.crimes.crime_related(start, end)) == []


def test_the_search_command_marks_legacy_reports(
    database, database_url, supervisor, imported, capsys, monkeypatch, tmp_path
):
    *_, report_id = imported
    run = cli_as_operator(capsys, monkeypatch, tmp_path)
    found = run(
        "search",
        "intel",
        "vehicle",
        "--json",
        "--database-url",
        database_url,
        as_user=supervisor.username,
    )
    assert found.code == 0, found.err
    reports = {r["id"]: r for r in json.loads(found.out)}
    assert reports[report_id]["legacy"] is True
    shown = run(
        "search", "intel", "vehicle", "--database-url", database_url, as_user=supervisor.username
    )
    assert "LEGACY" in shown.out
