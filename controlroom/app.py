"""The Textual application and `make_app`, the factory the CLI and the tests share.

The app holds what every screen needs — settings, the unit-of-work factory, the
signed-in operator, the database's profile, the clock — and the global keys of
DESIGN.md. It never touches a database session: screens call services from thread
workers.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import heapq
import logging
import select
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from textual import events, on
from textual.app import App
from textual.binding import Binding
from textual.reactive import var
from textual.screen import ModalScreen, Screen

from controlroom import __version__
from controlroom.commands import ControlRoomCommands
from controlroom.config import Settings
from controlroom.domain.availability import Availability, DatabaseState
from controlroom.domain.local_time import LOCAL_ZONE, local_day
from controlroom.logs import configure_file_log
from controlroom.messages import (
    IncidentChosen,
    OfflineReplayed,
    ReportSaved,
    SessionConfirmed,
    SessionOpened,
    SignInRefused,
)
from controlroom.screens.confirm import ConfirmScreen
from controlroom.screens.database_watch import DatabaseProbed, DatabaseReturned, DatabaseWatch
from controlroom.screens.lock import LockScreen
from controlroom.screens.seam import CallFailed, KeyGate, KeyHandled
from controlroom.screens.sign_in import SignInScreen
from controlroom.widgets import key_names, paste_guard
from controlroom.widgets.paste_guard import paste_content
from controlroom.widgets.textual_mends import keep_no_dead_widgets_render_caches

if TYPE_CHECKING:  # kept out of start-up: these pull in SQLAlchemy
    from controlroom.domain.identity import Actor
    from controlroom.screens.emergency import EmergenciesSeen, EmergencyAlert, EmergencyWatch
    from controlroom.screens.incident.entry import IncidentEntry
    from controlroom.services.database import DatabaseProfile
    from controlroom.services.drafts import DraftClaims, DraftJournal
    from controlroom.services.incidents import NewIncident
    from controlroom.services.offline import OfflineJournal, OfflineSaved
    from controlroom.services.staff import StaffMember
    from controlroom.services.unit_of_work import UnitOfWorkFactory
    from controlroom.widgets.database_banner import DatabaseBanner

log = logging.getLogger("controlroom.app")

# Terminals with 16 colours and no box-drawing guarantees: use the ansi theme.
ANSI_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "ansi", "cons25"})
# How often the idle lock looks at the clock; the lock comes at most this late.
IDLE_CHECK_SECONDS = 5.0
# How often a real terminal is checked for having gone away without a SIGHUP.
TERMINAL_CHECK_SECONDS = 2.0
# Young objects allowed before a collection once the session is open (Python's default
# is 700): see `steady_collector`.
GC_YOUNG_THRESHOLD = 10_000
# What the operator does that counts as not idle.
_ACTIVITY = (
    events.Key,
    events.MouseDown,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)


def entry_summary(state) -> str:
    """An unsaved incident in a few words: its type, place and caller as typed."""
    return " · ".join(
        part for part in (state.type_text, state.location_text, state.caller_name) if part
    )


class QuitQuestion(ConfirmScreen):
    """ctrl+q with an unsaved incident: quit (its draft kept) or stay."""

    def __init__(self, forms: int) -> None:
        what = "an incident" if forms == 1 else f"{forms} incidents"
        super().__init__(
            f"Quit with {what} not saved?",
            "The typing is kept as a draft, offered again when Control Room next starts. "
            "y (or ctrl+q again) quits; n stays.",
        )


class FreshContextExecutor(ThreadPoolExecutor):
    """The app's thread workers' pool, each call run in a context of its own.

    Textual marks the worker a thread runs (`get_current_worker`) in the thread's own
    context, and a pooled thread kept that worker, with the screen it belonged to and
    all that screen held, until its next call: a closed triage queue stayed in memory
    for as long as its thread sat idle (issue 15). A fresh context per call is what a
    new thread starts with, and is dropped when the call ends."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(contextvars.Context().run, fn, *args, **kwargs)


class LeavingExecutor(FreshContextExecutor):
    """The app's thread workers' pool: shutting it down never waits for a call still
    running (one hung on the database ends by its own bound, or with the process)."""

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=False, cancel_futures=True)


def utc_clock() -> datetime:
    return datetime.now(UTC)


# The mode the board lives in, and how many screens deep its own first screen is (the
# sign-in frame, then the board on it).
BOARD = "board"
_BOARD_DEPTH = 2


class ControlRoomApp(App[int]):
    """Control Room. Global keys work on every screen; each binding has an id for keymaps.

    It starts on the sign-in screen; `operator` and `profile` are set when the session
    opens, before any screen that shows them is pushed. A refused session leaves the
    reason in `refusal` and exits with return code 2.
    """

    CSS_PATH = "app.tcss"
    TITLE = "Control Room"
    # Navigation (DESIGN.md, issue 14): each top-level screen is a Textual mode with its
    # own screen stack — the board, person search, intelligence, the triage queue, the
    # command view, the incident list, and one mode per open incident form (a call in
    # hand). Their keys switch between them as the operator left them; Esc steps back
    # one screen within the task and, at the task's first screen, closes the task and
    # returns to the board. History never runs across tasks.
    DEFAULT_MODE = BOARD
    # The sign-in frame is the board mode's first screen and stays beneath the board: the
    # first frame is drawn once, and opening the board replaces nothing (Textual repaints
    # the whole screen again, twice, for a screen replaced or removed; over SSH every
    # byte of it goes down the wire; issue 15, startup bytes).
    MODES = {BOARD: SignInScreen}
    # Only Control Room's own commands: Textual's system ones (theme, screenshot, keys,
    # maximise) are not an operator's, and a screenshot would write record data to disk.
    COMMANDS = {ControlRoomCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="app.help", tooltip="Keys of this screen"),
        Binding(
            "f2,ctrl+n",
            "new_incident",
            "New incident",
            id="app.new_incident",
            tooltip="Record a new incident",
        ),
        Binding(
            "f3,ctrl+f",
            "person_search",
            "Person search",
            id="app.person_search",
            tooltip="Find a person however the name was spelled",
        ),
        # ctrl+g, not ctrl+y: TextArea takes ctrl+y for redo; nothing in Textual binds ctrl+g.
        Binding(
            "f4,ctrl+g",
            "intelligence",
            "Intelligence",
            id="app.intelligence",
            tooltip="Search intelligence reports; submit one",
        ),
        # Not in the footer (it is full at 80 columns); listed by F1 and the palette.
        Binding(
            "f5,ctrl+t",
            "triage_queue",
            "Triage queue",
            id="app.triage_queue",
            tooltip="Items waiting for a decision, by risk and age",
            show=False,
        ),
        Binding(
            "f6",
            "command_view",
            "Command view",
            id="app.command_view",
            tooltip="Supervisors: every queue, DASH, referrals, overrides",
            show=False,
        ),
        Binding(
            "f7",
            "incident_list",
            "Incident list",
            id="app.incident_list",
            tooltip="Open incidents from every station, oldest first",
            show=False,
        ),
        Binding(
            "f8,ctrl+b",
            "resource_board",
            "Resources",
            id="app.resource_board",
            tooltip="Every unit: status, incident, crew skills; the dispatch command line",
            show=False,
        ),
        # F8 is the dispatchers' (the resource board, in use all shift); the crime tasks
        # follow it. F10 saves on every form, so integrity takes F11 (a desktop terminal
        # that keeps F11 for itself leaves ctrl+p "Crime data integrity").
        Binding(
            "f9",
            "crime_queue",
            "Crime recording",
            id="app.crime_queue",
            tooltip="Possible crimes whose 24-hour recording clock runs, least time left first",
            show=False,
        ),
        Binding(
            "f11",
            "crime_integrity",
            "Crime data integrity",
            id="app.crime_integrity",
            tooltip="Analysts, supervisors: the share of crimes recorded within 24h, by month",
            show=False,
        ),
        Binding(
            "f12",
            "crime_statistics",
            "Crime statistics",
            id="app.crime_statistics",
            tooltip="Analysts, supervisors: recorded crime, outcomes, integrity, referrals",
            show=False,
        ),
        Binding(
            "ctrl+o",
            "open_by_reference",
            "Open by reference",
            id="app.open_by_reference",
            tooltip="Open an incident by its reference or its last digits",
            show=False,
        ),
        Binding("escape", "back", "Back", id="app.back", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    availability: var[Availability] = var(Availability())
    """The database as the watch last found it (screens/database_watch.py); every
    frame's DatabaseBanner follows it (`watch_availability`)."""

    def watch_availability(self, availability: Availability) -> None:
        for banner in list(self.database_banners):
            if banner.is_attached:
                banner.show_availability(availability)

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        operator: str,
        *,
        terminal: str = "local",
        term: str | None = None,
        clock: Callable[[], datetime] = utc_clock,
        over_ssh: bool = False,
        steady_gc: bool = False,
        demo_for: str | None = None,
    ) -> None:
        ansi = settings.ansi if settings.ansi is not None else (term or "") in ANSI_TERMS
        # Textual mended and narrowed where the app needs it (widgets/).
        paste_guard.install()
        key_names.install()
        keep_no_dead_widgets_render_caches()
        # Every mounted DatabaseBanner, held weakly: a closed screen's goes with it.
        self.database_banners: weakref.WeakSet[DatabaseBanner] = weakref.WeakSet()
        super().__init__(ansi_color=ansi or None)
        self.settings = settings
        # While only a standby answers, a read's audit goes to this session's offline
        # journal (services/standby.py): lookups carry on, audited.
        from controlroom.services.standby import with_station_audit

        self.uow_factory = with_station_audit(uow_factory, self.audit_on_station)
        self.username = operator
        # `controlroom demo`: the OS account behind the shared demo account, which signs
        # in only on a synthetic training database (services.session.open_session).
        self.demo_for = demo_for
        self.operator: StaffMember | None = None
        # This run of the app on the record (services.session), once signed in.
        self.session_id: int | None = None
        self.profile: DatabaseProfile | None = None
        self.drafts: DraftJournal | None = None
        # This session's hold on the drafts of its open forms (data/drafts.py).
        self.draft_claims: DraftClaims | None = None
        self.refusal: str | None = None
        self.terminal = terminal
        self.clock = clock
        # The program as `controlroom` runs it (one app a process) settles the garbage
        # collector once the session is open (`steady_collector`); tests, many apps to
        # a process, leave it alone.
        self.steady_gc = steady_gc
        self.zone = LOCAL_ZONE
        self.use_ansi = ansi
        # A still cursor over SSH: a blinking one repaints twice a second (issue 15).
        self.cursor_blink = (
            settings.cursor_blink if settings.cursor_blink is not None else not over_ssh
        )
        # Session security: the time of the operator's last key (app clock), and whether
        # the idle lock is up (then every global key but quit is refused).
        self.last_activity: datetime | None = None
        self.locked = False
        # Keys typed ahead of a screen that is still opening wait here (screens/seam.py).
        self.key_gate = KeyGate(self)
        # Screens a worker asked to open while the lock was up: opened after the PIN.
        self._after_unlock: list[Callable[[], None]] = []
        # The task modes open now (besides the board), and the incident forms each call
        # mode was opened on (a form's mode outlives the form when its save replaces it
        # with the incident's view).
        self._task_modes: set[str] = set()
        self._forms: dict[str, IncidentEntry] = {}
        self._calls_opened = 0
        # The emergency alert on show, if any (screens/emergency.py).
        self._emergency_alert: EmergencyAlert | None = None
        self._emergency_watch: EmergencyWatch | None = None
        self.database_watch = DatabaseWatch(self)
        # This session's offline journal (services/offline.py), opened when first needed;
        # the token names it and its provisional references.
        self._offline_journal: OfflineJournal | None = None
        self._journal_lock = threading.Lock()
        # Entries wait in it that no replay has been started for since.
        self._journal_waiting = False
        # Signed in from the station's cache (the database did not answer at the start),
        # and whether the check of the account on the database's return is under way.
        self._signed_in_offline = False
        self._confirming = False
        # The session opened read-only: earlier sessions' journals wait for it to be
        # writable.
        self._left_behind_waiting = False
        self.offline_token = ""
        # Set on a real terminal: the CLI may leave hung workers behind when it ends.
        self.leaves_hung_workers = False
        if settings.keymap:
            self.set_keymap(dict(settings.keymap))

    def on_mount(self) -> None:
        if self.use_ansi:
            self.theme = "ansi-dark"
        if not self.is_headless:
            # A real terminal: failures' details go to the operator's log file, never
            # beneath the app on its screen. (Tests configure their own.)
            configure_file_log(self.settings.data_dir, self.username)
            self._leave_hung_workers()
            self._hang_up_on_sighup()
            self.set_interval(TERMINAL_CHECK_SECONDS, self._check_terminal)
        else:
            # Headless (tests): the loop's own pool, joined at the end as asyncio joins
            # it, with the same fresh context per call as a real terminal's.
            asyncio.get_running_loop().set_default_executor(FreshContextExecutor())

    def _leave_hung_workers(self) -> None:
        """Quitting never waits for a database call: thread workers run on an executor
        that does not wait for them when the app ends (asyncio would join every one,
        a save hung on a frozen server included), and the CLI leaves the process without
        joining what is still running (`cli/app.py`). Every draft is written first."""
        import asyncio

        asyncio.get_running_loop().set_default_executor(
            # Room for calls hung on a frozen database while the operator carries on.
            LeavingExecutor(max_workers=32, thread_name_prefix="controlroom-worker")
        )
        self.leaves_hung_workers = True

    def _hang_up_on_sighup(self) -> None:
        """A dropped SSH connection sends SIGHUP, a shutdown or `kill` SIGTERM: keep the
        drafts, end the session."""
        import asyncio
        import signal

        loop = asyncio.get_running_loop()
        for number, code in ((signal.SIGHUP, 129), (signal.SIGTERM, 143)):
            try:
                loop.add_signal_handler(number, self.hang_up, code)
            except (NotImplementedError, RuntimeError, ValueError):  # no signals here
                pass

    @property
    def open_forms(self) -> list[IncidentEntry]:
        """Every incident form open now, in any mode, oldest first."""
        return list(self._forms.values())

    def _check_terminal(self) -> None:
        """The terminal went away without a SIGHUP (an `ssh -T` session whose client left:
        its stdin hangs up): hang up as for SIGHUP, rather than run on orphaned."""
        stream = sys.__stdin__
        if stream is None:
            return
        try:
            poller = select.poll()
            poller.register(stream.fileno(), 0)  # hang-ups and errors are always reported
            events = poller.poll(0)
        except (OSError, ValueError):
            return
        if any(flags & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, flags in events):
            log.warning("the terminal hung up; ending the session")
            self.hang_up(129)

    def _unsaved_forms(self) -> list[IncidentEntry]:
        """The open entry forms holding something typed and not saved."""
        return [form for form in self.open_forms if form.has_unsaved_typing()]

    def write_open_drafts(self) -> None:
        """Write every open entry form's draft now, as it is on screen (not after its
        typing pause): before any way out of the app."""
        for screen in self.open_forms:
            if self.drafts is not None:
                try:
                    # What is on screen, not what the messages in flight have reached.
                    screen._sync_state_from_widgets()
                    if not screen.state.is_blank():
                        screen.journal.save(screen.state.to_draft())
                except Exception:  # noqa: BLE001 - the draft written as typed stands
                    log.exception("could not write a draft on the way out")

    def hang_up(self, return_code: int = 129) -> None:
        """The terminal is gone (SIGHUP) or the process is told to stop (SIGTERM): write
        every open entry form's draft, then exit with 128 + the signal's number, as a
        shell reports it; the CLI records the end of the session."""
        self.write_open_drafts()
        self.exit(return_code=return_code)

    async def action_quit(self) -> None:
        """ctrl+q: with an incident typed and not saved, ask first (a second ctrl+q is the
        yes); either way every open form's draft is written before the app ends, and is
        offered again when the app next starts (and listed by F2)."""

        if isinstance(self.screen, QuitQuestion):
            self.screen.dismiss(True)
            return
        unsaved = self._unsaved_forms()
        if unsaved and not self.locked:

            def answered(quit_now: bool | None) -> None:
                if quit_now:
                    self.write_open_drafts()
                    self.exit()

            self.push_screen(QuitQuestion(len(unsaved)), answered)
            return
        self.write_open_drafts()
        self.exit()

    def notify(self, message, *args, **kwargs) -> None:
        """No toast while the session is locked: it would show over the lock screen, and
        a worker finishing meanwhile may have record data to say."""
        if self.locked:
            return
        super().notify(message, *args, **kwargs)

    def _fatal_error(self) -> None:
        """A crash report without local variables (Textual shows them by default): one
        may hold the database URL with its keyring password, or a record."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        report = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(report, self.console.options)))
        self._close_messages_no_wait()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY) and not event.is_forwarded:
            self.last_activity = self.clock()
        if isinstance(event, events.Paste) and not event.is_forwarded:
            # A paste is text, never keys or terminal commands: an ESC or ctrl+q in it
            # reaches the field as a visible marker (␛, ␑), as record text does. (On a
            # real terminal `paste_guard` has already kept them out of the key stream.)
            event.text = paste_content(event.text)
        if isinstance(event, events.Key) and not event.is_forwarded:
            # One key at a time, each handled before the next (screens/seam.py).
            if self.key_gate.holds(event):
                return
            await super().on_event(event)
            self.key_gate.sent(event)
            return
        await super().on_event(event)

    @on(KeyHandled)
    def _key_handled(self, message: KeyHandled) -> None:
        message.stop()
        self.key_gate.handled(message.key)

    def check_idle_lock(self) -> None:
        """Lock the session when the operator has been idle for the configured time
        (a timer calls this every IDLE_CHECK_SECONDS; tests call it after moving the clock)."""
        if self.operator is None or self.locked or self.last_activity is None:
            return
        if self.clock() - self.last_activity >= timedelta(minutes=self.settings.idle_lock_minutes):
            self.lock_session()

    def lock_session(self, *, resumed: bool = False) -> None:
        """Hide everything behind the lock screen until the PIN is given (audited; the
        lock outlives this process). `resumed`: the last session ended locked."""
        if self.locked or self.operator is None:
            return
        self.locked = True
        self.clear_notifications()  # a toast may carry record data
        self.push_screen(
            LockScreen(self.operator.display_name, self.settings.idle_lock_minutes, resumed=resumed)
        )
        actor, minutes = self.actor, self.settings.idle_lock_minutes

        def audit_lock() -> None:
            from controlroom.services.session_lock import lock

            lock(self.uow_factory(), actor, minutes, resumed=resumed)

        self.run_worker(audit_lock, thread=True, exit_on_error=False, group="lock")

    @on(LockScreen.Unlocked)
    def session_unlocked(self) -> None:
        if isinstance(self.screen, LockScreen):
            self.pop_screen()
        self.locked = False
        self.last_activity = self.clock()
        waiting, self._after_unlock = self._after_unlock, []
        for action in waiting:
            action()

    @property
    def signed_in(self) -> StaffMember:
        """The signed-in operator; only screens shown after sign-in ask for it."""
        if self.operator is None:
            raise RuntimeError("no operator is signed in yet")
        return self.operator

    @property
    def database_profile(self) -> DatabaseProfile:
        """The database's environment and force, read when the session opened."""
        if self.profile is None:
            raise RuntimeError("the session has not opened yet")
        return self.profile

    @property
    def draft_journal(self) -> DraftJournal:
        """Where the operator's unsaved entry forms are kept (set when the session opens)."""
        if self.drafts is None:
            raise RuntimeError("the session has not opened yet")
        return self.drafts

    def local_today(self) -> date:
        """The control room's day now, by the app's clock (what services call `today`)."""
        return local_day(self.clock())

    @property
    def actor(self) -> Actor:
        """The signed-in operator at this terminal, as every service call names them."""
        return self.signed_in.actor(self.terminal)

    @on(SessionOpened)
    def session_opened(self, message: SessionOpened) -> None:
        from controlroom.screens.home_board import HomeBoard
        from controlroom.services.offline import session_token

        self.operator = message.session.operator
        self.session_id = message.session.session_id
        self.offline_token = session_token(datetime.now(UTC))
        self.profile = message.session.profile
        self.drafts = message.drafts
        from controlroom.services.drafts import DraftClaims

        self.draft_claims = DraftClaims()
        self.sub_title = f"{self.operator.display_name} · {self.profile.environment.value}"
        # Nothing drawn for a tenth of a second while the board mounts: Textual paints a
        # newly pushed screen three times over as it lays it out, then sizes it, then
        # resumes it (about 20 KB down an SSH link); held back, the board goes out once
        # (about 8 KB; issue 15, startup bytes). On a loaded host the mount outlasts the
        # delay, and the board goes out in more pieces, as it did before.
        self.delay_update(0.1)
        self.push_screen(HomeBoard(counts=message.board_counts))
        if self.steady_gc:
            self.call_after_refresh(steady_collector)
        self.last_activity = self.clock()
        if message.session.warning is not None:
            self.notify(message.session.warning, severity="warning", timeout=60, markup=False)
        found = list(message.found)
        if message.session.locked_since is not None:
            # The last session ended behind the lock (quit, killed, a lost terminal): the
            # PIN first, then the drafts.
            self.lock_session(resumed=True)
            self._after_unlock.append(lambda: self._offer_drafts(found))
        else:
            self._offer_drafts(found)
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle_lock)
        if message.session.read_only:  # said from the board's first frame
            self._left_behind_waiting = True
            self.database_found(message.session.read_only_as, self.clock())
        elif message.session.offline:
            # Opened from the station's cache: said from the first frame, the sign-in
            # audited into the journal; the account is checked when the database answers.
            self._signed_in_offline = True
            self.database_found(DatabaseState.NOT_ANSWERING, self.clock())
            self._audit_offline_sign_in()
        else:  # what earlier sessions kept on this station and could not send
            self.replay_offline(left_behind=True)
            self.cache_area()
        self.database_watch.start()
        self._watch_emergencies()

    def cache_area(self) -> None:
        """Keep the gazetteer of the station's area on this station (a thread worker), for
        the entry form's address lookup while the database does not answer."""
        from controlroom.services import area_cache

        operator = self.operator
        if operator is None:
            return
        uow_factory, data_dir, now = self.uow_factory, self.settings.data_dir, self.clock()

        def run() -> None:
            try:
                area_cache.cache_area(
                    uow_factory, data_dir, operator.username, operator.id, operator.station, now
                )
            except Exception:  # noqa: BLE001 - a convenience: the last one stays
                log.warning("could not keep the station's area on this station", exc_info=True)

        self.run_worker(run, thread=True, exit_on_error=False, group="area-cache")

    def _watch_emergencies(self) -> None:
        """Dispatchers and supervisors see every emergency on a unit, whatever screen
        they are on, until it is acknowledged (screens/emergency.py)."""
        from controlroom.domain.roles import Role
        from controlroom.screens.emergency import EmergencyWatch

        if self.actor.role not in (Role.DISPATCHER, Role.SUPERVISOR) or self._emergency_watch:
            return
        self._emergency_watch = EmergencyWatch(self)
        self._emergency_watch.start()

    def on_emergency_watch_failed(self, message) -> None:
        message.stop()
        self.notify(message.words, severity=message.severity, markup=False, timeout=15)

    def on_emergencies_seen(self, message: EmergenciesSeen) -> None:
        """Show, update or take down the emergency alert (screens/emergency.py)."""
        from controlroom.screens.emergency import EmergencyAlert

        message.stop()
        alert = self._emergency_alert
        if message.emergencies:
            if alert is not None and alert.is_attached:
                alert.show(message.emergencies)
                return
            self._emergency_alert = EmergencyAlert(message.emergencies)
            self.bell()
            self.push_screen(self._emergency_alert)
        elif alert is not None:
            self._emergency_alert = None
            alert.emergencies = ()
            if self.screen is alert:
                alert.dismiss(None)
            # Beneath another dialog: it goes when it is next on show (on_screen_resume).

    @on(DatabaseProbed)
    def _database_probed(self, message: DatabaseProbed) -> None:
        self.database_watch.probed(message)
        if self._journal_waiting and self.availability.answering:
            # Kept offline while the watch saw the database answering (a save's wait ran
            # out, a database error): sent as soon as a probe finds it answering.
            self._journal_waiting = False
            self.replay_offline()

    def database_found(
        self, state: DatabaseState, when: datetime, data_as_of: datetime | None = None
    ) -> None:
        """The watch found the database `state` (as of `when`; a standby's data as of
        `data_as_of`): every frame says so; when it answers again after an outage, or a
        primary after only a standby, every open screen hears `DatabaseReturned`."""
        before = self.availability
        after = before.became(state, when, data_as_of)
        if after is before:
            return
        self.availability = after
        if after.state is before.state:
            return  # the same state, fresher data
        if state is DatabaseState.NOT_ANSWERING:
            log.warning("the database is not answering")
        elif state is DatabaseState.STANDBY:
            log.warning("only a standby of the database answers: lookups are read-only")
        elif not before.answering:
            log.info("the database is %s again", state.value)
        if before.state is DatabaseState.NOT_ANSWERING or (
            before.state is DatabaseState.STANDBY and state is DatabaseState.ANSWERING
        ):
            screens = {id(screen): screen for screen in (*self.open_forms, self.screen)}
            for screen in screens.values():
                screen.post_message(DatabaseReturned(state))
        if not before.answering and state is DatabaseState.ANSWERING:
            # Back, or writable again (a read-only file, a standby promoted): what was
            # kept on this station goes in; and what earlier sessions left, if the
            # session opened without a database to send it to.
            self._journal_waiting = False
            self.replay_offline()
            if self._left_behind_waiting and not self._signed_in_offline:
                self._left_behind_waiting = False
                self.replay_offline(left_behind=True)

    def _offer_drafts(self, found: list[tuple[DraftJournal, dict[str, object]]]) -> None:
        """Offer each incident the operator had not saved, one after another: y restores
        it into a form of its own; n (or Esc) leaves it kept, listed by F2 and offered
        again at the next start.

        No key here throws a draft away. The offer comes up as the session opens, when
        an operator may already be typing: "n" discarded it for good, and so did any
        name typed ahead with an n in it ("vincent"). A restored form is discarded as
        any form is, by its own question."""
        if not found:
            return
        from controlroom.screens.incident.entry import EntryState

        (journal, draft), rest = found[0], found[1:]
        state = EntryState.from_draft(draft)
        summary = entry_summary(state)

        def answered(restore: bool | None) -> None:
            if restore:
                self._restore_draft(journal, draft)
            self._offer_drafts(rest)

        left = f" ({len(rest)} more after this)" if rest else ""
        self.push_screen(
            ConfirmScreen(
                f"Restore the incident you had not saved?{left}",
                (summary or "an incident form")
                + "\nn keeps it for later: F2 lists it, and the next start asks again.",
            ),
            answered,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Locked: nothing but quit (not help, not the palette, not back).
        if self.locked and action != "quit":
            return False
        # Nothing but help and quit before the operator is signed in.
        if (
            action
            in {
                "new_incident",
                "person_search",
                "intelligence",
                "home",
                "triage_queue",
                "command_view",
                "incident_list",
                "open_by_reference",
                "resource_board",
            }
            and self.operator is None
        ):
            return False
        # A dialog is answered or dismissed before the operator goes anywhere else.
        if action in {
            "new_incident",
            "person_search",
            "intelligence",
            "home",
            "triage_queue",
            "command_view",
            "incident_list",
            "open_by_reference",
            "resource_board",
        } and isinstance(self.screen, ModalScreen):
            return False
        return True

    def action_new_incident(self) -> None:
        """F2: a new incident form; with one not yet saved (open beneath this screen, or
        a draft whose form was closed), first ask whether to go back to it or start
        another (screens/incident/open_forms.py)."""
        from controlroom.screens.incident.entry import EntryState, IncidentEntry
        from controlroom.screens.incident.open_forms import NEW_INCIDENT, OpenIncidents

        forms = self.open_forms
        open_paths = {form.journal.path for form in forms}
        waiting: list[tuple[DraftJournal, dict[str, object]]] = []
        try:
            for journal in self.draft_journal.all():
                if journal.path in open_paths or self._held_elsewhere(journal):
                    continue  # open here, or in another session of this operator
                if (draft := journal.load()) is not None:
                    waiting.append((journal, draft))
        except OSError:
            log.exception("could not list the drafts")
        unsaved = [form for form in forms if form.has_unsaved_typing()]
        if not unsaved and not waiting:
            if forms:  # a blank form already open: back to it rather than another
                self._bring_up(forms[-1])
            else:
                self.open_form(IncidentEntry())
            return
        labels = [
            (entry_summary(form.state) or "an incident being typed")
            + (" (this form)" if form is self.screen else " (open)")
            for form in unsaved
        ]
        labels += [
            (entry_summary(EntryState.from_draft(draft)) or "an incident form") + " (draft)"
            for _, draft in waiting
        ]

        def chosen(index: int | None) -> None:
            if index is None:
                return
            if index == NEW_INCIDENT:
                blank = [form for form in forms if form not in unsaved]
                if blank:  # a blank form is open already: that one, not another
                    self._bring_up(blank[-1])
                else:
                    self.open_form(IncidentEntry())
            elif index < len(unsaved):
                self._bring_up(unsaved[index])
            else:
                self._restore_draft(*waiting[index - len(unsaved)])

        self.push_screen(OpenIncidents(labels), chosen)

    def _restore_draft(self, journal: DraftJournal, draft: dict[str, object]) -> None:
        """Open a form on a draft from disk. A draft kept before forms had their own (the
        operator's single file) moves to its form's file first."""
        from controlroom.screens.incident.entry import EntryState, IncidentEntry
        from controlroom.services.drafts import form_key

        state = EntryState.from_draft(draft)
        form_journal = self.draft_journal.for_form(form_key(state.idempotency_key))
        if not self.claim_draft(form_journal):
            self.notify(
                "That incident is open in another session of yours: carry on there.",
                severity="warning",
                timeout=8,
            )
            return
        try:
            if journal.path != form_journal.path:
                form_journal.save(draft)
                journal.clear()
        except OSError:
            log.exception("could not move a draft to its form")
        self.open_form(IncidentEntry(state))

    def claim_draft(self, journal: DraftJournal) -> bool:
        """Hold a form's draft for this session (False: another session has it open).
        A lock that cannot be made does not stop the form: the draft is still written."""
        if self.draft_claims is None:
            return True
        try:
            return self.draft_claims.claim(journal)
        except OSError:
            log.exception("could not hold a draft for this session")
            return True

    def release_draft(self, journal: DraftJournal) -> None:
        if self.draft_claims is not None:
            self.draft_claims.release(journal)

    def _held_elsewhere(self, journal: DraftJournal) -> bool:
        return self.draft_claims is not None and self.draft_claims.held_elsewhere(journal)

    def on_unmount(self) -> None:
        """The session ends: its drafts stay on disk, free for the next session to offer
        (a process that dies lets go of them by itself)."""
        if self.draft_claims is not None:
            self.draft_claims.release_all()
        if self._emergency_watch is not None:
            self._emergency_watch.stop()

    def _new_call_mode(self) -> str:
        self._calls_opened += 1
        return f"call-{self._calls_opened}"

    def open_form(self, form: IncidentEntry) -> None:
        """A call in hand: the form opens in a mode of its own, so nothing the operator
        does elsewhere buries it, and F2 lists it."""
        mode = self._new_call_mode()
        self._forms[mode] = form
        self._open_task(mode, lambda: form)

    def _bring_up(self, form: IncidentEntry) -> None:
        """Back to an open form, as it was left (its mode's screens are all kept)."""
        mode = self._mode_of(form)
        if mode is not None:
            self.switch_mode(mode)

    def _mode_of(self, form: IncidentEntry) -> str | None:
        """The call mode an open form is the first screen of."""
        return next((mode for mode, open_form in self._forms.items() if open_form is form), None)

    def _open_task(self, mode: str, first: Callable[[], Screen]) -> None:
        """Switch to a top-level screen's mode as the operator left it; open it (on the
        screen `first` makes) if it is not open."""
        if mode not in self._task_modes:

            def styled_first() -> Screen:
                # Textual takes a mode's new first screen (style count -1) for a sign
                # the app's CSS changed and re-parses and re-applies every stylesheet,
                # 0.1-0.2 s per task opened; a pushed screen skips that. Nothing changed
                # (no theme or CSS change happens mid-session), so the screen is marked
                # current, as `push_screen` leaves one.
                screen = first()
                screen._css_update_count = self._css_update_count  # noqa: SLF001
                return screen

            self.add_mode(mode, styled_first)
            self._task_modes.add(mode)
        self.switch_mode(mode)

    def end_task(self, mode: str | None = None) -> None:
        """Close a task (the current one by default): its screens go and the board
        shows. An open form's draft is written first; a form closed this way is listed
        at the next F2."""
        mode = mode or self.current_mode
        if mode == BOARD or mode not in self._task_modes:
            return
        if mode in self._forms:
            self.write_open_drafts()
        if self.current_mode == mode:
            self.switch_mode(BOARD)
        self._task_modes.discard(mode)
        self._forms.pop(mode, None)
        self.remove_mode(mode)
        # Let the task's screens go two seconds after they close (issue 15, memory after
        # every main screen): see `let_go_of_closed_screens`.
        self.set_timer(CLOSED_TASK_COLLECT_SECONDS, let_go_of_closed_screens)

    def close_form(self, form: IncidentEntry) -> None:
        """The operator discarded a form: its call mode closes."""
        self.release_draft(form.journal)
        mode = self._mode_of(form)
        if mode is not None:
            del self._forms[mode]  # discarded: no draft to write on the way out
            self.end_task(mode)

    def record_offline(self, actor: Actor, call: NewIncident, now: datetime) -> OfflineSaved:
        """Keep `call` in this session's offline journal, opened on first use (on a
        worker's thread: it writes and fsyncs a file)."""
        from controlroom.services import offline

        with self._journal_lock:
            if self._offline_journal is None:
                self._offline_journal = offline.open_journal(
                    self.settings.data_dir, self.username, self.offline_token
                )
            return offline.record_incident(
                self._offline_journal, actor, call, now, self.offline_token
            )

    def audit_on_station(self, event: dict[str, object]) -> None:
        """Audit a read made on a standby into this session's offline journal (on a
        worker's thread; on the disk when it returns)."""
        from controlroom.services import offline, standby

        with self._journal_lock:
            if self._offline_journal is None:
                self._offline_journal = offline.open_journal(
                    self.settings.data_dir, self.username, self.offline_token
                )
            standby.journal_event(self._offline_journal, event)

    def record_session_end(self, how: str) -> bool:
        """The session ends while the database does not answer: its end kept in the
        journal (on the disk when this returns), for the next replay to put on the
        record. False if even that failed (the next sign-in then ends it, guessing)."""
        from controlroom.services import offline

        if self.operator is None:
            return False
        try:
            with self._journal_lock:
                if self._offline_journal is None:
                    self._offline_journal = offline.open_journal(
                        self.settings.data_dir, self.username, self.offline_token
                    )
                offline.record_session_end(
                    self._offline_journal,
                    self.actor,
                    self.session_id,
                    how,
                    self.clock(),
                    self.offline_token,
                )
        except Exception:  # noqa: BLE001 - quitting must not fail on it; the log has it
            log.exception("could not keep the end of the session on this station")
            return False
        return True

    def record_offline_change(
        self,
        kind: str,
        key: str,
        reference: str,
        incident_id: int | None,
        expected_version: int | None,
        typed: dict[str, Any],
        now: datetime,
    ) -> OfflineSaved:
        """Keep a note, status or grade change in this session's offline journal (a
        worker's thread); it goes to the database with the journal's next replay."""
        from controlroom.services import offline

        with self._journal_lock:
            if self._offline_journal is None:
                self._offline_journal = offline.open_journal(
                    self.settings.data_dir, self.username, self.offline_token
                )
            kept = offline.record_change(
                self._offline_journal,
                self.actor,
                kind,
                key,
                reference,
                incident_id,
                expected_version,
                typed,
                now,
                self.offline_token,
            )
        self._journal_waiting = True
        return kept

    def form_saved_offline(self, form: IncidentEntry, provisional: str, waiting: int) -> None:
        """A form's call is kept on this station: the form closes, and says where it is."""
        self.release_draft(form.journal)
        self._journal_waiting = True
        mode = self._mode_of(form)
        if mode is not None:
            del self._forms[mode]  # kept in the journal: no draft to write on the way out
            self.end_task(mode)
        self.notify(
            f"OFFLINE — SAVED ON THIS STATION as {provisional}. It goes to the database by "
            f"itself when it answers ({waiting} waiting).",
            title="Saved offline",
            severity="warning",
            markup=False,
            timeout=30,
        )

    def _audit_offline_sign_in(self) -> None:
        """A sign-in from the station's cache, audited into this session's journal (it
        reaches the main trail with the journal's replay)."""
        from controlroom.services import offline

        actor, now = self.actor, self.clock()

        def run() -> None:
            with self._journal_lock:
                if self._offline_journal is None:
                    self._offline_journal = offline.open_journal(
                        self.settings.data_dir, self.username, self.offline_token
                    )
                offline.audit_offline_sign_in(self._offline_journal, actor, now)

        self.run_worker(run, thread=True, exit_on_error=False, group="offline-sign-in")

    def _confirm_session(self) -> None:
        """The database answers after a sign-in from the cache: the account is checked
        and the session opened on the record; then the journal is replayed."""
        from controlroom.services.session import open_session

        if self._confirming:
            return
        self._confirming = True
        uow_factory, username, terminal = self.uow_factory, self.username, self.terminal
        data_dir = self.settings.data_dir

        def run() -> None:
            from controlroom.services import offline

            try:
                opened = open_session(uow_factory, username, terminal)
            except Exception as exc:  # noqa: BLE001 - said to the operator, in words
                from controlroom.screens.seam import failure_of

                if type(exc).__module__.startswith("controlroom."):
                    self.post_message(SignInRefused(failure_of(exc, "open the session").sentence))
                    return
                # Not answering after all: the next return tries again.
                self.call_from_thread(setattr, self, "_confirming", False)
                return
            try:
                offline.cache_identity(data_dir, opened)
            except OSError:
                pass
            self.post_message(SessionConfirmed(opened))

        self.run_worker(run, thread=True, exit_on_error=False, group="offline-confirm")

    @on(SessionConfirmed)
    def _session_confirmed(self, message: SessionConfirmed) -> None:
        self.operator = message.session.operator
        self.session_id = message.session.session_id
        self._signed_in_offline = self._confirming = False
        self.replay_offline()
        self.replay_offline(left_behind=True)
        self.cache_area()

    def replay_offline(self, *, left_behind: bool = False) -> None:
        """The database answers again: this session's offline journal goes into it, in
        order, each entry once (services/offline.py). `left_behind` (at sign-in): the
        journals of this operator's earlier sessions instead. A session opened from the
        station's cache is checked against the database first."""
        if self._signed_in_offline:
            self._confirm_session()
            return
        journal = self._offline_journal
        if (journal is None and not left_behind) or self.operator is None:
            return
        from controlroom.services import offline

        uow_factory, actor, clock = self.uow_factory, self.actor, self.clock
        grade_codes = tuple(g.code for g in self.settings.grades)
        data_dir, username, token = self.settings.data_dir, self.username, self.offline_token

        def run() -> None:
            if left_behind:
                report = offline.replay_left_behind(
                    data_dir, username, token, uow_factory, actor, clock, grade_codes
                )
            else:
                assert journal is not None
                with self._journal_lock:
                    report = offline.replay(journal, uow_factory, actor, clock, grade_codes)
            self.post_message(OfflineReplayed(report))

        self.run_worker(run, thread=True, exit_on_error=False, group="offline-replay")

    @on(OfflineReplayed)
    def _offline_replayed(self, message: OfflineReplayed) -> None:
        # Cut off (the database went again): the rest go at its return, which the watch
        # will see, or with the next call kept offline, or at the next sign-in.
        report = message.report
        if report.replayed:
            pairs = ", ".join(f"{off} is {final}" for off, final in report.replayed[:3])
            more = f" and {len(report.replayed) - 3} more" if len(report.replayed) > 3 else ""
            self.notify(
                f"{len(report.replayed)} call(s) and change(s) kept on this station are now in the "
                f"database: {pairs}{more}.",
                title="Offline incidents sent",
                markup=False,
                timeout=30,
            )
        if report.refused or report.conflicted or report.duplicates or report.tampered:
            # The reconciliation, whole: what went in with a doubt, what did not, why.
            from controlroom.screens.offline_kept import ReconciliationScreen

            self.push_screen(ReconciliationScreen(report.lines))

    def form_saved(self, form: IncidentEntry, reference: str) -> None:
        """A form saved its incident: the incident's view takes the form's place in the
        call's mode (brought up, if the operator had gone elsewhere meanwhile)."""
        self.release_draft(form.journal)
        mode = self._mode_of(form)
        if mode is None:
            return
        self._forms.pop(mode, None)
        if self.locked:
            self._after_unlock.append(lambda: self._show_saved(mode, reference))
            return
        self._show_saved(mode, reference)

    def _show_saved(self, mode: str, reference: str) -> None:
        """The call's mode gives way to a mode of its own for the incident's view (a
        mode's first screen cannot be switched out in place)."""
        from controlroom.screens.incident.view import IncidentView

        if mode not in self._task_modes:
            return
        self._open_task(self._new_call_mode(), lambda: IncidentView(reference))
        self.end_task(mode)

    def action_incident_list(self) -> None:
        from controlroom.screens.incident.listing import IncidentList

        self._open_task("incidents", IncidentList)

    def action_resource_board(self) -> None:
        from controlroom.screens.resource_board import ResourceBoard

        self._open_task("resources", ResourceBoard)

    def action_open_by_reference(self) -> None:
        from controlroom.screens.incident.listing import OpenByReference

        def chosen(reference: str | None) -> None:
            if reference:
                self.open_incident(reference)

        self.push_screen(OpenByReference(), chosen)

    def action_person_search(self) -> None:
        from controlroom.screens.person.search import PersonSearch

        self._open_task("search", PersonSearch)

    def action_triage_queue(self) -> None:
        from controlroom.screens.queue import open_triage_queue

        if "queue" in self._task_modes:
            self.switch_mode("queue")
        else:
            open_triage_queue(self)

    def open_queue(self, first: Callable[[], Screen]) -> None:
        """The triage queue's mode, on the screen its opening read made."""
        self._open_task("queue", first)

    def action_kept_offline(self) -> None:
        """Supervisors: the entries stations kept offline that are still to resolve."""
        from controlroom.screens.offline_kept import KeptBackScreen

        self._open_task("kept_offline", KeptBackScreen)

    def action_command_view(self) -> None:
        from controlroom.screens.command_view import CommandView

        self._open_task("command", CommandView)

    def action_crime_queue(self) -> None:
        from controlroom.screens.crime.queue import CrimeRecordingQueue

        self._open_task("crime", CrimeRecordingQueue)

    def action_crime_integrity(self) -> None:
        from controlroom.screens.crime.integrity import CrimeIntegrity

        self._open_task("integrity", CrimeIntegrity)

    def action_crime_statistics(self) -> None:
        from controlroom.screens.crime.statistics import CrimeStatistics

        self._open_task("statistics", CrimeStatistics)

    def action_legacy_review(self) -> None:
        """The legacy import's review list (command palette): a step in the task at hand."""
        from controlroom.screens.legacy_review import LegacyReview

        self.push_screen(LegacyReview())

    def action_intelligence(self) -> None:
        from controlroom.screens.intelligence.search import IntelligenceSearch

        self._open_task("intelligence", IntelligenceSearch)

    def open_incident(self, reference: str) -> None:
        """Show an incident, one step further in the task at hand."""
        from controlroom.screens.incident.view import IncidentView

        if self.locked:
            # A claim finishing behind the lock opens nothing over it: it waits for the PIN.
            self._after_unlock.append(lambda: self.open_incident(reference))
            return
        self.push_screen(IncidentView(reference))

    @on(IncidentChosen)
    def incident_chosen(self, message: IncidentChosen) -> None:
        self.open_incident(message.reference)

    @on(ReportSaved)
    def report_saved(self, message: ReportSaved) -> None:
        from controlroom.screens.intelligence.report import IntelligenceReportScreen

        self.switch_screen(IntelligenceReportScreen(message.report_id))

    @on(CallFailed)
    def call_failed(self, message: CallFailed) -> None:
        """A screen that has no place of its own for a failure: say it in a toast."""
        self.notify(message.failure.sentence, severity="error", markup=False, timeout=10)

    @on(SignInRefused)
    def sign_in_refused(self, message: SignInRefused) -> None:
        self.refusal = message.reason
        self.exit(return_code=2)

    def action_command_palette(self) -> None:
        """ctrl+p: Textual's palette; on a 16-colour console its emoji search icon (which
        a Linux console cannot draw) becomes ">"."""
        from textual.command import CommandPalette, SearchIcon

        if not self.use_command_palette or CommandPalette.is_open(cast(App, self)):
            return
        palette = CommandPalette(id="--command-palette")
        self.push_screen(palette)
        if self.use_ansi:

            def plain_icon() -> None:
                for icon in palette.query(SearchIcon):
                    icon.icon = ">"
                    icon.refresh()  # a `var`: setting it draws nothing by itself

            palette.call_after_refresh(plain_icon)

    def get_key_display(self, binding: Binding) -> str:
        """Textual's display of a bound key ("f3", "^q", "esc"), without searching
        Unicode's names where the answer is known (widgets/key_names.py)."""
        if not binding.key_display:
            display = key_names.key_display(binding.key)
            if display is not None:
                return display
        return super().get_key_display(binding)

    def action_help(self) -> None:
        from controlroom.screens.help import HelpScreen, KeyHelp

        if isinstance(self.screen, HelpScreen | SignInScreen):
            return
        # Every key of a binding ("f2 / ctrl+n"): Textual lists each key on its own, with
        # the binding's id on each.
        shown: dict[str, tuple[list[str], str]] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            # Only Control Room's own bindings (they all carry ids); Textual's focus and
            # copy keys are not what an operator looks up here.
            if not binding.id:
                continue
            display = self.get_key_display(binding)
            described = binding.description or binding.tooltip or binding.action
            displays, _ = shown.setdefault(binding.id, ([], described))
            if display not in displays:
                displays.append(display)
        keys = [
            KeyHelp(keys=" / ".join(displays), description=described, binding_id=binding_id)
            for binding_id, (displays, described) in shown.items()
        ]
        keys.append(KeyHelp("ctrl+p", "Command palette", "app.command_palette"))
        title = type(self.screen).__name__
        notes = getattr(self.screen, "help_notes", "")
        self.push_screen(
            HelpScreen(getattr(self.screen, "TITLE", None) or title, keys, str(notes or ""))
        )

    def action_home(self) -> None:
        """The board, every task kept as it was left."""
        self.switch_mode(BOARD)

    async def action_back(self) -> None:
        """Esc: one screen back within the task; at the task's first screen, the task
        closes and the board shows (never back through other tasks)."""
        depth = _BOARD_DEPTH if self.current_mode == BOARD else 1
        if len(self.screen_stack) > depth:
            self.pop_screen()
        else:
            self.end_task()


# How long after a task closes its screens are let go of: they finish closing first,
# and their live feeds' threads see they are cancelled (within about a second).
CLOSED_TASK_COLLECT_SECONDS = 2.0


def let_go_of_closed_screens() -> None:
    """Free what a closed task's screens held, now rather than minutes later.

    A closed screen stopped its timers, but asyncio keeps each cancelled timer's handle,
    and with it the context the timer started in (Textual's active message pump: the
    screen), until the handle's time comes: a triage queue closed was held, with its
    table, for the length of its heartbeat, a crime queue for 30 s. Opening every main
    screen in turn on the 1M-person seed peaked 12 MiB higher for it. The event loop
    drops cancelled handles itself once they are over half of a hundred or more
    (`BaseEventLoop._run_once`); this does the same now, on the loop's own thread,
    where the loop has that list (the default loop, which Textual runs). Then the
    screens' cycles (widgets and parents, styles) are collected, which the steadied
    collector (`steady_collector`) would leave for thousands of allocations more, so the
    next task reuses their memory rather than adding to it.
    """
    loop = asyncio.get_running_loop()
    scheduled = getattr(loop, "_scheduled", None)
    if isinstance(scheduled, list) and hasattr(loop, "_timer_cancelled_count"):
        live = []
        for handle in scheduled:
            if getattr(handle, "_cancelled", False):
                handle._scheduled = False  # noqa: SLF001 - as the loop's own clean-up does
            else:
                live.append(handle)
        heapq.heapify(live)
        loop._scheduled = live  # type: ignore[attr-defined]  # noqa: SLF001
        loop._timer_cancelled_count = 0  # noqa: SLF001
    gc.collect()


def steady_collector() -> None:
    """Keep Python's cyclic garbage collector from pausing the screens at random.

    Opening the triage queue on 10,000 items ran some 33 collections, and now and then
    a full one of every object the program holds: 150 ms in one open, which made the
    open 2.4-3.8x its floor from run to run (issue 20). Once the session is open, what
    start-up made (Textual's widgets and styles, SQLAlchemy's mappers, the modules)
    lives as long as the process: it is collected once and frozen, so no collection
    scans it again, and a young collection waits for GC_YOUNG_THRESHOLD new objects
    rather than 700. Garbage is still collected, in fewer, shorter pauses.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


def make_app(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    operator: str,
    *,
    terminal: str = "local",
    term: str | None = None,
    clock: Callable[[], datetime] = utc_clock,
    over_ssh: bool = False,
    steady_gc: bool = False,
    demo_for: str | None = None,
) -> ControlRoomApp:
    """Build the app around the process's unit-of-work factory, for the OS user `operator`.

    The app signs the operator in on its first screen; the CLI and the tests share this.
    `steady_gc` (the CLI): settle the garbage collector once signed in (`steady_collector`).
    `demo_for` (`controlroom demo`): the OS account running the shared demo account.
    """
    return ControlRoomApp(
        settings,
        uow_factory,
        operator,
        terminal=terminal,
        term=term,
        clock=clock,
        over_ssh=over_ssh,
        steady_gc=steady_gc,
        demo_for=demo_for,
    )


__all__ = ["ControlRoomApp", "make_app", "steady_collector", "__version__"]
