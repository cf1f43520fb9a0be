"""Crime recording rules (NCRS): the 24-hour clock, one crime per victim, the Home Office
classification and its changes, outcomes 0-22 with the 14/16 victim decision and the
supervisor's approval of 16 on domestic abuse."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from importlib import resources

from controlroom.domain import crime as rules
from controlroom.domain.open_data import CRIME_TYPES

REPORT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_the_clock_runs_24_hours_from_the_report():
    reading = rules.read_clock(REPORT, None, REPORT + timedelta(hours=3))
    assert reading.running and not reading.breached and not reading.due_soon
    assert reading.left == timedelta(hours=21)
    assert reading.words == "21h 00m left of 24h"
    soon = rules.read_clock(REPORT, None, REPORT + timedelta(hours=21))
    assert soon.due_soon and soon.words.endswith("(due soon)")


def test_a_running_clock_past_24_hours_is_breached_in_words():
    reading = rules.read_clock(REPORT, None, REPORT + timedelta(hours=26, minutes=5))
    assert reading.breached and reading.running
    assert reading.words.startswith("! BREACHED by 2h 05m")


def test_a_stopped_clock_says_whether_the_limit_was_met():
    met = rules.read_clock(REPORT, REPORT + timedelta(hours=5), REPORT + timedelta(days=3))
    assert not met.running and not met.breached
    assert met.words == "stopped after 5h 00m, within 24h"
    missed = rules.read_clock(REPORT, REPORT + timedelta(hours=30), REPORT + timedelta(days=3))
    assert missed.breached and "MISSED by 6h 00m" in missed.words


def test_the_clock_stops_at_the_first_crime_or_the_signed_off_no_crime_decision():
    crime_at, decided_at = REPORT + timedelta(hours=2), REPORT + timedelta(hours=9)
    assert rules.clock_stop(crime_at, decided_at) == crime_at
    assert rules.clock_stop(None, decided_at) == decided_at
    assert rules.clock_stop(None, None) is None


def _recording(**overrides):
    values = dict(
        offence_code="8N",
        offence_known=True,
        victim_based=True,
        victim_ids=(1,),
        victims_with_crime=frozenset(),
        incident_victims=frozenset({1, 2}),
    )
    values.update(overrides)
    return rules.recording_problems(**values)


def test_one_crime_per_victim():
    assert _recording() == {}
    assert _recording(victim_ids=(1, 2)) == {}
    assert "one crime per victim" in _recording(victim_ids=(1, 1))["victims"]
    assert "already has a crime" in _recording(victims_with_crime=frozenset({1}))["victims"]
    assert "linked to the incident" in _recording(victim_ids=(3,))["victims"]
    assert "name the victim" in _recording(victim_ids=())["victims"]
    # An offence against the state has no victim to name.
    assert _recording(offence_code="92E", victim_based=False, victim_ids=()) == {}


def test_the_offence_must_be_a_known_home_office_code():
    assert "choose" in _recording(offence_code=None)["offence_code"]
    assert "not a Home Office offence code" in _recording(offence_known=False)["offence_code"]


def test_a_reclassification_needs_a_new_code_and_a_reason():
    assert rules.reclassification_problems("8N", "5D", "Injuries found to be serious.") == {}
    assert "reason" in rules.reclassification_problems("8N", "5D", "short")
    assert (
        "already classified"
        in rules.reclassification_problems("8N", "8N", "x" * 20)["offence_code"]
    )


def test_outcomes_are_the_home_office_types_0_to_22():
    assert sorted(rules.OUTCOMES) == list(range(23))
    assert rules.outcome_label(1) == "1 Charged/summonsed"
    assert rules.outcome_label(18).startswith("18 Investigation complete")
    # The Home Office Counting Rules' outcome 19: the NFIB's, for Action Fraud's fraud.
    assert rules.outcome_label(19).startswith("19 National Fraud Intelligence Bureau filed")


def test_outcome_19_is_the_nfibs_not_a_forces():
    problems = _outcome(code=19, victim_decision=None, victim_decision_on=None)
    assert "National Fraud Intelligence Bureau" in problems["outcome"]


def _outcome(**overrides):
    values = dict(
        code=16,
        outcome_date=date(2026, 12, 1),
        recorded_on=date(2026, 11, 26),
        today=date(2026, 12, 2),
        victim_decision="Does not want to go to court; wants the matter closed.",
        victim_decision_on=date(2026, 11, 30),
        victim_decision_by="PC 1234 Example",
    )
    values.update(overrides)
    return rules.outcome_problems(**values)


def test_outcomes_14_and_16_need_the_victims_recorded_decision():
    assert _outcome() == {}
    for code in (14, 16):
        problems = _outcome(
            code=code, victim_decision="", victim_decision_on=None, victim_decision_by=" "
        )
        assert set(problems) == {"victim_decision", "victim_decision_on", "victim_decision_by"}
    # Other outcomes need no victim's decision.
    assert (
        _outcome(code=1, victim_decision=None, victim_decision_on=None, victim_decision_by=None)
        == {}
    )


def test_an_outcome_is_dated_between_recording_and_today():
    assert "before the crime" in _outcome(outcome_date=date(2026, 11, 1))["outcome_date"]
    assert "future" in _outcome(outcome_date=date(2026, 12, 9))["outcome_date"]
    assert "0 to 22" in _outcome(code=23)["outcome"]


def test_outcome_16_on_domestic_abuse_needs_a_supervisor():
    assert rules.outcome_needs_approval(16, domestic=True)
    assert not rules.outcome_needs_approval(16, domestic=False)
    assert not rules.outcome_needs_approval(15, domestic=True)


def test_the_offence_classes_are_coded_and_published_under_an_open_data_type():
    text = resources.files("controlroom.db").joinpath("offence_class.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) and "8N" in codes
    assert next(r for r in rows if r["code"] == "8N")["name"] == "Assault with injury"
    assert {row["open_data_type"] for row in rows} <= set(CRIME_TYPES)


def test_the_clock_counts_in_hours_up_to_two_days():
    assert rules.read_clock(REPORT, None, REPORT).words == "24h 00m left of 24h"
    late = rules.read_clock(REPORT, None, REPORT + timedelta(hours=54))
    assert late.words.startswith("! BREACHED by 30h 00m")
    assert rules.read_clock(REPORT, None, REPORT + timedelta(days=12)).words.startswith(
        "! BREACHED by 11d 0h"
    )
