"""The synthetic force: a whole training database of people, places, incidents and
intelligence that never existed.

Demo and test data come only from here (DESIGN rule 4: real personal data never enters
the repository, a fixture or a screenshot). Every word list and text in `words/` is
invented or generic: no real person or address.

    seeding.py     `seed` and `needs_seeding`: the refusals, the audit record, the writer
    generator.py   what the rows are, stage by stage, and the numeric rules behind them
    wordlists.py   the words and texts below, read once, as tuples in file order
    words/*.txt    word lists, one entry a line: town and street parts, house and pub
                   names, shop and business kinds, public places, extra surnames, call
                   signs, caller relationships
    words/*.toml   texts by key: narratives, closing results and no-crime reasons,
                   regrade reasons, THRIVE text, marker and hazard notes, intelligence
                   templates and handling conditions, extra forenames by sex

What went to a data file and what stayed in Python: words and sentences someone might
reword are data; anything that decides how the force is shaped is a rule and stays in
generator.py: weights, shares, ages and bands, household sizes, hour weights, coordinate
ranges, postcode areas and letters, Ofcom's drama phone ranges, which incident types
reclassify to which, which marker codes an intelligence theme is about, and the planted
names the search tests look for. Single words and names are `.txt`; sentences, and any
list chosen by a key (a type code, a marker code, a group), are `.toml`. Short phrases
the code assembles around its own values ("Resource at scene.", "Update to ...") stay
where they are assembled.

Order in a data file is part of the data: the generator draws by position, so the same
seed gives the same rows only while the files keep their order.

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
