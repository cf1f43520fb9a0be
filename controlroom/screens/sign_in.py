"""Signing in: the first frame, drawn before the database is opened.

The operator is the OS user running the process. A thread worker opens the database
(checking its schema), checks the account and reads the database's profile; the app
then opens the home board, or closes with the reason if the session is refused —
nothing of the system opens for a refused user.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Static

from controlroom.messages import SessionOpened, SignInRefused
from controlroom.screens.seam import AppScreen
from controlroom.widgets.record_text import record_content


class SignInScreen(AppScreen[None]):
    """Shows who is being signed in and from where, while the worker does the checks."""

    AUTO_FOCUS = None
    CSS_PATH = None  # app.tcss has its rules (not screens.tcss, see AppScreen)

    def compose(self) -> ComposeResult:
        # The app's operator and terminal: this screen is the board mode's first, made by
        # Textual from `ControlRoomApp.MODES`.
        self._username, self._terminal = self.app.username, self.app.terminal
        with Center(id="sign-in"):
            with Vertical(id="sign-in-panel"):
                yield Static("CONTROL ROOM", id="sign-in-title", markup=False)
                yield Static(
                    record_content(f"Signing in {self._username} at {self._terminal}…"),
                    id="sign-in-status",
                )

    def on_mount(self) -> None:
        # After the first frame is drawn: the worker's imports would otherwise compete
        # with the first paint for the interpreter.
        self.call_after_refresh(self.open_session)

    def open_session(self) -> None:
        uow_factory, data_dir = self.app.uow_factory, self.app.settings.data_dir
        username, terminal = self._username, self._terminal
        grade_codes = tuple(g.code for g in self.app.settings.grades)
        clock = self.app.clock
        demo_for = self.app.demo_for
        database_url = self.app.settings.database_url

        def open_it() -> SessionOpened:
            # Imported here, on the worker's thread: this is where SQLAlchemy loads, after
            # the first frame is already on the operator's screen.
            from controlroom.services import offline
            from controlroom.services.drafts import DraftClaims, draft_journal
            from controlroom.services.session import DatabaseAway, open_session

            try:
                opened = open_session(
                    uow_factory, username, terminal, demo_for=demo_for, database_url=database_url
                )
            except Exception as exc:
                # The database did not answer (not a refusal): the station's cache of the
                # last good sign-in opens the session, to take calls offline (issue 13).
                cached = None
                outage = isinstance(exc, DatabaseAway) or not type(exc).__module__.startswith(
                    "controlroom."
                )
                if demo_for is None and outage:
                    cached = offline.cached_session(data_dir, username, terminal)
                if cached is None:
                    raise
                opened = cached
            else:
                try:
                    offline.cache_identity(data_dir, opened)
                except OSError:
                    pass  # a convenience: the sign-in itself succeeded
            drafts = draft_journal(data_dir, opened.operator.username)
            # A draft whose form another session of this operator has open is that
            # session's: not offered here.
            others = DraftClaims()
            found = tuple(
                (journal, draft)
                for journal in drafts.all()
                if not others.held_elsewhere(journal) and (draft := journal.load()) is not None
            )
            # The board's first figures, read here: the board is then drawn once, with
            # them, not first empty and again a moment later (issue 15: bytes at start).
            # If they cannot be read the board reads them itself and says why.
            from controlroom.services import board

            counts = None
            if not opened.offline:  # else the board says the database is not answering
                try:
                    counts = board.home_counts(uow_factory(), grade_codes, clock())
                except Exception:  # noqa: BLE001 - the board's own read words the failure
                    counts = None
            return SessionOpened(opened, drafts, found, counts)

        # A refusal (unknown or locked account, database not ready) or any failure closes
        # the door, with its reason in words.
        self.run_service(
            open_it,
            lambda opened: opened,
            doing="open the session",
            group="sign-in",
            # A database that cannot be opened is named (its URL masked), with the
            # driver's reason: what the administrator needs, on the way out.
            failed=lambda failure: SignInRefused(
                str(failure.error)
                if getattr(failure.error, "database_failure", False)
                else failure.sentence
            ),
        )
