"""Incident vocabulary and rules: statuses, the roles a person plays in an incident, log
entry kinds, the National Standard for Incident Recording headings, references, the
grade suggestion, the closing rules and the duplicate-call type rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from controlroom.domain.local_time import LOCAL_ZONE, local_day


class IncidentStatus(StrEnum):
    OPEN = "open"  # recorded, awaiting a decision or a resource
    DISPATCHED = "dispatched"  # a resource is assigned or travelling
    AT_SCENE = "at_scene"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


OPEN_STATUSES = (IncidentStatus.OPEN, IncidentStatus.DISPATCHED, IncidentStatus.AT_SCENE)

# NCRS: a possible crime closed without a crime waits for a supervisor's sign-off
# (`incident.signoff_state`: NULL when none is needed).
SIGNOFF_AWAITING = "awaiting"
SIGNOFF_APPROVED = "approved"


class PersonRole(StrEnum):
    CALLER = "caller"
    VICTIM = "victim"
    SUSPECT = "suspect"
    WITNESS = "witness"
    SUBJECT = "subject"


class LogKind(StrEnum):
    NOTE = "note"
    GRADE_CHANGE = "grade_change"
    STATUS_CHANGE = "status_change"
    LINK = "link"
    MERGED_CALL = "merged_call"
    CORRECTION = "correction"
    CLOSURE = "closure"
    DASH = "dash"  # a DASH risk assessment recorded
    REFERRAL = "referral"  # a safeguarding referral raised, sent or acknowledged
    SIGNOFF = "signoff"  # a no-crime closure signed off by a supervisor
    OVERRIDE = "override"  # a safeguarding rule overridden (domain.safeguarding)
    TRIAGE = "triage"  # claimed, reassigned or decided in a triage queue
    CRIME = "crime"  # a crime recorded, reclassified, cancelled or given an outcome
    DISPATCH = "dispatch"  # a unit assigned, or a unit's status on the incident changed
    ATTENDANCE = "attendance"  # the first arrival: the grade's target met or missed


class NsirHeading(StrEnum):
    PUBLIC_SAFETY_WELFARE = "Public Safety & Welfare"
    CRIME = "Crime"
    ANTI_SOCIAL_BEHAVIOUR = "Anti-Social Behaviour"
    TRANSPORT = "Transport"
    ADMINISTRATION = "Administration"


# THRIVE: the six parts of the structured risk assessment on each incident.
class IncidentFlag(StrEnum):
    """The flags a call handler sets on an incident; the values are the field names."""

    DOMESTIC = "domestic"
    CHILD_PRESENT = "child_present"
    WEAPONS = "weapons"
    POSSIBLE_CRIME = "possible_crime"

    @property
    def label(self) -> str:
        """In words, lower case: "child present"."""
        return self.value.replace("_", " ")


# Every text an operator writes at length (a narrative, a note, a closing result, an
# intelligence report) is at most this long: a screen says so as it is typed, and the
# service refuses more.
TEXT_LIMIT = 8_000

THRIVE_PARTS = ("threat", "harm", "risk", "investigation", "vulnerability", "engagement")


# --- references ------------------------------------------------------------------------

# Reference days are the control room's local days (domain.local_time): a call at 00:30
# BST on 1 June is on 1 June's list, although it is still 31 May in UTC.
REFERENCE_ZONE = LOCAL_ZONE
REFERENCE_PREFIX = "CR"


def incident_reference(day: date, number: int) -> str:
    """`CR-YYYYMMDD-NNNN`: at least four digits, more once a day passes 9,999 incidents."""
    if number < 1:
        raise ValueError("incident numbers start at 1")
    return f"{REFERENCE_PREFIX}-{day:%Y%m%d}-{number:04d}"


def reference_day(moment: datetime) -> date:
    """The local day whose sequence an incident opened at `moment` (aware) is numbered in."""
    if moment.tzinfo is None:
        raise ValueError("an aware time is needed to find its local day")
    return local_day(moment)


def reference_number(reference: str) -> int | None:
    """The day's number in a reference ("CR-20261126-0042" -> 42), or None if malformed."""
    prefix, _, rest = reference.partition("-")
    day, _, number = rest.partition("-")
    if prefix != REFERENCE_PREFIX or len(day) != 8 or not day.isdigit() or not number.isdigit():
        return None
    return int(number)


# --- grading -----------------------------------------------------------------------------


def suggest_grade(
    suggested_grade: str,
    *,
    weapons: bool,
    child_present: bool,
    domestic: bool,
    grade_codes: tuple[str, ...],
) -> str:
    """The grade to offer: the type's suggestion, raised (never lowered) by the answers.

    `grade_codes` runs from most to least urgent. Weapons lift it to the first grade;
    a child present or a domestic lifts it to at least the second. A suggestion that is
    not one of this force's codes starts at the first grade: over-grading is corrected
    by a person, under-grading may never be noticed.
    """
    if not grade_codes:
        raise ValueError("no grades are configured")
    index = grade_codes.index(suggested_grade) if suggested_grade in grade_codes else 0
    if weapons:
        index = 0
    if child_present or domestic:
        index = min(index, 1, len(grade_codes) - 1)
    return grade_codes[index]


# --- closing ---------------------------------------------------------------------------

NO_CRIME_REASON_MIN = 10


def closure_problems(
    *,
    closing_type_code: str | None,
    result: str,
    possible_crime: bool,
    crime_reference: str | None,
    no_crime_reason: str | None,
) -> dict[str, str]:
    """What stops an incident closing, as field -> message (empty when it may close).

    NCRS: a report of a possible crime is either recorded as a crime (its reference) or
    closed with a written reason why no crime is recorded; never silently.
    """
    problems: dict[str, str] = {}
    if not (closing_type_code or "").strip():
        problems["closing_type_code"] = "a closing category is required"
    if not (result or "").strip():
        problems["result"] = "a result is required: say how the incident was resolved"
    if possible_crime and not (crime_reference or "").strip():
        reason = (no_crime_reason or "").strip()
        if not reason:
            problems["crime_reference"] = (
                "this is a possible crime: give the crime reference, or write why no crime "
                f"is recorded (at least {NO_CRIME_REASON_MIN} characters)"
            )
        elif len(reason) < NO_CRIME_REASON_MIN:
            problems["no_crime_reason"] = (
                f"write the no-crime reason out: at least {NO_CRIME_REASON_MIN} characters"
            )
    return problems


# --- THRIVE ----------------------------------------------------------------------------

THRIVE_LABELS: dict[str, str] = {part: part.capitalize() for part in THRIVE_PARTS}


# --- duplicate calls -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncidentTypeFacts:
    """What the duplicate-call rule needs to know about an incident type."""

    code: str
    heading: str
    domestic: bool
    possible_crime: bool


def is_related_type(a: IncidentTypeFacts, b: IncidentTypeFacts) -> bool:
    """Whether two calls' types could be about the same event.

    The same type; or both domestic (one caller says "domestic", the next "assault in
    progress"); or two possible crimes under the same NSIR heading (burglary and theft).
    """
    if a.code == b.code:
        return True
    if a.domestic and b.domestic:
        return True
    return a.heading == b.heading and a.possible_crime and b.possible_crime


# --- the caller's phone ----------------------------------------------------------------

PHONE_MESSAGE = "use digits, spaces and a leading + only: 6 to 15 digits"


def normalise_phone(text: str) -> str:
    """A phone number as digits in one form, so a second call from it matches however
    it was typed: "+44 7700 900123", "0044 7700900123" and "07700 900123" are all
    "07700900123"; other international numbers keep their 00 prefix.

    Raises ValueError(PHONE_MESSAGE) when it is not a phone number.
    """
    compact = "".join(text.split())
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise ValueError(PHONE_MESSAGE)
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
        if len(digits) < 6:
            raise ValueError(PHONE_MESSAGE)
    if international:
        return "0" + digits[2:] if digits.startswith("44") else "00" + digits
    return digits
