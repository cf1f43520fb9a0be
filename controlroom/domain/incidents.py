"""Incident vocabulary: statuses, the roles a person plays in an incident, log entry kinds,
and the National Standard for Incident Recording headings."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    OPEN = "open"              # recorded, awaiting a decision or a resource
    DISPATCHED = "dispatched"  # a resource is assigned or travelling
    AT_SCENE = "at_scene"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


OPEN_STATUSES = (IncidentStatus.OPEN, IncidentStatus.DISPATCHED, IncidentStatus.AT_SCENE)


class PersonRole(StrEnum):
    CALLER = "caller"
    VICTIM = "victim"
    SUSPECT = "suspect"
    WITNESS = "witness"
    SUBJECT = "subject"


class LogKind(StrEnum):
    NOTE = "note"
    GRADE_CHANGE = "grade_change"
    STATUS_CHANGE = "status_change"
    LINK = "link"
    MERGED_CALL = "merged_call"
    CORRECTION = "correction"
    CLOSURE = "closure"


class NsirHeading(StrEnum):
    PUBLIC_SAFETY_WELFARE = "Public Safety & Welfare"
    CRIME = "Crime"
    ANTI_SOCIAL_BEHAVIOUR = "Anti-Social Behaviour"
    TRANSPORT = "Transport"
    ADMINISTRATION = "Administration"


# THRIVE: the six parts of the structured risk assessment on each incident.
THRIVE_PARTS = ("threat", "harm", "risk", "investigation", "vulnerability", "engagement")
