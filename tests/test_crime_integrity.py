"""Crime data integrity, computed by the system (both backends): the seeded month of
1,000 possible-crime incidents of which 223 have no crime recorded within 24 h reads
77.7%, lists the 223, and gives the same by station and within 7 days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controlroom.domain.crime import rate_words
from controlroom.domain.roles import Role
from controlroom.services import crimes
from controlroom.services.access import PermissionDenied
from tests.factories import seed_integrity_month, staff_actor

MONTH = datetime(2026, 11, 1, tzinfo=UTC)  # midnight in London too (GMT)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_the_seeded_month_reads_77_7_percent_and_lists_the_223(database):
    north = staff_actor(database, Role.CALL_HANDLER, "north.handler")
    south = staff_actor(database, Role.CALL_HANDLER, "south.handler")
    with database.uow() as uow:
        uow.staff.get(north.staff_id).station = "North"
        uow.staff.get(south.staff_id).station = "South"
        uow.commit()
    missed = seed_integrity_month(
        database, month_start=MONTH, opened_by=(north.staff_id, south.staff_id)
    )
    analyst = staff_actor(database, Role.ANALYST)
    report = crimes.crime_data_integrity(database.uow(), analyst, date(2026, 11, 20), NOW)
    assert (report.count.total, report.count.within_24h) == (1000, 777)
    assert rate_words(report.count.rate_24h) == "77.7%"
    assert rate_words(report.count.rate_7d) == "82.7%"  # 50 were recorded 3 days late
    assert [u.reference for u in report.unrecorded] == missed and len(missed) == 223
    assert sum(u.recorded_at is not None for u in report.unrecorded) == 50
    stations = dict(report.stations)
    assert set(stations) == {"North", "South"}
    assert sum(c.total for c in stations.values()) == 1000
    assert sum(c.within_24h for c in stations.values()) == 777
    # The year's trend ends at the month; the months before it hold nothing here.
    assert [m for m, _ in report.months][-1] == date(2026, 11, 1) and len(report.months) == 12
    assert [c.total for _, c in report.months[:-1]] == [0] * 11
    # A signed-off no-crime decision is not a crime: a supervisor-closed one drops out.
    with database.uow() as uow:
        from sqlalchemy import select

        from controlroom.data.models import Incident

        incident = uow.session.scalar(select(Incident).where(Incident.reference == missed[-1]))
        incident.signoff_state = "approved"
        uow.commit()
    after = crimes.crime_data_integrity(database.uow(), analyst, date(2026, 11, 1), NOW)
    assert (after.count.total, after.count.within_24h, len(after.unrecorded)) == (999, 777, 222)


def test_call_handlers_may_not_see_the_measure(database):
    handler = staff_actor(database, Role.CALL_HANDLER)
    with pytest.raises(PermissionDenied):
        crimes.crime_data_integrity(database.uow(), handler, date(2026, 11, 1), NOW)
