"""`controlroom search person|intel`: the same ranked results as the screens, for other
systems, run as the OS user and audited — driven in-process through `cli.main([...])`
on the small synthetic force (SQLite, or PostgreSQL with CONTROLROOM_TEST_DATABASE_URL).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from controlroom import cli
from controlroom.data.cold_models import IntelligenceSubject, Person, WarningMarker
from controlroom.data.models import AuditEvent
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor, process_account
from controlroom.domain.incidents import REFERENCE_ZONE
from controlroom.domain.name_variants import SURNAME_FAMILIES
from controlroom.domain.roles import Role
from controlroom.services import staff
from controlroom.services.person_search import search_persons
from tests.cli_harness import Result, isolate_cli_environment, run_cli
from tests.databases import TEST_ADMIN
from tests.factories import staff_actor

OS_USER = process_account()
HOSTILE = "[bold red]x[/] [0] \x1b[2J\x1b]0;pwned\x07 ' OR 1=1 --; DROP TABLE person; %_ \u202e"


@pytest.fixture(autouse=True)
def cli_environment(monkeypatch, tmp_path):
    isolate_cli_environment(monkeypatch, tmp_path, columns=250)


@pytest.fixture
def run(capsys):
    return lambda *argv: run_cli(capsys, *argv)


def administrator(database: Database) -> Actor:
    with database.uow() as uow:
        admin = uow.staff.by_username(TEST_ADMIN)
        return Actor(
            staff_id=admin.id, username=admin.username, role=Role(admin.role), terminal="local"
        )


@pytest.fixture
def force(seeded_database_url):
    """The seeded force with the OS user enrolled (as a call handler) by its administrator."""
    database = Database(seeded_database_url)
    if OS_USER != TEST_ADMIN:
        staff.add_staff(
            database.uow(),
            administrator(database),
            username=OS_USER,
            role=Role.CALL_HANDLER,
            display_name="Test Operator",
        )
    yield database
    database.dispose()


def search(run, force, *argv: str) -> Result:
    return run(
        "search",
        *argv,
        "--database-url",
        str(force.engine.url.render_as_string(hide_password=False)),
    )


@dataclass(frozen=True)
class Audited:
    actor: str
    detail: str


def audit_rows(force, action: str) -> list[Audited]:
    with force.uow() as uow:
        return [
            Audited(actor, detail)
            for actor, detail in uow.session.execute(
                select(AuditEvent.actor, AuditEvent.detail)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        ]


def marked_person_with_a_variant_surname(force):
    """(id, forename, surname, another spelling of the surname) of an unrestricted
    person carrying a warning marker."""
    family_of = {s: family for family in SURNAME_FAMILIES for s in family}
    with force.uow() as uow:
        rows = uow.session.execute(
            select(Person.id, Person.forename, Person.surname)
            .join(WarningMarker, WarningMarker.person_id == Person.id)
            .where(
                Person.surname.in_(family_of),
                Person.restricted.is_(False),
                WarningMarker.valid_to.is_(None),
            )
            .order_by(Person.id)
        ).all()
    assert rows, "the small force should hold marked people with variant surnames"
    person_id, forename, surname = rows[0]
    variant = next(s for s in family_of[surname] if s != surname)
    return person_id, forename, surname, variant


def test_a_misspelled_name_finds_the_person_with_markers_in_words_as_json(run, force):
    person_id, forename, _, variant = marked_person_with_a_variant_surname(force)

    result = search(run, force, "person", f"{forename} {variant}", "--json")

    assert result.code == 0, result.err
    hits = json.loads(result.out)
    assert person_id in [hit["person_id"] for hit in hits[:5]]
    hit = next(hit for hit in hits if hit["person_id"] == person_id)
    assert hit["markers"] and all(
        isinstance(label, str) and label.isupper() for label in hit["markers"]
    )
    assert hit["match"] in ("phonetic", "fuzzy", "exact")
    assert hit["date_of_birth"] is None or date.fromisoformat(hit["date_of_birth"])
    assert {
        "surname",
        "forename",
        "address",
        "incident_count",
        "intelligence_count",
        "restricted",
        "ask",
        "why",
    } <= set(hit)
    # Why it matched, one fact each: the forename as stored, the surname another spelling.
    assert hit["why"][0] == "forename exact" and hit["why"][1].startswith("surname ")


def test_json_keeps_its_fields_and_adds_only_why(run, force):
    result = search(run, force, "person", "smith", "--json", "--limit", "3")

    assert result.code == 0, result.err
    assert [set(hit) for hit in json.loads(result.out)] == [JSON_FIELDS] * 3


JSON_FIELDS = {
    "person_id",
    "forename",
    "surname",
    "date_of_birth",
    "address",
    "markers",
    "marker_codes",
    "match",
    "score",
    "incident_count",
    "intelligence_count",
    "restricted",
    "ask",
    "why",
}


def test_the_table_reads_at_80_columns(run, force, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    person_id, forename, surname, variant = marked_person_with_a_variant_surname(force)
    expected = next(
        hit
        for hit in json.loads(search(run, force, "person", f"{forename} {variant}", "--json").out)
        if hit["person_id"] == person_id
    )

    result = search(run, force, "person", f"{forename} {variant}")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # Each hit's address on a line of its own, whole (it once came a letter a line),
    # and why it matched.
    text = "\n".join(line.strip(" │|") for line in lines)
    assert expected["address"] and expected["address"] in text
    assert "why: " + " \u00b7 ".join(expected["why"]) in text


def test_json_has_the_same_ranking_as_the_service_the_screen_calls(run, force):
    result = search(run, force, "person", "smyth", "--json", "--limit", "15")

    assert result.code == 0, result.err
    actor = staff_actor(force, Role.CALL_HANDLER)  # administrators may not search persons
    today = datetime.now(UTC).astimezone(REFERENCE_ZONE).date()
    expected = [
        hit.person_id for hit in search_persons(force.uow(), actor, "smyth", today=today, limit=15)
    ]
    assert [hit["person_id"] for hit in json.loads(result.out)] == expected
    assert len(expected) == 15


def test_the_table_shows_name_markers_and_match_in_words(run, force):
    person_id, forename, surname, variant = marked_person_with_a_variant_surname(force)

    result = search(run, force, "person", f"{forename} {variant}")

    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if f" {person_id} " in line)
    assert f"{forename} {surname}" in line
    assert any(word.isupper() and len(word) > 3 for word in line.split())  # a marker label


def test_nobody_found_is_an_empty_list_and_exit_0(run, force):
    as_json = search(run, force, "person", "Zzyzxqv Qwxyzzt", "--json")
    as_table = search(run, force, "person", "Zzyzxqv Qwxyzzt")

    assert (as_json.code, json.loads(as_json.out)) == (0, [])
    assert as_table.code == 0 and "No one found." in as_table.out


@pytest.mark.parametrize("limit", ["0", "abc", "501", "-3", "2.5", "\u0662"])
def test_a_bad_limit_is_refused_with_exit_2_and_nothing_searched(run, force, limit):
    result = search(run, force, "person", "smith", f"--limit={limit}")

    assert result.code == 2
    assert "--limit must be a whole number from 1 to 500" in result.err
    assert audit_rows(force, "person.search") == []


def test_intel_needs_text_or_a_person_and_a_real_person_id(run, force):
    assert search(run, force, "intel").code == 2
    for bad in ("abc", "0", "99999999999999999999"):
        refused = search(run, force, "intel", "--person", bad)
        assert refused.code == 2 and "--person must be a whole number" in refused.err


def test_hostile_query_text_is_harmless(run, force):
    with force.uow() as uow:
        before = uow.session.scalar(select(func.count()).select_from(Person))

    results = [
        search(run, force, "person", HOSTILE),
        search(run, force, "person", HOSTILE, "--json"),
        search(run, force, "intel", HOSTILE),
        search(run, force, "intel", HOSTILE, "--json"),
    ]

    for result in results:
        assert result.code in (0, 2), result.err  # found nothing, or refused with a message
        assert "Traceback" not in result.err
        assert "\x1b" not in result.out + result.err and "\u202e" not in result.out
    assert results[0].code == 0 and json.loads(results[1].out) == []
    with force.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Person)) == before
    assert "DROP TABLE person" in audit_rows(force, "person.search")[0].detail


def test_hostile_record_text_prints_literally_with_visible_markers(run, force):
    with force.uow() as uow:
        uow.session.add(
            Person(
                forename="[bold]Evil[/bold]",
                surname="Qwertyson\x1b[2J\u202e",
                date_of_birth=date(1980, 1, 2),
            )
        )
        uow.commit()

    table = search(run, force, "person", "Qwertyson")
    as_json = search(run, force, "person", "Qwertyson", "--json")

    assert table.code == 0, table.err
    assert "[bold]Evil[/bold]" in table.out
    assert "\x1b" not in table.out and "\u202e" not in table.out
    assert "\x1b" not in as_json.out and "\u202e" not in as_json.out  # escaped as \\u...
    assert json.loads(as_json.out)[0]["surname"] == "Qwertyson\x1b[2J\u202e"


def test_an_unknown_os_user_is_refused_with_exit_2(run, force, monkeypatch):
    monkeypatch.setattr(cli.common, "_os_user", lambda: "not.enrolled")

    result = search(run, force, "person", "smith", "--json")

    assert result.code == 2
    assert "access refused" in result.err and "not.enrolled" in result.err
    assert result.out == ""
    assert audit_rows(force, "person.search") == []


def test_every_search_writes_one_audit_row_as_the_os_user(run, force):
    with force.uow() as uow:
        subject = uow.session.scalar(
            select(IntelligenceSubject.person_id)
            .where(IntelligenceSubject.person_id.is_not(None))
            .limit(1)
        )

    assert search(run, force, "person", "smith").code == 0
    assert search(run, force, "person", "jon smyth", "--json").code == 0
    reports = search(run, force, "intel", "--person", str(subject), "--json")
    assert search(run, force, "intel", "the").code == 0

    assert reports.code == 0, reports.err
    people, intel = audit_rows(force, "person.search"), audit_rows(force, "intel.search")
    assert [row.actor for row in people] == [OS_USER, OS_USER]
    assert [row.actor for row in intel] == [OS_USER, OS_USER]
    assert "query='jon smyth'" in people[1].detail
    assert f"person_id={subject}" in intel[0].detail
    listed = json.loads(reports.out)
    assert listed and all(
        report["restricted"] or subject in [s["person_id"] for s in report["subjects"]]
        for report in listed
    )
    assert all(datetime.fromisoformat(report["submitted_at"]) for report in listed)


def seeded_report(force, what: str, *conditions):
    """(the first seeded report meeting `conditions`, a person it names), the report
    detached; skips the test when that report names no person."""
    from controlroom.data.cold_models import IntelligenceReport

    with force.uow() as uow:
        report = uow.session.scalar(
            select(IntelligenceReport).where(*conditions).order_by(IntelligenceReport.id).limit(1)
        )
        subject = uow.session.scalar(
            select(IntelligenceSubject.person_id).where(
                IntelligenceSubject.report_id == report.id,
                IntelligenceSubject.person_id.is_not(None),
            )
        )
        uow.session.expunge(report)
    if subject is None:
        pytest.skip(f"the seeded {what} report has no person subject")
    return report, subject


def test_a_restricted_report_shows_only_whom_to_ask(run, force):
    from controlroom.data.cold_models import IntelligenceReport

    hidden, subject = seeded_report(force, "restricted", IntelligenceReport.restricted.is_(True))
    reference, text = hidden.reference, hidden.text

    table = search(run, force, "intel", "--person", str(subject), "--limit", "500")
    as_json = search(run, force, "intel", "--person", str(subject), "--json", "--limit", "500")

    assert table.code == 0, table.err
    row = next(r for r in json.loads(as_json.out) if r["reference"] == reference)
    assert row["restricted"] and row["preview"] is None and row["subjects"] == [] and row["ask"]
    line = next(line for line in table.out.splitlines() if reference in line)
    assert "RESTRICTED \u2014 ask" in line
    assert text[:20] not in line


def test_a_handling_c_report_gives_its_conditions_before_its_text(run, force):
    """Handling C: the JSON carries the conditions, and the table's report column
    starts with them."""
    from controlroom.data.cold_models import IntelligenceReport

    report, subject = seeded_report(
        force,
        "handling-C",
        IntelligenceReport.handling_code == "C",
        IntelligenceReport.restricted.is_(False),
    )
    reference, conditions = report.reference, report.handling_conditions

    as_json = search(run, force, "intel", "--person", str(subject), "--json", "--limit", "500")
    row = next(r for r in json.loads(as_json.out) if r["reference"] == reference)
    assert row["handling_code"] == "C"
    assert row["conditions"] == " ".join(conditions.split())
    plain = [r for r in json.loads(as_json.out) if r["handling_code"] == "P"]
    assert all(r["conditions"] is None for r in plain)
    table = search(run, force, "intel", "--person", str(subject), "--limit", "500")
    assert table.code == 0, table.err
    line = next(line for line in table.out.splitlines() if reference in line)
    assert "HANDLING C:" in line
