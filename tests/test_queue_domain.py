"""Triage queue rules: routing, risk, escalation, order and staleness (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlroom.domain.queues import (
    Queue,
    QueuePolicy,
    RiskFacts,
    RiskLevel,
    RoutingFacts,
    assess_risk,
    dash_due,
    is_stale,
    order_key,
    queues_for,
    target_for,
    thrive_level,
    through_permille,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (RoutingFacts("THEFT"), (Queue.GENERAL,)),
        (RoutingFacts("DOM", type_domestic=True), (Queue.DOMESTIC_ABUSE,)),
        (RoutingFacts("ASLT", domestic=True), (Queue.DOMESTIC_ABUSE,)),
        (
            RoutingFacts("DOM", type_domestic=True, child_present=True),
            (Queue.DOMESTIC_ABUSE, Queue.CHILD_PROTECTION),
        ),
        (RoutingFacts("CHLD"), (Queue.CHILD_PROTECTION,)),
        (RoutingFacts("BURGR", marker_codes=frozenset({"CHILDRISK"})), (Queue.CHILD_PROTECTION,)),
        (RoutingFacts("MISP"), (Queue.MISSING_PERSONS,)),
        (RoutingFacts("WELF", marker_codes=frozenset({"MISSING"})), (Queue.MISSING_PERSONS,)),
        (RoutingFacts("WELF"), (Queue.GENERAL,)),
        (RoutingFacts("HARA", marker_codes=frozenset({"DAVICT"})), (Queue.DOMESTIC_ABUSE,)),
        (RoutingFacts("HARA"), (Queue.GENERAL,)),
        (RoutingFacts("DOM", type_domestic=True, closed=True), ()),
    ],
)
def test_routing_by_type_flags_and_markers(facts, expected):
    assert queues_for(facts) == expected


def test_every_open_incident_is_in_some_queue():
    for code in ("THEFT", "NOISE", "LOST", "RTCI", "XXX"):
        assert queues_for(RoutingFacts(code)) != ()


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("High risk; immediate attendance required.", RiskLevel.HIGH),
        ("Medium risk; attend within the grade target.", RiskLevel.MEDIUM),
        ("Low risk; caller content to wait.", RiskLevel.STANDARD),
        ("Standard risk.", RiskLevel.STANDARD),
        ("Risk increases after dark.", None),
        ("", None),
        (None, None),
    ],
)
def test_thrive_level_reads_the_first_word(text, level):
    assert thrive_level(text) is level


def test_risk_is_the_highest_known_and_reads_without_colour():
    low = assess_risk(RiskFacts(thrive_risk="Low risk", thrive_assessed=True))
    assert low.level is RiskLevel.STANDARD and low.words == "STANDARD ▲"
    unassessed = assess_risk(RiskFacts())
    assert unassessed.level is RiskLevel.MEDIUM and "THRIVE not assessed" in unassessed.reasons
    rso = assess_risk(
        RiskFacts(thrive_risk="Low risk", thrive_assessed=True, markers=(("RSO", 1),))
    )
    assert rso.level is RiskLevel.HIGH and rso.words == "HIGH ▲▲▲"
    assert "RSO marker" in rso.reasons
    vulnerable = assess_risk(
        RiskFacts(thrive_risk="Low", thrive_assessed=True, markers=(("VULN", 2),))
    )
    assert vulnerable.level is RiskLevel.MEDIUM and vulnerable.words == "MEDIUM ▲▲"
    # A DASH can raise, never lower, what THRIVE said.
    assert (
        assess_risk(
            RiskFacts(thrive_risk="High", thrive_assessed=True, dash_level="standard")
        ).level
        is RiskLevel.HIGH
    )
    assert (
        assess_risk(RiskFacts(thrive_risk="Low", thrive_assessed=True, dash_level="high")).level
        is RiskLevel.HIGH
    )


def test_a_da_item_without_dash_escalates_after_the_configured_hours():
    hours = timedelta(hours=24)
    entered = NOW - timedelta(hours=23, minutes=59)
    assert not dash_due(Queue.DOMESTIC_ABUSE, entered, None, NOW, hours)
    assert dash_due(Queue.DOMESTIC_ABUSE, NOW - hours, None, NOW, hours)
    assert not dash_due(Queue.DOMESTIC_ABUSE, NOW - 2 * hours, "standard", NOW, hours)
    assert not dash_due(Queue.GENERAL, NOW - 2 * hours, None, NOW, hours)
    escalated = assess_risk(RiskFacts(thrive_risk="Low", thrive_assessed=True, dash_overdue=True))
    assert escalated.escalated and escalated.level is RiskLevel.HIGH
    assert escalated.words == "ESCALATED ▲▲▲!"


def _key(
    *,
    escalated=False,
    grade="G2",
    risk=RiskLevel.MEDIUM,
    age_minutes=10,
    queue=Queue.GENERAL,
    item_id=1,
):
    policy = QueuePolicy()
    age = timedelta(minutes=age_minutes)
    return order_key(
        escalated=escalated,
        grade_rank=policy.grade_rank(grade),
        risk=risk,
        through=through_permille(NOW - age, NOW, policy.target(queue, grade)),
        entered_at=NOW - age,
        item_id=item_id,
    )


def test_order_is_escalation_then_grade_then_risk_then_age_against_target():
    keys = {
        "escalated G3": _key(escalated=True, grade="G3", risk=RiskLevel.HIGH),
        "G1 standard": _key(grade="G1", risk=RiskLevel.STANDARD),
        "G2 high": _key(grade="G2", risk=RiskLevel.HIGH),
        "G2 medium old": _key(grade="G2", age_minutes=90, item_id=2),
        "G2 medium new": _key(grade="G2", age_minutes=5, item_id=3),
        "G4 high": _key(grade="G4", risk=RiskLevel.HIGH),
        "unknown grade": _key(grade="Z9", risk=RiskLevel.HIGH),
    }
    assert sorted(keys, key=keys.get) == [
        "escalated G3",
        "G1 standard",
        "G2 high",
        "G2 medium old",
        "G2 medium new",
        "G4 high",
        "unknown grade",
    ]


def test_targets_per_queue_and_grade_fall_back_to_general_then_a_day():
    assert target_for(Queue.MISSING_PERSONS, "G2") == timedelta(minutes=30)
    assert target_for(Queue.GENERAL, "G3") == timedelta(hours=48)
    assert target_for(Queue.DOMESTIC_ABUSE, "G3") == timedelta(hours=24)
    assert target_for(Queue.DOMESTIC_ABUSE, "X") == timedelta(hours=24)


def test_a_claim_is_stale_only_when_its_heartbeat_is_old_enough():
    after = timedelta(minutes=10)
    assert not is_stale("claimed", NOW - timedelta(minutes=9), NOW, after)
    assert is_stale("claimed", NOW - after, NOW, after)
    assert not is_stale("open", NOW - 2 * after, NOW, after)
    assert QueuePolicy(stale_after=after).heartbeat_every < after
