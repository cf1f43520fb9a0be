"""DASH risk assessment (domestic abuse, stalking, harassment and honour-based violence)
and the referrals it leads to.

The police DASH form has 27 questions. Their wording is licensed, so Control Room keeps
only the question numbers and short labels of its own (`QUESTIONS`); the assessor works
from the official form and records one answer per number: yes, no or not known.

Rules encoded here:
- score = the number of "yes" answers; "not known" never counts;
- level by score: HIGH at 14 or more (the national threshold); MEDIUM at 10 to 13 (our
  choice, the band most forces use for "medium"); STANDARD below 10;
- professional judgement may raise the level, with a written reason; it may never lower
  it (a judgement that does not raise is refused);
- referral triggers: the level in force is HIGH; potential escalation (3 or more DA
  incidents with the same victim or perpetrator in 12 months, this one included); a
  repeat (a DA incident within 12 months of a MARAC referral about the same victim or
  perpetrator). Any trigger means a MARAC referral, plus a children's services referral
  when a child is present;
- a referral moves created -> sent -> acknowledged, never back and never skipping; it is
  due to be sent `SEND_DUE` after it was created and acknowledged `ACKNOWLEDGE_DUE[kind]`
  after it was sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from controlroom.domain.safe_text import control_message, unsafe_character

QUESTION_COUNT = 27

# Our own short labels (at most 36 characters, so a question fits one line at 80x24).
QUESTIONS: dict[int, str] = {
    1: "Injury in this incident",
    2: "Victim very frightened",
    3: "Victim fears further harm",
    4: "Victim isolated from others",
    5: "Victim low, depressed or suicidal",
    6: "Separation in the last year",
    7: "Disputes over child contact",
    8: "Persistent contact or stalking",
    9: "Pregnant or a recent baby",
    10: "Other children in the household",
    11: "Children or dependants harmed",
    12: "Abuse happening more often",
    13: "Abuse getting worse",
    14: "Controlling or jealous behaviour",
    15: "Weapons or objects used",
    16: "Threats to kill",
    17: "Strangling, choking or smothering",
    18: "Sexual abuse",
    19: "Threats from others (family etc.)",
    20: "Abuser has hurt others",
    21: "Abuser cruel to animals or pets",
    22: "Money problems or unemployment",
    23: "Abuser: drink, drugs, mental health",
    24: "Abuser threatened or tried suicide",
    25: "Breach of bail or a court order",
    26: "Abuser known to police for violence",
    27: "Other serious concern",
}

HIGH_THRESHOLD = 14  # national: 14 or more "yes" is high risk
MEDIUM_THRESHOLD = 10  # ours: 10 to 13 "yes" is medium

REASON_MIN = 10  # a judgement's reason is written out, not "x"
REASON_LIMIT = 2_000


class Answer(StrEnum):
    YES = "Y"
    NO = "N"
    NOT_KNOWN = "K"

    @property
    def label(self) -> str:
        return {"Y": "yes", "N": "no", "K": "not known"}[self.value]


class RiskLevel(StrEnum):
    STANDARD = "standard"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)

    @property
    def label(self) -> str:
        return self.value.upper()


LEVEL_ORDER = (RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.HIGH)


class DashError(ValueError):
    """An assessment that cannot be accepted; `.field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def score(answers: Mapping[int, Answer]) -> int:
    """The number of "yes" answers (not known and unanswered do not count)."""
    return sum(1 for answer in answers.values() if answer is Answer.YES)


def level_for_score(value: int) -> RiskLevel:
    if value < 0 or value > QUESTION_COUNT:
        raise ValueError(f"a DASH score is 0 to {QUESTION_COUNT}, not {value}")
    if value >= HIGH_THRESHOLD:
        return RiskLevel.HIGH
    if value >= MEDIUM_THRESHOLD:
        return RiskLevel.MEDIUM
    return RiskLevel.STANDARD


def missing_questions(answers: Mapping[int, Answer]) -> list[int]:
    return [n for n in QUESTIONS if n not in answers]


def encode_answers(answers: Mapping[int, Answer]) -> str:
    """The 27 answers as one string, question 1 first ("YNK..."): how they are stored."""
    missing = missing_questions(answers)
    if missing:
        raise DashError("answers", f"question {missing[0]} is not answered")
    return "".join(Answer(answers[n]).value for n in QUESTIONS)


def decode_answers(text: str) -> dict[int, Answer]:
    if len(text) != QUESTION_COUNT:
        raise ValueError(f"a stored DASH has {QUESTION_COUNT} answers, not {len(text)}")
    return {n: Answer(text[n - 1]) for n in QUESTIONS}


@dataclass(frozen=True, slots=True)
class DashResult:
    """A complete assessment's outcome: `level` is the one in force."""

    score: int
    score_level: RiskLevel
    judgement_level: RiskLevel | None
    judgement_reason: str | None

    @property
    def level(self) -> RiskLevel:
        return self.judgement_level or self.score_level


def check_judgement(
    score_level: RiskLevel, judgement_level: RiskLevel | str | None, reason: str | None
) -> tuple[RiskLevel | None, str | None]:
    """The judgement to record, or DashError: it must raise the level and say why."""
    text = (reason or "").strip()
    if judgement_level is None or judgement_level == "":
        if text:
            raise DashError("judgement_level", "a reason was written but no raised level chosen")
        return None, None
    try:
        wanted = RiskLevel(judgement_level)
    except ValueError:
        raise DashError(
            "judgement_level", f"not a level: {judgement_level!r} (standard, medium, high)"
        ) from None
    if wanted.rank < score_level.rank:
        raise DashError(
            "judgement_level",
            f"professional judgement can raise the level, never lower it: the "
            f"answers give {score_level.label}",
        )
    if wanted == score_level:
        raise DashError(
            "judgement_level",
            f"the answers already give {score_level.label}: a judgement must raise the level",
        )
    if not text:
        raise DashError("judgement_reason", "raising the level needs a written reason")
    if len(text) < REASON_MIN:
        raise DashError(
            "judgement_reason", f"write the reason out: at least {REASON_MIN} characters"
        )
    if len(text) > REASON_LIMIT:
        raise DashError("judgement_reason", f"the reason is longer than {REASON_LIMIT} characters")
    if (char := unsafe_character(text, multiline=True)) is not None:
        raise DashError("judgement_reason", control_message("the reason", char))
    return wanted, text


def assess(
    answers: Mapping[int, Answer],
    judgement_level: RiskLevel | str | None = None,
    judgement_reason: str | None = None,
) -> DashResult:
    """Score a complete set of answers and apply a judgement (raise only)."""
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        raise DashError("answers", f"no DASH question {unknown[0]}")
    missing = missing_questions(answers)
    if missing:
        raise DashError(
            "answers",
            f"question {missing[0]} is not answered "
            "(use 'not known' where the victim could not say)",
        )
    value = score(answers)
    scored = level_for_score(value)
    level, reason = check_judgement(scored, judgement_level, judgement_reason)
    return DashResult(
        score=value, score_level=scored, judgement_level=level, judgement_reason=reason
    )


def higher_levels(level: RiskLevel) -> tuple[RiskLevel, ...]:
    """The levels a judgement may raise `level` to."""
    return LEVEL_ORDER[level.rank + 1 :]


# --- referrals ---------------------------------------------------------------------------

ESCALATION_WINDOW = timedelta(days=365)  # "in 12 months"
ESCALATION_COUNT = 3
REPEAT_WINDOW = timedelta(days=365)


class ReferralKind(StrEnum):
    MARAC = "marac"
    CHILDRENS_SERVICES = "childrens_services"

    @property
    def label(self) -> str:
        return {"marac": "MARAC", "childrens_services": "Children's services"}[self.value]


class ReferralStatus(StrEnum):
    CREATED = "created"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"

    @property
    def label(self) -> str:
        return self.value


class Trigger(StrEnum):
    HIGH_RISK = "high_risk"
    ESCALATION = "escalation"
    REPEAT = "repeat"

    @property
    def label(self) -> str:
        return {
            "high_risk": "DASH high risk",
            "escalation": f"potential escalation ({ESCALATION_COUNT}+ DA incidents in 12 months)",
            "repeat": "repeat within 12 months of a MARAC referral",
        }[self.value]


# Due times. A referral is sent within a day of being raised (MARAC coordinators and the
# children's front door both work to next-day); MARAC acknowledges within 3 days of
# receipt, children's services within 1 working day (24 h here: we do not model weekends).
SEND_DUE = timedelta(hours=24)
ACKNOWLEDGE_DUE: dict[ReferralKind, timedelta] = {
    ReferralKind.MARAC: timedelta(hours=72),
    ReferralKind.CHILDRENS_SERVICES: timedelta(hours=24),
}


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    """What the triggers look at, for one DA incident.

    `da_incident_counts`: for each victim and perpetrator of this incident, how many DA
    incidents they were victim or perpetrator in within the 12 months before `now`,
    this one included. `last_marac_at`: the latest MARAC referral about any of them made
    for another incident, or None.
    """

    domestic: bool
    child_present: bool
    level: RiskLevel | None
    da_incident_counts: tuple[int, ...]
    last_marac_at: datetime | None
    now: datetime


def triggers(facts: ReferralFacts) -> tuple[Trigger, ...]:
    """Which referral triggers hold (none for an incident that is not domestic)."""
    if not facts.domestic:
        return ()
    found: list[Trigger] = []
    if facts.level is RiskLevel.HIGH:
        found.append(Trigger.HIGH_RISK)
    if any(count >= ESCALATION_COUNT for count in facts.da_incident_counts):
        found.append(Trigger.ESCALATION)
    if facts.last_marac_at is not None and facts.now - facts.last_marac_at <= REPEAT_WINDOW:
        found.append(Trigger.REPEAT)
    return tuple(found)


def referrals_needed(
    facts: ReferralFacts, existing: Iterable[ReferralKind] = ()
) -> tuple[ReferralKind, ...]:
    """The referrals to create now: MARAC when any trigger holds, plus children's services
    when a child is present; none already made for this incident is made twice."""
    if not triggers(facts):
        return ()
    wanted = [ReferralKind.MARAC]
    if facts.child_present:
        wanted.append(ReferralKind.CHILDRENS_SERVICES)
    have = set(existing)
    return tuple(kind for kind in wanted if kind not in have)


def next_status(current: ReferralStatus | str, wanted: ReferralStatus | str) -> ReferralStatus:
    """The status after moving `current` to `wanted`, or ValueError: created -> sent ->
    acknowledged, one step at a time."""
    now_status, target = ReferralStatus(current), ReferralStatus(wanted)
    order = list(ReferralStatus)
    if order.index(target) != order.index(now_status) + 1:
        if target == now_status:
            raise ValueError(f"the referral is already {target.label}")
        if target is ReferralStatus.ACKNOWLEDGED:
            raise ValueError("the referral has not been sent yet: mark it sent first")
        raise ValueError(f"a referral that is {now_status.label} cannot become {target.label}")
    return target


def send_due(created_at: datetime) -> datetime:
    return created_at + SEND_DUE


def acknowledge_due(kind: ReferralKind | str, sent_at: datetime) -> datetime:
    return sent_at + ACKNOWLEDGE_DUE[ReferralKind(kind)]


def due_at(
    status: ReferralStatus | str, send_due_at: datetime, acknowledge_due_at: datetime | None
) -> datetime | None:
    """When the next step is due (None once acknowledged)."""
    status = ReferralStatus(status)
    if status is ReferralStatus.CREATED:
        return send_due_at
    if status is ReferralStatus.SENT:
        return acknowledge_due_at
    return None


def is_overdue(
    status: ReferralStatus | str,
    send_due_at: datetime,
    acknowledge_due_at: datetime | None,
    now: datetime,
) -> bool:
    due = due_at(status, send_due_at, acknowledge_due_at)
    return due is not None and now > due
