"""The home board: live counts of the incidents that are open, by grade and by status.

Aggregates only: no record is read, so no audit event is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from controlroom.domain.incidents import OPEN_STATUSES

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class BoardCounts:
    open_total: int
    by_grade: tuple[tuple[str, int], ...]  # in configured grade order, then any others
    by_status: tuple[tuple[str, int], ...]  # in workflow order
    by_heading: tuple[tuple[str, int], ...]  # NSIR heading, largest first
    oldest_open_at: datetime | None
    read_at: datetime
    awaiting_signoff: int = 0  # no-crime closures waiting for a supervisor (NCRS)


def home_counts(uow: UnitOfWork, grade_codes: tuple[str, ...], now: datetime) -> BoardCounts:
    statuses = [s.value for s in OPEN_STATUSES]
    with uow:
        grades = uow.incidents.count_by("grade", statuses)
        by_status = uow.incidents.count_by("status", statuses)
        headings = uow.incidents.count_open_by_heading(statuses)
        oldest = uow.incidents.oldest_open_at(statuses)
        awaiting = uow.incidents.count_awaiting_signoff()
    ordered_grades = [(code, grades.get(code, 0)) for code in grade_codes]
    ordered_grades += sorted((c, n) for c, n in grades.items() if c not in grade_codes)
    return BoardCounts(
        open_total=sum(by_status.values()),
        by_grade=tuple(ordered_grades),
        by_status=tuple((s, by_status.get(s, 0)) for s in statuses),
        by_heading=tuple(sorted(headings.items(), key=lambda kv: (-kv[1], kv[0]))),
        oldest_open_at=oldest,
        read_at=now,
        awaiting_signoff=awaiting,
    )
