"""The incident log as the operator reads it: append-only entries, oldest first, newest last.

Each entry is a heading line (local time, operator, what happened) and its text indented
beneath, so a long note wraps under itself and the next heading stands out. Grade and
status changes read "GRADE G3 → G1"; what happened is written in words, never carried
by colour alone. All entry text is record data: it reaches the screen only through
`record_text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.widgets import Static

from controlroom.widgets.record_text import record_text

LOG_TIME_FORMAT = "%d/%m %H:%M"

KIND_WORDS = {
    "note": "NOTE",
    "grade_change": "GRADE",
    "status_change": "STATUS",
    "link": "LINKED",
    "merged_call": "MERGED CALL",
    "correction": "CORRECTION",
    "closure": "CLOSED",
    "dash": "DASH",
    "referral": "REFERRAL",
    "signoff": "SIGNED OFF",
    "override": "OVERRIDE",
    "triage": "TRIAGE",
    "dispatch": "DISPATCH",
    "attendance": "ATTENDANCE",
}


def _value_words(kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    return value.replace("_", " ") if kind == "status_change" else value


def entry_heading(entry, zone: tzinfo) -> Text:
    """ "26/11 09:12  Demo Supervisor  GRADE G3 → G1" for one `LogEntry`."""
    heading = Text(entry.entered_at.astimezone(zone).strftime(LOG_TIME_FORMAT), style="bold")
    heading.append("  ")
    heading.append_text(record_text(entry.entered_by))
    heading.append("  ")
    heading.append(
        KIND_WORDS.get(entry.kind, entry.kind.upper().replace("_", " ")),
        style="bold reverse" if entry.kind in {"grade_change", "closure"} else "bold",
    )
    if entry.kind in {"grade_change", "status_change"}:
        heading.append(" ")
        heading.append_text(record_text(_value_words(entry.kind, entry.old_value), style="bold"))
        heading.append(" → ", style="bold")
        heading.append_text(record_text(_value_words(entry.kind, entry.new_value), style="bold"))
    return heading


class IncidentLog(Static):
    """Renders a sequence of `services.incidents.LogEntry`, oldest first, in local time.

    Set the entries with `show_entries`; the widget keeps no state beyond what it shows.
    """

    DEFAULT_CSS = """
    IncidentLog {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._zone = zone
        self.entry_count = 0

    def show_entries(self, entries: Iterable) -> None:
        parts: list[RenderableType] = []
        ordered = sorted(entries, key=lambda e: (e.entered_at, e.id))
        for entry in ordered:
            parts.append(entry_heading(entry, self._zone))
            if entry.text:
                parts.append(Padding(record_text(entry.text, multiline=True), (0, 0, 0, 2)))
        self.entry_count = len(ordered)
        self.update(Group(*parts) if parts else Text("No log entries.", end=""))
