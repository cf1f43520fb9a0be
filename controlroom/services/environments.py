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

from sqlalchemy import insert, select

from controlroom.data.models import Incident, Location, Person
from controlroom.domain.environment import Environment, copy_refusal
from controlroom.domain.roles import Role
from controlroom.services import audit, staff
from controlroom.services.audit import Outcome

COPY_ROLES = (Role.ADMINISTRATOR, Role.SUPERVISOR)


class CopyRefused(PermissionError):
    """The copy may not happen; the message says why."""


@dataclass(frozen=True, slots=True)
class CopySummary:
    source: Environment
    target: Environment
    counts: tuple[tuple[str, int], ...]


def _environment(uow) -> Environment:
    info = uow.database.get()
    # A database without its environment row is treated as the strictest kind.
    return Environment(info.environment) if info is not None else Environment.PRODUCTION


def copy_records(source_factory, target_factory, username: str, terminal: str) -> CopySummary:
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
            audit.record(source_uow, source_actor, "database.copy_out", "database", 1,
                         outcome=Outcome.DENIED,
                         detail=f"into a {target_env.value} database: refused")
            source_uow.commit()
            raise CopyRefused(f"copy refused: {refusal}")
        session = source_uow.session
        locations = [dict(r._mapping) for r in session.execute(
            select(Location.__table__).order_by(Location.id))]
        persons = [dict(r._mapping) for r in session.execute(
            select(Person.__table__).order_by(Person.id))]
        incidents = [dict(r._mapping) for r in session.execute(
            select(Incident.__table__).order_by(Incident.id))]
        counts = (("locations", len(locations)), ("persons", len(persons)),
                  ("incidents", len(incidents)))
        audit.record(source_uow, source_actor, "database.copy_out", "database", 1,
                     detail=f"into a {target_env.value} database: "
                            + ", ".join(f"{n} {what}" for what, n in counts))
        source_uow.commit()
    with target_factory() as target_uow:
        copied = _insert(target_uow.session, target_actor.staff_id, locations, persons,
                         incidents)
        audit.record(target_uow, target_actor, "database.copy_in", "database", 1,
                     detail=f"from a {source_env.value} database: "
                            + ", ".join(f"{n} {what}" for what, n in copied))
        target_uow.commit()
    return CopySummary(source_env, target_env, copied)


def _insert(session, copier_id: int, locations, persons, incidents) -> tuple[tuple[str, int], ...]:
    location_ids: dict[int, int] = {}
    for row in locations:
        old = row.pop("id")
        location_ids[old] = session.execute(
            insert(Location.__table__).values(**row)).inserted_primary_key[0]
    for row in persons:
        row.pop("id")
        row.update(created_by_id=copier_id, merged_into_id=None)
        session.execute(insert(Person.__table__).values(**row))
    taken = set(session.scalars(select(Incident.reference)))
    copied_incidents = 0
    for row in incidents:
        row.pop("id")
        if row["reference"] in taken:
            continue
        row.update(
            opened_by_id=copier_id, idempotency_key=None,
            location_id=location_ids.get(row["location_id"]) if row["location_id"] else None,
            thrive_assessed_by_id=copier_id if row["thrive_assessed_by_id"] else None,
            closed_by_id=copier_id if row["closed_by_id"] else None,
        )
        session.execute(insert(Incident.__table__).values(**row))
        copied_incidents += 1
    return (("locations", len(locations)), ("persons", len(persons)),
            ("incidents", copied_incidents))
