"""Databases as the running application sees them, for the audit tests.

On PostgreSQL the application connects as the app role made by migration 0008
(`controlroom_app`), not as the superuser the fixtures use; on SQLite there is only the
file. `take_audit_offline` makes the audit insert fail for real: on PostgreSQL it revokes
INSERT on `audit_event` from the app role in this test's database (grants are per
database, so no other test sees it); on SQLite it adds a trigger that RAISEs, created here
only (DDL text: SQLAlchemy has no construct for triggers).
"""

from __future__ import annotations

from sqlalchemy import DDL
from sqlalchemy.engine import make_url

from controlroom.data.engine import make_engine
from controlroom.data.models import Staff
from controlroom.data.uow import Database
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role

APP_ROLE = "controlroom_app"
OFFLINE_TRIGGER = DDL(
    "CREATE TRIGGER audit_offline BEFORE INSERT ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit trail offline'); END"
)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def app_role_url(url: str) -> str:
    """The same database, connected as the application's role (PostgreSQL)."""
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


def station_url(url: str) -> str:
    return app_role_url(url) if is_postgres(url) else url


def enrol(url: str, role: Role, username: str) -> Actor:
    """A member of staff with `role` (written as the fixtures' own user)."""
    database = Database(url)
    try:
        with database.uow() as uow:
            uow.session.add(
                Staff(
                    username=username,
                    display_name=username,
                    role=role.value,
                    active=True,
                    locked=False,
                )
            )
            uow.commit()
            staff = uow.staff.by_username(username)
            return Actor(staff_id=staff.id, username=username, role=role, terminal="local")
    finally:
        database.dispose()


def take_audit_offline(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if not is_postgres(url):
                connection.execute(OFFLINE_TRIGGER)
                return
            from psycopg import sql

            statement = sql.SQL("REVOKE INSERT ON audit_event FROM {}").format(
                sql.Identifier(APP_ROLE)
            )
            raw = connection.connection.dbapi_connection
            connection.exec_driver_sql(statement.as_string(raw))
    finally:
        engine.dispose()
