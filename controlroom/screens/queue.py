"""The triage queue (F5 / ctrl+t): every item waiting for a decision, most urgent first.

At the top: how many wait, the oldest age and how many are past their target. Rows are
ordered by escalation, grade, risk and age against target; risk reads in words and
symbols ("HIGH ▲▲▲") as well as colour. `q` and `g` cycle the queue and grade filters.
Enter or `c` claims the highlighted item; Enter on an item you hold opens its incident;
`x` completes it. A claim whose holder has gone quiet shows STALE and may be reclaimed
after a question; supervisors reassign with `a` and a written reason.

The table draws the 200 most urgent items (the figures at the top count them all; the
filters narrow the list). The database orders, limits and counts (`list_queue`): the
screen holds only the rows it draws and the figures. F5 reads first and then pushes
the screen with its rows (`open_triage_queue`): the read does not compete with the
screen's setup, and the first frame already shows the queue. A changed item that becomes more
urgent than the last drawn row enters the table; when a drawn row leaves (or falls
behind), the drawn rows are read again (`refresh_listing`) to fill the table.

Live: a thread worker waits on the change feed (LISTEN/NOTIFY on PostgreSQL, the change
counter on SQLite); each batch of changed items is read in another worker and applied
to the table cell by cell: rows are added, removed or updated, never rebuilt.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import RowKey
from textual.worker import get_current_worker

from controlroom.domain.permissions import Action, may
from controlroom.domain.queues import QUEUE_ORDER, Queue
from controlroom.messages import IncidentChosen
from controlroom.screens.ages import format_age
from controlroom.screens.frame import FramedScreen
from controlroom.screens.seam import AppModal, CallFailed, failure_of
from controlroom.services import queues
from controlroom.services.queues import (
    ClaimLost,
    ClaimRefused,
    QueueListing,
    QueueRow,
    QueueSummary,
)
from controlroom.widgets.fixed_table import FixedColumnsTable
from controlroom.widgets.quiet import show
from controlroom.widgets.record_text import record_content, record_text

if TYPE_CHECKING:
    from controlroom.app import ControlRoomApp
    from controlroom.services.queues import ChangeFeed

FEED_WAIT_SECONDS = 0.5
# Keys typed after c or x wait this long at most for its answer (a database that does
# not answer gives one within the app's waits; the keys then go on regardless).
STEP_WAIT_SECONDS = 3.0
# The table draws the most urgent items; the figures at the top count them all.
SHOWN_ROWS = 200
# Drawn at once on the first read: more than any terminal shows; the rest follow.
FIRST_DRAWN = 60
# Stale marks and ages follow the clock this often.
TICK_SECONDS = 15
COLUMNS = (
    ("risk", "Risk", 14),
    ("grade", "Gr", 2),
    ("queue", "Q", 4),
    # The reference's day and number ("1202-0042"), as the resource board and the
    # dispatch command line take it: room for the attendance clock at 80 columns.
    ("ref", "Ref", 9),
    ("type", "Type", 9),
    ("age", "Waiting", 9),
    # The attendance clock: MET or MISS at the first arrival, minutes while it runs
    # ("!" once past the grade's target).
    ("clock", "Att", 4),
    ("claim", "Claimed", 10),
)
RISK_STYLES = {3: "bold red", 2: "yellow", 1: ""}


def risk_cell(row: QueueRow) -> Text:
    style = "bold reverse red" if row.escalated else RISK_STYLES.get(row.risk_level, "")
    return Text(row.risk_words, style=style, end="")


def age_cell(row: QueueRow, now: datetime) -> Text:
    age = now - row.entered_at
    over = age > row.target
    # The "!" first: a column too narrow for "71d 16h" cuts the hours, never the mark.
    return Text(("! " if over else "") + format_age(age), style="bold" if over else "", end="")


def short_reference(reference: str) -> str:
    """ "CR-20261202-0042" as "1202-0042" (the day and the number); others as they are."""
    return reference[7:] if reference.startswith("CR-") and len(reference) > 7 else reference


def clock_cell(row: QueueRow, now: datetime) -> Text:
    """The attendance clock; while it runs, as it stands at `now` (the tick)."""
    clock = row.attendance.at(now)
    return Text(clock.short, style="bold" if clock.alarming else "", end="")


def claim_cell(row: QueueRow, me: int | None, now: datetime) -> Text:
    if row.state != "claimed":
        return Text("—", style="dim", end="")
    if row.stale:
        return record_text(f"STALE {row.claimed_by or ''}", style="bold")
    if row.claimed_by_id == me:
        return Text("YOU", style="bold", end="")
    return record_text(row.claimed_by or "")


def open_triage_queue(app: ControlRoomApp) -> None:
    """F5: read the queue first, then push the screen with its rows, so the screen's setup
    and the read do not share the interpreter; the operator's board stays until then.

    The change feed opens before the read: nothing committed after the read is missed.
    If the read fails the screen opens anyway, reads again and says why. If the operator
    has gone elsewhere meanwhile, the screen is not pushed."""
    origin = app.screen

    def show(listing: QueueListing | None, feed: ChangeFeed | None) -> None:
        if app.screen is origin and not isinstance(origin, TriageQueue):
            app.open_queue(lambda: TriageQueue(listing=listing, feed=feed))
        elif feed is not None:
            feed.close()

    def read() -> None:
        feed: ChangeFeed | None = None
        listing: QueueListing | None = None
        try:
            feed = queues.open_change_feed(app.uow_factory)
        except Exception:  # the screen tries again and says so
            feed = None
        try:
            listing = queues.list_queue(
                app.uow_factory(),
                app.actor,
                queues.policy_from(app.settings),
                app.clock(),
                limit=SHOWN_ROWS,
            )
        except Exception:  # the screen reads again and says why
            listing = None
        try:
            app.call_from_thread(show, listing, feed)
        except Exception:  # the app is closing
            if feed is not None:
                feed.close()

    app.run_worker(read, thread=True, exclusive=True, exit_on_error=False, group="queue-open")


class ReassignScreen(AppModal[tuple[str, str] | None]):
    """A supervisor names the operator to take the item and writes why."""

    DEFAULT_CSS = """
    ReassignScreen { align: center middle; }
    #reassign-panel { width: 64; max-width: 100%; height: auto; border: thick $warning;
                      background: $surface; padding: 0 1;
                      &:ansi { border: ascii ansi_yellow; } }
    #reassign-error { color: $error; height: auto; &:ansi { color: ansi_bright_red; } }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reassign.cancel")]

    def __init__(self, reference: str, holder: str | None) -> None:
        super().__init__()
        self._reference = reference
        self._holder = holder

    def compose(self) -> ComposeResult:
        with Vertical(id="reassign-panel"):
            yield Static(
                record_content(
                    f"Reassign {self._reference} (held by {self._holder or 'nobody'})", style="bold"
                )
            )
            yield Input(id="reassign-to", max_length=64, placeholder="operator's username")
            yield Input(
                id="reassign-reason", max_length=500, placeholder="reason (recorded with your name)"
            )
            yield Static("", id="reassign-error", markup=False)
            yield Static("Enter moves on and submits · Esc cancels", markup=False)

    @on(Input.Submitted, "#reassign-to")
    def to_given(self) -> None:
        self.focus_now(self.query_one("#reassign-reason", Input))

    @on(Input.Submitted, "#reassign-reason")
    def reason_given(self) -> None:
        to = self.query_one("#reassign-to", Input).value
        reason = self.query_one("#reassign-reason", Input).value
        if not to.strip():
            self.show_error("name the operator to give the item to")
            self.focus_now(self.query_one("#reassign-to", Input))
            return
        self.dismiss((to, reason))

    def show_error(self, message: str) -> None:
        self.query_one("#reassign-error", Static).update(record_content(message))

    def action_cancel(self) -> None:
        self.dismiss(None)


class TriageQueue(FramedScreen):
    """The triage queue. Database work runs in thread workers; handlers draw."""

    TITLE = "Triage queue"
    DEFAULT_CSS = """
    #queue { padding: 0 1; height: 1fr; }
    #queue-summary { height: 1; text-style: bold; }
    #queue-filters { height: 1; color: $text-muted; }
    #queue-table { height: 1fr; }
    #queue-message { height: auto; max-height: 4; }
    """
    BINDINGS = [
        Binding("c", "claim", "Claim", id="queue.claim", tooltip="Claim the highlighted item"),
        Binding(
            "x", "complete", "Complete", id="queue.complete", tooltip="Complete the item you hold"
        ),
        Binding(
            "q",
            "cycle_queue",
            "Queue",
            id="queue.filter_queue",
            tooltip="Show the next queue (all, DA, CP, MISP, GEN)",
        ),
        Binding(
            "g",
            "cycle_grade",
            "Grade",
            id="queue.filter_grade",
            tooltip="Show the next grade (all, G1, G2, ...)",
        ),
        Binding(
            "a",
            "reassign",
            "Reassign",
            id="queue.reassign",
            tooltip="Supervisors: give the item to another operator, with a reason",
        ),
        Binding(
            "r,ctrl+r", "reload", "Reload", id="queue.reload", tooltip="Read the whole queue again"
        ),
    ]

    @dataclass
    class Listed(Message):
        """The most urgent rows of the filter and the figures for all of it."""

        listing: QueueListing

    @dataclass
    class RowsRead(Message):
        """Items as they are now (`requested` names those asked for, gone ones included);
        `recount` when the figures must follow."""

        rows: list[QueueRow]
        requested: frozenset[int]
        recount: bool = False

    @dataclass
    class Counted(Message):
        """The queue's figures: how many wait, the oldest, how many are over target."""

        summary: QueueSummary

    @dataclass
    class ChangesHeard(Message):
        """The change feed named these items (or `everything` changed)."""

        item_ids: frozenset[int]
        everything: bool

    @dataclass
    class Said(Message):
        """Words for the message line."""

        text: str

    @dataclass
    class Claimed(Message):
        """The operator now holds the item; `open_it` opens its incident too."""

        row: QueueRow
        open_it: bool

    @dataclass
    class Completed(Message):
        """The item was completed and has left the queue."""

        item_id: int
        reference: str
        version: int  # the done item's

    @dataclass
    class Reassigned(Message):
        """A supervisor gave the item to another operator."""

        row: QueueRow

    class ReadFailed(CallFailed):
        """The queue, its changed items or its figures could not be read."""

    @dataclass
    class ClaimFailed(CallFailed):
        """A claim was refused (held, stale) or failed; the item as it is, if known."""

        item_id: int = 0

    class ChangeFailed(CallFailed):
        """A completion or a reassignment did not go through."""

    def __init__(
        self,
        queue: Queue | None = None,
        grade: str | None = None,
        *,
        listing: QueueListing | None = None,
        feed: ChangeFeed | None = None,
    ) -> None:
        super().__init__()
        # Read before the screen was pushed (`open_triage_queue`): drawn at mount.
        self._preloaded = listing
        self._feed = feed
        self.queue_filter = queue
        self.grade_filter = grade
        self.rows: dict[int, QueueRow] = {}  # the rows drawn
        self.row_keys: dict[int, RowKey] = {}
        # The newest version of each item this screen has been told of, drawn or not
        # (a completed one too): a read that arrives after a newer change was shown
        # (a refill begun before this station's claim committed) does not undo it.
        self.versions: dict[int, int] = {}
        self.summary: QueueSummary | None = None
        self.summary_at: datetime | None = None
        self.loaded = False

    # --- layout ---------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Vertical(id="queue"):
            yield Static("Reading the queue…", id="queue-summary", markup=False)
            yield Static("", id="queue-filters", markup=False)
            # Every column has its width: the 200 rows drawn at once are not measured.
            yield FixedColumnsTable[Text].with_columns(COLUMNS, id="queue-table")
            yield Static("", id="queue-message", markup=False)

    def on_mount(self) -> None:
        app = self.app
        self.policy = queues.policy_from(app.settings)
        self.me = app.signed_in.id
        self.may_reassign = may(app.actor.role, Action.QUEUE_REASSIGN)
        self._show_filters()
        if self._preloaded is not None:
            self.listed(self.Listed(self._preloaded))
            self._preloaded = None
        else:
            self.reload()
        self.listen()
        self.set_interval(self.policy.heartbeat_every.total_seconds(), self.beat)
        self.set_interval(TICK_SECONDS, self._tick)

    # --- reading --------------------------------------------------------------------------

    def reload(self) -> None:
        app = self.app
        uow_factory, actor, clock, policy = app.uow_factory, app.actor, app.clock, self.policy
        queue, grade = self.queue_filter, self.grade_filter
        self.run_service(
            lambda: queues.list_queue(
                uow_factory(), actor, policy, clock(), queue=queue, grade=grade, limit=SHOWN_ROWS
            ),
            self.Listed,
            doing="read the queue",
            group="queue-list",
            failed=self.ReadFailed,
        )

    def refill(self) -> None:
        """Read the drawn rows again (a drawn row left): the live refresh, not audited."""
        uow_factory, clock, policy = self.app.uow_factory, self.app.clock, self.policy
        queue, grade = self.queue_filter, self.grade_filter
        self.run_service(
            lambda: queues.refresh_listing(
                uow_factory(), policy, clock(), queue=queue, grade=grade, limit=SHOWN_ROWS
            ),
            self.Listed,
            doing="read the queue",
            group="queue-refill",
            failed=self.ReadFailed,
        )

    def recount(self) -> None:
        uow_factory, clock, policy = self.app.uow_factory, self.app.clock, self.policy
        queue, grade = self.queue_filter, self.grade_filter
        self.run_service(
            lambda: queues.queue_summary(uow_factory(), policy, clock(), queue=queue, grade=grade),
            self.Counted,
            doing="count the queue",
            group="queue-count",
            failed=self.ReadFailed,
        )

    @on(ReadFailed)
    def read_failed(self, message: ReadFailed) -> None:
        message.stop()
        self.say(message.failure.sentence)

    @work(thread=True, exit_on_error=False, group="queue-feed")
    def listen(self) -> None:
        """The change feed: a loop for the life of the screen, not a single call."""
        worker = get_current_worker()
        feed, self._feed = self._feed, None
        try:
            feed = feed or queues.open_change_feed(self.app.uow_factory)
        except Exception as exc:  # noqa: BLE001 - worded and logged by failure_of
            failure = failure_of(exc, "start live updates")
            self.post_message(self.Said(f"Live updates are off. {failure.sentence}"))
            return
        try:
            while not worker.is_cancelled:
                batch = feed.wait(FEED_WAIT_SECONDS)
                if batch is not None and not worker.is_cancelled:
                    self.post_message(self.ChangesHeard(batch.item_ids, batch.everything))
        except Exception as exc:  # noqa: BLE001 - the feed broke: never silently
            failure = failure_of(exc, "keep live updates")
            self.post_message(
                self.Said(f"Live updates have stopped; r starts them again. {failure.sentence}")
            )
        finally:
            feed.close()

    @on(ChangesHeard)
    def changes_heard(self, message: ChangesHeard) -> None:
        if message.everything:
            self.reload()
        elif message.item_ids:
            self.read_rows(message.item_ids)

    def read_rows(self, item_ids: frozenset[int]) -> None:
        uow_factory, clock, policy = self.app.uow_factory, self.app.clock, self.policy
        # The rows first (what changed shows at once), then the figures they change.
        self.run_service(
            lambda: queues.rows_for(uow_factory(), policy, clock(), item_ids),
            lambda rows: self.RowsRead(rows, frozenset(item_ids), recount=True),
            doing="read the changed items",
            group="queue-rows",
            exclusive=False,
            failed=self.ReadFailed,
        )

    # --- drawing --------------------------------------------------------------------------

    def _wanted(self, row: QueueRow) -> bool:
        return (
            row.open
            and (self.queue_filter is None or row.queue is self.queue_filter)
            and (self.grade_filter is None or row.grade == self.grade_filter)
        )

    def _cells(self, row: QueueRow, now: datetime) -> dict[str, Text]:
        return {
            "risk": risk_cell(row),
            "grade": record_text(row.grade),
            "queue": Text(row.queue.short, end=""),
            "ref": record_text(short_reference(row.reference)),
            "type": record_text(row.type_label),
            "age": age_cell(row, now),
            "clock": clock_cell(row, now),
            "claim": claim_cell(row, self.me, now),
        }

    @on(Listed)
    def listed(self, message: Listed) -> None:
        table = self.query_one("#queue-table", DataTable)
        now = message.listing.read_at
        self.summary, self.summary_at = message.listing.summary, now
        if not self.loaded:
            # First read: the most urgent rows arrive in queue order; draw them as they are.
            # The rows a screen shows are drawn first; the rest of the model's rows
            # (out of sight below) follow once that frame is up (`_draw_rest`): the
            # operator sees the queue without waiting on rows they must scroll to.
            shown = list(message.listing.rows[:SHOWN_ROWS])
            self.rows = {row.item_id: row for row in shown}
            self.versions.update((row.item_id, row.version) for row in shown)
            self.row_keys = {
                row.item_id: table.add_row(
                    *self._cells(row, now).values(), key=f"item-{row.item_id}"
                )
                for row in shown[:FIRST_DRAWN]
            }
            self.loaded = True
            if len(shown) > FIRST_DRAWN:
                self.call_after_refresh(self._draw_rest, [r.item_id for r in shown], now)
            if self.summary.count > SHOWN_ROWS:
                self.say(
                    f"Showing the {SHOWN_ROWS} most urgent of {self.summary.count:,}; "
                    "q and g narrow the list."
                )
        else:
            self._apply(
                list(message.listing.rows),
                {r.item_id for r in message.listing.rows} | set(self.rows),
                now,
            )
        self._show_summary()

    def _draw_rest(self, order: list[int], now: datetime) -> None:
        """Draw the first read's rows not drawn yet, in the order read. A change applied
        meanwhile (`_apply`) drew every row of the model and sorted the table: then
        nothing is left to draw here."""
        table = self.query_one("#queue-table", FixedColumnsTable)
        for item_id in order:
            row = self.rows.get(item_id)
            if row is not None and item_id not in self.row_keys:
                self.row_keys[item_id] = table.add_row(
                    *self._cells(row, now).values(), key=f"item-{item_id}"
                )

    @on(Counted)
    def counted(self, message: Counted) -> None:
        self.summary, self.summary_at = message.summary, self.app.clock()
        self._show_summary()
        if self.loaded and len(self.rows) < min(SHOWN_ROWS, message.summary.count):
            # More wait than are drawn: a row is missing (a listing read before an item
            # arrived, applied after it). Read the rows again rather than hide a call.
            self.refill()

    @on(RowsRead)
    def rows_read(self, message: RowsRead) -> None:
        if message.recount:
            self.recount()
        if not self.loaded:
            return
        # The figures follow (Counted); a refill decided on the previous count is at worst
        # one read too many, never a row missing.
        if self._apply(message.rows, set(message.requested), self.app.clock()):
            self.refill()

    def _apply(self, rows: list[QueueRow], touched: set[int], now: datetime) -> bool:
        """Bring the model and the table in step with `rows` (the items in `touched` as
        they are now). The model holds every item of the filter; the table draws the
        `SHOWN_ROWS` most urgent. Only rows that enter, leave or change are touched in
        the table, and it is re-sorted only when the order of drawn rows changed.

        The model holds the drawn rows only, so a changed row counts if it is more urgent
        than the last drawn one (or the table has room). True when the rows drawn may no
        longer be the most urgent (a drawn row left or fell behind while more wait): the
        caller reads them again."""
        table = self.query_one("#queue-table", FixedColumnsTable)
        # Reads overtake each other (a refill begun before a claim, answered after it):
        # a row older than the version already shown leaves that item as it is.
        older = {r.item_id for r in rows if r.version < self.versions.get(r.item_id, 0)}
        self.versions.update((r.item_id, r.version) for r in rows if r.item_id not in older)
        fresh = {r.item_id: r for r in rows if r.item_id not in older and self._wanted(r)}
        touched = touched - older
        previous = {i: self.rows[i] for i in touched if i in self.rows}
        full = len(self.rows) >= SHOWN_ROWS
        last = max((r.order for r in self.rows.values()), default=None)
        for item_id in touched:
            row = fresh.get(item_id)
            if row is not None and (
                item_id in self.rows or not full or last is None or row.order < last
            ):
                self.rows[item_id] = row
            else:
                self.rows.pop(item_id, None)
        drawn = heapq.nsmallest(SHOWN_ROWS, self.rows.values(), key=lambda r: r.order)
        top = {r.item_id for r in drawn}
        fell_behind = any(i not in top for i in previous)
        self.rows = {r.item_id: r for r in drawn}
        reorder = False
        for item_id in [i for i in self.row_keys if i not in top]:
            table.remove_row(self.row_keys.pop(item_id))
        for item_id in top:
            row = self.rows[item_id]
            if item_id not in self.row_keys:
                self.row_keys[item_id] = table.add_row(
                    *self._cells(row, now).values(), key=f"item-{item_id}"
                )
                reorder = True
            elif item_id in previous:
                old = previous[item_id]
                before = self._cells(old, now)
                for column, cell in self._cells(row, now).items():
                    if (cell.plain, str(cell.style)) != (
                        before[column].plain,
                        str(before[column].style),
                    ):
                        table.set_cell(self.row_keys[item_id], column, cell)
                reorder = reorder or old.order != row.order
        if reorder:
            # An incident is in a queue at most once: (reference, queue) names the row (by
            # the reference as shown: two a year apart to the day and number, both among
            # the drawn rows, would share a place, and no more).
            order = {
                (short_reference(r.reference), r.queue.short): r.order
                for i, r in self.rows.items()
                if i in self.row_keys
            }
            table.sort("ref", "queue", key=lambda cells: order[(cells[0].plain, cells[1].plain)])
        waiting = self.summary.count if self.summary is not None else len(self.rows)
        return (fell_behind and waiting > len(self.rows)) or len(self.rows) < min(
            SHOWN_ROWS, waiting
        )

    def shown_count(self) -> int:
        return len(self.row_keys)

    def claim_text(self, item_id: int) -> str:
        """What the Claimed column shows for the item ("" when it is not drawn)."""
        key = self.row_keys.get(item_id)
        if key is None:
            return ""
        return self.query_one("#queue-table", DataTable).get_cell(key, "claim").plain

    def _show_summary(self) -> None:
        if self.summary is None:
            return
        # The figures as counted at `summary_at`; the oldest age follows the clock.
        count, breaches = self.summary.count, self.summary.breaches
        oldest = self.summary.oldest_age
        if oldest is not None and self.summary_at is not None:
            oldest += self.app.clock() - self.summary_at
        where = self.queue_filter.label if self.queue_filter else "All queues"
        text = f"{where}: {count:,} waiting"
        text += f" · oldest {format_age(oldest)}" if oldest is not None else ""
        text += f" · {breaches:,} over triage target"
        show(self.query_one("#queue-summary", Static), text)

    def _show_filters(self) -> None:
        queue = self.queue_filter.label if self.queue_filter else "all"
        grade = self.grade_filter or "all"
        show(
            self.query_one("#queue-filters", Static),
            f"q queue: {queue} · g grade: {grade} · Enter/c claim · x complete"
            + (" · a reassign" if getattr(self, "may_reassign", False) else ""),
        )

    def _tick(self) -> None:
        """Time passing changes what is shown without any change in the database: a
        claim whose holder went quiet turns STALE, and the figures age."""
        if not self.loaded:
            return
        now = self.app.clock()
        after = self.policy.stale_after
        quiet = [
            row
            for row in self.rows.values()
            if row.state == "claimed"
            and not row.stale
            and row.heartbeat_at is not None
            and now - row.heartbeat_at >= after
        ]
        if quiet:
            self._apply(
                [row._replace(stale=True) for row in quiet], {row.item_id for row in quiet}, now
            )
        self._tick_clocks(now)
        self.recount()  # breaches grow with time

    def _tick_clocks(self, now: datetime) -> None:
        """Running attendance clocks move with time: each cell whose words changed is
        sent again (a stopped clock changes only when its item is read again)."""
        table = self.query_one("#queue-table", FixedColumnsTable)
        for item_id, row in self.rows.items():
            key = self.row_keys.get(item_id)
            if key is None or row.attendance.at(now) is row.attendance:
                continue
            cell = clock_cell(row, now)
            if table.get_cell(key, "clock") != cell:
                table.set_cell(key, "clock", cell)

    @on(Said)
    def said(self, message: Said) -> None:
        self.query_one("#queue-message", Static).update(record_content(message.text))

    def say(self, text: str) -> None:
        self.query_one("#queue-message", Static).update(record_content(text))

    # --- filters --------------------------------------------------------------------------

    def _refilter(self) -> None:
        self._show_filters()
        table = self.query_one("#queue-table", DataTable)
        table.clear()
        self.rows, self.row_keys, self.loaded = {}, {}, False
        self.summary = self.summary_at = None
        show(self.query_one("#queue-summary", Static), "Reading the queue…")
        self.reload()

    def action_cycle_queue(self) -> None:
        choices = [None, *QUEUE_ORDER]
        self.queue_filter = choices[(choices.index(self.queue_filter) + 1) % len(choices)]
        self._refilter()

    def action_cycle_grade(self) -> None:
        choices = [None, *self.policy.grade_codes]
        self.grade_filter = choices[(choices.index(self.grade_filter) + 1) % len(choices)]
        self._refilter()

    def action_reload(self) -> None:
        self.reload()
        if not any(worker.group == "queue-feed" and worker.is_running for worker in self.workers):
            self.listen()  # live updates had stopped: start them again

    # --- claims ---------------------------------------------------------------------------

    def _highlighted(self) -> QueueRow | None:
        table = self.query_one("#queue-table", DataTable)
        if not self.rows or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        for item_id, row_key in self.row_keys.items():
            if row_key == key:
                return self.rows.get(item_id)
        return None

    @on(DataTable.RowSelected, "#queue-table")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._highlighted()
        if row is None:
            return
        if row.state == "claimed" and row.claimed_by_id == self.me:
            self.post_message(IncidentChosen(row.reference))
            return
        self.claim(row.item_id, open_it=True)

    def action_claim(self) -> None:
        row = self._highlighted()
        if row is None:
            self.say("Nothing to claim.")
            return
        self.claim(row.item_id, open_it=False)

    # Keys typed while a claim or a completion is on its way wait for its answer
    # (`hold_keys`), so "c x" in one burst completes the item the c claimed and "x c"
    # claims the row that comes up after the completed one left.

    def claim(self, item_id: int, open_it: bool, reclaim: bool = False) -> None:
        app = self.app
        uow_factory, actor, clock, policy = app.uow_factory, app.actor, app.clock, self.policy
        self.hold_keys(STEP_WAIT_SECONDS)
        self.run_service(
            lambda: queues.claim(uow_factory(), actor, item_id, policy, clock(), reclaim=reclaim),
            lambda row: self.Claimed(row, open_it),
            doing="claim the item",
            group="queue-claim",
            exclusive=False,
            failed=lambda failure: self.ClaimFailed(failure, item_id),
        )

    @on(Claimed)
    def claimed(self, message: Claimed) -> None:
        self._apply([message.row], {message.row.item_id}, self.app.clock())
        self.say(f"You hold {message.row.reference} ({message.row.queue.label}).")
        if message.open_it:
            self.post_message(IncidentChosen(message.row.reference))
        self.release_keys()

    @on(ClaimFailed)
    def claim_failed(self, message: ClaimFailed) -> None:
        message.stop()
        # Keys typed ahead go on after the refusal is shown (to the reclaim question,
        # when it asks one).
        self.call_after_refresh(self.release_keys)
        refused = message.failure.error
        if not isinstance(refused, ClaimRefused):
            self.say(f"Not claimed: {message.failure.sentence}")
            return
        if refused.row is not None:
            self.rows_read(self.RowsRead([refused.row], frozenset({message.item_id})))
        if refused.stale and refused.row is not None:
            self.ask_reclaim(refused.row, str(refused))
        else:
            self.say(f"Not claimed: {refused}")

    def ask_reclaim(self, row: QueueRow, reason: str) -> None:
        from controlroom.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.claim(row.item_id, open_it=False, reclaim=True)
            else:
                self.say("Left with its holder.")

        self.app.push_screen(
            ConfirmScreen(
                f"Reclaim {row.reference}?", f"{reason}.\nYour reclaim is recorded with both names."
            ),
            answered,
        )

    def action_complete(self) -> None:
        row = self._highlighted()
        if row is None or row.state != "claimed" or row.claimed_by_id != self.me:
            self.say("Complete works on an item you hold: claim it first.")
            return
        self.complete(row.item_id, row.reference)

    def complete(self, item_id: int, reference: str) -> None:
        uow_factory, actor, clock = self.app.uow_factory, self.app.actor, self.app.clock
        self.hold_keys(STEP_WAIT_SECONDS)
        self.run_service(
            lambda: queues.complete(uow_factory(), actor, item_id, clock()),
            lambda version: self.Completed(item_id, reference, version),
            doing="complete the item",
            group="queue-claim",
            exclusive=False,
            failed=self.ChangeFailed,
        )

    @on(Completed)
    def completed(self, message: Completed) -> None:
        self.say(f"{message.reference} completed; it has left the queue.")
        # It leaves the table now, so a key typed ahead acts on the row that comes up;
        # a read begun before the completion does not bring it back.
        item_id = message.item_id
        self.versions[item_id] = max(self.versions.get(item_id, 0), message.version)
        self._apply([], {item_id}, self.app.clock())
        self.read_rows(frozenset({message.item_id}))
        self.release_keys()

    @on(ChangeFailed)
    def change_failed(self, message: ChangeFailed) -> None:
        message.stop()
        verb = "completed" if message.failure.doing == "complete the item" else "reassigned"
        self.say(f"Not {verb}: {message.failure.sentence}")
        self.release_keys()

    def action_reassign(self) -> None:
        if not self.may_reassign:
            self.say("Only a supervisor can reassign an item.")
            row = self._highlighted()
            self.audit_refusal(
                Action.QUEUE_REASSIGN,
                "queue_item",
                None if row is None else row.item_id,
                audit_action="queue.reassign",
            )
            return
        row = self._highlighted()
        if row is None:
            self.say("Nothing to reassign.")
            return

        def answered(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.reassign(row.item_id, *answer)

        self.app.push_screen(ReassignScreen(row.reference, row.claimed_by), answered)

    def reassign(self, item_id: int, to: str, reason: str) -> None:
        app = self.app
        uow_factory, actor, clock, policy = app.uow_factory, app.actor, app.clock, self.policy
        self.run_service(
            lambda: queues.reassign(uow_factory(), actor, item_id, to, reason, policy, clock()),
            self.Reassigned,
            doing="reassign the item",
            group="queue-claim",
            exclusive=False,
            failed=self.ChangeFailed,
        )

    @on(Reassigned)
    def reassigned(self, message: Reassigned) -> None:
        row = message.row
        self.rows_read(self.RowsRead([row], frozenset({row.item_id})))
        self.say(f"{row.reference} is now held by {row.claimed_by}.")

    # --- heartbeat ------------------------------------------------------------------------

    def beat(self) -> None:
        mine = [
            r.item_id
            for r in self.rows.values()
            if r.state == "claimed" and r.claimed_by_id == self.me
        ]
        if mine:
            self.send_heartbeats(mine)

    @work(thread=True, exit_on_error=False, group="queue-heartbeat")
    def send_heartbeats(self, item_ids: list[int]) -> None:
        app = self.app
        for item_id in item_ids:
            try:
                queues.heartbeat(app.uow_factory(), app.actor, item_id, app.clock())
            except ClaimLost as lost:
                sentence = failure_of(lost, "keep the item").sentence
                self.post_message(self.Said(f"You no longer hold an item: {sentence}"))
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                pass
