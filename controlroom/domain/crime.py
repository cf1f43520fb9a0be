"""Crime recording under the National Crime Recording Standard, as pure rules.

- The 24-hour clock: a possible-crime incident must have its crime recorded within
  `RECORDING_LIMIT` of the report (the incident's opening). The clock starts at the
  report and stops at the first crime recorded from the incident or at a signed-off
  no-crime decision; a clock still running past its limit is BREACHED, and says so in
  words (`ClockReading.words`), never by colour alone.
- One crime per victim (the Home Office Counting Rules): recording from an incident makes
  one crime for each victim named, and a victim who already has a live crime from the
  same incident is refused (reclassify that crime instead).
- Classification by Home Office offence code and name (`db/offence_class.csv`); a
  reclassification needs a reason, and keeps old -> new.
- Cancellation (formerly "no-crime") needs a written reason and a supervisor's decision.
- Outcomes 0-22 (`OUTCOMES`), each with its date; 14 and 16 need the victim's recorded
  decision (what, when, who took it); 16 on a domestic-abuse crime needs a supervisor's
  approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

RECORDING_LIMIT = timedelta(hours=24)
# Within this of its limit a running clock is "due" (the command view counts them).
DUE_SOON = timedelta(hours=4)
REASON_MINIMUM = 10  # characters: a reclassification or cancellation says why
REASON_LIMIT = 2000


class CrimeState(StrEnum):
    RECORDED = "recorded"
    CANCELLATION_REQUESTED = "cancellation_requested"  # waits for a supervisor
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ApprovalState(StrEnum):
    """An outcome's supervisor approval (outcome 16 on domestic abuse)."""

    NOT_NEEDED = "not_needed"
    AWAITING = "awaiting"
    APPROVED = "approved"


# The Home Office crime outcome types (the outcomes framework, April 2013 onwards, with
# 21 from 2016 and 22 from 2019). 0 is ours: no outcome assigned yet.
OUTCOMES: dict[int, str] = {
    0: "No outcome yet (under investigation)",
    1: "Charged/summonsed",
    2: "Youth caution",
    3: "Adult caution",
    4: "Taken into consideration",
    5: "The offender has died",
    6: "Penalty notice for disorder",
    7: "Cannabis/khat warning",
    8: "Community resolution",
    9: "Prosecution not in the public interest (CPS)",
    10: "Formal action not in the public interest (police)",
    11: "Prosecution prevented: suspect below the age of criminal responsibility",
    12: "Prosecution prevented: suspect too ill to prosecute",
    13: "Prosecution prevented: victim or key witness dead or too ill to give evidence",
    14: "Evidential difficulties: suspect not identified; victim does not support action",
    15: "Evidential difficulties: suspect identified; victim supports action",
    16: "Evidential difficulties: suspect identified; victim does not support action",
    17: "Prosecution time limit expired",
    18: "Investigation complete: no suspect identified",
    19: "National Fraud Intelligence Bureau filed (fraud recorded by Action Fraud)",
    20: "Action undertaken by another body or agency",
    21: "Further investigation not in the public interest (police decision)",
    22: "Diversionary, educational or intervention activity; no further action",
}
NO_OUTCOME = 0
# The victim's decision must be on the record before these are given.
VICTIM_DECISION_OUTCOMES = frozenset({14, 16})
# Outcome 19 is the National Fraud Intelligence Bureau's, for fraud Action Fraud records;
# a force does not give it (its fraud is reported to Action Fraud, not recorded here).
NFIB_ONLY_OUTCOMES = frozenset({19})
# On a domestic-abuse crime these also need a supervisor's approval.
DOMESTIC_APPROVAL_OUTCOMES = frozenset({16})


def outcome_label(code: int) -> str:
    return f"{code} {OUTCOMES.get(code, 'unknown outcome')}"


def crime_reference(year: int, number: int) -> str:
    """CRM-2026-000042: the crime's reference (its year of recording and its number)."""
    return f"CRM-{year}-{number:06d}"


# --- the 24-hour clock ---------------------------------------------------------------------


def _span(delta: timedelta) -> str:
    """45m, 23h 05m, 30h 00m, 9d 4h: hours up to two days (the clock counts in hours)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 60 * 24)
    if days >= 2:
        return f"{days}d {rest // 60}h"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


@dataclass(frozen=True, slots=True)
class ClockReading:
    """Where an incident's NCRS clock stands at `now`."""

    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    now: datetime

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def left(self) -> timedelta:
        """Time left to the limit (negative once past it); at the stop when stopped."""
        return self.due_at - (self.stopped_at or self.now)

    @property
    def breached(self) -> bool:
        """Past the limit: still running after 24 h, or stopped after it."""
        return self.left < timedelta(0)

    @property
    def due_soon(self) -> bool:
        return self.running and not self.breached and self.left <= DUE_SOON

    @property
    def words(self) -> str:
        """The clock in words, which carry the meaning in 16 colours or none."""
        if self.stopped_at is not None:
            taken = _span(self.stopped_at - self.started_at)
            if self.breached:
                return f"! stopped after {taken}: 24h LIMIT MISSED by {_span(-self.left)}"
            return f"stopped after {taken}, within 24h"
        if self.breached:
            return f"! BREACHED by {_span(-self.left)} — no crime recorded, no no-crime decision"
        return f"{_span(self.left)} left of 24h" + (" (due soon)" if self.due_soon else "")


def read_clock(opened_at: datetime, stopped_at: datetime | None, now: datetime) -> ClockReading:
    return ClockReading(
        started_at=opened_at, due_at=opened_at + RECORDING_LIMIT, stopped_at=stopped_at, now=now
    )


def clock_stop(
    first_crime_at: datetime | None, no_crime_decided_at: datetime | None
) -> datetime | None:
    """What stops the clock: the first crime recorded, or a signed-off no-crime
    decision, whichever came first."""
    stops = [t for t in (first_crime_at, no_crime_decided_at) if t is not None]
    return min(stops) if stops else None


# --- recording, reclassifying, cancelling ---------------------------------------------------


def reason_problem(reason: str | None, what: str) -> str | None:
    text = (reason or "").strip()
    if len(text) < REASON_MINIMUM:
        return f"write why the {what} ({REASON_MINIMUM} characters or more)"
    if len(text) > REASON_LIMIT:
        return f"the reason is {len(text):,} characters; the limit is {REASON_LIMIT:,}"
    return None


def recording_problems(
    *,
    offence_code: str | None,
    offence_known: bool,
    victim_based: bool,
    victim_ids: tuple[int, ...],
    victims_with_crime: frozenset[int],
    incident_victims: frozenset[int],
) -> dict[str, str]:
    """field -> message for a crime (or one per victim) to be recorded from an incident."""
    problems: dict[str, str] = {}
    if not offence_code:
        problems["offence_code"] = "choose the Home Office offence (code or words)"
    elif not offence_known:
        problems["offence_code"] = f"not a Home Office offence code in use here: {offence_code}"
    if len(set(victim_ids)) != len(victim_ids):
        problems["victims"] = "a victim is named twice: one crime per victim"
    strangers = [v for v in victim_ids if v not in incident_victims]
    if strangers:
        problems["victims"] = "a victim must be linked to the incident as a victim first"
    already = [v for v in victim_ids if v in victims_with_crime]
    if already:
        problems["victims"] = (
            "this victim already has a crime from this incident: one crime per victim "
            "(reclassify that crime instead)"
        )
    if (
        victim_based
        and offence_code
        and offence_known
        and not victim_ids
        and "victims" not in (problems)
    ):
        problems["victims"] = "this offence has a victim: name the victim (one crime each)"
    return problems


def parties_problems(
    *,
    victim_id: int | None,
    current_victim: int | None,
    incident_victims: frozenset[int],
    victims_with_crime: frozenset[int],
    suspect_ids: tuple[int, ...],
    incident_suspects: frozenset[int],
) -> dict[str, str]:
    """field -> message for linking a victim to a crime recorded without one, and for
    setting its suspects. A crime is one victim's: its victim, once linked, stays."""
    problems: dict[str, str] = {}
    if victim_id is not None and victim_id != current_victim:
        if current_victim is not None:
            problems["victim"] = (
                "this crime has its victim: one crime per victim (c records a crime for "
                "another victim)"
            )
        elif victim_id not in incident_victims:
            problems["victim"] = "a victim must be linked to the incident as a victim first"
        elif victim_id in victims_with_crime:
            problems["victim"] = (
                "this victim already has a crime from this incident: one crime per victim"
            )
    if len(set(suspect_ids)) != len(suspect_ids):
        problems["suspects"] = "a suspect is named twice"
    elif any(s not in incident_suspects for s in suspect_ids):
        problems["suspects"] = "a suspect must be linked to the incident as a suspect first"
    return problems


def reclassification_problems(old_code: str, new_code: str | None, reason: str | None) -> dict:
    problems: dict[str, str] = {}
    if not new_code:
        problems["offence_code"] = "choose the new Home Office offence"
    elif new_code == old_code:
        problems["offence_code"] = f"the crime is already classified as {old_code}"
    problem = reason_problem(reason, "crime is reclassified")
    if problem:
        problems["reason"] = problem
    return problems


# --- outcomes ---------------------------------------------------------------------------------


def outcome_needs_approval(code: int, domestic: bool) -> bool:
    return domestic and code in DOMESTIC_APPROVAL_OUTCOMES


def outcome_problems(
    *,
    code: int | None,
    outcome_date: date | None,
    recorded_on: date,
    today: date,
    victim_decision: str | None,
    victim_decision_on: date | None,
    victim_decision_by: str | None,
) -> dict[str, str]:
    """field -> message for giving a crime outcome `code` dated `outcome_date`."""
    problems: dict[str, str] = {}
    if code is None or code not in OUTCOMES:
        problems["outcome"] = "choose an outcome from 0 to 22"
        return problems
    if code in NFIB_ONLY_OUTCOMES:
        problems["outcome"] = (
            f"outcome {code} is given by the National Fraud Intelligence Bureau to fraud "
            "recorded by Action Fraud, not by a force: choose another"
        )
        return problems
    if outcome_date is None:
        problems["outcome_date"] = "give the outcome's date (dd/mm/yyyy)"
    elif outcome_date < recorded_on:
        problems["outcome_date"] = "the outcome's date is before the crime was recorded"
    elif outcome_date > today:
        problems["outcome_date"] = "the outcome's date is in the future"
    if code in VICTIM_DECISION_OUTCOMES:
        if len((victim_decision or "").strip()) < REASON_MINIMUM:
            problems["victim_decision"] = (
                f"outcome {code} needs the victim's decision: what they decided, in their "
                "words or yours"
            )
        if victim_decision_on is None:
            problems["victim_decision_on"] = f"outcome {code}: when the victim decided"
        elif victim_decision_on > today:
            problems["victim_decision_on"] = "the victim's decision is dated in the future"
        if not (victim_decision_by or "").strip():
            problems["victim_decision_by"] = f"outcome {code}: who took the victim's decision"
    return problems


def parse_day(text: str | None) -> date | None:
    """A date as typed: 30/11/2026, 30/11/26, 30-11-2026 or 2026-11-30; None if not one."""
    cleaned = (text or "").strip().replace("-", "/").replace(".", "/")
    for pattern in ("%d/%m/%Y", "%d/%m/%y", "%Y/%m/%d"):
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    return None


# --- crime data integrity (the inspectorate's measure) -----------------------------------------

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class IntegrityCount:
    """Of `total` crime-related incidents, how many had a crime recorded within 24 h and
    within 7 days of the report."""

    total: int
    within_24h: int
    within_7d: int

    @property
    def rate_24h(self) -> float | None:
        return self.within_24h / self.total if self.total else None

    @property
    def rate_7d(self) -> float | None:
        return self.within_7d / self.total if self.total else None

    @property
    def unrecorded(self) -> int:
        return self.total - self.within_24h


def integrity_count_of(
    *,
    says_crime: bool,
    delay: timedelta | None,
    signed_off: bool,
    legacy: bool,
) -> IntegrityCount:
    """One incident's part in its month's integrity counts (0 or 1 in each).

    Counted: an incident whose flag, opening type or closing type says possible crime
    (`says_crime`), unless its no-crime decision was signed off with no crime recorded
    (`signed_off` and no `delay`: not a crime), and unless it is LEGACY. An old system's
    imported incidents are not this system's recording: the inspectorate measures how
    this force records crime, and their crimes (if any) were recorded there, outside
    any clock this system ran. So they are left out of the counts and of the month's
    unrecorded list alike, and the two always agree."""
    if legacy or not says_crime or (delay is None and signed_off):
        return IntegrityCount(0, 0, 0)
    return IntegrityCount(
        1,
        int(delay is not None and delay <= RECORDING_LIMIT),
        int(delay is not None and delay <= WEEK),
    )


def closed_as_crime(crime_reference: str | None, closed_at: datetime | None) -> datetime | None:
    """When an incident's closing recorded a crime: its closing, where it closed with a
    crime reference (a crime recorded elsewhere, named at the closing); else None."""
    return closed_at if crime_reference and closed_at is not None else None


def recording_delay(
    opened_at: datetime, kept: timedelta | None, recorded_at: datetime | None
) -> timedelta | None:
    """An incident's crime recording delay (how long after the report a crime was first
    recorded: its first crime record, cancelled ones too, or its closing with a crime
    reference, whichever came first) once a crime is recorded at `recorded_at`, from
    the delay `kept` so far. None: no crime recorded (yet)."""
    if recorded_at is None:
        return kept
    delay = recorded_at - opened_at
    return delay if kept is None or delay < kept else kept


def rate_words(rate: float | None) -> str:
    """77.7% (one decimal place, as the inspectorate publishes it), or "—" with none."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


class Finding(StrEnum):
    """A supervisor's finding on one incident of an integrity audit sample."""

    CORRECT = "correct"  # the recording decision was right
    CRIME_MISSED = "crime_missed"  # a crime should have been recorded and was not
    MISCLASSIFIED = "misclassified"  # recorded, but as the wrong offence

    @property
    def label(self) -> str:
        return {
            Finding.CORRECT: "correct",
            Finding.CRIME_MISSED: "CRIME MISSED",
            Finding.MISCLASSIFIED: "MISCLASSIFIED",
        }[self]


SAMPLE_SIZE = 20
