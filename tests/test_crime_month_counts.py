"""The monthly crime and integrity counts kept as records are written (migration 0022,
`data.crime_counts`), on both backends: after every kind of write the services make
they equal counting the crimes and incidents again, the migration fills them in as the
services keep them, and LEGACY incidents count neither in the month's figures nor in
its unrecorded list."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from controlroom.data.crime_counts import month_start
from controlroom.data.models import Incident
from controlroom.domain import crime as rules
from controlroom.domain.grades import grade_codes
from controlroom.domain.open_data import next_month
from controlroom.domain.roles import Role
from controlroom.services import crimes, incidents
from tests.factories import add_person, seed_integrity_month, staff_actor

GRADES = grade_codes()
# 23:30 UTC on 31 October is still October in London (GMT from 25 October).
NOW = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
MONTHS = [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]


def _kept_and_recounted(database):
    """The kept counts of `MONTHS` and the same counted again from the rows."""
    bounds = [month_start(m) for m in MONTHS] + [month_start(next_month(MONTHS[-1]))]
    with database.uow() as uow:
        integrity = uow.crimes.integrity_months(MONTHS[0], MONTHS[-1])
        recorded = uow.crimes.recorded_months(MONTHS[0], MONTHS[-1])
        recount = uow.crimes.integrity_counts(bounds, (rules.RECORDING_LIMIT, rules.WEEK))
        crimes_again = uow.crimes.recorded_counts(bounds)
    kept = (
        {m: counts for m, counts in integrity.items() if any(counts)},
        sorted(recorded),
    )
    again = (
        {MONTHS[k]: counts for k, counts in recount.items() if any(counts)},
        sorted((MONTHS[k], code, outcome, n) for k, code, outcome, n in crimes_again),
    )
    return kept, again


def _incident(database, actor, type_code="THEFT", *, possible_crime=True, persons=(), at=NOW):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code=type_code,
            location_text="1 Test Street",
            possible_crime=possible_crime,
            persons=tuple(persons),
        ),
        at,
        GRADES,
    ).id


def _close(database, actor, incident_id, at, closing_type_code="THEFT", **closing):
    current = incidents.view_incident_by_id(database.uow(), actor, incident_id, today=at.date())
    incidents.close_incident(
        database.uow(),
        actor,
        incident_id,
        current.version,
        at,
        closing_type_code=closing_type_code,
        result="Dealt with.",
        **closing,
    )


def test_the_kept_counts_equal_the_recount_after_every_kind_of_write(database, supervisor):
    handler = staff_actor(database, Role.CALL_HANDLER)
    ann, bea = (add_person(database, n, "Counted") for n in ("Ann", "Bea"))

    def agree():
        kept, again = _kept_and_recounted(database)
        assert kept == again
        return kept

    assert agree() == ({}, [])
    # A possible crime: October's (local time), one crime-related incident, none recorded.
    theft = _incident(database, handler, persons=((ann, "victim"), (bea, "victim")))
    assert agree()[0] == {date(2026, 10, 1): (1, 0, 0)}
    # Its first crime within 24 h (recorded in November: November's crime), then a late
    # second one; a non-crime incident that closes as a crime; one that never says crime.
    first = crimes.record_crimes(
        database.uow(),
        handler,
        theft,
        NOW + timedelta(hours=2),
        offence_code="49",
        victim_ids=(ann,),
    ).crimes[0]
    crimes.record_crimes(
        database.uow(),
        handler,
        theft,
        NOW + timedelta(days=3),
        offence_code="49",
        victim_ids=(bea,),
    )
    welfare = _incident(database, handler, "WELF", possible_crime=False)
    quiet = _incident(database, handler, "WELF", possible_crime=False)
    kept = agree()
    assert kept[0] == {date(2026, 10, 1): (1, 1, 1)}
    assert kept[1] == [(date(2026, 11, 1), "49", 0, 2)]
    _close(database, supervisor, welfare, NOW + timedelta(days=2), crime_reference="XF/1/26")
    _close(database, supervisor, quiet, NOW + timedelta(hours=1), closing_type_code="WELF")
    assert agree()[0] == {date(2026, 10, 1): (2, 1, 2)}
    # Reclassified, given an outcome, cancelled: each moves the crime between its rows.
    changed = crimes.reclassify(
        database.uow(),
        supervisor,
        first.id,
        first.version,
        NOW + timedelta(days=4),
        offence_code="45",
        reason="Taken from the person, not from the shop.",
    ).crimes[0]
    agree()
    given = next(
        c
        for c in crimes.give_outcome(
            database.uow(),
            supervisor,
            changed.id,
            changed.version,
            NOW + timedelta(days=5),
            outcome=18,
            outcome_date=date(2026, 11, 5),
        ).crimes
        if c.id == changed.id
    )
    assert (date(2026, 11, 1), "45", 18, 1) in agree()[1]
    asked = crimes.request_cancellation(
        database.uow(),
        supervisor,
        given.id,
        given.version,
        NOW + timedelta(days=6),
        reason="The item was found at home: additional verifiable information.",
    ).crimes[0]
    crimes.decide_cancellation(
        database.uow(),
        supervisor,
        given.id,
        asked.version,
        NOW + timedelta(days=6),
        approve=True,
    )
    assert agree()[1] == [(date(2026, 11, 1), "49", 0, 1)]
    # A no-crime closure: counted while it awaits sign-off, out once signed off, back in
    # when a sign-off returns it (open again).
    doubtful = _incident(database, handler, "ASLT", at=NOW + timedelta(days=1))
    _close(
        database,
        handler,
        doubtful,
        NOW + timedelta(days=1, hours=2),
        closing_type_code="ASLT",
        no_crime_reason="Caller confirms it was a misunderstanding.",
    )
    assert agree()[0][date(2026, 11, 1)] == (1, 0, 0)
    awaiting = incidents.view_incident_by_id(database.uow(), supervisor, doubtful, today=NOW.date())
    incidents.sign_off_closure(
        database.uow(),
        supervisor,
        doubtful,
        awaiting.version,
        NOW + timedelta(days=2),
        approve=True,
    )
    assert date(2026, 11, 1) not in agree()[0]
    returned = _incident(database, handler, "ASLT", at=NOW + timedelta(days=1))
    _close(
        database,
        handler,
        returned,
        NOW + timedelta(days=1, hours=2),
        closing_type_code="ASLT",
        no_crime_reason="Caller confirms it was a misunderstanding.",
    )
    awaiting = incidents.view_incident_by_id(database.uow(), supervisor, returned, today=NOW.date())
    incidents.sign_off_closure(
        database.uow(),
        supervisor,
        returned,
        awaiting.version,
        NOW + timedelta(days=2),
        approve=False,
        reason="Speak to the neighbour who called first.",
    )
    assert agree()[0][date(2026, 11, 1)] == (1, 0, 0)
    # A crime recorded later from an incident of another month counts in its own month.
    crimes.record_crimes(
        database.uow(), handler, returned, NOW + timedelta(days=40), offence_code="92D"
    )
    assert (date(2026, 12, 1), "92D", 0, 1) in agree()[1]
    # Rebuilt from the rows (as after a bulk write), the counts come out the same.
    before = _kept_and_recounted(database)[0]
    with database.uow() as uow:
        uow.crimes.rebuild_month_counts()
        uow.commit()
    assert _kept_and_recounted(database)[0] == before


def test_legacy_incidents_count_neither_in_the_measure_nor_in_its_list(database):
    """LEGACY (imported) incidents are not this system's recording: out of the counts
    and out of the unrecorded list, so the month's figure is its list's."""
    month = datetime(2026, 11, 1, tzinfo=UTC)
    missed = seed_integrity_month(database, month_start=month, incidents=40, unrecorded=9, late=2)
    # Three imported incidents of the month, one of them among the unrecorded.
    with database.uow() as uow:
        references = [missed[0], "CR-INTEGRITY-00001", "CR-INTEGRITY-00002"]
        assert references[1] not in missed and references[2] not in missed
        uow.session.execute(
            update(Incident).where(Incident.reference.in_(references)).values(legacy_batch_id=7)
        )
        uow.crimes.rebuild_month_counts()  # written past the ORM, as an import writes
        uow.commit()
    analyst = staff_actor(database, Role.ANALYST)
    report = crimes.crime_data_integrity(database.uow(), analyst, date(2026, 11, 20), NOW)
    assert (report.count.total, report.count.within_24h) == (37, 29)
    assert [u.reference for u in report.unrecorded] == missed[1:]
    assert report.months[-1][1] == report.count
    kept, again = _kept_and_recounted(database)
    assert kept == again and kept[0][date(2026, 11, 1)] == (37, 29, 30)
    statistics = crimes.crime_statistics(database.uow(), analyst, date(2026, 11, 20), NOW)
    assert statistics.integrity[-1] == report.count


def test_the_migration_fills_them_in_as_the_services_kept_them(database, database_url, supervisor):
    """Downgraded to 0021 (the counts go) and upgraded again: the same counts, equal to
    the recount, a LEGACY incident left out."""
    from controlroom.data.engine import make_engine
    from tests.test_migration_round_trips import _Migrations

    handler = staff_actor(database, Role.CALL_HANDLER)
    victim = add_person(database, "Dee", "Counted")
    cases = [_incident(database, handler, persons=((victim, "victim"),)) for _ in range(3)]
    crimes.record_crimes(
        database.uow(), handler, cases[0], NOW + timedelta(hours=26), offence_code="92D"
    )
    crimes.record_crimes(
        database.uow(),
        handler,
        cases[1],
        NOW + timedelta(hours=3),
        offence_code="8N",
        victim_ids=(victim,),
    )
    with database.uow() as uow:
        uow.session.execute(
            update(Incident).where(Incident.id == cases[2]).values(legacy_batch_id=3)
        )
        uow.crimes.rebuild_month_counts()
        uow.commit()
    kept, again = _kept_and_recounted(database)
    assert kept == again and kept[0] == {date(2026, 10, 1): (2, 1, 2)}
    database.dispose()
    engine = make_engine(database_url)
    try:
        migrations = _Migrations()
        migrations.downgrade(engine, "0021")
        migrations.upgrade(engine, "head")
    finally:
        engine.dispose()
    assert _kept_and_recounted(database) == (kept, again)
    with database.uow() as uow:
        assert uow.session.scalar(select(Incident.legacy_batch_id).where(Incident.id == cases[2]))


def test_the_domain_rule_of_a_part_in_the_counts():
    day = timedelta(days=1)
    part = rules.integrity_count_of
    assert part(says_crime=True, delay=day, signed_off=False, legacy=False) == (
        rules.IntegrityCount(1, 1, 1)
    )
    assert part(says_crime=True, delay=day * 2, signed_off=False, legacy=False) == (
        rules.IntegrityCount(1, 0, 1)
    )
    assert part(says_crime=True, delay=None, signed_off=False, legacy=False).total == 1
    assert part(says_crime=True, delay=None, signed_off=True, legacy=False).total == 0
    assert part(says_crime=True, delay=day, signed_off=True, legacy=False).total == 1
    assert part(says_crime=True, delay=day, signed_off=False, legacy=True).total == 0
    assert part(says_crime=False, delay=day, signed_off=False, legacy=False).total == 0
