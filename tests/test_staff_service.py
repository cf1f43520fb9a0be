"""Staff service on a real database: sign-in refusals, enrolment, locking, and their audit rows."""

from __future__ import annotations

import pytest

from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import staff
from controlroom.services.staff import AccessRefused, StaffError
from tests.databases import TEST_ADMIN


def audit_rows(database):
    with database.uow() as uow:
        return [
            (e.actor, e.action, e.outcome, e.object_id) for e in reversed(uow.audit.latest(100))
        ]


def test_creator_of_a_new_database_is_enrolled_as_administrator(database):
    member = staff.sign_in(database.uow(), TEST_ADMIN, "local")
    assert member.role is Role.ADMINISTRATOR
    assert audit_rows(database)[-1] == (TEST_ADMIN, "session.start", "success", str(member.id))


def test_unknown_user_is_refused_with_the_command_that_enrols_them(database):
    with pytest.raises(AccessRefused) as refused:
        staff.sign_in(database.uow(), "nobody", "192.0.2.7")
    assert "controlroom staff add nobody" in str(refused.value)
    with database.uow() as uow:
        event = uow.audit.latest(1)[0]
        assert (event.actor, event.action, event.outcome, event.terminal) == (
            "nobody",
            "session.start",
            "refused",
            "192.0.2.7",
        )


def test_added_staff_can_sign_in_until_locked(database, admin):
    added = staff.add_staff(
        database.uow(),
        admin,
        username="jsmith",
        role=Role.CALL_HANDLER,
        display_name="J Smith",
        collar_number="4512",
        station="Central",
    )
    assert added.role is Role.CALL_HANDLER and added.station == "Central"
    assert staff.sign_in(database.uow(), "jsmith", "local").display_name == "J Smith"

    staff.set_locked(database.uow(), admin, "jsmith", True)
    with pytest.raises(AccessRefused, match="locked"):
        staff.sign_in(database.uow(), "jsmith", "local")

    staff.set_locked(database.uow(), admin, "jsmith", False)
    assert staff.sign_in(database.uow(), "jsmith", "local").locked is False
    actions = [row[1] for row in audit_rows(database)]
    assert actions == [
        "database.create",
        "staff.enrol",
        "staff.add",
        "session.start",
        "staff.lock",
        "session.start",
        "staff.unlock",
        "session.start",
    ]


def test_only_an_administrator_manages_staff_and_the_denial_is_audited(database, admin):
    added = staff.add_staff(
        database.uow(), admin, username="sup", role=Role.SUPERVISOR, display_name="A Supervisor"
    )
    supervisor = Actor(added.id, "sup", Role.SUPERVISOR, "local")
    with pytest.raises(AccessRefused, match="administrator"):
        staff.add_staff(
            database.uow(), supervisor, username="x", role=Role.ANALYST, display_name="X"
        )
    assert audit_rows(database)[-1] == ("sup", "staff.add", "denied", "x")
    assert [m.username for m in staff.list_staff(database.uow(), admin)] == ["sup", TEST_ADMIN]


@pytest.mark.parametrize(
    ("username", "name", "message"),
    [
        ("", "A", "username is required"),
        ("two words", "A", "without spaces"),
        ("ok", "   ", "name is required"),
        (TEST_ADMIN, "Again", "already enrolled"),
        ("ok", "Sgt\x00Null", "name contains control characters"),
        ("ok", "\x1b[2JWipe", "name contains control characters"),
        ("ok", "abc\u202edef", "name contains control characters"),
    ],
)
def test_bad_staff_input_is_named(database, admin, username, name, message):
    with pytest.raises(StaffError, match=message):
        staff.add_staff(
            database.uow(), admin, username=username, role=Role.ANALYST, display_name=name
        )


def test_an_administrator_cannot_lock_themselves_out(database, admin):
    with pytest.raises(StaffError, match="your own account"):
        staff.set_locked(database.uow(), admin, TEST_ADMIN, True)
