"""The synthetic force: a whole training database of people, places, incidents and
intelligence that never existed.

Demo and test data come only from here (DESIGN rule 4: real personal data never enters
the repository, a fixture or a screenshot).

    seeding.py     `seed` and `needs_seeding`: the refusals, the audit record, the writer
    generator.py   what the rows are, stage by stage, and the numeric rules behind them

Callers import the names below from `controlroom.services.synthetic`, never from the
modules, which are free to move things between them.
"""

from __future__ import annotations

from controlroom.services.synthetic.generator import DEMO_SUPERVISOR, SIZES, ForceSize
from controlroom.services.synthetic.seeding import (
    DEFAULT_SEED,
    GENERATOR_ACTOR,
    Progress,
    SeedRefused,
    SeedSummary,
    needs_seeding,
    seed,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMO_SUPERVISOR",
    "GENERATOR_ACTOR",
    "SIZES",
    "ForceSize",
    "Progress",
    "SeedRefused",
    "SeedSummary",
    "needs_seeding",
    "seed",
]
