"""Small, explicit rows for tests that need a few records rather than the synthetic force."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from controlroom.data.models import Incident
from controlroom.data.uow import Database
from tests.databases import SEED_ANCHOR, TEST_ADMIN

_numbers = itertools.count(1)


def add_incident(
    database: Database,
    *,
    grade: str = "G2",
    status: str = "open",
    type_code: str = "DOM",
    age: timedelta = timedelta(hours=1),
    location_text: str = "1 Test Street",
) -> str:
    with database.uow() as uow:
        opener = uow.staff.by_username(TEST_ADMIN)
        number = next(_numbers)
        incident = Incident(
            reference=f"CR-20261126-{number:04d}",
            opened_at=SEED_ANCHOR - age,
            opened_by_id=opener.id,
            workstation="WS-TEST",
            opening_type_code=type_code,
            grade=grade,
            status=status,
            location_text=location_text,
            closed_at=SEED_ANCHOR if status == "closed" else None,
        )
        uow.session.add(incident)
        uow.commit()
        return incident.reference


def set_operator(database: Database, *, display_name: str | None = None, station: str | None = None,
                 force_name: str | None = None, environment: str | None = None) -> None:
    with database.uow() as uow:
        operator = uow.staff.by_username(TEST_ADMIN)
        if display_name is not None:
            operator.display_name = display_name
        if station is not None:
            operator.station = station
        info = uow.database.get()
        if force_name is not None:
            info.force_name = force_name
        if environment is not None:
            info.environment = environment
        uow.commit()


def opened_at(age: timedelta) -> datetime:
    return SEED_ANCHOR - age
