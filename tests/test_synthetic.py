"""The synthetic force generator on a real database: determinism, refusals, and the
realism later search and triage tests rely on (name variants, near-duplicates, markers,
the open domestic-abuse backlog, well-formed references, valid intelligence grading)."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from controlroom.config import sqlite_url
from controlroom.data.cold_models import (
    IncidentLogEntry,
    IncidentPerson,
    IncidentSequence,
    IntelligenceReport,
    IntelligenceSubject,
    Person,
    PersonAddress,
    PersonAlias,
    WarningMarker,
    all_tables,
)
from controlroom.data.models import (
    AuditEvent,
    Incident,
    IncidentType,
    Location,
    LocationHazard,
    Staff,
)
from controlroom.data.schema import upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.incidents import OPEN_STATUSES, closure_problems, reference_day
from controlroom.domain.intelligence import grading
from controlroom.domain.name_variants import (
    FORENAME_FAMILIES,
    SURNAME_FAMILIES,
    forename_family,
    surname_family,
)
from controlroom.domain.postcode import is_postcode
from controlroom.services import synthetic
from controlroom.services.synthetic import DEFAULT_SEED, SeedRefused
from tests.databases import SEED_ANCHOR, TEST_ADMIN

OPEN = [s.value for s in OPEN_STATUSES]


def rows(database: Database, *columns, where=None):
    statement = select(*columns)
    if where is not None:
        statement = statement.where(where)
    with database.engine.connect() as connection:
        return connection.execute(statement).all()


def count(database: Database, model) -> int:
    with database.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


def table_digests(database: Database) -> dict[str, str]:
    """A digest of every table's rows in key order, except what seeding does not make:
    the audit trail, the database's own creation time and the pre-existing test admin."""
    digests = {}
    with database.engine.connect() as connection:
        for table in all_tables().sorted_tables:
            if table.name in ("audit_event", "audit_chain_head"):  # the trail and its anchor
                continue
            columns = [
                c for c in table.c if not (table.name == "database_info" and c.name == "created_at")
            ]
            statement = select(*columns).order_by(*table.primary_key.columns)
            if table.name == "staff":
                statement = statement.where(table.c.username != TEST_ADMIN)
            digest = hashlib.sha256()
            for row in connection.execute(statement):
                digest.update(repr(tuple(row)).encode())
            digests[table.name] = digest.hexdigest()
    return digests


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similar(a: str, b: str, family) -> bool:
    return (
        a == b
        or b in family(a)
        or edit_distance(a.casefold(), b.casefold()) <= 2
        or a.replace("-", " ") == b
        or a.split("-")[-1] == b
    )


def transposed(a: date | None, b: date | None) -> bool:
    return a is not None and b is not None and (a.day, a.month, a.year) == (b.month, b.day, b.year)


# --- determinism, progress and the database's own record -------------------------------------


@pytest.mark.slow
def test_same_seed_and_anchor_give_identical_data_and_another_seed_does_not(
    database, seeded_database, databases, tmp_path
):
    calls = []
    summary = synthetic.seed(
        database.uow,
        anchor=SEED_ANCHOR,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert table_digests(database) == table_digests(seeded_database)

    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["staff", "locations", "persons", "incidents", "intelligence", "units"]
    for stage in stages:
        seen = [(done, total) for s, done, total in calls if s == stage]
        assert len(seen) >= 2 and seen[-1][0] == seen[-1][1]
        assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(calls) < 200  # reported per batch, not per row
    assert summary.size == "small" and summary.seed == DEFAULT_SEED and summary.seconds > 0
    assert dict(summary.counts)["persons"] == count(database, Person)
    assert dict(summary.counts)["incident log entries"] == count(database, IncidentLogEntry)

    (tmp_path / "b").mkdir()
    url = databases.create(tmp_path / "b")
    other = Database(url)
    try:
        synthetic.seed(other.uow, seed=DEFAULT_SEED + 1, anchor=SEED_ANCHOR)
        different = table_digests(other)
    finally:
        other.dispose()
        databases.drop(url)
    original = table_digests(seeded_database)
    for name in ("person", "location", "incident", "intelligence_report"):
        assert different[name] != original[name], name


@pytest.mark.slow
def test_another_process_with_another_hash_seed_makes_the_same_data(
    seeded_database, databases, tmp_path
):
    # String hashing is randomised per process: an ordering that leaked from a set or a
    # hash would show here, where it cannot within one process.
    url = databases.create(tmp_path)
    script = (
        "import sys; from controlroom.data.uow import Database; "
        "from controlroom.services import synthetic; "
        "from tests.databases import SEED_ANCHOR; "
        "db = Database(sys.argv[1]); synthetic.seed(db.uow, anchor=SEED_ANCHOR); "
        "db.dispose()"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    other = Database(url)
    try:
        subprocess.run(
            [sys.executable, "-c", script, url],
            check=True,
            cwd=root,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": "1"},
        )
        assert table_digests(other) == table_digests(seeded_database)
    finally:
        other.dispose()
        databases.drop(url)


def test_seeded_database_says_it_is_synthetic_training_data(seeded_database):
    with seeded_database.uow() as uow:
        info = uow.database.get()
        assert (info.environment, info.synthetic) == (Environment.TRAINING.value, True)
        assert (info.seed, info.seed_size, info.seeded_at) == (DEFAULT_SEED, "small", SEED_ANCHOR)
        assert "Synthetic Constabulary" in info.force_name
        seeded = [e for e in uow.audit.latest(10) if e.action == "database.seed"]
        assert [e.outcome for e in seeded] == ["success"]
    assert synthetic.needs_seeding(seeded_database.uow, size="small") is False


def test_an_empty_test_database_needs_seeding(database):
    assert synthetic.needs_seeding(database.uow, size="small") is True
    with pytest.raises(ValueError, match="unknown size"):
        synthetic.needs_seeding(database.uow, size="huge")


def test_an_already_seeded_database_is_refused(seeded_database):
    before = count(seeded_database, Person)
    with pytest.raises(SeedRefused, match="already seeded"):
        synthetic.seed(seeded_database.uow, anchor=SEED_ANCHOR)
    assert count(seeded_database, Person) == before


def test_a_database_holding_records_is_refused_even_if_never_seeded(seeded_database):
    # An interrupted seed (or real records in a training database) must not be mixed with
    # a second synthetic force.
    with seeded_database.uow() as uow:
        uow.database.get().seed = None
        uow.commit()
    with pytest.raises(SeedRefused, match="already holds records"):
        synthetic.seed(seeded_database.uow, anchor=SEED_ANCHOR)


def test_production_is_refused_and_the_attempt_audited(database):
    with database.uow() as uow:
        uow.database.get().environment = Environment.PRODUCTION.value
        uow.commit()
    with pytest.raises(SeedRefused, match="production"):
        synthetic.needs_seeding(database.uow, size="small")
    with pytest.raises(SeedRefused, match="production"):
        synthetic.seed(database.uow, anchor=SEED_ANCHOR)
    assert count(database, Person) == count(database, Incident) == 0
    outcomes = [
        o for (o,) in rows(database, AuditEvent.outcome, where=AuditEvent.action == "database.seed")
    ]
    assert outcomes == ["refused", "refused"]
    with database.uow() as uow:
        assert uow.database.get().synthetic is False


def test_a_new_production_database_is_refused(tmp_path):
    production = Database(sqlite_url(tmp_path / "production.sqlite"))
    try:
        upgrade(production.engine, environment=Environment.PRODUCTION, created_by="x")
        with pytest.raises(SeedRefused, match="production"):
            synthetic.seed(production.uow, anchor=SEED_ANCHOR)
        assert count(production, Staff) == 1
    finally:
        production.dispose()


# --- volumes and staff ----------------------------------------------------------------------


def test_counts_are_in_the_expected_ranges(seeded_database):
    expected = {
        Person: (1_900, 2_100),
        Incident: (4_900, 5_100),
        IntelligenceReport: (950, 1_050),
        Staff: (38, 45),
        Location: (2_000, 5_000),
        PersonAlias: (100, 600),
        PersonAddress: (1_500, 3_000),
        WarningMarker: (150, 800),
        LocationHazard: (30, 400),
        IncidentPerson: (5_000, 20_000),
        IncidentLogEntry: (10_000, 30_000),
        IntelligenceSubject: (1_000, 4_000),
    }
    counts = {model.__name__: count(seeded_database, model) for model in expected}
    for model, (low, high) in expected.items():
        assert low <= counts[model.__name__] <= high, (model.__name__, counts[model.__name__])


def test_staff_include_the_demo_supervisor_and_every_role(seeded_database):
    staff = {
        s.username: s
        for s in rows(
            seeded_database,
            Staff.username,
            Staff.role,
            Staff.display_name,
            Staff.station,
            Staff.collar_number,
        )
    }
    demo = staff["demo.supervisor"]
    assert demo.role == "supervisor" and demo.display_name and demo.station and demo.collar_number
    assert staff[TEST_ADMIN].role == "administrator"  # the existing account is left alone
    roles = Counter(s.role for s in staff.values())
    assert set(roles) == {
        "call_handler",
        "dispatcher",
        "supervisor",
        "intelligence",
        "analyst",
        "administrator",
    }
    assert roles["supervisor"] >= 2 and roles["call_handler"] >= 10
    collars = [s.collar_number for s in staff.values() if s.collar_number]
    assert len(collars) == len(set(collars))


def test_existing_staff_usernames_are_skipped(database):
    with database.uow() as uow:
        uow.staff.add(
            Staff(username="demo.supervisor", display_name="Already Here", role="supervisor")
        )
        uow.commit()
    synthetic.seed(database.uow, anchor=SEED_ANCHOR)
    names = rows(database, Staff.display_name, where=Staff.username == "demo.supervisor")
    assert names == [("Already Here",)]


# --- people -----------------------------------------------------------------------------------


def test_every_name_variant_family_is_present(seeded_database):
    forenames = {f for (f,) in rows(seeded_database, Person.forename)}
    surnames = {s for (s,) in rows(seeded_database, Person.surname)}
    for family in FORENAME_FAMILIES:
        assert set(family.spellings) <= forenames, family.spellings
    for family in SURNAME_FAMILIES:
        assert set(family) <= surnames, family
    assert {
        "Mohammed",
        "Muhammad",
        "Mohamed",
        "Jon",
        "John",
        "Catherine",
        "Kathryn",
        "Katherine",
    } <= forenames
    assert {
        "Smith",
        "Smyth",
        "McDonald",
        "Macdonald",
        "Mc Donald",
        "O'Brien",
        "Hughes-Whitfield",
    } <= surnames
    assert {"Zoë", "Chloë", "Renée", "José"} <= forenames
    assert sum("-" in s for s in surnames) >= 10  # double-barrelled beyond the planted one


def test_people_have_aliases_of_every_kind(seeded_database):
    kinds = Counter(k for (k,) in rows(seeded_database, PersonAlias.kind))
    assert set(kinds) == {"alias", "maiden", "nickname"}
    with_alias = len({p for (p,) in rows(seeded_database, PersonAlias.person_id)})
    assert 0.04 <= with_alias / count(seeded_database, Person) <= 0.25


def test_near_duplicate_people_exist_at_the_same_address(seeded_database):
    people = {
        p.id: p
        for p in rows(
            seeded_database, Person.id, Person.forename, Person.surname, Person.date_of_birth
        )
    }
    marked = {p for (p,) in rows(seeded_database, WarningMarker.person_id)}
    households = defaultdict(list)
    for person_id, location_id in rows(
        seeded_database,
        PersonAddress.person_id,
        PersonAddress.location_id,
        where=PersonAddress.kind == "home",
    ):
        households[location_id].append(person_id)
    pairs = []
    for members in households.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pa, pb = people[a], people[b]
                if (pa.forename, pa.surname, pa.date_of_birth) == (
                    pb.forename,
                    pb.surname,
                    pb.date_of_birth,
                ):
                    continue
                same_dob = pa.date_of_birth == pb.date_of_birth and pa.date_of_birth is not None
                if (
                    (same_dob or transposed(pa.date_of_birth, pb.date_of_birth))
                    and similar(pa.forename, pb.forename, forename_family)
                    and similar(pa.surname, pb.surname, surname_family)
                ):
                    pairs.append((pa, pb))
    share = len(pairs) / len(people)
    assert 0.015 <= share <= 0.06, share
    assert any(transposed(a.date_of_birth, b.date_of_birth) for a, b in pairs)
    assert any(b.surname in surname_family(a.surname) and a.surname != b.surname for a, b in pairs)
    # The danger the data is built to show: the marker is on the other record.
    assert any((a.id in marked) != (b.id in marked) for a, b in pairs)


def test_rso_and_da_perpetrators_have_home_addresses(seeded_database):
    homes = {
        p
        for (p,) in rows(
            seeded_database, PersonAddress.person_id, where=PersonAddress.kind == "home"
        )
    }
    for code in ("RSO", "DAPERP"):
        holders = [
            p
            for (p,) in rows(
                seeded_database, WarningMarker.person_id, where=WarningMarker.marker_code == code
            )
        ]
        assert len(holders) >= 5, code
        assert all(p in homes for p in holders), code


def test_warning_markers_are_dated_and_attributed(seeded_database):
    today = SEED_ANCHOR.date()
    markers = rows(
        seeded_database,
        WarningMarker.marker_code,
        WarningMarker.set_by_id,
        WarningMarker.set_at,
        WarningMarker.valid_from,
        WarningMarker.valid_to,
    )
    assert {m.marker_code for m in markers} >= {"RSO", "DAPERP", "DAVICT", "VIOLENT", "DRUGS"}
    assert all(m.set_by_id is not None and m.set_at <= SEED_ANCHOR for m in markers)
    assert all(m.valid_to is None or m.valid_to > m.valid_from for m in markers)
    assert any(m.valid_to is not None and m.valid_to < today for m in markers)
    assert any(m.valid_to is None for m in markers)


def test_sexual_offence_victims_are_restricted_records(seeded_database):
    victims = rows(
        seeded_database,
        Person.restricted,
        where=Person.id.in_(
            select(IncidentPerson.person_id)
            .join(Incident, Incident.id == IncidentPerson.incident_id)
            .where(Incident.opening_type_code == "SEXO", IncidentPerson.role == "victim")
        ),
    )
    assert victims and all(r for (r,) in victims)


# --- places -----------------------------------------------------------------------------------


def test_locations_are_plausible_uk_addresses(seeded_database):
    postcode = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$")
    locations = rows(
        seeded_database,
        Location.address,
        Location.street,
        Location.town,
        Location.postcode,
        Location.latitude,
        Location.longitude,
    )
    assert all(postcode.match(loc.postcode) and is_postcode(loc.postcode) for loc in locations)
    assert all(49.9 < loc.latitude < 58.7 and -6.0 < loc.longitude < 1.8 for loc in locations)
    assert all(loc.street in loc.address for loc in locations)
    assert any(re.match(r"^\d+ \w", loc.address) for loc in locations)
    assert any(loc.address.startswith("Flat ") for loc in locations)
    addresses = [(loc.address, loc.town) for loc in locations]
    assert len(addresses) == len(set(addresses))
    hazards = {h for (h,) in rows(seeded_database, LocationHazard.hazard)}
    assert {"DOG ON PREMISES", "FIREARMS HELD", "VIOLENT OCCUPANT", "ACCESS: KEY SAFE"} <= hazards


def test_incidents_concentrate_on_some_addresses(seeded_database):
    per_location = Counter(
        loc
        for (loc,) in rows(
            seeded_database, Incident.location_id, where=Incident.location_id.is_not(None)
        )
    )
    busiest = per_location.most_common(max(1, count(seeded_database, Location) // 20))
    assert sum(n for _, n in busiest) / sum(per_location.values()) > 0.25
    assert busiest[0][1] >= 10


# --- incidents --------------------------------------------------------------------------------


def test_incident_references_are_unique_per_day_sequences(seeded_database):
    incidents = rows(seeded_database, Incident.reference, Incident.opened_at)
    assert len({i.reference for i in incidents}) == len(incidents)
    by_day = defaultdict(list)
    for incident in incidents:
        match = re.fullmatch(r"CR-(\d{8})-(\d{4})", incident.reference)
        assert match, incident.reference
        day = reference_day(incident.opened_at)  # the control room's local day
        assert match[1] == f"{day:%Y%m%d}"
        by_day[day].append((incident.opened_at, int(match[2])))
    for entries in by_day.values():
        entries.sort()
        assert [n for _, n in entries] == list(range(1, len(entries) + 1))
    # The app carries on numbering from each day's last seeded number.
    assert dict(rows(seeded_database, IncidentSequence.day, IncidentSequence.last_number)) == {
        day: len(entries) for day, entries in by_day.items()
    }


def test_the_database_hands_out_ids_after_the_seeded_ones(seeded_database):
    highest = rows(seeded_database, func.max(Person.id))[0][0]
    with seeded_database.uow() as uow:
        person = Person(forename="New", surname="Record")
        uow.session.add(person)
        uow.flush()
        assert person.id > highest


def test_incidents_span_eighteen_months_with_more_recent_ones(seeded_database):
    opened = [o for (o,) in rows(seeded_database, Incident.opened_at)]
    assert max(opened) <= SEED_ANCHOR
    assert min(opened) >= SEED_ANCHOR - timedelta(days=550)
    last_quarter = sum(o >= SEED_ANCHOR - timedelta(days=91) for o in opened)
    first_quarter = sum(o < SEED_ANCHOR - timedelta(days=457) for o in opened)
    assert last_quarter > 1.5 * first_quarter


def test_incident_statuses_follow_their_age(seeded_database):
    incidents = rows(
        seeded_database,
        Incident.status,
        Incident.opened_at,
        Incident.closed_at,
        Incident.closed_by_id,
        Incident.closing_type_code,
        Incident.result,
        Incident.grade,
    )
    statuses = Counter(i.status for i in incidents)
    assert set(statuses) == {"open", "dispatched", "at_scene", "closed"}
    day_old = [i for i in incidents if i.opened_at > SEED_ANCHOR - timedelta(days=1)]
    assert 0.1 < sum(i.status != "closed" for i in day_old) / len(day_old) < 0.9
    year_old = [i for i in incidents if i.opened_at < SEED_ANCHOR - timedelta(days=120)]
    assert all(i.status == "closed" for i in year_old)
    for i in incidents:
        closed = (i.closed_at, i.closed_by_id, i.closing_type_code, i.result)
        if i.status == "closed":
            assert None not in closed and i.opened_at < i.closed_at <= SEED_ANCHOR
        else:
            assert closed == (None, None, None, None)
    assert Counter(i.grade for i in incidents).keys() == {"G1", "G2", "G3", "G4"}


def test_closed_incidents_meet_the_closing_rules(seeded_database):
    closed = rows(
        seeded_database,
        Incident.closing_type_code,
        Incident.result,
        Incident.possible_crime,
        Incident.crime_reference,
        Incident.no_crime_reason,
        where=Incident.status == "closed",
    )
    for i in closed:
        assert (
            closure_problems(
                closing_type_code=i.closing_type_code,
                result=i.result,
                possible_crime=i.possible_crime,
                crime_reference=i.crime_reference,
                no_crime_reason=i.no_crime_reason,
            )
            == {}
        )
    crimes = [i.crime_reference for i in closed if i.crime_reference]
    assert len(crimes) == len(set(crimes)) > 500
    assert all(re.fullmatch(r"CRM-\d{4}-\d{6}", c) for c in crimes)
    assert any(i.possible_crime and i.no_crime_reason for i in closed)
    open_ones = rows(
        seeded_database,
        Incident.crime_reference,
        Incident.no_crime_reason,
        where=Incident.status != "closed",
    )
    assert all(i == (None, None) for i in open_ones)


def test_callers_are_recorded_with_a_drama_range_number(seeded_database):
    callers = rows(
        seeded_database,
        Incident.caller_name,
        Incident.caller_phone,
        Incident.caller_relationship,
        Incident.opening_type_code,
        Incident.location_id,
        Incident.postcode,
    )
    named = [c for c in callers if c.caller_name]
    assert len(named) / len(callers) > 0.6
    assert all(c.caller_relationship for c in named)
    assert {"victim", "neighbour", "staff", "keyholder"} <= {c.caller_relationship for c in named}
    phones = [c.caller_phone for c in callers if c.caller_phone]
    # Ofcom's drama ranges only: no real person's number.
    assert all(
        re.fullmatch(r"(07700900|01134960|01632960|01144960|01614960)\d{3}", p) for p in phones
    )
    assert any(
        c.caller_phone and not c.caller_name for c in callers if c.opening_type_code == "ABAN"
    )
    assert all((c.postcode is None) == (c.location_id is None) for c in callers)


def test_incident_grades_and_flags_follow_the_type(seeded_database):
    types = {
        t.code: t
        for t in rows(
            seeded_database,
            IncidentType.code,
            IncidentType.domestic,
            IncidentType.possible_crime,
            IncidentType.suggested_grade,
        )
    }
    incidents = rows(
        seeded_database,
        Incident.opening_type_code,
        Incident.grade,
        Incident.domestic,
        Incident.possible_crime,
        Incident.child_present,
        Incident.weapons,
        Incident.workstation,
        Incident.narrative,
    )
    assert {i.opening_type_code for i in incidents} <= set(types)
    suggested = sum(i.grade == types[i.opening_type_code].suggested_grade for i in incidents)
    assert suggested / len(incidents) > 0.5
    for i in incidents:
        kind = types[i.opening_type_code]
        assert i.possible_crime == kind.possible_crime
        if kind.domestic:
            assert i.domestic
        if i.opening_type_code == "CHLD":
            assert i.child_present
        if i.opening_type_code == "WEAP":
            assert i.weapons
        assert re.fullmatch(r"WS-\d{2}", i.workstation)
        assert i.narrative
    assert any(i.domestic and not types[i.opening_type_code].domestic for i in incidents)


def test_thrive_is_filled_on_most_incidents_and_absent_on_some(seeded_database):
    thrive = rows(
        seeded_database,
        Incident.thrive_threat,
        Incident.thrive_harm,
        Incident.thrive_risk,
        Incident.thrive_investigation,
        Incident.thrive_vulnerability,
        Incident.thrive_engagement,
        Incident.thrive_assessed_at,
        Incident.thrive_assessed_by_id,
        Incident.opened_at,
    )
    assessed = [t for t in thrive if t.thrive_assessed_at is not None]
    skipped = rows(
        seeded_database, Incident.thrive_assessed_at, where=Incident.thrive_skipped.is_(True)
    )
    assert skipped and all(at is None for (at,) in skipped)
    assert 0.7 < len(assessed) / len(thrive) < 0.97
    assert all(None not in t for t in assessed)
    assert all(t.opened_at < t.thrive_assessed_at <= SEED_ANCHOR for t in assessed)
    assert all(set(t[:8]) == {None} for t in thrive if t.thrive_assessed_at is None)


def test_every_incident_has_an_opening_note_and_some_changes(seeded_database):
    log = rows(
        seeded_database,
        IncidentLogEntry.incident_id,
        IncidentLogEntry.kind,
        IncidentLogEntry.entered_at,
        IncidentLogEntry.old_value,
        IncidentLogEntry.new_value,
    )
    opened = dict(rows(seeded_database, Incident.id, Incident.opened_at))
    notes = {e.incident_id: e.entered_at for e in log if e.kind == "note"}
    assert notes == opened
    kinds = Counter(e.kind for e in log)
    assert kinds["grade_change"] > 100 and kinds["status_change"] > 1000
    assert all(
        e.old_value and e.new_value and e.old_value != e.new_value
        for e in log
        if e.kind in ("grade_change", "status_change", "closure")
    )
    assert all(opened[e.incident_id] <= e.entered_at <= SEED_ANCHOR for e in log)


def test_incidents_link_callers_victims_suspects_and_witnesses(seeded_database):
    roles = Counter(r for (r,) in rows(seeded_database, IncidentPerson.role))
    assert {"caller", "victim", "suspect", "witness"} <= set(roles)
    assert roles["caller"] > 2000


def test_open_domestic_incidents_of_every_age_exist(seeded_database):
    opened = [
        o
        for (o,) in rows(
            seeded_database,
            Incident.opened_at,
            where=(
                Incident.status.in_(OPEN)
                & Incident.domestic
                & Incident.opening_type_code.in_(["DOM", "DOMV"])
            ),
        )
    ]
    ages = [SEED_ANCHOR - o for o in opened]
    assert any(age < timedelta(days=1) for age in ages)
    assert any(timedelta(days=1) < age < timedelta(days=7) for age in ages)
    assert any(age > timedelta(days=7) for age in ages)
    assert any(age > timedelta(days=30) for age in ages)
    assert max(ages) < timedelta(days=100)


def test_an_open_domestic_incident_involves_a_registered_sex_offender(seeded_database):
    offenders = select(WarningMarker.person_id).where(WarningMarker.marker_code == "RSO")
    found = rows(
        seeded_database,
        Incident.reference,
        where=Incident.id.in_(
            select(IncidentPerson.incident_id).where(
                IncidentPerson.person_id.in_(offenders), IncidentPerson.role == "suspect"
            )
        )
        & Incident.status.in_(OPEN)
        & Incident.domestic,
    )
    assert found


# --- intelligence -----------------------------------------------------------------------------


def test_intelligence_grading_is_valid_and_handling_c_has_conditions(seeded_database):
    reports = rows(
        seeded_database,
        IntelligenceReport.source_grade,
        IntelligenceReport.intelligence_grade,
        IntelligenceReport.handling_code,
        IntelligenceReport.handling_conditions,
        IntelligenceReport.restricted,
        IntelligenceReport.text,
    )
    for r in reports:
        grading(r.source_grade, r.intelligence_grade, r.handling_code, r.handling_conditions)
        assert r.text
    handling = Counter(r.handling_code for r in reports)
    assert handling["C"] > 50 and handling["P"] > 500
    assert all(r.handling_conditions for r in reports if r.handling_code == "C")
    assert 5 <= sum(r.restricted for r in reports) <= 150
    assert len({(r.source_grade, r.intelligence_grade) for r in reports}) >= 8


def test_intelligence_references_subjects_and_supersession(seeded_database):
    reports = {
        r.id: r
        for r in rows(
            seeded_database,
            IntelligenceReport.id,
            IntelligenceReport.reference,
            IntelligenceReport.submitted_at,
            IntelligenceReport.supersedes_id,
        )
    }
    references = [r.reference for r in reports.values()]
    assert len(set(references)) == len(references)
    for r in reports.values():
        match = re.fullmatch(r"IR-(\d{8})-(\d{4})", r.reference)
        assert match and match[1] == f"{reference_day(r.submitted_at):%Y%m%d}", r.reference
        assert r.submitted_at <= SEED_ANCHOR
    superseding = [r for r in reports.values() if r.supersedes_id is not None]
    assert 3 <= len(superseding) <= 60
    assert all(reports[r.supersedes_id].submitted_at < r.submitted_at for r in superseding)
    assert len({r.supersedes_id for r in superseding}) == len(superseding)
    subjects = rows(
        seeded_database,
        IntelligenceSubject.report_id,
        IntelligenceSubject.person_id,
        IntelligenceSubject.location_id,
    )
    assert {s.report_id for s in subjects} == set(reports)
    assert any(s.person_id for s in subjects) and any(s.location_id for s in subjects)


# --- the name-variant tables ------------------------------------------------------------------


def test_each_spelling_belongs_to_one_family():
    # Capitalisation variants (MacDonald, Macdonald) may share a family, never two families.
    for families in ([f.spellings for f in FORENAME_FAMILIES], SURNAME_FAMILIES):
        owner: dict[str, int] = {}
        for n, family in enumerate(families):
            for spelling in family:
                assert owner.setdefault(spelling.casefold(), n) == n, spelling
    assert forename_family("muhammad") == (
        "Mohammed",
        "Muhammad",
        "Mohamed",
        "Mohammad",
        "Muhammed",
    )
    assert surname_family(" SMYTH ") == ("Smith", "Smyth", "Smythe")
    assert surname_family("Ellison") == ("Ellison",)


def test_a_naive_anchor_is_rejected(database):
    with pytest.raises(ValueError, match="aware"):
        synthetic.seed(database.uow, anchor=datetime(2026, 11, 26, 9, 0))
    assert count(database, Person) == 0


def test_every_seeded_unit_has_the_history_of_its_status_now(seeded_database):
    # Issue 17, "the unit's history kept": `h` on the resource board showed nothing for
    # a seeded unit. Its history ends in the status it has now, since when it has it and
    # on which incident; a unit sent to one was sent by a dispatcher, then arrived.
    from controlroom.data.cold_models import UnitStatusChange
    from controlroom.data.models import Unit

    with seeded_database.uow() as uow:
        units = uow.session.scalars(select(Unit)).all()
        history: dict[int, list[UnitStatusChange]] = defaultdict(list)
        for change in uow.session.scalars(
            select(UnitStatusChange).order_by(UnitStatusChange.changed_at, UnitStatusChange.id)
        ):
            history[change.unit_id].append(change)
        dispatchers = set(uow.session.scalars(select(Staff.id).where(Staff.role == "dispatcher")))
        assert units and set(history) == {unit.id for unit in units}
        sent = 0
        for unit in units:
            last = history[unit.id][-1]
            assert (last.status_code, last.changed_at, last.incident_id) == (
                unit.status_code,
                unit.status_since,
                unit.incident_id,
            )
            if unit.incident_id is not None:
                sent += 1
                assert last.changed_by_id in dispatchers
                codes = [change.status_code for change in history[unit.id]]
                assert codes == (["AS", "SC"] if unit.status_code == "SC" else ["AS"])
        assert sent > 0
