"""Any two facts a caller gives find the person (issue 20), on the backend under test.

The lines are written by rules of our own (controlroom.domain.search_recall, with the
slips of controlroom.domain.slips), for people drawn from the small synthetic force with
a fixed seed: never the examples the search was tuned on alone. Each row of the promise
is a test: the intended person is in the top five, and first wherever the facts, spelled
as stored, name that person only. A few lines of each row keep the module fast (a search
is a few milliseconds); the benchmark (benchmarks/search.py) measures hundreds.

The examples named in the issue are tests of their own, on a database holding only the
people they mean and their nearest namesakes.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from rapidfuzz import fuzz
from sqlalchemy import and_, event, select

from controlroom.data.cold_models import Person, PersonAddress
from controlroom.data.models import Location
from controlroom.domain.name_variants import FORENAME_FAMILIES, SURNAME_FAMILIES, name_family
from controlroom.domain.person_ranking import PHONETIC_MIN_RATIO
from controlroom.domain.phonetics import (
    normalise_name,
    parse_person_query,
    phonetic_keys,
    transposed,
)
from controlroom.domain.roles import Role
from controlroom.domain.search_recall import (
    EXACT_FACT_KINDS,
    KINDS,
    Caller,
    CallerLine,
    caller_lines,
    named_by,
    with_a_double,
)
from controlroom.domain.slips import misspell, slip, slips_allowed, slips_apart
from controlroom.services import person_search
from controlroom.services.person_search import search_persons
from tests.databases import SEED_ANCHOR
from tests.factories import add_location, add_person, staff_actor

TODAY = SEED_ANCHOR.date()
TOP = 5
PER_KIND = 10
SEED = 20


@pytest.fixture(scope="module")
def operator(force):
    return staff_actor(force, Role.SUPERVISOR, terminal="192.0.2.47")


@pytest.fixture(scope="module")
def people(force) -> dict[int, Caller]:
    """Every unrestricted, unmerged person of the force, by id, with their home's
    postcode and street (the current home; the first when there are more)."""
    with force.uow() as uow:
        rows = uow.session.execute(
            select(
                Person.id,
                Person.forename,
                Person.surname,
                Person.date_of_birth,
                Location.postcode,
                Location.street,
            )
            .outerjoin(
                PersonAddress,
                and_(
                    PersonAddress.person_id == Person.id,
                    PersonAddress.kind == "home",
                    PersonAddress.valid_to.is_(None),
                ),
            )
            .outerjoin(Location, Location.id == PersonAddress.location_id)
            .where(Person.restricted.is_(False), Person.merged_into_id.is_(None))
            .order_by(Person.id, PersonAddress.id)
        ).all()
    found: dict[int, Caller] = {}
    for person_id, *facts in rows:
        found.setdefault(person_id, Caller(*facts))
    return found


@pytest.fixture(scope="module")
def drawn(people) -> list[Caller]:
    """Those a line is drawn for: everyone but the people with a planted double."""
    everyone = list(people.values())
    doubled = with_a_double(everyone)
    return [person for place, person in enumerate(everyone) if place not in doubled]


def outcome(force, operator, people, made: CallerLine, person: Caller) -> str | None:
    """None when the search met the promise for this line, else what went wrong."""
    wanted = next(pid for pid, caller in people.items() if caller is person)
    hits = [h.person_id for h in search_persons(force.uow(), operator, made.line, today=TODAY)]
    place = hits.index(wanted) + 1 if wanted in hits else None
    if place is None or place > TOP:
        return f"{made.line!r} for {person.forename} {person.surname}: at {place}"
    if (
        made.kind in EXACT_FACT_KINDS
        and place != 1
        and named_by(made.kind, person, list(people.values())) == 1
    ):
        return f"{made.line!r} names {person.forename} {person.surname} only: at {place}"
    return None


@pytest.mark.parametrize("kind", KINDS)
def test_two_facts_find_the_person(force, operator, people, drawn, kind):
    lines = caller_lines(drawn, random.Random(f"{SEED}:{kind}"), PER_KIND, (kind,))
    assert len(lines) == PER_KIND
    failures = [outcome(force, operator, people, made, person) for made, person in lines]
    assert [f for f in failures if f] == []


def slipped_lines(people, drawn, fore_slips: int, sur_slips: int, count: int):
    """`count` lines "forename surname" with exactly so many slips in each, for people
    drawn with the seed whose names may carry two."""
    rng = random.Random(f"{SEED}:{fore_slips}{sur_slips}")
    long_named = [
        p
        for p in drawn
        if p.forename.isalpha()
        and p.surname.isalpha()
        and slips_allowed(p.forename) == slips_allowed(p.surname) == 2
    ]
    for person in rng.sample(long_named, count):
        line = (
            f"{misspell(person.forename, rng, fore_slips)} "
            f"{misspell(person.surname, rng, sur_slips)}"
        )
        yield CallerLine("forename + surname", line), person


def test_a_slip_in_each_name_anywhere_finds_the_person(force, operator, people, drawn):
    failures = [
        outcome(force, operator, people, made, person)
        for made, person in slipped_lines(people, drawn, 1, 1, PER_KIND)
    ]
    assert [f for f in failures if f] == []


# (slips in the forename, in the surname) -> how many of 20 lines must find the person.
# Two slips in a word, both in its first letters ("ojnhson" for Johnson), leave no key
# and no start of the name a lookup could use: the other word finds it (the other-word
# stage). Two slips in each word, neither with a key one slip away, are found only
# where a start is left: most, not all (the benchmark's recall figure counts them).
TWO_SLIPS_FOUND = {(2, 0): 20, (0, 2): 20, (2, 1): 20, (1, 2): 20, (2, 2): 19}


@pytest.mark.parametrize(("fore_slips", "sur_slips"), list(TWO_SLIPS_FOUND))
def test_two_slips_in_a_name_mostly_find_the_person(
    force, operator, people, drawn, fore_slips, sur_slips
):
    lines = list(slipped_lines(people, drawn, fore_slips, sur_slips, 20))
    failures = [f for f in (outcome(force, operator, people, m, p) for m, p in lines) if f]
    assert len(lines) - len(failures) >= TWO_SLIPS_FOUND[fore_slips, sur_slips], failures


# --- the issue's own examples ------------------------------------------------------------


@pytest.fixture
def callers_db(database):
    """The people of the issue's examples, each beside a namesake a careless search
    would put first."""
    born = date(1989, 8, 17)
    ids = {
        "sean walton": add_person(database, "Sean", "Walton", date_of_birth=born),
        "shaun walton": add_person(database, "Shaun", "Walton"),  # no date recorded
        "shaun wilson": add_person(database, "Shaun", "Wilson", date_of_birth=date(1975, 1, 2)),
        "irene gray": add_person(database, "Irene", "Gray", date_of_birth=date(1960, 3, 4)),
        "irene grant": add_person(database, "Irena", "Grant", date_of_birth=date(1961, 3, 4)),
        "catherine jordan": add_person(database, "Catherine", "Jordan"),
        "yan long": add_person(database, "Yan", "Long", date_of_birth=date(1990, 5, 6)),
        "peter parker": add_person(database, "Peter", "Parker", date_of_birth=date(2001, 8, 10)),
        "patrick james": add_person(database, "Patrick", "James", date_of_birth=date(1982, 2, 3)),
        "iqbal nicola": add_person(database, "Nicola", "Iqbal", date_of_birth=date(1995, 9, 9)),
    }
    return database, ids


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        ("shaun walton 17/08/1989", "sean walton"),
        ("walton 17/08/1989", "sean walton"),
        ("walton 08/17/1989", "sean walton"),
        ("shaun 17/08/1989", "sean walton"),
        ("wilson sean", "shaun wilson"),
        ("yrene grai", "irene gray"),
        ("yqbal nycola", "iqbal nicola"),
        ("jrodan catherine", "catherine jordan"),
        ("jordan kathryn", "catherine jordan"),
        ("lnog yan", "yan long"),
        ("pakrer peetr", "peter parker"),
        ("patrick jaems", "patrick james"),
    ],
)
def test_the_issues_examples_come_first(callers_db, line, wanted):
    database, ids = callers_db
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    assert hits and hits[0].person_id == ids[wanted], [(h.name, h.why) for h in hits]


def test_each_hit_says_why_it_matched(callers_db):
    database, ids = callers_db
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, "shaun walton 17/08/1989", today=TODAY)
    why = {h.person_id: h.why for h in hits}
    assert why[ids["sean walton"]] == ("forename family", "surname exact", "DOB exact")
    assert why[ids["shaun walton"]] == ("forename exact", "surname exact", "DOB not recorded")
    # The date confirmed puts Sean first, above the Shaun with no date recorded.
    assert [h.person_id for h in hits[:2]] == [ids["sean walton"], ids["shaun walton"]]
    slipped = search_persons(database.uow(), operator, "yrene grai", today=TODAY)
    assert slipped[0].why == ("forename near", "surname sounds alike")
    assert slipped[0].why_text == "forename near \u00b7 surname sounds alike"


def test_ties_are_broken_the_same_way_every_time(database):
    # Two people alike in every fact the line asks: the lower id first, every time.
    first = add_person(database, "Alex", "Twin", date_of_birth=date(1990, 1, 1))
    second = add_person(database, "Alex", "Twin", date_of_birth=date(1990, 1, 1))
    operator = staff_actor(database, Role.SUPERVISOR)
    orders = {
        tuple(h.person_id for h in search_persons(database.uow(), operator, line, today=TODAY))
        for line in ("alex twin", "alex twin", "twin 01/01/1990", "alxe twin")
    }
    assert orders == {(first, second)}


@pytest.mark.parametrize(
    ("line", "wanted", "namesake"),
    [
        # "jnue" scores as near Jane as June by letters in common; it is one slip (two
        # swapped) from June and two from Jane.
        ("jnue jaems", ("June", "James"), ("Jane", "James")),
        ("jaems jnue", ("June", "James"), ("Jane", "James")),
        # The same score: the words fit the whole of one name and part of the other.
        ("iin scuott", ("Iain", "Scott"), ("Iain", "Johnson-Scott")),
        ("jeann ppadrkin", ("Jean", "Parkin"), ("Jean", "Fitzgerald-Parkin")),
    ],
)
def test_a_tie_goes_to_the_name_fewest_slips_away_and_fitted_whole(
    database, line, wanted, namesake
):
    # On a million persons the namesakes that tie on the score are many: the person
    # one slip away (or named whole) comes before all of them, not by the alphabet.
    person = add_person(database, *wanted)
    for _ in range(6):
        add_person(database, *namesake)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.score) for h in hits]


@pytest.mark.parametrize(
    "line",
    [
        "carole ojgnson",  # the first two swapped, and a letter wrong
        "ojgnson carole",  # either way round
        "lacrke connor",  # the first letter moved two places on
        "connor laters",  # the first letter missing, the next two swapped
    ],
)
def test_two_slips_at_a_names_start_are_found_by_the_other_name(database, line):
    # No key, no start of the slipped name finds them: the other name does, and the
    # people it finds are read likeliest first, past namesakes that are further off.
    wanted = {
        "carole": add_person(database, "Carole", "Johnson", date_of_birth=date(1971, 4, 5)),
        "connor": add_person(database, "Connor", "Clarke", date_of_birth=date(1999, 6, 7)),
        "walters": add_person(database, "Connor", "Walters", date_of_birth=date(1988, 1, 9)),
    }
    for surname in ("Jackson", "Jones", "Johns", "Robson", "Nelson", "Clark", "Carter"):
        add_person(database, "Carole", surname)
        add_person(database, "Connor", surname)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    expected = {
        "carole ojgnson": "carole",
        "ojgnson carole": "carole",
        "lacrke connor": "connor",
        "connor laters": "walters",
    }[line]
    assert hits and hits[0].person_id == wanted[expected], [(h.name, h.why) for h in hits]


def test_the_other_word_stage_reads_the_likeliest_first(database, monkeypatch):
    # Room for one a part: of the Caroles the forename finds, the one whose surname is
    # likeliest the slipped word ("ojgnson": Johnson, not Jackson or Robson) is read.
    for surname in ("Jackson", "Robson", "Johns", "Nelson", "Clark", "Carter", "Olsen"):
        add_person(database, "Carole", surname)
    wanted = add_person(database, "Carole", "Johnson")  # last: not first by the index
    monkeypatch.setattr(person_search, "NEAR_LIMIT", 1)
    query = parse_person_query("carole ojgnson", today=TODAY)
    criteria = person_search._with_slip_keys(person_search._criteria(query))
    with database.uow() as uow:
        found = person_search.candidates(uow.search, criteria, other_word=True)
    assert wanted in [person.id for person in found]


# --- misses the large seed showed, each cause by a rule of our own -------------------------
#
# Every test below builds its people by a rule (never one example alone) and checks the
# rule's premise with the domain's own functions, so a test says what it holds the
# search to even where the names change.

# Surnames a rule draws pairs from: common ones, of four to six letters.
COMMON_SURNAMES = (
    "Burke Baker Wade Wyatt Parker Porter Hart Carter Marsh Mercer Fisher Fraser Walker "
    "Walsh Ward Wood Webb West Hill Hall Holt Hunt Kerr Kemp Lamb Lane Lord Lowe Lucas "
    "Lynch Mann Moss Nash Neal Page Parr Pike Pope Rees Reid Rose Ross Rowe Sharp Shaw "
    "Stone Swift Todd Tate Vale Wall Watt Wells Wise Young Dyer Dean Dale Dunn Doyle Duke "
    "Drew Ford Gill Gray Grant Green Hale Hope Hardy Haynes Heath Hines Holmes"
).split()


def sounds_alike_but_further():
    """(surname, typed, other): `typed` is `surname` with two letters swapped (one slip),
    and `other` shares a phonetic key with `typed`, is close by letters in common, and
    is more slips from it than `other` may carry ("bukre": Burke one slip, Baker two)."""
    found = []
    for surname in COMMON_SURNAMES:
        word = surname.casefold()
        for i in range(len(word) - 1):
            typed = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            if typed == word:
                continue
            for other in COMMON_SURNAMES:
                spelled = other.casefold()
                if (
                    other != surname
                    and other not in name_family(surname)
                    and set(phonetic_keys(typed)) & set(phonetic_keys(spelled))
                    and fuzz.ratio(typed, spelled) >= PHONETIC_MIN_RATIO
                    and slips_apart(typed, spelled) > slips_allowed(spelled)
                ):
                    found.append((surname, typed, other))
    return found


SOUNDS_ALIKE_PAIRS = sounds_alike_but_further()


def test_the_rule_draws_sounds_alike_pairs():
    assert len(SOUNDS_ALIKE_PAIRS) >= 4


@pytest.mark.parametrize(("surname", "typed", "other"), SOUNDS_ALIKE_PAIRS)
def test_a_name_one_slip_away_beats_one_that_sounds_alike_further_off(
    database, surname, typed, other
):
    # Sounding alike (a shared key) used to rank above every near spelling, however
    # many slips off: the Gordon Bakers buried Gordon Burke for "gordon bukre".
    person = add_person(database, "Gordon", surname)
    for _ in range(6):
        add_person(database, "Gordon", other)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, f"gordon {typed}", today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.why) for h in hits]


def family_pairs(families, count: int):
    """(said, stored) of the first `count` families with two plain spellings whose
    normal forms differ: the name as said, and the person's own spelling of it."""
    pairs = []
    for spellings in families:
        plain = [s for s in spellings if s.isalpha()]
        if len(plain) >= 2 and normalise_name(plain[0]) != normalise_name(plain[1]):
            pairs.append((plain[0], plain[1]))
    return pairs[:count]


# A day whose mirror (day and month swapped) is another real date.
BORN = date(1983, 4, 9)


@pytest.mark.parametrize(
    ("side", "said", "stored"),
    [("surname", *pair) for pair in family_pairs(SURNAME_FAMILIES, 3)]
    + [("forename", *pair) for pair in family_pairs([f.spellings for f in FORENAME_FAMILIES], 3)],
)
def test_the_day_said_beats_its_mirror_for_a_spelling_of_the_name(database, side, said, stored):
    # "reid 02/09/2024": the Read born that day (the name said another way) came after
    # a Reid born on the mirrored day. Born on the day and named as said, either
    # spelling, is the two facts; the mirror is a reading of them.
    mirror = transposed(BORN)
    assert mirror is not None

    def named(name: str) -> tuple[str, str]:
        return (name, "Quarry") if side == "forename" else ("Lorna", name)

    person = add_person(database, *named(stored), date_of_birth=BORN)
    for _ in range(3):
        add_person(database, *named(said), date_of_birth=mirror)
    operator = staff_actor(database, Role.SUPERVISOR)
    line = f"{said.casefold()} {BORN:%d/%m/%Y}"
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.why) for h in hits]


# Street names and words that make a longer street of the same start.
STREETS = (("Ash", "Gardens"), ("Spring", "Mews"), ("Elm", "Row"))
LONGER = ("field", "wood")


@pytest.mark.parametrize(("name", "kind"), STREETS)
def test_the_street_said_whole_beats_a_street_that_only_contains_it(database, name, kind):
    # "macdonald ash gardens": the McDonalds of Ashfield Gardens came first, 9 Ash
    # Gardens seventh. The words said are whole words of the person's street.
    street = f"{name} {kind}"
    home = add_location(database, f"9 {street}", street=street, postcode="LS6 2AB")
    person = add_person(database, "Dana", "Hollis", home=home)
    for number, ending in enumerate(LONGER * 2):
        longer = f"{name}{ending} {kind}"
        there = add_location(database, f"{number + 1} {longer}", street=longer, postcode="LS7 1AA")
        add_person(database, "Aaron", "Hollis", home=there)
    operator = staff_actor(database, Role.SUPERVISOR)
    line = f"hollis {name.casefold()} {kind.casefold()}"
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.address) for h in hits]


@pytest.mark.parametrize(("said", "stored"), family_pairs(SURNAME_FAMILIES, 3))
def test_who_lives_at_the_postcode_now_beats_who_once_did(database, said, stored):
    # "davies YO1 3FL": a Davies who once lived there came before the Davis who lives
    # there now. Living there now with the name (either spelling) is the two facts.
    home = add_location(database, "4 Kiln Row", street="Kiln Row", postcode="LS6 2AB")
    elsewhere = add_location(database, "8 Far Lane", street="Far Lane", postcode="HX1 1AA")
    person = add_person(database, "Dana", stored, home=home)
    for _ in range(3):
        moved = add_person(database, "Aaron", said, home=home, home_to=date(2019, 5, 1))
        with database.uow() as uow:
            uow.session.add(PersonAddress(person_id=moved, location_id=elsewhere, kind="home"))
            uow.commit()
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, f"{said.casefold()} LS6 2AB", today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.why) for h in hits]


@pytest.mark.parametrize(
    ("forename", "surname", "typed"),
    [("Carole", "Johnson", "ojgnson"), ("Connor", "Walters", "wlatesr")],
)
def test_a_loose_namesake_further_off_than_a_name_may_carry_does_not_stop_the_search(
    database, forename, surname, typed
):
    # "sahnnn willlimson" found the Sean Williamsons, four slips from "sahnnn", and
    # stopped there: Shannon was never looked for. The namesake here is the typed word
    # with its second and fourth letters left out: close by letters in common, it fits
    # loosely, but is two slips from a name that may carry one.
    loose = (typed[0] + typed[2] + typed[4:]).title()
    assert slips_apart(typed, loose.casefold()) > slips_allowed(loose)
    assert slips_apart(typed, surname.casefold()) <= slips_allowed(surname)
    person = add_person(database, forename, surname)
    for _ in range(3):
        add_person(database, forename, loose)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, f"{forename.casefold()} {typed}", today=TODAY)
    assert hits and hits[0].person_id == person, [(h.name, h.why) for h in hits]


@pytest.mark.parametrize("particle", ["le", "di", "de"])
def test_a_particle_may_be_a_forename_with_a_letter_left_out(database, particle):
    # "le tuckre" was read as one surname (Le Tucker) and found no Lee Tucker. A
    # particle that a forename starts with, then a surname with a slip: both readings.
    forename = {"le": "Lee", "di": "Dia", "de": "Dee"}[particle]
    person = add_person(database, forename, "Tucker")
    add_person(database, "Katherine", "Tucker")
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, f"{particle} tuckre", today=TODAY)
    assert person in [h.person_id for h in hits[:TOP]], [(h.name, h.why) for h in hits]


def test_the_slips_stage_reads_the_likeliest_first(database, monkeypatch):
    # Every key one slip from each word pairs up hundreds on a million persons, and the
    # index's order kept the first of them whatever their names: "kmaria imah" (a letter
    # extra before Maria, the first two of Miah swapped) found others and no Maria Miah.
    # Here namesakes with the same keys (Mira: MR, May: M) come first in the index.
    query = parse_person_query("kmaria imah", today=TODAY)
    criteria = person_search._with_slip_keys(person_search._criteria(query))
    mira, may = phonetic_keys("mira"), phonetic_keys("may")
    assert set(mira) & set(criteria.names[0].slip_keys + criteria.names[0].keys)
    assert set(may) & set(criteria.names[1].slip_keys + criteria.names[1].keys)
    for _ in range(6):
        add_person(database, "Mira", "May")
    wanted = add_person(database, "Maria", "Miah")
    monkeypatch.setattr(person_search, "NEAR_LIMIT", 2)
    with database.uow() as uow:
        found = person_search.candidates(uow.search, criteria, slips=True, likeliest=True)
    assert wanted in [person.id for person in found]


def test_the_likeliest_pairs_are_read_when_the_first_read_fits_no_one(database, monkeypatch):
    # The service asks the pairs in the index's order first (cheaper), and read
    # likeliest first only when none of them is within the slips its name may carry.
    for _ in range(6):
        add_person(database, "Mira", "May")
    wanted = add_person(database, "Maria", "Miah")
    monkeypatch.setattr(person_search, "NEAR_LIMIT", 2)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, "kmaria imah", today=TODAY)
    assert hits and hits[0].person_id == wanted, [(h.name, h.why) for h in hits]


def test_the_slipped_starts_are_asked_only_while_the_pairs_leave_room(database, monkeypatch):
    # The slips stage asks its pairs (each word a slip from a name) first, and one word
    # by its own keys with the other's first letters (two slips past them) only while
    # the pairs left the stage room: those read the row of everyone the unslipped word
    # names (thousands for a common name), and once the pairs filled the stage they
    # could add no one.
    query = parse_person_query("irene qorgqn", today=TODAY)
    criteria = person_search._with_slip_keys(person_search._criteria(query))
    typed = criteria.names[1]
    assert not set(phonetic_keys("morgan")) & set(
        typed.keys + typed.near_keys + typed.gap_keys + typed.slip_keys
    )
    started = add_person(database, "Irene", "Morgan")  # two slips: found by "org" only
    monkeypatch.setattr(person_search, "NEAR_LIMIT", 2)

    def slips_stage() -> tuple[list[int], list[str]]:
        seen: list[str] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(database.engine, "before_cursor_execute", capture)
        try:
            with database.uow() as uow:
                found = person_search.candidates(uow.search, criteria, slips=True)
        finally:
            event.remove(database.engine, "before_cursor_execute", capture)
        return [p.id for p in found], [s for s in seen if s.lstrip().upper().startswith("SELECT")]

    found, _ = slips_stage()
    assert found == [started]
    paired = [add_person(database, "Irene", "Qorgqn") for _ in range(2)]
    found, asked = slips_stage()
    assert sorted(found) == sorted(paired)
    assert not any("substr(person.forename, 2" in statement for statement in asked), asked


def test_a_name_found_is_found_with_its_namesakes(database):
    # A stage that stops at its limit keeps the first rows it reads, whoever they are:
    # of five Denise Palmers on a million persons, "segise paler" (two slips at the
    # forename's start, a letter left out of the surname) kept the one first in the
    # index. Namesakes (the same forename and surname) fit the words alike: one found,
    # all are. Here the first of three comes before more people a near-spelling stage
    # reads ("Paley") than it keeps, the others after them.
    first = add_person(database, "Denise", "Palmer", date_of_birth=date(1957, 1, 16))
    with database.uow() as uow:
        for _ in range(person_search.CANDIDATE_LIMIT):
            uow.session.add(Person(forename="Zed", surname="Paley", date_of_birth=date(1990, 1, 1)))
        uow.commit()
    others = [
        add_person(database, "Denise", "Palmer", date_of_birth=date(1984 + n, 8, 10))
        for n in range(2)
    ]
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = [
        h.person_id for h in search_persons(database.uow(), operator, "segise paler", today=TODAY)
    ]
    assert first in hits
    assert set(others) <= set(hits), hits


# --- two slips at the start of both words -------------------------------------------------

# The letters of a name's start that the rule below slips: two slips among them leave
# neither the name's first two letters nor (mostly) a key one slip away.
START_SLIPPED = 3


def slipped_at_the_start(name: str, rng: random.Random) -> str:
    """`name` (lower case) with two slips (controlroom.domain.slips), both among its
    first START_SLIPPED letters, the rest as it is: exactly two slips from the name."""
    word = name.casefold()
    head, tail = word[:START_SLIPPED], word[START_SLIPPED:]
    while True:
        typed = head
        for _ in range(2):
            typed = slip(typed, rng)
        if slips_apart(typed + tail, word) == 2:
            return typed + tail


def start_slipped_lines(drawn, count: int):
    """`count` lines "forename surname", each word two slips at its start, for people
    drawn with the seed whose names may carry two slips each."""
    rng = random.Random(f"{SEED}:start")
    long_named = [
        p
        for p in drawn
        if p.forename.isalpha()
        and p.surname.isalpha()
        and slips_allowed(p.forename) == slips_allowed(p.surname) == 2
    ]
    for person in rng.sample(long_named, count):
        line = (
            f"{slipped_at_the_start(person.forename, rng)} "
            f"{slipped_at_the_start(person.surname, rng)}"
        )
        yield CallerLine("forename + surname", line), person


def test_the_rule_slips_both_words_at_their_start(drawn):
    lines = list(start_slipped_lines(drawn, 20))
    for made, person in lines:
        fore, sur = made.line.split()
        assert slips_apart(fore, person.forename.casefold()) == 2
        assert slips_apart(sur, person.surname.casefold()) == 2
        assert fore.endswith(person.forename.casefold()[START_SLIPPED:])
        assert sur.endswith(person.surname.casefold()[START_SLIPPED:])
    # Most lose the name's first two letters in a word: no start is left to look up.
    assert (
        sum(
            line.split()[0][:2] != p.forename.casefold()[:2]
            or line.split()[1][:2] != p.surname.casefold()[:2]
            for line, p in ((m.line, p) for m, p in lines)
        )
        >= len(lines) // 2
    )


def test_two_slips_at_the_start_of_both_words_find_the_person(force, operator, people, drawn):
    # "halotte oregrs" (Charlotte Rogers) found no one on a million persons: no key one
    # slip away and no start of either name is left for a lookup.
    lines = list(start_slipped_lines(drawn, 20))
    failures = [f for f in (outcome(force, operator, people, m, p) for m, p in lines) if f]
    assert failures == [], [m.line for m, _ in lines]


def test_the_held_names_are_read_once_each(database):
    # The stage reads every surname held once, by a loose scan of the surname index,
    # and the forenames held with those near a word: each once, whoever bears them.
    for forename, surname in [("Ann", "Rogers"), ("Ann", "Rogers"), ("Bo", "Rogers")] + [
        ("Cy", name) for name in ("Able", "Zeal", "O'Hara", "Smith-Jones", "Able")
    ]:
        add_person(database, forename, surname)
    with database.uow() as uow:
        surnames = uow.search.surnames()
        forenames = uow.search.forenames_with(["Rogers", "Able"])
    assert sorted(surnames) == sorted({"Rogers", "Able", "Zeal", "O'Hara", "Smith-Jones"})
    assert sorted(forenames) == [("Able", "Cy"), ("Rogers", "Ann"), ("Rogers", "Bo")]


# Three-letter surnames (one slip each: a letter left out leaves two) and forenames that
# may carry two slips.
SHORT_SURNAMES = ("Day", "Kay", "Fox", "Cox", "Lee", "Ray", "May", "Orr", "Roy", "Ali")
LONG_FORENAMES = (
    "Terence Charlotte Patricia Jennifer Nicholas Gordon Rebecca Matthew Shannon Melanie"
).split()


def near_as_the_person(rng: random.Random, namesakes: int):
    """(forename, surname, line, others) for each pair of the lists above: the line the
    name with two slips in the forename and the surname's letter left out, and
    `namesakes` others with the same surname whose forenames are one slip from the
    typed forename: each as near the words as the person, within the slips the name
    may carry ("reence ay": Reece Day one slip from each word, Terence Day two and one)."""
    for forename, surname in zip(LONG_FORENAMES, SHORT_SURNAMES, strict=True):
        fore = misspell(forename, rng, 2)
        sur = slip(surname.casefold(), rng, "missing")
        others: set[str] = set()
        while len(others) < namesakes:
            other = slip(fore, rng)
            if slips_apart(fore, other) == 1 <= slips_allowed(other) and other != forename:
                others.add(other.title())
        yield forename, surname, f"{fore} {sur}", sorted(others)


@pytest.mark.parametrize("namesakes", [1, 3])
def test_namesakes_as_near_as_the_person_leave_room_for_the_person(database, namesakes):
    # A namesake one slip from each word is within reach: the stages that look further
    # did not run, and the person (two slips, and a two-letter word for a three-letter
    # surname, which had no spelling one slip away looked for) was not found.
    rng = random.Random(f"{SEED}:near:{namesakes}")
    cases = list(near_as_the_person(rng, namesakes))
    wanted = {}
    for forename, surname, line, others in cases:
        wanted[line] = add_person(database, forename, surname)
        for other in others:
            add_person(database, other, surname)
    operator = staff_actor(database, Role.SUPERVISOR)
    missed = []
    for forename, surname, line, _others in cases:
        hits = [h.person_id for h in search_persons(database.uow(), operator, line, today=TODAY)]
        if wanted[line] not in hits[:TOP]:
            missed.append((line, forename, surname))
    assert missed == []


@pytest.mark.parametrize("born", [date(1957, 3, 1), None], ids=["born-then", "no-date"])
def test_a_lone_word_within_years_is_read_likeliest_first_when_its_keys_fill_the_stage(
    database, monkeypatch, born
):
    # A forename with a slip and a range of years ("brue 1955-1959" for a Bruce): the
    # word's one-slip keys within the years found a stage's worth of others (on a million
    # persons, Browns and Barrs by the key BR) in the index's order, none of them a slip
    # away, and the Bruce born then was cut. Read again likeliest first, he comes first;
    # with no date of birth recorded, he is read for when no one born then is near.
    for n in range(25):
        add_person(database, "Alan", "Barr", date_of_birth=date(1956, 1, 1 + n))
    for n in range(3):
        add_person(database, "Brian", "Brown", date_of_birth=date(1957, 1, 1 + n))
        add_person(database, "Brian", "Brown")
    wanted = add_person(database, "Bruce", "Carter", date_of_birth=born)
    monkeypatch.setattr(person_search, "NEAR_LIMIT", 2)
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, "brue 1955-1959", today=TODAY)
    assert hits and hits[0].person_id == wanted, [(h.name, h.why) for h in hits]
    assert hits[0].why[0] == "forename near"


@pytest.mark.parametrize(
    "line", ["miles-hooper 1989-1993", "mies-hooper 1989-1993", "miles-hooper"]
)
def test_a_double_barrelled_word_finds_that_name_before_a_page_of_its_parts(database, line):
    # A lone double-barrelled word is found by the keys of the whole and of each part:
    # every Hooper (and Miles) in the years asked came first, and past a page of them
    # the one Miles-Hooper was cut, spelled right or with a letter left out. Its two
    # parts together (the first and last parts of a surname) are asked first.
    with database.uow() as uow:
        uow.session.add_all(
            Person(forename=f"Alex{n}", surname="Hooper", date_of_birth=date(1990, 1, 1))
            for n in range(person_search.CANDIDATE_LIMIT + 10)
        )
        uow.commit()
    wanted = add_person(database, "Denis", "Miles-Hooper", date_of_birth=date(1991, 1, 4))
    operator = staff_actor(database, Role.SUPERVISOR)
    hits = search_persons(database.uow(), operator, line, today=TODAY)
    assert hits and hits[0].person_id == wanted, [(h.name, h.why) for h in hits[:3]]
