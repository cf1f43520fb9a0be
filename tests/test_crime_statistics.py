"""Crime statistics (service on both backends; the screen by keys at 80x24): twelve
months of recorded crime by open-data type and Home Office class, outcomes, the
integrity rate and MARAC referrals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from controlroom.data.cold_models import Referral
from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import crimes, incidents
from controlroom.services.access import PermissionDenied
from tests.factories import add_person, staff_actor

GRADES = grade_codes()
OCTOBER = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def _crime(database, actor, at, offence, victim_name, delay=timedelta(hours=1)):
    victim = add_person(database, victim_name, "Statistic")
    saved = incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="ASLTI",
            location_text="1 Test Street",
            possible_crime=True,
            persons=((victim, "victim"),),
        ),
        at,
        GRADES,
    )
    return crimes.record_crimes(
        database.uow(),
        actor,
        saved.id,
        at + delay,
        offence_code=offence,
        victim_ids=(victim,),
    ).crimes[0]


def test_the_database_groups_by_local_month_and_times_the_limit_as_the_rules_do(
    database, supervisor
):
    """The month and the 24-hour/7-day windows are worked out by the database: at a
    local month's edge (BST), at exactly 24 h and a microsecond past it, and across a
    UTC midnight, it must agree with the domain rule and the row-by-row measure."""
    handler = staff_actor(database, Role.CALL_HANDLER)
    day = timedelta(days=1)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: July's, recorded at 24 h exactly.
    _crime(database, handler, datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "8N", "Ann", day)
    # A microsecond past 24 h: late, but within 7 days.
    opened = datetime(2026, 7, 10, 10, 0, 0, 500000, tzinfo=UTC)
    _crime(database, handler, opened, "8N", "Bea", day + timedelta(microseconds=1))
    # Recorded the next UTC day, under 24 h on.
    _crime(database, handler, datetime(2026, 7, 20, 22, 0, tzinfo=UTC), "28E", "Cal", day / 2)
    # 22:59 UTC on 31 July is 23:59 on 31 July in London: still July, never recorded.
    victim = add_person(database, "Dee", "Statistic")
    incidents.save_new_incident(
        database.uow(),
        handler,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="ASLTI",
            location_text="1 Test Street",
            possible_crime=True,
            persons=((victim, "victim"),),
        ),
        datetime(2026, 7, 31, 22, 59, tzinfo=UTC),
        GRADES,
    )
    now = datetime(2026, 8, 20, tzinfo=UTC)
    report = crimes.crime_statistics(database.uow(), supervisor, date(2026, 7, 1), now)
    assert report.months[-1] == date(2026, 7, 1)
    assert report.recorded[-2:] == (0, 3)
    july = report.integrity[-1]
    assert (july.total, july.within_24h, july.within_7d) == (4, 2, 3)
    assert report.integrity[-2].total == 0
    measure = crimes.crime_data_integrity(database.uow(), supervisor, date(2026, 7, 1), now)
    assert measure.count == july == measure.months[-1][1]
    assert len(measure.unrecorded) == 2


@pytest.fixture
def year(database, supervisor):
    return seed_year(database, supervisor)


def seed_year(database, supervisor):
    """Two crimes in November (one with outcome 18), one in October, a MARAC referral."""
    handler = staff_actor(database, Role.CALL_HANDLER)
    _crime(database, handler, OCTOBER, "8N", "Ann")
    _crime(database, handler, NOVEMBER, "8N", "Bea")
    burglary = _crime(database, handler, NOVEMBER, "28E", "Cal")
    crimes.give_outcome(
        database.uow(),
        supervisor,
        burglary.id,
        burglary.version,
        NOVEMBER + timedelta(days=2),
        outcome=18,
        outcome_date=date(2026, 11, 12),
    )
    with database.uow() as uow:
        uow.session.add(
            Referral(
                incident_id=uow.crimes.get(burglary.id).incident_id,
                kind="marac",
                status="created",
                triggers="high_risk",
                created_at=NOVEMBER,
                created_by_id=handler.staff_id,
                send_due_at=NOVEMBER + timedelta(days=1),
            )
        )
        uow.commit()
    return database


def test_twelve_months_of_crime_by_type_class_and_outcome(year, supervisor):
    report = crimes.crime_statistics(year.uow(), supervisor, date(2026, 11, 20), NOVEMBER)
    assert report.months[0] == date(2025, 12, 1) and report.months[-1] == date(2026, 11, 1)
    assert report.recorded[-2:] == (1, 2) and sum(report.recorded) == 3
    types = dict(report.by_type)
    assert len(types) == 14
    assert types["Violence and sexual offences"][-2:] == (1, 1)
    assert types["Burglary"][-1] == 1
    assert dict(report.by_class)["28E Burglary - residential"][-1] == 1
    assert report.outcomes == ((0, 2), (18, 1))
    assert report.integrity[-1].total == 2 and report.integrity[-1].within_24h == 2
    assert report.marac_referrals[-1] == 1
    with pytest.raises(PermissionDenied):
        crimes.crime_statistics(
            year.uow(), staff_actor(year, Role.CALL_HANDLER), date(2026, 11, 1), NOVEMBER
        )


async def test_the_statistics_screen_reads_at_a_glance_by_keys(year, tmp_path):
    from controlroom.screens.crime.statistics import CrimeStatistics
    from tests.apps import build_app, screen_text, settle

    analyst = staff_actor(year, Role.ANALYST)
    app = build_app(year, tmp_path, username=analyst.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, CrimeStatistics)
        text = screen_text(app)
        assert "3 in 12 months · 2 in Nov" in text
        assert "Outcomes: 0 No outcome yet 67% · 18 Investigation complete 33%" in text
        assert "1 MARAC in 12 months" in text
        assert "Violence and sexual offences" in text
        await pilot.press("t")
        await settle(pilot)
        assert "28E Burglary - residential" in screen_text(app)


async def test_t_pressed_in_one_burst_with_f12_shows_the_classes(year, tmp_path, monkeypatch):
    """Keys sent before the year is read are not lost: the table asked for comes up."""
    import threading

    from controlroom.screens.crime.statistics import CrimeStatistics
    from tests.apps import build_app, screen_text, settle, until

    read_month = CrimeStatistics.read_month

    # The read waits until the keys are in, as a force's year does on a busy day;
    # an event rather than a sleep, so a loaded machine cannot reorder the two.
    keys_in = threading.Event()

    def slow_read(self, *args):
        keys_in.wait(timeout=30)
        return read_month(self, *args)

    monkeypatch.setattr(CrimeStatistics, "read_month", slow_read)
    analyst = staff_actor(year, Role.ANALYST)
    app = build_app(year, tmp_path, username=analyst.username)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f12", "t")
        assert app.screen.report is None  # the key came first
        keys_in.set()
        await until(pilot, lambda: app.screen.report is not None, timeout=30)
        await settle(pilot)
        assert "28E Burglary - residential" in screen_text(app)
