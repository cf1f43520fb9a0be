"""Snapshot tests of the incident view at 80x24, on the seeded synthetic force.

The incident is saved at the fixed seeding anchor (the app's clock), at the first seeded
address with a hazard, with the first seeded person who carries a marker, so every run
draws the same screen. After a deliberate change: pytest --snapshot-update.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import WarningMarker
from controlroom.data.models import Location, LocationHazard
from controlroom.domain.grades import DEFAULT_GRADES
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import incidents
from controlroom.services.synthetic import DEMO_SUPERVISOR
from tests.apps import build_app, settle
from tests.databases import SEED_ANCHOR

SIZE = (80, 24)
GRADE_CODES = tuple(g.code for g in DEFAULT_GRADES)


@pytest.fixture
def reference(seeded_database) -> str:
    with seeded_database.uow() as uow:
        supervisor = uow.staff.by_username(DEMO_SUPERVISOR)
        actor = Actor(
            staff_id=supervisor.id,
            username=supervisor.username,
            role=Role(supervisor.role),
            terminal="local",
        )
        place = uow.session.scalar(
            select(Location)
            .join(LocationHazard, LocationHazard.location_id == Location.id)
            .order_by(Location.id)
            .limit(1)
        )
        # view_incident reads marker validity against the wall clock, not the app's:
        # a person whose markers never end draws the same screen on any date.
        person_id = uow.session.scalar(
            select(WarningMarker.person_id)
            .group_by(WarningMarker.person_id)
            .having(
                func.count(WarningMarker.valid_to) == 0,
                func.max(WarningMarker.valid_from) <= SEED_ANCHOR.date() - timedelta(days=1),
            )
            .order_by(WarningMarker.person_id)
            .limit(1)
        )
        location_text = ", ".join(p for p in (place.address, place.town, place.postcode) if p)
        place_id = place.id
    saved = incidents.save_new_incident(
        seeded_database.uow(),
        actor,
        incidents.NewIncident(
            idempotency_key="snapshot-incident-view",
            type_code="DOM",
            location_text=location_text,
            location_id=place_id,
            caller_name="Alex Example",
            caller_phone="07700 900456",
            caller_relationship="victim's sister",
            grade="G2",
            thrive={
                "threat": "ex-partner at the door",
                "harm": "pushed earlier",
                "risk": "high",
                "investigation": "witness next door",
                "vulnerability": "child in house",
                "engagement": "victim engaging",
            },
            thrive_skipped=False,
            narrative="Caller's sister says her ex-partner is at the door "
            "shouting. Earlier pushed her.",
            persons=((person_id, "suspect"),),
            domestic=True,
            child_present=True,
            weapons=False,
            possible_crime=True,
        ),
        SEED_ANCHOR,
        GRADE_CODES,
    )
    incidents.add_note(
        seeded_database.uow(), actor, saved.id, "Unit 4 assigned, ETA 8 min", SEED_ANCHOR
    )
    return saved.reference


@pytest.fixture
def demo_app(seeded_database, tmp_path):
    return build_app(seeded_database, tmp_path, username=DEMO_SUPERVISOR)


def opening(reference: str, *keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.open_incident(reference)
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False  # a blinking cursor would make the picture flicker
        await pilot.pause()

    return run_before


def test_incident_view(snap_compare, demo_app, reference):
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=opening(reference))


def test_incident_view_log(snap_compare, demo_app, reference):
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=opening(reference, "l"))


def test_regrade_refused_without_a_reason(snap_compare, demo_app, reference):
    assert snap_compare(
        demo_app, terminal_size=SIZE, run_before=opening(reference, "g", "1", "ctrl+s")
    )


def test_incident_view_on_a_16_colour_linux_console(
    snap_compare, seeded_database, tmp_path, reference
):
    app = build_app(seeded_database, tmp_path, username=DEMO_SUPERVISOR, term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=opening(reference))


def test_type_lookup_on_a_16_colour_linux_console(snap_compare, database, tmp_path):
    """The entry form's type lookup with TERM=linux: the highlighted suggestion black on
    white, bold and underlined, where the others are plain."""
    app = build_app(database, tmp_path, term="linux")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("alt+t", *"burg", "down")
        await settle(pilot)
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_incident_list(snap_compare, demo_app):
    """F7: open incidents from every station, oldest first."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=run_before)
