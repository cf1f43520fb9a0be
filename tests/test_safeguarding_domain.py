"""Each safeguarding rule as a plain unit test, and which changes they guard."""

from __future__ import annotations

from datetime import timedelta

import pytest

from controlroom.domain.dash import RiskLevel
from controlroom.domain.grades import DEFAULT_GRADES, Grade
from controlroom.domain.safeguarding import (
    RULE_CODES,
    RULE_TITLES,
    GuardedAction,
    SafeguardingFacts,
    breaches,
    child_present_domestic,
    da_dash_high_or_missing,
    guarded_action,
    high_risk_victim,
    no_deployment_grades,
    override_reason_problem,
    rso_linked,
)


def facts(**changes) -> SafeguardingFacts:
    values = dict(domestic=False, child_present=False, dash_level=None, marker_codes=frozenset())
    values.update(changes)
    return SafeguardingFacts(**values)


def test_an_ordinary_incident_is_covered_by_no_rule():
    assert breaches(facts()) == ()
    assert breaches(facts(marker_codes=frozenset({"VIOLENT", "DRUGS", "DAPERP"}))) == ()


def test_rso_linked():
    assert rso_linked(facts()) is None
    found = rso_linked(facts(marker_codes=frozenset({"RSO"})))
    assert found.rule == "rso_linked" and "sex offender" in found.why


@pytest.mark.parametrize(
    ("level", "covered"),
    [(None, True), (RiskLevel.HIGH, True), (RiskLevel.MEDIUM, False), (RiskLevel.STANDARD, False)],
)
def test_da_dash_high_or_not_done(level, covered):
    found = da_dash_high_or_missing(facts(domestic=True, dash_level=level))
    assert (found is not None) is covered
    if found is not None:
        assert found.rule == "da_dash"
        assert ("no DASH" in found.why) is (level is None)
    # Not domestic: the DASH rule says nothing, whatever the level.
    assert da_dash_high_or_missing(facts(domestic=False, dash_level=level)) is None


def test_child_present_domestic():
    assert child_present_domestic(facts(domestic=True, child_present=True)).rule == (
        "child_domestic"
    )
    assert child_present_domestic(facts(domestic=True)) is None
    assert child_present_domestic(facts(child_present=True)) is None


def test_high_risk_victim():
    assert high_risk_victim(facts(marker_codes=frozenset({"HRVICT"}))).rule == ("high_risk_victim")
    assert high_risk_victim(facts(marker_codes=frozenset({"DAVICT"}))) is None


def test_breaches_name_every_rule_that_applies_in_order():
    everything = facts(
        domestic=True,
        child_present=True,
        dash_level=RiskLevel.HIGH,
        marker_codes=frozenset({"RSO", "HRVICT"}),
    )
    assert tuple(b.rule for b in breaches(everything)) == RULE_CODES
    assert set(RULE_TITLES) == set(RULE_CODES)


def test_g4_is_the_grade_without_deployment_and_close_is_guarded():
    assert no_deployment_grades(DEFAULT_GRADES) == ("G4",)
    custom = (Grade("E", "Emergency", timedelta(minutes=10)), Grade("R", "Resolve", None))
    assert no_deployment_grades(custom) == ("R",)
    assert guarded_action(closing=False, new_grade="G4", no_deployment=("G4",)) is (
        GuardedAction.GRADE_NO_DEPLOYMENT
    )
    assert guarded_action(closing=False, new_grade="G3", no_deployment=("G4",)) is None
    assert guarded_action(closing=True, new_grade=None, no_deployment=("G4",)) is (
        GuardedAction.CLOSE
    )


def test_an_override_needs_a_written_reason():
    assert override_reason_problem(None) == "an override needs a written reason"
    assert override_reason_problem("   ") == "an override needs a written reason"
    assert "at least" in override_reason_problem("ok fine")
    assert override_reason_problem("Offender in custody; victim safe with family.") is None
