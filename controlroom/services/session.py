"""Opening an operator's session: the database is usable, the operator may sign in, and
what the database says about itself (environment, synthetic marking)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from controlroom.data.opening import DatabaseNotReady
from controlroom.services import database, staff
from controlroom.services.database import DatabaseNotInitialised, DatabaseProfile
from controlroom.services.staff import AccessRefused, StaffMember

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class OpenedSession:
    operator: StaffMember
    profile: DatabaseProfile


class SessionRefused(Exception):
    """The session cannot open; the message says why and what to do."""


def open_session(uow_factory: UnitOfWorkFactory, username: str, terminal: str) -> OpenedSession:
    try:
        member = staff.sign_in(uow_factory(), username, terminal)
        profile = database.profile(uow_factory())
    except (AccessRefused, DatabaseNotReady, DatabaseNotInitialised) as exc:
        raise SessionRefused(str(exc)) from None
    return OpenedSession(member, profile)
