"""The DASH service on a real database (both backends): save, supersede, judgement, the
referrals a save raises, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import DashAssessment
from controlroom.data.models import AuditEvent
from controlroom.domain.dash import Answer, RiskLevel
from controlroom.domain.roles import Role
from controlroom.services import dash
from tests.test_safeguarding_services import NOW, make_actor, new_incident

REASON = "Victim says he has a gun and has threatened to use it."


@pytest.fixture
def assessor(database):
    return make_actor(database, "ada.assessor", Role.CALL_HANDLER, "Ada Assessor")


def answers(yes: int) -> dict[int, str]:
    """As a screen would pass them: letters, yes first."""
    return {n: "Y" if n <= yes else "K" if n == 27 else "N" for n in range(1, 28)}


def audit_actions(database) -> list[tuple[str, str, str | None]]:
    with database.uow() as uow:
        return [
            (e.action, e.outcome, e.justification)
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(["dash.record", "dash.view", "referral.create"]))
                .order_by(AuditEvent.id)
            )
        ]


def test_a_standard_dash_is_saved_scored_and_audited_with_no_referral(database, assessor):
    incident_id = new_incident(database, assessor, type_code="DOM")
    saved = dash.record_dash(database.uow(), assessor, incident_id, answers(6), NOW)
    record = saved.assessment
    assert (record.score, record.level, record.judgement_level) == (6, RiskLevel.STANDARD, None)
    assert record.answers[1] is Answer.YES and record.answers[27] is Answer.NOT_KNOWN
    assert record.assessed_by == "Ada Assessor" and record.assessed_at == NOW
    assert saved.referrals == ()
    assert audit_actions(database) == [("dash.record", "success", None)]


def test_a_new_dash_supersedes_and_history_is_kept(database, assessor):
    incident_id = new_incident(database, assessor, type_code="DOM")
    first = dash.record_dash(database.uow(), assessor, incident_id, answers(11), NOW).assessment
    second = dash.record_dash(
        database.uow(), assessor, incident_id, answers(3), NOW + timedelta(minutes=5)
    ).assessment
    view = dash.dash_for_incident(database.uow(), assessor, incident_id)
    assert view.current.id == second.id and second.supersedes_id == first.id
    assert [(r.id, r.level) for r in view.history] == [
        (second.id, RiskLevel.STANDARD),
        (first.id, RiskLevel.MEDIUM),
    ]
    assert ("dash.view", "success", None) in audit_actions(database)


def test_high_risk_raises_a_marac_referral_and_a_child_adds_childrens_services(database, assessor):
    alone = new_incident(database, assessor, type_code="DOM")
    saved = dash.record_dash(database.uow(), assessor, alone, answers(14), NOW)
    assert [(r.kind, r.status, r.triggers) for r in saved.referrals] == [
        ("marac", "created", ("high_risk",))
    ]
    assert saved.referrals[0].send_due_at == NOW + timedelta(hours=24)

    with_child = new_incident(database, assessor, type_code="DOM", child_present=True)
    saved = dash.record_dash(database.uow(), assessor, with_child, answers(20), NOW)
    assert [r.kind for r in saved.referrals] == ["marac", "childrens_services"]
    # Saving another high DASH makes no second referral of a kind already made.
    again = dash.record_dash(database.uow(), assessor, with_child, answers(21), NOW)
    assert again.referrals == ()
    assert [a for a, _, _ in audit_actions(database)].count("referral.create") == 3


def test_judgement_raises_with_a_reason_and_never_lowers(database, assessor):
    incident_id = new_incident(database, assessor, type_code="DOM")
    saved = dash.record_dash(
        database.uow(),
        assessor,
        incident_id,
        answers(4),
        NOW,
        judgement_level="high",
        judgement_reason=REASON,
    )
    record = saved.assessment
    assert (record.score_level, record.judgement_level, record.level) == (
        RiskLevel.STANDARD,
        RiskLevel.HIGH,
        RiskLevel.HIGH,
    )
    assert [r.triggers for r in saved.referrals] == [("high_risk",)]
    assert ("dash.record", "success", REASON) in audit_actions(database)
    with pytest.raises(dash.DashInputError) as caught:
        dash.record_dash(
            database.uow(),
            assessor,
            incident_id,
            answers(15),
            NOW,
            judgement_level="medium",
            judgement_reason=REASON,
        )
    assert caught.value.field == "judgement_level"
    with pytest.raises(dash.DashInputError) as caught:
        dash.record_dash(
            database.uow(),
            assessor,
            incident_id,
            answers(2),
            NOW,
            judgement_level="medium",
            judgement_reason="",
        )
    assert caught.value.field == "judgement_reason"
    with database.uow() as uow:
        assert len(uow.session.scalars(select(DashAssessment)).all()) == 1


def test_incomplete_answers_and_non_domestic_incidents_are_refused(database, assessor):
    incident_id = new_incident(database, assessor, type_code="DOM")
    partial = answers(3)
    del partial[9]
    with pytest.raises(dash.DashInputError, match="question 9") as caught:
        dash.record_dash(database.uow(), assessor, incident_id, partial, NOW)
    assert caught.value.field == "answers"
    with pytest.raises(dash.DashInputError, match="Y, N or K"):
        dash.record_dash(database.uow(), assessor, incident_id, {**answers(3), 4: "maybe"}, NOW)
    burglary = new_incident(database, assessor, type_code="BURGR")
    with pytest.raises(dash.DashInputError) as caught:
        dash.record_dash(database.uow(), assessor, burglary, answers(3), NOW)
    assert caught.value.field == "incident"
    with database.uow() as uow:
        assert uow.session.scalars(select(DashAssessment)).all() == []


def test_saving_a_dash_announces_the_incidents_queue_items(database, assessor):
    """Every station's queue hears of the new level (NOTIFY on PostgreSQL, the change
    counter on SQLite), through the queue's own change feed."""
    from controlroom.data.cold_models import QueueItem
    from controlroom.services import queues

    incident_id = new_incident(database, assessor, type_code="DOM")
    with database.uow() as uow:
        items = set(
            uow.session.scalars(select(QueueItem.id).where(QueueItem.incident_id == incident_id))
        )
    assert items  # a DA incident waits in the domestic-abuse queue
    feed = queues.open_change_feed(database.uow)
    try:
        dash.record_dash(database.uow(), assessor, incident_id, answers(15), NOW)
        batch = feed.wait(5.0)
    finally:
        feed.close()
    assert batch is not None and (batch.everything or items <= batch.item_ids)
