"""PostgreSQL roles made by migration 0008: the application's role may add to and read
the audit trail but the database refuses it UPDATE, DELETE and TRUNCATE there, while
ordinary work succeeds; the owner role owns the tables. PostgreSQL only."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import ProgrammingError

from controlroom.data.engine import make_engine
from controlroom.data.models import AuditChainHead, AuditEvent
from controlroom.data.uow import Database
from controlroom.domain.roles import Role
from controlroom.services import incidents, staff
from controlroom.services.audit_trail import verify_chain
from tests.audit_stations import APP_ROLE, app_role_url, enrol, is_postgres
from tests.databases import SEED_ANCHOR, postgres_url

pytestmark = pytest.mark.skipif(
    postgres_url() is None, reason="database roles and grants are PostgreSQL's"
)
OWNER_ROLE = "controlroom_owner"
EVENTS = AuditEvent.__table__


@pytest.fixture
def app_engine(database_url):
    if not is_postgres(database_url):
        pytest.skip("database roles and grants are PostgreSQL's")
    engine = make_engine(app_role_url(database_url))
    yield engine
    engine.dispose()


def refused(engine, statement) -> str:
    with engine.connect() as connection:
        with pytest.raises(ProgrammingError) as error:
            connection.execute(statement)
        connection.rollback()
    return str(error.value.orig)


def test_the_app_role_may_not_change_or_remove_audit_events(app_engine):
    with app_engine.connect() as connection:
        assert connection.scalar(select(EVENTS.c.action).order_by(EVENTS.c.id).limit(1)) == (
            "database.create"
        )  # it may read them
    assert "permission denied for table audit_event" in refused(
        app_engine, update(EVENTS).values(detail="rewritten")
    )
    assert "permission denied for table audit_event" in refused(app_engine, delete(EVENTS))
    head = AuditChainHead.__table__
    assert "permission denied for table audit_chain_head" in refused(app_engine, delete(head))
    assert "permission denied for table audit_chain_head" in refused(
        app_engine, insert(head).values(id=2, event_count=0, last_hash="0" * 64)
    )


def test_the_app_role_does_ordinary_work_and_the_chain_holds(database_url, app_engine):
    supervisor = enrol(database_url, Role.SUPERVISOR, "roles.supervisor")
    station = Database(app_role_url(database_url))
    try:
        member = staff.sign_in(station.uow(), "roles.supervisor", "local")
        assert member.role is Role.SUPERVISOR
        saved = incidents.save_new_incident(
            station.uow(),
            supervisor,
            incidents.NewIncident(
                idempotency_key="roles-1",
                type_code="DOM",
                location_text="1 Grant Street",
                thrive_skipped=True,
            ),
            SEED_ANCHOR,
            ("G1", "G2", "G3", "G4"),
        )
        assert saved.created
        result = verify_chain(station.uow())
        assert result.intact, result.broken
        with station.engine.connect() as connection:
            assert (
                connection.scalar(
                    select(EVENTS.c.action).order_by(EVENTS.c.chain_seq.desc()).limit(1)
                )
                == "incident.create"
            )
    finally:
        station.dispose()


def test_tables_belong_to_the_owner_role_and_later_tables_reach_the_app_role(
    database_url, app_engine
):
    admin = make_engine(database_url)
    try:
        with admin.connect() as connection:
            pg_tables = Table(
                "pg_tables",
                MetaData(),
                Column("tablename", String),
                Column("tableowner", String),
                Column("schemaname", String),
            )
            owners = dict(
                connection.execute(
                    select(pg_tables.c.tablename, pg_tables.c.tableowner).where(
                        pg_tables.c.schemaname == "public"
                    )
                ).all()
            )
        assert owners["audit_event"] == OWNER_ROLE and owners["incident"] == OWNER_ROLE
        # A table a later migration makes (as whoever runs it) gets the app role's grants.
        later = Table(
            "later_migration_table",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("note", String(20)),
        )
        later.create(admin)
    finally:
        admin.dispose()
    with app_engine.begin() as connection:
        connection.execute(insert(later).values(note="written by the app"))
        assert connection.scalar(select(later.c.note)) == "written by the app"
    alembic_version = Table("alembic_version", MetaData(), Column("version_num", String(32)))
    assert "permission denied for table alembic_version" in refused(
        app_engine, update(alembic_version).values(version_num="0001")
    )


def test_the_roles_exist_once_and_can_log_in(database_url, app_engine):
    admin = make_engine(database_url)
    try:
        roles = Table(
            "pg_roles",
            MetaData(),
            Column("rolname", String),
            Column("rolcanlogin", Boolean),
            Column("rolsuper", Boolean),
        )
        with admin.connect() as connection:
            found = {
                row.rolname: (row.rolcanlogin, row.rolsuper)
                for row in connection.execute(
                    select(roles).where(roles.c.rolname.in_([OWNER_ROLE, APP_ROLE]))
                )
            }
    finally:
        admin.dispose()
    assert found == {OWNER_ROLE: (True, False), APP_ROLE: (True, False)}
