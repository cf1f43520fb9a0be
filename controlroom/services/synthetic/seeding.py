"""Seeding a database with the synthetic force: the use cases, their refusals, the writer.

`seed` fills an empty training or test database and marks it as synthetic training data;
it refuses production, a database seeded before, and one that already holds people,
places, incidents or intelligence. Every refusal is audited.

Speed: rows go in through the unit of work's bulk writer (`data/bulk.py`: one
executemany a batch, the ids of the tables that children point at handed out there),
committed a batch at a time, so the large force (a million people) seeds in minutes. An
interrupted seed leaves a partial database, which `seed` then refuses; the demo's
`--reset` starts it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from controlroom.data.models import Base, DatabaseInfo
from controlroom.domain.environment import Environment
from controlroom.domain.identity import LOCAL_TERMINAL, Actor
from controlroom.services import audit
from controlroom.services.audit import Outcome
from controlroom.services.synthetic.generator import SIZES, ForceSize, _ForceGenerator

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

DEFAULT_SEED = 20261126

Progress = Callable[[str, int, int], None]


class SeedRefused(Exception):
    """Synthetic data may not go into this database; the message says why."""


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What one seeding made, for the CLI's summary table."""

    size: str
    seed: int
    counts: tuple[tuple[str, int], ...]  # (table label, rows written), in seeding order
    seconds: float


# The generator's own identity in the audit trail when no operator is named.
GENERATOR_ACTOR = Actor(
    staff_id=None, username="controlroom.synthetic", role=None, terminal=LOCAL_TERMINAL
)


# --- public use cases -------------------------------------------------------------------


def needs_seeding(uow_factory: UnitOfWorkFactory, *, size: str) -> bool:
    """True when this database has never been seeded. Raises SeedRefused on production."""
    _force_size(size)
    with uow_factory() as uow:
        info = _seedable_info(uow, GENERATOR_ACTOR)
        return info.seed is None


def seed(
    uow_factory: UnitOfWorkFactory,
    *,
    size: str = "small",
    force: ForceSize | None = None,
    seed: int = DEFAULT_SEED,
    anchor: datetime | None = None,
    progress: Progress | None = None,
    actor: Actor | None = None,
) -> SeedSummary:
    """Fill an empty training or test database with the synthetic force.

    `anchor` is "now" for the data: every time and age is relative to it, so the same
    seed and anchor give identical rows. Afterwards the database reads as a synthetic
    training database. Refuses production, an already seeded database, and a database
    that already holds people, places, incidents or intelligence.

    `force`, when given, is the shape to make instead of a named size (a small one for
    tests, or one sized like a production database for `controlroom db rehearse`);
    the database then records its size as "custom".
    """
    if force is None:
        force = _force_size(size)
    else:
        size = "custom"
    actor = actor or GENERATOR_ACTOR
    if anchor is None:
        anchor = datetime.now(UTC).replace(microsecond=0)
    if anchor.tzinfo is None:
        raise ValueError("anchor must be an aware UTC datetime")
    anchor = anchor.astimezone(UTC)
    started = time.perf_counter()
    with uow_factory() as uow:
        info = _seedable_info(uow, actor)
        if info.seed is not None:
            _refuse(
                uow,
                actor,
                f"this database was already seeded (seed {info.seed}, "
                f"{info.seed_size}); reset it to seed again",
            )
        if _holds_records(uow):
            _refuse(
                uow,
                actor,
                "this database already holds records (possibly from an "
                "interrupted seed); synthetic data only goes into an empty "
                "database, so reset it first",
            )
        writer = _Writer(uow, progress)
        generator = _ForceGenerator(writer, force, seed, anchor)
        generator.run()
        # Written in bulk, past the ORM: the monthly crime and integrity counts and the
        # kept street centres from them.
        uow.crimes.rebuild_month_counts()
        uow.locations.rebuild_street_centroids()
        info = _seedable_info(uow, actor)  # read again: the stages committed
        info.environment = Environment.TRAINING.value
        info.synthetic = True
        info.force_name = generator.force_name
        info.seed = seed
        info.seed_size = size
        info.seeded_at = anchor
        audit.record(
            uow,
            actor,
            "database.seed",
            "database",
            info.id,
            detail=f"size={size} seed={seed} anchor={anchor.isoformat()}",
        )
        uow.commit()
    return SeedSummary(
        size=size,
        seed=seed,
        counts=tuple(writer.counts.items()),
        seconds=time.perf_counter() - started,
    )


def _force_size(size: str) -> ForceSize:
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown size {size!r}; choose one of: {', '.join(SIZES)}") from None


def _seedable_info(uow: UnitOfWork, actor: Actor) -> DatabaseInfo:
    info = uow.database.get()
    if info is None:
        raise SeedRefused("this database has no environment record; run `controlroom db upgrade`")
    if info.environment == Environment.PRODUCTION.value:
        _refuse(
            uow, actor, "this is a production database: synthetic data never goes into production"
        )
    return info


def _refuse(uow: UnitOfWork, actor: Actor, reason: str) -> NoReturn:
    # An attempt to put synthetic rows into the wrong database is worth a trace.
    uow.rollback()
    audit.record(uow, actor, "database.seed", "database", 1, outcome=Outcome.REFUSED, detail=reason)
    uow.commit()
    raise SeedRefused(reason)


def _holds_records(uow: UnitOfWork) -> bool:
    return uow.bulk.holds_records()


class _Writer:
    """Bulk inserts through one unit of work (`uow.bulk`), counted for the summary and
    committed a stage at a time."""

    COUNT_LABELS = (
        "staff",
        "locations",
        "location hazards",
        "persons",
        "person aliases",
        "person addresses",
        "warning markers",
        "incidents",
        "incident persons",
        "incident log entries",
        "crimes",
        "intelligence reports",
        "intelligence subjects",
        "units",
        "unit crew",
        "unit assignments",
        "unit status changes",
    )

    def __init__(self, uow: UnitOfWork, progress: Progress | None) -> None:
        self.uow = uow
        self._progress = progress
        self.counts: dict[str, int] = dict.fromkeys(self.COUNT_LABELS, 0)

    def rows(self, label: str | None, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert `rows` into `model`'s table, counted under `label` (None: bookkeeping
        the summary does not show)."""
        self.uow.bulk.rows(model, rows)
        if label is not None:
            self.counts[label] += len(rows)

    def rows_with_ids(self, label: str, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
        """Insert `rows` with ids handed out in order, and return them."""
        ids = self.uow.bulk.rows_with_ids(model, rows)
        self.counts[label] += len(rows)
        return ids

    def commit(self) -> None:
        self.uow.commit()

    def progress(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)
