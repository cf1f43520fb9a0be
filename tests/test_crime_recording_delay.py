"""The crime recording delay kept on each incident (migration 0021) for the integrity
counts (both backends): how long after the report a crime was first recorded — its
first crime record, cancelled ones too, or its closing with a crime reference, whichever
came first. Kept by recording and closing, unchanged by reclassifying or cancelling, and
filled in by the migration exactly as the services keep it."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from controlroom.data.cold_models import Crime
from controlroom.data.models import Incident
from controlroom.domain import crime as rules
from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import crimes, incidents
from tests.factories import add_person, staff_actor

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _incident(database, actor, *, persons=(), at=NOW):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="THEFT",
            location_text="1 Test Street",
            possible_crime=True,
            persons=tuple(persons),
        ),
        at,
        GRADES,
    ).id


def _kept(database, incident_id) -> timedelta | None:
    with database.uow() as uow:
        return uow.session.scalar(
            select(Incident.crime_recording_delay).where(Incident.id == incident_id)
        )


def _worked_out(database, incident_id) -> timedelta | None:
    """The delay from the crimes and the closing themselves, as the counts took it
    before it was kept."""
    with database.uow() as uow:
        incident = uow.session.get(Incident, incident_id)
        first = uow.session.scalar(
            select(func.min(Crime.recorded_at)).where(Crime.incident_id == incident_id)
        )
        if first is not None and first.tzinfo is None:  # SQLite's MIN is text
            first = first.replace(tzinfo=UTC)
        closed = rules.closed_as_crime(incident.crime_reference, incident.closed_at)
        times = [t for t in (first, closed) if t is not None]
        return min(times) - incident.opened_at if times else None


def _close(database, actor, incident_id, at, **closing):
    current = incidents.view_incident_by_id(database.uow(), actor, incident_id, today=date.today())
    incidents.close_incident(
        database.uow(),
        actor,
        incident_id,
        current.version,
        at,
        closing_type_code="THEFT",
        result="Dealt with.",
        **closing,
    )


def test_the_first_crime_sets_it_and_later_changes_leave_it(database, supervisor):
    handler = staff_actor(database, Role.CALL_HANDLER)
    ann, bea = (add_person(database, n, "Victim") for n in ("Ann", "Bea"))
    incident_id = _incident(database, handler, persons=((ann, "victim"), (bea, "victim")))
    assert _kept(database, incident_id) is None  # no crime yet
    first = crimes.record_crimes(
        database.uow(),
        handler,
        incident_id,
        NOW + timedelta(hours=30, microseconds=5),
        offence_code="49",
        victim_ids=(ann,),
    ).crimes[0]
    assert _kept(database, incident_id) == timedelta(hours=30, microseconds=5)
    # A second crime, later: the first still stands.
    crimes.record_crimes(
        database.uow(),
        handler,
        incident_id,
        NOW + timedelta(days=3),
        offence_code="49",
        victim_ids=(bea,),
    )
    assert _kept(database, incident_id) == timedelta(hours=30, microseconds=5)
    changed = crimes.reclassify(
        database.uow(),
        supervisor,
        first.id,
        first.version,
        NOW + timedelta(days=4),
        offence_code="45",
        reason="Taken from the person, not from the shop.",
    ).crimes[0]
    assert _kept(database, incident_id) == timedelta(hours=30, microseconds=5)
    asked = crimes.request_cancellation(
        database.uow(),
        supervisor,
        changed.id,
        changed.version,
        NOW + timedelta(days=5),
        reason="The item was found at home: additional verifiable information.",
    ).crimes[0]
    crimes.decide_cancellation(
        database.uow(), supervisor, changed.id, asked.version, NOW + timedelta(days=5), approve=True
    )
    # A cancelled crime was still recorded then (the counts always took it so).
    assert _kept(database, incident_id) == timedelta(hours=30, microseconds=5)
    assert _kept(database, incident_id) == _worked_out(database, incident_id)


def test_a_closing_with_a_crime_reference_counts_when_it_came_first(database, supervisor):
    handler = staff_actor(database, Role.CALL_HANDLER)
    early = _incident(database, handler)
    _close(database, supervisor, early, NOW + timedelta(hours=3), crime_reference="XF/1234/26")
    assert _kept(database, early) == timedelta(hours=3)
    late = _incident(database, handler)
    crimes.record_crimes(
        database.uow(), handler, late, NOW + timedelta(hours=2), offence_code="92D"
    )
    _close(database, supervisor, late, NOW + timedelta(hours=5), crime_reference="XF/1235/26")
    assert _kept(database, late) == timedelta(hours=2)  # the crime came first
    none = _incident(database, handler)
    _close(
        database,
        supervisor,
        none,
        NOW + timedelta(hours=1),
        no_crime_reason="Caller confirms nothing was taken at all.",
    )
    assert _kept(database, none) is None
    for incident_id in (early, late, none):
        assert _kept(database, incident_id) == _worked_out(database, incident_id)
    # The integrity counts read it: two within 24 h; the signed-off no-crime is no crime.
    analyst = staff_actor(database, Role.ANALYST)
    report = crimes.crime_data_integrity(database.uow(), analyst, NOW.date(), NOW)
    assert (report.count.total, report.count.within_24h) == (2, 2)
    assert report.months[-1][1] == report.count


def test_the_domain_rule_keeps_the_earliest():
    opened = NOW
    assert rules.recording_delay(opened, None, None) is None
    assert rules.recording_delay(opened, None, NOW + timedelta(hours=1)) == timedelta(hours=1)
    kept = timedelta(hours=1)
    assert rules.recording_delay(opened, kept, NOW + timedelta(hours=2)) == kept
    assert rules.recording_delay(opened, kept, NOW + timedelta(minutes=5)) == timedelta(minutes=5)
    assert rules.recording_delay(opened, kept, None) == kept
    assert rules.closed_as_crime("XF/1", NOW) == NOW
    assert rules.closed_as_crime("", NOW) is None and rules.closed_as_crime(None, NOW) is None
    assert rules.closed_as_crime("XF/1", None) is None


def test_the_migration_fills_it_in_as_the_services_kept_it(database, database_url, supervisor):
    """Downgraded to 0020 (the column goes) and upgraded again: every incident's delay
    comes back from its crimes and closing, the same as the services kept it."""
    from controlroom.data.engine import make_engine
    from tests.test_migration_round_trips import _Migrations

    handler = staff_actor(database, Role.CALL_HANDLER)
    victim = add_person(database, "Cat", "Victim")
    cases = [_incident(database, handler, persons=((victim, "victim"),)) for _ in range(4)]
    crimes.record_crimes(
        database.uow(), handler, cases[0], NOW + timedelta(hours=26), offence_code="92D"
    )
    _close(database, supervisor, cases[0], NOW + timedelta(hours=27), crime_reference="XF/1")
    _close(database, supervisor, cases[1], NOW + timedelta(hours=1), crime_reference="XF/2")
    crimes.record_crimes(
        database.uow(), handler, cases[1], NOW + timedelta(hours=9), offence_code="92D"
    )
    crime = crimes.record_crimes(
        database.uow(),
        handler,
        cases[2],
        NOW + timedelta(days=2, microseconds=7),
        offence_code="49",
        victim_ids=(victim,),
    ).crimes[0]
    asked = crimes.request_cancellation(
        database.uow(),
        supervisor,
        crime.id,
        crime.version,
        NOW + timedelta(days=3),
        reason="Recorded against the wrong incident: a duplicate record.",
    ).crimes[0]
    crimes.decide_cancellation(
        database.uow(), supervisor, crime.id, asked.version, NOW + timedelta(days=3), approve=True
    )
    kept = [_kept(database, i) for i in cases]
    assert kept == [
        timedelta(hours=26),
        timedelta(hours=1),
        timedelta(days=2, microseconds=7),
        None,
    ]
    database.dispose()
    engine = make_engine(database_url)
    try:
        migrations = _Migrations()
        migrations.downgrade(engine, "0020")
        migrations.upgrade(engine, "head")
    finally:
        engine.dispose()
    assert [_kept(database, i) for i in cases] == kept
