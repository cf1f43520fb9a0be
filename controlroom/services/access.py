"""Enforcing the permission table (controlroom.domain.permissions) in the services.

Every service that reads or changes a record calls `require` inside its unit of work,
before it reads or changes anything. A denial is audited (outcome `denied`) and that
audit row is committed on its own even though the operation does not happen; then
`PermissionDenied` carries a plain sentence for the operator: what they may not do and
whom to ask.

`require` returns the table's decision, so a service can tell ALLOWED from JUSTIFY: on
JUSTIFY the service asks for (and audits) a justification before it shows the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn

from controlroom.domain.identity import Actor
from controlroom.domain.permissions import (
    SEXUAL_OFFENCE_TYPE_CODES,
    Action,
    Decision,
    Marking,
    decide,
    denial_message,
)
from controlroom.services import audit
from controlroom.services.audit import Outcome

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork


class PermissionDenied(PermissionError):
    """The operator's role may not do this; the message says what, in plain words."""

    def __init__(self, message: str, *, action: Action, marking: Marking) -> None:
        super().__init__(message)
        self.action = action
        self.marking = marking


def require(  # a denial raises: the decision returned is ALLOWED or JUSTIFY
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    object_type: str,
    object_id: object | None = None,
    *,
    marking: Marking = Marking.NORMAL,
    audit_action: str | None = None,
) -> Decision:
    """The table's decision for `actor` doing `action` on a record with `marking`.

    Call inside `with uow:` before changing anything: a denial rolls back whatever the
    unit of work holds, commits one `denied` audit event (named `audit_action`, or the
    action itself) and raises `PermissionDenied`.
    """
    action, marking = Action(action), Marking(marking)
    decision = decide(actor.role, action, marking)
    if decision is not Decision.DENIED:
        return decision
    role = actor.role.value if actor.role is not None else "none"
    refuse(
        uow,
        actor,
        action,
        object_type,
        object_id,
        marking=marking,
        audit_action=audit_action,
        detail=f"permission table: {role} may not {action.value}"
        + (f" ({marking.value})" if marking is not Marking.NORMAL else ""),
        message=denial_message(actor.role, action, marking),
    )


def check(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    object_type: str,
    object_id: object | None = None,
    *,
    audit_action: str | None = None,
) -> str | None:
    """`require` in a unit of work of its own, for a caller that decides before it asks
    anything else (a screen hiding a key, a command before it reads the keyring): None
    when allowed (nothing recorded), else the denial's sentence, its audit event
    committed first."""
    with uow:
        try:
            require(uow, actor, action, object_type, object_id, audit_action=audit_action)
        except PermissionDenied as denied:
            return str(denied)
    return None


def refuse(
    uow: UnitOfWork,
    actor: Actor,
    action: Action,
    object_type: str,
    object_id: object | None,
    *,
    marking: Marking = Marking.NORMAL,
    audit_action: str | None = None,
    detail: str,
    message: str,
    error: type[PermissionDenied] | None = None,
) -> NoReturn:
    """Roll back what the unit of work holds, commit one `denied` audit event on its own,
    and raise `PermissionDenied(message)` (or the service's own subclass, `error`)."""
    action = Action(action)
    uow.rollback()
    audit.record(
        uow,
        actor,
        audit_action or action.value,
        object_type,
        object_id,
        outcome=Outcome.DENIED,
        detail=detail,
    )
    uow.commit()
    raise (error or PermissionDenied)(message, action=action, marking=Marking(marking))


def person_marking(uow: UnitOfWork, person_ids: Iterable[int], *, restricted: bool) -> Marking:
    """The marking of a person record (with the records merged into it): a victim of
    an incident opened or closed as a sexual offence is a sexual-offence complainant
    (lifelong anonymity), whatever else the record says; otherwise RESTRICTED when the
    record (or one merged into it) is flagged, NORMAL when not."""
    ids = list(person_ids)
    complainant = uow.persons.any_victim_of(ids, SEXUAL_OFFENCE_TYPE_CODES)
    if complainant:
        return Marking.SEXUAL_OFFENCE
    return Marking.RESTRICTED if restricted else Marking.NORMAL


def report_marking(restricted: bool) -> Marking:
    return Marking.RESTRICTED if restricted else Marking.NORMAL


def allowed(actor: Actor, action: Action, marking: Marking = Marking.NORMAL) -> bool:
    """For screens deciding what to offer; enforcement stays with `require`."""
    return decide(actor.role, action, marking) is not Decision.DENIED
