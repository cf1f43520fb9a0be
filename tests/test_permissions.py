"""The permission table itself (controlroom.domain.permissions): complete, fail-closed,
and saying what the issue says each role may do."""

from __future__ import annotations

import itertools

import pytest

from controlroom.domain.permissions import (
    MARKED_ACTIONS,
    PERMISSIONS,
    ROLES,
    Action,
    Decision,
    Marking,
    decide,
    denial_message,
    table_rows,
)
from controlroom.domain.roles import Role

A, J, D = Decision.ALLOWED, Decision.JUSTIFY, Decision.DENIED


def test_every_role_and_action_has_a_cell_for_every_marking():
    for action, role, marking in itertools.product(Action, Role, Marking):
        assert PERMISSIONS[(action, role)][marking] in Decision
    assert set(ROLES) == set(Role)


@pytest.mark.parametrize("role", [None, "", "superintendent", "ADMINISTRATOR "])
def test_an_unknown_or_missing_role_is_denied_everything(role):
    for action, marking in itertools.product(Action, Marking):
        assert decide(role, action, marking) is D


def test_unmarked_actions_answer_the_same_for_every_marking():
    for action, role in itertools.product(Action, Role):
        if action not in MARKED_ACTIONS:
            assert len(set(PERMISSIONS[(action, role)].values())) == 1, (action, role)


def test_call_handlers_create_incidents_and_search_persons_but_not_restricted_intelligence():
    role = Role.CALL_HANDLER
    assert decide(role, Action.INCIDENT_CREATE) is A
    assert decide(role, Action.PERSON_SEARCH) is A
    assert decide(role, Action.INTELLIGENCE_VIEW, Marking.NORMAL) is A
    assert decide(role, Action.INTELLIGENCE_VIEW, Marking.RESTRICTED) is D
    assert decide(role, Action.PERSON_VIEW, Marking.SEXUAL_OFFENCE) is D
    for action in (
        Action.OVERRIDE,
        Action.PERSON_MERGE,
        Action.STAFF_MANAGE,
        Action.SIGNOFF,
        Action.INTELLIGENCE_SUBMIT,
        Action.INTELLIGENCE_GRADE,
    ):
        assert decide(role, action) is D, action


def test_intelligence_staff_submit_and_grade_intelligence():
    assert decide(Role.INTELLIGENCE, Action.INTELLIGENCE_SUBMIT) is A
    assert decide(Role.INTELLIGENCE, Action.INTELLIGENCE_GRADE) is A
    assert decide(Role.INTELLIGENCE, Action.INTELLIGENCE_VIEW, Marking.RESTRICTED) is J


def test_supervisors_override_reassign_merge_and_sign_off():
    for action in (Action.OVERRIDE, Action.QUEUE_REASSIGN, Action.PERSON_MERGE, Action.SIGNOFF):
        assert decide(Role.SUPERVISOR, action) is A
        others = [r for r in Role if r is not Role.SUPERVISOR]
        assert all(decide(r, action) is D for r in others), action


def test_analysts_see_statistics_and_anonymised_exports_only():
    allowed = {a for a in Action if decide(Role.ANALYST, a) is not D}
    assert allowed == {Action.STATISTICS_VIEW, Action.EXPORT_ANONYMISED, Action.BOARD_VIEW}


def test_administrators_manage_staff_and_read_no_records():
    allowed = {a for a in Action if decide(Role.ADMINISTRATOR, a) is not D}
    assert allowed == {
        Action.STAFF_MANAGE,
        Action.DATABASE_MAINTAIN,
        Action.BOARD_VIEW,
        Action.AUDIT_EXPORT,
        Action.AUDIT_VERIFY,
    }  # audit trail: positions, or for the DPO
    assert decide(Role.SUPERVISOR, Action.STAFF_MANAGE) is D


def test_restricted_records_need_a_justification_from_those_who_may_read_them():
    for role in (Role.SUPERVISOR, Role.INTELLIGENCE):
        for action in (Action.PERSON_VIEW, Action.INTELLIGENCE_VIEW):
            assert decide(role, action, Marking.RESTRICTED) is J


def test_the_denial_message_says_what_is_refused_and_whom_to_ask():
    text = denial_message(Role.CALL_HANDLER, Action.INTELLIGENCE_VIEW, Marking.RESTRICTED)
    assert text.startswith("As a call handler you may not read restricted intelligence reports.")
    assert "supervisor" in text
    assert denial_message(Role.ADMINISTRATOR, Action.PERSON_VIEW).startswith(
        "As an administrator you may not open person records."
    )
    assert "[" not in denial_message(None, Action.STAFF_MANAGE)


def test_table_rows_cover_every_action_once():
    rows = table_rows()
    assert [r[0] for r in rows] == [a.value for a in Action]
    assert all(len(r) == 1 + len(ROLES) for r in rows)
