"""Safeguarding rules: the incidents that may not be resolved without deployment (graded
G4) or closed unless a supervisor overrides the rule with a written reason.

Each rule is a plain function of `SafeguardingFacts` returning a `RuleBreach` (or None):
- `rso_linked`: a person linked to the incident carries the REGISTERED SEX OFFENDER marker;
- `da_dash_high_or_missing`: a domestic-abuse incident whose DASH is high, or not done;
- `child_present_domestic`: a domestic incident with a child present;
- `high_risk_victim`: a person linked to the incident carries the HIGH-RISK VICTIM marker.

Why: a domestic-abuse call involving a known sex offender was once resolved by phone
because nobody could see the marker. Here the shortcut needs a supervisor's name on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from controlroom.domain.dash import RiskLevel
from controlroom.domain.grades import DEFAULT_GRADES, Grade
from controlroom.domain.safe_text import control_message, unsafe_character

RSO_MARKER = "RSO"
HIGH_RISK_VICTIM_MARKER = "HRVICT"

OVERRIDE_LOG_KIND = "override"  # the incident log entry that records an override
OVERRIDE_REASON_MIN = 10
OVERRIDE_REASON_LIMIT = 2_000


class GuardedAction(StrEnum):
    """What the rules stand in the way of."""

    GRADE_NO_DEPLOYMENT = "grade_no_deployment"  # regrade to G4, resolution without deployment
    CLOSE = "close"

    @property
    def label(self) -> str:
        return {
            "grade_no_deployment": "grading for resolution without deployment",
            "close": "closing",
        }[self.value]


@dataclass(frozen=True, slots=True)
class SafeguardingFacts:
    """What the rules look at for one incident.

    `marker_codes`: every marker in force on any person linked to the incident;
    `dash_level`: the DASH level in force, None where no DASH has been done.
    """

    domestic: bool
    child_present: bool
    dash_level: RiskLevel | None
    marker_codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class RuleBreach:
    rule: str  # the rule's code, as stored with an override
    title: str  # short words for the screen
    why: str  # what about this incident makes the rule apply


def rso_linked(facts: SafeguardingFacts) -> RuleBreach | None:
    if RSO_MARKER not in facts.marker_codes:
        return None
    return RuleBreach(
        "rso_linked",
        "Registered sex offender linked",
        "a person linked to this incident is a registered sex offender",
    )


def da_dash_high_or_missing(facts: SafeguardingFacts) -> RuleBreach | None:
    if not facts.domestic:
        return None
    if facts.dash_level is None:
        return RuleBreach(
            "da_dash",
            "Domestic abuse: DASH not done",
            "a domestic-abuse incident with no DASH assessment",
        )
    if facts.dash_level is RiskLevel.HIGH:
        return RuleBreach(
            "da_dash",
            "Domestic abuse: DASH high risk",
            "a domestic-abuse incident assessed HIGH risk on DASH",
        )
    return None


def child_present_domestic(facts: SafeguardingFacts) -> RuleBreach | None:
    if not (facts.domestic and facts.child_present):
        return None
    return RuleBreach(
        "child_domestic",
        "Domestic with a child present",
        "a domestic incident where a child was present",
    )


def high_risk_victim(facts: SafeguardingFacts) -> RuleBreach | None:
    if HIGH_RISK_VICTIM_MARKER not in facts.marker_codes:
        return None
    return RuleBreach(
        "high_risk_victim",
        "High-risk victim involved",
        "a person linked to this incident is marked HIGH-RISK VICTIM",
    )


RULES: tuple[Callable[[SafeguardingFacts], RuleBreach | None], ...] = (
    rso_linked,
    da_dash_high_or_missing,
    child_present_domestic,
    high_risk_victim,
)
RULE_CODES = ("rso_linked", "da_dash", "child_domestic", "high_risk_victim")
RULE_TITLES = {
    "rso_linked": "Registered sex offender linked",
    "da_dash": "Domestic abuse: DASH high or not done",
    "child_domestic": "Domestic with a child present",
    "high_risk_victim": "High-risk victim involved",
}


def breaches(facts: SafeguardingFacts) -> tuple[RuleBreach, ...]:
    """Every rule that covers this incident, in the order of `RULES`."""
    return tuple(found for rule in RULES if (found := rule(facts)) is not None)


def no_deployment_grades(grades: Iterable[Grade] = DEFAULT_GRADES) -> tuple[str, ...]:
    """The grade codes that mean resolution without deployment: those with no attendance
    target (G4 in the national four)."""
    return tuple(g.code for g in grades if g.target is None)


def guarded_action(
    *, closing: bool, new_grade: str | None, no_deployment: tuple[str, ...]
) -> GuardedAction | None:
    """Which guarded action a change is, or None when the rules do not apply to it."""
    if closing:
        return GuardedAction.CLOSE
    if new_grade is not None and new_grade in no_deployment:
        return GuardedAction.GRADE_NO_DEPLOYMENT
    return None


def override_reason_problem(reason: str | None) -> str | None:
    """What is wrong with a supervisor's override reason, or None."""
    text = (reason or "").strip()
    if not text:
        return "an override needs a written reason"
    if len(text) < OVERRIDE_REASON_MIN:
        return f"write the reason out: at least {OVERRIDE_REASON_MIN} characters"
    if len(text) > OVERRIDE_REASON_LIMIT:
        return f"the reason is longer than {OVERRIDE_REASON_LIMIT} characters"
    if (char := unsafe_character(text, multiline=True)) is not None:
        return control_message("the reason", char)
    return None


def describe(found: Iterable[RuleBreach]) -> str:
    """One line naming the rules, for an exception or a log entry."""
    return "; ".join(f"{b.title} ({b.why})" for b in found)
