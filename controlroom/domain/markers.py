"""Warning markers in words, the same on every screen and in every export.

A severity-1 marker (a registered sex offender, a firearms marker) is written with a
leading "!" so it reads as urgent in 16 colours or none.
"""

from __future__ import annotations

from collections.abc import Iterable

NO_MARKERS = "no markers"


def marker_phrase(label: str, severity: int) -> str:
    """ "!REGISTERED SEX OFFENDER" for severity 1, the label as it is otherwise."""
    return f"!{label}" if severity == 1 else label


def markers_phrase(markers: Iterable[tuple[str, int]]) -> str:
    """Every marker as `marker_phrase` writes it, comma-separated; "" when there are none."""
    return ", ".join(marker_phrase(label, severity) for label, severity in markers)
