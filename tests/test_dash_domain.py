"""DASH rules as plain unit tests: scoring (with hypothesis), levels, raise-only
judgement, every referral trigger and the referral lifecycle with its due times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.domain.dash import (
    ACKNOWLEDGE_DUE,
    QUESTION_COUNT,
    QUESTIONS,
    SEND_DUE,
    Answer,
    DashError,
    ReferralFacts,
    ReferralKind,
    ReferralStatus,
    RiskLevel,
    Trigger,
    acknowledge_due,
    assess,
    decode_answers,
    due_at,
    encode_answers,
    higher_levels,
    is_overdue,
    level_for_score,
    next_status,
    referrals_needed,
    score,
    send_due,
    triggers,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
REASON = "Victim disclosed recent threats with a knife."

answer_sets = st.fixed_dictionaries({n: st.sampled_from(list(Answer)) for n in QUESTIONS})


def answers(yes: int, *, not_known: int = 0) -> dict[int, Answer]:
    """`yes` yes answers first, then `not_known` not-knowns, the rest no."""
    found = {}
    for n in QUESTIONS:
        found[n] = (
            Answer.YES if n <= yes else Answer.NOT_KNOWN if n <= yes + not_known else Answer.NO
        )
    return found


# --- questions and scoring ---------------------------------------------------------------


def test_there_are_27_numbered_questions_with_short_labels_of_our_own():
    assert list(QUESTIONS) == list(range(1, 28)) and QUESTION_COUNT == 27
    assert all(0 < len(label) <= 36 for label in QUESTIONS.values())
    assert len(set(QUESTIONS.values())) == 27


@given(answer_sets)
def test_the_score_is_the_number_of_yes_answers_and_nothing_else(given_answers):
    expected = sum(1 for a in given_answers.values() if a is Answer.YES)
    assert score(given_answers) == expected
    assert assess(given_answers).score == expected
    # Turning any not-known or no into yes adds exactly one; not-known never counts.
    for number, answer in given_answers.items():
        if answer is not Answer.YES:
            assert score({**given_answers, number: Answer.YES}) == expected + 1
            other = Answer.NO if answer is Answer.NOT_KNOWN else Answer.NOT_KNOWN
            assert score({**given_answers, number: other}) == expected
            break


@given(answer_sets)
def test_the_level_follows_the_score_and_answers_round_trip(given_answers):
    value = score(given_answers)
    result = assess(given_answers)
    assert (
        result.level
        == result.score_level
        == (
            RiskLevel.HIGH
            if value >= 14
            else RiskLevel.MEDIUM
            if value >= 10
            else RiskLevel.STANDARD
        )
    )
    assert decode_answers(encode_answers(given_answers)) == given_answers


@pytest.mark.parametrize(
    ("yes", "level"),
    [
        (0, RiskLevel.STANDARD),
        (9, RiskLevel.STANDARD),
        (10, RiskLevel.MEDIUM),
        (13, RiskLevel.MEDIUM),
        (14, RiskLevel.HIGH),
        (27, RiskLevel.HIGH),
    ],
)
def test_level_thresholds_14_high_10_medium(yes, level):
    assert level_for_score(yes) is level
    assert assess(answers(yes, not_known=27 - yes)).level is level


def test_every_question_must_be_answered_and_only_the_27():
    partial = answers(3)
    del partial[5]
    with pytest.raises(DashError, match="question 5 is not answered") as caught:
        assess(partial)
    assert caught.value.field == "answers"
    with pytest.raises(DashError, match="no DASH question 28"):
        assess({**answers(3), 28: Answer.YES})


# --- professional judgement: raise only ---------------------------------------------------


def test_judgement_raises_the_level_with_a_reason():
    result = assess(answers(5), RiskLevel.HIGH, f"  {REASON}  ")
    assert result.score_level is RiskLevel.STANDARD
    assert result.level is RiskLevel.HIGH and result.judgement_reason == REASON
    assert assess(answers(11), "high", REASON).level is RiskLevel.HIGH


@pytest.mark.parametrize(
    ("yes", "judgement"),
    [(14, RiskLevel.MEDIUM), (14, RiskLevel.STANDARD), (11, RiskLevel.STANDARD)],
)
def test_judgement_never_lowers(yes, judgement):
    with pytest.raises(DashError, match="never lower") as caught:
        assess(answers(yes), judgement, REASON)
    assert caught.value.field == "judgement_level"


def test_judgement_at_the_scored_level_is_not_a_raise():
    with pytest.raises(DashError, match="must raise"):
        assess(answers(14), RiskLevel.HIGH, REASON)


@pytest.mark.parametrize("reason", [None, "", "   ", "too short"])
def test_raising_without_a_written_reason_is_refused(reason):
    with pytest.raises(DashError) as caught:
        assess(answers(2), RiskLevel.MEDIUM, reason)
    assert caught.value.field == "judgement_reason"


def test_a_reason_without_a_raise_is_refused_and_no_judgement_is_fine():
    with pytest.raises(DashError, match="no raised level"):
        assess(answers(2), None, REASON)
    assert assess(answers(2), None, None).judgement_level is None


@given(answer_sets, st.sampled_from(list(RiskLevel)))
def test_judgement_can_only_ever_leave_the_level_higher(given_answers, wanted):
    scored = level_for_score(score(given_answers))
    try:
        result = assess(given_answers, wanted, REASON)
    except DashError:
        assert wanted.rank <= scored.rank
    else:
        assert wanted.rank > scored.rank and result.level is wanted
    assert higher_levels(scored) == tuple(level for level in RiskLevel if level.rank > scored.rank)


# --- referral triggers --------------------------------------------------------------------


def facts(**changes) -> ReferralFacts:
    values = dict(
        domestic=True,
        child_present=False,
        level=RiskLevel.STANDARD,
        da_incident_counts=(1,),
        last_marac_at=None,
        now=NOW,
    )
    values.update(changes)
    return ReferralFacts(**values)


def test_no_trigger_no_referral():
    assert triggers(facts()) == ()
    assert referrals_needed(facts(child_present=True)) == ()


def test_high_risk_triggers_a_marac_referral():
    assert triggers(facts(level=RiskLevel.HIGH)) == (Trigger.HIGH_RISK,)
    assert referrals_needed(facts(level=RiskLevel.HIGH)) == (ReferralKind.MARAC,)
    assert triggers(facts(level=RiskLevel.MEDIUM)) == ()


def test_three_da_incidents_in_12_months_for_the_victim_or_perpetrator_is_escalation():
    assert triggers(facts(da_incident_counts=(2, 2))) == ()
    assert triggers(facts(da_incident_counts=(1, 3))) == (Trigger.ESCALATION,)
    assert referrals_needed(facts(da_incident_counts=(3,))) == (ReferralKind.MARAC,)


def test_a_repeat_within_12_months_of_a_marac_referral_triggers():
    assert triggers(facts(last_marac_at=NOW - timedelta(days=365))) == (Trigger.REPEAT,)
    assert triggers(facts(last_marac_at=NOW - timedelta(days=366))) == ()
    assert referrals_needed(facts(last_marac_at=NOW - timedelta(days=30))) == (ReferralKind.MARAC,)


def test_a_child_present_adds_childrens_services_to_any_trigger():
    for trigger_facts in (
        dict(level=RiskLevel.HIGH),
        dict(da_incident_counts=(4,)),
        dict(last_marac_at=NOW - timedelta(days=1)),
    ):
        assert referrals_needed(facts(child_present=True, **trigger_facts)) == (
            ReferralKind.MARAC,
            ReferralKind.CHILDRENS_SERVICES,
        )


def test_no_referral_is_made_twice_and_none_for_an_incident_that_is_not_domestic():
    high = facts(level=RiskLevel.HIGH, child_present=True)
    assert referrals_needed(high, [ReferralKind.MARAC]) == (ReferralKind.CHILDRENS_SERVICES,)
    assert referrals_needed(high, list(ReferralKind)) == ()
    assert triggers(facts(domestic=False, level=RiskLevel.HIGH, da_incident_counts=(5,))) == ()


def test_all_triggers_are_named_together():
    assert triggers(facts(level=RiskLevel.HIGH, da_incident_counts=(3,), last_marac_at=NOW)) == (
        Trigger.HIGH_RISK,
        Trigger.ESCALATION,
        Trigger.REPEAT,
    )


# --- lifecycle and due times ----------------------------------------------------------------


def test_a_referral_goes_created_sent_acknowledged_one_step_at_a_time():
    assert next_status("created", "sent") is ReferralStatus.SENT
    assert next_status("sent", "acknowledged") is ReferralStatus.ACKNOWLEDGED
    with pytest.raises(ValueError, match="not been sent"):
        next_status("created", "acknowledged")
    with pytest.raises(ValueError, match="already sent"):
        next_status("sent", "sent")
    with pytest.raises(ValueError, match="cannot become"):
        next_status("acknowledged", "sent")


def test_due_times_send_in_24h_and_acknowledge_by_kind():
    assert SEND_DUE == timedelta(hours=24) and send_due(NOW) == NOW + timedelta(hours=24)
    assert acknowledge_due("marac", NOW) == NOW + ACKNOWLEDGE_DUE[ReferralKind.MARAC]
    assert acknowledge_due(ReferralKind.CHILDRENS_SERVICES, NOW) == NOW + timedelta(hours=24)
    sent_due = NOW + timedelta(days=3)
    assert due_at("created", NOW, None) == NOW
    assert due_at("sent", NOW, sent_due) == sent_due
    assert due_at("acknowledged", NOW, sent_due) is None
    assert not is_overdue("created", NOW, None, NOW)
    assert is_overdue("created", NOW, None, NOW + timedelta(seconds=1))
    assert not is_overdue("acknowledged", NOW, sent_due, NOW + timedelta(days=30))
