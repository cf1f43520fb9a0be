"""Call grades. The traditional national four are the default; forces configure their own.

Grades are configuration, not code: `Grade` values come from settings, and the rest of
the system only ever refers to a grade by its code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Grade:
    code: str
    name: str
    # Attendance target; None where the grade is resolved without deployment.
    target: timedelta | None
    # Rural target where a force distinguishes it (G1: 15 min urban, 20 rural).
    rural_target: timedelta | None = None

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


DEFAULT_GRADES: tuple[Grade, ...] = (
    Grade("G1", "Emergency", timedelta(minutes=15), timedelta(minutes=20)),
    Grade("G2", "Priority", timedelta(minutes=60)),
    Grade("G3", "Scheduled", timedelta(hours=48)),
    Grade("G4", "Resolution without deployment", None),
)


def grade_codes(grades: tuple[Grade, ...] = DEFAULT_GRADES) -> tuple[str, ...]:
    return tuple(g.code for g in grades)


def parse_grade(text: str, grade_codes: Sequence[str]) -> str | None:
    """The grade code an operator meant by "G1", "g1" or "1"; None if it is not one."""
    typed = text.strip().upper()
    if typed in grade_codes:
        return typed
    if f"G{typed}" in grade_codes:
        return f"G{typed}"
    return None
