"""Person search on the small synthetic force, on the backend under test: every spelling
variant the issue names finds the intended person in the top five, hits carry markers
(fuzzy ones too), restricted records show only that they exist, hostile query text is
just text, and every search is audited.

The intended people are looked up in the seeded data by how they are stored (never by
hard-coded ids), then searched for as a caller would say them. The seeded database is
shared by the module: searching writes only audit rows, which the audit test counts
relative to what was there before.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import and_, func, select

from controlroom.data.cold_models import Person, PersonAlias
from controlroom.data.models import AuditEvent
from controlroom.domain.identity import Actor
from controlroom.domain.phonetics import transposed
from controlroom.domain.roles import Role
from controlroom.services import persons
from controlroom.services.markers import current_markers
from controlroom.services.person_search import search_persons
from tests.databases import SEED_ANCHOR
from tests.factories import add_person, staff_actor

TODAY = SEED_ANCHOR.date()
TOP = 5


@pytest.fixture(scope="module")
def operator(force) -> Actor:
    return staff_actor(force, Role.SUPERVISOR, terminal="192.0.2.44")


def stored(
    force, *, forename: str | None = None, surname: str | None = None, restricted: bool = False
) -> Person:
    """The first person (by id) stored with exactly these spellings."""
    with force.uow() as uow:
        statement = select(Person).where(Person.restricted.is_(restricted))
        if forename is not None:
            statement = statement.where(Person.forename == forename)
        if surname is not None:
            statement = statement.where(Person.surname == surname)
        person = uow.session.scalars(statement.order_by(Person.id).limit(1)).one()
        uow.session.expunge(person)
        return person


def top_ids(force, operator, query: str) -> list[int]:
    return [
        hit.person_id for hit in search_persons(force.uow(), operator, query, today=TODAY)[:TOP]
    ]


# (how the record spells it, how the caller says it), forenames then surnames.
FORENAME_VARIANTS = [
    ("Muhammad", "Mohammed"),
    ("Mohamed", "Muhammad"),
    ("Mohammed", "Mohamed"),
    ("Kathryn", "Catherine"),
    ("Catherine", "Kathryn"),
    ("Jon", "John"),
    ("Zoë", "Zoe"),
    ("Zoe", "Zoë"),
]
SURNAME_VARIANTS = [
    ("McDonald", "Macdonald"),
    ("Macdonald", "Mc Donald"),
    ("Mc Donald", "McDonald"),
    ("Smyth", "Smith"),
    ("Smith", "Smyth"),
    ("O'Brien", "OBrien"),
    ("OBrien", "O'Brien"),
    ("Hughes-Whitfield", "Whitfield"),
    ("Hughes-Whitfield", "Hughes"),
    ("Hughes-Whitfield", "Hughes Whitfield"),
]


@pytest.mark.parametrize(("stored_as", "said"), FORENAME_VARIANTS)
def test_a_forename_spelled_another_way_finds_the_person(force, operator, stored_as, said):
    person = stored(force, forename=stored_as)
    assert person.id in top_ids(force, operator, f"{said} {person.surname}")


@pytest.mark.parametrize(("stored_as", "said"), SURNAME_VARIANTS)
def test_a_surname_spelled_another_way_finds_the_person(force, operator, stored_as, said):
    person = stored(force, surname=stored_as)
    assert person.id in top_ids(force, operator, f"{person.forename} {said}")


def swapped(name: str) -> str:
    """`name` with its second and third letters swapped: a keying slip."""
    return name[0] + name[2] + name[1] + name[3:]


def test_a_slip_in_a_short_surname_alone_finds_that_surname(force, operator):
    # Two letters swapped in a five-letter surname: its phonetic key (SMT, not SM0) and
    # its prefix both miss; the key of its near spelling "smith" finds it.
    hits = search_persons(force.uow(), operator, "smiht", today=TODAY, limit=10)
    named = [h for h in hits if not h.restricted]
    assert named and all(h.surname == "Smith" for h in named)
    assert {h.match for h in hits} == {"fuzzy"}


def test_slips_in_both_names_find_the_person(force, operator):
    with force.uow() as uow:
        person = uow.session.scalars(
            select(Person)
            .where(
                Person.surname == "Smith",
                Person.restricted.is_(False),
                func.length(Person.forename) >= 5,
            )
            .order_by(Person.id)
            .limit(1)
        ).one()
        person_id, query = person.id, f"{swapped(person.forename)} {swapped(person.surname)}"
    assert person_id in top_ids(force, operator, query.lower())


def test_a_letter_left_out_early_in_the_forename_finds_the_person(force, operator):
    # "Faima Burrows" for Fatima Burrows: the forename's key (FM, not FTM), its near
    # spellings and its first letters ("fai") all miss; the fallback takes the surname
    # by its key and keeps those whose forename starts with the same letter.
    fore_initial = func.lower(func.substr(Person.forename, 1, 1))
    with force.uow() as uow:
        lone = (
            select(Person.surname, fore_initial.label("initial"))
            .where(Person.merged_into_id.is_(None))
            .group_by(Person.surname, fore_initial)
            .having(func.count() == 1)
            .subquery()
        )
        person = uow.session.scalars(
            select(Person)
            .join(lone, and_(lone.c.surname == Person.surname, lone.c.initial == fore_initial))
            .where(
                Person.restricted.is_(False),
                func.length(Person.forename) >= 6,
                Person.merged_into_id.is_(None),
            )
            .order_by(Person.id)
            .limit(1)
        ).one()
        person_id, forename, surname = person.id, person.forename, person.surname
    said = forename[:2] + forename[3:]
    hits = search_persons(force.uow(), operator, f"{said} {surname}", today=TODAY)
    assert person_id in [hit.person_id for hit in hits[:TOP]]
    assert next(h for h in hits if h.person_id == person_id).match == "fuzzy"


def test_a_consonant_left_out_early_in_the_surname_finds_the_person(force, operator):
    # "Julia Sevens" for Julia Stevens: the surname's key (SFNS, not STFNS) and first
    # letters ("sev") miss; its spellings with one letter more include the right one.
    with force.uow() as uow:
        people = uow.session.scalars(
            select(Person)
            .where(
                Person.restricted.is_(False),
                Person.merged_into_id.is_(None),
                func.length(Person.surname) >= 6,
            )
            .order_by(Person.id)
            .limit(400)
        ).all()
        person = next(
            p
            for p in people
            if p.surname.isalpha()
            and p.surname[1].lower() in "bcdfghjklmnpqrstvwxz"
            and p.surname[2].lower() in "aeiou"
        )
        person_id, forename, surname = person.id, person.forename, person.surname
    said = surname[:1] + surname[2:]
    hits = search_persons(force.uow(), operator, f"{forename} {said}", today=TODAY)
    assert person_id in [hit.person_id for hit in hits[:TOP]], (forename, said)


def test_a_first_letter_left_out_finds_the_person(database):
    # "ohn smith" for John Smith: the word's key, near spellings and first letters all
    # start wrong, and other people match them (Sam O'Neill: "ohn" sounds like O'Neill,
    # "smith" nearly like Sam), whom the ranking keeps none of; the last resort then
    # takes the surname by its key and keeps those whose forename goes on with the word
    # after its first letter.
    john = add_person(database, "John", "Smith", date_of_birth=date(1980, 1, 2))
    add_person(database, "Sam", "O'Neill", date_of_birth=date(1981, 3, 4))
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, "ohn smith", today=TODAY)
    assert [(hit.person_id, hit.match) for hit in hits] == [(john, "fuzzy")]


@pytest.mark.parametrize("surname", ["Hill", "Green", "Lane"])
def test_a_surname_that_is_also_a_street_word_is_a_name(database, surname):
    # "michael hill" once read as a street (a word before "hill") and found nobody.
    person = add_person(database, "Michael", surname, date_of_birth=date(1969, 9, 6))
    operator = staff_actor(database, Role.SUPERVISOR)
    for query in (f"michael {surname.lower()}", f"Michael {surname.upper()} 06/09/1969"):
        hits = search_persons(database.uow(), operator, query, today=TODAY)
        assert person in [hit.person_id for hit in hits[:TOP]], query


def test_a_typo_and_a_partial_part_find_the_person_through_full_text(force, operator):
    person = stored(force, surname="Hughes-Whitfield")
    assert person.id in top_ids(force, operator, f"{person.forename} whit")
    mistyped = stored(force, surname="Macdonald")
    typo = "Macdolnad"  # two letters swapped: no phonetic key, no prefix reaches it
    hits = search_persons(force.uow(), operator, f"{mistyped.forename} {typo}", today=TODAY)
    hit = next(h for h in hits[:TOP] if h.person_id == mistyped.id)
    assert hit.match == "fuzzy"
    # Alone, only the near-spelling stage (FTS5 first letters / pg_trgm similarity) can
    # reach it.
    alone = search_persons(force.uow(), operator, typo, today=TODAY, limit=50)
    assert mistyped.id in [h.person_id for h in alone]
    assert {h.match for h in alone} == {"fuzzy"}


def test_full_text_follows_new_and_renamed_people(force, operator):
    created = persons.create_person(
        force.uow(),
        operator,
        forename="Ottoline",
        surname="Quarrington-Vesey",
        date_of_birth=None,
        gender=None,
        confirmed_new=True,
        today=date.today(),
    )
    assert [
        h.person_id for h in search_persons(force.uow(), operator, "ottol vese", today=TODAY)
    ] == [created.id]
    with force.uow() as uow:
        uow.persons.get(created.id).surname = "Quarrington-Vasey"
        uow.commit()
    found = search_persons(force.uow(), operator, "ottoline vasey", today=TODAY)
    assert [(h.person_id, h.match) for h in found] == [(created.id, "exact")]


def test_names_in_either_order_find_the_person(force, operator):
    person = stored(force, surname="Smyth")
    assert person.id in top_ids(force, operator, f"{person.surname} {person.forename}")
    assert person.id in top_ids(force, operator, f"smith {person.forename.lower()}")


def test_a_date_of_birth_with_day_and_month_transposed_finds_the_person(force, operator):
    with force.uow() as uow:
        people = uow.session.scalars(
            select(Person)
            .where(
                Person.restricted.is_(False),
                Person.surname == "Smith",
                Person.date_of_birth.is_not(None),
            )
            .order_by(Person.id)
        ).all()
        person = next(p for p in people if transposed(p.date_of_birth) is not None)
        wanted, swapped = person.id, transposed(person.date_of_birth)
    assert wanted in top_ids(force, operator, f"smith {swapped:%d/%m/%Y}")
    assert wanted in top_ids(force, operator, f"{swapped:%d/%m/%Y}")


def test_an_alias_finds_the_person(force, operator):
    with force.uow() as uow:
        alias = uow.session.scalars(
            select(PersonAlias)
            .join(Person, Person.id == PersonAlias.person_id)
            .where(PersonAlias.kind == "alias", Person.restricted.is_(False))
            .order_by(PersonAlias.id)
            .limit(1)
        ).one()
        wanted, name = alias.person_id, f"{alias.forename} {alias.surname}"
    assert wanted in top_ids(force, operator, name)


def test_exact_ranks_above_phonetic_above_fuzzy_and_fuzzy_hits_carry_markers(force, operator):
    hits = search_persons(force.uow(), operator, "smith", today=TODAY, limit=200)
    order = {"exact": 3, "phonetic": 2, "fuzzy": 1}
    ranks = [order[hit.match] for hit in hits]
    assert ranks == sorted(ranks, reverse=True)
    assert {"exact", "phonetic"} <= {hit.match for hit in hits}  # Smith and Smyth
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)

    # A marked person found only by a misspelling (a prefix of the surname) still shows
    # every marker in force, in words.
    with force.uow() as uow:
        marked = {
            pid: found
            for pid, found in current_markers(
                uow,
                uow.session.scalars(
                    select(Person.id).where(
                        Person.restricted.is_(False), func.length(Person.surname) >= 6
                    )
                ),
                TODAY,
            ).items()
            if found
        }
        person = uow.session.get(Person, min(marked))
        wanted, query = person.id, f"{person.forename} {person.surname[:-2]}"
    hit = next(
        h
        for h in search_persons(force.uow(), operator, query, today=TODAY)
        if h.person_id == wanted
    )
    assert hit.match == "fuzzy"
    assert hit.markers == marked[wanted] and hit.markers


def test_a_hit_shows_address_counts_and_date_of_birth(force, operator):
    person = stored(force, surname="Smith")
    hit = next(
        h
        for h in search_persons(force.uow(), operator, f"{person.forename} smith", today=TODAY)
        if h.person_id == person.id
    )
    assert (hit.forename, hit.surname, hit.date_of_birth, hit.restricted) == (
        person.forename,
        "Smith",
        person.date_of_birth,
        False,
    )
    assert hit.incident_count >= 0 and hit.intelligence_count >= 0
    assert hit.match == "exact"


def test_a_restricted_person_is_shown_to_exist_but_not_who_they_are(force, operator):
    person = stored(force, restricted=True)
    hit = next(
        h
        for h in search_persons(
            force.uow(), operator, f"{person.forename} {person.surname}", today=TODAY
        )
        if h.person_id == person.id
    )
    assert hit.restricted
    assert hit.ask and hit.forename == f"RESTRICTED \u2014 ask {hit.ask}"
    assert person.surname not in hit.name and person.forename not in hit.name
    assert (hit.surname, hit.date_of_birth, hit.address, hit.markers) == ("", None, None, ())
    assert hit.why == ()  # why it matched would say what the record holds


@pytest.mark.parametrize(
    "query",
    ["[b]x", "\x1b[2J", "%", "_", "'; --", "smi%", "", "[/]", "\u202esmith", "\x00", "x" * 500],
)
def test_hostile_query_text_is_only_text(force, operator, query):
    hits = search_persons(force.uow(), operator, query, today=TODAY)
    assert isinstance(hits, list)
    if "%" in query or "_" in query:
        assert hits == []  # a wildcard is a character, and nobody's name holds one


def test_date_ranges_ages_and_postcodes_narrow_the_search(force, operator):
    person = stored(force, surname="Smith")
    born = person.date_of_birth
    in_range = top_ids(force, operator, f"{person.forename} smith {born.year - 1}-{born.year + 1}")
    assert person.id in in_range
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    assert person.id in top_ids(force, operator, f"{person.forename} smith ~{age}")
    outside = search_persons(
        force.uow(),
        operator,
        f"{person.forename} smith {born.year - 12}-{born.year - 10}",
        today=TODAY,
    )
    assert person.id not in [h.person_id for h in outside]
    summary = persons.person_markers(force.uow(), operator, person.id, today=date.today())
    if summary.address:
        postcode = summary.address.rsplit(", ", 1)[-1]
        assert person.id in top_ids(force, operator, f"smith {postcode.lower()}")


def test_every_search_is_audited_with_its_query(force, operator):
    def searches():
        with force.uow() as uow:
            return [
                (e.actor, e.terminal, e.object_type, e.detail)
                for e in uow.session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == "person.search")
                    .order_by(AuditEvent.id)
                )
            ]

    before = len(searches())
    hits = search_persons(force.uow(), operator, "muhammad smyth", today=TODAY)
    search_persons(force.uow(), operator, "\x1b[2J", today=TODAY)
    after = searches()
    assert len(after) == before + 2
    first, second = after[-2:]
    assert first == (
        operator.username,
        "192.0.2.44",
        "person",
        "query='muhammad smyth'; shown: " + (",".join(str(h.person_id) for h in hits) or "none"),
    )
    assert second[3].startswith("query='\\x1b[2J'")


def test_find_persons_keeps_its_contract_for_the_entry_form(force, operator):
    person = stored(force, forename="Muhammad")
    found = persons.find_persons(
        force.uow(), operator, f"mohammed {person.surname}", today=date.today()
    )
    assert person.id in [p.id for p in found[:TOP]]
    assert all(isinstance(p, persons.PersonSummary) for p in found)
    assert date(1900, 1, 1) < TODAY
