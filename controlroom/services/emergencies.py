"""Emergencies on units as every dispatcher's screen watches for them (issue 17):
the poll of the unit change counter and the emergencies not yet acknowledged.

The app's emergency watch runs from the sign-in of every dispatcher and supervisor, so
what it loads every operator pays for from the start: these few reads, and not the rest
of the resource services (`services/resources.py`: the board, dispatch, recommendations,
attendance, with their rules), which load when a screen first asks for them (issue 15,
memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from controlroom.domain.identity import Actor
from controlroom.domain.permissions import Action
from controlroom.services import access

if TYPE_CHECKING:
    from controlroom.services.unit_of_work import UnitCounterPoll, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Emergency:
    """An emergency on a unit, not yet acknowledged."""

    id: int
    callsign: str
    type_code: str
    station: str
    reference: str | None
    raised_at: datetime
    raised_by: str

    @property
    def words(self) -> str:
        where = f" on {self.reference}" if self.reference else ""
        return f"EMERGENCY {self.callsign} ({self.type_code}, {self.station}){where}"


def open_counter_poll(uow: UnitOfWork) -> UnitCounterPoll:
    """The boards' cheap poll of the unit change counter (blocking; close it when done)."""
    with uow:
        return uow.unit_counter_poll()


def unacknowledged(uow: UnitOfWork) -> tuple[Emergency, ...]:
    """Every emergency not yet acknowledged, oldest first, in the caller's unit of work."""
    return tuple(
        Emergency(e.id, callsign, type_code, station, reference, e.raised_at, who)
        for e, callsign, type_code, station, reference, who in uow.resources.open_emergencies()
    )


def open_emergencies(uow: UnitOfWork, actor: Actor) -> tuple[Emergency, ...]:
    """Every emergency not yet acknowledged, oldest first (polled: not audited)."""
    with uow:
        access.require(uow, actor, Action.RESOURCE_VIEW, "unit", None)
        return unacknowledged(uow)


def open_emergencies_after_poll(
    poll: UnitCounterPoll, uow_factory: UnitOfWorkFactory, actor: Actor
) -> tuple[Emergency, ...]:
    """As `open_emergencies`, for the watch whose `poll` saw the counter move: when the
    poll finds none open (nearly always), nothing more is read, and the resource
    queries and the emergency records stay unloaded (issue 15: about 0.3 MiB of every
    dispatcher's memory from sign-in)."""
    if not poll.any_emergency_open():
        return ()
    return open_emergencies(uow_factory(), actor)
