"""Schema state and upgrades.

`schema_state` is cheap (no Alembic import): it reads the revision stamped in the
database and compares it with `SCHEMA_HEAD`, the newest migration this program ships.
A test keeps `SCHEMA_HEAD` equal to Alembic's head. Only when the database is not
current does the program import Alembic, to tell "behind" from "unknown".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from importlib import resources
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, delete, inspect, select, update
from sqlalchemy.engine import Connection

from controlroom.data import audit_log
from controlroom.data.models import Base, DatabaseInfo, IncidentType, Staff, utcnow
from controlroom.domain.environment import Environment
from controlroom.domain.identity import process_account
from controlroom.domain.roles import Role

SCHEMA_HEAD = "0023"

_alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


class SchemaStatus(Enum):
    EMPTY = "empty"  # a new database: no tables at all
    CURRENT = "current"
    BEHIND = "behind"  # an older revision this program can upgrade
    UNKNOWN = "unknown"  # tables but no revision, or a revision this program does not know


@dataclass(frozen=True, slots=True)
class SchemaState:
    status: SchemaStatus
    revision: str | None


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        inspector = inspect(connection)
        tables = set(inspector.get_table_names())
        # Only Alembic's (empty) stamp table left, as after a downgrade to base: empty.
        if not tables - {"alembic_version"} and (
            not tables or connection.scalar(select(_alembic_version.c.version_num)) is None
        ):
            return SchemaState(SchemaStatus.EMPTY, None)
        if "alembic_version" not in tables:
            return SchemaState(SchemaStatus.UNKNOWN, None)
        revision = connection.scalar(select(_alembic_version.c.version_num))
    if revision == SCHEMA_HEAD:
        return SchemaState(SchemaStatus.CURRENT, revision)
    if revision is not None and revision in known_revisions():
        return SchemaState(SchemaStatus.BEHIND, revision)
    return SchemaState(SchemaStatus.UNKNOWN, revision)


def alembic_config(connection: Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("controlroom.db")))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have no head revision")
    return head


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("controlroom.db").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _flag(value: str) -> bool:
    return value.strip() in {"1", "true", "yes"}


def sync_reference_tables(connection: Connection) -> int:
    """Make the reference tables match db/*.csv; safe to run any number of times.

    Codes missing from the CSV are marked inactive, never deleted: old incidents keep
    pointing at them. Returns the number of rows inserted or changed.
    """
    from controlroom.data.cold_models import (
        MarkerType,
        OffenceClass,
        Skill,
        UnitStatusCode,
        UnitType,
    )

    changed = 0
    specs: tuple[tuple[type[Base], str, Callable[[dict[str, str]], dict[str, Any]]], ...] = (
        (
            IncidentType,
            "incident_type.csv",
            lambda r: {
                "code": r["code"],
                "label": r["label"],
                "heading": r["heading"],
                "qualifier": r["qualifier"] or None,
                "domestic": _flag(r["domestic"]),
                "possible_crime": _flag(r["possible_crime"]),
                "suggested_grade": r["suggested_grade"],
                "active": True,
            },
        ),
        (
            OffenceClass,
            "offence_class.csv",
            lambda r: {
                "code": r["code"],
                "name": r["name"],
                "open_data_type": r["open_data_type"],
                "sexual": _flag(r["sexual"]),
                "victim_based": _flag(r["victim_based"]),
                "active": True,
            },
        ),
        (
            MarkerType,
            "marker_type.csv",
            lambda r: {
                "code": r["code"],
                "label": r["label"],
                "severity": int(r["severity"]),
                "active": True,
            },
        ),
    )
    specs += (
        (
            Skill,
            "skill.csv",
            lambda r: {"code": r["code"], "label": r["label"], "active": True},
        ),
        (
            UnitType,
            "unit_type.csv",
            lambda r: {
                "code": r["code"],
                "label": r["label"],
                "prefix": r["prefix"],
                "active": True,
            },
        ),
        (
            UnitStatusCode,
            "unit_status.csv",
            lambda r: {
                "code": r["code"],
                "label": r["label"],
                "key": r["key"],
                "command": r["command"],
                "kind": r["kind"],
                "active": True,
            },
        ),
    )
    for model, filename, convert in specs:
        table = model.__table__
        wanted = {row["code"]: convert(row) for row in _read_csv(filename)}
        existing = {row.code: dict(row._mapping) for row in connection.execute(select(table))}
        inserts = [row for code, row in wanted.items() if code not in existing]
        if inserts:
            connection.execute(table.insert(), inserts)
            changed += len(inserts)
        for code, row in wanted.items():
            if code in existing and existing[code] != row:
                connection.execute(update(table).where(table.c.code == code).values(**row))
                changed += 1
        for code, row in existing.items():
            if code not in wanted and row["active"]:
                connection.execute(update(table).where(table.c.code == code).values(active=False))
                changed += 1
    return changed + _sync_type_skills(connection)


def _sync_type_skills(connection: Connection) -> int:
    """Make `incident_type_skill` match db/incident_type_skill.csv (pairs, no codes of
    their own: a pair gone from the file is deleted, nothing points at it)."""
    from controlroom.data.cold_models import IncidentTypeSkill

    table = IncidentTypeSkill.__table__
    wanted = {(r["type_code"], r["skill_code"]) for r in _read_csv("incident_type_skill.csv")}
    existing = {(row.type_code, row.skill_code) for row in connection.execute(select(table))}
    inserts = sorted(wanted - existing)
    if inserts:
        connection.execute(table.insert(), [{"type_code": t, "skill_code": s} for t, s in inserts])
    for type_code, skill_code in sorted(existing - wanted):
        connection.execute(
            delete(table).where(table.c.type_code == type_code, table.c.skill_code == skill_code)
        )
    return len(inserts) + len(existing - wanted)


def upgrade(
    engine: Engine,
    *,
    environment: Environment = Environment.PRODUCTION,
    synthetic: bool = False,
    created_by: str | None = None,
    force_name: str = "",
    terminal: str = "local",
) -> SchemaState:
    """Migrate to head, sync the reference tables, and on a new database record its
    environment and enrol its creator (the OS user) as administrator. One transaction."""
    from alembic import command

    created_by = created_by or process_account()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
        sync_reference_tables(connection)
        info_table = DatabaseInfo.__table__
        if connection.execute(select(info_table.c.id)).first() is None:
            connection.execute(
                info_table.insert().values(
                    id=1,
                    environment=environment.value,
                    synthetic=synthetic,
                    force_name=force_name,
                    created_at=utcnow(),
                    created_by=created_by,
                )
            )
            staff = Staff.__table__
            staff_id = connection.scalar(select(staff.c.id).where(staff.c.username == created_by))
            if staff_id is None:
                staff_id = connection.execute(
                    staff.insert().values(
                        username=created_by,
                        display_name=created_by,
                        role=Role.ADMINISTRATOR.value,
                        active=True,
                        locked=False,
                        created_at=utcnow(),
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # an insert's result
            # The first lines of the audit trail: who made this database, and as what
            # (chained like every other event).
            for action, object_type, object_id, detail in (
                ("database.create", "database", "1", f"environment={environment.value}"),
                ("staff.enrol", "staff", str(staff_id), "role=administrator (database creator)"),
            ):
                audit_log.append(
                    connection,
                    occurred_at=utcnow(),
                    actor=created_by,
                    staff_id=staff_id,
                    terminal=terminal,
                    action=action,
                    object_type=object_type,
                    object_id=object_id,
                    outcome="success",
                    justification=None,
                    detail=detail,
                )
    return schema_state(engine)


def downgrade(engine: Engine, revision: str) -> SchemaState:
    """Migrate back to `revision`, in one transaction (what each migration's downgrade
    loses is listed in tests/test_migration_round_trips.py)."""
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
    return schema_state(engine)


def drop_version_table(engine: Engine) -> None:
    """Remove Alembic's stamp (after dropping the tables) so the database reads as empty."""
    _alembic_version.drop(engine, checkfirst=True)
