"""tamper-evident audit chain and PostgreSQL roles and grants (issue #6)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 07:15:00

1. The audit chain (`controlroom.domain.audit_chain`): `audit_event` gains `chain_seq`
   (unique), `prev_hash` and `event_hash`; the new one-row table `audit_chain_head` holds
   the chain's length and newest hash. Existing events are chained here, oldest (lowest
   id) first, with the domain's frozen canonical form, then the columns become NOT NULL
   (on SQLite `audit_event` is rebuilt in batch mode: it carries no triggers).

2. On PostgreSQL only, the roles and grants. Roles are cluster-wide: they may already
   exist (another database of the same cluster, an earlier CI run), so each is created
   only when missing, and a concurrent creator is tolerated.
   - `controlroom_owner` (LOGIN): owns every table; `controlroom db upgrade` runs as it.
   - `controlroom_app` (LOGIN): what the running application connects as. SELECT, INSERT,
     UPDATE, DELETE on every table and USAGE on every sequence, except: `audit_event`
     SELECT and INSERT only (never UPDATE, DELETE or TRUNCATE), `audit_chain_head`
     SELECT and UPDATE (it moves the head, never adds or removes it), `alembic_version`
     SELECT only. Default privileges give it the same on tables later migrations make.
   When this migration runs as another role (the one-time bootstrap as a superuser), it
   hands the tables to `controlroom_owner` and continues the rest of the upgrade as that
   role (SET LOCAL ROLE, reset at commit), so what later migrations make belongs to the
   owner too. Passwords are not set here: the DBA sets them (or uses other
   authentication); the URLs carry none.
   Role and grant DDL has no SQLAlchemy construct: it is composed with psycopg's `sql`
   module (quoted identifiers, no values formatted into text) and lives only here.

Downgrade drops the chain columns and the head table and takes the app role's grants and
default privileges in this database away; it leaves the roles (other databases of the
cluster may use them) and the tables' owner.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from controlroom.domain.audit_chain import GENESIS, event_hash

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNER_ROLE = "controlroom_owner"
APP_ROLE = "controlroom_app"
SEQ_INDEX = "ix_audit_event_chain_seq"

_events = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("staff_id", sa.Integer()),
    sa.column("terminal", sa.String()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("justification", sa.Text()),
    sa.column("detail", sa.Text()),
    sa.column("chain_seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("event_hash", sa.String()),
)
_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.Integer()),
    sa.column("event_count", sa.Integer()),
    sa.column("last_hash", sa.String()),
)
_pg_roles = sa.table("pg_roles", sa.column("rolname", sa.String()))
_pg_tables = sa.table(
    "pg_tables",
    sa.column("schemaname", sa.String()),
    sa.column("tablename", sa.String()),
    sa.column("tableowner", sa.String()),
)


def _aware(value):
    from datetime import UTC

    # SQLite hands back naive values; they are UTC by the models' invariant (UtcDateTime).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chain_existing_rows(bind) -> tuple[int, str]:
    rows = bind.execute(
        sa.select(
            _events.c.id,
            _events.c.occurred_at,
            _events.c.actor,
            _events.c.staff_id,
            _events.c.terminal,
            _events.c.action,
            _events.c.object_type,
            _events.c.object_id,
            _events.c.outcome,
            _events.c.justification,
            _events.c.detail,
        ).order_by(_events.c.id)
    ).all()
    previous, updates = GENESIS, []
    for seq, row in enumerate(rows, start=1):
        fields = {
            "seq": seq,
            "occurred_at": _aware(row.occurred_at),
            "actor": row.actor,
            "staff_id": row.staff_id,
            "terminal": row.terminal,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "outcome": row.outcome,
            "justification": row.justification,
            "detail": row.detail,
            "prev_hash": previous,
        }
        previous = event_hash(fields)
        updates.append(
            {"row_id": row.id, "seq": seq, "prev": fields["prev_hash"], "digest": previous}
        )
    if updates:
        bind.execute(
            _events.update()
            .where(_events.c.id == sa.bindparam("row_id"))
            .values(
                chain_seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                event_hash=sa.bindparam("digest"),
            ),
            updates,
        )
    return len(updates), previous


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("event_hash", sa.String(length=64), nullable=True))
    count, last_hash = _chain_existing_rows(bind)
    bind.execute(_head.insert().values(id=1, event_count=count, last_hash=last_hash))
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("event_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(SEQ_INDEX, ["chain_seq"], unique=True)
    if bind.dialect.name == "postgresql":
        _roles_and_grants(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _revoke_grants(bind)
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(SEQ_INDEX)
        batch_op.drop_column("event_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("chain_seq")
    op.drop_table("audit_chain_head")


# --- PostgreSQL roles and grants -------------------------------------------------------


def _ddl(bind, statement) -> None:
    """Run one composed psycopg `sql` statement on the migration's own connection."""
    raw = bind.connection.dbapi_connection
    bind.exec_driver_sql(statement.as_string(raw))


def _role_exists(bind, name: str) -> bool:
    return (
        bind.scalar(
            sa.select(sa.literal(1)).select_from(_pg_roles).where(_pg_roles.c.rolname == name)
        )
        is not None
    )


def _ensure_role(bind, name: str) -> None:
    from psycopg import sql

    if _role_exists(bind, name):
        return
    try:
        # A savepoint: another database's migration may create the same role at the
        # same moment (the catalog's unique index makes one of us fail); that is fine.
        with bind.begin_nested():
            _ddl(bind, sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    except sa.exc.DBAPIError as exc:
        if _role_exists(bind, name):
            return
        raise RuntimeError(
            f"migration 0008 needs the roles {OWNER_ROLE} and {APP_ROLE}: run this upgrade"
            " once as a superuser (or a role with CREATEROLE), or have the DBA create them"
            f" first (CREATE ROLE {OWNER_ROLE} LOGIN; CREATE ROLE {APP_ROLE} LOGIN)"
        ) from exc


def _roles_and_grants(bind) -> None:
    from psycopg import sql

    _ensure_role(bind, OWNER_ROLE)
    _ensure_role(bind, APP_ROLE)
    schema = bind.scalar(sa.select(sa.func.current_schema()))
    me = bind.scalar(sa.select(sa.func.current_user()))
    owner, app, ns = sql.Identifier(OWNER_ROLE), sql.Identifier(APP_ROLE), sql.Identifier(schema)
    can_act_as_owner = bind.scalar(sa.select(sa.func.pg_has_role(OWNER_ROLE, "MEMBER")))

    if me != OWNER_ROLE and can_act_as_owner:
        _ddl(bind, sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(ns, owner))
        mine = bind.scalars(
            sa.select(_pg_tables.c.tablename).where(
                _pg_tables.c.schemaname == schema, _pg_tables.c.tableowner == me
            )
        ).all()
        for table in mine:  # a table's SERIAL sequences follow it
            _ddl(
                bind,
                sql.SQL("ALTER TABLE {}.{} OWNER TO {}").format(ns, sql.Identifier(table), owner),
            )

    _ddl(bind, sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ns, app))
    _ddl(
        bind,
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            ns, app
        ),
    )
    _ddl(bind, sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(ns, app))
    for table, taken in (
        ("audit_event", "UPDATE, DELETE, TRUNCATE"),
        ("audit_chain_head", "INSERT, DELETE, TRUNCATE"),
        ("alembic_version", "INSERT, UPDATE, DELETE, TRUNCATE"),
    ):
        _ddl(
            bind,
            sql.SQL("REVOKE {} ON {}.{} FROM {}, PUBLIC").format(
                sql.SQL(taken), ns, sql.Identifier(table), app
            ),
        )
    # Tables and sequences later migrations make: whoever makes them (the owner, or the
    # role running this bootstrap) hands the app role the same ordinary privileges.
    for creator in {OWNER_ROLE, me} if can_act_as_owner or me == OWNER_ROLE else {me}:
        who = sql.Identifier(creator)
        _ddl(
            bind,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {}"
                " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(who, ns, app),
        )
        _ddl(
            bind,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {}"
                " GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(who, ns, app),
        )
    if me != OWNER_ROLE and can_act_as_owner:
        # The rest of this upgrade (later migrations, reference tables) runs as the owner,
        # exactly as every later `controlroom db upgrade` does.
        _ddl(bind, sql.SQL("SET LOCAL ROLE {}").format(owner))


def _revoke_grants(bind) -> None:
    from psycopg import sql

    if not _role_exists(bind, APP_ROLE):
        return
    schema = bind.scalar(sa.select(sa.func.current_schema()))
    app, ns = sql.Identifier(APP_ROLE), sql.Identifier(schema)
    _ddl(bind, sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(ns, app))
    _ddl(bind, sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(ns, app))
    creators = {bind.scalar(sa.select(sa.func.current_user()))}
    if _role_exists(bind, OWNER_ROLE) and bind.scalar(
        sa.select(sa.func.pg_has_role(OWNER_ROLE, "MEMBER"))
    ):
        creators.add(OWNER_ROLE)
    for creator in creators:
        who = sql.Identifier(creator)
        _ddl(
            bind,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} REVOKE ALL ON TABLES FROM {}"
            ).format(who, ns, app),
        )
        _ddl(
            bind,
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} REVOKE ALL ON SEQUENCES FROM {}"
            ).format(who, ns, app),
        )
