"""The database orders, limits and counts the queue exactly as the domain says: on a
seeded mix of grades, queues, THRIVE texts (awkward ones too), markers, DASH levels and
ages (to the microsecond, some in the future), the order `list_queue` gets from SQL
equals `order_key` sorting in Python, a LIMIT takes its head, and the SQL figures equal
those counted row by row. Runs on both backends."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from controlroom.data.cold_models import (
    DashAssessment,
    IncidentPerson,
    Person,
    QueueItem,
    WarningMarker,
)
from controlroom.data.models import Incident, Staff
from controlroom.domain.queues import Queue, QueuePolicy, thrive_level
from controlroom.services import queues
from tests.factories import staff_actor

NOW = datetime(2026, 11, 26, 9, 0, 0, 250_000, tzinfo=UTC)
POLICY = QueuePolicy(dash_escalation=timedelta(hours=24))
THRIVE = [
    None,
    "",
    "High risk.",
    "high",
    "  -High.",
    "Highly unusual",
    "MEDIUM;x",
    "medium",
    "Low",
    "low\tx",
    "standard",
    "Standard:",
    ".,low",
    "Risk: high",
    "höh",
    "Medium-ish",
    "lowish",
    "\nhigh",
    # Cases and separators as SQLite's GLOB reads them (issue 20).
    "HiGh",
    "hIGH-x",
    "high\r",
    "Hig",
    "highX",
    "[high]",
    "LOW,",
    "mediumm",
    "sTaNdArD",
]
MARKERS = [None, "RSO", "VULN", "RSO+VULN"]
DASH = [None, "standard", "medium", "high"]
ITEMS = 400


def seed(database, rng: random.Random) -> None:
    with database.uow() as uow:
        session = uow.session
        opener = session.scalar(select(Staff.id).order_by(Staff.id).limit(1))
        rsos = []
        incidents = []
        for n in range(ITEMS):
            seconds = rng.choice([rng.randint(-600, 4 * 86400), 900, 1800, 3600, 86400])
            incidents.append(
                {
                    "reference": f"CR-20261126-Q{n:04d}",
                    "opened_by_id": opener,
                    "opened_at": NOW - timedelta(hours=1),
                    "workstation": "WS",
                    "opening_type_code": "THEFT",
                    "grade": rng.choice(["G1", "G2", "G3", "G4"]),
                    "status": "open",
                    "location_text": "1 Order Street",
                    "narrative": "",
                    "domestic": False,
                    "child_present": False,
                    "weapons": False,
                    "possible_crime": False,
                    "thrive_skipped": False,
                    "version": 1,
                    "thrive_risk": rng.choice(THRIVE),
                    "thrive_harm": rng.choice([None, "Some harm"]),
                }
            )
            rsos.append((seconds, rng.randint(0, 999_999)))
        session.execute(insert(Incident), incidents)
        ids = session.scalars(select(Incident.id).order_by(Incident.id)).all()
        persons = {}
        for code in ("RSO", "VULN"):
            person = Person(forename="Order", surname=code)
            session.add(person)
            session.flush()
            session.add(
                WarningMarker(person_id=person.id, marker_code=code, valid_from=date(2020, 1, 1))
            )
            persons[code] = person.id
        items = []
        for incident_id, (seconds, micros) in zip(ids, rsos, strict=True):
            queue = rng.choice(list(Queue))
            entered = NOW - timedelta(seconds=seconds, microseconds=micros)
            items.append(
                {
                    "incident_id": incident_id,
                    "queue": queue.value,
                    "entered_at": entered,
                    "state": rng.choice(["open", "open", "claimed", "done"]),
                    "version": 1,
                    "change_seq": 0,
                }
            )
            markers = rng.choice(MARKERS)
            for code in (markers or "").split("+"):
                if code:
                    session.add(
                        IncidentPerson(
                            incident_id=incident_id,
                            person_id=persons[code],
                            role="subject",
                            linked_by_id=opener,
                        )
                    )
            for level in rng.sample(DASH[1:], rng.randint(0, 2)):
                session.add(
                    DashAssessment(
                        incident_id=incident_id,
                        answers="N" * 27,
                        score=0,
                        score_level=level,
                        level=level,
                        assessed_at=NOW - timedelta(hours=2),
                        assessed_by_id=opener,
                    )
                )
        session.execute(insert(QueueItem), items)
        uow.commit()


def test_sql_order_limit_and_figures_equal_the_domains(database):
    from controlroom.domain.roles import Role

    seed(database, random.Random(20261126))
    actor = staff_actor(database, Role.SUPERVISOR, "order.super")
    for queue, grade in [(None, None), (Queue.DOMESTIC_ABUSE, None), (None, "G2")]:
        listing = queues.list_queue(database.uow(), actor, POLICY, NOW, queue=queue, grade=grade)
        rows = list(listing.rows)
        assert len(rows) > 20
        python_order = [r.item_id for r in sorted(rows, key=lambda r: r.order)]
        assert [r.item_id for r in rows] == python_order
        # The mix really exercises each part of the rule.
        assert {r.risk_level for r in rows} == {1, 2, 3}
        assert any(r.escalated for r in rows) or queue is not None or grade is not None
        assert queues.summarise(rows) == listing.summary
        head = queues.list_queue(
            database.uow(), actor, POLICY, NOW, queue=queue, grade=grade, limit=25
        )
        assert [r.item_id for r in head.rows] == python_order[:25]
        assert head.summary == listing.summary


def test_thrive_words_read_the_same_in_sql_and_python():
    # The Python side of the THRIVE rule (its SQL side is covered above on both backends).
    assert [thrive_level(t) for t in ("  -High.", "Highly", ".,low", "höh", "\nhigh")] == [
        thrive_level("high"),
        None,
        thrive_level("low"),
        None,
        thrive_level("high"),
    ]
