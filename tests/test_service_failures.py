"""A failed service call reads as one sentence for the operator; its details go to the log.

`controlroom.screens.seam.failure_of` is the one place an exception becomes words on
screen. Unit tests pin what each kind of failure says; a Pilot test makes a real save fail
with a real database error underneath the running app and checks the screen (the
operator's sentence, the typing kept, no exception text) and the log file (the details).
"""

from __future__ import annotations

import logging
import stat

import pytest
from sqlalchemy.exc import OperationalError

from controlroom.data.cold_models import all_tables
from controlroom.domain.permissions import Action, Marking, denial_message
from controlroom.domain.roles import Role
from controlroom.logs import configure_file_log, log_path
from controlroom.screens.incident.entry import IncidentEntry
from controlroom.screens.seam import FailureKind, failure_of
from controlroom.services.access import PermissionDenied
from controlroom.services.incidents import IncidentInputError
from tests.apps import build_app, screen_text, settle

SIZE = (80, 24)
# What must never reach an operator's screen from a database failure.
EXCEPTION_WORDS = (
    "OperationalError",
    "ProgrammingError",
    "sqlalchemy",
    "no such table",
    "does not exist",
    "Traceback",
    "SELECT",
    "INSERT",
)


@pytest.fixture
def file_log(tmp_path):
    path = configure_file_log(tmp_path / "logdir", "test.operator")
    yield path
    logger = logging.getLogger("controlroom")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_a_field_problem_is_said_at_its_field_in_the_services_words():
    failure = failure_of(IncidentInputError("grade", "G7 is not a grade here"), "save the incident")
    assert failure.kind is FailureKind.INPUT
    assert failure.field == "grade"
    assert failure.sentence == "G7 is not a grade here"


def test_a_refusal_is_the_permission_tables_own_sentence():
    denial = PermissionDenied(
        denial_message(Role.ANALYST, Action.INCIDENT_VIEW),
        action=Action.INCIDENT_VIEW,
        marking=Marking.NORMAL,
    )
    failure = failure_of(denial, "read the incident")
    assert failure.kind is FailureKind.REFUSED and failure.refused
    assert failure.sentence == str(denial)
    assert "PermissionDenied" not in failure.sentence


def test_a_database_fault_is_one_sentence_and_its_details_are_logged(file_log):
    try:  # raised, as a real one is: the log has its traceback
        raise OperationalError(
            "SELECT secret_column FROM incident",
            {"x": 1},
            Exception("server closed the connection unexpectedly"),
        )
    except OperationalError as fault:
        failure = failure_of(fault, "save the incident")
    assert failure.kind is FailureKind.DATABASE
    assert failure.sentence.startswith(
        "Could not save the incident: the database did not answer. Nothing you typed is lost"
    )
    assert f"(ref {failure.reference})" in failure.sentence
    assert not any(word in failure.sentence for word in EXCEPTION_WORDS + ("server closed",))
    logged = file_log.read_text(encoding="utf-8")
    assert f"could not save the incident [ref {failure.reference}]" in logged
    assert "server closed the connection unexpectedly" in logged
    assert "Traceback" in logged


def test_a_bug_is_not_blamed_on_the_database(file_log):
    failure = failure_of(KeyError("grade"), "read the board's counts")
    assert failure.kind is FailureKind.FAULT
    assert "something went wrong in Control Room" in failure.sentence
    assert "KeyError" not in failure.sentence
    assert "KeyError" in file_log.read_text(encoding="utf-8")


def test_the_log_file_is_the_operators_alone_and_not_doubled(tmp_path):
    first = configure_file_log(tmp_path, "someone")
    again = configure_file_log(tmp_path, "someone")
    try:
        assert first == again == log_path(tmp_path, "someone")
        logging.getLogger("controlroom.screens").error("once")
        assert first.read_text(encoding="utf-8").count("once") == 1
        assert stat.S_IMODE(first.stat().st_mode) == 0o600
    finally:
        logger = logging.getLogger("controlroom")
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()


async def test_a_save_that_meets_a_database_error_is_kept_on_the_station_and_says_so(
    database, tmp_path, monkeypatch, file_log
):
    """The database fails under the form (issue 13): the call is not lost, nor left in a
    form that cannot save — it is kept in the station's offline journal, to be replayed
    when the database works again, and the operator reads that, never the error."""
    monkeypatch.setattr(IncidentEntry, "lookup_delay", 0.0)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("alt+l", *"14 Mill Lane, LS6 2AB", "tab", *"dom")
        await settle(pilot)
        await pilot.press("tab", "alt+k", "alt+n", *"Shouting next door.")
        await settle(pilot)
        # A real failure: the schema disappears underneath the running app.
        all_tables().drop_all(database.engine)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, IncidentEntry)  # the form gave way: it is kept
        told = " ".join(notification.message for notification in app._notifications)
        assert "OFFLINE — SAVED ON THIS STATION as OFF-" in told
        text = screen_text(app)
        assert not any(word in text for word in EXCEPTION_WORDS)
        assert not any(word in told for word in EXCEPTION_WORDS)
    [journal] = (tmp_path / "offline").glob("*.*.sqlite")
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    logged = file_log.read_text(encoding="utf-8")
    assert "Error" in logged and "Traceback" in logged
    assert "Shouting next door" not in logged  # record values stay out of the log


def test_a_refused_save_reads_as_one_sentence_with_what_is_kept():
    denial = PermissionDenied(
        "As a supervisor you may not grade intelligence reports.",
        action=Action.INTELLIGENCE_GRADE,
        marking=Marking.NORMAL,
    )
    failure = failure_of(denial, "save the report")
    assert failure.not_saved() == (
        "NOT SAVED — As a supervisor you may not grade intelligence reports. Your typing is kept."
    )
