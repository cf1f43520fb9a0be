"""Intelligence grading, 3x5x2: source, intelligence and handling codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceGrade(StrEnum):
    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"


class IntelligenceGrade(StrEnum):
    KNOWN_DIRECTLY = "A"
    KNOWN_INDIRECTLY_CORROBORATED = "B"
    KNOWN_INDIRECTLY = "C"
    NOT_KNOWN = "D"
    SUSPECTED_FALSE = "E"


class HandlingCode(StrEnum):
    PERMITTED = "P"  # lawful sharing permitted
    CONDITIONS = "C"  # lawful sharing with conditions: conditions text required


@dataclass(frozen=True, slots=True)
class Grading:
    source: SourceGrade
    intelligence: IntelligenceGrade
    handling: HandlingCode
    conditions: str | None = None

    @property
    def code(self) -> str:
        return f"{self.source.value}{self.intelligence.value}{self.handling.value}"


def grading(
    source: str, intelligence: str, handling: str, conditions: str | None = None
) -> Grading:
    """Validate a 3x5x2 grading; raises ValueError naming the field that is wrong."""
    try:
        s = SourceGrade(str(source).strip())
    except ValueError:
        raise ValueError("source grade must be 1, 2 or 3") from None
    try:
        i = IntelligenceGrade(str(intelligence).strip().upper())
    except ValueError:
        raise ValueError("intelligence grade must be one of A, B, C, D, E") from None
    try:
        h = HandlingCode(str(handling).strip().upper())
    except ValueError:
        raise ValueError("handling code must be P or C") from None
    text = (conditions or "").strip() or None
    if h is HandlingCode.CONDITIONS and text is None:
        raise ValueError("handling code C needs the conditions written out")
    if h is HandlingCode.PERMITTED and text is not None:
        raise ValueError("conditions only apply to handling code C")
    return Grading(s, i, h, text)
