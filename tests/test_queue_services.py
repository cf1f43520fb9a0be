"""Triage queue services on a real database (SQLite, and PostgreSQL when configured):
routing, listing in risk order, exclusive claims, stale reclaim, supervisor reassignment,
completion, the audit rows each writes, and the live change feed."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import QueueChangeCounter, QueueItem
from controlroom.data.models import AuditEvent, Staff
from controlroom.domain.identity import Actor
from controlroom.domain.queues import Queue, QueuePolicy
from controlroom.domain.roles import Role
from controlroom.services import incidents, queues
from controlroom.services.access import PermissionDenied
from controlroom.services.incidents import NewIncident
from controlroom.services.queues import ClaimLost, ClaimRefused, QueueInputError
from tests.databases import SEED_ANCHOR

NOW = SEED_ANCHOR
GRADES = ("G1", "G2", "G3", "G4")
POLICY = QueuePolicy(
    grade_codes=GRADES, stale_after=timedelta(minutes=10), dash_escalation=timedelta(hours=24)
)


def staff(database, role: Role, username: str, name: str | None = None) -> Actor:
    with database.uow() as uow:
        row = uow.staff.by_username(username)
        if row is None:
            row = Staff(
                username=username,
                display_name=name or username,
                role=role.value,
                active=True,
                locked=False,
            )
            uow.session.add(row)
            uow.commit()
        return Actor(staff_id=row.id, username=username, role=role, terminal="local")


@pytest.fixture
def handler(database):
    return staff(database, Role.CALL_HANDLER, "q.handler", "Hana Handler")


@pytest.fixture
def other(database):
    return staff(database, Role.DISPATCHER, "q.other", "Omar Other")


@pytest.fixture
def supervisor(database):
    return staff(database, Role.SUPERVISOR, "q.super", "Sam Supervisor")


def new_incident(
    database, actor, *, type_code="DOM", child_present=False, grade=None, thrive=None, now=NOW
):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code=type_code,
            location_text="1 Test Street",
            child_present=child_present,
            grade=grade,
            thrive=thrive,
        ),
        now,
        GRADES,
    )


def items(database, incident_id=None):
    with database.uow() as uow:
        statement = select(QueueItem).order_by(QueueItem.id)
        if incident_id is not None:
            statement = statement.where(QueueItem.incident_id == incident_id)
        return [(i.queue, i.state, i.resolution) for i in uow.session.scalars(statement)]


def item_id(database, incident_id, queue="domestic_abuse"):
    with database.uow() as uow:
        return uow.session.scalar(
            select(QueueItem.id).where(
                QueueItem.incident_id == incident_id, QueueItem.queue == queue
            )
        )


def audit_rows(database, action):
    with database.uow() as uow:
        return [
            SimpleNamespace(
                actor=e.actor,
                outcome=e.outcome,
                object_id=e.object_id,
                detail=e.detail,
                justification=e.justification,
            )
            for e in uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        ]


# --- routing -------------------------------------------------------------------------------


def test_incidents_enter_their_queues_and_follow_flag_changes_and_closing(database, handler):
    saved = new_incident(database, handler, type_code="DOM", child_present=True)
    assert items(database, saved.id) == [
        ("domestic_abuse", "open", None),
        ("child_protection", "open", None),
    ]
    theft = new_incident(database, handler, type_code="THEFT")
    assert items(database, theft.id) == [("general", "open", None)]

    detail = incidents.view_incident_by_id(database.uow(), handler, saved.id, today=date.today())
    detail = incidents.update_assessment(
        database.uow(),
        handler,
        saved.id,
        detail.version,
        NOW,
        thrive=None,
        thrive_skipped=True,
        domestic=True,
        child_present=False,
        weapons=False,
        possible_crime=True,
    )
    assert items(database, saved.id) == [
        ("domestic_abuse", "open", None),
        ("child_protection", "done", "rerouted"),
    ]
    theft_detail = incidents.view_incident_by_id(
        database.uow(), handler, theft.id, today=date.today()
    )
    incidents.close_incident(
        database.uow(),
        handler,
        theft.id,
        theft_detail.version,
        NOW,
        closing_type_code="THEFT",
        result="Property recovered.",
        crime_reference="CRIME/1",
    )
    assert items(database, theft.id) == [("general", "done", "closed")]


# --- listing ---------------------------------------------------------------------------------


def test_the_queue_lists_in_grade_risk_and_age_order_with_its_figures(database, handler):
    g3 = new_incident(
        database, handler, type_code="THEFT", grade="G3", now=NOW - timedelta(hours=50)
    )
    g1 = new_incident(
        database, handler, type_code="THEFT", grade="G1", now=NOW - timedelta(minutes=5)
    )
    g2_low = new_incident(
        database,
        handler,
        type_code="THEFT",
        grade="G2",
        thrive={"risk": "Low risk"},
        now=NOW - timedelta(minutes=30),
    )
    g2_unassessed = new_incident(
        database, handler, type_code="THEFT", grade="G2", now=NOW - timedelta(minutes=20)
    )
    listing = queues.list_queue(database.uow(), handler, POLICY, NOW)
    assert [r.incident_id for r in listing.rows] == [g1.id, g2_unassessed.id, g2_low.id, g3.id]
    g3_row = listing.rows[-1]
    assert g3_row.breached and g3_row.age == timedelta(hours=50)
    assert listing.rows[1].risk_words == "MEDIUM ▲▲"
    assert listing.rows[2].risk_words == "STANDARD ▲"
    assert listing.summary.count == 4
    assert listing.summary.oldest_age == timedelta(hours=50)
    assert listing.summary.breaches == 1

    only_g2 = queues.list_queue(database.uow(), handler, POLICY, NOW, grade="G2")
    assert {r.incident_id for r in only_g2.rows} == {g2_low.id, g2_unassessed.id}
    assert (
        queues.list_queue(database.uow(), handler, POLICY, NOW, queue=Queue.DOMESTIC_ABUSE).rows
        == ()
    )
    assert audit_rows(database, "queue.list")[-1].object_id == "domestic_abuse"


def test_a_da_item_without_dash_escalates_to_the_top(database, handler):
    fresh = new_incident(database, handler, type_code="THEFT", grade="G1")
    old_da = new_incident(
        database, handler, type_code="DOM", grade="G3", now=NOW - timedelta(hours=25)
    )
    rows = queues.list_queue(database.uow(), handler, POLICY, NOW).rows
    assert [r.incident_id for r in rows] == [old_da.id, fresh.id]
    assert rows[0].escalated and rows[0].risk_words.startswith("ESCALATED")
    assert "no DASH" in rows[0].risk_reasons


def test_a_saved_incident_is_routed_by_its_linked_persons_markers_and_announced(database, handler):
    """A new incident is routed without reading items it cannot have yet, and reads
    markers only through persons linked in the save: the queues are as before."""
    from tests.factories import add_marker, add_person

    at_risk = add_person(database, "Kit", "Child")
    add_marker(database, at_risk, "CHILDRISK")
    missing = add_person(database, "Mo", "Missing")
    add_marker(database, missing, "MISSING")

    def save(type_code, persons=()):
        return incidents.save_new_incident(
            database.uow(),
            handler,
            NewIncident(
                idempotency_key=uuid.uuid4().hex,
                type_code=type_code,
                location_text="1 Test Street",
                persons=persons,
            ),
            NOW,
            GRADES,
        ).id

    with database.uow() as uow:
        before = uow.session.scalar(select(QueueChangeCounter.counter))
    plain = save("WELF")
    child = save("THEFT", ((at_risk, "victim"),))
    welfare = save("WELF", ((missing, "victim"),))
    assert items(database, plain) == [("general", "open", None)]
    assert items(database, child) == [("child_protection", "open", None)]
    assert items(database, welfare) == [("missing_persons", "open", None)]
    with database.uow() as uow:
        if database.dialect == "sqlite":  # the change counter moved once a save
            counter = uow.session.scalar(select(QueueChangeCounter.counter))
            assert counter == before + 3
            seqs = uow.session.scalars(
                select(QueueItem.change_seq)
                .where(QueueItem.incident_id.in_([plain, child, welfare]))
                .order_by(QueueItem.id)
            ).all()
            assert seqs == [before + 1, before + 2, before + 3]


def test_markers_of_linked_persons_raise_the_risk(database, handler):
    from tests.factories import add_marker, add_person

    person = add_person(database, "Rex", "Offender")
    add_marker(database, person, "RSO")
    saved = incidents.save_new_incident(
        database.uow(),
        handler,
        NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="THEFT",
            location_text="1 Test Street",
            thrive={"risk": "Low risk"},
            persons=((person, "suspect"),),
        ),
        NOW,
        GRADES,
    )
    row = queues.list_queue(database.uow(), handler, POLICY, NOW).rows[0]
    assert row.incident_id == saved.id
    assert row.risk_words == "HIGH ▲▲▲" and "RSO marker" in row.risk_reasons


# --- claims ----------------------------------------------------------------------------------


def test_an_item_held_by_one_operator_is_refused_to_another(database, handler, other):
    saved = new_incident(database, handler)
    item = item_id(database, saved.id)
    row = queues.claim(database.uow(), handler, item, POLICY, NOW)
    assert row.state == "claimed" and row.claimed_by == "Hana Handler"
    with pytest.raises(ClaimRefused, match="held by Hana Handler") as refused:
        queues.claim(database.uow(), other, item, POLICY, NOW + timedelta(minutes=9))
    assert not refused.value.stale
    assert refused.value.row.claimed_by_id == handler.staff_id
    claims = audit_rows(database, "queue.claim")
    assert [(e.actor, e.outcome) for e in claims] == [
        ("q.handler", "success"),
        ("q.other", "refused"),
    ]


def test_concurrent_claims_give_each_item_to_exactly_one_operator(
    database, handler, other, supervisor
):
    ids = [item_id(database, new_incident(database, handler).id) for _ in range(6)]
    actors = [handler, other, supervisor]
    winners: dict[int, list[str]] = {i: [] for i in ids}
    barrier = threading.Barrier(len(actors))
    errors = []

    def work(actor):
        barrier.wait()
        for i in ids:
            try:
                queues.claim(database.uow(), actor, i, POLICY, NOW)
                winners[i].append(actor.username)
            except ClaimRefused:
                pass
            except Exception as exc:  # anything else is a failure of the test
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(len(w) == 1 for w in winners.values()), winners


def test_a_stale_claim_is_marked_and_only_reclaimed_on_purpose(database, handler, other):
    saved = new_incident(database, handler)
    item = item_id(database, saved.id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    later = NOW + POLICY.stale_after
    listed = queues.list_queue(database.uow(), other, POLICY, later).rows[0]
    assert listed.stale
    with pytest.raises(ClaimRefused) as refused:
        queues.claim(database.uow(), other, item, POLICY, later)
    assert refused.value.stale
    row = queues.claim(database.uow(), other, item, POLICY, later, reclaim=True)
    assert row.claimed_by_id == other.staff_id and not row.stale
    reclaim = audit_rows(database, "queue.reclaim")
    assert len(reclaim) == 1 and "Hana Handler" in reclaim[0].detail
    with pytest.raises(ClaimLost, match="Omar Other"):
        queues.heartbeat(database.uow(), handler, item, later)


def test_a_heartbeat_keeps_a_claim_fresh(database, handler, other):
    item = item_id(database, new_incident(database, handler).id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    queues.heartbeat(database.uow(), handler, item, NOW + timedelta(minutes=8))
    with pytest.raises(ClaimRefused) as refused:
        queues.claim(database.uow(), other, item, POLICY, NOW + timedelta(minutes=12))
    assert not refused.value.stale


def test_supervisors_reassign_with_a_reason_and_nobody_else_may(
    database, handler, other, supervisor
):
    item = item_id(database, new_incident(database, handler).id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    with pytest.raises(PermissionDenied):
        queues.reassign(database.uow(), other, item, "q.other", "I want this one now", POLICY, NOW)
    with pytest.raises(QueueInputError) as missing:
        queues.reassign(database.uow(), supervisor, item, "q.other", "  ", POLICY, NOW)
    assert missing.value.field == "reason"
    with pytest.raises(QueueInputError):
        queues.reassign(database.uow(), supervisor, item, "q.other", "short", POLICY, NOW)
    with pytest.raises(QueueInputError) as nobody:
        queues.reassign(
            database.uow(),
            supervisor,
            item,
            "no.such.user",
            "Handler has gone off shift",
            POLICY,
            NOW,
        )
    assert nobody.value.field == "to"
    row = queues.reassign(
        database.uow(), supervisor, item, "q.other", "Handler has gone off shift", POLICY, NOW
    )
    assert row.claimed_by_id == other.staff_id
    events = audit_rows(database, "queue.reassign")
    assert [e.outcome for e in events] == ["denied", "success"]
    assert events[-1].justification == "Handler has gone off shift"
    assert "Hana Handler" in events[-1].detail and "Omar Other" in events[-1].detail


def test_only_the_holder_completes_and_the_item_leaves_the_queue(database, handler, other):
    item = item_id(database, new_incident(database, handler).id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    with pytest.raises(ClaimLost):
        queues.complete(database.uow(), other, item, NOW)
    queues.complete(database.uow(), handler, item, NOW + timedelta(minutes=3))
    assert queues.list_queue(database.uow(), handler, POLICY, NOW).rows == ()
    done = audit_rows(database, "queue.complete")
    assert [(e.actor, e.outcome) for e in done] == [
        ("q.other", "refused"),
        ("q.handler", "success"),
    ]
    with pytest.raises(ClaimRefused, match="already done"):
        queues.claim(database.uow(), other, item, POLICY, NOW)


def test_roles_without_the_queue_are_refused(database):
    analyst = staff(database, Role.ANALYST, "q.analyst")
    with pytest.raises(PermissionDenied):
        queues.list_queue(database.uow(), analyst, POLICY, NOW)


def test_route_unrouted_brings_in_incidents_made_before_the_queues(database, handler):
    from tests.factories import add_incident

    add_incident(database, type_code="DOM", age=timedelta(hours=3))
    add_incident(database, type_code="MISP", age=timedelta(hours=1))
    add_incident(database, type_code="THEFT", status="closed")
    assert queues.route_unrouted(database.uow, NOW) == 2
    assert queues.route_unrouted(database.uow, NOW) == 0
    rows = queues.list_queue(database.uow(), handler, POLICY, NOW).rows
    assert sorted(r.queue.value for r in rows) == ["domestic_abuse", "missing_persons"]
    assert max(r.age for r in rows) == timedelta(hours=3)  # entered when it was opened


# --- the live feed ---------------------------------------------------------------------------


def test_the_change_feed_hears_a_commit_from_another_station(database, handler, other):
    item = item_id(database, new_incident(database, handler).id)
    feed = queues.open_change_feed(database.uow)
    try:
        assert feed.wait(0.05) is None
        queues.claim(database.uow(), other, item, POLICY, NOW)
        batch = feed.wait(2.0)
        assert batch is not None and (batch.everything or item in batch.item_ids)
        (row,) = queues.rows_for(database.uow(), POLICY, NOW, [item])
        assert row.claimed_by == "Omar Other"
    finally:
        feed.close()


def test_the_incident_log_tells_each_claim_reassignment_and_decision(
    database, handler, other, supervisor
):
    from controlroom.data.cold_models import IncidentLogEntry

    incident_id = new_incident(database, handler, type_code="DOM").id
    item = item_id(database, incident_id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    queues.reassign(
        database.uow(), supervisor, item, other.username, "Hana is off sick today", POLICY, NOW
    )
    queues.complete(database.uow(), other, item, NOW + timedelta(minutes=5))
    with database.uow() as uow:
        lines = uow.session.scalars(
            select(IncidentLogEntry.text)
            .where(IncidentLogEntry.incident_id == incident_id, IncidentLogEntry.kind == "triage")
            .order_by(IncidentLogEntry.id)
        ).all()
    assert lines[0] == "Claimed in the Domestic abuse queue"
    assert lines[1].startswith("Reassigned in the Domestic abuse queue from ")
    assert lines[1].endswith(": Hana is off sick today")
    assert lines[2] == "Decided in the Domestic abuse queue: it leaves the queue"


@pytest.mark.parametrize("step", ["claim", "reassign", "complete"])
def test_a_queue_step_takes_the_chain_head_last_and_holds_it_for_one_write(
    database, handler, other, supervisor, step
):
    """On PostgreSQL every station's audited write waits for the chain head from the moment
    a transaction reads it (FOR UPDATE) to its commit. A claim, a reassignment and a
    completion write their log line first, then the audit event; on PostgreSQL the event
    and the head's move are one statement (SQLite runs them as two: it has one writer)."""
    from sqlalchemy import event

    item = item_id(database, new_incident(database, handler).id)
    if step != "claim":
        queues.claim(database.uow(), handler, item, POLICY, NOW)
    later = NOW + timedelta(minutes=3)
    sent: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many):
        sent.append(" ".join(statement.split()))

    def committed(_conn):
        sent.append("COMMIT")

    event.listen(database.engine, "before_cursor_execute", seen)
    event.listen(database.engine, "commit", committed)
    try:
        if step == "claim":
            queues.claim(database.uow(), handler, item, POLICY, later)
        elif step == "reassign":
            queues.reassign(
                database.uow(), supervisor, item, other.username, "rota change", POLICY, later
            )
        else:
            queues.complete(database.uow(), handler, item, later)
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
        event.remove(database.engine, "commit", committed)
    head_read = next(
        n for n, s in enumerate(sent) if s.startswith("SELECT audit_chain_head.event_count")
    )
    held = sent[head_read + 1 : sent.index("COMMIT", head_read)]
    if database.dialect == "postgresql":
        assert len(held) == 1
        assert held[0].startswith("WITH new_event AS (INSERT INTO audit_event")
        assert "UPDATE audit_chain_head" in held[0]
    else:
        assert [s.split(" ")[0] for s in held] == ["INSERT", "UPDATE"]
        assert "audit_event" in held[0] and "audit_chain_head" in held[1]
    assert any(s.startswith("INSERT INTO incident_log_entry") for s in sent[:head_read])
    assert [e.outcome for e in audit_rows(database, f"queue.{step}")][-1:] == ["success"]


# --- guards on the queue's own statements --------------------------------------------------


def _triage_lines(database, incident_id):
    from controlroom.data.cold_models import IncidentLogEntry

    with database.uow() as uow:
        return [
            (e.text, e.entered_by_id, e.entered_at, e.old_value, e.new_value, e.idempotency_key)
            for e in uow.session.scalars(
                select(IncidentLogEntry)
                .where(
                    IncidentLogEntry.incident_id == incident_id, IncidentLogEntry.kind == "triage"
                )
                .order_by(IncidentLogEntry.id)
            )
        ]


def test_a_queue_steps_log_line_says_who_and_when(database, handler):
    """The claim and the decision write their lines at once (no entry object, no flush):
    each with the operator, the step's time and nothing else."""
    incident_id = new_incident(database, handler).id
    item = item_id(database, incident_id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    later = NOW + timedelta(minutes=4)
    queues.complete(database.uow(), handler, item, later)
    assert _triage_lines(database, incident_id) == [
        ("Claimed in the Domestic abuse queue", handler.staff_id, NOW, None, None, None),
        (
            "Decided in the Domestic abuse queue: it leaves the queue",
            handler.staff_id,
            later,
            None,
            None,
            None,
        ),
    ]


@pytest.mark.parametrize("step", ["claim", "complete"])
def test_a_queue_step_on_a_legacy_incident_is_refused_and_writes_nothing(database, handler, step):
    """LEGACY incidents are read-only (issue 19). They never reach a queue (they come in
    closed, and only open incidents are routed), but the queue's log line is refused for
    one all the same: here an item whose incident was made legacy behind the program's back.
    """
    from sqlalchemy import func, update

    from controlroom.data.models import Incident
    from controlroom.domain.legacy import LegacyReadOnly, read_only_message

    incident = new_incident(database, handler)
    item = item_id(database, incident.id)
    if step == "complete":
        queues.claim(database.uow(), handler, item, POLICY, NOW)
    before = items(database, incident.id), _triage_lines(database, incident.id)
    with database.uow() as uow:
        uow.session.execute(
            update(Incident).where(Incident.id == incident.id).values(legacy_batch_id=1)
        )
        uow.commit()
        events = uow.session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(LegacyReadOnly) as refused:
        if step == "claim":
            queues.claim(database.uow(), handler, item, POLICY, NOW + timedelta(minutes=1))
        else:
            queues.complete(database.uow(), handler, item, NOW + timedelta(minutes=1))
    assert str(refused.value) == read_only_message("incident", incident.reference)
    assert (items(database, incident.id), _triage_lines(database, incident.id)) == before
    with database.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_queue_write_inside_a_read_only_part_is_refused(database, handler):
    """The queue's statements run through the unit of work's session, whose guard refuses
    a write inside its read-only part (`SqlAlchemyUnitOfWork.reading`)."""
    from controlroom.data.uow import ReadOnlyPart

    incident_id = new_incident(database, handler).id
    item = item_id(database, incident_id)
    queues.claim(database.uow(), handler, item, POLICY, NOW)
    writes = {
        "change": lambda q: q.change_item(item, 2, ("claimed",), {"heartbeat_at": NOW}),
        "finish": lambda q: q.finish_item(item, handler.staff_id, NOW, "completed"),
        "log": lambda q: q.log_line(incident_id, handler.staff_id, "triage", "x", NOW),
    }
    if database.dialect == "sqlite":  # PostgreSQL's announcement is a SELECT of pg_notify
        writes["announce"] = lambda q: q.announce([item])
    before = items(database, incident_id), _triage_lines(database, incident_id)
    with database.uow() as uow:
        version = uow.queues.lock_item(item).version
    for name, write in writes.items():
        with database.uow() as uow, pytest.raises(ReadOnlyPart), uow.reading():
            write(uow.queues)
            pytest.fail(f"{name} was not refused")
    with database.uow() as uow:
        assert uow.queues.lock_item(item).version == version
        counter = uow.session.scalar(select(QueueChangeCounter.counter))
    assert (items(database, incident_id), _triage_lines(database, incident_id)) == before
    if database.dialect == "sqlite":
        with database.uow() as uow:
            uow.queues.announce([item])
            uow.commit()
            assert uow.session.scalar(select(QueueChangeCounter.counter)) == counter + 1


def test_the_change_feed_hears_every_step_of_a_claim(database, handler, other, supervisor):
    """Each change to an item is announced with it (`change_item` and `finish_item` do it
    themselves): another station hears the claim, the heartbeat, the reassignment and the
    decision, each naming the item."""
    item = item_id(database, new_incident(database, handler).id)
    feed = queues.open_change_feed(database.uow)
    later = NOW + timedelta(minutes=1)
    steps = {
        "claim_next": lambda: queues.claim_next(database.uow(), handler, POLICY, NOW),
        "heartbeat": lambda: queues.heartbeat(database.uow(), handler, item, later),
        "claim again": lambda: queues.claim(database.uow(), handler, item, POLICY, later),
        "reassign": lambda: queues.reassign(
            database.uow(), supervisor, item, other.username, "rota change today", POLICY, later
        ),
        "complete": lambda: queues.complete(database.uow(), other, item, later),
    }
    try:
        assert feed.wait(0.05) is None
        for name, step in steps.items():
            step()
            batch = feed.wait(2.0)
            assert batch is not None, name
            assert batch.item_ids == {item}, name
            assert feed.wait(0.05) is None, name  # one announcement per step
    finally:
        feed.close()
