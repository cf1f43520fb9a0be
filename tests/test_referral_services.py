"""Referral triggers on the database (escalation and repeat, which need history) and the
created -> sent -> acknowledged lifecycle, audited (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.data.safeguarding_queries import referral_counts
from controlroom.domain.roles import Role
from controlroom.services import dash, referrals
from tests import factories
from tests.test_safeguarding_services import NOW, make_actor, new_incident


@pytest.fixture
def operator(database):
    return make_actor(database, "rhi.referrer", Role.SUPERVISOR, "Rhi Referrer")


def low() -> dict[int, str]:
    return {n: "Y" if n <= 2 else "N" for n in range(1, 28)}


def high() -> dict[int, str]:
    return {n: "Y" if n <= 16 else "N" for n in range(1, 28)}


def test_a_third_da_incident_in_12_months_for_the_same_victim_is_escalation(
    database, operator
):
    victim = factories.add_person(database, "Vic", "Tim")
    too_old = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")],
                           age=timedelta(days=400))
    first = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")],
                         age=timedelta(days=200))
    # A burglary with the same victim is not a DA incident: it does not count.
    new_incident(database, operator, type_code="BURGR", persons=[(victim, "victim")])
    second = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")])
    for incident_id in (too_old, first, second):
        assert dash.record_dash(database.uow(), operator, incident_id, low(), NOW).referrals == ()
    third = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")])
    saved = dash.record_dash(database.uow(), operator, third, low(), NOW)
    assert [(r.kind, r.triggers) for r in saved.referrals] == [("marac", ("escalation",))]


def test_the_same_perpetrator_across_victims_is_escalation_too(database, operator):
    perpetrator = factories.add_person(database, "Per", "Petrator")
    created = []
    for n in range(3):
        incident_id = new_incident(
            database, operator, type_code="DOM", child_present=(n == 2),
            persons=[(perpetrator, "suspect"),
                     (factories.add_person(database, f"V{n}", "Victim"), "victim")])
        # Linking alone (no DASH yet) is checked with check_referrals.
        created.append(referrals.check_referrals(database.uow(), operator, incident_id, NOW))
    assert created[:2] == [[], []]
    assert [(r.kind, r.triggers) for r in created[2]] == [
        ("marac", ("escalation",)), ("childrens_services", ("escalation",))]


def test_a_repeat_within_12_months_of_a_marac_referral(database, operator):
    victim = factories.add_person(database, "Rita", "Repeat")
    first = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")],
                         age=timedelta(days=100))
    marac = dash.record_dash(database.uow(), operator, first, high(),
                             NOW - timedelta(days=100)).referrals
    assert [r.kind for r in marac] == ["marac"]
    again = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")])
    # More than a year after the referral it would not be a repeat...
    assert referrals.check_referrals(database.uow(), operator, again,
                                     NOW + timedelta(days=300)) == []
    # ...100 days after, it is.
    created = referrals.check_referrals(database.uow(), operator, again, NOW)
    assert [(r.kind, r.triggers) for r in created] == [("marac", ("repeat",))]


def test_a_referral_is_sent_then_acknowledged_with_due_times_and_audit(database, operator):
    incident_id = new_incident(database, operator, type_code="DOM", child_present=True)
    made = dash.record_dash(database.uow(), operator, incident_id, high(), NOW).referrals
    marac, children = made
    assert marac.due_at == NOW + timedelta(hours=24) and not marac.overdue(NOW)
    assert marac.overdue(NOW + timedelta(hours=25))
    with pytest.raises(referrals.ReferralStepError, match="not been sent"):
        referrals.mark_acknowledged(database.uow(), operator, marac.id, NOW)
    sent = referrals.mark_sent(database.uow(), operator, marac.id, NOW + timedelta(hours=2))
    assert (sent.status, sent.sent_by, sent.sent_at) == (
        "sent", "Rhi Referrer", NOW + timedelta(hours=2))
    assert sent.acknowledge_due_at == NOW + timedelta(hours=74)
    with pytest.raises(referrals.ReferralStepError, match="already sent"):
        referrals.mark_sent(database.uow(), operator, marac.id, NOW)
    done = referrals.mark_acknowledged(database.uow(), operator, marac.id,
                                       NOW + timedelta(hours=5))
    assert (done.status, done.due_at, done.acknowledged_by) == (
        "acknowledged", None, "Rhi Referrer")
    child_sent = referrals.mark_sent(database.uow(), operator, children.id, NOW)
    assert child_sent.acknowledge_due_at == NOW + timedelta(hours=24)
    listed = referrals.referrals_for_incident(database.uow(), operator, incident_id)
    assert [(r.kind, r.status) for r in listed] == [
        ("marac", "acknowledged"), ("childrens_services", "sent")]
    with database.uow() as uow:
        actions = [(e.action, e.outcome) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("referral.%"))
            .order_by(AuditEvent.id))]
        counts = referral_counts(uow.session, NOW, NOW + timedelta(days=1))
    assert actions == [
        ("referral.create", "success"), ("referral.create", "success"),
        ("referral.acknowledged", "failed"), ("referral.sent", "success"),
        ("referral.sent", "failed"), ("referral.acknowledged", "success"),
        ("referral.sent", "success"), ("referral.list", "success")]
    assert counts == {"created": 2, "sent": 2, "acknowledged": 1}
    with pytest.raises(referrals.ReferralNotFound):
        referrals.mark_sent(database.uow(), operator, 999_999, NOW)
