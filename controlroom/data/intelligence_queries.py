"""The queries the intelligence services need: submitting, searching and reading reports.

Built on the unit of work's session (`IntelligenceQueries(uow.session)`); like the
repositories, they hand ORM rows or plain tuples to the service, which copies what it
returns into frozen dataclasses. Nothing here commits. SQLAlchemy expressions only.

A report is *superseded* exactly when another report's `supersedes_id` points at it; the
old row itself never changes (reports are never edited).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, literal, select
from sqlalchemy.orm import Session, aliased

from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject, Person
from controlroom.data.like import LIKE_ESCAPE, like_pattern
from controlroom.data.models import Location, Staff

# The first key of the advisory lock that orders intelligence references ("IR").
REFERENCE_LOCK_NAMESPACE = 0x4952
# A text search asks the trigram index for at most this many of the text's trigrams.
TEXT_TRIGRAMS = 12
# Text in at most this many reports is looked up by id; commoner text by walking the
# reports newest first (see IntelligenceQueries._sqlite_text).
TEXT_RARE = 2000

# PostgreSQL looks for text among this many newest reports first (see
# IntelligenceQueries._newest_start): a walk of at most this many rows, about 5 ms;
# then, for text found there but less than a page, as far as a page should need, up to
# RECENT_REACH (about 40 ms).
RECENT_REPORTS = 5_000
RECENT_REACH = 50_000

# The FTS5 trigram index of report texts (SQLite only; migration 0005, outside the models).
intelligence_text_fts = Table(
    "intelligence_text_fts",
    MetaData(),
    Column("rowid", Integer),
    Column("intelligence_text_fts", String),
    Column("text", String),
)


@dataclass(frozen=True, slots=True)
class ReportCriteria:
    """What a search asks for; None (or False) leaves a criterion out."""

    person_id: int | None = None
    # Records merged into `person_id` (controlroom.services.person_merge): their reports
    # are the person's too.
    merged_person_ids: tuple[int, ...] = ()
    location_id: int | None = None
    text: str | None = None
    submitted_from: datetime | None = None  # inclusive, aware UTC
    submitted_before: datetime | None = None  # exclusive, aware UTC
    source: str | None = None
    intelligence: str | None = None
    handling: str | None = None
    include_superseded: bool = False


@dataclass(frozen=True, slots=True)
class SubjectRow:
    report_id: int
    person_id: int | None
    location_id: int | None
    forename: str | None
    surname: str | None
    person_restricted: bool
    address: str | None
    town: str | None
    postcode: str | None


def _not_superseded():
    """The report is superseded by no other: NOT EXISTS a report whose supersedes_id is
    its id, one probe of ix_intelligence_report_supersedes_id for each report looked at.

    It was `id NOT IN (every supersedes_id)`, the same rows (the list left NULLs out),
    but SQLite built that list, some 38,000 ids on the large seed, afresh for every
    search: 6-20 ms of each, more than the page itself took (issue 20)."""
    newer = aliased(IntelligenceReport)
    return ~select(newer.id).where(newer.supersedes_id == IntelligenceReport.id).exists()


def _text_contains(report_text, text: str, dialect: str):
    """`report_text` holds `text`, case-insensitively, LIKE's wildcards taken literally.

    PostgreSQL: ILIKE (what the GIN trigram index serves). SQLite: LIKE as it stands,
    which already ignores the case of ASCII letters and of nothing else, exactly as
    lower() changes ASCII letters and nothing else (no ICU): the same test as
    lower(text) LIKE lower(pattern), without lowering each report's whole text first,
    which was half the cost of walking the newest reports (issue 20)."""
    if dialect == "sqlite":
        return report_text.like(like_pattern(text, before="%"), escape=LIKE_ESCAPE)
    return report_text.icontains(text, autoescape=True)


class IntelligenceQueries:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- one report ------------------------------------------------------------------

    def get(self, report_id: int, *, for_update: bool = False) -> IntelligenceReport | None:
        """The report, read afresh; `for_update` locks its row (PostgreSQL) so two
        stations superseding it at once take turns and the second sees the first."""
        return self.session.get(
            IntelligenceReport,
            report_id,
            with_for_update=for_update or None,
            populate_existing=True,
        )

    def add(self, report: IntelligenceReport) -> None:
        self.session.add(report)

    def add_subject(self, subject: IntelligenceSubject) -> None:
        self.session.add(subject)

    def superseded_by(self, report_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
        """For each of `report_ids` that has been superseded: (id, reference) of the
        report that supersedes it (the first, should there ever be two)."""
        ids = list(set(report_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(
                IntelligenceReport.supersedes_id,
                IntelligenceReport.id,
                IntelligenceReport.reference,
            )
            .where(IntelligenceReport.supersedes_id.in_(ids))
            .order_by(IntelligenceReport.id)
        ).all()
        found: dict[int, tuple[int, str]] = {}
        for old_id, new_id, reference in rows:
            if old_id is not None:  # the query asks only for reports that supersede
                found.setdefault(old_id, (new_id, reference))
        return found

    def reference_of(self, report_id: int) -> str | None:
        return self.session.scalar(
            select(IntelligenceReport.reference).where(IntelligenceReport.id == report_id)
        )

    # --- references --------------------------------------------------------------------

    def highest_reference(self, prefix: str, since: datetime, until: datetime) -> str | None:
        """The highest-numbered reference starting with `prefix` ("IR-20261126-") among
        reports submitted in [since, until) — the day's window, so the search walks the
        `submitted_at` index rather than every reference."""
        return self.session.scalar(
            select(IntelligenceReport.reference)
            .where(
                IntelligenceReport.submitted_at >= since,
                IntelligenceReport.submitted_at < until,
                IntelligenceReport.reference.startswith(prefix, autoescape=True),
            )
            # Longest first: "-10000" sorts before "-9999" as text but is the higher number.
            .order_by(
                func.length(IntelligenceReport.reference).desc(),
                IntelligenceReport.reference.desc(),
            )
            .limit(1)
        )

    def lock_day(self, day: date) -> None:
        """Serialise reference allocation for `day` until this transaction ends.

        PostgreSQL: a transaction-scoped advisory lock keyed on the day, so two stations
        submitting at once take turns and the second reads the first's number. SQLite
        needs nothing: the transaction already holds the write lock (BEGIN IMMEDIATE).
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(
                select(func.pg_advisory_xact_lock(REFERENCE_LOCK_NAMESPACE, int(f"{day:%Y%m%d}")))
            )

    def reference_taken(self, reference: str) -> bool:
        return (
            self.session.scalar(
                select(func.count())
                .select_from(IntelligenceReport)
                .where(IntelligenceReport.reference == reference)
            )
            or 0
        ) > 0

    # --- subjects ------------------------------------------------------------------------

    def existing_person_ids(self, person_ids: Iterable[int]) -> set[int]:
        ids = list(set(person_ids))
        if not ids:
            return set()
        return set(self.session.scalars(select(Person.id).where(Person.id.in_(ids))))

    def merged_into_ids(self, person_id: int) -> tuple[int, ...]:
        """The records merged (and not unmerged) into this person."""
        return tuple(
            self.session.scalars(
                select(Person.id).where(Person.merged_into_id == person_id).order_by(Person.id)
            )
        )

    def existing_location_ids(self, location_ids: Iterable[int]) -> set[int]:
        ids = list(set(location_ids))
        if not ids:
            return set()
        return set(self.session.scalars(select(Location.id).where(Location.id.in_(ids))))

    def subjects(self, report_ids: Iterable[int]) -> dict[int, list[SubjectRow]]:
        """Each report's subjects in the order they were linked, with what names them."""
        ids = list(set(report_ids))
        found: dict[int, list[SubjectRow]] = {report_id: [] for report_id in ids}
        if not ids:
            return found
        rows = self.session.execute(
            select(
                IntelligenceSubject.report_id,
                IntelligenceSubject.person_id,
                IntelligenceSubject.location_id,
                Person.forename,
                Person.surname,
                Person.restricted,
                Location.address,
                Location.town,
                Location.postcode,
            )
            .outerjoin(Person, Person.id == IntelligenceSubject.person_id)
            .outerjoin(Location, Location.id == IntelligenceSubject.location_id)
            .where(IntelligenceSubject.report_id.in_(ids))
            .order_by(IntelligenceSubject.report_id, IntelligenceSubject.id)
        ).all()
        for row in rows:
            found[row[0]].append(
                SubjectRow(
                    report_id=row[0],
                    person_id=row[1],
                    location_id=row[2],
                    forename=row[3],
                    surname=row[4],
                    person_restricted=bool(row[5]),
                    address=row[6],
                    town=row[7],
                    postcode=row[8],
                )
            )
        return found

    # --- lists -----------------------------------------------------------------------------

    def _fts_queries(self, text: str) -> list[str]:
        """FTS5 queries for the trigrams of `text`, cheapest first (each trigram a quoted
        FTS5 string, so quotes and operators typed are characters; a bound parameter);
        none when the text is shorter than a trigram.

        Every report holding the text holds each of its trigrams, so any of them find a
        superset, and the substring check does the rest. First the trigrams side by
        side (at 0, 3, 6, ... and the last), which cover every character: the index
        ANDs each trigram's list of reports, and for rare text, where it reads them to
        the end, every trigram more is another long list ("and", " pl", "ace":
        hundreds of thousands of reports each). "Woodlands Place" took 22 ms by its
        thirteen trigrams and 9 ms by five (issue 20). Then, when those find too many,
        every trigram (at most TEXT_TRIGRAMS, spread over the text), which find fewer.
        """
        folded = text.casefold()
        if len(folded) < 3:
            return []
        every = list(dict.fromkeys(folded[i : i + 3] for i in range(len(folded) - 2)))
        starts = [*range(0, len(folded) - 2, 3), len(folded) - 3]
        cover = list(dict.fromkeys(folded[i : i + 3] for i in starts))
        queries = []
        for trigrams in (cover, every):
            if len(trigrams) > TEXT_TRIGRAMS:
                step = len(trigrams) / TEXT_TRIGRAMS
                trigrams = [trigrams[int(i * step)] for i in range(TEXT_TRIGRAMS)]
            query = " AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams)
            if query not in queries:
                queries.append(query)
        return queries

    def _sqlite_text(self, statement, text: str, limit: int, windowed: bool) -> list:
        """The page of `statement`'s reports holding `text`, on SQLite, by the FTS5
        trigram index (migration 0005) and the substring checked on each report.

        First a probe, at most TEXT_RARE + 1 reports from the index, by the cheapest
        trigrams and then by more (`_fts_queries`). Text that rare becomes a list of
        ids (a few lookups, then newest first). Text more common than that by every
        probe is walked newest first (`_walk_newest`, the submitted_at index) with the
        substring checked on each, which finds a common text's page within a few tens
        of thousands of rows. Where that walk stops short (trigrams common, the text
        itself rare: "Wall Avenue" walked to the end of two million reports, 340 ms),
        the reports the index finds are all checked instead. With a person, a place
        or an end date (`windowed` False) the walk is not bounded, as before. Asking
        the FTS5 index about each report walked cost 15-190 ms on the large seed
        ("black hatchback": 194 ms, against 1.5 ms walked). Fewer than three
        characters have no trigram: the substring check alone decides.
        """
        report, fts = IntelligenceReport, intelligence_text_fts
        contains = _text_contains(report.text, text, "sqlite")
        queries = self._fts_queries(text)
        for query in queries:
            ids = self.session.scalars(
                select(fts.c.rowid)
                .where(fts.c.intelligence_text_fts.match(query))
                .limit(TEXT_RARE + 1)
            ).all()
            if len(ids) <= TEXT_RARE:
                return self._newest(statement.where(report.id.in_(ids), contains), limit)
        if queries and windowed:
            rows = self._walk_newest(statement, text, limit)
            if rows is not None:
                return rows
            found = select(fts.c.rowid).where(fts.c.intelligence_text_fts.match(queries[-1]))
            return self._newest(statement.where(report.id.in_(found), contains), limit)
        return self._newest(statement.where(contains), limit)

    def search(
        self, criteria: ReportCriteria, limit: int
    ) -> Sequence[tuple[IntelligenceReport, str, str | None]]:
        """Reports matching every criterion given, newest first, each with its submitter's
        display name and station.

        The text criterion is a case-insensitive substring with LIKE's wildcards taken
        literally, and only looks inside unrestricted reports: matching restricted text
        would let a search probe what a restricted report says without a justification.
        """
        report = IntelligenceReport
        statement = select(report, Staff.display_name, Staff.station).join(
            Staff, Staff.id == report.submitted_by_id
        )
        if criteria.person_id is not None:
            statement = statement.where(
                report.id.in_(
                    select(IntelligenceSubject.report_id).where(
                        IntelligenceSubject.person_id.in_(
                            [criteria.person_id, *criteria.merged_person_ids]
                        )
                    )
                )
            )
        if criteria.location_id is not None:
            statement = statement.where(
                report.id.in_(
                    select(IntelligenceSubject.report_id).where(
                        IntelligenceSubject.location_id == criteria.location_id
                    )
                )
            )
        if criteria.text:
            statement = statement.where(report.restricted.is_(False))
        if criteria.submitted_from is not None:
            statement = statement.where(report.submitted_at >= criteria.submitted_from)
        if criteria.submitted_before is not None:
            statement = statement.where(report.submitted_at < criteria.submitted_before)
        if criteria.source is not None:
            statement = statement.where(report.source_grade == criteria.source)
        if criteria.intelligence is not None:
            statement = statement.where(report.intelligence_grade == criteria.intelligence)
        if criteria.handling is not None:
            statement = statement.where(report.handling_code == criteria.handling)
        if not criteria.include_superseded:
            statement = statement.where(_not_superseded())

        rows: list[Any] | None
        if not criteria.text:
            rows = self._newest(statement, limit)
        elif self._dialect() == "sqlite":
            rows = self._sqlite_text(statement, criteria.text, limit, self._windowed(criteria))
        else:
            # PostgreSQL: ILIKE '%text%' as it stands, which the GIN trigram index
            # serves, after a look among the newest reports (`_newest_start`).
            rows = (
                self._walk_newest(statement, criteria.text, limit)
                if self._windowed(criteria)
                else None
            )
            if rows is None:
                rows = self._newest(
                    statement.where(_text_contains(report.text, criteria.text, "postgresql")),
                    limit,
                )
        return [(row[0], row[1], row[2]) for row in rows]

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _newest(self, statement, count: int) -> list:
        report = IntelligenceReport
        return list(
            self.session.execute(
                statement.order_by(report.submitted_at.desc(), report.id.desc()).limit(count)
            ).all()
        )

    def _walk_newest(self, statement, text: str, limit: int) -> list | None:
        """The page of `statement`'s reports holding `text`, found among the newest
        reports by their index, the substring checked on each (lower() LIKE: the same
        match as ILIKE, which the trigram index cannot serve, so the planner walks the
        range); None when the walk stopped short of a page (see `_newest_start`). A page
        found there is the page: every report outside is older."""
        report = IntelligenceReport
        within = (
            _text_contains(report.text, text, "sqlite")
            if self._dialect() == "sqlite"
            else func.lower(report.text).like(
                func.lower(literal(like_pattern(text, before="%"))), escape=LIKE_ESCAPE
            )
        )
        found: list = []
        reach, newer_than = RECENT_REPORTS, None
        while reach:
            start = self._newest_start(reach)
            if start is None:
                return None  # fewer reports than that: all of them at once
            segment = statement.where(report.submitted_at >= start, within)
            if newer_than is not None:  # the reports walked already are left out
                segment = segment.where(report.submitted_at < newer_than)
            found += self._newest(segment, limit - len(found))
            if len(found) >= limit:
                return found
            # Found k < limit in `reach` reports: a page needs some reach * limit / k.
            # Walked on (from where this walk ended) while that stays within
            # RECENT_REACH; else the text is rare and the trigram index gathers few.
            wanted = reach * limit * 5 // (4 * len(found)) if found else 0
            reach, newer_than = (wanted if reach < wanted <= RECENT_REACH else 0), start
        return None

    def _windowed(self, criteria: ReportCriteria) -> bool:
        """A text search of all reports, which may look among the newest reports first
        (see `_newest_start`): PostgreSQL always, SQLite for text the trigram index finds
        common. Not with a person or location (their own indexes find few reports), nor
        an end date (the newest may all be later)."""
        return (
            criteria.person_id is None
            and criteria.location_id is None
            and criteria.submitted_before is None
        )

    def _newest_start(self, reports: int) -> datetime | None:
        """When the `reports` newest reports began (None: there are not that many).

        Why PostgreSQL walks the newest reports first: the planner guesses how common a
        substring is from a sample of a hundred texts, and a wrong guess costs a whole
        table's worth: "rare" gathers the 40,000 reports holding a common word through
        the trigram index, to sort them and keep fifty (100-190 ms on two million
        reports). A walk of the newest RECENT_REPORTS finds a common word's page; text
        found there but less than a page is walked on as far as its share says a page
        needs (up to RECENT_REACH); text rarer than that goes to the trigram index, which
        then gathers few. On the large seed (benchmarks/intel_search.py) p95 went from
        64-130 ms to 52-57 ms, the slowest query from 250 ms to about 100 ms; p50 from 14
        to 23 ms (every text search now pays for the first walk).
        """
        report = IntelligenceReport
        return self.session.scalar(
            select(report.submitted_at)
            .order_by(report.submitted_at.desc())
            .offset(reports)
            .limit(1)
        )
