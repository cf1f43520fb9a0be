"""The command view (F6), for supervisors: every queue's count, oldest item, breaches and
backlog over the last 24 hours (a sparkline), the domestic-abuse incidents still without a
DASH, referrals this week against the four weeks before (a fall of half or more is called
out in words), and today's safeguarding overrides.

Live like the queue: a thread worker waits on the change feed and the figures are read
again (at most once a second) when anything changed. Other roles are told plainly that
the view is for supervisors; nothing is read for them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Sparkline, Static
from textual.worker import get_current_worker

from controlroom.domain.permissions import Action, may
from controlroom.domain.queues import QUEUE_ORDER
from controlroom.screens.ages import format_age
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import CallFailed, failure_of
from controlroom.services import queues
from controlroom.services.command_view import CommandFigures, command_view
from controlroom.widgets.record_text import record_content, record_text

FEED_WAIT_SECONDS = 0.5
MIN_REFRESH_SECONDS = 1.0
STAGE_WORDS = {"created": "created", "sent": "sent", "acknowledged": "acknowledged"}


def open_data_line(missing) -> Text | None:
    """The months whose data.police.uk returns were never made, said in words (a
    missing month is never silent); None when no crime is recorded at all."""
    if missing is None:
        return None
    if not missing:
        return Text("Open-data returns: every month made")
    # One line at 80 columns: the latest three months, and how many before them.
    months = " ".join(f"{m:%b %y}" for m in missing[-3:])
    more = f" and {len(missing) - 3} earlier" if len(missing) > 3 else ""
    return Text(
        f"! Open-data returns NOT MADE: {len(missing)} month(s), {months}{more}",
        style="bold",
    )


def crime_clock_lines(stations) -> Text:
    """The NCRS clocks in words: how many run, are due within 4 h, are BREACHED, and
    the same by station (a breach is marked "!" and said, never coloured alone)."""
    running = sum(s.running for s in stations)
    breached = sum(s.breached for s in stations)
    due = sum(s.due_soon for s in stations)
    head = Text(
        f"Crime 24h clocks (31 days): {running:,} running · {due:,} due in 4h · "
        + (f"! {breached:,} BREACHED" if breached else "0 breached")
        + " (F9)",
        style="bold" if breached else "",
    )
    parts = [
        f"{s.station} {s.running}" + (f" ({s.breached} breached)" if s.breached else "")
        for s in stations
    ]
    if not parts:
        return head
    return Text("\n").join([head, record_text("by station: " + " · ".join(parts))])


class CommandView(FramedScreen):
    """Supervisors' view of everything waiting."""

    TITLE = "Command view"
    DEFAULT_CSS = """
    #command { padding: 0 1; height: 1fr; }
    #command-title { height: 1; text-style: bold; }
    .command-queue { height: 1; }
    .command-queue .name { width: 18; }
    .command-queue .count { width: 8; text-align: right; }
    .command-queue .oldest { width: 10; text-align: right; }
    .command-queue .breaches { width: 12; text-align: right; }
    .command-queue Sparkline { width: 24; margin-left: 2; }
    .command-queue .head { text-style: bold; }
    #command-header { height: 1; color: $text-muted; }
    #command-crime { height: auto; margin-top: 1; }
    #command-dash, #command-referrals, #command-overrides { height: auto; margin-top: 1; }
    #command-updated { height: auto; color: $text-muted; }
    #command-refused { padding: 1 2; text-style: bold; }
    """
    BINDINGS = [
        Binding(
            "r,ctrl+r",
            "refresh_view",
            "Refresh",
            id="command.refresh",
            tooltip="Read the figures again now",
        ),
    ]

    @dataclass
    class Read(Message):
        """Every queue's figures, DASH, referrals and today's overrides."""

        figures: CommandFigures

    class ReadFailed(CallFailed):
        """The figures could not be read: those on screen may be out of date."""

    @dataclass
    class AttendanceRead(Message):
        """First arrivals today against their targets, in words ("" when none)."""

        words: str

    @dataclass
    class ChangesHeard(Message):
        """The change feed heard a queue change: the figures are read again."""

    def compose_body(self) -> ComposeResult:
        self.allowed = may(self.app.actor.role, Action.COMMAND_VIEW)
        if not self.allowed:
            role = self.app.operator.role.label if self.app.operator else "not signed in"
            yield Static(
                f"The command view is for supervisors. You are signed in as {role}, so it "
                "shows nothing here. Esc goes back; F5 opens the triage queue.",
                id="command-refused",
                markup=False,
            )
            return
        with VerticalScroll(id="command"):
            yield Static("Reading figures…", id="command-title", markup=False)
            with Horizontal(id="command-header", classes="command-queue"):
                yield Static("Queue", classes="name head", markup=False)
                yield Static("Waiting", classes="count head", markup=False)
                yield Static("Oldest", classes="oldest head", markup=False)
                yield Static("Over target", classes="breaches head", markup=False)
                yield Static("  Backlog, last 24 h", classes="head", markup=False)
            for queue in QUEUE_ORDER:
                with Horizontal(classes="command-queue", id=f"command-{queue.value}"):
                    yield Static(queue.label, classes="name", markup=False)
                    yield Static("", classes="count", markup=False)
                    yield Static("", classes="oldest", markup=False)
                    yield Static("", classes="breaches", markup=False)
                    yield Sparkline([0], summary_function=max)
            yield Static("", id="command-crime", markup=False)
            yield Static("", id="command-dash", markup=False)
            # First arrivals today against their grades' targets (issue 17): shown once
            # there is one.
            yield Static("", id="command-attendance", markup=False)
            yield Static("", id="command-referrals", markup=False)
            yield Static("", id="command-overrides", markup=False)
            yield Static("", id="command-updated", markup=False)

    def on_mount(self) -> None:
        if not self.allowed:
            self.audit_refusal(Action.COMMAND_VIEW, "command_view")
            return
        self.query_one("#command-attendance").display = False
        self.policy = queues.policy_from(self.app.settings)
        self._last_read = 0.0
        self._pending = False
        self.read_figures(True)
        self.listen()

    def action_refresh_view(self) -> None:
        if self.allowed:
            self.read_figures(True)
            if not any(
                worker.group == "command-feed" and worker.is_running for worker in self.workers
            ):
                self.listen()  # live updates had stopped: start them again

    def read_figures(self, audited: bool = False) -> None:
        from controlroom.services import resources

        app = self.app
        uow_factory, actor, clock, policy = app.uow_factory, app.actor, app.clock, self.policy
        self.run_service(
            lambda: resources.attendance_today(uow_factory(), actor, clock()).words,
            self.AttendanceRead,
            doing="read today's attendance",
            group="command-attendance",
            failed=self.ReadFailed,
        )
        self.run_service(
            lambda: command_view(uow_factory(), actor, policy, clock(), audited=audited),
            self.Read,
            doing="read the command view's figures",
            group="command-read",
            failed=self.ReadFailed,
        )

    @work(thread=True, exit_on_error=False, group="command-feed")
    def listen(self) -> None:
        """The change feed: a loop for the life of the screen, not a single call."""
        worker = get_current_worker()
        try:
            feed = queues.open_change_feed(self.app.uow_factory)
        except Exception as exc:  # noqa: BLE001 - worded and logged by failure_of
            failure = failure_of(exc, "start live updates")
            self.post_message(self.ReadFailed(failure))
            return
        try:
            while not worker.is_cancelled:
                if feed.wait(FEED_WAIT_SECONDS) is not None and not worker.is_cancelled:
                    self.post_message(self.ChangesHeard())
        except Exception as exc:  # noqa: BLE001 - the feed broke: never silently
            self.post_message(self.ReadFailed(failure_of(exc, "keep live updates")))
        finally:
            feed.close()

    @on(ChangesHeard)
    def changes_heard(self) -> None:
        # At most one read a second however fast the queue moves; a change that arrives
        # inside the second is picked up by a read scheduled for its end.
        wait = MIN_REFRESH_SECONDS - (time.monotonic() - self._last_read)
        if wait <= 0:
            self._last_read = time.monotonic()
            self.read_figures()
        elif not self._pending:
            self._pending = True
            self.set_timer(wait, self._deferred_read)

    def _deferred_read(self) -> None:
        self._pending = False
        self._last_read = time.monotonic()
        self.read_figures()

    @on(AttendanceRead)
    def show_attendance(self, message: AttendanceRead) -> None:
        line = self.query_one("#command-attendance", Static)
        line.update(message.words)
        line.display = bool(message.words)

    @on(Read)
    def show(self, message: Read) -> None:
        figures = message.figures
        total = sum(f.count for f in figures.queues)
        self.query_one("#command-title", Static).update(
            f"All queues: {total:,} waiting · "
            f"{sum(f.breaches for f in figures.queues):,} over triage target"
        )
        for f in figures.queues:
            row = self.query_one(f"#command-{f.queue.value}", Horizontal)
            row.query_one(".count", Static).update(f"{f.count:,}")
            row.query_one(".oldest", Static).update(
                format_age(f.oldest_age) if f.oldest_age is not None else "—"
            )
            row.query_one(".breaches", Static).update(f"{f.breaches:,} !" if f.breaches else "0")
            row.query_one(Sparkline).data = list(f.backlog)
        crime_lines = crime_clock_lines(figures.crime_clocks)
        returns = open_data_line(figures.open_data_missing)
        if returns is not None:
            crime_lines = Text("\n").join([crime_lines, returns])
        self.query_one("#command-crime", Static).update(crime_lines)
        dash = f"Domestic abuse without a DASH: {figures.da_without_dash:,}" + (
            f" · oldest {format_age(figures.da_without_dash_oldest)}"
            if figures.da_without_dash_oldest is not None
            else ""
        )
        self.query_one("#command-dash", Static).update(dash)
        lines = [Text("Referrals this week (avg of 4 weeks before):", style="bold")]
        parts = []
        for week in figures.referrals:
            part = f"{STAGE_WORDS[week.stage]} {week.this_week} ({week.previous_average:.1f})"
            if week.fell_by_half:
                part += " ▼ FELL BY HALF"
            parts.append(part)
        lines.append(Text(" · ".join(parts), style="bold red" if figures.referral_fall else ""))
        self.query_one("#command-referrals", Static).update(Text("\n").join(lines))
        overrides = [
            Text(f"Safeguarding overrides today: {len(figures.overrides_today)}", style="bold")
        ]
        for o in figures.overrides_today[:3]:
            when = o.overridden_at.astimezone(self.app.zone).strftime("%H:%M")
            overrides.append(
                record_text(f"{when} {o.incident_reference} {o.rule} — {o.supervisor}: {o.reason}")
            )
        self.query_one("#command-overrides", Static).update(Text("\n").join(overrides))
        self.query_one("#command-updated", Static).update(
            "Updated "
            + figures.read_at.astimezone(self.app.zone).strftime("%H:%M:%S")
            + " · live · r refreshes"
        )

    @on(ReadFailed)
    def read_failed(self, message: ReadFailed) -> None:
        message.stop()
        self.query_one("#command-updated", Static).update(
            record_content(f"FIGURES MAY BE OUT OF DATE. {message.failure.sentence}")
        )
