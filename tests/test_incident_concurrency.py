"""Many stations at once, on the backend under test (SQLite serialises writers; PostgreSQL
runs them side by side and the sequence row lock orders them).

- 8 threads x 200 saves give 1,600 incidents with unique, gap-free references;
- the same form saved from 8 threads at once makes one incident;
- two operators changing the same incident at once: one wins, the other gets
  EditConflict carrying the winner's change, and nothing is lost;
- notes written at once all land.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import IncidentLogEntry
from controlroom.data.models import Incident
from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.services import incidents
from controlroom.services.incidents import EditConflict, NewIncident

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
THREADS = 8
SAVES_PER_THREAD = 200


@pytest.fixture
def operator(supervisor) -> Actor:
    return Actor(supervisor.staff_id, supervisor.username, supervisor.role, terminal="192.0.2.40")


def form(**fields) -> NewIncident:
    answers = dict(
        idempotency_key=uuid.uuid4().hex,
        type_code="NOISE",
        location_text="12 Mill Lane, Leeds LS6 2AB",
    )
    answers.update(fields)
    return NewIncident(**answers)


def run_together(count: int, work):
    """Run work(index) on `count` threads released at the same moment; results in order."""
    barrier = threading.Barrier(count)

    def started(index):
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(started, index) for index in range(count)]
        return [future.result(timeout=300) for future in futures]


@pytest.mark.slow
def test_concurrent_saves_get_unique_gap_free_references(database, operator):
    def station(index: int) -> list[str]:
        references = []
        for n in range(SAVES_PER_THREAD):
            saved = incidents.save_new_incident(
                database.uow(),
                operator,
                form(narrative=f"station {index} call {n}"),
                NOW + timedelta(milliseconds=n),
                GRADES,
            )
            assert saved.created
            references.append(saved.reference)
        return references

    references = [r for batch in run_together(THREADS, station) for r in batch]
    total = THREADS * SAVES_PER_THREAD
    assert len(references) == len(set(references)) == total
    assert all(r.startswith("CR-20261126-") for r in references)
    assert sorted(int(r.rsplit("-", 1)[1]) for r in references) == list(range(1, total + 1))
    with database.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Incident)) == total
        assert uow.session.scalar(select(func.count(func.distinct(Incident.reference)))) == total


def test_the_same_form_saved_from_many_stations_at_once_is_one_incident(database, operator):
    same = form(narrative="restored draft")
    results = run_together(
        THREADS, lambda _: incidents.save_new_incident(database.uow(), operator, same, NOW, GRADES)
    )
    assert len({(r.id, r.reference) for r in results}) == 1
    assert sorted(r.created for r in results) == [False] * (THREADS - 1) + [True]
    with database.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Incident)) == 1


def test_two_operators_regrading_at_once_one_wins_and_nothing_is_lost(database, operator):
    for round_ in range(5):
        saved = incidents.save_new_incident(
            database.uow(), operator, form(type_code="BURGB"), NOW, GRADES
        )
        seen = incidents.view_incident_by_id(database.uow(), operator, saved.id, today=date.today())
        wanted = {0: ("G1", "Weapon now seen"), 1: ("G4", "Caller says all is calm")}

        def regrade(index, seen=seen, saved=saved, wanted=wanted):
            grade, reason = wanted[index]
            try:
                return incidents.change_grade(
                    database.uow(), operator, saved.id, grade, reason, seen.version, NOW, GRADES
                )
            except EditConflict as conflict:
                return conflict

        outcomes = run_together(2, regrade)
        conflicts = [o for o in outcomes if isinstance(o, EditConflict)]
        winners = [o for o in outcomes if not isinstance(o, EditConflict)]
        assert (len(winners), len(conflicts)) == (1, 1), round_
        winner = winners[0]
        # The loser is shown the winner's change, so nothing is overwritten unseen.
        assert conflicts[0].current.grade == winner.grade
        assert conflicts[0].current.version == winner.version == 2
        final = incidents.view_incident_by_id(
            database.uow(), operator, saved.id, today=date.today()
        )
        assert (final.grade, final.version) == (winner.grade, 2)
        changes = [e for e in final.log if e.kind == "grade_change"]
        assert [(e.old_value, e.new_value) for e in changes] == [("G3", winner.grade)]


def test_notes_written_at_once_all_land(database, operator):
    saved = incidents.save_new_incident(database.uow(), operator, form(), NOW, GRADES)
    run_together(
        THREADS,
        lambda index: incidents.add_note(
            database.uow(), operator, saved.id, f"note from station {index}", NOW
        ),
    )
    with database.uow() as uow:
        texts = uow.session.scalars(
            select(IncidentLogEntry.text).where(
                IncidentLogEntry.incident_id == saved.id,
                IncidentLogEntry.text.startswith("note from"),
            )
        ).all()
    assert sorted(texts) == sorted(f"note from station {i}" for i in range(THREADS))
    assert (
        incidents.view_incident_by_id(
            database.uow(), operator, saved.id, today=date.today()
        ).version
        == 1
    )
