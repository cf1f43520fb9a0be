"""Snapshot tests of the main screens at 80x24, on the seeded synthetic force.

The seed, the seeding anchor and the app's clock are all fixed, so a snapshot changes
only when the screen does. After a deliberate change: pytest --snapshot-update.
"""

from __future__ import annotations

import pytest

from tests.apps import build_app, settle

SIZE = (80, 24)


@pytest.fixture
def demo_app(seeded_database, tmp_path):
    return build_app(seeded_database, tmp_path, username="demo.supervisor")


def test_home_board(snap_compare, demo_app):
    assert snap_compare(demo_app, terminal_size=SIZE, run_before=settle)


def test_help_over_the_home_board(snap_compare, demo_app):
    async def open_help(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=open_help)


def test_home_board_on_a_16_colour_linux_console(snap_compare, seeded_database, tmp_path):
    app = build_app(seeded_database, tmp_path, username="demo.supervisor", term="linux")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


@pytest.fixture
def immediate_lookups(monkeypatch):
    from controlroom.screens.incident.entry import IncidentEntry

    monkeypatch.setattr(IncidentEntry, "lookup_delay", 0.0)


def test_new_incident_form(snap_compare, demo_app, immediate_lookups):
    async def open_form(pilot):
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=SIZE, run_before=open_form)


def _offender_home(database):
    """The seeded home of a registered sex offender who is also a DA perpetrator."""
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    from controlroom.data.cold_models import PersonAddress, WarningMarker
    from controlroom.data.models import Location

    rso, da = aliased(WarningMarker), aliased(WarningMarker)
    with database.uow() as uow:
        return uow.session.execute(
            select(Location.id, Location.postcode)
            .join(PersonAddress, PersonAddress.location_id == Location.id)
            .join(rso, (rso.person_id == PersonAddress.person_id) & (rso.marker_code == "RSO"))
            .join(da, (da.person_id == PersonAddress.person_id) & (da.marker_code == "DAPERP"))
            .where(PersonAddress.valid_to.is_(None))
            .order_by(Location.id)
        ).first()


def test_new_incident_form_with_the_warnings_of_an_offenders_home(
    snap_compare, seeded_database, tmp_path, immediate_lookups
):
    from controlroom.services import locations

    location_id, postcode = _offender_home(seeded_database)
    matches = locations.match_locations(seeded_database.uow(), postcode)
    position = [m.id for m in matches].index(location_id)
    app = build_app(seeded_database, tmp_path, username="demo.supervisor")

    async def pick_the_address(pilot):
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("alt+l", *postcode)
        await settle(pilot)
        await pilot.press(*["down"] * position, "enter")
        await settle(pilot)
        await pilot.press(*"dom", "tab")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=pick_the_address)
