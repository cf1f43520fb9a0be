"""Who may do what: the permission table, role x action x record marking.

The table is the single statement of the access rules; the services enforce it
(`controlroom.services.access.require`), the screens only follow it. Each cell is one of

- ALLOWED: the role may do it;
- JUSTIFY: the role may do it after writing why (the justification is audited);
- DENIED:  the role may not do it, whatever it writes (the attempt is audited).

Record markings: a record is NORMAL, RESTRICTED (need-to-know; the flag on a person or an
intelligence report) or SEXUAL_OFFENCE (a sexual-offence complainant, who has lifelong
anonymity). Only the actions that read a record vary by marking; for the others every
marking gets the same answer.

The rules, as the audit issue states them: call handlers create incidents and search
persons but do not read restricted intelligence; intelligence staff submit and grade
intelligence; supervisors override, reassign, merge and sign off; analysts see statistics
and anonymised exports only; administrators manage staff and do not read records.
"""

from __future__ import annotations

from enum import StrEnum

from controlroom.domain.roles import Role


class Decision(StrEnum):
    ALLOWED = "allowed"
    JUSTIFY = "justify"
    DENIED = "denied"


class Marking(StrEnum):
    NORMAL = "normal"
    RESTRICTED = "restricted"
    SEXUAL_OFFENCE = "sexual_offence"

    @property
    def label(self) -> str:
        return {
            Marking.NORMAL: "",
            Marking.RESTRICTED: "restricted ",
            Marking.SEXUAL_OFFENCE: "sexual-offence complainant ",
        }[self]


class Action(StrEnum):
    """Everything an operator can ask of the system that the table rules on.

    The value doubles as the audit action of a denial."""

    INCIDENT_CREATE = "incident.create"
    INCIDENT_VIEW = "incident.view"
    INCIDENT_LIST = "incident.list"
    INCIDENT_UPDATE = "incident.update"
    INCIDENT_REGRADE = "incident.regrade"
    INCIDENT_CLOSE = "incident.close"
    BOARD_VIEW = "board.view"
    LOCATION_VIEW = "location.view"
    PERSON_SEARCH = "person.search"
    PERSON_VIEW = "person.view"
    PERSON_CREATE = "person.create"
    PERSON_MERGE = "person.merge"
    INTELLIGENCE_SEARCH = "intelligence.search"
    INTELLIGENCE_VIEW = "intelligence.view"
    INTELLIGENCE_SUBMIT = "intelligence.submit"
    INTELLIGENCE_GRADE = "intelligence.grade"
    OVERRIDE = "override"
    SIGNOFF = "signoff"
    QUEUE_VIEW = "queue.view"
    QUEUE_CLAIM = "queue.claim"
    QUEUE_REASSIGN = "queue.reassign"
    DASH_RECORD = "dash.record"
    REFERRAL_MANAGE = "referral.manage"
    COMMAND_VIEW = "command.view"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    CRIME_VIEW = "crime.view"
    CRIME_RECORD = "crime.record"
    CRIME_UPDATE = "crime.update"
    CRIME_DECIDE = "crime.decide"
    CRIME_AUDIT = "crime.audit"
    STATISTICS_VIEW = "statistics.view"
    EXPORT_ANONYMISED = "export.anonymised"
    EXPORT_RECORDS = "export.records"
    STAFF_MANAGE = "staff.manage"
    DATABASE_MAINTAIN = "database.maintain"
    RESOURCE_VIEW = "resource.view"
    RESOURCE_DISPATCH = "resource.dispatch"

    @property
    def wording(self) -> str:
        """What the action is, for "you may not <wording>" (a record marking is put
        before the noun by `denial_message`)."""
        return _WORDING[self]


_WORDING: dict[Action, str] = {
    Action.INCIDENT_CREATE: "create incidents",
    Action.INCIDENT_VIEW: "open {}incidents",
    Action.INCIDENT_LIST: "list incidents",
    Action.INCIDENT_UPDATE: "add to or update incidents",
    Action.INCIDENT_REGRADE: "change the grade of incidents",
    Action.INCIDENT_CLOSE: "close incidents",
    Action.BOARD_VIEW: "see the incident board",
    Action.LOCATION_VIEW: "see the history of a location",
    Action.PERSON_SEARCH: "search for persons",
    Action.PERSON_VIEW: "open {}person records",
    Action.PERSON_CREATE: "create person records",
    Action.PERSON_MERGE: "merge person records or undo a merge",
    Action.INTELLIGENCE_SEARCH: "search intelligence",
    Action.INTELLIGENCE_VIEW: "read {}intelligence reports",
    Action.INTELLIGENCE_SUBMIT: "submit intelligence reports",
    Action.INTELLIGENCE_GRADE: "grade or supersede intelligence reports",
    Action.OVERRIDE: "override a safeguarding rule",
    Action.SIGNOFF: "sign off a closure",
    Action.QUEUE_VIEW: "see the triage queues",
    Action.QUEUE_CLAIM: "claim items in the triage queues",
    Action.QUEUE_REASSIGN: "reassign queue items",
    Action.DASH_RECORD: "record a DASH risk assessment",
    Action.REFERRAL_MANAGE: "create or update safeguarding referrals",
    Action.COMMAND_VIEW: "open the command view",
    Action.AUDIT_VIEW: "see who looked at a record",
    Action.AUDIT_EXPORT: "export the audit trail",
    Action.AUDIT_VERIFY: "verify the audit trail",
    Action.CRIME_VIEW: "see crime records and the crime-recording queue",
    Action.CRIME_RECORD: "record crimes",
    Action.CRIME_UPDATE: "reclassify a crime, ask for its cancellation or give its outcome",
    Action.CRIME_DECIDE: "cancel a crime or approve its outcome",
    Action.CRIME_AUDIT: "draw or check a crime data integrity audit sample",
    Action.STATISTICS_VIEW: "see statistics",
    Action.EXPORT_ANONYMISED: "export anonymised data",
    Action.EXPORT_RECORDS: "export identifiable records",
    Action.STAFF_MANAGE: "manage staff accounts",
    Action.DATABASE_MAINTAIN: "back up, restore or rehearse upgrades of the database",
    Action.RESOURCE_VIEW: "see the resource board",
    Action.RESOURCE_DISPATCH: "assign units or change their status",
}

# Column order of the table below.
ROLES: tuple[Role, ...] = (
    Role.CALL_HANDLER,
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.INTELLIGENCE,
    Role.ANALYST,
    Role.ADMINISTRATOR,
)

_CELL = {"A": Decision.ALLOWED, "J": Decision.JUSTIFY, "-": Decision.DENIED}

# One row per action, one cell per role in ROLES order. A cell is one letter (the same
# for every marking) or three letters joined by "/" for NORMAL / RESTRICTED /
# SEXUAL_OFFENCE. A = allowed, J = needs a justification, - = denied.
#
#                                call_h  disp   superv  intel  analyst admin
_TABLE: dict[Action, tuple[str, ...]] = {
    Action.INCIDENT_CREATE: ("A", "A", "A", "-", "-", "-"),
    Action.INCIDENT_VIEW: ("A", "A", "A", "A", "-", "-"),
    Action.INCIDENT_LIST: ("A", "A", "A", "A", "-", "-"),
    Action.INCIDENT_UPDATE: ("A", "A", "A", "-", "-", "-"),
    Action.INCIDENT_REGRADE: ("A", "A", "A", "-", "-", "-"),
    Action.INCIDENT_CLOSE: ("A", "A", "A", "-", "-", "-"),
    # Counts only, no record data: every signed-in role sees the board's numbers.
    Action.BOARD_VIEW: ("A", "A", "A", "A", "A", "A"),
    Action.LOCATION_VIEW: ("A", "A", "A", "A", "-", "-"),
    Action.PERSON_SEARCH: ("A", "A", "A", "A", "-", "-"),
    Action.PERSON_VIEW: ("A/J/-", "A/J/-", "A/J/J", "A/J/J", "-", "-"),
    Action.PERSON_CREATE: ("A", "A", "A", "A", "-", "-"),
    Action.PERSON_MERGE: ("-", "-", "A", "-", "-", "-"),
    Action.INTELLIGENCE_SEARCH: ("A", "A", "A", "A", "-", "-"),
    Action.INTELLIGENCE_VIEW: ("A/-/-", "A/J/-", "A/J/J", "A/J/J", "-", "-"),
    Action.INTELLIGENCE_SUBMIT: ("-", "-", "A", "A", "-", "-"),
    Action.INTELLIGENCE_GRADE: ("-", "-", "-", "A", "-", "-"),
    Action.OVERRIDE: ("-", "-", "A", "-", "-", "-"),
    Action.SIGNOFF: ("-", "-", "A", "-", "-", "-"),
    Action.QUEUE_VIEW: ("A", "A", "A", "-", "-", "-"),
    Action.QUEUE_CLAIM: ("A", "A", "A", "-", "-", "-"),
    Action.QUEUE_REASSIGN: ("-", "-", "A", "-", "-", "-"),
    Action.DASH_RECORD: ("A", "A", "A", "-", "-", "-"),
    Action.REFERRAL_MANAGE: ("A", "A", "A", "-", "-", "-"),
    Action.COMMAND_VIEW: ("-", "-", "A", "-", "-", "-"),
    Action.AUDIT_VIEW: ("-", "-", "A", "-", "-", "-"),
    # The data-protection officer is given a supervisor or an administrator account.
    Action.AUDIT_EXPORT: ("-", "-", "A", "-", "-", "A"),
    # Positions and hashes only, never content.
    Action.AUDIT_VERIFY: ("-", "-", "A", "-", "-", "A"),
    # NCRS: a crime is recorded at the first point of contact; reclassifying it and its
    # outcomes are the investigation's; cancelling it, and outcome 16 on domestic
    # abuse, are a supervisor's decision.
    Action.CRIME_VIEW: ("A", "A", "A", "A", "-", "-"),
    Action.CRIME_RECORD: ("A", "A", "A", "-", "-", "-"),
    Action.CRIME_UPDATE: ("-", "A", "A", "-", "-", "-"),
    Action.CRIME_DECIDE: ("-", "-", "A", "-", "-", "-"),
    Action.CRIME_AUDIT: ("-", "-", "A", "-", "-", "-"),
    Action.STATISTICS_VIEW: ("-", "-", "A", "-", "A", "-"),
    Action.EXPORT_ANONYMISED: ("-", "-", "A", "-", "A", "-"),
    # Identifiable records out of a production database; the justification it needs
    # there is the environment's rule (services.audit_trail.record_export_policy).
    Action.EXPORT_RECORDS: ("-", "-", "A", "A", "-", "-"),
    Action.STAFF_MANAGE: ("-", "-", "-", "-", "-", "A"),
    # Backups, restores and upgrade rehearsals (`controlroom db ...`): a backup holds
    # every record, so only those who run the system, who read no records on screen.
    Action.DATABASE_MAINTAIN: ("-", "-", "-", "-", "-", "A"),
    # Units, their crews and where they are: everyone who works incidents sees them.
    Action.RESOURCE_VIEW: ("A", "A", "A", "A", "-", "-"),
    # Assigning units and changing their status (the command line, the board's keys).
    Action.RESOURCE_DISPATCH: ("-", "A", "A", "-", "-", "-"),
}

# The markings a record read can carry, per action (the others are not record reads).
MARKED_ACTIONS: dict[Action, tuple[Marking, ...]] = {
    Action.PERSON_VIEW: (Marking.NORMAL, Marking.RESTRICTED, Marking.SEXUAL_OFFENCE),
    Action.INTELLIGENCE_VIEW: (Marking.NORMAL, Marking.RESTRICTED),
}

# Incident types whose victims are sexual-offence complainants (the reference table's
# codes; a force adding its own sexual-offence types adds them here).
SEXUAL_OFFENCE_TYPE_CODES = frozenset({"SEXO"})


def _parse(cell: str) -> dict[Marking, Decision]:
    letters = cell.split("/")
    if len(letters) == 1:
        letters = letters * len(Marking)
    if len(letters) != len(Marking):
        raise ValueError(f"bad permission cell {cell!r}")
    return {marking: _CELL[letter] for marking, letter in zip(Marking, letters, strict=True)}


PERMISSIONS: dict[tuple[Action, Role], dict[Marking, Decision]] = {
    (action, role): _parse(cell)
    for action, row in _TABLE.items()
    for role, cell in zip(ROLES, row, strict=True)
}


def decide(role: Role | str | None, action: Action, marking: Marking = Marking.NORMAL) -> Decision:
    """The table's answer. An unknown or missing role, or an action missing from the
    table, is denied: the table fails closed."""
    try:
        role = Role(role) if role is not None else None
    except ValueError:
        return Decision.DENIED
    if role is None:
        return Decision.DENIED
    cells = PERMISSIONS.get((Action(action), role))
    if cells is None:
        return Decision.DENIED
    return cells[Marking(marking)]


def may(role: Role | str | None, action: Action, marking: Marking = Marking.NORMAL) -> bool:
    """True when the role may do it, with or without a justification (for hiding a key
    the role could never use; the service still decides)."""
    return decide(role, action, marking) is not Decision.DENIED


def roles_allowed(action: Action, marking: Marking = Marking.NORMAL) -> tuple[Role, ...]:
    return tuple(role for role in ROLES if may(role, action, marking))


def denial_message(
    role: Role | str | None, action: Action, marking: Marking = Marking.NORMAL
) -> str:
    """Plain words for the operator: what they may not do, and who can."""
    action = Action(action)
    wording = action.wording
    wording = wording.format(Marking(marking).label) if "{}" in wording else wording
    try:
        who = _PERSON[Role(role)] if role is not None else "an operator without a role"
    except ValueError:
        who = "an operator without a known role"
    whom = ask_whom(action, marking)
    ask = f" Ask {whom}." if whom else ""
    return f"As {who} you may not {wording}.{ask}"


def ask_whom(action: Action, marking: Marking = Marking.NORMAL) -> str:
    """Who may do it, in words ("a supervisor or a member of intelligence staff"), or ""
    when nobody may."""
    others = [_PERSON[r] for r in roles_allowed(Action(action), Marking(marking))]
    if len(others) > 1:
        others = [", ".join(others[:-1]), others[-1]]
    return " or ".join(others)


_PERSON: dict[Role, str] = {
    Role.CALL_HANDLER: "a call handler",
    Role.DISPATCHER: "a dispatcher",
    Role.SUPERVISOR: "a supervisor",
    Role.INTELLIGENCE: "a member of intelligence staff",
    Role.ANALYST: "an analyst",
    Role.ADMINISTRATOR: "an administrator",
}


def table_rows() -> list[tuple[str, ...]]:
    """The table as text rows (action, then one cell per role), for the README and the CLI."""
    rows = []
    for action in _TABLE:
        cells = []
        for role in ROLES:
            decisions = PERMISSIONS[(action, role)]
            if action in MARKED_ACTIONS and len(set(decisions.values())) > 1:
                cells.append(" / ".join(decisions[m].value for m in MARKED_ACTIONS[action]))
            else:
                cells.append(decisions[Marking.NORMAL].value)
        rows.append((action.value, *cells))
    return rows
