"""The warnings beside the entry form: the place, its history, and the people and their markers.

Everything here surfaces by itself as soon as a location is set or a person is linked;
the operator never leaves the form to see it. Markers are written in words (REGISTERED
SEX OFFENDER, VIOLENT ...) with a "!" before the most serious, so they read the same
without colour.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from controlroom.domain.local_time import LOCAL_ZONE
from controlroom.domain.markers import NO_MARKERS, marker_phrase
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content


def marker_words(markers: Iterable) -> Content:
    """Markers as words: "!REGISTERED SEX OFFENDER, VIOLENT" (severity 1 gets the "!")."""
    parts: list[Content] = []
    for marker in markers:
        severity = getattr(marker, "severity", 3)
        style = "bold $error" if severity == 1 else "bold $warning"
        parts.append(record_content(marker_phrase(marker.label, severity), style=style))
    if not parts:
        return Content(NO_MARKERS)
    return Content(", ").join(parts)


LOCATION_PROMPT = "Set a location: its history and the people there show here."


class WarningPanel(VerticalScroll):
    """Shows location context, linked persons and possible duplicate calls, in that order."""

    DEFAULT_CSS = """
    WarningPanel {
        width: 32;
        height: 1fr;
        border-left: vkey $primary;
        padding: 0 0 0 1;
        &:ansi { border-left: ascii ansi_blue; }
        .warning-heading { text-style: bold reverse; }
        &:focus .warning-heading { text-style: bold reverse underline; }
        .warning-alarm { text-style: bold; color: $error; }
        &:ansi .warning-alarm { color: ansi_bright_red; }
        #warning-duplicates.-none, #warning-persons.-none { display: none; }
    }
    """

    # Focusable (last in the Tab order) so a long list can be scrolled from the keyboard.
    can_focus = True

    def compose(self) -> ComposeResult:
        # Possible duplicates first: they change what the operator should do next.
        yield Static("WARNINGS", classes="warning-heading", markup=False)
        yield Static(id="warning-duplicates", classes="-none warning-alarm")
        yield Static(LOCATION_PROMPT, id="warning-location", markup=False)
        yield Static(id="warning-persons", classes="-none")

    def show_location(self, context, *, as_of: datetime | None = None, seen: bool = True) -> None:
        """`context` is a services.locations.LocationContext; `as_of`: it comes from the
        station's cache, as last seen then (`seen`), or the place's hazards alone as of
        the gazetteer's reading."""
        location = context.location
        lines: list[Content] = []
        if as_of is not None:
            when = f"{as_of.astimezone(LOCAL_ZONE):%d/%m %H:%M}"
            if seen:
                lines.append(Content.styled(f"AS LAST SEEN {when}", "bold reverse"))
                lines.append(Content("from this station's cache: may have changed since"))
            else:
                lines.append(Content.styled(f"FROM THE CACHE OF {when}", "bold reverse"))
                lines.append(Content("hazards only: its history and people were not seen here"))
        lines += [
            record_content(location.address, style="bold"),
            record_content(" ".join(p for p in (location.town, location.postcode) if p)),
        ]
        for hazard in context.hazards:
            lines.append(record_content(f"HAZARD: {hazard}", style="bold $error"))
        count = context.incidents_12m
        if seen:
            lines.append(Content(f"{count} incident{'' if count == 1 else 's'} in 12 months"))
        for incident in context.recent:
            lines.append(
                record_content(
                    f" {incident.opened_at:%d/%m/%y} {incident.reference[-9:]} {incident.type_label}"
                )
            )
        if context.people:
            lines.append(Content.styled("PEOPLE AT THIS ADDRESS", "bold"))
            for person in context.people:
                lines.append(record_content(f" {person.name}"))
                lines.append(Content("   ") + marker_words(person.markers))
        show(self.query_one("#warning-location", Static), Content("\n").join(lines))

    def clear_location(self) -> None:
        """The location is being changed: what the panel said about the last one (its
        hazards, its people) no longer applies."""
        # Asked on every key in the location field: `show` leaves the panel alone while
        # it already says this (an update lays the form out again).
        show(self.query_one("#warning-location", Static), LOCATION_PROMPT)

    def show_unverified(self, text: str) -> None:
        show(
            self.query_one("#warning-location", Static),
            Content.styled("UNVERIFIED LOCATION", "bold")
            + Content("\nNo known address chosen; the incident will be flagged. ")
            + record_content(text),
        )

    def show_persons(self, linked: list) -> None:
        """`linked` holds (role, PersonSummary) pairs."""
        panel = self.query_one("#warning-persons", Static)
        if not linked:
            panel.add_class("-none")
            return
        lines = [Content.styled("LINKED PERSONS", "bold")]
        for role, person in linked:
            lines.append(record_content(f"{role.upper()}: {person.forename} {person.surname}"))
            lines.append(Content("   ") + marker_words(person.markers))
        panel.update(Content("\n").join(lines))
        panel.remove_class("-none")

    def show_duplicates(self, duplicates: list) -> None:
        panel = self.query_one("#warning-duplicates", Static)
        if not duplicates:
            panel.add_class("-none")
            return
        lines = [Content("POSSIBLE SAME INCIDENT — alt+d links this call")]
        for incident in duplicates:
            lines.append(
                record_content(
                    f"{incident.reference} {incident.type_label} {incident.location_text}"
                )
            )
        panel.update(Content("\n").join(lines))
        panel.remove_class("-none")
