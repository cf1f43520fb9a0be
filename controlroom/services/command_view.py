"""The command view: what every queue holds and how long it has waited, the domestic-abuse
incidents still without a DASH, referrals this week against the weeks before, the
safeguarding overrides of today, and each queue's backlog over the last 24 hours.

Decisions:
- "this week" is the last 7 days up to now (a rolling week, so a Monday morning does not
  read as a collapse); it is set against the average of the four 7-day weeks before it;
  a count at or below half that average (when the average is above zero) is called out
  as a fall;
- "today" is the control room's local day (Europe/London), midnight to now;
- the backlog line has one point per hour: the items in the queue (entered and not yet
  done) at each of the 24 hours ending now, computed from `entered_at`/`completed_at`.
For supervisors (Action.COMMAND_VIEW).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from controlroom.domain.identity import Actor
from controlroom.domain.incidents import REFERENCE_ZONE
from controlroom.domain.local_time import local_day
from controlroom.domain.permissions import Action
from controlroom.domain.queues import QUEUE_ORDER, Queue, QueuePolicy
from controlroom.services import access, audit
from controlroom.services import open_data as open_data_returns
from controlroom.services.crimes import StationClocks, station_clocks

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

WEEK = timedelta(days=7)
PREVIOUS_WEEKS = 4
BACKLOG_POINTS = 24
REFERRAL_STAGES = ("created", "sent", "acknowledged")


@dataclass(frozen=True, slots=True)
class QueueFigures:
    queue: Queue
    count: int
    oldest_age: timedelta | None
    breaches: int
    backlog: tuple[int, ...]  # items waiting at each hour of the last 24, oldest first


@dataclass(frozen=True, slots=True)
class ReferralWeek:
    stage: str  # created, sent, acknowledged
    this_week: int
    previous_average: float  # per week, over the four weeks before
    fell_by_half: bool


@dataclass(frozen=True, slots=True)
class OverrideLine:
    incident_reference: str
    rule: str
    action: str
    supervisor: str
    overridden_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class CommandFigures:
    queues: tuple[QueueFigures, ...]  # in QUEUE_ORDER
    da_without_dash: int
    da_without_dash_oldest: timedelta | None
    referrals: tuple[ReferralWeek, ...]
    overrides_today: tuple[OverrideLine, ...]
    read_at: datetime
    # NCRS: the possible crimes whose 24-hour clock runs, by station (issue 18).
    crime_clocks: tuple[StationClocks, ...] = ()
    # Months whose data.police.uk returns were never made (a missing month is never
    # silent), oldest first; None when no crime is recorded at all.
    open_data_missing: tuple[date, ...] | None = None

    @property
    def referral_fall(self) -> bool:
        return any(r.fell_by_half for r in self.referrals)


def backlog_moments(
    now: datetime, points: int = BACKLOG_POINTS, step: timedelta = timedelta(hours=1)
) -> list[datetime]:
    """The `points` instants spaced `step` apart, the last being `now`, oldest first."""
    return [now - step * (points - 1 - k) for k in range(points)]


def backlog_points(
    spans, now: datetime, points: int = BACKLOG_POINTS, step: timedelta = timedelta(hours=1)
) -> tuple[int, ...]:
    """How many of `spans` ((entered_at, completed_at or None)) were waiting at each of
    `points` instants spaced `step` apart, the last being `now`. (The command view has
    the database count the same: `QueueRepository.backlog_counts`.)"""
    moments = backlog_moments(now, points, step)
    return tuple(
        sum(
            1
            for entered, completed in spans
            if entered <= moment and (completed is None or completed > moment)
        )
        for moment in moments
    )


def referral_weeks(
    counts_this: dict[str, int], counts_before: list[dict[str, int]]
) -> tuple[ReferralWeek, ...]:
    weeks = []
    for stage in REFERRAL_STAGES:
        this = counts_this.get(stage, 0)
        average = (
            sum(c.get(stage, 0) for c in counts_before) / len(counts_before)
            if counts_before
            else 0.0
        )
        weeks.append(
            ReferralWeek(
                stage=stage,
                this_week=this,
                previous_average=average,
                fell_by_half=average > 0 and this <= average / 2,
            )
        )
    return tuple(weeks)


def command_view(
    uow: UnitOfWork, actor: Actor, policy: QueuePolicy, now: datetime, *, audited: bool = True
) -> CommandFigures:
    """The figures as they are at `now`. Opening the view (and `r`) is audited as
    `command.view`; the live re-reads of a view already open pass `audited=False` (one
    event per change per station would bury the log), and are still permission-checked."""
    if now.tzinfo is None:
        raise ValueError("`now` must be an aware time")
    now = now.astimezone(UTC)
    with uow:
        access.require(uow, actor, Action.COMMAND_VIEW, "command_view")
        cutoffs = {
            (q.value, g): now - policy.target(q, g) for q in Queue for g in policy.grade_codes
        }
        # Counted in the database, each figure in one pass over the items: the command
        # view is to open within 100 ms on a force-sized database (issue 20).
        counts: dict[str, int] = {}
        oldest: dict[str, datetime] = {}
        breaches: dict[str, int] = {}
        for queue, n, first, late in uow.queues.queue_figures(
            cutoffs, now - policy.target(Queue.GENERAL, "")
        ):
            counts[queue], oldest[queue], breaches[queue] = n, first, late
        # The backlog line, counted in the database by when each item came and went.
        backlog: dict[str, list[int]] = {}
        for queue, came, went, n in uow.queues.backlog_steps(backlog_moments(now)):
            line = backlog.setdefault(queue, [0] * BACKLOG_POINTS)
            for k in range(came, went):
                line[k] += n
        figures = tuple(
            QueueFigures(
                queue=q,
                count=counts.get(q.value, 0),
                oldest_age=(now - oldest[q.value]) if q.value in oldest else None,
                breaches=breaches.get(q.value, 0),
                backlog=tuple(backlog.get(q.value, [0] * BACKLOG_POINTS)),
            )
            for q in QUEUE_ORDER
        )

        without, without_oldest = uow.safeguarding.da_without_dash_summary()
        this_week, *before = uow.safeguarding.referral_counts_in(
            [(now - WEEK * (k + 1), now - WEEK * k) for k in range(PREVIOUS_WEEKS + 1)]
        )
        midnight = datetime.combine(local_day(now), time(0), tzinfo=REFERENCE_ZONE).astimezone(UTC)
        overrides = tuple(
            OverrideLine(
                incident_reference=o.incident_reference,
                rule=o.rule,
                action=o.action,
                supervisor=o.supervisor,
                overridden_at=o.overridden_at,
                reason=o.reason,
            )
            for o in uow.safeguarding.overrides_between(midnight, now + timedelta(seconds=1))
        )
        result = CommandFigures(
            queues=figures,
            da_without_dash=without,
            da_without_dash_oldest=(now - without_oldest) if without_oldest is not None else None,
            referrals=referral_weeks(this_week, before),
            overrides_today=overrides,
            read_at=now,
            crime_clocks=station_clocks(uow, now),
            open_data_missing=open_data_returns.missing_months(uow, now)
            if uow.crimes.first_crime_at() is not None
            else None,
        )
        if audited:
            audit.record(
                uow,
                actor,
                "command.view",
                "command_view",
                None,
                detail="; ".join(f"{f.queue.value}={f.count}" for f in figures),
            )
            uow.commit()
    return result
