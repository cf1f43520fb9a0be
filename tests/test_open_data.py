"""The anonymised open-data export (data.police.uk street-level CSV): the domain mapping,
the service on both backends, the CLI, and the permission table's answer (audited)."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from controlroom.data.cold_models import Crime
from controlroom.data.models import DatabaseInfo, Incident
from controlroom.domain import open_data
from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.domain.spreadsheet import csv_writer, safe_cell
from controlroom.services import crimes, incidents
from controlroom.services.access import PermissionDenied
from controlroom.services.open_data import export_month
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.factories import add_location, add_person, staff_actor

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
FORCE = "Wrenshire Constabulary"
SALT = "test-salt"
GRADES = grade_codes()
REASON = "Monthly publication to data.police.uk"


# --- domain ------------------------------------------------------------------------------


def test_every_mapped_type_is_one_of_the_fourteen_and_the_csv_types_are_all_decided():
    assert len(open_data.CRIME_TYPES) == 14
    assert set(open_data.OPEN_DATA_TYPE.values()) <= set(open_data.CRIME_TYPES)
    from pathlib import Path

    table = Path(__file__).resolve().parents[1] / "db" / "incident_type.csv"
    rows = list(csv.DictReader(table.read_text().splitlines()))
    crime_codes = {r["code"] for r in rows if r["heading"] in {"Crime", "Anti-Social Behaviour"}}
    undecided = crime_codes - set(open_data.OPEN_DATA_TYPE) - set(open_data.NOT_EXPORTABLE_NOTE)
    assert not undecided  # every crime or ASB type is mapped or named as not exportable


def test_mapping_examples():
    assert open_data.open_data_type("SEXO") == "Violence and sexual offences"
    assert open_data.open_data_type("burgr") == "Burglary"
    assert open_data.open_data_type("NOISE") == "Anti-social behaviour"
    assert open_data.open_data_type("FRAUD") is None
    assert open_data.open_data_type("WELF") is None and open_data.open_data_type(None) is None


def test_months_snapping_and_ids():
    assert open_data.parse_month("2026-11") == date(2026, 11, 1)
    assert open_data.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    for bad in ("2026-13", "11/2026", "2026-1", "", "abcd-ef"):
        with pytest.raises(ValueError):
            open_data.parse_month(bad)
    assert open_data.snap(53.8213, -1.5781) == (53.82, -1.58)
    assert open_data.on_or_near("  Mill   Lane ") == "On or near Mill Lane"
    assert open_data.on_or_near(None) == "No location"
    one = open_data.crime_id("a", 1)
    # Published Crime IDs never change: the digest of "<salt>:<crime record id>".
    for number in (1, 9, 123_456_789):
        assert open_data.crime_ids("s" * 64)(number) == (
            hashlib.sha256(f"{'s' * 64}:{number}".encode()).hexdigest()
        )
    assert re.fullmatch(r"[0-9a-f]{64}", one)
    assert one != open_data.crime_id("b", 1) and one != open_data.crime_id("a", 2)
    with pytest.raises(ValueError):
        open_data.crime_id("", 1)


def _street(**changes):
    row = dict(
        zip(
            open_data.COLUMNS,
            (
                "a" * 64,
                "2026-11",
                "Wren Police",
                "Wren Police",
                "-1.580000",
                "53.820000",
                "On or near Wren Close",
                "",
                "",
                "Burglary",
                "Local resolution",
                "",
            ),
            strict=True,
        )
    )
    row.update(changes)
    return open_data.street_row_problems(tuple(row.values()), "2026-11")


def test_rows_are_checked_against_the_files_columns_and_values():
    assert _street() == []
    assert _street(**{"Crime type": "Fraud"})  # not one of the 14
    assert _street(**{"Crime type": "Anti-social behaviour"})  # ASB has no ID, no outcome
    assert (
        _street(
            **{"Crime type": "Anti-social behaviour", "Crime ID": "", "Last outcome category": ""}
        )
        == []
    )
    assert _street(Month="2026-10")
    assert _street(Latitude="")  # both or neither
    assert _street(Longitude="", Latitude="")  # "On or near" needs a point
    assert _street(Longitude="", Latitude="", Location="No location") == []
    assert _street(**{"LSOA code": "E01011264"})
    assert _street(**{"Last outcome category": "Sorted"})
    assert _street(**{"Crime ID": "CRM-2026-000001"})
    assert open_data.street_row_problems(("x",), "2026-11")  # wrong number of cells
    good = ("b" * 64, "2026-11", "W", "W", "", "", "No location", "", "", "Local resolution")
    assert open_data.outcome_row_problems(good, "2026-11") == []
    # An outcome row says what happened: never "Under investigation".
    assert open_data.outcome_row_problems(good[:-1] + ("Under investigation",), "2026-11")
    assert sorted(open_data.OUTCOME_CATEGORY) == list(range(23))
    assert open_data.file_name("2026-11", "West Yorkshire Police", "street") == (
        "2026-11-west-yorkshire-police-street.csv"
    )
    # Empty cells stay empty; a formula-like cell is led by ' ; a number keeps its sign.
    rendered = open_data.render(("a", "b", "c"), [("", "=1+1", "-1.580000")])
    assert rendered == b"a,b,c\r\n,'=1+1,-1.580000\r\n"


def test_a_whole_file_is_checked_as_row_by_row_with_each_distinct_row_checked_once():
    good = (
        "a" * 64,
        "2026-11",
        "W",
        "W",
        "-1.580000",
        "53.820000",
        "On or near Wren Close",
        "",
        "",
        "Burglary",
        "Local resolution",
        "",
    )
    asb = ("", *good[1:9], "Anti-social behaviour", "", "")
    rows = [
        good,
        ("b" * 64, *good[1:]),  # another crime at the same place: the same check
        ("CRM-1", *good[1:]),  # a bad Crime ID where the same row was good
        asb,
        ("c" * 64, *asb[1:]),  # ASB with a Crime ID
        (good[0], "2026-10", *good[2:]),
        ("x",),
        good,
    ]
    calls = []

    def check(cells, month):
        calls.append(cells)
        return open_data.street_row_problems(cells, month)

    expected = [
        (n, problem)
        for n, cells in enumerate(rows, 1)
        for problem in open_data.street_row_problems(cells, "2026-11")
    ]
    assert {n for n, _ in expected} == {3, 5, 6, 7}
    assert open_data.file_problems(rows, "2026-11", check) == expected
    assert len(calls) == 6  # rows 2 and 8 are row 1's check again
    # Rendered with each distinct cell made safe once: the same bytes as cell by cell.
    cells = [("=x", "=x", "-1.5", "@a", "", "=x")] * 3
    assert open_data.render("abcdef", cells) == (
        b"a,b,c,d,e,f\r\n" + b"'=x,'=x,-1.5,'@a,,'=x\r\n" * 3
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.sampled_from(["", "=1+1", " -x", "\t@a", "-1.580000", "On or near A, B"]),
                st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
            ),
            min_size=1,
            max_size=5,
        ),
        max_size=6,
    )
)
def test_a_file_is_rendered_as_the_csv_writer_writes_its_safe_cells(rows):
    """The rendering that writes each distinct cell once gives the csv writer's own bytes
    for any cells (quotes, commas, CR and LF, formula leads, a row of one empty cell)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(("a", "b"))
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    assert open_data.render(("a", "b"), rows) == buffer.getvalue().encode("utf-8")


# --- the service -------------------------------------------------------------------------


def _save(
    database,
    actor,
    type_code,
    *,
    location_id=None,
    location_text="Somewhere",
    persons=(),
    now=NOW,
    **fields,
):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code=type_code,
            location_text=location_text,
            location_id=location_id,
            persons=persons,
            **fields,
        ),
        now,
        GRADES,
    ).id


@pytest.fixture
def month(database):
    """A month of incidents on Wren Close (three known addresses) and elsewhere; crimes
    recorded from three of them, one from October; outcomes given in November."""
    places = [
        add_location(
            database,
            f"{n} Wren Close",
            street="Wren Close",
            town="Leeds",
            postcode="LS6 3AB",
            latitude=53.8213 + n / 10_000,
            longitude=-1.5781 - n / 10_000,
        )
        for n in (3, 5, 7)
    ]
    victim = add_person(database, "Rowena", "Quillfeather", home=places[0])
    owner = add_person(database, "Barnaby", "Thistlewood")
    loser = add_person(database, "Cressida", "Marchbank")
    robbed = add_person(database, "Dorian", "Ashgrove")
    handler = staff_actor(database, Role.CALL_HANDLER)
    ids = dict(
        sexo=_save(
            database,
            handler,
            "SEXO",
            location_id=places[0],
            location_text="3 Wren Close",
            caller_name="Rowena Quillfeather",
            caller_phone="07700900461",
            narrative="Rowena Quillfeather reports.",
            persons=((victim, "victim"),),
        ),
        burglary=_save(
            database,
            handler,
            "BURGR",
            location_id=places[1],
            location_text="5 Wren Close",
            persons=((owner, "victim"),),
        ),
        noise=_save(
            database, handler, "NOISE", location_id=places[2], location_text="7 Wren Close"
        ),
        theft=_save(
            database,
            handler,
            "THEFT",
            location_text="Car park by the river",
            persons=((loser, "victim"),),
        ),
        info=_save(database, handler, "INFO"),
        fraud=_save(database, handler, "FRAUD"),
        no_crime=_save(database, handler, "CDAM"),
        october=_save(
            database,
            handler,
            "ROBB",
            now=OCTOBER,
            location_id=places[2],
            persons=((robbed, "victim"),),
        ),
    )
    with database.engine.begin() as connection:
        # data.police.uk's "Reported by": the force's name.
        connection.execute(update(DatabaseInfo.__table__).values(force_name=FORCE))
        connection.execute(
            update(Incident.__table__)
            .where(Incident.id == ids["no_crime"])
            .values(status="closed", no_crime_reason="damage was accidental", closed_at=NOW)
        )

    def record(name, code, person, at=NOW):
        return crimes.record_crimes(
            database.uow(),
            handler,
            ids[name],
            at + timedelta(hours=1),
            offence_code=code,
            victim_ids=(person,),
        ).crimes[0]

    crime = dict(
        sexo=record("sexo", "20A", victim),
        burglary=record("burglary", "28E", owner),
        theft=record("theft", "49", loser),
        october=record("october", "34B", robbed, OCTOBER),
    )
    supervisor = staff_actor(database, Role.SUPERVISOR)
    for name, code, day in (("burglary", 8, 25), ("october", 18, 5)):
        crimes.give_outcome(
            database.uow(),
            supervisor,
            crime[name].id,
            crime[name].version,
            datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
            outcome=code,
            outcome_date=date(2026, 11, day),
        )
    return SimpleNamespace(
        ids=ids, places=places, victim=victim, crimes={k: c.id for k, c in crime.items()}
    )


def _audit(database, action):
    with database.uow() as uow:
        event = next(e for e in uow.audit.latest(20) if e.action == action)
        return SimpleNamespace(
            outcome=event.outcome,
            detail=event.detail,
            justification=event.justification,
            actor=event.actor,
        )


def _references(database) -> list[str]:
    with database.uow() as uow:
        return [i.reference for i in uow.session.query(Incident).all()]


def _crime_references(database) -> list[str]:
    with database.uow() as uow:
        return [c.reference for c in uow.session.query(Crime).all()]


def test_an_analyst_exports_the_month_anonymised(database, month):
    analyst = staff_actor(database, Role.ANALYST)
    exported = export_month(database.uow(), analyst, "2026-11", salt=SALT)
    by_type = sorted(r.crime_type for r in exported.rows)
    assert by_type == [
        "Anti-social behaviour",
        "Burglary",
        "Other theft",
        "Violence and sexual offences",
    ]
    assert exported.not_exportable == 3  # INFO, FRAUD, closed without a crime
    text = "\n".join(",".join(r.cells()) for r in exported.rows + exported.outcome_rows)
    for personal in (
        "Rowena",
        "Quillfeather",
        "Thistlewood",
        "07700900461",
        "3 Wren Close",
        "5 Wren Close",
        "LS6",
        "river",
        *_references(database),
        *_crime_references(database),
    ):
        assert personal not in text
    wren = [r for r in exported.rows if r.location == "On or near Wren Close"]
    assert len(wren) == 3
    # One anonymous point for the street: the grid point of its addresses' centroid.
    assert {(r.latitude, r.longitude) for r in wren} == {open_data.snap(53.8218, -1.5786)}
    for row in wren:
        assert round(row.latitude / open_data.GRID_DEGREES, 6).is_integer()
        assert (row.latitude, row.longitude) not in {
            (53.8216, -1.5784),
            (53.8218, -1.5786),
            (53.822, -1.5788),
        }
    theft = next(r for r in exported.rows if r.crime_type == "Other theft")
    assert (theft.location, theft.latitude, theft.longitude) == ("No location", None, None)
    sexo = next(r for r in exported.rows if r.crime_type == "Violence and sexual offences")
    assert sexo.crime_id == open_data.crime_id(SALT, month.crimes["sexo"])
    assert sexo.last_outcome_category == "Under investigation"
    burglary = next(r for r in exported.rows if r.crime_type == "Burglary")
    assert burglary.last_outcome_category == "Local resolution"  # outcome 8
    asb = next(r for r in exported.rows if r.crime_type == "Anti-social behaviour")
    assert asb.crime_id == "" and asb.last_outcome_category == ""
    assert {r.month for r in exported.rows + exported.outcome_rows} == {"2026-11"}
    # The outcomes file: November's outcomes, October's robbery's too, joined by Crime ID.
    outcomes = {r.crime_id: r.outcome_type for r in exported.outcome_rows}
    assert outcomes == {
        burglary.crime_id: "Local resolution",
        open_data.crime_id(SALT, month.crimes["october"]): (
            "Investigation complete; no suspect identified"
        ),
    }
    event = _audit(database, "open_data.export")
    assert event.outcome == "success" and event.actor == analyst.username
    assert "4 row(s) out, 3 incident(s) not exportable; 2 outcome(s)" in event.detail


def test_an_incident_whose_only_crime_is_cancelled_or_later_is_not_exportable(database, month):
    """The count of the month's incidents in neither file, worked out by the database:
    a crime cancelled, or recorded the month after, publishes nothing this month."""
    supervisor = staff_actor(database, Role.SUPERVISOR)
    with database.uow() as uow:
        theft = uow.crimes.get(month.crimes["theft"])
        theft_version, theft_incident = theft.version, theft.incident_id
    asked = crimes.request_cancellation(
        database.uow(),
        supervisor,
        month.crimes["theft"],
        theft_version,
        NOW,
        reason="The purse was found at home: additional verifiable information.",
    ).crimes
    version = next(c.version for c in asked if c.id == month.crimes["theft"])
    crimes.decide_cancellation(
        database.uow(), supervisor, month.crimes["theft"], version, NOW, approve=True
    )
    # A second crime of the same incident, recorded in December: not this month's.
    crimes.record_crimes(
        database.uow(),
        supervisor,
        theft_incident,
        datetime(2026, 12, 2, 12, 0, tzinfo=UTC),
        offence_code="92D",
    )
    analyst = staff_actor(database, Role.ANALYST)
    exported = export_month(database.uow(), analyst, "2026-11", salt=SALT)
    assert "Other theft" not in {r.crime_type for r in exported.rows}
    assert exported.not_exportable == 4  # INFO, FRAUD, closed without a crime, the theft


def test_the_files_rebuild_byte_for_byte_whoever_makes_them(database, month):
    """Same database, same salt: the same bytes, from any analyst; the files parse back
    to data.police.uk's columns with empty cells empty (not `'`)."""
    first = export_month(database.uow(), staff_actor(database, Role.ANALYST), "2026-11", salt=SALT)
    again = export_month(
        database.uow(), staff_actor(database, Role.SUPERVISOR), "2026-11", salt=SALT
    )
    assert (first.street_file, first.outcomes_file) == (again.street_file, again.outcomes_file)
    assert (first.same_as_before, again.same_as_before) == (None, True)
    assert first.street_name == "2026-11-wrenshire-constabulary-street.csv"
    assert first.outcomes_name == "2026-11-wrenshire-constabulary-outcomes.csv"
    street = list(csv.reader(io.StringIO(first.street_file.decode("utf-8"))))
    outcomes = list(csv.reader(io.StringIO(first.outcomes_file.decode("utf-8"))))
    assert tuple(street[0]) == open_data.COLUMNS and len(street) == 5
    assert tuple(outcomes[0]) == open_data.OUTCOME_COLUMNS and len(outcomes) == 3
    assert first.street_file.count(b"\r\n") == 5 and b"'" not in first.street_file
    for row in street[1:] + outcomes[1:]:
        assert row[7] == "" and row[8] == ""  # LSOA code and name: empty, not "'"
    # The two files join on Crime ID.
    assert {r[0] for r in outcomes[1:]} & {r[0] for r in street[1:]}


def test_a_salt_not_the_forces_is_refused_and_a_missing_month_is_flagged(database, month):
    from controlroom.services.open_data import SaltMismatch, missing_months

    analyst = staff_actor(database, Role.ANALYST)
    december = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with database.uow() as uow:
        assert missing_months(uow, december) == (date(2026, 10, 1), date(2026, 11, 1))
    export_month(database.uow(), analyst, "2026-11", salt=SALT)
    with pytest.raises(SaltMismatch, match="not the force's"):
        export_month(database.uow(), analyst, "2026-10", salt="another-" + SALT)
    assert _audit(database, "open_data.export").outcome == "denied"
    with database.uow() as uow:
        assert missing_months(uow, december) == (date(2026, 10, 1),)
    # The command view says so, in words.
    from controlroom.domain.queues import QueuePolicy
    from controlroom.screens.command_view import open_data_line
    from controlroom.services.command_view import command_view

    policy = QueuePolicy(
        grade_codes=GRADES, stale_after=timedelta(minutes=10), dash_escalation=timedelta(hours=24)
    )
    shown = command_view(database.uow(), staff_actor(database, Role.SUPERVISOR), policy, december)
    assert shown.open_data_missing == (date(2026, 10, 1),)
    assert "NOT MADE: 1 month(s), Oct 26" in open_data_line(shown.open_data_missing).plain


def test_roles_without_export_anonymised_are_denied_and_audited(database, month):
    for role in (Role.CALL_HANDLER, Role.INTELLIGENCE, Role.ADMINISTRATOR):
        actor = staff_actor(database, role)
        with pytest.raises(PermissionDenied, match="may not export anonymised data"):
            export_month(database.uow(), actor, "2026-11", salt=SALT)
        event = _audit(database, "open_data.export")
        assert (event.outcome, event.actor) == ("denied", actor.username)
    supervisor = staff_actor(database, Role.SUPERVISOR)
    assert export_month(database.uow(), supervisor, "2026-11", salt=SALT).rows


def test_production_needs_a_justification(database, month):
    with database.engine.begin() as connection:
        connection.execute(update(DatabaseInfo.__table__).values(environment="production"))
    analyst = staff_actor(database, Role.ANALYST)
    with pytest.raises(PermissionDenied, match="needs a justification"):
        export_month(database.uow(), analyst, "2026-11", salt=SALT)
    assert _audit(database, "open_data.export").outcome == "denied"
    exported = export_month(database.uow(), analyst, "2026-11", salt=SALT, justification=REASON)
    assert len(exported.rows) == 4
    event = _audit(database, "open_data.export")
    assert (event.outcome, event.justification) == ("success", REASON)


# --- the command -------------------------------------------------------------------------


def test_the_command_writes_the_csv_to_a_file(
    monkeypatch, tmp_path, capsys, database, database_url, month
):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    analyst = staff_actor(database, Role.ANALYST)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: analyst.username)
    out = tmp_path / "2026-11-street.csv"
    result = run_cli(
        capsys,
        "export",
        "open-data",
        "--month",
        "2026-11",
        "--output",
        str(out),
        "--database-url",
        database_url,
    )
    assert result.code == 0, result.err
    assert "4 row(s) for 2026-11, 3 incident(s) not exportable" in result.err
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == open_data.COLUMNS and len(rows) == 5
    assert "Quillfeather" not in out.read_text()
    again = run_cli(
        capsys, "export", "open-data", "--month", "2026-11", "--database-url", database_url
    )
    # The same salt (kept in the keyring): the same Crime IDs, month after month.
    assert again.out == out.read_bytes().decode("utf-8")  # CR LF line ends, both ways
    bad = run_cli(capsys, "export", "open-data", "--month", "Nov", "--database-url", database_url)
    assert bad.code == 2 and "YYYY-MM" in bad.err
    handler = staff_actor(database, Role.CALL_HANDLER)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: handler.username)
    denied = run_cli(
        capsys, "export", "open-data", "--month", "2026-11", "--database-url", database_url
    )
    assert denied.code == 2 and "may not export anonymised data" in denied.err
    assert denied.out == ""


def test_without_a_keyring_the_command_says_what_the_keyring_is_for(
    monkeypatch, tmp_path, capsys, database, database_url
):
    import keyring
    from keyring.backends import fail

    from tests.databases import postgres_url

    if postgres_url() is not None:
        # PostgreSQL asks the keyring for the database password first, and that message
        # is the right one there; an SQLite database has no password to ask for.
        pytest.skip("on SQLite only: the keyring holds nothing but the salt there")

    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    analyst = staff_actor(database, Role.ANALYST)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: analyst.username)
    keyring.set_keyring(fail.Keyring())  # what keyring gives when it finds no backend
    result = run_cli(
        capsys, "export", "open-data", "--month", "2026-11", "--database-url", database_url
    )
    assert result.code == 2 and result.out == ""
    assert "salt of its Crime IDs" in result.err
    assert "database password" not in result.err and "set-password" not in result.err


def test_two_analysts_share_the_forces_salt_through_their_keyrings_only(
    monkeypatch, tmp_path, capsys, database, database_url, month
):
    """The first export makes the force's salt; a second analyst's keyring without it is
    refused (not given a salt of its own), takes it in by `export salt --import`, and
    then exports the same bytes: the same Crime IDs whoever exports."""
    import keyring

    from tests.keyrings import MemoryKeyring

    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    first, second = (staff_actor(database, Role.ANALYST, f"analyst.{n}") for n in (1, 2))
    keyrings = {first.username: MemoryKeyring(), second.username: MemoryKeyring()}

    def as_user(actor):
        monkeypatch.setattr("controlroom.cli.common._os_user", lambda: actor.username)
        keyring.set_keyring(keyrings[actor.username])

    as_user(first)
    made = run_cli(
        capsys,
        "export",
        "open-data",
        "--month",
        "2026-11",
        "--directory",
        str(tmp_path / "first"),
        "--database-url",
        database_url,
    )
    assert made.code == 0, made.err
    names = sorted(p.name for p in (tmp_path / "first").iterdir())
    assert names == [
        "2026-11-wrenshire-constabulary-outcomes.csv",
        "2026-11-wrenshire-constabulary-street.csv",
    ]
    as_user(second)
    refused = run_cli(
        capsys, "export", "open-data", "--month", "2026-11", "--database-url", database_url
    )
    assert refused.code == 2 and "export salt --import" in refused.err and refused.out == ""
    as_user(first)
    shown = run_cli(capsys, "export", "salt", "--show", "--database-url", database_url)
    assert shown.code == 0 and re.fullmatch(r"[0-9a-f]{64}\n", shown.out)
    as_user(second)
    monkeypatch.setattr("sys.stdin", io.StringIO("not the salt\n"))
    wrong = run_cli(capsys, "export", "salt", "--import", "--database-url", database_url)
    assert wrong.code == 2 and "not a Crime-ID salt" in wrong.err
    monkeypatch.setattr("sys.stdin", io.StringIO(shown.out))
    taken = run_cli(capsys, "export", "salt", "--import", "--database-url", database_url)
    assert taken.code == 0, taken.err
    again = run_cli(
        capsys,
        "export",
        "open-data",
        "--month",
        "2026-11",
        "--directory",
        str(tmp_path / "second"),
        "--database-url",
        database_url,
    )
    assert again.code == 0 and "the same bytes as last made" in again.err
    for name in names:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    with database.uow() as uow:
        actions = [e.action for e in uow.audit.latest(30)]
    assert {"open_data.salt", "open_data.salt_show", "open_data.salt_import"} <= set(actions)


def test_another_station_saves_while_the_months_rows_are_read(database, month, monkeypatch):
    """On SQLite a unit of work holds the write lock from its first statement: the
    return's reads (over a second on a force's database) held every other station's
    save back. They are a read-only part now: a save made while they read goes in at
    once, and the return is the same as one made with nobody else writing."""
    import dataclasses

    from controlroom.data.cold_models import MarkerType
    from controlroom.data.crime_queries import CrimeRepository
    from controlroom.data.engine import INTERACTIVE
    from controlroom.data.uow import Database

    analyst = staff_actor(database, Role.ANALYST)
    quiet = export_month(database.uow(), analyst, "2026-11", salt=SALT)
    # Another station, which waits at most a tenth of a second for a lock.
    other = Database(
        database.url, waits=dataclasses.replace(INTERACTIVE, busy_timeout_ms=100, begin_pauses=())
    )
    saved = []
    reading = CrimeRepository.street_crimes

    def street_crimes_while_another_saves(self, start, end):
        found = reading(self, start, end)
        with other.uow() as uow:
            uow.add(MarkerType(code=f"T{len(saved)}", label="saved meanwhile", severity=9))
            uow.commit()
        saved.append(True)
        return found

    monkeypatch.setattr(CrimeRepository, "street_crimes", street_crimes_while_another_saves)
    try:
        busy = export_month(database.uow(), analyst, "2026-11", salt=SALT)
    finally:
        other.dispose()
    assert saved == [True]
    assert busy.rows == quiet.rows and busy.outcome_rows == quiet.outcome_rows
