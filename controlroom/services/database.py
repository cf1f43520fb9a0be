"""What the database says about itself: environment, synthetic marking, force name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from controlroom.domain.environment import Environment

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class DatabaseProfile:
    environment: Environment
    synthetic: bool
    force_name: str
    seed: int | None
    seed_size: str | None


class DatabaseNotInitialised(Exception):
    """The database has tables but no database_info row: it was not made by `db upgrade`."""


def profile(uow: UnitOfWork) -> DatabaseProfile:
    with uow:
        info = uow.database.get()
        if info is None:
            raise DatabaseNotInitialised(
                "this database has no environment record; run `controlroom db upgrade`"
            )
        return DatabaseProfile(
            environment=Environment(info.environment),
            synthetic=info.synthetic,
            force_name=info.force_name,
            seed=info.seed,
            seed_size=info.seed_size,
        )
