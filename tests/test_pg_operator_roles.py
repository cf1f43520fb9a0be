"""PostgreSQL: an operator connected as their own login role writes audit events only in
their own name, and changes no account's role unless an administrator (issue 16, item 2).

Connected as the shared `controlroom_app`, an INSERT appended a chain-valid event in
another operator's name. With a login role per operator (a member of `controlroom_app`,
named as the OS account), a trigger compares each event's actor with `session_user`,
which the client cannot set.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from controlroom.data.models import AuditEvent
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import audit, staff
from controlroom.services.audit import AuditUnavailable
from tests.audit_stations import APP_ROLE, enrol
from tests.databases import postgres_url

pytestmark = pytest.mark.skipif(
    postgres_url() is None, reason="per-operator login roles are PostgreSQL's"
)


@pytest.fixture
def login_roles(database):
    """Makes login roles for operators, members of the application role; dropped after."""
    from psycopg import sql

    made: list[str] = []

    def run(statement) -> None:
        with database.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            connection.exec_driver_sql(statement.as_string(raw))
            connection.commit()

    def make() -> str:
        name = f"cr16op{uuid.uuid4().hex[:8]}"
        run(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(name), sql.Identifier(APP_ROLE)
            )
        )
        made.append(name)
        return name

    yield make
    for name in made:
        run(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def operator_role(login_roles) -> str:
    return login_roles()


def connected_as(database_url: str, role: str) -> Database:
    url = make_url(database_url).set(username=role, password=None)
    return Database(url.render_as_string(hide_password=False))


def test_an_operator_role_writes_audit_events_only_in_its_own_name(
    database, database_url, operator_role
):
    enrol(database_url, Role.SUPERVISOR, operator_role)
    station = connected_as(database_url, operator_role)
    try:
        member = staff.sign_in(station.uow(), operator_role, "local")  # audited as itself
        with station.uow() as uow:
            forged = Actor(
                staff_id=member.id, username="someone.else", role=Role.SUPERVISOR, terminal="local"
            )
            with pytest.raises(AuditUnavailable) as refused:
                audit.record(uow, forged, "person.view", "person", 1)
        assert "the database refused permission" in str(refused.value)
        with station.uow() as uow:
            audit.record(uow, member.actor("local"), "person.view", "person", 1)
            uow.commit()
    finally:
        station.dispose()
    with database.uow() as uow:
        actors = uow.session.scalars(
            select(AuditEvent.actor).order_by(AuditEvent.chain_seq.desc()).limit(2)
        ).all()
        assert actors == [operator_role, operator_role]
        assert (
            uow.session.scalar(select(func.count()).where(AuditEvent.actor == "someone.else")) == 0
        )


def test_only_an_administrator_role_changes_a_role_and_never_its_own(
    database, database_url, login_roles
):
    """`UPDATE staff SET role` from the shared role made an account administrator."""
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError

    from controlroom.data.models import Staff

    handler, admin = login_roles(), login_roles()
    enrol(database_url, Role.CALL_HANDLER, handler)
    enrol(database_url, Role.ADMINISTRATOR, admin)
    as_handler = connected_as(database_url, handler)
    as_admin = connected_as(database_url, admin)
    try:
        # What a psql session as the call handler does, past every service check.
        with as_handler.uow() as uow, pytest.raises(DBAPIError, match="only an administrator"):
            uow.session.execute(
                update(Staff).where(Staff.username == handler).values(role="administrator")
            )
        # The administrator's own role: refused by the database too.
        with as_admin.uow() as uow, pytest.raises(DBAPIError, match="only an administrator"):
            uow.session.execute(
                update(Staff).where(Staff.username == admin).values(role="supervisor")
            )
        # Through the service, as an administrator, on another account: allowed.
        member = staff.sign_in(as_admin.uow(), admin, "local")
        changed = staff.set_role(as_admin.uow(), member.actor("local"), handler, Role.SUPERVISOR)
        assert changed.role is Role.SUPERVISOR
        # A PIN change of one's own (not a role) goes through for anyone.
        from controlroom.services import session_lock

        worker = staff.sign_in(as_handler.uow(), handler, "local")
        session_lock.set_pin(as_handler.uow(), worker.actor("local"), handler, "482915")
    finally:
        as_handler.dispose()
        as_admin.dispose()
