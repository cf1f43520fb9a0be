"""The command view's figures, counted in the database since issue 20, are the figures as
first computed (every item fetched and counted in Python): on hand-placed items at the
edges of the backlog line's hours, and on the small synthetic force. Both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, case, func, insert, literal, or_, select

from controlroom.data.cold_models import QueueItem
from controlroom.data.models import Incident, UtcDateTime
from controlroom.domain.queues import QUEUE_ORDER, Queue, QueuePolicy
from controlroom.domain.roles import Role
from controlroom.services import queues
from controlroom.services.command_view import BACKLOG_POINTS, backlog_points, command_view
from tests import factories
from tests.databases import SEED_ANCHOR
from tests.test_queue_services import GRADES, staff

NOW = SEED_ANCHOR
HOUR = timedelta(hours=1)
POLICY = QueuePolicy(
    grade_codes=GRADES, stale_after=timedelta(minutes=10), dash_escalation=timedelta(hours=24)
)
NOT_DONE = ("open", "claimed")


def figures_as_first_computed(database, policy, now):
    """(count, oldest, breaches, backlog) per queue, the way the command view first
    worked them out: the counts per queue and grade, the breaches, and every span of the
    last 24 hours fetched and placed at each hour by `backlog_points`."""
    with database.uow() as uow:
        session = uow.session
        counts: dict[str, int] = {}
        oldest: dict = {}
        for queue, _grade, n, first in session.execute(
            select(QueueItem.queue, Incident.grade, func.count(), func.min(QueueItem.entered_at))
            .join(Incident, Incident.id == QueueItem.incident_id)
            .where(QueueItem.state.in_(NOT_DONE))
            .group_by(QueueItem.queue, Incident.grade)
        ):
            counts[queue] = counts.get(queue, 0) + n
            oldest[queue] = min(first, oldest.get(queue, first))
        whens = [
            (
                and_(QueueItem.queue == q.value, Incident.grade == g),
                literal(now - policy.target(q, g), UtcDateTime()),
            )
            for q in Queue
            for g in policy.grade_codes
        ]
        cutoff = case(*whens, else_=literal(now - policy.target(Queue.GENERAL, ""), UtcDateTime()))
        breaches = dict(
            session.execute(
                select(QueueItem.queue, func.count())
                .join(Incident, Incident.id == QueueItem.incident_id)
                .where(QueueItem.state.in_(NOT_DONE), QueueItem.entered_at < cutoff)
                .group_by(QueueItem.queue)
            ).all()
        )
        since = now - timedelta(hours=BACKLOG_POINTS - 1)
        spans: dict[str, list] = {}
        for queue, entered, completed in session.execute(
            select(QueueItem.queue, QueueItem.entered_at, QueueItem.completed_at).where(
                QueueItem.entered_at <= now,
                or_(QueueItem.completed_at.is_(None), QueueItem.completed_at >= since),
            )
        ):
            spans.setdefault(queue, []).append((entered, completed))
    return {
        q: (
            counts.get(q.value, 0),
            (now - oldest[q.value]) if q.value in oldest else None,
            breaches.get(q.value, 0),
            backlog_points(spans.get(q.value, []), now),
        )
        for q in QUEUE_ORDER
    }


def figures_now(database, actor, policy, now):
    shown = command_view(database.uow(), actor, policy, now)
    return {f.queue: (f.count, f.oldest_age, f.breaches, f.backlog) for f in shown.queues}


def test_queue_figures_and_backlog_match_the_first_count_at_the_hours_edges(database):
    supervisor = staff(database, Role.SUPERVISOR, "cv.super")
    edge = NOW - 5 * HOUR  # one of the backlog line's hours, exactly
    placed = [
        # (entered, completed): at, just before and just after the hours, inside and
        # outside the 24 hours, done and not.
        (NOW - 30 * HOUR, None),
        (NOW - 30 * HOUR, NOW - 26 * HOUR),  # gone before the line starts
        (NOW - 30 * HOUR, NOW - 23 * HOUR),  # gone at its first hour exactly
        (NOW - 23 * HOUR, None),  # came at its first hour exactly
        (edge, None),
        (edge, edge + HOUR),
        (edge - timedelta(microseconds=1), edge),
        (edge + timedelta(microseconds=1), edge + timedelta(microseconds=2)),
        (edge + timedelta(minutes=30), None),
        (NOW, None),  # came at the last hour exactly
        (NOW + timedelta(seconds=1), None),  # after the view was read
        (NOW - 2 * HOUR, NOW + HOUR),  # completed after now (a later clock)
        (NOW - 90 * 24 * HOUR, None),  # long past every target
    ]
    references = [
        factories.add_incident(database, grade=GRADES[n % 4], type_code="DOM")
        for n in range(len(placed))
    ]
    with database.uow() as uow:
        ids = [uow.incidents.by_reference(reference).id for reference in references]
    rows = []
    for n, (entered, completed) in enumerate(placed):
        for queue in ("domestic_abuse", "general", "child_protection", "missing_persons")[
            : 1 + n % 4
        ]:
            rows.append(
                {
                    "incident_id": ids[n],
                    "queue": queue,
                    "entered_at": entered,
                    "completed_at": completed,
                    "state": "done" if completed is not None else ("open", "claimed")[n % 2],
                    "resolution": "completed" if completed is not None else None,
                    "version": 1,
                    "change_seq": 0,
                }
            )
    with database.uow() as uow:
        uow.session.execute(insert(QueueItem), rows)
        uow.commit()

    expected = figures_as_first_computed(database, POLICY, NOW)
    assert figures_now(database, supervisor, POLICY, NOW) == expected
    # The edges count as the first count said, and something is waiting at every hour.
    assert all(expected[q][3] for q in QUEUE_ORDER if expected[q][0])
    assert expected[Queue.DOMESTIC_ABUSE][2] >= 1  # a breach


def test_the_synthetic_forces_command_view_matches_the_first_count(seeded_database):
    database = seeded_database
    supervisor = staff(database, Role.SUPERVISOR, "cv.super")
    queues.route_unrouted(database.uow, SEED_ANCHOR)
    with database.uow() as uow:
        latest = uow.session.scalar(select(func.max(QueueItem.entered_at)))
    for now in (latest, latest - 7 * HOUR, latest + 30 * HOUR):
        expected = figures_as_first_computed(database, POLICY, now)
        assert figures_now(database, supervisor, POLICY, now) == expected
    assert any(expected[q][0] for q in QUEUE_ORDER)
