"""Call-handling rules as plain unit tests: postcodes, distances, references, the grade
suggestion, the closing rules, the duplicate-call type rule and phone numbers.

No database and no Textual: these are `controlroom.domain`, which is pure.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controlroom.domain.geo import distance_m
from controlroom.domain.grades import grade_codes
from controlroom.domain.incidents import (
    REFERENCE_ZONE,
    THRIVE_LABELS,
    THRIVE_PARTS,
    IncidentTypeFacts,
    closure_problems,
    incident_reference,
    is_related_type,
    normalise_phone,
    reference_day,
    reference_number,
    suggest_grade,
)
from controlroom.domain.postcode import (
    POSTCODE_MESSAGE,
    find_postcode,
    is_postcode,
    normalise_postcode,
    outward_code,
    postcode_problem,
)

GRADES = grade_codes()  # G1..G4, most urgent first

# --- postcodes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("LS6 2AB", "LS6 2AB"),
        ("ls62ab", "LS6 2AB"),
        ("  Ls6   2aB ", "LS6 2AB"),
        ("SW1A1AA", "SW1A 1AA"),
        ("m1 1ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_postcodes_are_normalised(typed, normal):
    assert normalise_postcode(typed) == normal
    assert is_postcode(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "LS6",
        "LS6 2A",
        "LS6 2ABC",
        "QS6 2AB",  # Q never starts a postcode
        "LJ6 2AB",  # J never second
        "LS6 2CI",
        "LS6 2AV",  # C, I, V never in the inward code
        "123 456",
        "LS6-2AB",
        "LS6 2AB!",
        "ＬＳ6 2AB",  # full-width letters are not ASCII
    ],
)
def test_bad_postcodes_are_refused_with_the_form_to_use(typed):
    with pytest.raises(ValueError) as refused:
        normalise_postcode(typed)
    assert (
        str(refused.value)
        == POSTCODE_MESSAGE
        == ("not a valid UK postcode: use a form like LS6 2AB")
    )


@pytest.mark.parametrize(
    ("address", "found"),
    [
        ("12 Mill Lane, Leeds LS6 2AB", "LS6 2AB"),
        ("12 Mill Lane, Leeds, ls62ab", "LS6 2AB"),
        ("flat 3 sw1a 1aa london", "SW1A 1AA"),
        ("Buckingham Palace GIR 0AA", "GIR 0AA"),
        ("12 Mill Lane", None),
        ("Unit B1, Mill Lane", None),
        ("junction of A64 and A1", None),
        ("LS6 2CI Mill Lane", None),
    ],
)
def test_a_postcode_is_found_inside_a_typed_address(address, found):
    assert find_postcode(address) == found


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("12 Mill Lane, Leeds LS6 2AB", None),
        ("12 Mill Lane", None),
        ("Flat B1, 2 Mill Lane", None),  # a flat number is never taken for a postcode
        ("junction of the A64 and A1", None),
        ("12 Mill Lane QS6 2AB", POSTCODE_MESSAGE),
        ("12 Mill Lane LS6 2CI", POSTCODE_MESSAGE),
        ("12 Mill Lane LS6 2AB and LS6 2CI", POSTCODE_MESSAGE),
    ],
)
def test_a_mistyped_postcode_in_an_address_is_a_problem(address, problem):
    assert postcode_problem(address) == problem


def test_outward_codes_alone():
    assert outward_code("ls6") == "LS6"
    assert outward_code("SW1A") == "SW1A"
    assert outward_code("12") is None
    assert outward_code("LS6 2AB") is None


@given(st.from_regex(r"[A-PR-UWYZ][A-HK-Y][0-9][0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}", fullmatch=True))
def test_normalising_is_idempotent_and_ignores_case_and_spacing(postcode):
    normal = normalise_postcode(postcode)
    assert normalise_postcode(normal) == normal
    assert normalise_postcode(postcode.lower().replace(" ", "")) == normal
    assert normal.count(" ") == 1 and normal.split(" ")[1] == normal[-3:]
    assert find_postcode(f"1 Some Street, Town {postcode.lower()}") == normal


# --- distances -----------------------------------------------------------------------------


def test_distances_on_the_ground():
    assert distance_m(53.8, -1.55, 53.8, -1.55) == 0
    # One degree of latitude is about 111.2 km everywhere.
    assert distance_m(53.0, -1.5, 54.0, -1.5) == pytest.approx(111_195, rel=1e-3)
    # Leeds to London, about 272 km as the crow flies.
    assert distance_m(53.7997, -1.5492, 51.5074, -0.1278) == pytest.approx(272_000, rel=0.01)


@given(st.floats(-80, 80), st.floats(-179, 179), st.floats(-80, 80), st.floats(-179, 179))
def test_distance_is_symmetric_and_never_negative(lat1, lon1, lat2, lon2):
    there = distance_m(lat1, lon1, lat2, lon2)
    assert there >= 0
    assert there == pytest.approx(distance_m(lat2, lon2, lat1, lon1), abs=1e-6)


# --- references ----------------------------------------------------------------------------


def test_references_have_four_digits_and_widen_past_9999():
    assert incident_reference(date(2026, 11, 26), 42) == "CR-20261126-0042"
    assert incident_reference(date(2026, 11, 26), 9999) == "CR-20261126-9999"
    assert incident_reference(date(2026, 11, 26), 10000) == "CR-20261126-10000"
    assert reference_number("CR-20261126-10000") == 10000
    assert reference_number("IR-20261126-0001") is None
    with pytest.raises(ValueError):
        incident_reference(date(2026, 11, 26), 0)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # Summer (BST, UTC+1): 23:30 UTC on 31 May is 00:30 on 1 June in London.
        (datetime(2026, 5, 31, 23, 30, tzinfo=UTC), date(2026, 6, 1)),
        (datetime(2026, 5, 31, 22, 59, tzinfo=UTC), date(2026, 5, 31)),
        # Winter (GMT): London and UTC agree.
        (datetime(2026, 11, 26, 0, 0, 30, tzinfo=UTC), date(2026, 11, 26)),
        (datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC), date(2026, 11, 25)),
    ],
)
def test_reference_days_are_london_days(moment, day):
    assert reference_day(moment) == day
    assert str(REFERENCE_ZONE) == "Europe/London"


def test_reference_day_refuses_a_naive_time():
    with pytest.raises(ValueError):
        reference_day(datetime(2026, 11, 26, 12, 0))


# --- grade suggestion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suggested", "weapons", "child", "domestic", "expected"),
    [
        ("G3", False, False, False, "G3"),
        ("G3", True, False, False, "G1"),
        ("G3", False, True, False, "G2"),
        ("G4", False, False, True, "G2"),
        ("G1", False, True, True, "G1"),  # never lowered
        ("G2", False, False, False, "G2"),
        ("G9", False, False, False, "G1"),  # unknown to this force: the safe side
    ],
)
def test_the_suggested_grade_is_raised_by_the_answers_never_lowered(
    suggested, weapons, child, domestic, expected
):
    assert (
        suggest_grade(
            suggested, weapons=weapons, child_present=child, domestic=domestic, grade_codes=GRADES
        )
        == expected
    )


@given(st.sampled_from(GRADES), st.booleans(), st.booleans(), st.booleans())
def test_the_suggestion_is_a_configured_grade_at_least_as_urgent(suggested, weapons, child, dom):
    grade = suggest_grade(
        suggested, weapons=weapons, child_present=child, domestic=dom, grade_codes=GRADES
    )
    assert grade in GRADES
    assert GRADES.index(grade) <= GRADES.index(suggested)
    if weapons:
        assert grade == GRADES[0]
    if child or dom:
        assert GRADES.index(grade) <= 1


def test_a_force_with_its_own_grades():
    assert (
        suggest_grade(
            "P3", weapons=False, child_present=True, domestic=False, grade_codes=("P1", "P2", "P3")
        )
        == "P2"
    )
    assert (
        suggest_grade(
            "ONLY", weapons=False, child_present=True, domestic=True, grade_codes=("ONLY",)
        )
        == "ONLY"
    )


# --- closing -------------------------------------------------------------------------------


def close(**changes):
    answers = dict(
        closing_type_code="ASLT",
        result="Words of advice given.",
        possible_crime=False,
        crime_reference=None,
        no_crime_reason=None,
    )
    answers.update(changes)
    return closure_problems(**answers)


def test_a_complete_closure_has_no_problems():
    assert close() == {}
    assert close(possible_crime=True, crime_reference="13/123456/26") == {}
    assert close(possible_crime=True, no_crime_reason="Caller confirmed nothing was taken.") == {}


def test_each_closure_problem_names_its_field():
    assert set(close(closing_type_code=None)) == {"closing_type_code"}
    assert set(close(closing_type_code="  ")) == {"closing_type_code"}
    assert set(close(result="   ")) == {"result"}
    assert "closing category" in close(closing_type_code="")["closing_type_code"]
    possible = close(possible_crime=True)
    assert set(possible) == {"crime_reference"}
    assert "crime reference" in possible["crime_reference"]
    assert "no crime" in possible["crime_reference"]
    short = close(possible_crime=True, no_crime_reason="none")
    assert set(short) == {"no_crime_reason"} and "10 characters" in short["no_crime_reason"]
    everything = close(closing_type_code=None, result="", possible_crime=True)
    assert list(everything) == ["closing_type_code", "result", "crime_reference"]


def test_thrive_has_six_labelled_parts():
    assert (
        list(THRIVE_LABELS)
        == list(THRIVE_PARTS)
        == ["threat", "harm", "risk", "investigation", "vulnerability", "engagement"]
    )
    assert THRIVE_LABELS["vulnerability"] == "Vulnerability"


# --- duplicate-call type rule ------------------------------------------------------------

DOM = IncidentTypeFacts("DOM", "Public Safety & Welfare", domestic=True, possible_crime=True)
DOMV = IncidentTypeFacts("DOMV", "Crime", domestic=True, possible_crime=True)
BURGR = IncidentTypeFacts("BURGR", "Crime", domestic=False, possible_crime=True)
THEFT = IncidentTypeFacts("THEFT", "Crime", domestic=False, possible_crime=True)
NOISE = IncidentTypeFacts("NOISE", "Anti-Social Behaviour", domestic=False, possible_crime=False)
ASBN = IncidentTypeFacts("ASBN", "Anti-Social Behaviour", domestic=False, possible_crime=False)
WELF = IncidentTypeFacts("WELF", "Public Safety & Welfare", domestic=False, possible_crime=False)


@pytest.mark.parametrize(
    ("a", "b", "related"),
    [
        (NOISE, NOISE, True),  # the same type
        (DOM, DOMV, True),  # both domestic, under different headings
        (BURGR, THEFT, True),  # possible crimes under one heading
        (NOISE, ASBN, False),  # same heading but not crimes
        (DOM, WELF, False),  # same heading, one not a crime
        (BURGR, NOISE, False),
    ],
)
def test_related_types(a, b, related):
    assert is_related_type(a, b) is related
    assert is_related_type(b, a) is related


# --- phone numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("07700 900123", "07700900123"),
        ("+44 7700 900123", "07700900123"),
        ("0044 7700 900123", "07700900123"),
        ("+447700900123", "07700900123"),
        ("+33 1 23 45 67 89", "0033123456789"),
        ("999999", "999999"),
    ],
)
def test_phone_numbers_are_normalised(typed, normal):
    assert normalise_phone(typed) == normal


@pytest.mark.parametrize(
    "typed",
    [
        "12345",
        "1234567890123456",
        "07700-900123",
        "(0113) 496 0000",
        "07700 9OO123",
        "++447700900123",
        "0770０900123",
        "0044 12",
    ],
)
def test_bad_phone_numbers_are_refused(typed):
    with pytest.raises(ValueError, match="digits, spaces and a leading \\+ only"):
        normalise_phone(typed)
