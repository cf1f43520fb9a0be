"""Upgrades rehearsed (issue 19, item 4): `controlroom db rehearse`.

The pending upgrade runs on a copy of the database, never on the database itself, and
the copy is checked as `db current` and `audit verify` would check it, with the rows of
every table counted before and after. The time the upgrade took on the copy is the
window to plan for. The copy is dropped afterwards.

What is copied depends on the database (DESIGN rule 4, `domain.environment`):
- a training or test database is copied whole (a backup restored into a scratch
  database: `controlroom.data.copies`);
- a production database's records are never copied, not even into a scratch database
  for a minute (a contractor's test copy is how real victims' details were published).
  With `production_shaped`, the rehearsal runs instead on a synthetic force the size of
  production (its people, places, incidents, intelligence and staff counted), built at
  this program's schema and migrated down to production's revision: the same
  migrations over the same number of rows, no real record. Without it, a rehearsal on
  production is refused.

Administrators only (DATABASE_MAINTAIN), audited in the database rehearsed
(`database.rehearse`: the revisions, the time, what the checks found).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from controlroom.data import copies
from controlroom.data.copies import CopyFailed
from controlroom.data.schema import SchemaState, SchemaStatus, schema_state, upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.domain.identity import Actor
from controlroom.services import audit
from controlroom.services.audit import Outcome
from controlroom.services.audit_trail import verify_chain
from controlroom.services.backups import sign_in_administrator

Progress = Callable[[str], None]


class RehearsalRefused(PermissionError):
    """This database may not be rehearsed this way; the message says why."""


class RehearsalFailed(Exception):
    """The rehearsal could not run (copying failed, the upgrade raised)."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    before: int
    after: int

    @property
    def lost_rows(self) -> bool:
        return self.after < self.before


@dataclass(frozen=True, slots=True)
class Rehearsal:
    environment: Environment
    production_shaped: bool
    from_revision: str | None
    to_state: SchemaState
    copy_seconds: float
    upgrade_seconds: float
    audit_events: int
    audit_intact: bool
    counts: tuple[TableCount, ...]

    @property
    def passed(self) -> bool:
        return (
            self.to_state.status is SchemaStatus.CURRENT
            and self.audit_intact
            and not any(count.lost_rows for count in self.counts)
        )

    @property
    def problems(self) -> tuple[str, ...]:
        found = []
        if self.to_state.status is not SchemaStatus.CURRENT:
            found.append(f"the copy is {self.to_state.status.value} after the upgrade")
        if not self.audit_intact:
            found.append("the copy's audit chain does not verify")
        found += [
            f"{count.table} lost rows ({count.before} -> {count.after})"
            for count in self.counts
            if count.lost_rows
        ]
        return tuple(found)


def environment_of(database: Database) -> Environment:
    with database.uow() as uow:
        info = uow.database.get()
        # A database without its environment row is treated as the strictest kind.
        return Environment(info.environment) if info is not None else Environment.PRODUCTION


def rehearse(
    database: Database,
    username: str,
    terminal: str,
    *,
    production_shaped: bool = False,
    progress: Progress | None = None,
) -> Rehearsal:
    """Run this program's pending upgrade on a copy of `database` and check the copy."""
    say = progress or (lambda _step: None)
    state = schema_state(database.engine)
    if state.status not in (SchemaStatus.BEHIND, SchemaStatus.CURRENT):
        raise RehearsalRefused(
            f"this database's schema is {state.status.value}: there is no upgrade to rehearse"
        )
    actor = sign_in_administrator(database, username, terminal)
    environment = environment_of(database)
    if environment is Environment.PRODUCTION and not production_shaped:
        _audit(database, actor, Outcome.REFUSED, "a copy of production's records: refused")
        raise RehearsalRefused(
            "a production database's records are never copied, not even for a rehearsal;"
            " rehearse on a synthetic force of the same size at the same revision instead:"
            " add --production-shaped"
        )
    scratch = copies.scratch_url(database.url, "rehearse")
    try:
        started = time.perf_counter()
        try:
            if production_shaped:
                say("building a synthetic force of the same size")
                _production_shaped_copy(database, scratch, state, username)
            else:
                say("copying the database")
                _copy(database.url, scratch)
        except CopyFailed as exc:
            _audit(database, actor, Outcome.FAILED, f"copying failed: {exc}")
            raise RehearsalFailed(f"the copy could not be made: {exc}") from None
        copy_seconds = time.perf_counter() - started
        try:
            result = _upgrade_and_check(scratch, username, terminal, say)
        except RehearsalFailed as exc:
            _audit(database, actor, Outcome.FAILED, f"{state.revision} -> upgrade: {exc}")
            raise
    finally:
        copies.drop(scratch)
    rehearsal = Rehearsal(
        environment=environment,
        production_shaped=production_shaped,
        from_revision=state.revision,
        copy_seconds=copy_seconds,
        **result,
    )
    outcome = Outcome.SUCCESS if rehearsal.passed else Outcome.FAILED
    _audit(
        database,
        actor,
        outcome,
        f"{state.revision} -> {rehearsal.to_state.revision} on a "
        + ("production-shaped synthetic copy" if production_shaped else "copy")
        + f" in {rehearsal.upgrade_seconds:.1f} s"
        + (": " + "; ".join(rehearsal.problems) if rehearsal.problems else ": checks passed"),
    )
    return rehearsal


def _copy(url: str, scratch: str) -> None:
    """The database, whole, into `scratch`, by way of a backup file of its own."""
    with copies.private_directory("rehearse") as directory:
        path = directory / "copy.backup"
        copies.write_backup(url, path)
        copies.restore_backup(path, scratch)


def _production_shaped_copy(
    database: Database, scratch: str, state: SchemaState, username: str
) -> None:
    """A synthetic force with production's numbers of rows, at production's revision."""
    from controlroom.data.schema import downgrade
    from controlroom.services import synthetic

    counts = copies.table_counts(database.engine)
    force = synthetic.ForceSize(
        staff=max(counts.get("staff", 0), 8),
        towns=max(2, min(30, counts.get("location", 0) // 15_000)),
        locations=max(counts.get("location", 0), 60),
        persons=max(counts.get("person", 0), 50),
        incidents=max(counts.get("incident", 0), 60),
        intelligence=max(counts.get("intelligence_report", 0), 20),
    )
    copies.create_empty(scratch)
    target = Database(scratch)
    try:
        upgrade(target.engine, environment=Environment.TRAINING, created_by=username)
        synthetic.seed(target.uow, force=force)
        if state.revision is not None and state.status is SchemaStatus.BEHIND:
            downgrade(target.engine, state.revision)
    finally:
        target.dispose()


def _upgrade_and_check(scratch: str, username: str, terminal: str, say: Progress) -> dict:
    copy = Database(scratch)
    try:
        before = copies.table_counts(copy.engine)
        say("upgrading the copy")
        started = time.perf_counter()
        try:
            to_state = upgrade(copy.engine, created_by=username, terminal=terminal)
        except Exception as exc:  # the rehearsal exists to find this, not to crash on it
            raise RehearsalFailed(
                f"the upgrade failed on the copy: {exc.__class__.__name__}"
            ) from exc
        upgrade_seconds = time.perf_counter() - started
        say("checking the copy")
        verification = verify_chain(copy.uow())
        after = copies.table_counts(copy.engine)
    finally:
        copy.dispose()
    return {
        "to_state": to_state,
        "upgrade_seconds": upgrade_seconds,
        "audit_events": verification.events,
        "audit_intact": verification.intact,
        "counts": tuple(
            TableCount(name, before.get(name, 0), after.get(name, 0))
            for name in sorted(set(before) | set(after))
        ),
    }


def _audit(database: Database, actor: Actor, outcome: Outcome, detail: str) -> None:
    with database.uow() as uow:
        audit.record(uow, actor, "database.rehearse", "database", 1, outcome=outcome, detail=detail)
        uow.commit()
