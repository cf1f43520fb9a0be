"""Warning markers as the screens show them: the words (REGISTERED SEX OFFENDER, VIOLENT)
and a severity, for every place a person appears (incident, location, search)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class MarkerInfo:
    code: str
    label: str  # the words the screen shows; never colour alone
    severity: int  # 1 highest
    note: str | None


def current_markers(
    uow: UnitOfWork, person_ids: Iterable[int], today: date
) -> dict[int, tuple[MarkerInfo, ...]]:
    """Markers in force on `today`, per person, most severe first (everyone in
    `person_ids` has an entry, empty when they carry none)."""
    ids = list(dict.fromkeys(person_ids))
    found: dict[int, list[MarkerInfo]] = {person_id: [] for person_id in ids}
    for marker, kind in uow.persons.current_markers(ids, today):
        found[marker.person_id].append(
            MarkerInfo(code=kind.code, label=kind.label, severity=kind.severity, note=marker.note)
        )
    return {person_id: tuple(markers) for person_id, markers in found.items()}
