"""Person search in the database: the candidates a query can mean, one backend per dialect.

The service (controlroom.services.person_search) parses the line and ranks; a backend
only finds candidates, through indexes: the phonetic keys stored on every person and
alias (migration 0003), full text on the names, dates of birth and addresses.
`search_backend` picks the backend for the session's dialect; both answer the
`PersonSearch` protocol. Full text is the dialect's own:

- SQLite: FTS5 tables over person and alias names (kept by triggers, migration 0003):
  a word typed is a prefix of any name token, so "whit" finds "Hughes-Whitfield";
- PostgreSQL: pg_trgm GIN indexes serve ILIKE 'prefix%' and, for a word nothing else
  found, the trigram similarity operator `%` (typos: "Smiht").

Every condition is a SQLAlchemy expression with bound parameters; LIKE patterns are
escaped (`autoescape`), so `%` and `_` typed by an operator are characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import Column, Integer, MetaData, String, Table, and_, func, or_, select
from sqlalchemy.orm import Session

from controlroom.data.models import (
    IncidentPerson,
    IntelligenceSubject,
    Location,
    Person,
    PersonAddress,
    PersonAlias,
    Staff,
)

# More than any screen shows: the service ranks these and keeps the best.
CANDIDATE_LIMIT = 500
# A misspelled word is looked for by its first letters (SQLite) when nothing else found it.
FUZZY_PREFIX = 3

# The FTS5 tables (SQLite only; created by migration 0003, not by the models, so they sit
# in their own MetaData). The column named like the table is FTS5's whole-row column.
_full_text = MetaData()
person_name_fts = Table(
    "person_name_fts", _full_text, Column("rowid", Integer), Column("person_name_fts", String),
    Column("forename", String), Column("surname", String))
person_alias_name_fts = Table(
    "person_alias_name_fts", _full_text, Column("rowid", Integer),
    Column("person_alias_name_fts", String), Column("person_id", Integer),
    Column("forename", String), Column("surname", String))
# Full-text objects the migrations make outside the models (FTS5 tables and their shadow
# tables, pg_trgm indexes): schema comparison leaves them out.
FULL_TEXT_PREFIXES = ("person_name_fts", "person_alias_name_fts")
TRIGRAM_INDEXES = frozenset({"ix_person_forename_trgm", "ix_person_surname_trgm",
                             "ix_person_alias_forename_trgm", "ix_person_alias_surname_trgm"})


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic's `include_name` hook: False for the full-text objects above."""
    if type_ == "table" and name and name.startswith(FULL_TEXT_PREFIXES):
        return False
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def fts_phrase(word: str, *, prefix: bool = True) -> str:
    """An FTS5 query for `word` as a quoted phrase (operators and quotes inside are
    text), optionally a prefix. A bound parameter, never SQL."""
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


@dataclass(frozen=True, slots=True)
class NameTerm:
    """One name word of a query: its phonetic keys and the prefix it was typed as."""

    keys: tuple[str, ...]
    prefix: str  # as typed, casefolded; "" when the word has no letters


@dataclass(frozen=True, slots=True)
class PersonCriteria:
    names: tuple[NameTerm, ...] = ()
    dates_of_birth: tuple[date, ...] = ()  # exact, transposed ones already added
    born_from: date | None = None
    born_to: date | None = None
    postcode_prefix: str | None = None     # "LS6 2AB" or "LS6 "
    address_words: tuple[str, ...] = ()


class PersonSearch(Protocol):
    def candidates(self, criteria: PersonCriteria, limit: int = CANDIDATE_LIMIT
                   ) -> Sequence[Person]: ...

    def aliases(self, person_ids: Iterable[int]) -> dict[int, list[PersonAlias]]: ...

    def incident_counts(self, person_ids: Iterable[int]) -> dict[int, int]: ...

    def intelligence_counts(self, person_ids: Iterable[int]) -> dict[int, int]: ...

    def creators(self, person_ids: Iterable[int]) -> dict[int, str]: ...


class _IndexedSearch:
    """What both backends share: candidates by phonetic key, prefix, date and address."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- per dialect --------------------------------------------------------------------

    def _text(self, term: NameTerm) -> list:
        """Conditions on Person: a name or alias starts with the word (full text)."""
        raise NotImplementedError

    def _fuzzy_text(self, term: NameTerm) -> list:
        """Conditions on Person: a name or alias is near the word (a typo)."""
        raise NotImplementedError

    # --- candidates ----------------------------------------------------------------------

    def _term_condition(self, term: NameTerm):
        conditions = []
        if term.keys:
            keys = list(term.keys)
            for model in (Person, PersonAlias):
                keyed = or_(model.forename_key.in_(keys), model.surname_key.in_(keys),
                            model.surname_key_first.in_(keys),
                            model.surname_key_last.in_(keys))
                conditions.append(keyed if model is Person else Person.id.in_(
                    select(PersonAlias.person_id).where(keyed)))
        if term.prefix:
            conditions += self._text(term)
        return or_(*conditions) if conditions else None

    def _date_condition(self, criteria: PersonCriteria):
        conditions = []
        if criteria.dates_of_birth:
            conditions.append(Person.date_of_birth.in_(list(criteria.dates_of_birth)))
        if criteria.born_from is not None and criteria.born_to is not None:
            conditions.append(Person.date_of_birth.between(criteria.born_from, criteria.born_to))
        return or_(*conditions) if conditions else None

    def _address_condition(self, criteria: PersonCriteria):
        filters = []
        if criteria.postcode_prefix:
            filters.append(Location.postcode.startswith(criteria.postcode_prefix,
                                                        autoescape=True))
        for word in criteria.address_words:
            filters.append(or_(Location.address.icontains(word, autoescape=True),
                               Location.street.icontains(word, autoescape=True),
                               Location.town.icontains(word, autoescape=True)))
        if not filters:
            return None
        return Person.id.in_(
            select(PersonAddress.person_id)
            .join(Location, Location.id == PersonAddress.location_id)
            .where(*filters))

    def candidates(self, criteria: PersonCriteria, limit: int = CANDIDATE_LIMIT
                   ) -> Sequence[Person]:
        """People the criteria may mean: every name word matched (by key or prefix, on
        the person or an alias) when any are; failing that, any one word matched. Within
        the date of birth asked (or none recorded, when names were given) and at the
        address asked."""
        terms = [c for c in (self._term_condition(t) for t in criteria.names) if c is not None]
        fuzzy = [c for t in criteria.names if len(t.prefix) >= FUZZY_PREFIX
                 for c in self._fuzzy_text(t)]
        dates = self._date_condition(criteria)
        address = self._address_condition(criteria)
        if not terms and dates is None and address is None:
            return []
        filters = []
        if dates is not None:
            filters.append(or_(dates, Person.date_of_birth.is_(None)) if terms else dates)
        if address is not None:
            filters.append(address)
        # Every word first; when that finds nobody, any word; then near spellings (a word
        # was misspelled past its key, and the ranking's fuzzy score decides).
        attempts = [[and_(*terms)], [or_(*terms)]] if len(terms) > 1 else [terms]
        if fuzzy:
            attempts.append([or_(*fuzzy)])
        for names in attempts:
            statement = select(Person).where(*filters, *names)
            found = self.session.scalars(statement.order_by(Person.id).limit(limit)).all()
            if found:
                return found
        return []

    # --- what a hit shows ----------------------------------------------------------------

    def aliases(self, person_ids: Iterable[int]) -> dict[int, list[PersonAlias]]:
        ids = list(set(person_ids))
        found: dict[int, list[PersonAlias]] = {}
        if not ids:
            return found
        for alias in self.session.scalars(
                select(PersonAlias).where(PersonAlias.person_id.in_(ids))
                .order_by(PersonAlias.person_id, PersonAlias.id)):
            found.setdefault(alias.person_id, []).append(alias)
        return found

    def _counts(self, column, person_ids: Iterable[int]) -> dict[int, int]:
        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(column, func.count()).where(column.in_(ids)).group_by(column)).all()
        return {int(person_id): int(count) for person_id, count in rows}

    def incident_counts(self, person_ids: Iterable[int]) -> dict[int, int]:
        """Incidents each person is linked to (in any role, each incident once)."""
        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(IncidentPerson.person_id, func.count(IncidentPerson.incident_id.distinct()))
            .where(IncidentPerson.person_id.in_(ids))
            .group_by(IncidentPerson.person_id)).all()
        return {int(person_id): int(count) for person_id, count in rows}

    def intelligence_counts(self, person_ids: Iterable[int]) -> dict[int, int]:
        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(IntelligenceSubject.person_id,
                   func.count(IntelligenceSubject.report_id.distinct()))
            .where(IntelligenceSubject.person_id.in_(ids))
            .group_by(IntelligenceSubject.person_id)).all()
        return {int(person_id): int(count) for person_id, count in rows}

    def creators(self, person_ids: Iterable[int]) -> dict[int, str]:
        """Who recorded each person (display name): whom to ask about a restricted one."""
        ids = list(set(person_ids))
        if not ids:
            return {}
        rows = self.session.execute(
            select(Person.id, Staff.display_name)
            .join(Staff, Staff.id == Person.created_by_id)
            .where(Person.id.in_(ids))).all()
        return {int(person_id): name for person_id, name in rows}


class SqliteSearch(_IndexedSearch):
    """SQLite: FTS5 prefix queries on the name tokens (case and accents folded by the
    tokenizer), for the person's names and for aliases."""

    def _match(self, phrase: str) -> list:
        return [
            Person.id.in_(select(person_name_fts.c.rowid)
                          .where(person_name_fts.c.person_name_fts.match(phrase))),
            Person.id.in_(select(person_alias_name_fts.c.person_id)
                          .where(person_alias_name_fts.c.person_alias_name_fts.match(phrase))),
        ]

    def _text(self, term: NameTerm) -> list:
        return self._match(fts_phrase(term.prefix))

    def _fuzzy_text(self, term: NameTerm) -> list:
        return self._match(fts_phrase(term.prefix[:FUZZY_PREFIX]))


class PostgresSearch(_IndexedSearch):
    """PostgreSQL: ILIKE 'prefix%' and trigram similarity, both served by the pg_trgm
    GIN indexes; ILIKE folds case for every letter, not only ASCII."""

    def _both(self, condition) -> list:
        return [or_(condition(Person.forename), condition(Person.surname)),
                Person.id.in_(select(PersonAlias.person_id).where(
                    or_(condition(PersonAlias.forename), condition(PersonAlias.surname))))]

    def _text(self, term: NameTerm) -> list:
        # The start of the name, or of a later part of it ("whit": "Hughes-Whitfield"),
        # as FTS5 finds any token on SQLite.
        return self._both(lambda column: or_(
            column.istartswith(term.prefix, autoescape=True),
            column.icontains(" " + term.prefix, autoescape=True),
            column.icontains("-" + term.prefix, autoescape=True)))

    def _fuzzy_text(self, term: NameTerm) -> list:
        # pg_trgm's similarity operator (threshold pg_trgm.similarity_threshold, 0.3).
        return self._both(lambda column: column.op("%")(term.prefix))


def search_backend(session: Session) -> PersonSearch:
    """The person-search backend for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return PostgresSearch(session)
    return SqliteSearch(session)
