"""Referral triggers on the database (escalation and repeat, which need history) and the
created -> sent -> acknowledged lifecycle, audited (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.data.models import AuditEvent
from controlroom.domain.roles import Role
from controlroom.services import dash, incidents, referrals
from tests import factories
from tests.test_safeguarding_services import NOW, make_actor, new_incident


@pytest.fixture
def operator(database):
    return make_actor(database, "rhi.referrer", Role.SUPERVISOR, "Rhi Referrer")


def low() -> dict[int, str]:
    return {n: "Y" if n <= 2 else "N" for n in range(1, 28)}


def high() -> dict[int, str]:
    return {n: "Y" if n <= 16 else "N" for n in range(1, 28)}


def kinds(database, operator, incident_id) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (r.kind, r.triggers)
        for r in referrals.referrals_for_incident(database.uow(), operator, incident_id)
    ]


def test_a_third_da_incident_in_12_months_for_the_same_victim_is_escalation(database, operator):
    victim = factories.add_person(database, "Vic", "Tim")
    too_old = new_incident(
        database, operator, type_code="DOM", persons=[(victim, "victim")], age=timedelta(days=400)
    )
    first = new_incident(
        database, operator, type_code="DOM", persons=[(victim, "victim")], age=timedelta(days=200)
    )
    # A burglary with the same victim is not a DA incident: it does not count.
    new_incident(database, operator, type_code="BURGR", persons=[(victim, "victim")])
    second = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")])
    for incident_id in (too_old, first, second):
        assert kinds(database, operator, incident_id) == []
        assert dash.record_dash(database.uow(), operator, incident_id, low(), NOW).referrals == ()
    # Saving the third with its victim linked raises the referral at once...
    third = new_incident(database, operator, type_code="DOM", persons=[(victim, "victim")])
    assert kinds(database, operator, third) == [("marac", ("escalation",))]
    # ...and a DASH afterwards does not raise it twice.
    assert dash.record_dash(database.uow(), operator, third, low(), NOW).referrals == ()


def test_the_same_perpetrator_across_victims_is_escalation_too(database, operator):
    perpetrator = factories.add_person(database, "Per", "Petrator")
    ids = []
    for n in range(3):
        ids.append(new_incident(database, operator, type_code="DOM", child_present=(n == 2)))
        # Linked by a further call, as the perpetrator is named later.
        incidents.link_call(
            database.uow(),
            operator,
            ids[-1],
            incidents.NewIncident(
                idempotency_key=f"link-{n}",
                type_code="DOM",
                location_text="x",
                persons=((perpetrator, "suspect"),),
            ),
            NOW,
        )
    assert [kinds(database, operator, i) for i in ids] == [
        [],
        [],
        [("marac", ("escalation",)), ("childrens_services", ("escalation",))],
    ]
    # check_referrals finds nothing more to raise.
    assert referrals.check_referrals(database.uow(), operator, ids[2], NOW) == []


def test_a_repeat_within_12_months_of_a_marac_referral(database, operator):
    recent, lapsed = (factories.add_person(database, name, "Repeat") for name in ("Rita", "Lapsed"))
    for victim, days in ((recent, 100), (lapsed, 400)):
        earlier = new_incident(
            database,
            operator,
            type_code="DOM",
            persons=[(victim, "victim")],
            age=timedelta(days=days),
        )
        made = dash.record_dash(
            database.uow(), operator, earlier, high(), NOW - timedelta(days=days)
        ).referrals
        assert [r.kind for r in made] == ["marac"]
    again = new_incident(database, operator, type_code="DOM", persons=[(recent, "victim")])
    assert kinds(database, operator, again) == [("marac", ("repeat",))]
    # More than a year after the last MARAC referral it is not a repeat.
    later = new_incident(database, operator, type_code="DOM", persons=[(lapsed, "victim")])
    assert kinds(database, operator, later) == []
    assert referrals.check_referrals(database.uow(), operator, later, NOW) == []


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
        "sent",
        "Rhi Referrer",
        NOW + timedelta(hours=2),
    )
    assert sent.acknowledge_due_at == NOW + timedelta(hours=74)
    with pytest.raises(referrals.ReferralStepError, match="already sent"):
        referrals.mark_sent(database.uow(), operator, marac.id, NOW)
    done = referrals.mark_acknowledged(database.uow(), operator, marac.id, NOW + timedelta(hours=5))
    assert (done.status, done.due_at, done.acknowledged_by) == (
        "acknowledged",
        None,
        "Rhi Referrer",
    )
    child_sent = referrals.mark_sent(database.uow(), operator, children.id, NOW)
    assert child_sent.acknowledge_due_at == NOW + timedelta(hours=24)
    listed = referrals.referrals_for_incident(database.uow(), operator, incident_id)
    assert [(r.kind, r.status) for r in listed] == [
        ("marac", "acknowledged"),
        ("childrens_services", "sent"),
    ]
    with database.uow() as uow:
        actions = [
            (e.action, e.outcome)
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("referral.%"))
                .order_by(AuditEvent.id)
            )
        ]
        counts = uow.safeguarding.referral_counts(NOW, NOW + timedelta(days=1))
    assert actions == [
        ("referral.create", "success"),
        ("referral.create", "success"),
        ("referral.acknowledged", "failed"),
        ("referral.sent", "success"),
        ("referral.sent", "failed"),
        ("referral.acknowledged", "success"),
        ("referral.sent", "success"),
        ("referral.list", "success"),
    ]
    assert counts == {"created": 2, "sent": 2, "acknowledged": 1}
    with pytest.raises(referrals.ReferralNotFound):
        referrals.mark_sent(database.uow(), operator, 999_999, NOW)


def test_the_incident_log_tells_the_dash_and_every_referral_step(database, operator):
    from controlroom.services import incidents
    from tests.databases import SEED_ANCHOR

    incident_id = new_incident(database, operator, type_code="DOM", child_present=True)
    marac, _children = dash.record_dash(
        database.uow(), operator, incident_id, high(), NOW
    ).referrals
    referrals.mark_sent(database.uow(), operator, marac.id, NOW + timedelta(hours=1))
    referrals.mark_acknowledged(database.uow(), operator, marac.id, NOW + timedelta(hours=2))
    detail = incidents.view_incident_by_id(
        database.uow(), operator, incident_id, today=SEED_ANCHOR.date()
    )
    story = [(e.kind, e.text) for e in detail.log if e.kind in {"dash", "referral"}]
    assert story[0][0] == "dash" and story[0][1].startswith("DASH recorded: HIGH risk, score")
    texts = [text for kind, text in story if kind == "referral"]
    assert any(t.startswith("Referral to MARAC raised") for t in texts)
    assert any(t.startswith("Referral to children's services raised") for t in texts)
    assert "Referral to MARAC sent" in texts and "Referral to MARAC acknowledged" in texts
