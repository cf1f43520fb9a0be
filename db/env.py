"""Alembic environment for Control Room.

Run through `controlroom db upgrade` (which builds the Alembic config in code and hands
over a live connection), never with a password in a config file. Batch mode makes
ALTERs work on SQLite; the naming convention on the MetaData names every constraint.
"""

from __future__ import annotations

from alembic import context

from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.models import UtcDateTime
from controlroom.data.search import include_name

config = context.config
target_metadata = all_tables()  # every table, the cold models' too


def render_item(type_, obj, autogen_context):
    # Migrations must not import the models (they change); render our UTC type as what
    # it is in the database.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        # The full-text tables and indexes are the migrations' own, not the models'.
        include_name=include_name,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported; use `controlroom db upgrade`"
    )
run_migrations_online()
