"""Migration 0008 on a populated 0007 database: the events already there are chained in
id order, the head anchors them, the schema matches the models, new events continue the
chain, and downgrading to 0007 and back chains them again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import column, insert, select, table

from controlroom.data import audit_log
from controlroom.data.cold_models import all_tables
from controlroom.data.engine import make_engine
from controlroom.data.schema import alembic_config
from controlroom.data.search import include_name
from controlroom.domain.audit_chain import verify

WRITTEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# audit_event as 0007 left it (no chain columns): what an older program wrote.
OLD_EVENTS = table(
    "audit_event",
    column("occurred_at"),
    column("actor"),
    column("staff_id"),
    column("terminal"),
    column("action"),
    column("object_type"),
    column("object_id"),
    column("outcome"),
    column("justification"),
    column("detail"),
)


@pytest.fixture
def engine(databases, tmp_path):
    url = databases.create_empty(tmp_path, "at_0007")
    engine = make_engine(url)
    yield engine
    engine.dispose()
    databases.drop(url)


def check(connection):
    return verify(audit_log.chain_rows(connection), audit_log.chain_head(connection))


def test_existing_events_are_chained_and_new_ones_follow(engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0007")
        connection.execute(
            insert(OLD_EVENTS),
            [
                {
                    "occurred_at": WRITTEN + timedelta(minutes=i),
                    "actor": f"old.user{i % 3}",
                    "staff_id": None,
                    "terminal": "10.1.1.1",
                    "action": "person.view",
                    "object_type": "person",
                    "object_id": str(100 + i),
                    "outcome": "success",
                    "justification": "[b]old[/b]" if i == 2 else None,
                    "detail": None,
                }
                for i in range(25)
            ],
        )
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
        result = check(connection)
        assert result.intact and result.events == 25, result.broken
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, all_tables()) == []
        events = table("audit_event", column("id"), column("chain_seq"))
        order = connection.execute(
            select(events.c.id, events.c.chain_seq).order_by(events.c.id)
        ).all()
        assert [seq for _, seq in order] == list(range(1, 26))  # oldest (lowest id) first
    with engine.begin() as connection:
        audit_log.append(
            connection,
            occurred_at=WRITTEN + timedelta(days=1),
            actor="new.user",
            staff_id=None,
            terminal="local",
            action="person.view",
            object_type="person",
            object_id="7",
            outcome="success",
            justification=None,
            detail=None,
        )
        assert check(connection).events == 26 and check(connection).intact
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
        command.upgrade(alembic_config(connection), "head")
        assert check(connection).intact and check(connection).events == 26
