"""Every migration downgrades and upgrades again on a populated database (issue 19, item 4).

A database at the newest revision is filled with a small synthetic force plus a row in
every table the generator leaves empty. Then, newest migration first, each one is taken
back and put on again: for migration R (from P to R)

1. downgrade to P works on the populated database;
2. upgrading to R again gives exactly the schema R had (tables, columns, indexes,
   constraints, and on SQLite the full-text tables and triggers; on PostgreSQL the
   expression and trigram indexes);
3. every row comes back the same, except what `LOST_ON_DOWNGRADE` says R's downgrade
   cannot keep (a table or column the older revision has no place for). Derived
   columns (phonetic keys, street keys, the audit chain's hashes) are not listed: the
   upgrade must compute them again, identically;
4. downgrading to P once more gives exactly what the first downgrade gave (schema and
   every row): downgrade after upgrade loses nothing P can hold.

A new migration whose downgrade drops data must add itself to `LOST_ON_DOWNGRADE`, so
what an emergency downgrade costs is written down before anyone needs one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, inspect, select, table

from controlroom.data.cold_models import (
    DashAssessment,
    ImportBatch,
    ImportRecord,
    Person,
    PersonMerge,
    QueueItem,
    Referral,
    SafeguardingOverride,
)
from controlroom.data.engine import make_engine
from controlroom.data.models import Incident, Staff, StaffSession
from controlroom.data.schema import alembic_config, upgrade
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment
from controlroom.services import synthetic
from controlroom.services.synthetic import ForceSize
from tests.databases import SEED_ANCHOR, TEST_ADMIN

# Enough of everything to have rows in every table, little enough to take back and put
# on thirteen migrations in a few seconds.
ROUND_TRIP_FORCE = ForceSize(
    staff=8, towns=2, locations=60, persons=50, incidents=60, intelligence=20
)

ALL_ROWS = None
# What each migration's downgrade cannot keep: a table (ALL_ROWS) or some of its columns.
LOST_ON_DOWNGRADE: dict[str, dict[str, set[str] | None]] = {
    "0002": {
        "incident_sequence": ALL_ROWS,
        "incident": {
            "postcode",
            "caller_name",
            "caller_phone",
            "caller_relationship",
            "idempotency_key",
            "thrive_skipped",
            "crime_reference",
            "no_crime_reason",
        },
        "incident_log_entry": {"idempotency_key"},
    },
    "0004": {"person_merge": ALL_ROWS, "person": {"merged_into_id"}},
    "0006": {"dash_assessment": ALL_ROWS, "referral": ALL_ROWS, "safeguarding_override": ALL_ROWS},
    "0007": {"queue_item": ALL_ROWS, "queue_change_counter": ALL_ROWS},
    "0009": {"staff": {"pin_hash", "failed_pin_attempts", "pin_locked_until"}},
    "0010": {"incident": {"signoff_state"}},
    "0013": {"staff_session": ALL_ROWS},
    "0014": {"import_batch": ALL_ROWS, "import_record": ALL_ROWS},
    "0015": {
        "offence_class": ALL_ROWS,
        "crime": ALL_ROWS,
        "crime_suspect": ALL_ROWS,
        "crime_classification": ALL_ROWS,
        "crime_outcome": ALL_ROWS,
        "integrity_check": ALL_ROWS,
        "incident": {"crime_clock_stopped_at"},
    },
    "0016": {
        "skill": ALL_ROWS,
        "unit_type": ALL_ROWS,
        "unit_status": ALL_ROWS,
        "incident_type_skill": ALL_ROWS,
        "unit": ALL_ROWS,
        "unit_crew": ALL_ROWS,
        "unit_status_change": ALL_ROWS,
        "unit_assignment": ALL_ROWS,
        "incident_attendance": ALL_ROWS,
        "unit_emergency": ALL_ROWS,
        "unit_change_counter": ALL_ROWS,
    },
    "0017": {"staff": {"session_locked_at"}},
    "0018": {"offline_replay": ALL_ROWS},
    "0019": {"incident": {"legacy_batch_id"}, "intelligence_report": {"legacy_batch_id"}},
    "0020": {"open_data_return": ALL_ROWS, "open_data_salt": ALL_ROWS},
}


@pytest.fixture
def populated_url(databases, tmp_path):
    url = databases.create_empty(tmp_path, "round_trip")
    engine = make_engine(url)
    try:
        upgrade(engine, environment=Environment.TEST, created_by=TEST_ADMIN)
    finally:
        engine.dispose()
    database = Database(url)
    try:
        synthetic.seed(database.uow, force=ROUND_TRIP_FORCE, anchor=SEED_ANCHOR)
        _fill_the_tables_the_generator_leaves_empty(database)
    finally:
        database.dispose()
    yield url
    databases.drop(url)


def _fill_the_tables_the_generator_leaves_empty(database: Database) -> None:
    at = SEED_ANCHOR - timedelta(hours=2)
    with database.uow() as uow:
        session = uow.session
        staff = session.scalars(select(Staff).order_by(Staff.id)).all()
        admin, other = staff[0], staff[1]
        first, second = session.scalars(select(Person).order_by(Person.id).limit(2)).all()
        incident = session.scalars(select(Incident).order_by(Incident.id)).first()
        assert incident is not None
        session.add(
            StaffSession(
                staff_id=admin.id, terminal="local", host="cr-test", pid=4242, started_at=at
            )
        )
        second.merged_into_id = first.id
        session.add(
            PersonMerge(
                survivor_id=first.id,
                merged_id=second.id,
                merged_by_id=other.id,
                merged_at=at,
                reason="same person, two records",
            )
        )
        dash = DashAssessment(
            incident_id=incident.id,
            answers="Y" * 14 + "N" * 13,
            score=14,
            score_level="high",
            level="high",
            assessed_at=at,
            assessed_by_id=other.id,
        )
        session.add(dash)
        session.flush()
        session.add(
            Referral(
                incident_id=incident.id,
                kind="marac",
                status="created",
                triggers="dash_high",
                dash_assessment_id=dash.id,
                created_at=at,
                created_by_id=other.id,
                send_due_at=at + timedelta(days=1),
            )
        )
        session.add(
            SafeguardingOverride(
                incident_id=incident.id,
                rules="R1",
                action="close",
                reason="reviewed by the duty inspector",
                supervisor_id=other.id,
                overridden_at=at,
            )
        )
        session.add(
            QueueItem(incident_id=incident.id, queue="domestic_abuse", entered_at=at, change_seq=1)
        )
        other.pin_hash = "argon2id$synthetic"
        other.failed_pin_attempts = 2
        other.pin_locked_until = datetime(2026, 11, 27, tzinfo=UTC)
        batch = ImportBatch(
            source_system="OLDCAD",
            extract_name="extract",
            extract_digest="0" * 64,
            started_at=at,
            started_by_id=admin.id,
        )
        session.add(batch)
        session.flush()
        session.add(
            ImportRecord(
                batch_id=batch.id,
                source_system="OLDCAD",
                source_file="persons",
                source_id="P0000001",
                line=2,
                outcome="matched",
                candidate_id=first.id,
                held='{"surname": "Synthetic"}',
            )
        )
        incident.signoff_state = "awaiting"
        incident.caller_name = "SYNTHETIC CALLER"
        incident.legacy_batch_id = batch.id
        uow.commit()


# --- snapshots ---------------------------------------------------------------------------


def _schema(connection) -> dict:
    if connection.dialect.name == "sqlite":
        # SQLite keeps every table, index, trigger and full-text table as the statement
        # that makes it: comparing those compares everything, the objects outside the
        # models included, in one query. (A table rebuilt in batch mode comes back as
        # CREATE TABLE "name": the same name, so quotes are left out of the comparison.)
        sqlite_master = table(
            "sqlite_master", column("type"), column("name"), column("tbl_name"), column("sql")
        )
        return {
            "sqlite_master": sorted(
                (kind, name, of, (sql or "").replace('"', ""))
                for kind, name, of, sql in connection.execute(select(sqlite_master))
            )
        }
    inspector = inspect(connection)
    described: dict = {}
    kinds = (
        ("columns", inspector.get_multi_columns, _column),
        ("primary key", inspector.get_multi_pk_constraint, _primary_key),
        ("foreign keys", inspector.get_multi_foreign_keys, _foreign_key),
        ("indexes", inspector.get_multi_indexes, _index),
        ("unique", inspector.get_multi_unique_constraints, _unique),
        ("checks", inspector.get_multi_check_constraints, _check),
    )
    for kind, reflect, describe in kinds:
        for (_schema_name, name), found in reflect().items():
            entries = found if isinstance(found, list) else [found]
            described.setdefault(name, {})[kind] = sorted(map(str, map(describe, entries)))
    return described


def _column(c: dict) -> tuple:
    return (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))


def _primary_key(pk: dict) -> tuple:
    return tuple(pk["constrained_columns"])


def _foreign_key(fk: dict) -> tuple:
    return (
        fk["name"],
        tuple(fk["constrained_columns"]),
        fk["referred_table"],
        tuple(fk["referred_columns"]),
    )


def _index(index: dict) -> tuple:
    return (
        index["name"],
        tuple(map(str, index["column_names"])),
        tuple(map(str, index.get("expressions", ()))),
        bool(index["unique"]),
        str(index.get("dialect_options", {})),
    )


def _unique(unique: dict) -> tuple:
    return (unique["name"], tuple(unique["column_names"]))


def _check(check: dict) -> tuple:
    return (check["name"], check["sqltext"])


def _rows(connection) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    inspector = inspect(connection)
    for name in sorted(inspector.get_table_names()):
        columns = [c["name"] for c in inspector.get_columns(name)]
        if name.endswith(("_fts", "_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue  # SQLite's full-text shadow tables: their schema is compared above
        subject = table(name, *(column(c) for c in columns))
        rows[name] = [
            dict(row._mapping) for row in connection.execute(select(subject).order_by(*subject.c))
        ]
    return rows


def _snapshot(engine) -> tuple[dict, dict]:
    with engine.connect() as connection:
        return _schema(connection), _rows(connection)


def _kept(rows: dict[str, list[dict]], lost: dict[str, set[str] | None], tables) -> dict:
    """The rows of `tables`, without what the downgrade is allowed to lose."""
    kept = {}
    for name in tables:
        if name not in rows or (name in lost and lost[name] is ALL_ROWS):
            continue
        dropped = lost.get(name) or set()
        kept[name] = [{k: v for k, v in row.items() if k not in dropped} for row in rows[name]]
    return kept


class _Migrations:
    """Alembic's upgrade and downgrade commands with the scripts read once (the commands
    read every migration file again each time: most of this test's time)."""

    def __init__(self) -> None:
        self.script = ScriptDirectory.from_config(alembic_config())

    def newest_first(self) -> list[tuple[str, str]]:
        """(revision, the revision it revises or "base")."""
        return [(m.revision, m.down_revision or "base") for m in self.script.walk_revisions()]  # type: ignore[misc]

    def upgrade(self, engine, revision: str) -> None:
        self._run(engine, revision, lambda rev, _context: self.script._upgrade_revs(revision, rev))

    def downgrade(self, engine, revision: str) -> None:
        self._run(
            engine, revision, lambda rev, _context: self.script._downgrade_revs(revision, rev)
        )

    def _run(self, engine, destination: str, steps) -> None:
        with engine.begin() as connection:
            config = alembic_config(connection)
            with EnvironmentContext(config, self.script, fn=steps, destination_rev=destination):
                self.script.run_env()


def test_every_migration_downgrades_and_upgrades_again_on_a_populated_database(populated_url):
    engine = make_engine(populated_url)
    try:
        schema_at, rows_at = _snapshot(engine)
        assert all(
            rows_at[name]
            for name in ("staff_session", "person_merge", "queue_item", "import_record")
        )
        migrations = _Migrations()
        for revision, previous in migrations.newest_first():
            lost = LOST_ON_DOWNGRADE.get(revision, {})
            if previous == "base":  # the first migration: nothing is left below it
                lost = dict.fromkeys(rows_at, ALL_ROWS)
            migrations.downgrade(engine, previous)
            schema_down, rows_down = _snapshot(engine)
            migrations.upgrade(engine, revision)
            schema_again, rows_again = _snapshot(engine)
            assert schema_again == schema_at, f"{revision}: the schema differs after the round trip"
            assert _kept(rows_again, lost, rows_at) == _kept(rows_at, lost, rows_at), (
                f"{revision}: rows differ after downgrade and upgrade"
            )
            migrations.downgrade(engine, previous)
            assert _snapshot(engine) == (schema_down, rows_down), (
                f"{revision}: the second downgrade differs from the first"
            )
            schema_at, rows_at = schema_down, rows_down
        assert set(schema_at) <= {"alembic_version", "sqlite_master"}
    finally:
        engine.dispose()


def test_what_each_downgrade_may_lose_names_real_tables_and_columns(database_url):
    """The list above cannot drift: every table and column it names exists."""
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        revisions = {revision for revision, _previous in _Migrations().newest_first()}
        for revision, tables in LOST_ON_DOWNGRADE.items():
            assert revision in revisions
            for name, columns in tables.items():
                present = {c["name"] for c in inspector.get_columns(name)}
                assert columns is ALL_ROWS or columns <= present, (revision, name)
    finally:
        engine.dispose()
