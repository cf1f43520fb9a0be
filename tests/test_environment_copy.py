"""Environments: records never go from a production database into a training or test one
(nor the other way). `controlroom db copy` refuses before reading a record, says why, and
the refusal is audited in the source; between training and test databases it copies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from controlroom.data.cold_models import Person
from controlroom.data.models import DatabaseInfo, Incident, Location
from controlroom.data.uow import Database
from controlroom.domain.environment import Environment, copy_refusal
from tests.cli_harness import isolate_cli_environment, run_cli
from tests.databases import TEST_ADMIN


@pytest.mark.parametrize("source", list(Environment))
@pytest.mark.parametrize("target", list(Environment))
def test_only_copies_between_training_and_test_are_allowed(source, target):
    refused = copy_refusal(source, target)
    production = Environment.PRODUCTION
    assert (refused is None) == (source is not production and target is not production)


def set_environment(url: str, environment: Environment) -> None:
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            connection.execute(update(DatabaseInfo.__table__).values(environment=environment.value))
    finally:
        database.dispose()


def counts(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            return {
                model.__tablename__: connection.scalar(select(func.count()).select_from(model))
                for model in (Location, Person, Incident)
            }
    finally:
        database.dispose()


def last_event(url: str) -> tuple[str, str, str]:
    database = Database(url)
    try:
        with database.uow() as uow:
            event = uow.audit.latest(1)[0]
            return event.action, event.outcome, event.detail
    finally:
        database.dispose()


@pytest.fixture
def cli(monkeypatch, tmp_path):
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: TEST_ADMIN)


@pytest.mark.parametrize("target", [Environment.TRAINING, Environment.TEST])
def test_a_production_database_is_never_copied_into_training_or_test(
    cli, capsys, seeded_database_url, database_url, target
):
    set_environment(seeded_database_url, Environment.PRODUCTION)
    set_environment(database_url, target)
    before = counts(database_url)
    result = run_cli(capsys, "db", "copy", "--from", seeded_database_url, "--to", database_url)
    assert result.code == 2
    assert (
        "copy refused: records from a production database are never copied into a "
        f"{target.value} database"
    ) in result.err
    assert counts(database_url) == before
    assert last_event(seeded_database_url) == (
        "database.copy_out",
        "denied",
        f"into a {target.value} database: refused",
    )


def test_training_records_never_go_into_production(cli, capsys, seeded_database_url, database_url):
    set_environment(seeded_database_url, Environment.TRAINING)
    set_environment(database_url, Environment.PRODUCTION)
    before = counts(database_url)
    result = run_cli(capsys, "db", "copy", "--from", seeded_database_url, "--to", database_url)
    assert result.code == 2 and "never copied into a production database" in result.err
    assert counts(database_url) == before


@pytest.mark.slow
def test_training_records_copy_into_a_test_database(cli, capsys, seeded_database_url, database_url):
    set_environment(seeded_database_url, Environment.TRAINING)
    # A crime recorded an hour after the report, before the closing named its reference:
    # the crimes stay behind, so the copy's recording delay is its closing's.
    database = Database(seeded_database_url)
    try:
        with database.engine.begin() as connection:
            connection.execute(
                update(Incident.__table__)
                .where(Incident.crime_recording_delay.is_not(None))
                .values(crime_recording_delay=timedelta(hours=1))
            )
    finally:
        database.dispose()
    source = counts(seeded_database_url)
    assert min(source.values()) > 0
    result = run_cli(capsys, "db", "copy", "--from", seeded_database_url, "--to", database_url)
    assert result.code == 0, result.err
    assert counts(database_url) == source
    copied = Database(database_url)
    try:
        with copied.uow() as uow:
            rows = uow.session.execute(
                select(
                    Incident.opened_at,
                    Incident.closed_at,
                    Incident.crime_reference,
                    Incident.crime_recording_delay,
                )
            ).all()
    finally:
        copied.dispose()
    assert any(delay is not None for *_, delay in rows)
    for opened, closed, reference, delay in rows:
        assert delay == (closed - opened if reference and closed else None)
    action, outcome, detail = last_event(database_url)
    assert (action, outcome) == ("database.copy_in", "success")
    assert detail.startswith("from a training database: ")
    assert last_event(seeded_database_url)[:2] == ("database.copy_out", "success")
