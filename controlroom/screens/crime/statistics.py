"""F12: crime statistics for analysts and supervisors — twelve months to the current
one (p / n step back and on), read at a glance at 80x24 in 16 colours.

Three trend lines, each a sparkline with its figures in words: crimes recorded, the
crime data integrity rate (within 24 h), and domestic-abuse (MARAC) referrals. Then the
outcomes of the year's crimes (Home Office outcome numbers, the commonest first), and a
table of recorded crime by the 14 open-data crime types, or (t) by Home Office class,
each row with its own twelve-month bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Sparkline, Static

from controlroom.domain.crime import OUTCOMES, rate_words
from controlroom.domain.permissions import Action, may
from controlroom.screens.crime.months import MonthScreen
from controlroom.screens.seam import CallFailed
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.services.crimes import StatisticsReport

BARS = "▁▂▃▄▅▆▇█"
COLUMNS = (
    ("name", "Crime type", 34),
    ("year", "12 months", 9),
    ("last", "Last", 6),
    ("trend", "Trend (12 months)", 17),
)


def bars(values: tuple[int, ...] | list[float]) -> str:
    """A trend in block characters, one a month; "·" for a month with none."""
    top = max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    return "".join(
        "·" if v <= 0 else BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))]
        for v in values
    )


class CrimeStatistics(MonthScreen):
    """Twelve months of recorded crime, outcomes, integrity and referrals."""

    TITLE = "Crime statistics"
    DEFAULT_CSS = """
    CrimeStatistics #statistics { padding: 0 1; height: 1fr; }
    CrimeStatistics .trend { height: 1; }
    CrimeStatistics .trend .what { width: 26; }
    CrimeStatistics .trend Sparkline { width: 14; margin-right: 2; }
    CrimeStatistics .trend .figures { width: 1fr; }
    CrimeStatistics #statistics-outcomes { height: auto; margin-top: 1; }
    CrimeStatistics #statistics-table { height: 1fr; margin-top: 1; }
    """
    TABLE = "#statistics-table"
    DOING = "read the crime statistics"
    GROUP = "statistics"
    BINDINGS = [
        Binding("t", "toggle_table", "Types/classes", id="statistics.toggle"),
        Binding("p", "previous_month", "Prev month", id="statistics.previous"),
        Binding("n", "next_month", "Next month", id="statistics.next"),
        Binding("r", "reload", "Reload", id="statistics.reload", show=False),
    ]

    @dataclass
    class Read(Message):
        report: StatisticsReport

    def __init__(self) -> None:
        super().__init__()
        self.report: StatisticsReport | None = None
        self.by_class = False

    def compose_body(self) -> ComposeResult:
        self.allowed = may(self.app.actor.role, Action.STATISTICS_VIEW)
        with Vertical(id="statistics"):
            if not self.allowed:
                yield Static(
                    "Crime statistics are for analysts and supervisors: nothing is shown "
                    "here. Esc goes back.",
                    id="statistics-refused",
                    markup=False,
                )
                return
            yield Static("Reading twelve months of crime…", id="statistics-title")
            for key in ("recorded", "integrity", "referrals"):
                with Horizontal(classes="trend", id=f"trend-{key}"):
                    yield Static("", classes="what", markup=False)
                    yield Sparkline([0], summary_function=max)
                    yield Static("", classes="figures", markup=False)
            yield Static("", id="statistics-outcomes", markup=False)
            yield FixedColumnsTable[Text].with_columns(COLUMNS, id="statistics-table")

    def read_month(self, uow_factory, actor, month, now):
        from controlroom.services import crimes

        return crimes.crime_statistics(uow_factory(), actor, month, now)

    def action_toggle_table(self) -> None:
        # Pressed before the year is read ("F12 t" in one burst), the choice is kept.
        if self.allowed:
            self.by_class = not self.by_class
            self._fill_table()

    def _trend(self, key: str, what: str, values: list[float], figures: str) -> None:
        row = self.query_one(f"#trend-{key}", Horizontal)
        row.query_one(".what", Static).update(what)
        row.query_one(Sparkline).data = values or [0]
        row.query_one(".figures", Static).update(figures)

    @on(Read)
    def read(self, message: Read) -> None:
        self.report = report = message.report
        if report.months[-1] != self.month:
            return
        first, last = report.months[0], report.months[-1]
        self.query_one("#statistics-title", Static).update(
            Text(f"Crime statistics · {first:%b %Y} to {last:%b %Y} · p/n month", style="bold")
        )
        self._trend(
            "recorded",
            "Crimes recorded",
            [float(v) for v in report.recorded],
            f"{sum(report.recorded):,} in 12 months · {report.recorded[-1]:,} in {last:%b}",
        )
        rates = [c.rate_24h for c in report.integrity]
        self._trend(
            "integrity",
            "Recorded within 24h",
            [r * 100 for r in rates if r is not None],
            f"{rate_words(report.integrity[-1].rate_24h)} in {last:%b} · "
            f"{report.integrity[-1].unrecorded:,} not recorded (F11)",
        )
        self._trend(
            "referrals",
            "Domestic-abuse referrals",
            [float(v) for v in report.marac_referrals],
            f"{sum(report.marac_referrals):,} MARAC in 12 months · "
            f"{report.marac_referrals[-1]:,} in {last:%b}",
        )
        total = sum(n for _, n in report.outcomes)
        outcome_words = " · ".join(
            f"{code} {OUTCOMES[code].split(' (')[0].split(':')[0]} {n * 100 / total:.0f}%"
            for code, n in report.outcomes[:4]
        )
        self.query_one("#statistics-outcomes", Static).update(
            record_content(f"Outcomes: {outcome_words}" if total else "Outcomes: no crimes yet")
        )
        self._fill_table()

    def _fill_table(self) -> None:
        report = self.report
        if report is None:
            return
        table = self.query_one("#statistics-table", FixedColumnsTable)
        table.clear(columns=True)
        for key, label, width in COLUMNS:
            table.add_column(
                "Home Office class" if key == "name" and self.by_class else label,
                key=key,
                width=width,
            )
        rows = report.by_class if self.by_class else report.by_type
        for name, values in rows:
            table.add_row(
                record_text(name),
                Text(f"{sum(values):,}", end=""),
                Text(f"{values[-1]:,}", end=""),
                Text(bars(values), end=""),
                key=name,
            )

    @on(CallFailed)
    def failed(self, message: CallFailed) -> None:
        self.query_one("#statistics-title", Static).update(
            record_content(message.failure.sentence, style="bold")
        )
