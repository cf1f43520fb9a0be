"""Person search in the database: the candidates a query can mean, one backend per dialect.

The service (controlroom.services.person_search) parses the line, plans the stages and
ranks; a backend offers the conditions a stage may ask (by phonetic keys, by the starts
of names, by first letters, by date of birth, by address, ...: the phonetic keys stored
on every person and alias (migration 0003), full text on the names, dates of birth and
addresses) and asks a stage's groups of them in one statement (`collect`).
`search_backend` picks the backend for the session's dialect; both answer the
`PersonSearch` protocol. Full text is the dialect's own:

- SQLite: FTS5 tables over person and alias names (kept by triggers, migration 0003):
  a word typed is a prefix of any name token, so "whit" finds "Hughes-Whitfield";
- PostgreSQL: pg_trgm GIN indexes serve ILIKE 'prefix%' and, for a word nothing else
  found, the trigram similarity operator `%` (typos: "Smiht").

Every condition is a SQLAlchemy expression with bound parameters, written as a shape
(below: a builder and the arguments that fix its SQL) so a statement is built once and
reused with each search's values; LIKE patterns are escaped (`like_pattern`), so `%`
and `_` typed by an operator are characters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ARRAY,
    Column,
    Date,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    all_,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BindParameter, BooleanClauseList
from sqlalchemy.sql.selectable import Select

from controlroom.data.cold_models import (
    IncidentPerson,
    IntelligenceSubject,
    MarkerType,
    Person,
    PersonAddress,
    PersonAlias,
    WarningMarker,
)
from controlroom.data.like import LIKE_ESCAPE, like_pattern
from controlroom.data.models import Location, Staff

# Letters of a name's start that PostgreSQL indexes (migrations 0005, 0011), and that
# `initial` and the two-word start lookups compare.
START_LETTERS = 3
# A word near no name is looked for (SQLite, `near_text`) by this many first letters.
FUZZY_PREFIX = 3


# The FTS5 tables (SQLite only; created by migration 0003, not by the models, so they sit
# in their own MetaData). The column named like the table is FTS5's whole-row column.
_full_text = MetaData()
person_name_fts = Table(
    "person_name_fts",
    _full_text,
    Column("rowid", Integer),
    Column("person_name_fts", String),
    Column("forename", String),
    Column("surname", String),
)
person_alias_name_fts = Table(
    "person_alias_name_fts",
    _full_text,
    Column("rowid", Integer),
    Column("person_alias_name_fts", String),
    Column("person_id", Integer),
    Column("forename", String),
    Column("surname", String),
)
# Full-text objects the migrations make outside the models (FTS5 tables and their shadow
# tables, pg_trgm indexes): schema comparison leaves them out.
FULL_TEXT_PREFIXES = ("person_name_fts", "person_alias_name_fts", "intelligence_text_fts")
TRIGRAM_INDEXES = frozenset(
    {
        "ix_person_forename_trgm",
        "ix_person_surname_trgm",
        "ix_person_alias_forename_trgm",
        "ix_person_alias_surname_trgm",
        "ix_intelligence_report_text_trgm",
        # expression indexes (0005, then 0011), PostgreSQL only
        "ix_person_forename_start",
        "ix_person_surname_start",
        "ix_person_forename_start_born",
        "ix_person_surname_start_born",
        "ix_person_name_starts_born",
    }
)


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
    """One name word of a query: its phonetic keys, the prefix it was typed as, and the
    keys of its near spellings (one letter dropped or two swapped: "smiht" -> "smith")."""

    keys: tuple[str, ...]
    prefix: str  # as typed, casefolded; "" when the word has no letters
    near_keys: tuple[str, ...] = ()
    # The keys of its spellings with one letter more ("faima" -> "fatima"): asked only
    # paired with another word's own or near keys (alone they reach thousands).
    gap_keys: tuple[str, ...] = ()
    # The keys of its spellings one slip away, the first letters included ("yrene" ->
    # "irene"): asked only by the slips stage, paired with another word's.
    slip_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PersonCriteria:
    names: tuple[NameTerm, ...] = ()
    dates_of_birth: tuple[date, ...] = ()  # exact, transposed ones already added
    born_from: date | None = None
    born_to: date | None = None
    postcode_prefix: str | None = None  # "LS6 2AB" or "LS6 "
    address_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HitMarker:
    code: str
    label: str
    severity: int
    note: str | None


@dataclass(frozen=True, slots=True)
class HitDetails:
    address: str | None  # the address on the day, one line
    markers: tuple[HitMarker, ...]  # in force on the day, most severe first
    incidents: int
    intelligence: int
    creator: str | None  # who recorded the person (display name)


# What ranking reads of a candidate, as a row (attributes by these names): loading
# hundreds of full ORM objects per keystroke would cost more than finding them.
CANDIDATE_COLUMNS = (
    Person.id,
    Person.forename,
    Person.surname,
    Person.date_of_birth,
    Person.restricted,
    Person.merged_into_id,
)


class Condition(NamedTuple):
    """One condition of a search: its shape (`sql`) and this search's values for it."""

    shape: tuple
    params: Mapping[str, object]
    # The shape of an expression to read the likeliest first by (`collect` keeps the
    # first rows of each part): None, no order (the index's).
    order: tuple | None = None


# --- conditions by shape -------------------------------------------------------------------
#
# Every condition a search asks is written as a shape: (builder, *arguments), where the
# arguments fix its SQL (how many words, which parameter names) and never hold a value;
# the values travel as parameters (`Condition.params`). `sql(shape)` builds it once, and a
# statement of parts seen before (`_union_sql`) is the same object again, so SQLAlchemy
# keeps its cache key and compiled form: building a dozen expressions and keying them
# afresh on every keystroke cost more than SQLite took to answer them.


@lru_cache(maxsize=1024)
def sql(shape: tuple):
    """The condition a shape stands for, built on first use."""
    build, *arguments = shape
    return build(*arguments)


def _all_sql(*shapes: tuple):
    return and_(*(sql(shape) for shape in shapes))


def _params_of(conditions: Iterable[Condition]) -> dict:
    """The parameters of all of `conditions`, as one statement binds them."""
    params: dict = {}
    for condition in conditions:
        params.update(condition.params)
    return params


def all_of(conditions: Sequence[Condition]) -> Condition:
    """Every one of `conditions`, as one."""
    if len(conditions) == 1:
        return conditions[0]
    orders = [c.order for c in conditions if c.order is not None]
    return Condition(
        (_all_sql, *(c.shape for c in conditions)),
        _params_of(conditions),
        orders[0] if orders else None,
    )


def _like(column, name: str):
    return column.like(bindparam(name), escape=LIKE_ESCAPE)


def _ilike(column, name: str):
    return column.ilike(bindparam(name), escape=LIKE_ESCAPE)


def _one_of(column, name: str, arrays: bool):
    """`column` is one of the values in the list parameter `name`.

    SQLite: an expanding IN (one placeholder per value). PostgreSQL (`arrays`): `= ANY`
    of one array parameter, so the statement's text is the same whatever the list's
    length: psycopg converts it once and, after a few runs, prepares it on the server,
    where a list of 300 ids would otherwise be new SQL to parse and plan every time."""
    if arrays:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def _surname_keyed(model, keys):
    """The surname of `model`, whole or its first or last part, has one of `keys` (a
    function of the column making its condition)."""
    return or_(keys(model.surname_key), keys(model.surname_key_first), keys(model.surname_key_last))


def _keyed_template(model, words: int, arrays: bool, name: str, first: int):
    """Names of `model` (Person or PersonAlias) that `words` words may be, each word's
    keys in the list parameter `<name>_<n>` (`_one_of`), n counted from `first` (so
    several can share one statement).

    One word: its forename or any part of its surname has one of the keys. Several: some
    word is the forename and another a part of the surname (in either order), or two are
    the first and last parts of a double-barrelled surname. Written out as a union of
    index lookups, each one served by a composite index (surname key, forename key) or a
    selective single one, so neither backend has to read everyone with a common name.
    """

    def keys(n: int):
        return lambda column: _one_of(column, f"{name}_{first + n}", arrays)

    if words == 1:
        return or_(keys(0)(model.forename_key), _surname_keyed(model, keys(0)))
    branches = []
    for a in range(words):
        fore = keys(a)
        for b in range(words):
            if a == b:
                continue
            sur = keys(b)
            branches += [
                and_(sur(model.surname_key), fore(model.forename_key)),
                and_(sur(model.surname_key_first), fore(model.forename_key)),
                and_(sur(model.surname_key_last), fore(model.forename_key)),
            ]
            if a < b:
                branches.append(and_(fore(model.surname_key_first), sur(model.surname_key_last)))
    return or_(*branches)


def _alias_keyed_template(words: int, arrays: bool, name: str, first: int):
    """People with an alias that `words` words may be (parameters as above)."""
    return Person.id.in_(
        select(PersonAlias.person_id).where(
            sql((_keyed_template, PersonAlias, words, arrays, name, first))
        )
    )


def _gap_pairs(first: NameTerm, second: NameTerm, arrays: bool) -> Condition:
    """One word the forename and the other the surname, either way round, one of them
    by its own or near keys and the other by those or by its letter-left-out keys: each
    branch a lookup of the (surname key, forename key, date of birth) index. The whole
    surname only: with the parts of double-barrelled ones too, PostgreSQL spent longer
    planning than finding."""

    def strict(term: NameTerm) -> list[str]:
        return list(dict.fromkeys(term.keys + term.near_keys))

    def loose(term: NameTerm) -> list[str]:
        return list(dict.fromkeys(term.keys + term.near_keys + term.gap_keys))

    params: dict = {}
    branches = 0
    for fore, sur in ((first, second), (second, first)):
        for fore_keys, sur_keys in ((strict(fore), loose(sur)), (loose(fore), strict(sur))):
            if fore_keys and sur_keys:
                params[f"gap_fore_{branches}"], params[f"gap_sur_{branches}"] = fore_keys, sur_keys
                branches += 1
    return Condition((_gap_template, branches, arrays), params)


def _gap_template(branches: int, arrays: bool):
    """`branches` (surname key, forename key) pairs, each in the list parameters
    `gap_sur_<n>` and `gap_fore_<n>` (`_one_of`)."""
    if not branches:
        return false()
    return or_(
        *(
            and_(
                _one_of(Person.surname_key, f"gap_sur_{n}", arrays),
                _one_of(Person.forename_key, f"gap_fore_{n}", arrays),
            )
            for n in range(branches)
        )
    )


def _json_or_array_in(column, parameter: str, arrays: bool):
    """`column` is one of the keys in the list parameter `parameter`: an array on
    PostgreSQL (`_one_of`); on SQLite one JSON parameter (json_each), not an expanding
    IN of a few hundred placeholders, which cost SQLAlchemy more to write out than
    SQLite took to answer (`listed` makes the value)."""
    if arrays:
        return _one_of(column, parameter, arrays)
    return column.in_(
        select(literal_column("value")).select_from(
            func.json_each(bindparam(parameter, type_=String))
        )
    )


def listed(keys: Sequence[str] | Sequence[int], arrays: bool) -> object:
    """A list parameter for `_json_or_array_in` (keys or ids): an array, or a JSON array."""
    return list(keys) if arrays else json.dumps(list(keys))


def _any_key_template(name: str, arrays: bool):
    """The forename, or the surname whole or its first or last part, has one of the keys
    in the list parameter `name` (`_json_or_array_in`)."""
    return or_(
        *(
            _json_or_array_in(column, name, arrays)
            for column in (
                Person.forename_key,
                Person.surname_key,
                Person.surname_key_first,
                Person.surname_key_last,
            )
        )
    )


def _key_pairs_template(name: str, arrays: bool):
    """One word the forename and the other the surname, either way round: the surname
    key in the list parameter `<name>_0` and the forename key in `<name>_1`, or the other
    way round. Each branch a range of the (surname key, forename key, date of birth)
    index per surname key, the forename key checked on the index entries there: with a
    hundred keys a side, a seek per pair of keys (as SQLite would plan the two lists)
    costs more than reading the entries of a hundred surname keys."""

    def one_of(column, parameter: str):
        return _json_or_array_in(column, parameter, arrays)

    def pair(surname: str, forename: str):
        return and_(
            one_of(Person.surname_key, surname),
            # Written so no index seeks by it: checked on the entries the surname found.
            one_of(func.coalesce(Person.forename_key, Person.forename_key), forename),
        )

    return or_(pair(f"{name}_0", f"{name}_1"), pair(f"{name}_1", f"{name}_0"))


def _key_pair_template(name: str, arrays: bool, surname: int, forename: int):
    """One way round of `_key_pairs_template`: the surname key in the list parameter
    `<name>_<surname>`, the forename key (checked, not sought) in `<name>_<forename>`."""

    def one_of(column, parameter: str):
        return _json_or_array_in(column, parameter, arrays)

    return and_(
        one_of(Person.surname_key, f"{name}_{surname}"),
        one_of(func.coalesce(Person.forename_key, Person.forename_key), f"{name}_{forename}"),
    )


# The name columns a word may be found by (`_other_word_sql`): forename or surname.
_NAME_COLUMNS = {"forename": Person.forename, "surname": Person.surname}
_KEY_COLUMNS = {"forename": Person.forename_key, "surname": Person.surname_key}
OTHER_NAME = {"forename": "surname", "surname": "forename"}


def _other_word_sql(keyed: str, name: str, arrays: bool):
    """The person's `keyed` name ("forename" or "surname") has one of the keys in the
    list parameter `<name>_keys` (`_json_or_array_in`): one lookup of its key index."""
    return _json_or_array_in(_KEY_COLUMNS[keyed], f"{name}_keys", arrays)


def _one_name_keyed_sql(keyed: str, name: str, arrays: bool):
    """The person's `keyed` name ("forename"; "surname": whole, or its first or last
    part) has one of the keys in the list parameter `name` (`_json_or_array_in`): one
    half of `_any_key_template`."""
    columns = (
        (Person.forename_key,)
        if keyed == "forename"
        else (Person.surname_key, Person.surname_key_first, Person.surname_key_last)
    )
    return or_(*(_json_or_array_in(column, name, arrays) for column in columns))


def _likeness_sql(column: str, name: str, letters: int, pairs: int):
    """How alike the person's `column` name is to a word, for reading the likeliest
    first: two for each of the word's letters in it (`<name>_letter_<n>`, LIKE
    patterns), one for each of its pairs of adjacent letters (`<name>_pair_<n>`), less
    the difference in length (`<name>_length`). Slips spare most of a word's letters
    wherever they fall, the first letters included."""
    lowered = func.lower(_NAME_COLUMNS[column])

    def has(parameter: str, weight: int):
        return case((_like(lowered, parameter), literal_column(str(weight))), else_=0)

    score: Any = literal_column("0")
    for n in range(letters):
        score = score + has(f"{name}_letter_{n}", 2)
    for n in range(pairs):
        score = score + has(f"{name}_pair_{n}", 1)
    return score - func.abs(
        func.length(_NAME_COLUMNS[column]) - bindparam(f"{name}_length", type_=Integer)
    )


# `_likeness_params` pads its letters and pairs to a multiple of this many, with a
# pattern no name matches: the statement's shape (how many of each) then comes in a few
# sizes, built and prepared once each, not anew for nearly every word.
LIKENESS_STEP = 4
# Matches no name: the unit separator, a control character no name is typed with (NUL
# would end SQLite's pattern, and PostgreSQL refuses it in text).
_NO_NAME = "\x1f"


def _padded(count: int) -> int:
    return -(-count // LIKENESS_STEP) * LIKENESS_STEP


def _likeness_params(word: str, name: str) -> tuple[dict[str, object], int, int]:
    """The parameters `_likeness_sql` compares a name with `word` by, and how many
    letters and pairs of letters they are (padded, LIKENESS_STEP)."""
    letters = sorted(set(word))
    pairs = sorted({word[i : i + 2] for i in range(len(word) - 1)})
    letters += [_NO_NAME] * (_padded(len(letters)) - len(letters))
    pairs += [_NO_NAME] * (_padded(len(pairs)) - len(pairs))
    params: dict[str, object] = {
        f"{name}_letter_{n}": like_pattern(c, before="%") for n, c in enumerate(letters)
    }
    params.update({f"{name}_pair_{n}": like_pattern(p, before="%") for n, p in enumerate(pairs)})
    params[f"{name}_length"] = len(word)
    return params, len(letters), len(pairs)


# The letters that may follow a name's first two (`PersonSearch.start_pairs`).
START_FOLLOWS = "abcdefghijklmnopqrstuvwxyz"


def _start_pair_sql(forename: str, surname: str, arrays: bool):
    """The surname's first three letters are one of the list parameter `surname` and the
    forename's one of `forename` (`_one_of`): seeks of the (surname start, forename
    start, date of birth) index of 0011."""

    def one_of(column, parameter: str):
        if arrays:  # the expression has no type of its own to make the array's of
            return name_start(column) == any_(bindparam(parameter, type_=ARRAY(String)))
        return name_start(column).in_(bindparam(parameter, expanding=True))

    return and_(one_of(Person.surname, surname), one_of(Person.forename, forename))


def _two_likeness_sql(forename: tuple, surname: tuple):
    """How alike the forename is to one word and the surname to another (each a
    (parameter name, letters, pairs) of `_likeness_sql`), added."""
    return _likeness_sql("forename", *forename) + _likeness_sql("surname", *surname)


def _namesakes_sql(count: int):
    """The person's forename and surname are, as stored, one of `count` pairs (the
    parameters `namesake_forename_<n>` and `namesake_surname_<n>`): each a lookup of the
    (surname, forename) index."""
    return or_(
        *(
            and_(
                Person.surname == bindparam(f"namesake_surname_{n}"),
                Person.forename == bindparam(f"namesake_forename_{n}"),
            )
            for n in range(count)
        )
    )


def _dates_sql(exact: bool, between: bool):
    """Born on one of the days in `dates` (an expanding IN on both backends: one or two
    days), or between `born_from` and `born_to`."""
    conditions = []
    if exact:
        conditions.append(Person.date_of_birth.in_(bindparam("dates", expanding=True)))
    if between:
        conditions.append(
            Person.date_of_birth.between(
                bindparam("born_from", type_=Date), bindparam("born_to", type_=Date)
            )
        )
    return or_(*conditions)


def _no_date_of_birth():
    """Person has no date of birth recorded, written so that no index serves it: people
    without one are many, and SQLite (which keeps no statistics) would otherwise read
    them all through the date index rather than look the names up."""
    return func.coalesce(Person.date_of_birth, Person.date_of_birth).is_(None)


def _date_of_birth_null():
    return Person.date_of_birth.is_(None)


# How a postcode is asked (`_IndexedSearch._postcode`): its parameters' names.
POSTCODE_EXACT, POSTCODE_RANGE, POSTCODE_LIKE = "exact", "range", "like"


def _address_sql(postcode: str | None, words: int):
    """People ever at an address: at the postcode asked (`postcode` says how), and with
    each of `words` address words (parameters `address_word_<n>`, LIKE patterns) in its
    address, street or town."""
    return Person.id.in_(
        select(PersonAddress.person_id)
        .join(Location, Location.id == PersonAddress.location_id)
        .where(*_address_filters(postcode, words))
    )


def _address_filters(postcode: str | None, words: int) -> list:
    """The conditions on a place of `_address_sql`."""
    filters: list = []
    if postcode == POSTCODE_EXACT:
        filters.append(Location.postcode == bindparam("postcode"))
    elif postcode == POSTCODE_RANGE:
        filters.append(
            and_(
                Location.postcode >= bindparam("postcode_from"),
                Location.postcode < bindparam("postcode_to"),
            )
        )
    elif postcode == POSTCODE_LIKE:
        filters.append(_like(Location.postcode, "postcode_like"))
    for n in range(words):
        filters.append(
            or_(
                *(
                    _ilike(column, f"address_word_{n}")
                    for column in (Location.address, Location.street, Location.town)
                )
            )
        )
    return filters


def _address_people_sql(postcode: str | None, words: int):
    """The ids of the people ever at an address (as `_address_sql`), read from the
    places that match (one scan of them) to their people by the location index."""
    places = select(Location.id).where(*_address_filters(postcode, words))
    return select(PersonAddress.person_id).where(PersonAddress.location_id.in_(places)).distinct()


def _none_of_sql(arrays: bool):
    """The person is none of the ids in the list parameter `found_ids` (`none_of`)."""
    if arrays:
        return Person.id != all_(bindparam("found_ids", type_=ARRAY(Integer)))
    return Person.id.not_in(
        select(literal_column("value")).select_from(
            func.json_each(bindparam("found_ids", type_=String))
        )
    )


def _people_in_sql(arrays: bool):
    """The person is one of the ids in the list parameter `address_people`."""
    return _json_or_array_in(Person.id, "address_people", arrays)


def _initial_sql(name: str, dropped: bool):
    """The forename or surname starts with the letter in parameter `name`, or (with
    `dropped`) its first letters are the word's with the first one left out, wrong or
    swapped with the second (`<name>_rest`: the word's first letters, "ohn" for John;
    `<name>_after`: its letters after the first, "ren" for "yrene"; `<name>_swap`: its
    first letters with the first two swapped, "tho" for "htomae"): a plain filter on the
    rows a key found (no index could serve one letter, and PostgreSQL would try its
    trigram index for a LIKE)."""
    letter: BindParameter[str] = bindparam(name)
    conditions = [name_start(Person.forename, 1) == letter, name_start(Person.surname, 1) == letter]
    if dropped:
        rest: BindParameter[str] = bindparam(f"{name}_rest")
        after: BindParameter[str] = bindparam(f"{name}_after")
        swap: BindParameter[str] = bindparam(f"{name}_swap")
        for column in (Person.forename, Person.surname):
            conditions += [
                _after_first(column) == rest,
                _after_first(column) == after,
                name_start(column) == swap,
            ]
    return or_(*conditions)


def _after_first(column):
    """A name's START_LETTERS letters after its first, lower case."""
    return func.lower(func.substr(column, literal_column("2"), literal_column(str(START_LETTERS))))


class Candidate(NamedTuple):
    """A person a search stage found: the candidate columns of one row
    (CANDIDATE_COLUMNS, in order), as a plain tuple. Ranking reads each candidate's
    fields a dozen times (to rank it, order it, leave it out of later stages), and a
    database row's field by name cost ten times a tuple's: on a million persons a range
    of years' 400 candidates spent longer reading their fields than ranking them."""

    id: int
    forename: str
    surname: str
    date_of_birth: date | None
    restricted: bool
    merged_into_id: int | None


# Where a candidate part's rows carry their part's number (after CANDIDATE_COLUMNS).
_PART = len(CANDIDATE_COLUMNS)

# The same columns, by name, as a UNION of candidate parts gives them back (with their
# types, so dates and flags come back as on a plain select), and the part's number.
_UNION_COLUMNS = (
    *(literal_column(c.key, c.type) for c in CANDIDATE_COLUMNS),
    literal_column("part", Integer),
)


def _ids_first_sql(shape: tuple):
    """The people `shape` finds, asked for their ids first (`ids_first`)."""
    return Person.id.in_(select(Person.id).where(sql(shape)))


def ids_first(condition: Condition) -> Condition:
    """`condition` asked for the ids of the people it finds first, then their rows by
    id: SQLite plans a condition on the name keys alone through an index that holds
    them all (`ix_person_name_keys`: surname key, forename key, date of birth), each
    index entry checked before any row is read. Asked for a candidate's columns, it
    took the narrower (surname key, date of birth) index and read the row of every
    person with one of the surname keys to check the forename key: the slips stage's
    pairs of a hundred keys a side read tens of thousands of rows (50 ms; "aliosn
    frecnh"). A part of this shape reads at most its limit of ids (`_part_sql`)."""
    return Condition((_ids_first_sql, condition.shape), condition.params, condition.order)


def _part_sql(number: int, shape: tuple, order: tuple | None) -> Select[Any]:
    """Part `number` of a statement: the candidates `shape` finds, at most `limit_<n>`,
    the first by `order` (descending) when it has one."""
    limit = bindparam(f"limit_{number}", type_=Integer)
    if shape[0] is _ids_first_sql and order is None:
        # At most the part's limit of ids, then their rows (`ids_first`).
        found = Person.id.in_(select(Person.id).where(sql(shape[1])).limit(limit))
    else:
        found = sql(shape)
    statement: Select[Any] = select(  # type: ignore[assignment]
        *CANDIDATE_COLUMNS, literal_column(str(number)).label("part")
    ).where(found)
    if order is not None:
        statement = statement.order_by(sql(order).desc(), Person.id)
    return statement.limit(limit)


@lru_cache(maxsize=512)
def _union_sql(shapes: tuple[tuple[tuple, tuple | None], ...]):
    """The statement asking each (shape, order) in turn, part n at most `limit_<n>`
    rows, with a `part` column to put the rows back in order."""
    statements = [_part_sql(number, shape, order) for number, (shape, order) in enumerate(shapes)]
    if len(statements) == 1:
        return statements[0]
    # Each part its own subquery (SQLite allows no LIMIT inside a UNION), read back by
    # the columns' names. No ORDER BY: the parts are put in order by `_collect` (a stable
    # sort of a few hundred rows), where the database would sort each part and merge them.
    return union_all(*(select(*_UNION_COLUMNS).select_from(s.subquery()) for s in statements))


@dataclass(frozen=True, slots=True)
class CandidateGroup:
    """The parts of one candidate stage; `more`: how many it may add past those found
    before it (None: up to the limit). `apart`: its parts find nobody the groups before
    it in the same statement find (another filter set: people with no date of birth
    recorded after those born in the range asked), so only those found before the
    statement can come again, and its parts read no more rows than that and `more`."""

    parts: list[Condition]
    more: int | None = None
    apart: bool = False
    # Its parts leave out everyone found before the statement (`PersonSearch.none_of`):
    # they read only its room past what the groups before it may add.
    fresh: bool = False


class PersonSearch(Protocol):
    """What the search service asks of a backend: conditions (one per way of finding a
    person, each on its own index; opaque to the caller) and `collect`, which asks a
    list of groups of them in one statement. The service decides which to ask, in what
    order and when to stop (controlroom.services.person_search); the backend decides
    how each is written for its dialect."""

    def names(
        self,
        key_lists: Sequence[Sequence[str]],
        *,
        aliases: bool = True,
        name: str = "name_keys",
        first: int = 0,
    ) -> list[Condition]: ...

    def prefixes(self, prefixes: Sequence[str], name: str) -> list[Condition]: ...

    def later_parts(self, prefixes: Sequence[str]) -> list[Condition]: ...

    def first_letters(self, prefixes: Sequence[str]) -> list[Condition]: ...

    def near_text(self, term: NameTerm, name: str) -> list[Condition]: ...

    def initial(self, term: NameTerm, name: str) -> Condition: ...

    def gap_pairs(self, first: NameTerm, second: NameTerm) -> Condition: ...

    def key_pairs(self, first: Sequence[str], second: Sequence[str], name: str) -> Condition: ...

    def likeliest_key_pairs(
        self, first: Sequence[str], second: Sequence[str], words: Sequence[str], name: str
    ) -> list[Condition]: ...

    def any_key(self, keys: Sequence[str], name: str) -> Condition: ...

    def likeliest_any_key(self, keys: Sequence[str], word: str, name: str) -> list[Condition]: ...

    def other_word(self, keys: Sequence[str], word: str, keyed: str, name: str) -> Condition: ...

    def start_pairs(self, first: str, second: str, name: str) -> list[Condition]: ...

    def other_start(self, start: str, word: str, keyed: str, name: str) -> Condition: ...

    def namesakes(self, names: Sequence[tuple[str, str]]) -> Condition: ...

    def surnames(self) -> list[str]: ...

    def forenames_with(self, surnames: Sequence[str]) -> list[tuple[str, str]]: ...

    def born(self, criteria: PersonCriteria) -> Condition | None: ...

    def born_on(self, dates: Sequence[date]) -> Condition: ...

    def no_date_of_birth(self) -> Condition: ...

    def none_of(self, person_ids: Sequence[int]) -> Condition: ...

    def at_address(self, criteria: PersonCriteria) -> Condition | None: ...

    def within(self, filters: Sequence[Condition], condition: Condition) -> Condition: ...

    def collect(
        self, found: dict[int, Candidate], groups: Sequence[CandidateGroup], limit: int
    ) -> list[int]: ...

    def aliases(self, person_ids: Iterable[int]) -> dict[int, list[Row]]: ...

    def hit_details(self, person_ids: Iterable[int], today: date) -> dict[int, HitDetails]: ...


class _IndexedSearch:
    """What both backends share: candidates by phonetic key, prefix, date and address."""

    # List parameters as arrays (`_one_of`): PostgreSQL's.
    arrays = False

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- per dialect --------------------------------------------------------------------

    def prefixes(self, prefixes: Sequence[str], name: str) -> list[Condition]:
        """For every word, a name or alias part starts with it (full text); its values
        in parameters named from `name`."""
        raise NotImplementedError

    def near_text(self, term: NameTerm, name: str) -> list[Condition]:
        """A name or alias is near the word (a typo)."""
        raise NotImplementedError

    def later_parts(self, prefixes: Sequence[str]) -> list[Condition]:
        """Every word but the last starts a name, the last one a later part of one, where
        `_prefixes` (asked first) does not already look."""
        return []

    def first_letters(self, prefixes: Sequence[str]) -> list[Condition]:
        """Every word's first letters start a name (part)."""
        return self.prefixes(prefixes, "letters")

    def _postcode(self, postcode: str) -> tuple[str, dict]:
        """How to ask for this postcode (a POSTCODE_ kind) and its parameters: at the
        postcode, or in this outward code ("LS6 ")."""
        if postcode.endswith(" "):
            return POSTCODE_LIKE, {"postcode_like": like_pattern(postcode)}
        return POSTCODE_EXACT, {"postcode": postcode}

    def initial(self, term: NameTerm, name: str) -> Condition:
        """The person's names start with the word's first letter, or (a word of
        START_LETTERS or more) go on with its first letters after one of their own, or
        with its letters after the first after another first letter, or start with its
        first letters with the first two swapped (`_initial_sql`)."""
        word = term.prefix
        params = {name: word[:1]}
        dropped = len(word) >= START_LETTERS
        if dropped:
            params[f"{name}_rest"] = word[:START_LETTERS]
            params[f"{name}_after"] = word[1 : 1 + START_LETTERS]
            params[f"{name}_swap"] = (word[1] + word[0] + word[2:])[:START_LETTERS]
        return Condition((_initial_sql, name, dropped), params)

    def no_date_of_birth(self) -> Condition:
        """No date of birth recorded."""
        return Condition((_no_date_of_birth,), {})

    def none_of(self, person_ids: Sequence[int]) -> Condition:
        """None of `person_ids` (those found already, left out of a group `fresh`)."""
        return Condition(
            (_none_of_sql, self.arrays), {"found_ids": listed(person_ids, self.arrays)}
        )

    def within(self, filters: Sequence[Condition], condition: Condition) -> Condition:
        """One part's condition: `condition` within `filters` (dates, address)."""
        return all_of([*filters, condition])

    # --- candidates ----------------------------------------------------------------------

    def _rows(self, statement, params=None):
        """Rows of a Core statement on the session's connection (no ORM on the way)."""
        return self.session.connection().execute(statement, params or {})

    def names(
        self,
        key_lists: Sequence[Sequence[str]],
        *,
        aliases: bool = True,
        name: str = "name_keys",
        first: int = 0,
    ) -> list[Condition]:
        """Every word matched by its phonetic keys, on the person or (unless `aliases` is
        False) an alias; the keys in the parameters `<name>_<n>`, n counted from `first`.

        Alternatives, each asked on its own: an OR across them would hide the indexes
        (PostgreSQL cannot bitmap-OR a subquery, and reads every person instead)."""
        keys = [list(k) for k in key_lists if k]
        if not keys:
            return []
        params = {f"{name}_{first + n}": k for n, k in enumerate(keys)}
        conditions = [Condition((_keyed_template, Person, len(keys), False, name, first), params)]
        if aliases:
            conditions.append(
                Condition((_alias_keyed_template, len(keys), False, name, first), params)
            )
        return conditions

    def namesakes(self, names: Sequence[tuple[str, str]]) -> Condition:
        """Everyone whose (forename, surname) is, as stored, one of `names`."""
        params: dict[str, object] = {}
        for n, (forename, surname) in enumerate(names):
            params[f"namesake_forename_{n}"] = forename
            params[f"namesake_surname_{n}"] = surname
        return Condition((_namesakes_sql, len(names)), params)

    def born(self, criteria: PersonCriteria) -> Condition | None:
        exact = bool(criteria.dates_of_birth)
        between = criteria.born_from is not None and criteria.born_to is not None
        if not exact and not between:
            return None
        params: dict = {}
        if exact:
            params["dates"] = list(criteria.dates_of_birth)
        if between:
            params.update(born_from=criteria.born_from, born_to=criteria.born_to)
        return Condition((_dates_sql, exact, between), params)

    def born_on(self, dates: Sequence[date]) -> Condition:
        """Born on one of `dates` (everyone born then, whatever their name)."""
        return Condition((_dates_sql, True, False), {"dates": list(dates)})

    def gap_pairs(self, first: NameTerm, second: NameTerm) -> Condition:
        """One word the forename and the other the surname, one by its letter-left-out
        keys (`_gap_pairs`)."""
        return _gap_pairs(first, second, self.arrays)

    def key_pairs(self, first: Sequence[str], second: Sequence[str], name: str) -> Condition:
        """One word the forename and the other the surname, either way round, the first
        by one of the keys `first`, the other by one of `second` (`_key_pairs_template`)."""

        return Condition(
            (_key_pairs_template, name, self.arrays),
            {f"{name}_0": listed(first, self.arrays), f"{name}_1": listed(second, self.arrays)},
        )

    def likeliest_key_pairs(
        self, first: Sequence[str], second: Sequence[str], words: Sequence[str], name: str
    ) -> list[Condition]:
        """`key_pairs`, each way round a condition of its own, read the likeliest first
        by how alike the forename and the surname are to the two `words` (the first
        word's and the second's letters, `_likeness_sql`): with every key one slip from
        each word, the pairs find hundreds, and the index's order kept the first
        hundred whatever their names ("kmaria imah" found a hundred others and no
        Maria Miah)."""
        params: dict[str, object] = {
            f"{name}_0": listed(first, self.arrays),
            f"{name}_1": listed(second, self.arrays),
        }
        shapes = []
        for n, word in enumerate(words):
            more, letters, pairs = _likeness_params(word, f"{name}_word_{n}")
            params.update(more)
            shapes.append((f"{name}_word_{n}", letters, pairs))
        return [
            Condition(
                (_key_pair_template, name, self.arrays, surname, forename),
                params,
                (_two_likeness_sql, shapes[forename], shapes[surname]),
            )
            for forename, surname in ((0, 1), (1, 0))
        ]

    def any_key(self, keys: Sequence[str], name: str) -> Condition:
        """The person's forename or surname (whole, first or last part) has one of
        `keys`: many keys (a word's one-slip spellings) in one list parameter."""
        return Condition((_any_key_template, name, self.arrays), {name: listed(keys, self.arrays)})

    def likeliest_any_key(self, keys: Sequence[str], word: str, name: str) -> list[Condition]:
        """`any_key` as two conditions, the forename by `keys` and the surname by them,
        each read the likeliest first by how alike that name is to `word`
        (`_likeness_sql`): within a range of years a lone word's one-slip keys find
        hundreds, and the index's order kept the first hundred whatever their names
        ("brue 1955-1959": the key BR, Browns and Brewers, and no Bruce)."""
        params, letters, pairs = _likeness_params(word, name)
        params[name] = listed(keys, self.arrays)
        return [
            Condition(
                (_one_name_keyed_sql, keyed, name, self.arrays),
                params,
                (_likeness_sql, keyed, name, letters, pairs),
            )
            for keyed in ("forename", "surname")
        ]

    def other_word(self, keys: Sequence[str], word: str, keyed: str, name: str) -> Condition:
        """The person's `keyed` name ("forename" or "surname") has one of `keys`, the
        likeliest first by how alike their other name is to `word` (`_likeness_sql`):
        for a word whose slips left it no key and no start a lookup could use
        ("ojgnson" for Johnson), found by the other word it came with."""
        params, letters, pairs = _likeness_params(word, name)
        params[f"{name}_keys"] = listed(keys, self.arrays)
        return Condition(
            (_other_word_sql, keyed, name, self.arrays),
            params,
            (_likeness_sql, OTHER_NAME[keyed], name, letters, pairs),
        )

    def started(self, keyed: str, start: str, name: str) -> Condition:
        """The person's `keyed` name ("forename" or "surname") starts with `start`
        (START_LETTERS letters), through an index."""
        raise NotImplementedError

    def other_start(self, start: str, word: str, keyed: str, name: str) -> Condition:
        """The person's `keyed` name starts with `start` (a word's first letters), the
        likeliest first by how alike their other name is to `word` (`other_word`, for
        a word found by its start rather than its keys)."""
        found = self.started(keyed, start, name)
        params, letters, pairs = _likeness_params(word, name)
        return Condition(
            found.shape,
            {**found.params, **params},
            (_likeness_sql, OTHER_NAME[keyed], name, letters, pairs),
        )

    def start_pairs(self, first: str, second: str, name: str) -> list[Condition]:
        """One word's first two letters start the forename and the other's the surname,
        either way round (one part each), the likeliest first by how alike both names
        are to the words (`_likeness_sql`): for two words each with two slips past
        their first two letters, neither with a key one slip away
        ("chgistophher rihcadrs"). Each part seeks the (surname start, forename start)
        index of 0011 by every three-letter start the two letters begin."""
        words = (first, second)
        params: dict[str, object] = {}
        shapes = []
        for n, word in enumerate(words):
            more, letters, pairs = _likeness_params(word, f"{name}_{n}")
            params.update(more)
            params[f"{name}_{n}_starts"] = [word[:2], *(word[:2] + c for c in START_FOLLOWS)]
            shapes.append((letters, pairs))
        conditions = []
        for fore, sur in ((0, 1), (1, 0)):
            conditions.append(
                Condition(
                    (_start_pair_sql, f"{name}_{fore}_starts", f"{name}_{sur}_starts", self.arrays),
                    params,
                    (
                        _two_likeness_sql,
                        (f"{name}_{fore}", *shapes[fore]),
                        (f"{name}_{sur}", *shapes[sur]),
                    ),
                )
            )
        return conditions

    def at_address(self, criteria: PersonCriteria) -> Condition | None:
        """People ever at the address asked. With address words, the people are read
        here, in one statement driven from the places (`_address_people_sql`), and the
        condition is their ids: each stage asked the words again in its own subquery,
        and SQLite walked every person's addresses for each (a surname and a street,
        "rogers priory avenue", took 40 s on a million persons)."""
        if not criteria.postcode_prefix and not criteria.address_words:
            return None
        kind: str | None = None
        params: dict[str, object] = {}
        if criteria.postcode_prefix:
            kind, params = self._postcode(criteria.postcode_prefix)
        for n, word in enumerate(criteria.address_words):
            params[f"address_word_{n}"] = like_pattern(word, before="%")
        if not criteria.address_words:
            return Condition((_address_sql, kind, 0), params)
        people = self.session.scalars(
            sql((_address_people_sql, kind, len(criteria.address_words))), params
        ).all()
        return Condition(
            (_people_in_sql, self.arrays), {"address_people": listed(people, self.arrays)}
        )

    def collect(
        self, found: dict[int, Candidate], groups: Sequence[CandidateGroup], limit: int
    ) -> list[int]:
        """Add to `found` (in place) the people each group's parts find, group after group
        and part after part, in one statement: a UNION ALL of the parts, each on its own
        index, with a `part` column to keep them in order. A group with `more` adds at
        most that many to what was found before it; one without fills up to `limit`.

        Those found already may come again (cheaper than listing them to leave out): each
        part asks for as many rows as could be wanted, the new ones are kept; a group
        `apart` from those before it meets again only those found before the statement.
        Returns how many each group added."""
        added = [0] * len(groups)
        shapes: list[tuple[tuple, tuple | None]] = []
        group_of: list[int] = []
        params: dict = {}
        bound = len(found)  # at most this many found before the group (for its LIMIT)
        for number, group in enumerate(groups):
            if not group.parts:
                continue
            if group.more is None:
                if len(found) >= limit:
                    continue
                wanted = limit
            else:
                # Its new rows are among its first `more` past those that may come again:
                # those found before the statement unless its parts leave them out
                # (`fresh`), and those the groups before it add unless it is `apart`
                # (on a million persons, "brue 1955-1959" read 200 people with no date
                # recorded to keep 100).
                wanted = (
                    (0 if group.fresh else len(found))
                    + (0 if group.apart else bound - len(found))
                    + group.more
                )
            bound = max(bound, limit if group.more is None else bound + group.more)
            for part in group.parts:
                for name, value in part.params.items():
                    # Parts of one statement share its parameters: one name, one value.
                    if params.setdefault(name, value) != value:
                        raise AssertionError(f"two values for the parameter {name!r}")
                params[f"limit_{len(shapes)}"] = wanted
                shapes.append((part.shape, part.order))
                group_of.append(number)
        if not shapes:
            return added
        current, cap = None, limit
        # All rows at once (the driver's fetchall), then in part order.
        rows = self._rows(_union_sql(tuple(shapes)), params).all()
        # By position: a row's fields by name cost ten times a tuple's (`Candidate`).
        for row in sorted(rows, key=itemgetter(_PART)):
            number = group_of[row[_PART]]
            if number != current:
                current, more = number, groups[number].more
                cap = limit if more is None else len(found) + more  # as the group starts
            if len(found) < cap and row[0] not in found:
                found[row[0]] = Candidate._make(row[:_PART])
                added[number] += 1
        return added

    # --- what a hit shows ----------------------------------------------------------------

    def surnames(self) -> list[str]:
        """Every surname the force holds, each once, in order (`_surnames_statement`):
        for words whose slips left no key or start a lookup could use."""
        return [name for (name,) in self.session.execute(_surnames_statement())]

    def forenames_with(self, surnames: Sequence[str]) -> list[tuple[str, str]]:
        """Each (surname, forename) held with one of `surnames`, once: read from the
        (surname, forename) index alone."""
        if not surnames:
            return []
        rows = self.session.execute(_forenames_with_statement(), {"surnames": list(surnames)})
        return [(surname, forename) for surname, forename in rows]

    def aliases(self, person_ids: Iterable[int]) -> dict[int, list[Row]]:
        """Each person's aliases, as rows (person_id, forename, surname, kind)."""
        ids = list(set(person_ids))
        found: dict[int, list[Row]] = {}
        if not ids:
            return found
        for alias in self._rows(_aliases_statement(self.arrays), {"ids": listed(ids, self.arrays)}):
            found.setdefault(alias.person_id, []).append(alias)
        return found

    def hit_details(self, person_ids: Iterable[int], today: date) -> dict[int, HitDetails]:
        """What each hit shows besides its name, for every one of `person_ids`, in one
        statement: warning markers in force on `today` (most severe first), the address on
        `today` (home before other kinds, newest first), the incidents and intelligence
        reports linked to the person or to a record merged into them (each once), and who
        recorded the person (whom to ask about a restricted record).

        One row per person and current marker: the counts correlated subqueries (a
        person's few links, by index: a grouped plan over all the hits' links may go
        parallel on PostgreSQL, and starting workers costs more than the count), the
        address the first of a window over their few addresses: every part an index
        lookup by person id.
        """
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return {}
        rows = self._rows(
            _hit_details_statement(self.arrays), {"ids": listed(ids, self.arrays), "today": today}
        )
        first: dict[int, Row] = {}
        markers: dict[int, list[HitMarker]] = {}
        for row in rows:
            first.setdefault(row.id, row)
            found = markers.setdefault(row.id, [])
            if row.marker_code is not None:
                found.append(
                    HitMarker(
                        row.marker_code, row.marker_label, row.marker_severity, row.marker_note
                    )
                )
        return {
            person_id: HitDetails(
                _address_line(row),
                tuple(markers[person_id]),
                row.incidents or 0,
                row.intelligence or 0,
                row.creator,
            )
            for person_id, row in first.items()
        }


def _address_line(row) -> str | None:
    if row.home_rank is None:
        return None
    return ", ".join(part for part in (row.address, row.town, row.postcode) if part) or None


def _in_force(valid_from, valid_to, today):
    """A dated row in force on `today`: started (or undated) and not yet ended."""
    return and_(
        or_(valid_from.is_(None), valid_from <= today), or_(valid_to.is_(None), valid_to >= today)
    )


@lru_cache(maxsize=1)
def _surnames_statement():
    """Every surname held, each once, in order: a loose scan of the (surname, forename)
    index, one seek for each surname after the one before (a plain DISTINCT reads every
    person's entry: on a million persons 16,000 surnames in 27 ms against 80 ms)."""
    held = select(func.min(Person.surname).label("surname")).cte("held_surname", recursive=True)
    after = (
        select(func.min(Person.surname)).where(Person.surname > held.c.surname).scalar_subquery()
    )
    held = held.union_all(select(after).where(held.c.surname.is_not(None)))
    return select(held.c.surname).where(held.c.surname.is_not(None))


@lru_cache(maxsize=1)
def _forenames_with_statement():
    """Each (surname, forename) held with a surname in the list parameter `surnames`,
    once (the (surname, forename) index covers it)."""
    return (
        select(Person.surname, Person.forename)
        .where(Person.surname.in_(bindparam("surnames", expanding=True)))
        .distinct()
    )


@lru_cache(maxsize=2)
def _aliases_statement(arrays: bool):
    """The aliases of the people in the list parameter `ids` (`_json_or_array_in`: on
    SQLite one JSON parameter, where writing out an IN of the two hundred candidates'
    ids cost SQLAlchemy more than SQLite took to answer), built once."""
    return (
        select(PersonAlias.person_id, PersonAlias.forename, PersonAlias.surname, PersonAlias.kind)
        .where(_json_or_array_in(PersonAlias.person_id, "ids", arrays))
        .order_by(PersonAlias.person_id, PersonAlias.id)
    )


@lru_cache(maxsize=2)
def _hit_details_statement(arrays: bool):
    """The statement behind `hit_details`, built once: the person ids in the list
    parameter `ids` (`_json_or_array_in`), the day in `today`."""

    def listed(column):
        return _json_or_array_in(column, "ids", arrays)

    today = bindparam("today", type_=Date)
    owned = aliased(Person)
    # The person and each record merged into them: a survivor's hit counts what its
    # merged records hold. Two index lookups, by id and by merged_into_id.
    members = union_all(
        select(owned.id).where(owned.id == Person.id).correlate(Person),
        select(owned.id).where(owned.merged_into_id == Person.id).correlate(Person),
    )

    def linked(person_column, linked_column):
        # Counted per person (a correlated subquery: the few links of one person, by
        # index, never a plan over every hit's links at once), each linked row once.
        return (
            select(func.count(func.distinct(linked_column)))
            .where(person_column.in_(members))
            .scalar_subquery()
        )

    homes = (
        select(
            PersonAddress.person_id,
            Location.address,
            Location.town,
            Location.postcode,
            func.row_number()
            .over(
                partition_by=PersonAddress.person_id,
                order_by=(
                    (PersonAddress.kind != "home"),
                    PersonAddress.valid_from.desc(),
                    PersonAddress.id.desc(),
                ),
            )
            .label("home_rank"),
        )
        .join(Location, Location.id == PersonAddress.location_id)
        .where(
            listed(PersonAddress.person_id),
            _in_force(PersonAddress.valid_from, PersonAddress.valid_to, today),
        )
        .subquery("home")
    )
    markers = (
        select(
            WarningMarker.id,
            WarningMarker.person_id,
            WarningMarker.note,
            MarkerType.code,
            MarkerType.label,
            MarkerType.severity,
        )
        .join(MarkerType, MarkerType.code == WarningMarker.marker_code)
        .where(
            listed(WarningMarker.person_id),
            _in_force(WarningMarker.valid_from, WarningMarker.valid_to, today),
        )
        .subquery("marker")
    )
    return (
        select(
            Person.id,
            Staff.display_name.label("creator"),
            linked(IncidentPerson.person_id, IncidentPerson.incident_id).label("incidents"),
            linked(IntelligenceSubject.person_id, IntelligenceSubject.report_id).label(
                "intelligence"
            ),
            homes.c.home_rank,
            homes.c.address,
            homes.c.town,
            homes.c.postcode,
            markers.c.code.label("marker_code"),
            markers.c.label.label("marker_label"),
            markers.c.severity.label("marker_severity"),
            markers.c.note.label("marker_note"),
        )
        .outerjoin(Staff, Staff.id == Person.created_by_id)
        .outerjoin(homes, and_(homes.c.person_id == Person.id, homes.c.home_rank == 1))
        .outerjoin(markers, markers.c.person_id == Person.id)
        .where(listed(Person.id))
        .order_by(Person.id, markers.c.severity, markers.c.code, markers.c.id)
    )


def _fts_person_sql(name: str):
    """People whose names the FTS5 query in parameter `name` matches."""
    return Person.id.in_(
        select(person_name_fts.c.rowid).where(
            person_name_fts.c.person_name_fts.match(bindparam(name))
        )
    )


def _fts_alias_sql(name: str):
    """People with an alias the FTS5 query in parameter `name` matches."""
    return Person.id.in_(
        select(person_alias_name_fts.c.person_id).where(
            person_alias_name_fts.c.person_alias_name_fts.match(bindparam(name))
        )
    )


def _fts_started_sql(keyed: str, name: str):
    """The person's `keyed` name starts with a word: a name token starts with it (the
    FTS5 query in `<name>_fts`), and the name with the LIKE pattern `<name>_like`."""
    return and_(
        _fts_person_sql(f"{name}_fts"), _like(func.lower(_NAME_COLUMNS[keyed]), f"{name}_like")
    )


def _pg_started_sql(keyed: str, name: str):
    """The person's `keyed` name starts with a word: its first letters (`<name>_start`)
    by the expression index of 0011, the whole start by LIKE (`<name>_like`)."""
    column = _NAME_COLUMNS[keyed]
    return and_(
        name_start(column) == bindparam(f"{name}_start"),
        _like(func.lower(column), f"{name}_like"),
    )


def _distributed_sql(filter_shapes: tuple, condition_shape: tuple):
    """`condition` within the filters, the filters given to each term of an OR."""
    filters = [sql(shape) for shape in filter_shapes]
    condition = sql(condition_shape)
    if filters and isinstance(condition, BooleanClauseList) and condition.operator is operators.or_:
        return or_(*(and_(*filters, term) for term in condition.clauses))
    return and_(*filters, condition)


class SqliteSearch(_IndexedSearch):
    """SQLite: FTS5 prefix queries on the name tokens (case and accents folded by the
    tokenizer), for the person's names and for aliases; postcodes as index ranges."""

    def _match(self, phrase: str, name: str) -> list[Condition]:
        params = {name: phrase}
        return [
            Condition((_fts_person_sql, name), params),
            Condition((_fts_alias_sql, name), params),
        ]

    def prefixes(self, prefixes: Sequence[str], name: str) -> list[Condition]:
        # One FTS5 query, every word a prefix of some token of the same row.
        return self._match(" AND ".join(fts_phrase(p) for p in prefixes), name)

    def near_text(self, term: NameTerm, name: str) -> list[Condition]:
        return self._match(fts_phrase(term.prefix[:FUZZY_PREFIX]), name)

    def started(self, keyed: str, start: str, name: str) -> Condition:
        # The start of any name token by full text, then the name itself confirmed.
        return Condition(
            (_fts_started_sql, keyed, name),
            {f"{name}_fts": fts_phrase(start), f"{name}_like": like_pattern(start)},
        )

    def first_letters(self, prefixes: Sequence[str]) -> list[Condition]:
        # Two words' first letters through the (surname start, forename start, date of
        # birth) expression index of 0011, where FTS5 would intersect the lists of every
        # "chr" and every "rob" token; one word (or two alike) by full text.
        if two_starts(prefixes):
            return [either_way(*prefixes, name="letters")]
        return super().first_letters(prefixes)

    def key_pairs(self, first: Sequence[str], second: Sequence[str], name: str) -> Condition:
        # The keys alone, through the index that holds both (`ids_first`).
        return ids_first(super().key_pairs(first, second, name))

    def likeliest_key_pairs(
        self, first: Sequence[str], second: Sequence[str], words: Sequence[str], name: str
    ) -> list[Condition]:
        # The same: the ids the keys find first, then only their rows, for the order.
        # Asked for the columns the order reads, SQLite read the row of everyone with
        # one of a hundred surname keys ("mairon wallae": 220 ms on a million persons).
        return [
            ids_first(condition)
            for condition in super().likeliest_key_pairs(first, second, words, name)
        ]

    def within(self, filters: Sequence[Condition], condition: Condition) -> Condition:
        if filters and condition.shape[0] is _ids_first_sql:
            # The filters inside, with the keys: the ids read are the ones that count.
            inner = self.within(filters, Condition(condition.shape[1], condition.params))
            return ids_first(Condition(inner.shape, inner.params, condition.order))
        # SQLite reads an OR of keys through one index per term (MULTI-INDEX OR) using
        # only that term's own constraints: "born 1977-1981 AND (forename key = k OR
        # surname key = k ...)" would read every Sanders ever to keep those born then.
        # Each term given the filters as well, the (key, date of birth) indexes serve
        # key and range together.
        if not filters:
            return condition
        return Condition(
            (_distributed_sql, tuple(f.shape for f in filters), condition.shape),
            _params_of((*filters, condition)),
            condition.order,
        )

    def _postcode(self, postcode: str) -> tuple[str, dict]:
        # SQLite's LIKE folds case, so it cannot use the (binary) postcode index: a range
        # can. Stored postcodes are normalised upper case, as the query's are.
        if postcode.endswith(" "):
            return POSTCODE_RANGE, {"postcode_from": postcode, "postcode_to": postcode + "\uffff"}
        return POSTCODE_EXACT, {"postcode": postcode}


def name_start(column, letters: int = START_LETTERS):
    """The first `letters` letters of a name, lower case. With three, the expression
    migration 0011 indexes on PostgreSQL, with the date of birth second
    (`ix_person_forename_start_born`, `ix_person_surname_start_born`), so letters and a
    range of dates are one lookup. Literals, not parameters, or the planner could not
    match the index."""
    return func.lower(func.substr(column, literal_column("1"), literal_column(str(letters))))


def _starts_params(words: Sequence[str], name: str) -> dict:
    """Each word's first letters (`<name>_start_<n>`) and the LIKE pattern of its whole
    start (`<name>_like_<n>`), as `_either_way_sql` and `_pg_words_sql` ask them."""
    params = {}
    for n, word in enumerate(words):
        params[f"{name}_start_{n}"] = word[:START_LETTERS]
        params[f"{name}_like_{n}"] = like_pattern(word)
    return params


def _named(name: str, forename: int, surname: int):
    """The forename starts with word `forename` and the surname with word `surname`
    (`_starts_params`): one lookup in the (surname start, forename start, date of birth)
    index of 0011."""
    return and_(
        name_start(Person.surname) == bindparam(f"{name}_start_{surname}"),
        name_start(Person.forename) == bindparam(f"{name}_start_{forename}"),
        _like(func.lower(Person.surname), f"{name}_like_{surname}"),
        _like(func.lower(Person.forename), f"{name}_like_{forename}"),
    )


def _either_way_sql(name: str):
    return or_(_named(name, 0, 1), _named(name, 1, 0))


def either_way(first: str, second: str, *, name: str) -> Condition:
    """One word starts the forename and the other the surname, either way round."""
    return Condition((_either_way_sql, name), _starts_params((first, second), name))


def two_starts(prefixes: Sequence[str]) -> bool:
    """Two words of at least START_LETTERS that start differently: `either_way` can
    ask for them (alike, "each starts either name" is the same thing)."""
    return (
        len(prefixes) == 2
        and all(len(p) >= START_LETTERS for p in prefixes)
        and prefixes[0][:START_LETTERS] != prefixes[1][:START_LETTERS]
    )


def _pg_starts(name: str, n: int, indexed: bool):
    """The person's forename or surname starts with word `n` (`_starts_params`):
    through the expression indexes (lower(), not ILIKE, to confirm the whole start, so
    the planner cannot trade them for a slower trigram scan) when the word has
    START_LETTERS or more (`indexed`), by ILIKE otherwise."""
    like = f"{name}_like_{n}"
    if not indexed:
        return or_(_ilike(Person.forename, like), _ilike(Person.surname, like))
    start: BindParameter[str] = bindparam(f"{name}_start_{n}")
    return and_(
        or_(name_start(Person.forename) == start, name_start(Person.surname) == start),
        or_(_like(func.lower(Person.forename), like), _like(func.lower(Person.surname), like)),
    )


def _pg_words_sql(name: str, indexed: tuple[bool, ...], later: bool):
    """Every word starts the forename or surname (`_pg_starts`); with `later`, the last
    word instead starts a later part of one ("whit": "Hughes-Whitfield"), as FTS5 finds
    any token on SQLite: by trigram, slower (`<name>_space`, `<name>_hyphen`)."""
    conditions = [_pg_starts(name, n, flag) for n, flag in enumerate(indexed)]
    if later:
        conditions.append(
            or_(
                *(
                    _ilike(column, f"{name}_{joint}")
                    for column in (Person.forename, Person.surname)
                    for joint in ("space", "hyphen")
                )
            )
        )
    return and_(*conditions)


def _pg_similar_sql(name: str):
    """The person's forename or surname is near the word in parameter `name` (pg_trgm's
    similarity operator, threshold pg_trgm.similarity_threshold, 0.3)."""
    return or_(*(column.op("%")(bindparam(name)) for column in (Person.forename, Person.surname)))


def _pg_similar_alias_sql(name: str):
    return Person.id.in_(
        select(PersonAlias.person_id).where(
            or_(
                *(
                    column.op("%")(bindparam(name))
                    for column in (PersonAlias.forename, PersonAlias.surname)
                )
            )
        )
    )


class PostgresSearch(_IndexedSearch):
    """PostgreSQL: names by their first three letters through the expression indexes of
    0011, confirmed by LIKE on lower() (which folds case for every letter, not only
    ASCII); later parts of a name and near spellings through the pg_trgm GIN indexes."""

    arrays = True

    def _words(self, words: Sequence[str], name: str, later: bool = False) -> Condition:
        params = _starts_params(words, name)
        if later:
            params[f"{name}_space"] = like_pattern(words[-1], before="% ")
            params[f"{name}_hyphen"] = like_pattern(words[-1], before="%-")
            words = words[:-1]
        return Condition(
            (_pg_words_sql, name, tuple(len(w) >= START_LETTERS for w in words), later), params
        )

    def prefixes(self, prefixes: Sequence[str], name: str) -> list[Condition]:
        # The person's own names: aliases have no expression index (a trigram ILIKE on
        # them costs more than the rest of a search); an alias is found by its keys.
        if two_starts(prefixes):
            # Two words starting differently: one starts the forename and the other the
            # surname, either way round ("chr rob", "rob chr"). Written as the two pairs,
            # each an index lookup, where "each starts either name" would AND two bitmaps
            # of every Chris and every Robinson.
            return [either_way(*prefixes, name=name)]
        return [self._words(prefixes, name)]

    def started(self, keyed: str, start: str, name: str) -> Condition:
        # The expression index of the name's first letters (0011), confirmed by LIKE.
        return Condition(
            (_pg_started_sql, keyed, name),
            {f"{name}_start": start[:START_LETTERS], f"{name}_like": like_pattern(start)},
        )

    def later_parts(self, prefixes: Sequence[str]) -> list[Condition]:
        # Only the last word (the one being typed) may start a later part. Asked only
        # after `_prefixes` found few (none cut): those starting a name are in already,
        # and asking for them again would read everyone whose name starts so.
        return [self._words(prefixes, "later", later=True)]

    def no_date_of_birth(self) -> Condition:
        # PostgreSQL keeps statistics: a plain IS NULL lets the (key, date of birth)
        # indexes find the few people with no date recorded, where the SQLite form would
        # read everyone with the name to find them.
        return Condition((_date_of_birth_null,), {})

    def near_text(self, term: NameTerm, name: str) -> list[Condition]:
        params = {name: term.prefix}
        return [
            Condition((_pg_similar_sql, name), params),
            Condition((_pg_similar_alias_sql, name), params),
        ]


def search_backend(session: Session) -> PersonSearch:
    """The person-search backend for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return PostgresSearch(session)
    return SqliteSearch(session)
