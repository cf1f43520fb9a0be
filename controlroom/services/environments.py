"""Moving records between databases, which knows their environments.

`copy_records` is `controlroom db copy`: it copies locations, persons and incidents from
one database into another, for filling a training or test database from another one.
A copy out of production into training or test, or from training/test into production,
is refused before a single record is read (`domain.environment.copy_refusal`) and the
refusal is audited in the source database.

Deliberately small: incident logs, person links, markers, intelligence and staff do not
travel; copied incidents are opened by the person copying (in the target), lose their
form key, and an incident whose reference the target already has is skipped. Persons
keep their phonetic keys (same function on both sides); merge links are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from controlroom.domain.environment import Environment, copy_refusal
from controlroom.domain.roles import Role
from controlroom.services import audit, staff
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

COPY_ROLES = (Role.ADMINISTRATOR, Role.SUPERVISOR)


class CopyRefused(PermissionError):
    """The copy may not happen; the message says why."""


@dataclass(frozen=True, slots=True)
class CopySummary:
    source: Environment
    target: Environment
    counts: tuple[tuple[str, int], ...]


def _environment(uow: UnitOfWork) -> Environment:
    info = uow.database.get()
    # A database without its environment row is treated as the strictest kind.
    return Environment(info.environment) if info is not None else Environment.PRODUCTION


def copy_records(
    source_factory, target_factory: UnitOfWorkFactory, username: str, terminal: str
) -> CopySummary:
    """Copy persons, locations and incidents from `source` into `target`, as `username`
    (enrolled in both). Audited in both: `database.copy_out` and `database.copy_in`."""
    try:
        source_actor = staff.sign_in(source_factory(), username, terminal).actor(terminal)
        target_actor = staff.sign_in(target_factory(), username, terminal).actor(terminal)
    except staff.AccessRefused as exc:
        raise CopyRefused(str(exc)) from None
    with target_factory() as target_uow:
        target_env = _environment(target_uow)
    with source_factory() as source_uow:
        source_env = _environment(source_uow)
        refusal = copy_refusal(source_env, target_env)
        if refusal is None and source_actor.role not in COPY_ROLES:
            refusal = "only administrators and supervisors may copy records between databases"
        if refusal is not None:
            audit.record(
                source_uow,
                source_actor,
                "database.copy_out",
                "database",
                1,
                outcome=Outcome.DENIED,
                detail=f"into a {target_env.value} database: refused",
            )
            source_uow.commit()
            raise CopyRefused(f"copy refused: {refusal}")
        locations, persons, incidents = source_uow.copying.read_all()
        counts = (
            ("locations", len(locations)),
            ("persons", len(persons)),
            ("incidents", len(incidents)),
        )
        audit.record(
            source_uow,
            source_actor,
            "database.copy_out",
            "database",
            1,
            detail=f"into a {target_env.value} database: "
            + ", ".join(f"{n} {what}" for what, n in counts),
        )
        source_uow.commit()
    with target_factory() as target_uow:
        copied = target_uow.copying.insert_copies(
            target_actor.staff_id, locations, persons, incidents
        )
        audit.record(
            target_uow,
            target_actor,
            "database.copy_in",
            "database",
            1,
            detail=f"from a {source_env.value} database: "
            + ", ".join(f"{n} {what}" for what, n in copied),
        )
        target_uow.commit()
    return CopySummary(source_env, target_env, copied)
