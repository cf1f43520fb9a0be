"""Reading an old system's extract by its own rules (controlroom.domain.legacy)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from controlroom.domain.legacy import (
    LegacyMapping,
    MappingError,
    read_address,
    read_incident,
    read_person,
    read_report,
    tidy_name,
    unsafe_field,
)

MAPPING = LegacyMapping(
    source_system="OLDCAD",
    date_formats=("%d/%m/%Y", "%Y-%m-%d", "%d-%b-%Y", "%d.%m.%y"),
    markers={"VIOL": "VIOLENT"},
    genders={"M": "male", "F": "female"},
)


@pytest.mark.parametrize(
    ("legacy", "ours"),
    [
        ("O'BRIEN-SMITH", "O'Brien-Smith"),
        ("MCDONALD", "McDonald"),
        ("  MARY   JANE ", "Mary Jane"),
        ("van der Berg", "van der Berg"),  # mixed case is kept as written
        ("", ""),
    ],
)
def test_upper_case_names_read_as_people_write_them(legacy, ours):
    assert tidy_name(legacy) == ours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05/03/1980", date(1980, 3, 5)),
        ("1980-03-05", date(1980, 3, 5)),
        ("05-Mar-1980", date(1980, 3, 5)),
        ("05.03.80", date(1980, 3, 5)),
        ("31/02/1987", None),
        ("UNKNOWN", None),
        ("00/00/0000", None),
    ],
)
def test_dates_in_any_of_the_mapping_formats_and_nothing_else(text, expected):
    assert MAPPING.parse_date(text) == expected


def test_a_person_row_reads_or_says_why_not():
    row = {"PERSON_REF": "P1", "SURNAME": "JONES", "FORENAMES": "ANN MARIE", "DOB": "", "SEX": "F"}
    person = read_person(row, MAPPING)
    assert not isinstance(person, str)
    assert (person.forename, person.middle_names, person.surname, person.gender) == (
        "Ann",
        "Marie",
        "Jones",
        "female",
    )
    assert person.date_of_birth is None
    assert read_person({**row, "DOB": "31/02/1987"}, MAPPING) == (
        "date of birth '31/02/1987' fits no date format"
    )
    assert read_person({**row, "SURNAME": " "}, MAPPING) == "no surname"


def test_a_mapping_naming_codes_we_do_not_have_is_refused_before_any_row():
    data = {"source_system": "OLDCAD", "dates": {"formats": ["%d/%m/%Y"]}}
    mapping = LegacyMapping.from_toml(
        {**data, "markers": {"viol": "VIOLENT"}}, frozenset({"VIOLENT"})
    )
    assert mapping.markers == {"VIOL": "VIOLENT"}
    with pytest.raises(MappingError, match="NOSUCH"):
        LegacyMapping.from_toml({**data, "markers": {"X": "NOSUCH"}}, frozenset({"VIOLENT"}))
    with pytest.raises(MappingError, match="formats"):
        LegacyMapping.from_toml({"source_system": "OLDCAD"}, frozenset())
    with pytest.raises(MappingError, match="source_system"):
        LegacyMapping.from_toml({"dates": {"formats": ["%Y"]}}, frozenset())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "12 MILL LANE, HEADINGLEY, LEEDS LS6 2AB",
            ("12 Mill Lane", "Mill Lane", "Leeds", "LS6 2AB"),
        ),
        ("FLAT 3, 7A KING STREET, YORK", ("Flat 3, 7A King Street", "King Street", "York", None)),
        ("ROSE COTTAGE,  LOW ROAD,LS62AB", ("Rose Cottage", None, "Low Road", "LS6 2AB")),
        ("", "no address"),
        ("LS6 2AB", "an address with nothing but a postcode"),
    ],
)
def test_free_text_addresses_read_as_our_parts(text, expected):
    address = read_address(text)
    if isinstance(expected, str):
        assert address == expected
    else:
        assert not isinstance(address, str)
        assert (address.address, address.street, address.town, address.postcode) == expected


@pytest.mark.parametrize(
    ("surname", "code"),
    [("SMITH\x1b]0;owned\x07", "001B"), ("JONES\u202e", "202E"), ("BROWN\x9b2J", "009B")],
)
def test_a_row_holding_terminal_controls_is_rejected_with_the_field(surname, code):
    row = {"PERSON_REF": "P1", "SURNAME": surname, "FORENAMES": "ANN"}
    columns = ("PERSON_REF", "SURNAME", "FORENAMES")
    assert unsafe_field(row, columns) == f"SURNAME holds a control character (U+{code})"
    assert unsafe_field(row | {"SURNAME": "SMITH"}, columns) is None


RECORDS = LegacyMapping(
    source_system="OLDCAD",
    date_formats=("%d/%m/%Y", "%Y-%m-%d"),
    incident_types={"ASSAULT": "ASLT"},
    grades={"E": "G1"},
    gradings={"B2": ("2", "B", "P", None), "B3": ("2", "C", "C", "police only")},
)
INCIDENT_ROW = {
    "INCIDENT_REF": "i42",
    "OPENED": "14/07/2019 23:30",
    "TYPE_CODE": "assault",
    "PRIORITY": "E",
    "LOCATION": "12 MILL LANE, LEEDS LS6 2AB",
    "NARRATIVE": " FIGHT IN STREET ",
    "CLOSED": "",
    "RESULT": "",
    "PERSON_REF": "P1",
    "ROLE": "VICTIM",
}


def test_an_old_incident_is_read_in_local_time_with_its_codes_mapped():
    incident = read_incident(INCIDENT_ROW, RECORDS)
    assert not isinstance(incident, str)
    assert incident.reference == "OLDCAD-I42"
    assert incident.opened_at == datetime(2019, 7, 14, 22, 30, tzinfo=UTC)  # BST
    assert incident.closed_at == incident.opened_at  # no closing given: closed as opened
    assert (incident.type_code, incident.grade, incident.person_role) == ("ASLT", "G1", "victim")
    assert (incident.location_text, incident.postcode) == ("12 Mill Lane, Leeds", "LS6 2AB")
    assert incident.narrative == "FIGHT IN STREET"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"OPENED": "30/02/2019 10:00"}, "OPENED '30/02/2019 10:00' fits no date format"),
        ({"OPENED": "14/07/2019 25:00"}, "OPENED '14/07/2019 25:00' fits no date format"),
        ({"TYPE_CODE": "ZZOLD"}, "unknown incident type 'ZZOLD'"),
        ({"PRIORITY": "Q"}, "unknown priority 'Q'"),
        ({"ROLE": "LANDLORD"}, "unknown person role 'LANDLORD'"),
        ({"INCIDENT_REF": "X" * 20}, "INCIDENT_REF makes a reference longer than 24 characters"),
    ],
)
def test_an_old_incident_that_cannot_be_read_says_why(change, reason):
    assert read_incident({**INCIDENT_ROW, **change}, RECORDS) == reason


def test_an_old_report_maps_its_grading_and_needs_a_subject():
    row = {"INTEL_REF": "R1", "PERSON_REF": "P1", "RECORDED": "2019-01-02", "GRADING": "b3"}
    report = read_report({**row, "TEXT": "SEEN AT THE DOCKS"}, RECORDS)
    assert not isinstance(report, str)
    assert (report.source_grade, report.intelligence_grade, report.handling_code) == (
        "2",
        "C",
        "C",
    )
    assert report.handling_conditions == "police only"
    assert read_report({**row, "TEXT": "x", "GRADING": "X9"}, RECORDS) == "unknown grading 'X9'"
    assert read_report({**row, "TEXT": "x", "PERSON_REF": ""}, RECORDS).startswith("no PERSON")


def test_a_mapping_grading_must_be_ours_and_handling_c_needs_its_conditions():
    data = {"source_system": "OLDCAD", "dates": {"formats": ["%d/%m/%Y"]}}
    mapping = LegacyMapping.from_toml({**data, "gradings": {"a1": "1A P"}}, frozenset())
    assert mapping.gradings == {"A1": ("1", "A", "P", None)}
    for bad in ("1F P", "4A P", "1A C", "1A"):
        with pytest.raises(MappingError, match="gradings"):
            LegacyMapping.from_toml({**data, "gradings": {"A1": bad}}, frozenset())
    with pytest.raises(MappingError, match="NOPE"):
        LegacyMapping.from_toml(
            {**data, "incident_types": {"X": "NOPE"}}, frozenset(), frozenset({"ASLT"})
        )
