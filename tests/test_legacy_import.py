"""`controlroom import legacy` (issue 19, items 1-3, persons, aliases and markers), on
the backend under test: a generated extract with every fault kind reconciles to what
the generator planted; a duplicate of a person already here lands on the review list,
not as a second record; a re-run changes nothing; an interrupted run resumes; imported
people are found by person search; administrators only.
"""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import date

import pytest
from sqlalchemy import func, select

from controlroom.data import copies
from controlroom.data.cold_models import (
    ImportRecord,
    IncidentPerson,
    IntelligenceReport,
    Person,
    PersonAddress,
    PersonAlias,
    WarningMarker,
)
from controlroom.data.models import Incident, Location
from controlroom.domain.legacy import LegacyMapping
from controlroom.domain.roles import Role
from controlroom.services.legacy_import import import_extract
from controlroom.services.legacy_review import ReviewRefused, decide, review_list
from controlroom.services.person_search import search_persons
from controlroom.services.synthetic.legacy_extract import write_extract
from tests.factories import add_person, staff_actor
from tests.maintenance import audit_actions, cli_as_operator

HERE_ALREADY = [
    ("Harriet", "Pemberton", date(1979, 4, 23)),
    ("Desmond", "Okafor", date(1991, 11, 2)),
    ("Glenys", "Whitworth", date(1958, 7, 30)),
    ("Rupert", "Ashdown", date(2001, 1, 15)),
    ("Saoirse", "Fenwick", date(1986, 9, 9)),
]


@pytest.fixture
def extract(database, tmp_path):
    """An extract of 60 people, 5 of them people already here, 4 with bad dates."""
    for forename, surname, born in HERE_ALREADY:
        add_person(database, forename, surname, date_of_birth=born)
    path = tmp_path / "extract"
    planted = write_extract(path, persons=60, duplicates_of=database.uow, duplicates=5)
    return path, planted


def mapping_for(database, path) -> LegacyMapping:
    data = tomllib.loads((path / "mapping.toml").read_text(encoding="utf-8"))
    with database.uow() as uow:
        return LegacyMapping.from_toml(
            data, uow.legacy.marker_codes(), frozenset(uow.legacy.incident_types())
        )


def rows(database, model) -> int:
    with database.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model.__table__))


def records(database) -> dict[str, int]:
    """Rows per table, but the audit trail's (every run adds its event)."""
    counts = copies.table_counts(database.engine)
    return {k: v for k, v in counts.items() if not k.startswith("audit_")}


def test_a_generated_extract_reconciles_with_what_was_planted(database, admin, extract):
    path, planted = extract
    assert planted.duplicates == 5 and planted.bad_dates == 4
    people_before = rows(database, Person)

    result = import_extract(database.uow, admin, path, mapping_for(database, path), chunk=25)

    persons, aliases, addresses, markers = (
        result.count(k) for k in ("persons", "aliases", "addresses", "markers")
    )
    assert (persons.read, persons.imported, persons.matched, persons.rejected) == (
        planted.persons,
        planted.new_persons,
        planted.duplicates,
        planted.bad_dates,
    )
    assert (aliases.read, aliases.imported, aliases.matched, aliases.rejected) == (
        planted.aliases,
        planted.aliases_imported,
        planted.aliases_matched,
        planted.aliases_orphaned,
    )
    assert (addresses.read, addresses.imported, addresses.matched, addresses.rejected) == (
        planted.addresses,
        planted.addresses_imported,
        planted.addresses_matched,
        planted.addresses_empty,
    )
    assert (markers.read, markers.imported, markers.matched, markers.rejected) == (
        planted.markers,
        planted.markers_imported,
        planted.markers_matched,
        planted.markers_unknown_code + planted.markers_bad_date + planted.markers_truncated,
    )
    assert all(f.balances and f.earlier == 0 for f in result.files)
    reasons = [r.reason for r in result.rejections]
    assert sum("date of birth" in r for r in reasons) == planted.bad_dates
    assert sum("unknown warning code" in r for r in reasons) == planted.markers_unknown_code
    assert sum(r.startswith("DATE_FROM") for r in reasons) == planted.markers_bad_date
    assert [r.line for r in result.rejections if r.reason.startswith("truncated")] == [
        planted.markers + 1  # the last line (the header is line 1)
    ]
    assert sum("its person is not in the extract" in r for r in reasons) == (
        planted.aliases_orphaned + planted.incidents_orphaned + planted.reports_orphaned
    )
    incidents, reports = result.count("incidents"), result.count("intelligence")
    assert (incidents.read, incidents.imported, incidents.matched, incidents.rejected) == (
        planted.incidents,
        planted.incidents_imported,
        planted.incidents_matched,
        planted.incidents_unknown_type + planted.incidents_bad_date + planted.incidents_orphaned,
    )
    assert (reports.read, reports.imported, reports.matched, reports.rejected) == (
        planted.reports,
        planted.reports_imported,
        planted.reports_matched,
        planted.reports_unknown_grading + planted.reports_bad_date + planted.reports_orphaned,
    )
    assert planted.incidents_unknown_type and planted.incidents_bad_date
    assert planted.reports_unknown_grading and planted.reports_bad_date
    assert planted.incidents_matched and planted.reports_matched
    assert sum("unknown incident type" in r for r in reasons) == planted.incidents_unknown_type
    assert sum(r.startswith("OPENED") for r in reasons) == planted.incidents_bad_date
    assert sum("unknown grading" in r for r in reasons) == planted.reports_unknown_grading
    assert sum(r.startswith("RECORDED") for r in reasons) == planted.reports_bad_date
    legacy_incidents = select(func.count()).where(Incident.legacy_batch_id == result.batch_id)
    legacy_reports = select(func.count()).where(
        IntelligenceReport.legacy_batch_id == result.batch_id
    )
    with database.engine.connect() as connection:
        assert connection.scalar(legacy_incidents) == planted.incidents_imported
        assert connection.scalar(legacy_reports) == planted.reports_imported
    assert rows(database, Person) == people_before + planted.new_persons
    assert rows(database, PersonAlias) == planted.aliases_imported
    assert rows(database, WarningMarker) == planted.markers_imported
    assert rows(database, PersonAddress) == planted.addresses_imported
    assert reasons.count("no address") == planted.addresses_empty

    report = io.StringIO()
    result.write_csv(report)
    lines = list(csv.reader(io.StringIO(report.getvalue())))
    assert lines[1] == ["persons", "60", str(planted.new_persons), "5", "4", "0"]
    assert len([line for line in lines if line and line[0] in ("persons", "aliases", "markers")])
    assert audit_actions(database.url)[-1][1:3] == ("legacy.import", "success")


def test_a_person_already_here_goes_to_the_review_list_not_in_twice(database, admin, extract):
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    with database.uow() as uow:
        review = uow.legacy.review_list()
        held = {(r.source_id, r.candidate_id) for r in review}
        for forename, surname, born in HERE_ALREADY:
            same = uow.session.scalars(
                select(Person.id).where(
                    func.lower(Person.surname) == surname.lower(), Person.date_of_birth == born
                )
            ).all()
            assert len(same) == 1, (forename, surname)  # never a second record
            assert any(candidate == same[0] for _source, candidate in held)
        assert len(review) == len(HERE_ALREADY)
        assert all(r.held and '"surname"' in r.held for r in review)


def test_every_imported_row_keeps_its_source_system_id_and_batch(database, admin, extract):
    path, _planted = extract
    result = import_extract(database.uow, admin, path, mapping_for(database, path))
    with database.uow() as uow:
        imported = uow.session.scalars(
            select(ImportRecord).where(
                ImportRecord.source_file == "persons", ImportRecord.outcome == "imported"
            )
        ).all()
        assert imported and {(r.source_system, r.batch_id) for r in imported} == {
            ("OLDCAD", result.batch_id)
        }
        first = min(imported, key=lambda r: r.line)
        person = uow.session.get(Person, first.target_id)
        assert person is not None and person.created_by_id is None
        surname, source_id = person.surname, first.source_id
    with (path / "PERSONS.CSV").open(encoding="cp1252") as handle:
        source = next(r for r in csv.DictReader(handle) if r["PERSON_REF"] == source_id)
    assert surname.upper() == source["SURNAME"]


def test_a_re_run_of_the_same_extract_changes_nothing(database, admin, extract):
    path, planted = extract
    mapping = mapping_for(database, path)
    first = import_extract(database.uow, admin, path, mapping)
    before = records(database)

    again = import_extract(database.uow, admin, path, mapping)

    assert records(database) == before
    assert again.resumed and again.batch_id == first.batch_id
    assert [(f.read, f.earlier) for f in again.files] == [
        (planted.persons, planted.persons),
        (planted.aliases, planted.aliases),
        (planted.addresses, planted.addresses),
        (planted.markers, planted.markers),
        (planted.incidents, planted.incidents),
        (planted.reports, planted.reports),
    ]


def test_an_interrupted_run_resumes_where_it_stopped(database, admin, extract):
    path, planted = extract
    mapping = mapping_for(database, path)
    people_before = rows(database, Person)

    def stop_after_the_first_chunk(source_file, done, total):
        if source_file == "persons" and done >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_extract(
            database.uow, admin, path, mapping, progress=stop_after_the_first_chunk, chunk=20
        )
    assert 0 < rows(database, Person) - people_before < planted.new_persons  # half-way

    result = import_extract(database.uow, admin, path, mapping, chunk=20)
    assert result.resumed
    persons = result.count("persons")
    assert persons.earlier == 20 and persons.balances
    assert rows(database, Person) == people_before + planted.new_persons
    with database.uow() as uow:
        outcomes = uow.legacy.outcomes(result.batch_id)
    assert outcomes[("persons", "imported")] == planted.new_persons
    assert outcomes[("persons", "matched")] == planted.duplicates
    assert outcomes[("markers", "imported")] == planted.markers_imported


def test_imported_people_are_found_by_person_search(database, admin, supervisor, extract):
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    with database.uow() as uow:
        record = uow.session.scalars(
            select(ImportRecord)
            .where(ImportRecord.source_file == "persons", ImportRecord.outcome == "imported")
            .order_by(ImportRecord.line.desc())
        ).first()
        person = uow.session.get(Person, record.target_id)
        query = f"{person.forename} {person.surname} {person.date_of_birth:%d/%m/%Y}"
        wanted = record.target_id
    hits = search_persons(database.uow(), supervisor, query, today=date(2026, 11, 26))
    assert hits and hits[0].person_id == wanted


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CALL_HANDLER])
def test_only_administrators_import(database, extract, role):
    path, _planted = extract
    member = staff_actor(database, role)
    people = rows(database, Person)
    with pytest.raises(PermissionError):
        import_extract(database.uow, member, path, mapping_for(database, path))
    assert rows(database, Person) == people
    assert audit_actions(database.url)[-1][:3] == (member.username, "database.maintain", "denied")


def test_the_command_shows_the_reconciliation_and_writes_the_report(
    capsys, monkeypatch, tmp_path, database, database_url, extract
):
    path, planted = extract
    run = cli_as_operator(capsys, monkeypatch, tmp_path)
    report = tmp_path / "reconciliation.csv"
    result = run(
        "import", "legacy", str(path), "--database-url", database_url, "--report", str(report)
    )
    assert result.code == 0, result.err
    persons_row = next(line for line in result.out.splitlines() if "│ persons" in line)
    assert [cell.strip() for cell in persons_row.split("│")[2:7]] == [
        str(planted.persons),
        str(planted.new_persons),
        "5",
        "4",
        "0",
    ]
    assert "truncated line: 3 of 5 fields" in report.read_text(encoding="utf-8")


# --- the review list ---------------------------------------------------------------------


def imported_and_reviewed(database, admin, supervisor, extract):
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    items = review_list(database.uow(), supervisor)
    return path, max(items, key=lambda item: item.waiting)


def belongings(database, person_id: int) -> tuple[int, int]:
    with database.engine.connect() as connection:
        aliases = connection.scalar(select(func.count()).where(PersonAlias.person_id == person_id))
        markers = connection.scalar(
            select(func.count()).where(WarningMarker.person_id == person_id)
        )
    return aliases, markers


def test_the_review_list_shows_each_held_person_beside_the_one_it_matched(
    database, admin, supervisor, extract
):
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    items = review_list(database.uow(), supervisor)
    assert len(items) == len(HERE_ALREADY)
    for item in items:
        assert item.legacy_name.split()[-1] == item.candidate_name.split()[-1]
        assert item.legacy_born == item.candidate_born
    assert any(item.waiting for item in items)
    assert audit_actions(database.url)[-1][1:3] == ("legacy.review", "success")


def test_the_same_person_gains_the_held_aliases_and_markers_and_no_second_record(
    database, admin, supervisor, extract
):
    path, item = imported_and_reviewed(database, admin, supervisor, extract)
    people = rows(database, Person)
    before = belongings(database, item.candidate_id)

    decision = decide(
        database.uow(), supervisor, item.record_id, same_person=True, reason="same DOB and town"
    )

    assert (decision.person_id, decision.same_person) == (item.candidate_id, True)
    moved = decision.aliases + decision.addresses + decision.markers
    assert moved + decision.incidents + decision.intelligence == item.waiting > 0
    assert decision.incidents and decision.intelligence  # the generator gives them both
    assert rows(database, Person) == people
    with database.engine.connect() as connection:  # still LEGACY, now on that person
        linked = connection.scalar(
            select(func.count())
            .select_from(IncidentPerson)
            .join(Incident, Incident.id == IncidentPerson.incident_id)
            .where(
                IncidentPerson.person_id == item.candidate_id, Incident.legacy_batch_id.is_not(None)
            )
        )
    assert linked == decision.incidents
    after = belongings(database, item.candidate_id)
    assert (after[0] - before[0], after[1] - before[1]) == (decision.aliases, decision.markers)
    assert item.record_id not in {i.record_id for i in review_list(database.uow(), supervisor)}
    actor, action, outcome, detail = audit_actions(database.url)[-2]
    assert (actor, action, outcome) == (supervisor.username, "legacy.decide", "success")
    assert "the same person as record" in detail

    again = import_extract(database.uow, admin, path, mapping_for(database, path))
    assert all(f.read == f.earlier for f in again.files)  # decided rows stay decided
    assert rows(database, Person) == people


def test_a_different_person_is_imported_after_all_with_what_was_held(
    database, admin, supervisor, extract
):
    _path, item = imported_and_reviewed(database, admin, supervisor, extract)
    people = rows(database, Person)
    decision = decide(
        database.uow(), supervisor, item.record_id, same_person=False, reason="different mother"
    )
    assert decision.person_id != item.candidate_id
    assert rows(database, Person) == people + 1
    assert belongings(database, decision.person_id) == (decision.aliases, decision.markers)
    with database.engine.connect() as connection:
        homes = connection.scalar(
            select(func.count()).where(PersonAddress.person_id == decision.person_id)
        )
    assert homes == decision.addresses
    with pytest.raises(ReviewRefused, match="no person waiting"):
        decide(database.uow(), supervisor, item.record_id, same_person=True, reason="x" * 12)


def test_only_supervisors_decide_and_a_reason_is_required(database, admin, supervisor, extract):
    _path, item = imported_and_reviewed(database, admin, supervisor, extract)
    handler = staff_actor(database, Role.CALL_HANDLER)
    with pytest.raises(PermissionError):
        decide(database.uow(), handler, item.record_id, same_person=True, reason="looks the same")
    assert audit_actions(database.url)[-1][:3] == (handler.username, "legacy.decide", "denied")
    with pytest.raises(ReviewRefused, match="write why"):
        decide(database.uow(), supervisor, item.record_id, same_person=True, reason="same")


def test_the_review_commands_list_and_decide(
    capsys, monkeypatch, tmp_path, database, database_url, admin, supervisor, extract
):
    path, _planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    run = cli_as_operator(capsys, monkeypatch, tmp_path)
    listed = run("import", "review", "--database-url", database_url, as_user=supervisor.username)
    assert listed.code == 0, listed.err
    first_id = next(
        line.split("│")[1].strip() for line in listed.out.splitlines() if "OLDCAD" in line
    )
    decided = run(
        "import",
        "decide",
        first_id,
        "--different-person",
        "--reason",
        "born in another town",
        "--database-url",
        database_url,
        as_user=supervisor.username,
    )
    assert decided.code == 0, decided.err
    assert f"review-list entry {first_id}: a new person, record" in decided.out
    assert "addresses" in decided.out
    refused = run("import", "review", "--database-url", database_url)  # the administrator
    assert refused.code == 2 and "may not" in refused.err


def test_free_text_addresses_become_unverified_locations(database, admin, extract):
    path, planted = extract
    import_extract(database.uow, admin, path, mapping_for(database, path))
    with database.uow() as uow:
        made = uow.session.scalars(select(Location).where(Location.verified.is_(False))).all()
        assert 0 < len(made) <= planted.addresses_imported
        assert all(location.postcode and location.address[:1].isdigit() for location in made)
        assert all(
            location.street and location.street == location.street.title() for location in made
        )
