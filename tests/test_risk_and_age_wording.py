"""State that matters reads the same on every screen and survives any column width: the
queue's over-target mark, and the words for a level of risk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controlroom.domain.dash import RiskLevel as DashLevel
from controlroom.domain.queues import RiskLevel
from controlroom.screens.incident.dash import LEVEL_WORDS
from controlroom.screens.queue import COLUMNS, age_cell

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AGE_WIDTH = dict((key, width) for key, _, width in COLUMNS)["age"]


class Row:
    def __init__(self, waited: timedelta, target: timedelta) -> None:
        self.entered_at = NOW - waited
        self.target = target


def test_the_over_target_mark_comes_first_so_no_width_cuts_it():
    for waited in (timedelta(days=71, hours=16), timedelta(days=999, hours=23)):
        shown = age_cell(Row(waited, timedelta(hours=24)), NOW).plain
        assert shown.startswith("! ")
        assert shown[:AGE_WIDTH].startswith("! ")  # what the column shows
    assert (
        age_cell(Row(timedelta(days=71, hours=16), timedelta(hours=24)), NOW).plain[:AGE_WIDTH]
        == "! 71d 16h"
    )
    assert not age_cell(Row(timedelta(hours=2), timedelta(hours=24)), NOW).plain.startswith("!")


def test_a_dash_level_reads_as_the_queue_reads_the_same_risk():
    assert RiskLevel.HIGH.words == "HIGH ▲▲▲"
    assert {level: LEVEL_WORDS[level] for level in DashLevel} == {
        DashLevel.STANDARD: "STANDARD ▲",
        DashLevel.MEDIUM: "MEDIUM ▲▲",
        DashLevel.HIGH: "HIGH ▲▲▲",
    }
