"""Pilot tests of the DASH screen by keys at 80x24: one key per answer moving on, the score
and level live, raise-only judgement with its reason at the field, save, and the
referrals it raises shown and marked sent from the incident view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from controlroom.data.cold_models import DashAssessment, Referral
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.screens.incident.dash import DashScreen
from controlroom.screens.incident.view import IncidentView
from controlroom.services import incidents
from tests.apps import build_app, screen_text, settle
from tests.databases import SEED_ANCHOR

SIZE = (80, 24)
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)


def domestic_incident(database, actor, *, child_present: bool = False, key: str = "dash-1"):
    return incidents.save_new_incident(
        database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key=key,
            type_code="DOM",
            location_text="7 Test Row, Testtown",
            grade="G2",
            thrive_skipped=True,
            domestic=True,
            child_present=child_present,
            narrative="Neighbour reports shouting and a child crying.",
        ),
        SEED_ANCHOR - timedelta(minutes=10),
        GRADE_CODES,
    )


def stored(database, incident_id: int):
    with database.uow() as uow:
        assessments = [
            (a.score, a.level, a.judgement_level, a.judgement_reason)
            for a in uow.session.scalars(
                select(DashAssessment)
                .where(DashAssessment.incident_id == incident_id)
                .order_by(DashAssessment.id)
            )
        ]
        referrals = [
            (r.kind, r.status)
            for r in uow.session.scalars(
                select(Referral).where(Referral.incident_id == incident_id).order_by(Referral.id)
            )
        ]
        return assessments, referrals


async def open_dash(pilot, reference: str) -> DashScreen:
    await settle(pilot)
    pilot.app.open_incident(reference)
    await settle(pilot)
    assert isinstance(pilot.app.screen, IncidentView)
    await pilot.press("d")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DashScreen)
    return pilot.app.screen


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_dash_by_keys_scores_live_saves_and_raises_referrals(database, tmp_path, supervisor):
    saved = domestic_incident(database, supervisor, child_present=True)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_dash(pilot, saved.reference)
        assert "No DASH yet" in screen_text(app)
        assert "▶  1  Injury in this incident" in screen_text(app)

        await pilot.press("ctrl+s")  # nothing answered: refused, says where to start
        await settle(pilot)
        assert "Question 1 is not answered (27 left)" in shown(screen, "#dash-error")

        await pilot.press(*"y" * 13)
        assert screen.cursor == 14
        assert "Score 13 of 27 yes · MEDIUM ▲▲" in shown(screen, "#dash-score")
        await pilot.press("y")
        assert "Score 14 of 27 yes · HIGH ▲▲▲ · answered 14 of 27" in shown(screen, "#dash-score")
        await pilot.press("up")  # move back without answering, then change an answer
        await pilot.press("n")
        assert "Score 13 of 27" in shown(screen, "#dash-score") and screen.cursor == 15
        await pilot.press("y", *"n" * 11, "k")  # 15 yes ... 26 no, 27 not known
        assert screen.cursor == 27
        assert "Score 14 of 27 yes · HIGH ▲▲▲ · answered 27 of 27" in shown(screen, "#dash-score")
        assert "27  Other serious concern" in screen_text(app)
        assert "not known" in screen_text(app)

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        text = screen_text(app)
        assert "DASH saved: HIGH, score 14 of 27." in text
        assert "Referral created: MARAC, Children's services" in text
        assert stored(database, saved.id) == (
            [(14, "high", None, None)],
            [("marac", "created"), ("childrens_services", "created")],
        )

        await pilot.press("m")  # the first referral waiting to be sent
        await settle(pilot)
        assert "MARAC referral marked sent." in screen_text(app)
        assert stored(database, saved.id)[1] == [
            ("marac", "sent"),
            ("childrens_services", "created"),
        ]
        await pilot.press("k")
        await settle(pilot)
        assert "MARAC referral marked acknowledged." in screen_text(app)
        await pilot.press("k")
        await settle(pilot)
        assert "No sent referral is waiting for acknowledgement." in screen_text(app)


async def test_judgement_raises_with_a_reason_at_its_field_and_never_lowers(
    database, tmp_path, supervisor
):
    saved = domestic_incident(database, supervisor)
    app = build_app(database, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_dash(pilot, saved.reference)
        await pilot.press(*"n" * 27)
        assert "Score 0 of 27 yes · STANDARD ▲ · answered 27" in shown(screen, "#dash-score")
        await pilot.press("j")
        assert "raised to MEDIUM ▲▲" in shown(screen, "#dash-judgement")
        assert app.focused.id == "judgement-reason"
        await pilot.press("escape")  # Esc from the field asks before dropping the answers
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen
        screen.query_one("#dash-questions").focus()
        await pilot.press("j")  # next: HIGH
        assert "raised to HIGH ▲▲▲" in shown(screen, "#dash-judgement")
        await pilot.press("ctrl+s")  # no reason: refused at the field
        await settle(pilot)
        assert "raising the level needs a written reason" in shown(
            screen, "#judgement_reason-error"
        )
        assert app.focused.id == "judgement-reason"
        await pilot.press(*"yes, she fears for her life")  # y typed here is text, not an answer
        assert screen.query_one("#judgement-reason").value == "yes, she fears for her life"
        assert "Score 0 of 27" in shown(screen, "#dash-score")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentView)
        assert "DASH saved: HIGH, score 0 of 27. Referral created: MARAC" in screen_text(app)
        assert stored(database, saved.id)[0] == [(0, "high", "high", "yes, she fears for her life")]

        # A re-assessment starts from the answers in force; answers reaching the raised
        # level drop the raise (judgement never lowers, and cannot exceed HIGH).
        screen = await open_dash(pilot, saved.reference)
        assert "Starting from the DASH of 26/11 09:00 by test.supervisor: HIGH, score 0" in (
            screen_text(app)
        )
        assert "answered 27 of 27" in shown(screen, "#dash-score")
        await pilot.press("j")
        assert "raised to MEDIUM ▲▲" in shown(screen, "#dash-judgement")
        screen.query_one("#dash-questions").focus()
        await pilot.press("home", *"y" * 10)
        assert "Judgement dropped: the answers now give MEDIUM" in shown(screen, "#dash-judgement")
        assert not screen.query_one("#judgement-row").display
