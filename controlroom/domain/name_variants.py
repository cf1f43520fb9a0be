"""Name-variant tables: the spellings of one name that callers and records actually use.

A caller says "Mohammed Smith"; the record says "Muhammad Smyth". Search that cannot
bridge the two misses the person (the failure this system exists to prevent), so the
families below are shared: the synthetic generator plants every spelling in its data,
and name search can expand a typed name to its family.

Each family lists its spellings, the usual one first. Forename families carry the sex
the name is mostly given to ("male", "female"), which the generator uses to give the
right people the right names. A spelling belongs to at most one forename family and at
most one surname family (a test keeps it so), which makes `variant_family` unambiguous.

Only names live here: no rule beyond "these spellings are the same name".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ForenameFamily:
    spellings: tuple[str, ...]
    sex: str  # "male" or "female"


FORENAME_FAMILIES: tuple[ForenameFamily, ...] = (
    ForenameFamily(("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"), "male"),
    ForenameFamily(("Ahmed", "Ahmad"), "male"),
    ForenameFamily(("John", "Jon"), "male"),
    ForenameFamily(("Stephen", "Steven"), "male"),
    ForenameFamily(("Philip", "Phillip"), "male"),
    ForenameFamily(("Matthew", "Mathew"), "male"),
    ForenameFamily(("Geoffrey", "Jeffrey", "Jeffery"), "male"),
    ForenameFamily(("Sean", "Seán", "Shaun", "Shawn"), "male"),
    ForenameFamily(("José", "Jose"), "male"),
    ForenameFamily(("Aaron", "Aron"), "male"),
    ForenameFamily(("Dominic", "Dominik"), "male"),
    ForenameFamily(("Catherine", "Katherine", "Kathryn", "Katharine", "Cathryn"), "female"),
    ForenameFamily(("Zoe", "Zoë", "Zoey"), "female"),
    ForenameFamily(("Chloe", "Chloë"), "female"),
    ForenameFamily(("Renee", "Renée"), "female"),
    ForenameFamily(("Sian", "Siân"), "female"),
    ForenameFamily(("Aimee", "Aimée", "Amie"), "female"),
    ForenameFamily(("Sarah", "Sara"), "female"),
    ForenameFamily(("Rachel", "Rachael"), "female"),
    ForenameFamily(("Claire", "Clare"), "female"),
    ForenameFamily(("Anne", "Ann"), "female"),
    ForenameFamily(("Isabel", "Isobel", "Isabelle"), "female"),
    ForenameFamily(("Leanne", "Lianne", "Leann"), "female"),
    ForenameFamily(("Niamh", "Neve", "Neave"), "female"),
    ForenameFamily(("Aisha", "Ayesha", "Aysha"), "female"),
)

SURNAME_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("Smith", "Smyth", "Smythe"),
    ("McDonald", "Macdonald", "MacDonald", "Mc Donald"),
    ("McLeod", "MacLeod", "Macleod"),
    ("O'Brien", "OBrien", "O Brien", "O'Brian"),
    ("O'Neill", "O'Neil", "ONeill"),
    ("D'Souza", "De Souza", "Dsouza"),
    ("Thompson", "Thomson", "Tomson"),
    ("Reid", "Reed", "Read"),
    ("Clarke", "Clark"),
    ("Davies", "Davis"),
    ("Phillips", "Philips"),
    ("Matthews", "Mathews"),
    ("Stephenson", "Stevenson"),
    ("Gray", "Grey"),
    ("Hussain", "Hussein", "Husain"),
    ("Mohammed", "Muhammad", "Mohamed"),
    ("Müller", "Muller", "Mueller"),
    ("Núñez", "Nunez"),
    ("Lloyd", "Loyd"),
)

# Formal forename -> the short forms people go by; a caller often knows only these.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Billy", "Will"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rich", "Richie", "Dick"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Michael": ("Mick", "Mike", "Mikey"),
    "Anthony": ("Tony", "Ant"),
    "Thomas": ("Tom", "Tommy"),
    "Daniel": ("Dan", "Danny"),
    "Christopher": ("Chris", "Kit"),
    "Joseph": ("Joe", "Joey"),
    "Andrew": ("Andy", "Drew"),
    "Alexander": ("Alex", "Sandy"),
    "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benny"),
    "David": ("Dave", "Davey"),
    "Stephen": ("Steve", "Stevie"),
    "Matthew": ("Matt",),
    "Mohammed": ("Mo",),
    "Catherine": ("Kate", "Cathy", "Kath"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Rebecca": ("Becky", "Becca"),
    "Jessica": ("Jess",),
    "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammie"),
    "Jacqueline": ("Jackie",),
    "Patricia": ("Pat", "Trish"),
    "Deborah": ("Debbie", "Deb"),
    "Charlotte": ("Charlie", "Lottie"),
    "Nicola": ("Nicky",),
    "Susan": ("Sue", "Suzy"),
}


def _index(families: tuple[tuple[str, ...], ...]) -> dict[str, tuple[str, ...]]:
    return {spelling.casefold(): family for family in families for spelling in family}


_FORENAMES = _index(tuple(f.spellings for f in FORENAME_FAMILIES))
_SURNAMES = _index(SURNAME_FAMILIES)


def forename_family(name: str) -> tuple[str, ...]:
    """Every spelling of the forename `name` (itself alone when it has no known variants)."""
    return _FORENAMES.get(name.strip().casefold(), (name,))


def surname_family(name: str) -> tuple[str, ...]:
    """Every spelling of the surname `name` (itself alone when it has no known variants)."""
    return _SURNAMES.get(name.strip().casefold(), (name,))


def all_spellings() -> tuple[str, ...]:
    """Every spelling in every family, forenames then surnames, in table order."""
    return tuple(s for f in FORENAME_FAMILIES for s in f.spellings) + tuple(
        s for family in SURNAME_FAMILIES for s in family
    )


def _nickname_index() -> dict[str, tuple[str, ...]]:
    """Each formal forename and each short form, casefolded -> the names it stands with
    (the short forms of a formal name; the formal names of a short form)."""
    index: dict[str, list[str]] = {}
    for formal, shorts in NICKNAMES.items():
        index.setdefault(formal.casefold(), []).extend(shorts)
        for short in shorts:
            index.setdefault(short.casefold(), []).append(formal)
    return {name: tuple(dict.fromkeys(names)) for name, names in index.items()}


_NICKNAMES = _nickname_index()


def name_family(name: str) -> tuple[str, ...]:
    """Every other spelling `name` may stand for, as a forename or a surname: its forename
    family, its surname family, and its short or formal forms with their families
    ("Kate" -> Catherine, Katherine, Kathryn, ...). Empty for a name with none; never
    `name` itself (as typed, casefolded)."""
    key = name.strip().casefold()
    found: list[str] = []
    for spelling in (*forename_family(name), *surname_family(name)):
        found.append(spelling)
    for other in _NICKNAMES.get(key, ()):
        found.append(other)
        found.extend(forename_family(other))
    return tuple(s for s in dict.fromkeys(found) if s.casefold() != key)
