"""The safeguarding queries the queue and command view call (the safeguarding repository, data/safeguarding_queries.py),
on a real database (both backends)."""

from __future__ import annotations

from datetime import date, timedelta

from controlroom.data.cold_models import DashAssessment, Referral, SafeguardingOverride
from tests import factories
from tests.databases import SEED_ANCHOR, TEST_ADMIN


def _incident_id(database, reference: str) -> int:
    with database.uow() as uow:
        return uow.incidents.by_reference(reference).id


def _dash(uow, incident_id: int, level: str, staff_id: int, *, age: timedelta) -> None:
    uow.session.add(
        DashAssessment(
            incident_id=incident_id,
            answers="N" * 27,
            score=0,
            score_level="standard",
            judgement_level=None if level == "standard" else level,
            judgement_reason=None if level == "standard" else "Raised on what the victim said.",
            level=level,
            assessed_at=SEED_ANCHOR - age,
            assessed_by_id=staff_id,
        )
    )
    uow.flush()


def test_latest_dash_levels_reads_the_newest_assessment_of_each_incident(database):
    first = _incident_id(database, factories.add_incident(database))
    second = _incident_id(database, factories.add_incident(database))
    never = _incident_id(database, factories.add_incident(database))
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN).id
        _dash(uow, first, "high", staff, age=timedelta(hours=3))
        _dash(uow, first, "medium", staff, age=timedelta(hours=1))  # supersedes: in force
        _dash(uow, second, "high", staff, age=timedelta(hours=2))
        uow.commit()
    with database.uow() as uow:
        levels = uow.safeguarding.latest_dash_levels([first, second, never])
        assert levels == {first: "medium", second: "high"}
        assert uow.safeguarding.latest_dash_levels([]) == {}


def test_da_incidents_without_dash_lists_open_domestic_ones_oldest_first(database):
    old = _incident_id(database, factories.add_incident(database, age=timedelta(days=40)))
    new = _incident_id(database, factories.add_incident(database, age=timedelta(hours=2)))
    assessed = _incident_id(database, factories.add_incident(database))
    _closed = factories.add_incident(database, status="closed")
    _not_domestic = factories.add_incident(database, type_code="BURGR")
    flagged = _incident_id(
        database, factories.add_incident(database, type_code="ASLT", age=timedelta(days=2))
    )
    with database.uow() as uow:
        uow.incidents.get(flagged).domestic = True  # an assault flagged domestic counts too
        _dash(
            uow,
            assessed,
            "standard",
            uow.staff.by_username(TEST_ADMIN).id,
            age=timedelta(minutes=5),
        )
        uow.commit()
    with database.uow() as uow:
        rows = uow.safeguarding.da_incidents_without_dash()
    assert [incident_id for incident_id, _ in rows] == [old, flagged, new]
    assert rows[0][1] == SEED_ANCHOR - timedelta(days=40)


def _without_dash_as_first_written(session):
    """The query as it was before issue 20 (status != 'closed', the type looked up per
    row): the rewrite must find exactly these rows."""
    from sqlalchemy import exists, or_, select

    from controlroom.data.models import Incident, IncidentType

    domestic = or_(
        Incident.domestic.is_(True),
        exists().where(
            IncidentType.code == Incident.opening_type_code, IncidentType.domestic.is_(True)
        ),
    )
    has_dash = exists().where(DashAssessment.incident_id == Incident.id)
    return [
        (incident_id, opened_at)
        for incident_id, opened_at in session.execute(
            select(Incident.id, Incident.opened_at)
            .where(Incident.status != "closed", domestic, ~has_dash)
            .order_by(Incident.opened_at, Incident.id)
        )
    ]


def test_da_without_dash_finds_what_the_first_query_found_in_every_status(database):
    with database.uow() as uow:
        assert uow.safeguarding.da_without_dash_summary() == (0, None)
    made = {}
    for status in ("open", "dispatched", "at_scene", "closed"):
        for type_code in ("DOM", "BURGR", "ASLT"):
            for days in (1, 9):
                made[status, type_code, days] = _incident_id(
                    database,
                    factories.add_incident(
                        database,
                        status=status,
                        type_code=type_code,
                        age=timedelta(days=days, minutes=len(made)),
                    ),
                )
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN).id
        for status in ("open", "dispatched", "at_scene", "closed"):
            uow.incidents.get(made[status, "ASLT", 9]).domestic = True  # flagged domestic
            uow.incidents.get(made[status, "BURGR", 1]).domestic = True
            _dash(uow, made[status, "DOM", 1], "standard", staff, age=timedelta(minutes=5))
        uow.commit()
    with database.uow() as uow:
        expected = _without_dash_as_first_written(uow.session)
        rows = uow.safeguarding.da_incidents_without_dash()
        summary = uow.safeguarding.da_without_dash_summary()
    assert rows == expected
    # Open, dispatched and at scene alike: DOM 9 days, ASLT flagged, BURGR flagged.
    assert {incident_id for incident_id, _ in rows} == {
        made[status, type_code, days]
        for status in ("open", "dispatched", "at_scene")
        for type_code, days in (("DOM", 9), ("ASLT", 9), ("BURGR", 1))
    }
    assert summary == (len(expected), expected[0][1])
    assert expected[0][0] == made["at_scene", "ASLT", 9]  # made last of the 9-day-old: oldest


def test_referral_counts_count_each_step_in_the_window_it_happened(database):
    incident = _incident_id(database, factories.add_incident(database))
    day = timedelta(days=1)
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN).id

        def referral(created, sent=None, acknowledged=None):
            uow.session.add(
                Referral(
                    incident_id=incident,
                    kind="marac",
                    status="acknowledged" if acknowledged else "sent" if sent else "created",
                    triggers="high_risk",
                    created_at=created,
                    created_by_id=staff,
                    send_due_at=created + day,
                    sent_at=sent,
                    sent_by_id=staff if sent else None,
                    acknowledge_due_at=sent + 3 * day if sent else None,
                    acknowledged_at=acknowledged,
                    acknowledged_by_id=staff if acknowledged else None,
                )
            )

        referral(SEED_ANCHOR - 10 * day, SEED_ANCHOR - 9 * day, SEED_ANCHOR - 2 * day)
        referral(SEED_ANCHOR - 3 * day, SEED_ANCHOR - 2 * day)
        referral(SEED_ANCHOR - 1 * day)
        referral(SEED_ANCHOR)  # the window's end is exclusive
        uow.commit()
    with database.uow() as uow:
        counts = uow.safeguarding.referral_counts(SEED_ANCHOR - 7 * day, SEED_ANCHOR)
        assert counts == {"created": 2, "sent": 1, "acknowledged": 1}
        assert uow.safeguarding.referral_counts(SEED_ANCHOR - 30 * day, SEED_ANCHOR - 20 * day) == {
            "created": 0,
            "sent": 0,
            "acknowledged": 0,
        }


def test_overrides_between_name_the_incident_rules_supervisor_and_reason(database):
    reference = factories.add_incident(database)
    incident = _incident_id(database, reference)
    with database.uow() as uow:
        staff = uow.staff.by_username(TEST_ADMIN)
        for hours, rules in ((1, "rso_linked,da_dash"), (30, "child_domestic")):
            uow.session.add(
                SafeguardingOverride(
                    incident_id=incident,
                    rules=rules,
                    action="grade_no_deployment",
                    new_grade="G4",
                    reason=f"Override {hours}h ago, [b]not markup[/b]",
                    supervisor_id=staff.id,
                    overridden_at=SEED_ANCHOR - timedelta(hours=hours),
                )
            )
        uow.commit()
        name = staff.display_name
    with database.uow() as uow:
        rows = uow.safeguarding.overrides_between(SEED_ANCHOR - timedelta(hours=24), SEED_ANCHOR)
    assert len(rows) == 1
    row = rows[0]
    assert (row.incident_reference, row.rules, row.supervisor, row.action) == (
        reference,
        ("rso_linked", "da_dash"),
        name,
        "grade_no_deployment",
    )
    assert row.rule.startswith("Registered sex offender linked")
    assert row.overridden_at == SEED_ANCHOR - timedelta(hours=1)
    assert row.reason == "Override 1h ago, [b]not markup[/b]"


def test_the_synthetic_force_backlog_is_all_without_dash_and_its_rso_call_is_guarded(
    seeded_database,
):
    """The seeded force: every open DA incident is without a DASH, and the planted
    call at the home of a registered sex offender is covered by the RSO rule."""
    from sqlalchemy import select

    from controlroom.data.cold_models import IncidentPerson, WarningMarker
    from controlroom.data.models import Incident
    from controlroom.domain.roles import Role
    from controlroom.services import safeguarding

    database = seeded_database
    actor = factories.staff_actor(database, Role.SUPERVISOR)
    with database.uow() as uow:
        backlog = uow.safeguarding.da_incidents_without_dash()
        open_domestic = uow.session.scalars(
            select(Incident.id).where(Incident.status != "closed", Incident.domestic.is_(True))
        ).all()
        rso_calls = uow.session.scalars(
            select(Incident.id)
            .distinct()
            .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
            .join(WarningMarker, WarningMarker.person_id == IncidentPerson.person_id)
            .where(
                Incident.status != "closed",
                Incident.domestic.is_(True),
                WarningMarker.marker_code == "RSO",
                WarningMarker.valid_to.is_(None),
            )
        ).all()
    assert len(backlog) >= 17  # the planted backlog, at least
    assert {incident_id for incident_id, _ in backlog} >= set(open_domestic)
    assert [opened for _, opened in backlog] == sorted(opened for _, opened in backlog)
    assert rso_calls
    status = safeguarding.evaluate(database.uow(), actor, rso_calls[0], today=date.today())
    assert {"rso_linked", "da_dash"} <= {b.rule for b in status.breaches}
