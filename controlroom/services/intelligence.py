"""Intelligence: submitting a report graded 3x5x2, searching reports, reading one, and the
reports about a person.

Invariants:
- every function opens the unit of work it is given, writes exactly one audit event in
  it (when it gets as far as the database), and commits the event with what it records;
  input refused before the database is touched writes none, as in the other services;
- reports are never edited: a correction is a new report whose `supersedes_id` points at
  the one it replaces, which is "superseded" by virtue of that link; a report is
  superseded at most once (a second correction supersedes the newest report instead);
- a restricted report's content (its text, conditions and subjects) reaches nobody
  without a justification of at least `JUSTIFICATION_MIN` characters, which goes into
  the audit event; in a list it shows only that it exists and whom to ask. "Whom to
  ask" is the submitting officer (display name and station): the schema keeps no
  separate owner or handler for a report;
- a restricted *person* named as a subject of a report reads "restricted person" in
  labels; the person record (with its own justification) shows who it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject
from controlroom.data.intelligence_queries import (
    IntelligenceQueries,
    ReportCriteria,
    SubjectRow,
)
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import REFERENCE_ZONE, TEXT_LIMIT
from controlroom.domain.intelligence import (
    HandlingCode,
    IntelligenceGrade,
    SourceGrade,
    grading,
)
from controlroom.domain.legacy import read_only_message
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action, Decision
from controlroom.domain.safe_text import match_form
from controlroom.services import access, audit, fields
from controlroom.services.audit import Outcome
from controlroom.services.fields import FieldError
from controlroom.services.persons import PersonNotFound

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

__all__ = [
    "HANDLING_WORDS",
    "INTELLIGENCE_WORDS",
    "IntelReport",
    "IntelSubject",
    "IntelSummary",
    "IntelligenceInputError",
    "IntelligenceNotFound",
    "JustificationRequired",
    "SOURCE_WORDS",
    "reports_for_person",
    "search_reports",
    "submit_report",
    "view_report",
]

CONDITIONS_LIMIT = 2_000
QUERY_LIMIT = 200
JUSTIFICATION_MIN = 10
JUSTIFICATION_LIMIT = 1_000
PREVIEW_LENGTH = 80
SEARCH_LIMIT_MAX = 500
PERSON_LIST_LIMIT = 500
REFERENCE_PREFIX = "IR"
REFERENCE_ATTEMPTS = 5

# The words of the 3x5x2 codes, for screens that show a grading in full.
SOURCE_WORDS = {"1": "reliable", "2": "untested", "3": "not reliable"}
INTELLIGENCE_WORDS = {
    "A": "known directly",
    "B": "known indirectly, corroborated",
    "C": "known indirectly",
    "D": "not known",
    "E": "suspected false",
}
HANDLING_WORDS = {"P": "lawful sharing permitted", "C": "lawful sharing with conditions"}
# What a list shows before a handling-C report's text: its conditions come first
# wherever the text is shown (the report view, the search list, `controlroom search`).
CONDITIONS_LABEL = "HANDLING C: "
# A handling-C report whose conditions were never written (older rows).
NO_CONDITIONS = "(none recorded)"

RESTRICTED_PERSON = "restricted person"


# --- what the screens get --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntelSubject:
    """Who or where a report is about: exactly one of the two ids is set."""

    person_id: int | None
    location_id: int | None
    label: str  # "Alex EXAMPLE", "12 Mill Lane, Leeds, LS6 2AB" or "restricted person"


@dataclass(frozen=True, slots=True)
class IntelSummary:
    """A report as a list shows it. A restricted one shows only that it exists (reference,
    time, grading) and whom to ask: no preview and no subjects."""

    id: int
    reference: str
    submitted_at: datetime
    grading_code: str  # "1AP"
    handling_code: str  # "P" or "C"
    restricted: bool
    superseded: bool
    subjects: tuple[IntelSubject, ...]
    preview: str | None  # the text's first 80 characters on one line; None when restricted
    ask: str | None  # whom to ask, when restricted
    # A handling-C report's conditions on one line, shown before its preview; None for
    # handling P and for a restricted report.
    conditions: str | None = None
    legacy: bool = False  # an old system's report (issue 19): read-only, shown LEGACY

    def about(self) -> str | None:
        """The conditions (handling C) then the preview, as one plain line: what a list
        shows of an unrestricted report's text. None when restricted."""
        if self.preview is None:
            return None
        if self.conditions is None:
            return self.preview
        return f"{CONDITIONS_LABEL}{self.conditions} — {self.preview}"


@dataclass(frozen=True, slots=True)
class IntelReport:
    """A whole report. When `handling_code` is "C" the screen shows `handling_conditions`
    before `text`."""

    id: int
    reference: str
    submitted_at: datetime
    submitted_by: str  # the submitting officer's display name
    submitted_by_station: str | None
    source_grade: str
    intelligence_grade: str
    handling_code: str
    grading_code: str
    handling_conditions: str | None
    text: str
    restricted: bool
    subjects: tuple[IntelSubject, ...]
    supersedes_id: int | None
    supersedes_reference: str | None
    superseded_by_id: int | None
    superseded_by_reference: str | None
    legacy: bool = False  # an old system's report (issue 19): read-only, shown LEGACY

    @property
    def superseded(self) -> bool:
        return self.superseded_by_id is not None


class IntelligenceInputError(FieldError):
    """Input the service cannot use; `.field` names the form field, `.message` says why."""


class IntelligenceNotFound(LookupError):
    pass


class JustificationRequired(FieldError):
    """The report is restricted: it shows only with a written justification (at the field
    "justification"). `.reference` and `.ask` say which report and whom to ask."""

    def __init__(self, message: str, *, reference: str, ask: str) -> None:
        super().__init__("justification", message)
        self.reference = reference
        self.ask = ask


# --- input checks ----------------------------------------------------------------------


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    return now.astimezone(UTC)


def _require_operator(actor: Actor) -> int:
    if actor.staff_id is None:
        # Every report names the member of staff who submitted it (and who is asked about it).
        raise PermissionError("only an enrolled member of staff can submit intelligence")
    return actor.staff_id


def _grading(source, intelligence, handling, conditions):
    """The domain's 3x5x2 check, its refusal placed at the field it is about."""
    cleaned = fields.optional_text(
        conditions,
        "conditions",
        "handling conditions",
        limit=CONDITIONS_LIMIT,
        error=IntelligenceInputError,
        multiline=True,
    )
    try:
        return grading(source, intelligence, handling, cleaned)
    except ValueError as exc:
        raise IntelligenceInputError(
            _grading_field(source, intelligence, handling), str(exc)
        ) from None


def _grading_field(source, intelligence, handling) -> str:
    """Which part of a refused grading is wrong (the domain checks them in this order)."""
    for name, value, codes in (
        ("source", source, SourceGrade),
        ("intelligence", intelligence, IntelligenceGrade),
        ("handling", handling, HandlingCode),
    ):
        if _code(value, codes) is None:
            return name
    return "conditions"


def _code(value, codes) -> str | None:
    text = str(value if value is not None else "").strip().upper()
    return text if text in {c.value for c in codes} else None


def _filter_code(value, name: str, codes) -> str | None:
    if value is None or not str(value).strip():
        return None
    code = _code(value, codes)
    if code is None:
        raise IntelligenceInputError(
            name, f"{name} must be one of {', '.join(c.value for c in codes)}"
        )
    return code


def _ids(values, name: str) -> tuple[int, ...]:
    found: dict[int, None] = {}
    for value in values or ():
        if isinstance(value, bool) or not isinstance(value, int):
            raise IntelligenceInputError(name, f"not a {name.rstrip('s')} id: {value!r}")
        found[value] = None
    return tuple(found)


def _optional_id(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise IntelligenceInputError(name, f"not an id: {value!r}")
    return value


def _justification(value: str | None) -> str | None:
    return fields.optional_text(
        value,
        "justification",
        "justification",
        limit=JUSTIFICATION_LIMIT,
        error=IntelligenceInputError,
        multiline=True,
    )


# --- references --------------------------------------------------------------------------


def _day_window(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which the local (Europe/London) `day` starts and the next does."""
    start = datetime.combine(day, time(), tzinfo=REFERENCE_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=REFERENCE_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def report_reference(day: date, number: int) -> str:
    """`IR-YYYYMMDD-NNNN`: at least four digits, more past 9,999 reports in a day."""
    return f"{REFERENCE_PREFIX}-{day:%Y%m%d}-{number:04d}"


def _number(reference: str | None) -> int:
    tail = (reference or "").rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


def _next_reference(queries: IntelligenceQueries, now: datetime) -> str:
    """The day's highest number plus one, skipping any reference already used (a report
    whose time lies outside its reference's day, say from an import).

    Unique, not gap-free. Stations take turns: SQLite serialises writers (BEGIN
    IMMEDIATE), PostgreSQL takes the day's advisory lock until commit. A writer that
    does not take the lock (an import) can still collide; the unique index refuses the
    second insert and `submit_report` retries.
    """
    day = local_day(now)
    queries.lock_day(day)
    since, until = _day_window(day)
    prefix = report_reference(day, 1).rpartition("-")[0] + "-"
    number = _number(queries.highest_reference(prefix, since, until)) + 1
    while queries.reference_taken(report_reference(day, number)):
        number += 1
    return report_reference(day, number)


# --- building what the screens get ------------------------------------------------------


def _ask(display_name: str | None, station: str | None) -> str:
    name = display_name or "the submitting officer"
    return f"{name} ({station})" if station else name


def _subject(row: SubjectRow) -> IntelSubject:
    if row.person_id is not None:
        label = (
            RESTRICTED_PERSON
            if row.person_restricted
            else f"{row.forename or ''} {(row.surname or '').upper()}".strip()
        )
        return IntelSubject(person_id=row.person_id, location_id=None, label=label)
    label = ", ".join(part for part in (row.address, row.town, row.postcode) if part)
    return IntelSubject(person_id=None, location_id=row.location_id, label=label)


def _preview(text: str) -> str:
    return " ".join(text.split())[:PREVIEW_LENGTH]


def _conditions(report: IntelligenceReport) -> str | None:
    """A handling-C report's conditions on one line (None for handling P)."""
    if report.handling_code != "C":
        return None
    return " ".join((report.handling_conditions or NO_CONDITIONS).split())


def _grading_code(report: IntelligenceReport) -> str:
    return f"{report.source_grade}{report.intelligence_grade}{report.handling_code}"


def _summaries(queries: IntelligenceQueries, rows) -> list[IntelSummary]:
    """Summaries of (report, submitter name, submitter station) rows, in their order."""
    ids = [report.id for report, _, _ in rows]
    subjects = queries.subjects(ids)
    superseded = queries.superseded_by(ids)
    result = []
    for report, name, station in rows:
        restricted = bool(report.restricted)
        result.append(
            IntelSummary(
                id=report.id,
                reference=report.reference,
                submitted_at=report.submitted_at,
                grading_code=_grading_code(report),
                handling_code=report.handling_code,
                restricted=restricted,
                superseded=report.id in superseded,
                subjects=() if restricted else tuple(_subject(s) for s in subjects[report.id]),
                preview=None if restricted else _preview(report.text),
                ask=_ask(name, station) if restricted else None,
                conditions=_conditions(report) if not restricted else None,
                legacy=report.legacy_batch_id is not None,
            )
        )
    return result


def _shown(summaries: list[IntelSummary]) -> str:
    return "shown: " + (",".join(str(s.id) for s in summaries) or "none")


# --- submitting --------------------------------------------------------------------------


def submit_report(
    uow: UnitOfWork,
    actor: Actor,
    *,
    source: str,
    intelligence: str,
    handling: str,
    conditions: str | None,
    text: str,
    person_ids=(),
    location_ids=(),
    restricted: bool = False,
    supersedes_id: int | None = None,
    now: datetime,
) -> IntelSummary:
    """Record a new report about `person_ids` and `location_ids` (at least one), graded
    3x5x2. With `supersedes_id` it replaces that report, which must not have been
    superseded already; the old report is left as it was.

    The reference is the next of the local (Europe/London) day of `now`.
    """
    now = _aware(now)
    _require_operator(actor)
    graded = _grading(source, intelligence, handling, conditions)
    body = fields.text(
        text,
        "text",
        "report text",
        limit=TEXT_LIMIT,
        required=True,
        multiline=True,
        error=IntelligenceInputError,
    )
    persons = _ids(person_ids, "subjects")
    locations = _ids(location_ids, "subjects")
    if not persons and not locations:
        raise IntelligenceInputError(
            "subjects", "name at least one subject: a person or a location"
        )
    if not isinstance(restricted, bool):
        raise IntelligenceInputError("restricted", "restricted is yes or no")
    old_id = _optional_id(supersedes_id, "supersedes_id")
    with uow:
        # Superseding a report regrades it: intelligence staff only.
        access.require(
            uow,
            actor,
            Action.INTELLIGENCE_SUBMIT if old_id is None else Action.INTELLIGENCE_GRADE,
            "intelligence",
            old_id,
            audit_action="intel.submit",
        )
        queries = uow.reports
        for attempt in range(1, REFERENCE_ATTEMPTS + 1):
            _check_subjects(queries, persons, locations)
            old = _supersedable(queries, old_id)
            reference = _next_reference(queries, now)
            report = IntelligenceReport(
                reference=reference,
                submitted_at=now,
                submitted_by_id=actor.staff_id,
                source_grade=graded.source.value,
                intelligence_grade=graded.intelligence.value,
                handling_code=graded.handling.value,
                handling_conditions=graded.conditions,
                text=body,
                restricted=restricted,
                supersedes_id=None if old is None else old.id,
            )
            queries.add(report)
            try:
                uow.flush()
            except IntegrityError:
                # Another station took this reference between our read and our insert;
                # anything else (a subject deleted meanwhile) is not ours to retry.
                uow.rollback()
                if attempt == REFERENCE_ATTEMPTS or not queries.reference_taken(reference):
                    raise
                continue
            break
        for person_id in persons:
            queries.add_subject(IntelligenceSubject(report_id=report.id, person_id=person_id))
        for location_id in locations:
            queries.add_subject(IntelligenceSubject(report_id=report.id, location_id=location_id))
        uow.flush()
        detail = (
            f"reference={reference} grading={graded.code} restricted={restricted} "
            f"persons={','.join(map(str, persons)) or '-'} "
            f"locations={','.join(map(str, locations)) or '-'}"
        )
        if old is not None:
            detail += f" supersedes={old.reference}"
        audit.record(uow, actor, "intel.submit", "intelligence", report.id, detail=detail)
        submitter = uow.staff.get(actor.staff_id)
        summary = _summaries(
            queries,
            [
                (
                    report,
                    submitter.display_name if submitter else None,
                    submitter.station if submitter else None,
                )
            ],
        )[0]
        uow.commit()
        return summary


def _check_subjects(queries: IntelligenceQueries, persons, locations) -> None:
    known_persons = queries.existing_person_ids(persons)
    known_locations = queries.existing_location_ids(locations)
    missing = [f"person {i}" for i in persons if i not in known_persons]
    missing += [f"location {i}" for i in locations if i not in known_locations]
    if missing:
        raise IntelligenceInputError("subjects", f"not on record: {', '.join(missing)}")


def _supersedable(queries: IntelligenceQueries, old_id: int | None) -> IntelligenceReport | None:
    """The report to supersede, locked, or a refusal at "supersedes_id"."""
    if old_id is None:
        return None
    old = queries.get(old_id, for_update=True)
    if old is None:
        raise IntelligenceInputError("supersedes_id", f"no intelligence report with id {old_id}")
    if old.legacy_batch_id is not None:
        raise IntelligenceInputError(
            "supersedes_id", read_only_message("intelligence report", old.reference)
        )
    newer = queries.superseded_by([old.id]).get(old.id)
    if newer is not None:
        raise IntelligenceInputError(
            "supersedes_id",
            f"{old.reference} is already superseded by {newer[1]}: supersede that one instead",
        )
    return old


# --- searching ---------------------------------------------------------------------------


def search_reports(
    uow: UnitOfWork,
    actor: Actor,
    *,
    person_id: int | None = None,
    location_id: int | None = None,
    text: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    source: str | None = None,
    intelligence: str | None = None,
    handling: str | None = None,
    include_superseded: bool = False,
    limit: int = 50,
) -> list[IntelSummary]:
    """Reports matching every criterion given, newest first.

    `text` is a case-insensitive substring of the report text, typed characters taken
    literally; it does not look inside restricted reports (see `IntelligenceQueries.
    search`). `date_from` and `date_to` are local days, both included. Superseded
    reports are left out unless `include_superseded`. The search is audited with its
    criteria and the reports it showed.
    """
    person = _optional_id(person_id, "person_id")
    location = _optional_id(location_id, "location_id")
    query = fields.optional_text(
        text, "text", "search text", limit=QUERY_LIMIT, error=IntelligenceInputError
    )
    if query is not None:
        query = match_form(query)  # what it looks like: NFC, no zero-width characters
    if date_from is not None and date_to is not None and date_from > date_to:
        raise IntelligenceInputError("date_to", "the end date is before the start date")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise IntelligenceInputError("limit", "limit must be a whole number from 1")
    criteria = ReportCriteria(
        person_id=person,
        location_id=location,
        text=query,
        submitted_from=_day_window(date_from)[0] if date_from is not None else None,
        submitted_before=_day_window(date_to)[1] if date_to is not None else None,
        source=_filter_code(source, "source", SourceGrade),
        intelligence=_filter_code(intelligence, "intelligence", IntelligenceGrade),
        handling=_filter_code(handling, "handling", HandlingCode),
        include_superseded=bool(include_superseded),
    )
    asked = [
        f"{name}={value!r}"
        for name, value in (
            ("person_id", person),
            ("location_id", location),
            ("text", query),
            ("date_from", date_from.isoformat() if date_from else None),
            ("date_to", date_to.isoformat() if date_to else None),
            ("source", criteria.source),
            ("intelligence", criteria.intelligence),
            ("handling", criteria.handling),
        )
        if value is not None
    ]
    if criteria.include_superseded:
        asked.append("include_superseded=True")
    with uow:
        access.require(
            uow, actor, Action.INTELLIGENCE_SEARCH, "intelligence", audit_action="intel.search"
        )
        queries = uow.reports
        if person is not None:
            # A record merged into this person is this person: its reports are theirs.
            criteria = replace(criteria, merged_person_ids=queries.merged_into_ids(person))
        found = _summaries(queries, queries.search(criteria, min(limit, SEARCH_LIMIT_MAX)))
        audit.record(
            uow,
            actor,
            "intel.search",
            "intelligence",
            None,
            detail="; ".join([*asked, _shown(found)]),
        )
        uow.commit()
        return found


def reports_for_person(uow: UnitOfWork, actor: Actor, person_id: int) -> list[IntelSummary]:
    """Every report with this person as a subject, newest first, superseded ones too
    (marked), for the person record. Audited as a list shown."""
    wanted = _optional_id(person_id, "person_id")
    if wanted is None:
        raise IntelligenceInputError("person_id", "which person?")
    with uow:
        access.require(
            uow, actor, Action.INTELLIGENCE_SEARCH, "person", wanted, audit_action="intel.list"
        )
        queries = uow.reports
        if not queries.existing_person_ids([wanted]):
            audit.record(
                uow,
                actor,
                "intel.list",
                "person",
                wanted,
                outcome=Outcome.FAILED,
                detail="no such person",
            )
            uow.commit()
            raise PersonNotFound(f"no person with id {wanted}")
        found = _summaries(
            queries,
            queries.search(
                ReportCriteria(
                    person_id=wanted,
                    merged_person_ids=queries.merged_into_ids(wanted),
                    include_superseded=True,
                ),
                PERSON_LIST_LIMIT,
            ),
        )
        audit.record(uow, actor, "intel.list", "person", wanted, detail=_shown(found))
        uow.commit()
        return found


# --- reading one report ------------------------------------------------------------------


def view_report(
    uow: UnitOfWork, actor: Actor, report_id: int, *, justification: str | None = None
) -> IntelReport:
    """The whole report. A restricted one needs a `justification` of at least
    `JUSTIFICATION_MIN` characters: without one, `JustificationRequired` (audited as
    denied); with one, the report, and the audit event carries the justification."""
    wanted = _optional_id(report_id, "report_id")
    why = _justification(justification)
    with uow:
        access.require(
            uow, actor, Action.INTELLIGENCE_VIEW, "intelligence", wanted, audit_action="intel.view"
        )
        queries = uow.reports
        report = queries.get(wanted) if wanted is not None else None
        if report is None:
            audit.record(
                uow,
                actor,
                "intel.view",
                "intelligence",
                wanted,
                outcome=Outcome.FAILED,
                detail="no such report",
            )
            uow.commit()
            raise IntelligenceNotFound(f"no intelligence report with id {wanted}")
        submitter = uow.staff.get(report.submitted_by_id)
        name = submitter.display_name if submitter else None
        station = submitter.station if submitter else None
        decision = access.require(
            uow,
            actor,
            Action.INTELLIGENCE_VIEW,
            "intelligence",
            report.id,
            marking=access.report_marking(report.restricted),
            audit_action="intel.view",
        )
        if decision is Decision.JUSTIFY and (why is None or len(why) < JUSTIFICATION_MIN):
            message = (
                f"{report.reference} is restricted: type why you need to see it "
                f"(at least {JUSTIFICATION_MIN} characters), or ask {_ask(name, station)}"
            )
            audit.record(
                uow,
                actor,
                "intel.view",
                "intelligence",
                report.id,
                outcome=Outcome.DENIED,
                justification=why,
                detail=("justification too short" if why else "restricted; no justification given"),
            )
            uow.commit()
            raise JustificationRequired(
                message, reference=report.reference, ask=_ask(name, station)
            )
        newer = queries.superseded_by([report.id]).get(report.id)
        result = IntelReport(
            id=report.id,
            reference=report.reference,
            submitted_at=report.submitted_at,
            submitted_by=name or "",
            submitted_by_station=station,
            source_grade=report.source_grade,
            intelligence_grade=report.intelligence_grade,
            handling_code=report.handling_code,
            grading_code=_grading_code(report),
            handling_conditions=report.handling_conditions,
            text=report.text,
            restricted=bool(report.restricted),
            subjects=tuple(_subject(s) for s in queries.subjects([report.id])[report.id]),
            supersedes_id=report.supersedes_id,
            supersedes_reference=(
                queries.reference_of(report.supersedes_id)
                if report.supersedes_id is not None
                else None
            ),
            superseded_by_id=newer[0] if newer else None,
            superseded_by_reference=newer[1] if newer else None,
            legacy=report.legacy_batch_id is not None,
        )
        audit.record(
            uow,
            actor,
            "intel.view",
            "intelligence",
            report.id,
            justification=why,
            detail="restricted; justification given" if report.restricted else None,
        )
        uow.commit()
        return result
