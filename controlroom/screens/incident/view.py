"""Incident view: one incident as it stands, and the keys that change it.

Two fixed lines say what matters first: the reference, grade, status and type, and the
age against the grade's attendance target in words ("age 42m of 60m target",
"! OVER TARGET by 12m"), never colour alone. Beneath, one scrollable column holds
everything else, so it is all reachable at 80x24: when and by whom it was opened, the
location (verified or UNVERIFIED) with its hazards and twelve months' history, the
caller, the linked persons and their markers in words, THRIVE (or NOT ASSESSED), the
flags, the narrative, the closure and the append-only log, newest last.

Keys: n note, g regrade, s status, x close, a reassess, d DASH, m / k mark the next
referral sent / acknowledged, l jump to the log, r reload, Esc back.

Safeguarding and referrals: a second read (`services.safeguarding.evaluate`, audited)
shows the DASH level in force (or DASH NOT DONE on a domestic incident), the rules that
stop the incident being graded G4 or closed without a supervisor override, any
overrides, and each referral with its status and when its next step is due ("! OVERDUE"
in words once past). Each change opens a dialog (`incident_actions`) that sends the `version` of
the incident on show; when another operator saved first, the dialog stays open with
the typing and this view shows the current incident at once.

An old system's incident (issue 19) says LEGACY beside its reference; every change key
says it is read-only instead of opening its dialog (the services refuse it too).

Opening the view reads the incident through `view_incident`, which writes the audit
event; so does every reload with r. Record text reaches the screen only through
`record_content` / `record_text`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, Static

from controlroom.domain.grades import Grade
from controlroom.domain.incidents import THRIVE_LABELS, THRIVE_PARTS, IncidentFlag
from controlroom.domain.legacy import read_only_message
from controlroom.screens.ages import format_age
from controlroom.screens.frame import FramedScreen
from controlroom.screens.incident.actions import (
    CloseDialog,
    IncidentChangeDialog,
    NoteDialog,
    ReassessDialog,
    RegradeDialog,
    SignOffDialog,
    StatusDialog,
)
from controlroom.screens.seam import CallFailed, FailureKind
from controlroom.widgets.incident_log import IncidentLog
from controlroom.widgets.legacy_badge import legacy_badge
from controlroom.widgets.record_text import record_content
from controlroom.widgets.warning_panel import marker_words

if TYPE_CHECKING:
    from controlroom.services.crimes import IncidentCrimes
    from controlroom.services.incidents import IncidentDetail
    from controlroom.services.locations import LocationContext
    from controlroom.services.resources import IncidentResources
    from controlroom.services.safeguarding import SafeguardingStatus

DATE_TIME_FORMAT = "%d/%m/%y %H:%M"
AGE_REFRESH_SECONDS = 30.0
RECENT_SHOWN = 5


def format_target(target: timedelta) -> str:
    """An attendance target as forces write it: 15m, 60m, 48h."""
    minutes = int(target.total_seconds() // 60)
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def attendance(
    *,
    opened_at: datetime,
    now: datetime,
    grade: Grade | None,
    attended_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> tuple[str, bool]:
    """The age of an incident against its grade's attendance target, and whether it is over.

    The words carry the meaning (with a "!" when over target), so the line reads the
    same in 16 colours or none. Once someone is at scene the clock stops at the
    attendance; a closed incident that nobody attended says how long it was open.
    """
    if attended_at is not None:
        taken = attended_at - opened_at
        if grade is None or grade.target is None:
            return f"attended after {format_age(taken)}", False
        if taken > grade.target:
            return (
                f"! attended after {format_age(taken)}: OVER TARGET by "
                f"{format_age(taken - grade.target)} ({format_target(grade.target)} target)",
                True,
            )
        return f"attended after {format_age(taken)} of {format_target(grade.target)} target", False
    if closed_at is not None:
        return f"closed after {format_age(closed_at - opened_at)}, not attended", False
    age = now - opened_at
    if grade is None:
        return f"age {format_age(age)} · grade not configured here: no target known", False
    if grade.target is None:
        return f"age {format_age(age)} · no attendance target", False
    if age > grade.target:
        return (
            f"! OVER TARGET by {format_age(age - grade.target)} — age {format_age(age)} "
            f"of {format_target(grade.target)} target",
            True,
        )
    return f"age {format_age(age)} of {format_target(grade.target)} target", False


def _status_words(status: str) -> str:
    return status.replace("_", " ").upper()


class IncidentView(FramedScreen):
    """One incident, by reference. See the module docstring for what it shows."""

    TITLE = "Incident"
    AUTO_FOCUS = "#view-body"

    # The footer shows the everyday keys in 80 columns; the rest (referrals, reload, who
    # looked) are listed by F1 and found by ctrl+p like every other binding.
    BINDINGS = [
        Binding("n", "note", "Note", id="view.note", tooltip="Add a note to the log"),
        Binding(
            "g",
            "regrade",
            "Regrade",
            id="view.regrade",
            tooltip="Change the grade (a reason is required)",
        ),
        Binding("s", "status", "Status", id="view.status", tooltip="Change the status"),
        Binding(
            "x",
            "close_incident",
            "Close",
            id="view.close",
            tooltip="Close with a closing type and a result",
        ),
        Binding(
            "a", "reassess", "Reassess", id="view.reassess", tooltip="Re-do THRIVE and the flags"
        ),
        Binding(
            "d", "dash", "DASH", id="view.dash", tooltip="DASH risk assessment (domestic abuse)"
        ),
        Binding(
            "m",
            "referral_sent",
            "Referral sent",
            id="view.referral_sent",
            tooltip="Mark the next referral waiting to be sent as sent",
            show=False,
        ),
        Binding(
            "k",
            "referral_acknowledged",
            "Referral ack",
            id="view.referral_acknowledged",
            tooltip="Mark the next sent referral as acknowledged",
            show=False,
        ),
        Binding("l", "jump_log", "Log", id="view.log", tooltip="Jump to the newest log entry"),
        Binding(
            "u",
            "send_units",
            "Units",
            id="view.send_units",
            tooltip="Send units: the nearest with the skills this incident needs",
            show=False,
        ),
        Binding(
            "r,ctrl+r",
            "reload",
            "Reload",
            id="view.reload",
            tooltip="Read the incident from the database again",
            show=False,
        ),
        Binding(
            "w",
            "who_looked",
            "Who looked",
            id="view.who_looked",
            tooltip="Who opened or changed this incident (supervisors)",
            show=False,
        ),
        Binding(
            "c",
            "record_crime",
            "Crime",
            id="view.record_crime",
            tooltip="Record a crime from this incident (one per victim)",
        ),
        Binding(
            "o",
            "crime_outcome",
            "Outcome",
            id="view.crime_outcome",
            tooltip="Give a crime its outcome (0-22); supervisors approve one waiting",
            show=False,
        ),
        Binding(
            "p",
            "crime_parties",
            "Victim/suspects",
            id="view.crime_parties",
            tooltip="Link a victim to a crime recorded without one; add or remove suspects",
            show=False,
        ),
        Binding(
            "e",
            "change_crime",
            "Reclassify",
            id="view.change_crime",
            tooltip="Reclassify a crime, or ask for (supervisors: decide) its cancellation",
            show=False,
        ),
        Binding(
            "v",
            "sign_off",
            "Sign off",
            id="view.signoff",
            tooltip="Sign off or return a no-crime closure (supervisors)",
            show=False,
        ),
    ]

    @dataclass
    class DetailLoaded(Message):
        """The incident as it stands (the read is audited)."""

        detail: IncidentDetail

    @dataclass
    class LocationLoaded(Message):
        """The incident location's hazards and twelve months' history."""

        location_id: int
        context: LocationContext

    @dataclass
    class SafeguardingLoaded(Message):
        """The safeguarding rules, DASH level and referrals in force for the incident."""

        incident_id: int
        status: SafeguardingStatus

    @dataclass
    class CrimesLoaded(Message):
        """The incident's crimes and its NCRS clock."""

        incident_id: int
        crimes: IncidentCrimes

    @dataclass
    class ReferralStepped(Message):
        """A referral was marked sent or acknowledged; `words` say which."""

        words: str

    class DetailFailed(CallFailed):
        """The incident could not be read."""

    class LocationFailed(CallFailed):
        """The location's history could not be read: said in its place."""

    class StepFailed(CallFailed):
        """Safeguarding could not be read, or a referral step was not saved."""

    @dataclass
    class UnitsLoaded(Message):
        """The units sent to the incident and its attendance clock."""

        incident_id: int
        resources: IncidentResources

    class UnitsFailed(CallFailed):
        """The incident's units could not be read: said in their place."""

    def __init__(self, reference: str) -> None:
        super().__init__()
        self.reference = reference
        self.detail: IncidentDetail | None = None
        self.location_context: LocationContext | None = None
        self._context_for: int | None = None
        self.safeguarding: SafeguardingStatus | None = None  # the last one shown
        self.crimes: IncidentCrimes | None = None  # the last one shown
        self._say_after_read: str | None = None
        self._jump_to_log_after_read = False  # a note was added: show the log's end

    # --- layout ------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="incident-view"):
            yield Static(record_content(self.reference, style="bold"), id="view-title")
            yield Static("Reading the incident…", id="view-age", markup=False)
            yield Static("", id="view-message", classes="field-error", markup=False)
            with VerticalScroll(id="view-body"):
                for label, widget_id in (
                    ("Opened", "view-opened"),
                    ("Units", "view-units"),
                    ("Type", "view-type"),
                    # NCRS: the clock high on the page, so a breach is seen at once.
                    ("Crime", "view-crime"),
                    ("Location", "view-location"),
                    ("History", "view-history"),
                    ("Caller", "view-caller"),
                    ("Persons", "view-persons"),
                    ("THRIVE", "view-thrive"),
                    ("Flags", "view-flags"),
                    ("Narrative", "view-narrative"),
                    ("Safeguard", "view-safeguarding"),
                    ("Referrals", "view-referrals"),
                    ("Closed", "view-closure"),
                ):
                    with Horizontal(classes="view-row", id=f"{widget_id}-row"):
                        yield Label(label, classes="view-label")
                        yield Static("", id=widget_id, classes="view-value")
                yield Static(
                    "LOG — oldest first, newest last", classes="view-heading", markup=False
                )
                yield IncidentLog(self.app.zone, id="view-log")

    def on_mount(self) -> None:
        self.query_one("#view-closure-row").display = False
        self.query_one("#view-safeguarding-row").display = False
        self.query_one("#view-referrals-row").display = False
        self.query_one("#view-crime-row").display = False
        self.query_one("#view-units-row").display = False
        self.load_detail()
        self.set_interval(AGE_REFRESH_SECONDS, self._show_age)

    # --- reading ------------------------------------------------------------------------

    def load_detail(self) -> None:
        from controlroom.services import incidents

        uow_factory, actor, reference = self.app.uow_factory, self.app.actor, self.reference
        today = self.app.local_today
        self.run_service(
            lambda: incidents.view_incident(uow_factory(), actor, reference, today=today()),
            self.DetailLoaded,
            doing="read the incident",
            group="incident-detail",
            failed=self.DetailFailed,
        )

    def load_location(self, location_id: int) -> None:
        from controlroom.services import locations

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: locations.location_context(uow_factory(), actor, location_id, clock()),
            lambda context: self.LocationLoaded(location_id, context),
            doing="read the location's history",
            group="incident-location",
            failed=self.LocationFailed,
        )

    def load_safeguarding(self, incident_id: int) -> None:
        from controlroom.services import safeguarding

        uow_factory, actor, today = self.app.uow_factory, self.app.actor, self.app.local_today
        self.run_service(
            lambda: safeguarding.evaluate(uow_factory(), actor, incident_id, today=today()),
            lambda status: self.SafeguardingLoaded(incident_id, status),
            doing="read the safeguarding rules",
            group="incident-safeguarding",
            failed=self.StepFailed,
        )

    def load_crimes(self, incident_id: int) -> None:
        from controlroom.services import crimes

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.run_service(
            lambda: crimes.incident_crimes(uow_factory(), actor, incident_id, clock()),
            lambda found: self.CrimesLoaded(incident_id, found),
            doing="read the incident's crimes",
            group="incident-crimes",
            failed=self.StepFailed,
        )

    def load_units(self, incident_id: int) -> None:
        from controlroom.services import resources

        uow_factory, actor = self.app.uow_factory, self.app.actor
        self.run_service(
            lambda: resources.incident_resources(uow_factory(), actor, incident_id),
            lambda found: self.UnitsLoaded(incident_id, found),
            doing="read the incident's units",
            group="incident-units",
            failed=self.UnitsFailed,
        )

    @on(UnitsLoaded)
    def units_loaded(self, message: UnitsLoaded) -> None:
        if self.detail is None or message.incident_id != self.detail.id:
            return
        found = message.resources
        now_on = [u for u in found.units if u.cleared_at is None]
        parts = [f"{u.callsign} {u.status_code}" for u in now_on]
        cleared = len(found.units) - len(now_on)
        # Hidden until a unit is sent: the incident's first lines stay where they were.
        self.query_one("#view-units-row").display = bool(found.units)
        line = record_content(", ".join(parts) if parts else "none on it now")
        if cleared:
            line += Content(f" · {cleared} cleared")
        if found.attendance:
            line += Content("\n") + Content(
                ("! " if found.met is False else "") + found.attendance
            ).stylize("bold")
        self._set("view-units", line)

    @on(UnitsFailed)
    def units_failed(self, message: UnitsFailed) -> None:
        message.stop()
        self._set("view-units", record_content(message.failure.sentence))

    def action_send_units(self) -> None:
        from controlroom.screens.send_units import SendUnits

        def sent(words: str | None) -> None:
            if words:
                self._say_after_read = words
                self.load_detail()

        # By the reference the view was opened on: a u typed ahead of the first read
        # still opens the right incident's recommendations.
        self.app.push_screen(SendUnits(self.reference), sent)

    def step_referral(self, referral_id: int, step: str, words: str) -> None:
        from controlroom.services import referrals

        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        change = referrals.mark_sent if step == "sent" else referrals.mark_acknowledged
        self.run_service(
            lambda: change(uow_factory(), actor, referral_id, clock()),
            lambda _: self.ReferralStepped(words),
            doing=f"mark the referral {step}",
            group="incident-referral",
            failed=self.StepFailed,
        )

    @on(DetailLoaded)
    def detail_loaded(self, message: DetailLoaded) -> None:
        self._clear_message()
        self.show_detail(message.detail)
        if self._say_after_read:
            self._say(self._say_after_read)
            self._say_after_read = None
        if self._jump_to_log_after_read:
            # Jump once the re-read incident is laid out: a jump measured against
            # the page before the read can land past the new end (a blank view).
            self._jump_to_log_after_read = False
            self.call_after_refresh(self.action_jump_log)

    @on(LocationLoaded)
    def location_loaded(self, message: LocationLoaded) -> None:
        if self.detail is not None and message.location_id == self.detail.location_id:
            self.location_context = message.context
            self._show_history()

    @on(SafeguardingLoaded)
    def safeguarding_loaded(self, message: SafeguardingLoaded) -> None:
        if self.detail is not None and message.incident_id == self.detail.id:
            self.show_safeguarding(message.status)

    @on(CrimesLoaded)
    def crimes_loaded(self, message: CrimesLoaded) -> None:
        if self.detail is not None and message.incident_id == self.detail.id:
            self.show_crimes(message.crimes)

    @on(ReferralStepped)
    def referral_stepped(self, message: ReferralStepped) -> None:
        self._say(message.words)
        if self.detail is not None:
            self.load_safeguarding(self.detail.id)

    @on(DetailFailed)
    def detail_failed(self, message: DetailFailed) -> None:
        from controlroom.services.incidents import IncidentNotFound

        message.stop()
        failure = message.failure
        if isinstance(failure.error, IncidentNotFound):
            self._say(f"No incident {self.reference}: check the reference. Esc goes back.")
        elif failure.kind in (FailureKind.REFUSED, FailureKind.DECLINED):
            self._say(f"{failure.sentence} Esc goes back.")
        else:
            self._say(f"What is shown may be out of date; r reads it again. {failure.sentence}")
        if self.detail is None:
            self.query_one("#view-age", Static).update("")

    @on(LocationFailed)
    def location_failed(self, message: LocationFailed) -> None:
        message.stop()
        self.query_one("#view-history", Static).update(record_content(message.failure.sentence))

    @on(StepFailed)
    def step_failed(self, message: StepFailed) -> None:
        message.stop()
        self._say(message.failure.sentence)

    # --- drawing -------------------------------------------------------------------------

    def show_detail(self, detail) -> None:
        """Show `detail` (an `IncidentDetail`): after a read, a change or a conflict."""
        self.detail = detail
        self.reference = detail.reference
        if detail.location_id is None:
            self.location_context = None
            self._context_for = None
        elif detail.location_id != self._context_for:
            self.location_context = None
            self._context_for = detail.location_id
            self.load_location(detail.location_id)
        grade = self._grade(detail.grade)
        title = (
            record_content(detail.reference, style="bold")
            + Content("  ")
            + (legacy_badge() + Content("  ") if detail.legacy else Content(""))
            + record_content(grade.label if grade else detail.grade, style="bold")
            + Content("  ")
            + Content(
                _status_words(detail.status)
                + (" — AWAITING SIGN-OFF" if detail.awaiting_signoff else "")
            ).stylize("bold reverse")
            + Content("  ")
            + record_content(detail.type_label)
        )
        self.query_one("#view-title", Static).update(title)
        self._show_age()
        zone = self.app.zone
        opened = f"{detail.opened_at.astimezone(zone):{DATE_TIME_FORMAT}}"
        self._set(
            "view-opened",
            record_content(
                f"{opened} in the old system {detail.workstation} (imported by {detail.opened_by})"
                if detail.legacy
                else f"{opened} by {detail.opened_by} at {detail.workstation}"
            ),
        )
        type_line = Content("opened as ") + record_content(detail.type_label)
        if detail.closing_type_code:
            type_line += Content(" · closed as ") + record_content(
                detail.closing_type_label or detail.closing_type_code, style="bold"
            )
        self._set("view-type", type_line)
        self._show_location(detail)
        self._show_history()
        self._set("view-caller", self._caller(detail))
        self._set("view-persons", self._persons(detail))
        self._set("view-thrive", self._thrive(detail))
        self._set("view-flags", self._flags(detail))
        self._set(
            "view-narrative",
            record_content(detail.narrative, multiline=True)
            if detail.narrative.strip()
            else Content("none recorded"),
        )
        self._show_closure(detail)
        self.query_one(IncidentLog).show_entries(detail.log)
        self.load_safeguarding(detail.id)
        self.load_crimes(detail.id)
        self.load_units(detail.id)

    def show_crimes(self, found) -> None:
        """Show an `IncidentCrimes`: the NCRS clock in words, and each crime recorded."""
        self.crimes = found
        lines: list[Content] = []
        clock = found.clock
        if clock is not None:
            line = Content("NCRS 24h: ").stylize("bold") + Content(clock.words)
            if clock.breached:
                line = line.stylize("bold reverse")
            lines.append(line)
        zone = self.app.zone
        for crime in found.crimes:
            head = record_content(
                f"{crime.reference} {crime.offence_code} {crime.offence_name}", style="bold"
            )
            if crime.state != "recorded":
                head += Content(f" — {crime.state.replace('_', ' ').upper()}").stylize("bold")
            lines.append(head)
            victim = crime.victim or (
                "not linked yet (p links one)"
                if crime.victim_based
                else "no victim (offence against the state)"
            )
            lines.append(record_content(f"  victim: {victim}"))
            if crime.suspects:
                lines.append(record_content("  suspect: " + ", ".join(crime.suspects)))
            outcome = f"  outcome {crime.outcome_words}"
            if crime.outcome_date:
                outcome += f" ({crime.outcome_date:%d/%m/%Y})"
            lines.append(record_content(outcome))
            if crime.outcome_awaiting is not None:
                lines.append(
                    Content(
                        f"  ! outcome {crime.outcome_awaiting} AWAITS A SUPERVISOR (o, ctrl+a)"
                    ).stylize("bold")
                )
            lines.append(
                record_content(
                    f"  recorded {crime.recorded_at.astimezone(zone):{DATE_TIME_FORMAT}} "
                    f"by {crime.recorded_by}"
                )
            )
            for change in crime.reclassifications:
                lines.append(record_content(f"  reclassified {change}"))
        if clock is not None and clock.running:
            closed = self.detail is not None and self.detail.status == "closed"
            lines.append(
                Content(
                    "  c records the crime"
                    + ("; a no-crime closure needs sign-off (v)" if closed else "; x: no crime")
                )
            )
        row = self.query_one("#view-crime-row")
        row.display = bool(lines)
        if lines:
            self._set("view-crime", Content("\n").join(lines))

    def show_safeguarding(self, status) -> None:
        """Show a `SafeguardingStatus`: DASH, the rules in force, overrides, referrals."""
        self.safeguarding = status
        lines: list[Content] = []
        if self.detail is not None and self.detail.legacy:
            # The old system's risk assessments did not come across: no rule here
            # applies to a closed, read-only record, and no key can act on one.
            self.query_one("#view-safeguarding-row").display = True
            self.query_one("#view-referrals-row").display = False
            self._set(
                "view-safeguarding",
                Content("LEGACY: safeguarding was recorded in the old system").stylize("bold"),
            )
            return
        if status.dash_level is not None:
            lines.append(
                Content(
                    f"DASH {status.dash_level.label} (score {status.dash_score} of 27"
                    + (", raised by judgement" if status.dash_raised else "")
                    + ")"
                ).stylize("bold")
            )
        elif status.domestic:
            lines.append(Content("DASH NOT DONE — d to assess").stylize("bold reverse"))
        for breach in status.breaches:
            lines.append(Content(f"! {breach.title}").stylize("bold"))
        if status.breaches:
            lines.append(Content("  so: no G4 and no closing without a supervisor override"))
        for override in status.overrides:
            lines.append(
                Content(
                    f"OVERRIDDEN {override.overridden_at.astimezone(self.app.zone):%d/%m %H:%M} by "
                )
                + record_content(override.supervisor)
                + Content(": ")
                + record_content(override.reason)
            )
        row = self.query_one("#view-safeguarding-row")
        row.display = bool(lines)
        if lines:
            self._set("view-safeguarding", Content("\n").join(lines))
        referrals = self.query_one("#view-referrals-row")
        referrals.display = bool(status.referrals)
        if status.referrals:
            now = self.app.clock()
            self._set(
                "view-referrals",
                Content("\n").join(self._referral_line(r, now) for r in status.referrals),
            )

    def _referral_line(self, referral, now: datetime) -> Content:
        zone = self.app.zone
        line = Content(f"{referral.kind_label}: {referral.status.upper()}").stylize("bold")
        due = referral.due_at
        if due is not None:
            step = "send" if referral.status == "created" else "acknowledgement"
            line += Content(f" · {step} due {due.astimezone(zone):{DATE_TIME_FORMAT}}")
            if referral.overdue(now):
                line += Content(" ! OVERDUE").stylize("bold reverse")
        elif referral.acknowledged_at is not None:
            line += Content(f" · {referral.acknowledged_at.astimezone(zone):{DATE_TIME_FORMAT}}")
        return line

    def _set(self, widget_id: str, content: Content) -> None:
        self.query_one(f"#{widget_id}", Static).update(content)

    def _grade(self, code: str) -> Grade | None:
        return next((g for g in self.app.settings.grades if g.code == code), None)

    def _show_age(self) -> None:
        detail = self.detail
        if detail is None:
            return
        attended_at = next(
            (
                e.entered_at
                for e in detail.log
                if e.kind == "status_change" and e.new_value == "at_scene"
            ),
            None,
        )
        words, over = attendance(
            opened_at=detail.opened_at,
            now=self.app.clock(),
            grade=self._grade(detail.grade),
            attended_at=attended_at,
            closed_at=detail.closed_at,
        )
        age = self.query_one("#view-age", Static)
        age.update(Content(words))
        age.set_class(over, "-over")

    def _show_location(self, detail: IncidentDetail) -> None:
        line = record_content(detail.location_text)
        if detail.postcode and detail.postcode not in detail.location_text:
            line += Content(" ") + record_content(detail.postcode)
        if detail.location_verified:
            line += Content("  ✓ verified")
        else:
            line += Content("  ") + Content("UNVERIFIED").stylize("bold reverse")
        self._set("view-location", line)

    def _show_history(self) -> None:
        detail, context = self.detail, self.location_context
        if detail is None:
            return
        if detail.location_id is None:
            self._set("view-history", Content("no known address: no history or hazards to show"))
            return
        if context is None:
            self._set("view-history", Content("reading the history of this address…"))
            return
        lines: list[Content] = [
            record_content(f"HAZARD: {hazard}", style="bold") for hazard in context.hazards
        ]
        lines.append(
            Content(
                f"{context.incidents_12m} incident(s) here in 12 months"
                + (", last five:" if context.recent else "")
            )
        )
        for incident in context.recent[:RECENT_SHOWN]:
            this = "  (this one)" if incident.id == detail.id else ""
            lines.append(
                record_content(
                    f" {incident.opened_at.astimezone(self.app.zone):%d/%m/%y} {incident.reference} "
                    f"{incident.grade} {incident.type_label} · {incident.status.replace('_', ' ')}"
                    f"{this}"
                )
            )
        for person in context.people:
            lines.append(
                record_content(f"LIVES HERE: {person.name}")
                + Content(" — ")
                + marker_words(person.markers)
            )
        self._set("view-history", Content("\n").join(lines))

    @staticmethod
    def _caller(detail) -> Content:
        parts = [
            p
            for p in (detail.caller_name, detail.caller_phone, detail.caller_relationship)
            if p and p.strip()
        ]
        return record_content(" · ".join(parts)) if parts else Content("not recorded")

    @staticmethod
    def _persons(detail) -> Content:
        if not detail.persons:
            return Content("none linked")
        lines: list[Content] = []
        for person in detail.persons:
            born = f" b. {person.date_of_birth:%d/%m/%Y}" if person.date_of_birth else ""
            lines.append(
                record_content(f"{person.role.upper()}: {person.name}{born}", style="bold")
            )
            lines.append(Content("  ") + marker_words(person.markers))
        return Content("\n").join(lines)

    @staticmethod
    def _thrive(detail) -> Content:
        thrive = detail.thrive or {}
        if detail.thrive_skipped or not any((thrive.get(p) or "").strip() for p in THRIVE_PARTS):
            words = "NOT ASSESSED" + (" (skipped explicitly)" if detail.thrive_skipped else "")
            return Content(words).stylize("bold reverse")
        return Content("\n").join(
            Content(f"{THRIVE_LABELS[part]}: ").stylize("bold")
            + (
                record_content(thrive.get(part))
                if (thrive.get(part) or "").strip()
                else Content("— not recorded")
            )
            for part in THRIVE_PARTS
        )

    @staticmethod
    def _flags(detail) -> Content:
        set_flags = [f.label.upper() for f in IncidentFlag if getattr(detail, f)]
        not_set = [f.label for f in IncidentFlag if not getattr(detail, f)]
        line = Content(", ".join(set_flags) if set_flags else "none set").stylize("bold")
        if not_set and set_flags:
            line += Content(f" · not: {', '.join(not_set)}")
        return line

    def _show_closure(self, detail) -> None:
        row = self.query_one("#view-closure-row")
        row.display = detail.status == "closed"
        if detail.status != "closed":
            return
        lines = [
            Content(
                f"{detail.closed_at.astimezone(self.app.zone):{DATE_TIME_FORMAT}}"
                if detail.closed_at
                else "closed"
            ),
            Content("Result: ").stylize("bold") + record_content(detail.result, multiline=True),
        ]
        if detail.crime_reference:
            lines.append(
                Content("Crime ref: ").stylize("bold") + record_content(detail.crime_reference)
            )
        if detail.no_crime_reason:
            lines.append(
                Content("No crime recorded: ").stylize("bold")
                + record_content(detail.no_crime_reason, multiline=True)
            )
        if detail.awaiting_signoff:
            lines.append(Content("AWAITING SUPERVISOR SIGN-OFF (v)").stylize("bold"))
        elif detail.signoff:
            lines.append(Content("Signed off by a supervisor"))
        self._set("view-closure", Content("\n").join(lines))

    def _say(self, message: str) -> None:
        widget = self.query_one("#view-message", Static)
        widget.update(record_content(message))
        widget.add_class("-shown")

    def _clear_message(self) -> None:
        widget = self.query_one("#view-message", Static)
        widget.update("")
        widget.remove_class("-shown")

    # --- keys ------------------------------------------------------------------------------

    def _ready(self, *, open_only: bool) -> IncidentDetail | None:
        """The incident on show, if a change may be made to it now (else says why)."""
        detail = self.detail
        if detail is None:
            self._say("The incident is not on screen yet: wait, or r to read it again.")
            return None
        if detail.legacy:  # the service refuses too; say so before any typing
            self._say(read_only_message("incident", detail.reference))
            return None
        if open_only and detail.status == "closed":
            self._say(f"{detail.reference} is closed: only notes can be added (n).")
            return None
        self._clear_message()
        return detail

    def _open(self, dialog: IncidentChangeDialog) -> None:
        self.app.push_screen(dialog, self._changed)

    def action_note(self) -> None:
        if detail := self._ready(open_only=False):
            self._open(NoteDialog(detail, self.show_detail))

    def action_regrade(self) -> None:
        if detail := self._ready(open_only=True):
            self._open(
                RegradeDialog(detail, self.show_detail, grades=tuple(self.app.settings.grades))
            )

    def action_status(self) -> None:
        if detail := self._ready(open_only=True):
            self._open(StatusDialog(detail, self.show_detail))

    def action_close_incident(self) -> None:
        if detail := self._ready(open_only=True):
            self._open(CloseDialog(detail, self.show_detail))

    def action_reassess(self) -> None:
        if detail := self._ready(open_only=True):
            self._open(ReassessDialog(detail, self.show_detail))

    def action_sign_off(self) -> None:
        if not (detail := self._ready(open_only=False)):
            return
        if not detail.awaiting_signoff:
            self._say(f"{detail.reference} has no closure awaiting sign-off.")
            return
        self._open(SignOffDialog(detail, self.show_detail))

    def action_record_crime(self) -> None:
        if not (detail := self._ready(open_only=False)):
            return
        if self.crimes is None or self.crimes.incident_id != detail.id:
            self._say("The incident's crimes are still being read: try c again.")
            return
        from controlroom.screens.crime.record import RecordCrimeDialog

        self._open(RecordCrimeDialog(detail, self.crimes, self.show_detail))

    def _crimes_ready(self):
        detail = self._ready(open_only=False)
        if not detail:
            return None
        if self.crimes is None or self.crimes.incident_id != detail.id:
            self._say("The incident's crimes are still being read: try again.")
            return None
        if not self.crimes.crimes:
            self._say(f"No crime is recorded from {detail.reference} yet: c records one.")
            return None
        return detail

    def action_crime_outcome(self) -> None:
        if detail := self._crimes_ready():
            from controlroom.screens.crime.outcome import OutcomeDialog

            assert self.crimes is not None
            self._open(OutcomeDialog(detail, self.crimes, self.show_detail))

    def action_change_crime(self) -> None:
        if detail := self._crimes_ready():
            from controlroom.screens.crime.change import CrimeChangeDialog

            assert self.crimes is not None
            self._open(CrimeChangeDialog(detail, self.crimes, self.show_detail))

    def action_crime_parties(self) -> None:
        if detail := self._crimes_ready():
            from controlroom.screens.crime.parties import CrimePartiesDialog

            assert self.crimes is not None
            self._open(CrimePartiesDialog(detail, self.crimes, self.show_detail))

    def action_who_looked(self) -> None:
        from controlroom.screens.audit_trail import AuditTrailScreen

        if self.detail is not None:
            self.app.push_screen(
                AuditTrailScreen("incident", self.detail.id, self.detail.reference)
            )

    def action_dash(self) -> None:
        if not (detail := self._ready(open_only=False)):
            return
        from controlroom.screens.incident.dash import DashScreen

        def done(words: str | None) -> None:
            self._say_after_read = words
            self.load_detail()

        self.app.push_screen(DashScreen(detail.id, detail.reference), done)

    def _next_referral(self, status: str):
        if self.safeguarding is None:
            return None
        return next((r for r in self.safeguarding.referrals if r.status == status), None)

    def action_referral_sent(self) -> None:
        if not self._ready(open_only=False):
            return
        referral = self._next_referral("created")
        if referral is None:
            self._say("No referral is waiting to be sent.")
            return
        self.step_referral(referral.id, "sent", f"{referral.kind_label} referral marked sent.")

    def action_referral_acknowledged(self) -> None:
        if not self._ready(open_only=False):
            return
        referral = self._next_referral("sent")
        if referral is None:
            self._say("No sent referral is waiting for acknowledgement.")
            return
        self.step_referral(
            referral.id, "acknowledged", f"{referral.kind_label} referral marked acknowledged."
        )

    def action_reload(self) -> None:
        self._context_for = None  # read the location's history again too
        self.load_detail()

    def _crime_words(self, found) -> str:
        """What a crime dialog did, in a line: the crimes that are new or changed."""
        before = {c.id: c for c in (self.crimes.crimes if self.crimes else ())}
        changed = [c for c in found.crimes if before.get(c.id) != c]
        if changed and all(c.id not in before for c in changed):
            return "Crime recorded: " + ", ".join(
                f"{c.reference} {c.offence_code}" for c in changed
            )
        return "Crime updated: " + ", ".join(
            f"{c.reference} {c.offence_code} {c.state.replace('_', ' ')} · outcome "
            f"{c.outcome_code}"
            + (f" ({c.outcome_awaiting} awaiting)" if c.outcome_awaiting else "")
            for c in changed
        )

    def action_jump_log(self) -> None:
        self.query_one("#view-body", VerticalScroll).scroll_end(animate=False)

    def _changed(self, result) -> None:
        """A dialog closed: `result` is the changed incident, a new log entry, or None."""
        if result is None or self.detail is None:
            return
        if hasattr(result, "crimes"):  # IncidentCrimes: a crime recorded or changed
            self._say_after_read = self._crime_words(result)
            self.show_crimes(result)
            self.load_detail()  # its log has the new line
            return
        if hasattr(result, "version"):  # an IncidentDetail
            self.show_detail(result)
        else:  # a LogEntry: notes do not change the incident's version
            self.detail = dataclasses.replace(self.detail, log=(*self.detail.log, result))
            self.query_one(IncidentLog).show_entries(self.detail.log)
            # Notes never conflict, so others may have changed the incident meanwhile:
            # read it again rather than show a log with their entries missing.
            self._jump_to_log_after_read = True
            self.load_detail()
        self.call_after_refresh(self.action_jump_log)
