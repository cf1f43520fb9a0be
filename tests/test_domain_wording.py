"""One source for each rule: grades typed loosely, the flags, marker wording, the local day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from controlroom.domain.grades import parse_grade
from controlroom.domain.incidents import IncidentFlag
from controlroom.domain.local_time import local_day
from controlroom.domain.markers import marker_phrase, markers_phrase

CODES = ("G1", "G2", "G3", "G4")


def test_a_grade_is_read_however_it_is_typed():
    assert parse_grade("G1", CODES) == "G1"
    assert parse_grade(" g2 ", CODES) == "G2"
    assert parse_grade("3", CODES) == "G3"
    assert parse_grade("G7", CODES) is None
    assert parse_grade("", CODES) is None
    assert parse_grade("1", ("P1", "P2")) is None  # a force's own codes, not G-prefixed


def test_the_flags_are_the_incident_fields_in_words():
    assert [f.value for f in IncidentFlag] == [
        "domestic",
        "child_present",
        "weapons",
        "possible_crime",
    ]
    assert IncidentFlag.CHILD_PRESENT.label == "child present"
    assert IncidentFlag.POSSIBLE_CRIME.label == "possible crime"


def test_a_severity_one_marker_reads_as_urgent_without_colour():
    assert marker_phrase("REGISTERED SEX OFFENDER", 1) == "!REGISTERED SEX OFFENDER"
    assert marker_phrase("VIOLENT", 2) == "VIOLENT"
    assert markers_phrase([("FIREARMS", 1), ("DRUGS", 3)]) == "!FIREARMS, DRUGS"
    assert markers_phrase([]) == ""


def test_the_local_day_is_londons_not_utcs():
    # 23:30 UTC on 31 May is 00:30 BST on 1 June; in winter the two agree.
    assert local_day(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == date(2026, 6, 1)
    assert local_day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 31)
