"""NCRS: closing a possible-crime incident without a crime needs a reason and a
supervisor's sign-off (services, both backends; the board's count; the table's answer)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import board, incidents
from controlroom.services.access import PermissionDenied
from controlroom.services.incidents import IncidentInputError
from tests.factories import staff_actor

GRADES = grade_codes()
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)
REASON = "Damage was accidental: the owner says a ladder fell."


@pytest.fixture
def handler(database):
    return staff_actor(database, Role.CALL_HANDLER)


@pytest.fixture
def supervisor_actor(database):
    return staff_actor(database, Role.SUPERVISOR)


def _possible_crime(database, actor):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=uuid.uuid4().hex,
            type_code="CDAM",
            location_text="1 Test Street",
            possible_crime=True,
        ),
        NOW,
        GRADES,
    ).id


def _close(database, actor, incident_id, **fields):
    current = incidents.view_incident_by_id(database.uow(), actor, incident_id, today=date.today())
    values = dict(closing_type_code="CDAM", result="Advice given.", no_crime_reason=REASON)
    values.update(fields)
    return incidents.close_incident(
        database.uow(), actor, incident_id, current.version, LATER, **values
    )


def _awaiting(database) -> int:
    return board.home_counts(database.uow(), GRADES, LATER).awaiting_signoff


def _last_audit(database):
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        return SimpleNamespace(
            action=event.action, outcome=event.outcome, detail=event.detail, actor=event.actor
        )


def test_a_no_crime_closure_needs_a_reason_and_awaits_sign_off(database, handler):
    incident_id = _possible_crime(database, handler)
    with pytest.raises(IncidentInputError) as refused:
        _close(database, handler, incident_id, no_crime_reason=None)
    assert refused.value.field == "crime_reference"
    closed = _close(database, handler, incident_id)
    assert closed.status == "closed" and closed.awaiting_signoff
    assert "Awaiting supervisor sign-off" in closed.log[-1].text
    assert "awaiting sign-off" in _last_audit(database).detail
    assert _awaiting(database) == 1


def test_a_crime_reference_or_a_supervisor_closing_needs_no_other_sign_off(
    database, handler, supervisor_actor
):
    recorded = _close(
        database,
        handler,
        _possible_crime(database, handler),
        crime_reference="CRIME/123",
        no_crime_reason=None,
    )
    assert recorded.signoff is None
    by_supervisor = _close(database, supervisor_actor, _possible_crime(database, handler))
    assert by_supervisor.signoff == incidents.SIGNOFF_APPROVED
    assert "Signed off by the closing supervisor" in by_supervisor.log[-1].text
    assert _awaiting(database) == 0


def test_a_supervisor_signs_it_off(database, handler, supervisor_actor):
    closed = _close(database, handler, _possible_crime(database, handler))
    signed = incidents.sign_off_closure(
        database.uow(), supervisor_actor, closed.id, closed.version, LATER, approve=True
    )
    assert (signed.status, signed.signoff) == ("closed", incidents.SIGNOFF_APPROVED)
    assert signed.log[-1].text == "No-crime closure signed off"
    event = _last_audit(database)
    assert (event.action, event.outcome, event.actor) == (
        "incident.signoff",
        "success",
        supervisor_actor.username,
    )
    assert _awaiting(database) == 0
    with pytest.raises(IncidentInputError, match="no closure awaiting sign-off"):
        incidents.sign_off_closure(
            database.uow(), supervisor_actor, closed.id, signed.version, LATER, approve=True
        )


def test_a_supervisor_returns_it_open_with_a_reason(database, handler, supervisor_actor):
    closed = _close(database, handler, _possible_crime(database, handler))
    with pytest.raises(IncidentInputError) as refused:
        incidents.sign_off_closure(
            database.uow(),
            supervisor_actor,
            closed.id,
            closed.version,
            LATER,
            approve=False,
            reason="  ",
        )
    assert refused.value.field == "reason"
    reopened = incidents.sign_off_closure(
        database.uow(),
        supervisor_actor,
        closed.id,
        closed.version,
        LATER,
        approve=False,
        reason="Owner's account conflicts with the witness: record the crime.",
    )
    assert (reopened.status, reopened.signoff, reopened.closed_at) == ("open", None, None)
    assert reopened.no_crime_reason is None and reopened.result is None
    last = reopened.log[-1]
    assert (last.kind, last.old_value, last.new_value) == ("status_change", "closed", "open")
    assert "witness" in last.text
    assert _awaiting(database) == 0
    # It can be closed again, properly this time.
    again = _close(database, handler, closed.id, crime_reference="CRIME/9", no_crime_reason=None)
    assert again.status == "closed" and again.signoff is None


@pytest.mark.parametrize(
    "role", [Role.CALL_HANDLER, Role.DISPATCHER, Role.INTELLIGENCE, Role.ANALYST]
)
def test_others_may_not_sign_off_and_the_attempt_is_audited(database, handler, role):
    closed = _close(database, handler, _possible_crime(database, handler))
    other = staff_actor(database, role)
    with pytest.raises(PermissionDenied, match="may not sign off a closure"):
        incidents.sign_off_closure(
            database.uow(), other, closed.id, closed.version, LATER, approve=True
        )
    event = _last_audit(database)
    assert (event.action, event.outcome, event.actor) == (
        "incident.signoff",
        "denied",
        other.username,
    )
    assert _awaiting(database) == 1
