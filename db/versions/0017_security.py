"""a session locked when it ended stays locked: the PIN is asked at the next start (issue 16)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:10:00

The idle lock was bypassed by quitting and starting again. `staff.session_locked_at` is
set when an operator's session locks and cleared by the right PIN; while it is set, the
operator's next start opens on the lock screen.

PostgreSQL: an operator connecting as a login role of their own (peer or certificate
authentication mapping the OS account to a role of the same name, a member of
`controlroom_app`) can write audit events only in their own name: a trigger checks the
event's actor against `session_user`, which no client sets. The shared roles
(`controlroom_app`, `controlroom_owner`) and superusers are not checked (one role for
every operator cannot tell them apart: README, "Trust boundaries"). A second trigger
lets such a role enrol staff or change an account's role, activity or lock only when
`session_user` is an active administrator on record, and never on its own account:
`UPDATE staff SET role` from a call handler's connection is refused by the database.

Downgrade drops the column, the trigger and its function.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Fixed DDL, nothing formatted in (PL/pgSQL has no SQLAlchemy construct), run with
# exec_driver_sql and no parameters; no "%" in it, so the driver reads no placeholder.
AUDIT_ACTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION controlroom_audit_actor() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF session_user NOT IN ('controlroom_app', 'controlroom_owner')
       AND NOT coalesce(
           (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), false)
       AND NEW.actor IS DISTINCT FROM session_user THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = 'permission denied: the audit actor ' || coalesce(NEW.actor, '(none)')
                || ' is not the connected operator ' || session_user;
    END IF;
    RETURN NEW;
END
$fn$
"""
STAFF_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION controlroom_staff_guard() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF session_user IN ('controlroom_app', 'controlroom_owner')
       OR coalesce(
           (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), false) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.username IS NOT DISTINCT FROM OLD.username
       AND NEW.role IS NOT DISTINCT FROM OLD.role
       AND NEW.active IS NOT DISTINCT FROM OLD.active
       AND NEW.locked IS NOT DISTINCT FROM OLD.locked THEN
        RETURN NEW;
    END IF;
    IF NEW.username = session_user OR NOT EXISTS (
        SELECT 1 FROM staff
        WHERE username = session_user AND role = 'administrator' AND active AND NOT locked
    ) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = 'permission denied: only an administrator enrols staff or changes '
                || 'another account''s role, activity or lock (connected as '
                || session_user || ')';
    END IF;
    RETURN NEW;
END
$fn$
"""
STAFF_GUARD_TRIGGER = (
    "CREATE TRIGGER staff_guard BEFORE INSERT OR UPDATE ON staff "
    "FOR EACH ROW EXECUTE FUNCTION controlroom_staff_guard()"
)
AUDIT_ACTOR_TRIGGER = (
    "CREATE TRIGGER audit_event_actor BEFORE INSERT ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION controlroom_audit_actor()"
)


def upgrade() -> None:
    op.add_column(
        "staff", sa.Column("session_locked_at", sa.DateTime(timezone=True), nullable=True)
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(AUDIT_ACTOR_FUNCTION)
        bind.exec_driver_sql(AUDIT_ACTOR_TRIGGER)
        bind.exec_driver_sql(STAFF_GUARD_FUNCTION)
        bind.exec_driver_sql(STAFF_GUARD_TRIGGER)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS staff_guard ON staff")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS controlroom_staff_guard()")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_actor ON audit_event")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS controlroom_audit_actor()")
    if bind.dialect.name == "sqlite":
        # As 0009: SQLite (3.35+) drops a plain column in place, where batch mode would
        # rebuild `staff`, which every audit event references (foreign keys on).
        op.execute("ALTER TABLE staff DROP COLUMN session_locked_at")
    else:
        op.drop_column("staff", "session_locked_at")
