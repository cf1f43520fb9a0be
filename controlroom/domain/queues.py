"""Triage queues: which queue an incident enters, how risky it reads, and in what order
the queue is worked.

Routing (`queues_for`): every open incident needs a decision, so it enters at least one
queue; the specialist queues take what their teams must see:
- domestic abuse: a domestic type (DOM, DOMV) or the domestic flag; harassment or
  stalking (HARA, which DASH covers) when a linked person carries a DA marker;
- child protection: the child protection type (CHLD), the child-present flag, or a
  linked person marked RISK TO CHILDREN;
- missing persons: the missing person type (MISP); a concern for welfare (WELF) about a
  linked person marked REPEAT MISSING;
- general: everything that is in none of the above.
An incident may be in several specialist queues at once (a domestic with a child
present is in both: each team owes it a decision).

Risk (`assess_risk`) is the highest of what is known, never lowered by a missing part:
- THRIVE: the risk part's first word ("High ...", "Medium ...", "Low/Standard ...");
  THRIVE not assessed counts as MEDIUM (unknown is not low);
- markers of linked persons: a severity-1 marker (RSO, FIREARMS, VIOLENT, WEAPONS,
  DAPERP, HRVICT, CHILDRISK) makes it HIGH, a severity-2 marker at least MEDIUM;
- DASH level: high is HIGH, medium at least MEDIUM;
- a domestic-abuse item still without a DASH `dash_escalation` after it entered the
  queue is ESCALATED: HIGH, and ahead of every other item in the queue.
Risk reads in words and symbols as well as colour: "HIGH ▲▲▲", "MEDIUM ▲▲",
"STANDARD ▲", and "ESCALATED ▲▲▲!".

Order (`order_key`): escalated first, then grade (the configured order, most urgent
first), then risk (highest first), then how far the item is through its target (most
overdue first), then the oldest.

Targets (`DEFAULT_TARGETS`): how long an item may wait in a queue for a decision, per
queue and grade. Chosen here (a force may change them in code review, not at run time):
general follows the attendance targets (G1 15 min, G2 60 min, G3 48 h, G4 72 h);
domestic abuse and child protection G1 15 min, G2 60 min, G3 and G4 24 h (a DASH is
due within a day); missing persons G1 15 min, G2 30 min, G3 4 h, G4 24 h (the first
hours of a missing-person enquiry matter most). A grade without an entry falls back to
the general target, and then to 24 h.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum

from controlroom.domain.grades import DEFAULT_GRADES


class Queue(StrEnum):
    GENERAL = "general"
    DOMESTIC_ABUSE = "domestic_abuse"
    CHILD_PROTECTION = "child_protection"
    MISSING_PERSONS = "missing_persons"

    @property
    def label(self) -> str:
        return QUEUE_LABELS[self]

    @property
    def short(self) -> str:
        return QUEUE_SHORT[self]


QUEUE_LABELS = {
    Queue.GENERAL: "General",
    Queue.DOMESTIC_ABUSE: "Domestic abuse",
    Queue.CHILD_PROTECTION: "Child protection",
    Queue.MISSING_PERSONS: "Missing persons",
}
QUEUE_SHORT = {
    Queue.GENERAL: "GEN",
    Queue.DOMESTIC_ABUSE: "DA",
    Queue.CHILD_PROTECTION: "CP",
    Queue.MISSING_PERSONS: "MISP",
}
QUEUE_ORDER = (Queue.DOMESTIC_ABUSE, Queue.CHILD_PROTECTION, Queue.MISSING_PERSONS, Queue.GENERAL)


class ItemState(StrEnum):
    OPEN = "open"  # waiting for somebody to take it
    CLAIMED = "claimed"  # one operator holds it (and heartbeats while they do)
    DONE = "done"  # decided, or the incident closed, or it left this queue


class Resolution(StrEnum):
    """Why an item is done."""

    COMPLETED = "completed"  # an operator completed it
    INCIDENT_CLOSED = "closed"  # the incident was closed
    REROUTED = "rerouted"  # the incident no longer belongs in this queue


# --- routing ---------------------------------------------------------------------------

DOMESTIC_TYPES = frozenset({"DOM", "DOMV"})
DA_MARKERS = frozenset({"DAVICT", "DAPERP"})
CHILD_TYPES = frozenset({"CHLD"})
CHILD_MARKERS = frozenset({"CHILDRISK"})
MISSING_TYPES = frozenset({"MISP"})
MISSING_MARKERS = frozenset({"MISSING"})


@dataclass(frozen=True, slots=True)
class RoutingFacts:
    """What routing needs to know about an incident."""

    type_code: str
    type_domestic: bool = False  # the incident type is a domestic one
    domestic: bool = False  # the incident's domestic flag
    child_present: bool = False
    marker_codes: frozenset[str] = frozenset()  # markers in force on linked persons
    closed: bool = False


def queues_for(facts: RoutingFacts) -> tuple[Queue, ...]:
    """The queues an incident belongs in (none once it is closed), in `QUEUE_ORDER`."""
    if facts.closed:
        return ()
    code = facts.type_code.upper()
    found: set[Queue] = set()
    if (
        code in DOMESTIC_TYPES
        or facts.type_domestic
        or facts.domestic
        or (code == "HARA" and facts.marker_codes & DA_MARKERS)
    ):
        found.add(Queue.DOMESTIC_ABUSE)
    if code in CHILD_TYPES or facts.child_present or facts.marker_codes & CHILD_MARKERS:
        found.add(Queue.CHILD_PROTECTION)
    if code in MISSING_TYPES or (code == "WELF" and facts.marker_codes & MISSING_MARKERS):
        found.add(Queue.MISSING_PERSONS)
    if not found:
        found.add(Queue.GENERAL)
    return tuple(q for q in QUEUE_ORDER if q in found)


# --- risk ------------------------------------------------------------------------------


class RiskLevel(IntEnum):
    STANDARD = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def word(self) -> str:
        return self.name

    @property
    def symbols(self) -> str:
        return "▲" * int(self)

    @property
    def words(self) -> str:
        """The level in words and symbols, as every screen shows it: "HIGH ▲▲▲"."""
        return f"{self.word} {self.symbols}"


# What THRIVE not assessed, or assessed without a stated level, counts as.
THRIVE_UNSTATED = RiskLevel.MEDIUM
# DASH levels (stored lower case) that raise the risk; "standard" raises nothing.
DASH_RISK = {"high": RiskLevel.HIGH, "medium": RiskLevel.MEDIUM}


def marker_risk(severity: int) -> RiskLevel:
    """What a marker of this severity on a linked person makes the risk at least."""
    if severity <= 1:
        return RiskLevel.HIGH
    if severity == 2:
        return RiskLevel.MEDIUM
    return RiskLevel.STANDARD


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    level: RiskLevel
    escalated: bool
    reasons: tuple[str, ...]  # what raised it, in words ("RSO marker", "DASH high")

    @property
    def words(self) -> str:
        """Risk as words and symbols, readable without colour: "HIGH ▲▲▲"."""
        if self.escalated:
            return f"ESCALATED {self.level.symbols}!"
        return self.level.words


# THRIVE's risk part: its first word, read case-insensitively (ASCII letters only), after
# any leading spaces and punctuation; words end at a space or punctuation mark. Kept to
# what SQL can also say (`controlroom.data.queue_queries` matches the same words).
THRIVE_SEPARATORS = " \t\r\n.,;:-"
THRIVE_WORDS = {
    "high": RiskLevel.HIGH,
    "medium": RiskLevel.MEDIUM,
    "low": RiskLevel.STANDARD,
    "standard": RiskLevel.STANDARD,
}


def thrive_level(risk_text: str | None) -> RiskLevel | None:
    """The level THRIVE's risk part states by its first word, or None when it says none."""
    if not risk_text:
        return None
    rest = risk_text.lstrip(THRIVE_SEPARATORS)
    end = next((i for i, ch in enumerate(rest) if ch in THRIVE_SEPARATORS), len(rest))
    word = rest[:end]
    if not word.isascii():
        return None
    return THRIVE_WORDS.get(word.lower())


def dash_due(
    queue: Queue, entered_at: datetime, dash_level: str | None, now: datetime, escalation: timedelta
) -> bool:
    """Whether a domestic-abuse item has waited past `escalation` without a DASH."""
    return queue is Queue.DOMESTIC_ABUSE and dash_level is None and now - entered_at >= escalation


@dataclass(frozen=True, slots=True)
class RiskFacts:
    thrive_risk: str | None = None
    thrive_assessed: bool = False
    markers: tuple[tuple[str, int], ...] = ()  # (code, severity) of linked persons' markers
    dash_level: str | None = None  # "standard" | "medium" | "high", None: no DASH
    dash_overdue: bool = False  # see `dash_due`


def assess_risk(facts: RiskFacts) -> RiskAssessment:
    level = RiskLevel.STANDARD
    reasons: list[str] = []

    def raise_to(new: RiskLevel, why: str) -> None:
        nonlocal level
        if new >= level and new > RiskLevel.STANDARD:
            reasons.append(why)
        level = max(level, new)

    stated = thrive_level(facts.thrive_risk) if facts.thrive_assessed else None
    if stated is None:
        raise_to(
            THRIVE_UNSTATED,
            "THRIVE not assessed" if not facts.thrive_assessed else "THRIVE risk not stated",
        )
    else:
        raise_to(stated, f"THRIVE {stated.word.lower()}")
    for code, severity in sorted(set(facts.markers), key=lambda m: (m[1], m[0])):
        raise_to(marker_risk(severity), f"{code} marker")
    dash = (facts.dash_level or "").lower()
    if dash in DASH_RISK:
        raise_to(DASH_RISK[dash], f"DASH {dash}")
    if facts.dash_overdue:
        raise_to(RiskLevel.HIGH, "no DASH")
    # Most telling first: what set the final level.
    reasons.sort(key=lambda r: 0 if r == "no DASH" else 1)
    return RiskAssessment(level=level, escalated=facts.dash_overdue, reasons=tuple(reasons))


# --- targets and order -----------------------------------------------------------------

_H = timedelta(hours=1)
_M = timedelta(minutes=1)
DEFAULT_TARGETS: dict[Queue, dict[str, timedelta]] = {
    Queue.GENERAL: {"G1": 15 * _M, "G2": 60 * _M, "G3": 48 * _H, "G4": 72 * _H},
    Queue.DOMESTIC_ABUSE: {"G1": 15 * _M, "G2": 60 * _M, "G3": 24 * _H, "G4": 24 * _H},
    Queue.CHILD_PROTECTION: {"G1": 15 * _M, "G2": 60 * _M, "G3": 24 * _H, "G4": 24 * _H},
    Queue.MISSING_PERSONS: {"G1": 15 * _M, "G2": 30 * _M, "G3": 4 * _H, "G4": 24 * _H},
}
FALLBACK_TARGET = 24 * _H


def target_for(
    queue: Queue, grade: str, targets: dict[Queue, dict[str, timedelta]] | None = None
) -> timedelta:
    table = DEFAULT_TARGETS if targets is None else targets
    return (
        table.get(queue, {}).get(grade)
        or table.get(Queue.GENERAL, {}).get(grade)
        or FALLBACK_TARGET
    )


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """The configured numbers the queue works by (built from Settings)."""

    grade_codes: tuple[str, ...] = ("G1", "G2", "G3", "G4")
    stale_after: timedelta = timedelta(minutes=10)
    dash_escalation: timedelta = timedelta(hours=24)
    targets: dict[Queue, dict[str, timedelta]] | None = None
    # Each grade's attendance target (None: the grade has none), for the clock column.
    attendance_targets: tuple[tuple[str, timedelta | None], ...] = tuple(
        (g.code, g.target) for g in DEFAULT_GRADES
    )

    def attendance_target(self, grade: str) -> timedelta | None:
        return next((t for g, t in self.attendance_targets if g == grade), None)

    @property
    def heartbeat_every(self) -> timedelta:
        """A holder's heartbeat interval: three beats fit in the stale time."""
        return self.stale_after / 3

    def target(self, queue: Queue, grade: str) -> timedelta:
        return target_for(queue, grade, self.targets)

    def grade_rank(self, grade: str) -> int:
        return self.grade_codes.index(grade) if grade in self.grade_codes else len(self.grade_codes)


def is_stale(
    state: str, heartbeat_at: datetime | None, now: datetime, stale_after: timedelta
) -> bool:
    """A claim whose holder has not been heard from for `stale_after` may be reclaimed."""
    return (
        state == ItemState.CLAIMED
        and heartbeat_at is not None
        and now - heartbeat_at >= stale_after
    )


_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def whole_seconds(moment: datetime) -> int:
    """Seconds since the epoch, the fraction dropped (floor): ages in the order are counted
    between whole seconds, which SQL can reproduce exactly."""
    return (moment - _EPOCH) // _SECOND


def through_permille(entered_at: datetime, now: datetime, target: timedelta) -> int:
    """How far an item is through its target, in thousandths (1000: the target is reached),
    from its age in whole seconds (never below 0); integer arithmetic so that SQL ranks
    exactly as this does."""
    age = max(whole_seconds(now) - whole_seconds(entered_at), 0)
    return age * 1000 // max(target // _SECOND, 1)


def order_key(
    *,
    escalated: bool,
    grade_rank: int,
    risk: RiskLevel,
    through: int,
    entered_at: datetime,
    item_id: int,
) -> tuple:
    """Sort key (ascending) of an item: see the module docstring. `through` is
    `through_permille`. `RankTable` is this rule in the form SQL needs."""
    return (0 if escalated else 1, grade_rank, -int(risk), -through, entered_at, item_id)


@dataclass(frozen=True, slots=True)
class RankTable:
    """The ordering rules as tables, for a data layer to turn into SQL (CASE expressions)
    that orders exactly as `order_key` does: built from the same constants."""

    grade_ranks: dict[str, int]
    unknown_grade_rank: int
    target_seconds: dict[tuple[str, str], int]  # (queue value, grade) -> seconds
    fallback_target_seconds: int
    thrive_words: dict[str, int]  # first word -> risk level
    thrive_separators: str
    thrive_unstated: int
    high_marker_severity: int  # severity <= this: HIGH
    medium_marker_severity: int  # severity == this: MEDIUM
    dash_risk: dict[str, int]
    escalated_risk: int
    dash_queue: str


def rank_table(policy: QueuePolicy) -> RankTable:
    grades = list(policy.grade_codes)
    for table in (policy.targets or DEFAULT_TARGETS).values():
        grades += [g for g in table if g not in grades]
    return RankTable(
        grade_ranks={g: policy.grade_rank(g) for g in policy.grade_codes},
        unknown_grade_rank=len(policy.grade_codes),
        target_seconds={
            (q.value, g): policy.target(q, g) // _SECOND for q in Queue for g in grades
        },
        fallback_target_seconds=FALLBACK_TARGET // _SECOND,
        thrive_words={w: int(level) for w, level in THRIVE_WORDS.items()},
        thrive_separators=THRIVE_SEPARATORS,
        thrive_unstated=int(THRIVE_UNSTATED),
        high_marker_severity=1,
        medium_marker_severity=2,
        dash_risk={level: int(risk) for level, risk in DASH_RISK.items()},
        escalated_risk=int(RiskLevel.HIGH),
        dash_queue=Queue.DOMESTIC_ABUSE.value,
    )


def oldest_age(entered: Iterable[datetime], now: datetime) -> timedelta | None:
    times = list(entered)
    return now - min(times) if times else None
