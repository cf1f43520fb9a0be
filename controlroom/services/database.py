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


def exposure_warning(profile: DatabaseProfile, url: str) -> str | None:
    """A sentence for the operator when this is a production SQLite database whose file
    other accounts on the host can read or write (issue 16): on an embedded file the
    file's permissions are the whole security boundary."""
    if profile.environment is not Environment.PRODUCTION:
        return None
    from controlroom.data.engine import exposed_sqlite_file

    exposed = exposed_sqlite_file(url)
    if exposed is None:
        return None
    path, mode = exposed
    return (
        f"WARNING: {path} can be read or changed by other accounts on this host (mode "
        f"{mode:04o}), and it holds every record and the audit trail. Make it private "
        f"(chmod 600 {path}); a control room of several operators needs PostgreSQL."
    )
