"""Safeguarding rules through the incident services, on a real database (both backends):
G4 and closing are refused on a covered incident, a supervisor overrides with a written
reason, and the override is stored, logged and audited."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from controlroom.data.cold_models import IncidentLogEntry, SafeguardingOverride
from controlroom.data.models import AuditEvent, Incident, Staff
from controlroom.domain.dash import Answer
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import dash, incidents, safeguarding
from tests import factories
from tests.databases import SEED_ANCHOR

NOW = SEED_ANCHOR
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)
REASON = "Offender is in custody; victim is safe with family tonight."
_keys = itertools.count(1)


def make_actor(database, username: str, role: Role, name: str) -> Actor:
    """A member of staff written straight to the database, as the actor services take."""
    with database.uow() as uow:
        member = Staff(username=username, display_name=name, role=role.value)
        uow.session.add(member)
        uow.commit()
        return Actor(staff_id=member.id, username=username, role=role, terminal="10.1.1.1")


@pytest.fixture
def supervisor(database) -> Actor:
    return make_actor(database, "sam.super", Role.SUPERVISOR, "Sam Supervisor")


@pytest.fixture
def handler(database) -> Actor:
    return make_actor(database, "cal.handler", Role.CALL_HANDLER, "Cal Handler")


def new_incident(
    database,
    actor,
    *,
    type_code="SUSP",
    persons=(),
    domestic=False,
    child_present=False,
    grade="G2",
    age=timedelta(minutes=30),
) -> int:
    saved = incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=f"sg-{next(_keys)}",
            type_code=type_code,
            location_text="4 Test Row, Testtown",
            grade=grade,
            thrive_skipped=True,
            domestic=domestic,
            child_present=child_present,
            persons=tuple(persons),
        ),
        NOW - age,
        GRADE_CODES,
    )
    return saved.id


def version(database, incident_id: int) -> int:
    with database.uow() as uow:
        return uow.incidents.get(incident_id).version


def regrade(database, actor, incident_id, grade="G4", **kwargs):
    return incidents.change_grade(
        database.uow(),
        actor,
        incident_id,
        grade,
        "Caller now says all is calm.",
        version(database, incident_id),
        NOW,
        GRADE_CODES,
        **kwargs,
    )


def close(database, actor, incident_id, **kwargs):
    return incidents.close_incident(
        database.uow(),
        actor,
        incident_id,
        version(database, incident_id),
        NOW,
        closing_type_code="INFO",
        result="Advice given by phone.",
        **kwargs,
    )


def rso_incident(database, actor) -> int:
    offender = factories.add_person(database, "Rory", "Offender")
    factories.add_marker(database, offender, "RSO")
    return new_incident(database, actor, persons=[(offender, "subject")])


def audit_rows(database, incident_id: int, action: str) -> list[AuditEvent]:
    with database.uow() as uow:
        rows = uow.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == str(incident_id))
            .order_by(AuditEvent.id)
        ).all()
        uow.session.expunge_all()
        return list(rows)


def stored(database, incident_id: int) -> Incident:
    with database.uow() as uow:
        incident = uow.incidents.get(incident_id)
        uow.session.expunge(incident)
        return incident


def test_grading_an_rso_incident_g4_is_refused_without_an_override(database, supervisor):
    incident_id = rso_incident(database, supervisor)
    with pytest.raises(safeguarding.SafeguardingRefused) as caught:
        regrade(database, supervisor, incident_id)
    assert [b.rule for b in caught.value.breaches] == ["rso_linked"]
    assert "Registered sex offender linked" in str(caught.value)
    assert stored(database, incident_id).grade == "G2"
    refused = audit_rows(database, incident_id, "incident.regrade")
    assert [e.outcome for e in refused] == ["refused"]
    assert "rso_linked" in refused[0].detail
    # Other grades are not guarded.
    assert regrade(database, supervisor, incident_id, "G3").grade == "G3"


def test_a_supervisor_override_with_a_reason_allows_g4_and_is_logged_and_audited(
    database, supervisor
):
    incident_id = rso_incident(database, supervisor)
    detail = regrade(database, supervisor, incident_id, override_reason=f"  {REASON}  ")
    assert detail.grade == "G4"
    with database.uow() as uow:
        override = uow.session.scalars(select(SafeguardingOverride)).one()
        assert (
            override.incident_id,
            override.rules,
            override.action,
            override.new_grade,
            override.reason,
            override.supervisor_id,
        ) == (incident_id, "rso_linked", "grade_no_deployment", "G4", REASON, supervisor.staff_id)
        kinds = [
            e.kind
            for e in uow.session.scalars(
                select(IncidentLogEntry)
                .where(IncidentLogEntry.incident_id == incident_id)
                .order_by(IncidentLogEntry.id)
            )
        ]
        listed = uow.safeguarding.overrides_between(
            NOW - timedelta(hours=1), NOW + timedelta(seconds=1)
        )
    assert kinds[-2:] == ["override", "grade_change"]
    logged = next(e for e in detail.log if e.kind == "override")
    assert REASON in logged.text and "Registered sex offender linked" in logged.text
    event = audit_rows(database, incident_id, "safeguarding.override")
    assert [(e.outcome, e.justification, e.actor) for e in event] == [
        ("success", REASON, "sam.super")
    ]
    assert [(r.incident_reference, r.supervisor, r.reason) for r in listed] == [
        (detail.reference, "Sam Supervisor", REASON)
    ]


def test_only_a_supervisor_may_override_and_nothing_changes_otherwise(
    database, supervisor, handler
):
    incident_id = rso_incident(database, supervisor)
    with pytest.raises(safeguarding.OverrideNotPermitted, match="Only a supervisor"):
        regrade(database, handler, incident_id, override_reason=REASON)
    assert stored(database, incident_id).grade == "G2"
    assert [e.outcome for e in audit_rows(database, incident_id, "safeguarding.override")] == [
        "denied"
    ]
    with database.uow() as uow:
        assert uow.session.scalars(select(SafeguardingOverride)).all() == []


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_an_override_without_a_written_reason_is_refused_at_its_field(database, supervisor, reason):
    incident_id = rso_incident(database, supervisor)
    with pytest.raises(safeguarding.OverrideInputError) as caught:
        regrade(database, supervisor, incident_id, override_reason=reason)
    assert caught.value.field == "override_reason"
    assert stored(database, incident_id).grade == "G2"


def _all_no() -> dict[int, Answer]:
    return dict.fromkeys(range(1, 28), Answer.NO)


def test_closing_a_da_incident_needs_a_dash_that_is_not_high(database, supervisor):
    incident_id = new_incident(database, supervisor, type_code="DOM")
    with pytest.raises(safeguarding.SafeguardingRefused) as caught:
        close(database, supervisor, incident_id, no_crime_reason="Verbal argument only.")
    assert [b.rule for b in caught.value.breaches] == ["da_dash"]
    assert "no DASH" in str(caught.value)
    high = {**_all_no(), **dict.fromkeys(range(1, 15), Answer.YES)}
    dash.record_dash(database.uow(), supervisor, incident_id, high, NOW)
    with pytest.raises(safeguarding.SafeguardingRefused, match="HIGH risk"):
        close(database, supervisor, incident_id, no_crime_reason="Verbal argument only.")
    dash.record_dash(database.uow(), supervisor, incident_id, _all_no(), NOW)
    closed = close(database, supervisor, incident_id, no_crime_reason="Verbal argument only.")
    assert closed.status == "closed"


def test_child_present_domestic_and_high_risk_victim_rules(database, supervisor):
    child = new_incident(database, supervisor, type_code="DOM", child_present=True)
    dash.record_dash(database.uow(), supervisor, child, _all_no(), NOW)
    with pytest.raises(safeguarding.SafeguardingRefused) as caught:
        regrade(database, supervisor, child)
    assert [b.rule for b in caught.value.breaches] == ["child_domestic"]

    victim = factories.add_person(database, "Vera", "Victim")
    factories.add_marker(database, victim, "HRVICT")
    marked = new_incident(database, supervisor, persons=[(victim, "victim")])
    with pytest.raises(safeguarding.SafeguardingRefused) as caught:
        close(database, supervisor, marked)
    assert [b.rule for b in caught.value.breaches] == ["high_risk_victim"]
    closed = close(database, supervisor, marked, override_reason=REASON)
    assert closed.status == "closed"
    with database.uow() as uow:
        override = uow.session.scalars(select(SafeguardingOverride)).one()
        assert (override.action, override.rules, override.new_grade) == (
            "close",
            "high_risk_victim",
            None,
        )


def test_an_expired_marker_or_an_ordinary_incident_is_not_guarded(database, supervisor):
    offender = factories.add_person(database, "Old", "Marker")
    factories.add_marker(database, offender, "RSO", valid_to=NOW.date() - timedelta(days=1))
    incident_id = new_incident(database, supervisor, persons=[(offender, "subject")])
    assert regrade(database, supervisor, incident_id).grade == "G4"
    plain = new_incident(database, supervisor)
    assert close(database, supervisor, plain).status == "closed"


def test_evaluate_tells_the_view_the_rules_dash_referrals_and_overrides(database, supervisor):
    incident_id = new_incident(database, supervisor, type_code="DOM")
    status = safeguarding.evaluate(database.uow(), supervisor, incident_id, today=date.today())
    assert status.domestic and status.dash_level is None and status.referrals == ()
    assert [b.rule for b in status.breaches] == ["da_dash"]
    high = {**_all_no(), **dict.fromkeys(range(1, 16), Answer.YES)}
    dash.record_dash(database.uow(), supervisor, incident_id, high, NOW)
    regrade(database, supervisor, incident_id, override_reason=REASON)
    status = safeguarding.evaluate(database.uow(), supervisor, incident_id, today=date.today())
    assert (status.dash_level.value, status.dash_score, status.dash_raised) == ("high", 15, False)
    assert [r.kind for r in status.referrals] == ["marac"]
    assert [(o.supervisor, o.reason, o.rules) for o in status.overrides] == [
        ("Sam Supervisor", REASON, ("da_dash",))
    ]
    assert len(audit_rows(database, incident_id, "safeguarding.view")) == 2
