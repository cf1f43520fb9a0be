"""What the synthetic force's rows are: staff, places, people, incidents, intelligence.

Everything is made up: towns and streets are assembled from word parts, people from the
Faker en_GB name lists plus the spelling families in `controlroom.domain.name_variants`,
and every narrative from templates; the word parts and templates are data files in
`words/` (read by `wordlists`), the numbers that shape the force are rules here. Phone
numbers, callers' and those in intelligence text, come from Ofcom's ranges for drama,
which never ring anyone.

The data is built to exercise the failures the product exists to prevent, so later
search and triage tests can rely on it:

- names callers misspell (Mohammed/Muhammad/Mohamed, Smith/Smyth, McDonald/Mc Donald,
  O'Brien, accented and double-barrelled names), aliases, and near-duplicate person
  records (the same person entered twice with a variant spelling or a day-month
  transposed date of birth; the duplicate carries none of the warning markers);
- warning markers, including registered sex offenders and domestic-abuse perpetrators
  living at known addresses, and one RSO who is also a DA perpetrator with an open,
  unattended domestic incident at home;
- an open domestic-abuse backlog of every age from hours to three months, on top of
  the natural mix of open, dispatched, at-scene and closed incidents;
- references numbered as the app numbers them (per control-room local day), with the
  day's last number recorded, so incidents entered in the demo carry on the sequence.

Determinism: the same seed and anchor give the same rows, row for row. Each stage draws
from its own `random.Random(f"{seed}/{stage}")` (string seeds hash with SHA-512, not
Python's randomised `hash`), nothing reads the clock except the default anchor, and no
set is ever iterated.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Generic, TypeVar

from faker.providers.person.en_GB import Provider as EnGbNames

from controlroom.data.cold_models import (
    Crime,
    CrimeClassification,
    CrimeOutcome,
    CrimeSuspect,
    IncidentLogEntry,
    IncidentPerson,
    IncidentSequence,
    IntelligenceReport,
    IntelligenceSubject,
    Person,
    PersonAddress,
    PersonAlias,
    UnitAssignment,
    UnitCrew,
    UnitStatusChange,
    WarningMarker,
)
from controlroom.data.models import Incident, Location, LocationHazard, Staff, Unit
from controlroom.domain.crime import closed_as_crime, recording_delay
from controlroom.domain.incidents import (
    THRIVE_PARTS,
    IncidentStatus,
    LogKind,
    NsirHeading,
    PersonRole,
    incident_reference,
    reference_day,
)
from controlroom.domain.intelligence import Grading, grading
from controlroom.domain.name_variants import FORENAME_FAMILIES, NICKNAMES, SURNAME_FAMILIES
from controlroom.domain.roles import Role
from controlroom.services.synthetic.wordlists import (
    BUSINESS_KINDS,
    CALLER_RELATIONSHIPS,
    CHILDREN_PRESENT,
    EXTRA_FORENAMES,
    EXTRA_SURNAMES,
    HANDLING_CONDITIONS,
    HAZARD_NOTES,
    HOUSE_NAMES,
    MARKER_NOTES,
    NARRATIVES,
    NO_CRIME_REASONS,
    PHONETIC,
    PUB_NAMES,
    PUBLIC_PLACES,
    REGRADE_REASONS,
    RESULTS_BY_GROUP,
    REVIEW_CLOSURE,
    SHOP_KINDS,
    STREET_STEMS,
    STREET_SUFFIXES,
    THEME_TEMPLATES,
    THRIVE_TEXT,
    TOWN_PREFIXES,
    TOWN_STEMS,
    TOWN_SUFFIXES,
)

if TYPE_CHECKING:  # only for the annotation: seeding imports this module
    from controlroom.services.synthetic.seeding import _Writer


@dataclass(frozen=True, slots=True)
class ForceSize:
    """How many of each record one size of synthetic force holds."""

    staff: int
    towns: int
    locations: int
    persons: int
    incidents: int
    intelligence: int
    units: int = 240  # a few hundred across the towns' stations (issue 17)


SIZES: dict[str, ForceSize] = {
    "small": ForceSize(
        staff=40, towns=8, locations=3_000, persons=2_000, incidents=5_000, intelligence=1_000
    ),
    # Enough homes for a million people in households of two or so.
    "large": ForceSize(
        staff=400,
        towns=30,
        locations=500_000,
        persons=1_000_000,
        incidents=500_000,
        intelligence=2_000_000,
        units=900,
    ),
}

DEMO_SUPERVISOR = "demo.supervisor"
INCIDENT_SPAN_DAYS = 548  # eighteen months of incident history
INTELLIGENCE_SPAN_DAYS = 1095  # three years of intelligence
NEAR_DUPLICATE_SHARE = 0.03
WORKSTATIONS = 36

# Rows per INSERT executemany: big enough that statement overhead vanishes, small enough
# that one batch's parameters stay a few megabytes.
INSERT_BATCH = 10_000


# --- plumbing ------------------------------------------------------------------------------

T = TypeVar("T")


class _Weighted(Generic[T]):
    """A fixed population drawn by weight with one bisect per draw (`Random.choices`
    builds a list on every call, which adds up over millions of draws)."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        if not items:
            raise ValueError("nothing to draw from")
        self.items = list(items)
        self.cumulative = list(accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        index = bisect(self.cumulative, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]


def _crime_offence(row: dict) -> str | None:
    """The Home Office offence of the crime recorded for a seeded incident: one closed
    with a crime reference as a type that maps to an offence; else None (no crime)."""
    if not row["crime_reference"]:
        return None
    return CRIME_OFFENCES.get(row["closing_type_code"] or "")


def _chunks(total: int) -> list[tuple[int, int]]:
    """Slices for one stage: about ten, so progress moves, but never tiny or huge."""
    step = max(250, min(INSERT_BATCH, total // 10 or 1))
    return [(start, min(start + step, total)) for start in range(0, total, step)]


def _ascii_login(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalpha())


def _uk_date(value: date | None) -> str:
    # Formatted by hand: strftime costs seconds over two million intelligence reports.
    return "DOB not known" if value is None else f"{value.day:02d}/{value.month:02d}/{value.year}"


def _transposed(value: date) -> date | None:
    """The date with day and month swapped, when that is a different valid date."""
    if value.day > 12 or value.day == value.month:
        return None
    try:
        return value.replace(day=value.month, month=value.day)
    except ValueError:
        return None


def _typo(name: str, rng: random.Random) -> str:
    """A keying slip: two adjacent letters swapped, or one letter dropped."""
    letters = list(name)
    swaps = [
        i
        for i in range(1, len(letters) - 1)
        if letters[i].isalpha() and letters[i + 1].isalpha() and letters[i] != letters[i + 1]
    ]
    if swaps and rng.random() < 0.6:
        i = rng.choice(swaps)
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
        return "".join(letters)
    if len(letters) > 3:
        del letters[rng.randrange(1, len(letters) - 1)]
        return "".join(letters)
    return name + name[-1]


# --- places and people (the words themselves are in words/, through wordlists) ------------

# Real postcode areas and inward-code letters, so the codes pass a format check; the
# districts and towns they are attached to are invented.
POSTCODE_AREAS = ("LS", "BD", "WF", "HX", "HD", "HG", "YO", "DN")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# The force's box: a plausible stretch of northern England, inland.
LATITUDE_RANGE = (53.55, 53.95)
LONGITUDE_RANGE = (-1.95, -1.15)

# Names planted whatever the draws, beside every spelling of the name families: a
# double-barrelled surname the search tests look for.
PLANTED_SURNAMES = ("Hughes-Whitfield",)

MALE = "male"
FEMALE = "female"

_FAMILY_FORENAMES = {s for f in FORENAME_FAMILIES for s in f.spellings}
_FAMILY_SURNAMES = {s for family in SURNAME_FAMILIES for s in family}
_FORENAME_FAMILY_OF = {s: f.spellings for f in FORENAME_FAMILIES for s in f.spellings}
_SURNAME_FAMILY_OF = {s: family for family in SURNAME_FAMILIES for s in family}

# Ages of adults in police records: young adults most, the very old least.
ADULT_AGE_BANDS = (
    (18, 24, 14),
    (25, 34, 22),
    (35, 44, 20),
    (45, 54, 17),
    (55, 64, 13),
    (65, 79, 10),
    (80, 95, 4),
)
HOUSEHOLD_SIZES = ((1, 35), (2, 30), (3, 17), (4, 12), (5, 6))

# --- markers -------------------------------------------------------------------------------

# Share of the population carrying each marker (the DA and RSO markers come from the
# household and offender planting below, not from these shares).
MARKER_SHARES = {
    "FIREARMS": 0.003,
    "VIOLENT": 0.03,
    "WEAPONS": 0.015,
    "SUICIDE": 0.01,
    "MENTAL": 0.02,
    "VULN": 0.015,
    "MISSING": 0.005,
    "ESCAPE": 0.003,
    "DRUGS": 0.03,
    "CONTAG": 0.002,
}
RSO_SHARE = 0.006
DA_HOUSEHOLD_SHARE = 0.07  # of households with two adults
OFFENDER_CODES = ("RSO", "FIREARMS", "VIOLENT", "WEAPONS", "DAPERP", "DRUGS", "ESCAPE")


# --- incidents -----------------------------------------------------------------------------

# Relative frequency of each opening type; codes not listed here (added to the CSV
# later) get weight 1.
TYPE_WEIGHTS = {
    "ASBN": 8,
    "ASBP": 5,
    "ASBE": 2,
    "NOISE": 4,
    "WELF": 9,
    "DOM": 8,
    "DOMV": 2,
    "ASLT": 5,
    "ASLTI": 2,
    "SEXO": 1,
    "ROBB": 0.7,
    "BURGR": 3,
    "BURGB": 1.5,
    "THEFT": 5,
    "SHOP": 4,
    "VEHC": 3,
    "CDAM": 4,
    "ARSON": 0.4,
    "DRUG": 1.5,
    "WEAP": 0.8,
    "HARA": 3,
    "FRAUD": 2,
    "PUBO": 3,
    "MISP": 3,
    "SUIC": 2,
    "MHEA": 3,
    "CHLD": 1.5,
    "SUDD": 0.8,
    "SUSP": 5,
    "ALRM": 3,
    "RTCI": 1.5,
    "RTCD": 3,
    "HWAY": 2,
    "ABAN": 4,
    "LOST": 1.5,
    "INFO": 3,
    "PREP": 0.5,
}
# Where each kind of incident happens, as (kind of place, weight).
HEADING_PLACES = {
    NsirHeading.CRIME.value: (("home", 60), ("public", 25), ("shop", 5), ("business", 10)),
    NsirHeading.ANTI_SOCIAL_BEHAVIOUR.value: (("public", 60), ("home", 40)),
    NsirHeading.PUBLIC_SAFETY_WELFARE.value: (("home", 80), ("public", 20)),
    NsirHeading.TRANSPORT.value: (("road", 100),),
    NsirHeading.ADMINISTRATION.value: (("home", 70), ("public", 30)),
}
TYPE_PLACES = {
    "SHOP": (("shop", 100),),
    "BURGB": (("business", 60), ("shop", 30), ("pub", 10)),
    "THEFT": (("shop", 30), ("public", 40), ("home", 30)),
    "ROBB": (("public", 70), ("shop", 30)),
    "PUBO": (("public", 50), ("pub", 50)),
    "ASLT": (("home", 40), ("public", 35), ("pub", 25)),
    "ASLTI": (("home", 40), ("public", 35), ("pub", 25)),
    "NOISE": (("home", 100),),
    "DRUG": (("public", 50), ("home", 50)),
    "WEAP": (("public", 60), ("home", 40)),
    "ALRM": (("business", 50), ("shop", 20), ("home", 30)),
    "FRAUD": (("home", 100),),
    "PREP": (("public", 100),),
    "LOST": (("public", 100),),
}
# A call often turns out to be something else: plausible closing types per opening type.
# The Home Office offence a crime recorded on closing as each incident type is given
# (db/offence_class.csv). Fraud is reported to Action Fraud, not recorded by forces.
CRIME_OFFENCES = {
    "DOM": "105A",
    "DOMV": "8N",
    "ASLT": "105A",
    "ASLTI": "8N",
    "SEXO": "20A",
    "ROBB": "34B",
    "BURGR": "28E",
    "BURGB": "30C",
    "THEFT": "49",
    "SHOP": "46",
    "VEHC": "45",
    "CDAM": "58D",
    "ARSON": "56B",
    "DRUG": "92E",
    "WEAP": "10A",
    "HARA": "8L",
    "PUBO": "9A",
    "CHLD": "105A",
}
# The outcomes of crimes closed more than OUTCOME_AFTER_DAYS ago, as (code, weight):
# none that needs the victim's recorded decision (14, 16), which a generator cannot give.
OUTCOME_WEIGHTS = ((18, 45), (15, 20), (1, 8), (8, 6), (3, 2), (2, 1), (21, 3), (0, 15))
OUTCOME_AFTER_DAYS = 30

RECLASSIFICATIONS = {
    "SUSP": ("BURGR", "VEHC", "INFO"),
    "ALRM": ("BURGB", "BURGR", "INFO"),
    "ABAN": ("DOM", "INFO", "WELF"),
    "WELF": ("MHEA", "SUDD", "MISP"),
    "DOM": ("ASLT", "CDAM", "HARA"),
    "DOMV": ("ASLTI", "ASLT"),
    "ASBN": ("NOISE", "PUBO"),
    "NOISE": ("ASBN", "DOM"),
    "ASLT": ("ASLTI", "PUBO"),
    "MISP": ("WELF",),
    "THEFT": ("SHOP", "BURGR"),
    "HARA": ("DOM", "PUBO"),
    "ASBP": ("HARA", "PUBO"),
}
# Ofcom's ranges for drama and fiction: numbers that will never ring a real person.
# Digits only, national form, as the incident record keeps them.
DRAMA_PHONE_PREFIXES = ("07700900", "01134960", "01632960", "01144960", "01614960")
HOUR_WEIGHTS = (
    0.55,
    0.45,
    0.35,
    0.28,
    0.22,
    0.2,
    0.25,
    0.4,
    0.6,
    0.7,
    0.75,
    0.8,
    0.85,
    0.85,
    0.9,
    0.95,
    1.0,
    1.0,
    1.0,
    1.0,
    0.95,
    0.9,
    0.8,
    0.7,
)
# The planted domestic-abuse backlog: open, never attended, at these ages (hours). The
# second is at the home of a registered sex offender who is also a DA perpetrator.
BACKLOG_AGES_HOURS = (2, 5, 9, 20, 30, 52, 99, 197, 288, 456, 624, 792, 984, 1128, 1464, 1800, 2112)
RSO_BACKLOG_INDEX = 1

# --- intelligence --------------------------------------------------------------------------

GRADING_WEIGHTS = (
    ("1", "A", 6),
    ("1", "B", 8),
    ("1", "C", 4),
    ("2", "A", 3),
    ("2", "B", 14),
    ("2", "C", 18),
    ("2", "D", 4),
    ("3", "B", 2),
    ("3", "C", 6),
    ("3", "D", 5),
    ("3", "E", 2),
)
# Themes: how often each comes up, and the marker codes whose holders are its likely
# subjects. What the reports say is in words/intelligence.toml, under the same names.
INTELLIGENCE_THEME_RULES: dict[str, tuple[int, tuple[str, ...]]] = {
    "drugs": (22, ("DRUGS",)),
    "weapons": (12, ("WEAPONS", "FIREARMS")),
    "domestic_abuse": (16, ("DAPERP", "DAVICT")),
    "violence": (12, ("VIOLENT",)),
    "sex_offenders": (6, ("RSO",)),
    "exploitation": (8, ("MISSING", "VULN")),
    "premises": (10, ()),
}
if INTELLIGENCE_THEME_RULES.keys() != THEME_TEMPLATES.keys():
    raise RuntimeError("words/intelligence.toml names other themes than INTELLIGENCE_THEME_RULES")
# (weight, marker codes, templates), in the order above.
INTELLIGENCE_THEMES = tuple(
    (weight, codes, THEME_TEMPLATES[name])
    for name, (weight, codes) in INTELLIGENCE_THEME_RULES.items()
)


@dataclass(slots=True)
class _Town:
    name: str
    latitude: float
    longitude: float
    area: str  # postcode area, "LS"
    districts: list[int]  # postcode districts in that area, 3 -> "LS3"
    weight: float  # share of the force's streets


@dataclass(slots=True)
class _Street:
    name: str
    town: int
    latitude: float
    longitude: float
    heading: tuple[float, float]  # degrees per house number, so numbers run along a line
    postcodes: list[str]  # one per stretch of about thirty numbers
    next_number: int = 1
    flats_at: int = 0  # building number currently being divided into flats
    flats_made: int = 0
    public_places: list[str] = field(default_factory=list)


# --- the generator -------------------------------------------------------------------------


class _ForceGenerator:
    """Builds the force stage by stage; later stages draw on what earlier ones made."""

    def __init__(self, writer: _Writer, size: ForceSize, seed: int, anchor: datetime) -> None:
        self.w = writer
        self.size = size
        self.seed = seed
        self.anchor = anchor
        self.today = anchor.date()
        self.force_name = ""
        names = EnGbNames
        # The en_GB lists are ordered roughly by popularity; Zipf weights keep the
        # common names common.
        self.male_names = _Weighted(
            names.first_names_male, [1 / (r + 8) for r in range(len(names.first_names_male))]
        )
        self.female_names = _Weighted(
            names.first_names_female, [1 / (r + 8) for r in range(len(names.first_names_female))]
        )
        surnames = list(names.last_names.items())
        self.surnames = _Weighted([s for s, _ in surnames], [w for _, w in surnames])
        self.plain_surnames = [s for s, _ in surnames if s.isalpha()]
        self.forename_families = {
            sex: _Weighted(
                [f for f in FORENAME_FAMILIES if f.sex == sex],
                [1.0] * sum(1 for f in FORENAME_FAMILIES if f.sex == sex),
            )
            for sex in (MALE, FEMALE)
        }

    def rng(self, stage: str) -> random.Random:
        return random.Random(f"{self.seed}/{stage}")

    def ago(self, seconds: float) -> datetime:
        return self.anchor - timedelta(seconds=int(seconds))

    def run(self) -> None:
        self.make_staff()
        self.make_locations()
        self.make_persons()
        self.make_incidents()
        self.make_intelligence()
        self.make_units()

    # --- staff ---------------------------------------------------------------------------

    def make_staff(self) -> None:
        rng = self.rng("staff")
        total = self.size.staff
        self.w.progress("staff", 0, total)
        self.towns = self._towns(self.rng("towns"))
        self.force_name = f"{self.towns[0].name} Synthetic Constabulary"
        control_rooms = [f"{t.name} Control Room" for t in self.towns[:2]]
        bureau = f"Force Intelligence Bureau, {self.towns[0].name}"
        shares = (
            (Role.SUPERVISOR, 0.12),
            (Role.DISPATCHER, 0.20),
            (Role.INTELLIGENCE, 0.12),
            (Role.ANALYST, 0.08),
            (Role.ADMINISTRATOR, 0.08),
        )
        roles = [Role.SUPERVISOR]  # demo.supervisor first
        for role, share in shares:
            roles += [role] * max(1, round(total * share) - (1 if role is Role.SUPERVISOR else 0))
        roles += [Role.CALL_HANDLER] * max(1, total - len(roles))
        collars = rng.sample(range(1000, 10000), len(roles))
        planned: list[dict] = []
        used: set[str] = set()
        for i, role in enumerate(roles):
            sex = MALE if rng.random() < 0.45 else FEMALE
            forename = self._plain_forename(rng, sex)
            surname = self.surnames.pick(rng)
            if i == 0:
                username = DEMO_SUPERVISOR
            else:
                base = f"{_ascii_login(forename)}.{_ascii_login(surname)}"
                username, n = base, 1
                while username in used:
                    n += 1
                    username = f"{base}{n}"
            used.add(username)
            if role in (Role.INTELLIGENCE, Role.ANALYST):
                station = bureau
            elif role is Role.ADMINISTRATOR:
                station = f"Headquarters, {self.towns[0].name}"
            else:
                station = control_rooms[0] if rng.random() < 0.75 else control_rooms[-1]
            planned.append(
                {
                    "username": username,
                    "collar_number": str(collars[i]),
                    "display_name": f"{forename} {surname}",
                    "role": role.value,
                    "station": station,
                    "active": True,
                    "locked": False,
                    "created_at": self.ago(rng.randint(30, 4000) * 86400),
                }
            )
        usernames = [p["username"] for p in planned]
        existing = self.w.uow.bulk.existing_usernames(usernames)
        self.w.rows("staff", Staff, [p for p in planned if p["username"] not in existing])
        ids = self.w.uow.bulk.staff_ids(usernames)
        self.staff_by_role: dict[Role, list[int]] = {role: [] for role in Role}
        for p in planned:
            self.staff_by_role[Role(p["role"])].append(ids[p["username"]])
        self.all_staff = [ids[u] for u in usernames]
        self._staff_pools: dict[tuple[Role, ...], list[int]] = {}
        # Each handler has a usual workstation; a control room has a few dozen, shared
        # across shifts.
        self.workstation = {
            sid: f"WS-{n % WORKSTATIONS + 1:02d}"
            for n, sid in enumerate(
                self.staff_by_role[Role.CALL_HANDLER] + self.staff_by_role[Role.DISPATCHER]
            )
        }
        self.w.commit()
        self.w.progress("staff", total, total)

    def staff(self, rng: random.Random, *roles: Role) -> int:
        """A staff id with one of `roles` (anyone, if nobody has them)."""
        pool = self._staff_pools.get(roles)
        if pool is None:  # built once per combination: this runs millions of times
            pool = [sid for role in roles for sid in self.staff_by_role[role]] or self.all_staff
            self._staff_pools[roles] = pool
        return pool[rng.randrange(len(pool))]

    # --- places ---------------------------------------------------------------------------

    def _towns(self, rng: random.Random) -> list[_Town]:
        names: list[str] = []
        while len(names) < self.size.towns:
            name = rng.choice(TOWN_STEMS) + rng.choice(TOWN_SUFFIXES)
            if rng.random() < 0.15:
                name = f"{rng.choice(TOWN_PREFIXES)} {name}"
            if name not in names:
                names.append(name)
        districts_used: dict[str, int] = {}
        towns = []
        for i, name in enumerate(names):
            area = POSTCODE_AREAS[i % len(POSTCODE_AREAS)]
            first = districts_used.get(area, 0) + 1
            count = 4 if i == 0 else rng.randint(1, 3)
            districts_used[area] = first + count - 1
            towns.append(
                _Town(
                    name=name,
                    latitude=rng.uniform(LATITUDE_RANGE[0] + 0.04, LATITUDE_RANGE[1] - 0.04),
                    longitude=rng.uniform(LONGITUDE_RANGE[0] + 0.06, LONGITUDE_RANGE[1] - 0.06),
                    area=area,
                    districts=list(range(first, first + count)),
                    weight=1 / (i + 1) ** 0.7,
                )
            )
        return towns

    def make_locations(self) -> None:
        rng = self.rng("locations")
        total = self.size.locations
        self.w.progress("locations", 0, total)
        town_pick = _Weighted(range(len(self.towns)), [t.weight for t in self.towns])
        streets: list[_Street] = []
        taken: set[tuple[int, str]] = set()
        postcodes: set[str] = set()
        self.streets_by_town: list[list[int]] = [[] for _ in self.towns]
        for _ in range(max(len(self.towns) * 10, total // 14)):
            t = town_pick.pick(rng)
            town = self.towns[t]
            for _attempt in range(20):
                stem = rng.choice(STREET_STEMS) if rng.random() < 0.8 else self.surnames.pick(rng)
                name = f"{stem} {rng.choice(STREET_SUFFIXES)}"
                if (t, name) not in taken:
                    break
            else:
                continue
            taken.add((t, name))
            codes = []
            for _k in range(rng.choice((1, 1, 2, 3))):
                for _attempt in range(50):
                    code = (
                        f"{town.area}{rng.choice(town.districts)} {rng.randint(1, 9)}"
                        f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
                    )
                    if code not in postcodes:
                        postcodes.add(code)
                        codes.append(code)
                        break
            if not codes:
                continue
            angle_lat, angle_lon = rng.uniform(-1, 1), rng.uniform(-1, 1)
            self.streets_by_town[t].append(len(streets))
            streets.append(
                _Street(
                    name=name,
                    town=t,
                    latitude=town.latitude + rng.gauss(0, 0.012),
                    longitude=town.longitude + rng.gauss(0, 0.02),
                    heading=(angle_lat * 0.00012, angle_lon * 0.0002),
                    postcodes=codes,
                )
            )
        self.streets = streets
        street_pick = _Weighted(range(len(streets)), [rng.uniform(0.5, 2.0) for _ in streets])
        kind_pick = _Weighted(
            ("house", "flat", "shop", "pub", "business", "public"), (70, 12, 6, 2, 3, 7)
        )
        self.loc_kind: list[str] = []
        self.loc_text: list[str] = []  # "12 Mill Lane, Calderford LS3 4AB"
        self.loc_postcode: list[str] = []
        self.loc_street: list[int] = []
        self.location_ids: list[int] = []
        for start, end in _chunks(total):
            rows = []
            for _ in range(start, end):
                s = street_pick.pick(rng)
                street = streets[s]
                kind = kind_pick.pick(rng)
                address, number, kind = self._address(rng, street, kind)
                postcode = street.postcodes[min(number // 30, len(street.postcodes) - 1)]
                town_name = self.towns[street.town].name
                self.loc_kind.append(kind)
                self.loc_street.append(s)
                self.loc_text.append(f"{address}, {town_name} {postcode}")
                self.loc_postcode.append(postcode)
                rows.append(
                    {
                        "address": address,
                        "street": street.name,
                        "town": town_name,
                        "postcode": postcode,
                        "latitude": round(
                            street.latitude
                            + street.heading[0] * number
                            + rng.uniform(-0.0002, 0.0002),
                            6,
                        ),
                        "longitude": round(
                            street.longitude
                            + street.heading[1] * number
                            + rng.uniform(-0.0003, 0.0003),
                            6,
                        ),
                        "verified": rng.random() < 0.97,
                        "created_at": self.ago(rng.randint(1, 3650) * 86400),
                    }
                )
            self.location_ids += self.w.rows_with_ids("locations", Location, rows)
            self.w.commit()
            self.w.progress("locations", end, total)
        self.locations_of_kind: dict[str, list[int]] = {}
        for i, kind in enumerate(self.loc_kind):
            key = "home" if kind in ("house", "flat") else kind
            self.locations_of_kind.setdefault(key, []).append(i)

    def _address(self, rng: random.Random, street: _Street, kind: str) -> tuple[str, int, str]:
        if kind == "flat":
            if street.flats_at == 0 or street.flats_made >= 8:
                street.flats_at, street.flats_made = street.next_number, 0
                street.next_number += 1
            street.flats_made += 1
            return (
                f"Flat {street.flats_made}, {street.flats_at} {street.name}",
                street.flats_at,
                kind,
            )
        if kind == "public":
            place = rng.choice(PUBLIC_PLACES)
            if place not in street.public_places:  # one car park per street, not two
                street.public_places.append(place)
                return f"{place}, {street.name}", street.next_number, kind
            kind = "house"
        number = street.next_number
        street.next_number += 1
        if kind == "house":
            if rng.random() < 0.02:
                return f"{rng.choice(HOUSE_NAMES)}, {number} {street.name}", number, kind
            return f"{number} {street.name}", number, kind
        stem = street.name.split(" ")[0]
        if kind == "pub":
            label = f"The {rng.choice(PUB_NAMES)}"
        elif kind == "shop":
            owner = self.surnames.pick(rng) if rng.random() < 0.5 else stem
            label = f"{owner} {rng.choice(SHOP_KINDS)}"
        else:
            label = f"{stem} {rng.choice(BUSINESS_KINDS)}"
        return f"{label}, {number} {street.name}", number, kind

    # --- people ---------------------------------------------------------------------------

    def _plain_forename(self, rng: random.Random, sex: str) -> str:
        return (self.male_names if sex == MALE else self.female_names).pick(rng)

    def _forename(self, rng: random.Random, sex: str) -> str:
        r = rng.random()
        if r < 0.06:
            family = self.forename_families[sex].pick(rng).spellings
            # The usual spelling half the time, the others share the rest.
            return family[0] if rng.random() < 0.5 else rng.choice(family[1:])
        if r < 0.12:
            return rng.choice(EXTRA_FORENAMES[sex])
        return self._plain_forename(rng, sex)

    def _surname(self, rng: random.Random) -> str:
        r = rng.random()
        if r < 0.05:
            family = rng.choice(SURNAME_FAMILIES)
            return family[0] if rng.random() < 0.5 else rng.choice(family[1:])
        if r < 0.07:
            first, second = rng.sample(self.plain_surnames, 2)
            return f"{first}-{second}"
        if r < 0.11:
            return rng.choice(EXTRA_SURNAMES)
        return self.surnames.pick(rng)

    def _adult_age(self, rng: random.Random) -> int:
        low, high = self.adult_band.pick(rng)
        return rng.randint(low, high)

    def _new_person(
        self, rng: random.Random, sex: str, age: int, home: int, surname: str | None = None
    ) -> int:
        index = len(self.p_forename)
        self.p_sex.append(sex)
        self.p_forename.append(self._forename(rng, sex))
        roll = rng.random()
        middle = None
        if roll < 0.30:
            middle = self._plain_forename(rng, sex)
        elif roll < 0.34:
            middle = f"{self._plain_forename(rng, sex)} {self._plain_forename(rng, sex)}"
        self.p_middle.append(middle)
        own = self._surname(rng)
        self.p_birth_surname.append(own)
        self.p_surname.append(surname or own)
        self.p_age.append(age)
        if rng.random() < 0.02:
            self.p_dob.append(None)  # date of birth never obtained
        else:
            self.p_dob.append(
                self.today - timedelta(days=age * 365 + rng.randrange(365) + age // 4)
            )
        self.p_home.append(home)
        self.p_restricted.append(False)
        return index

    def make_persons(self) -> None:
        rng = self.rng("persons")
        total = self.size.persons
        self.w.progress("persons", 0, total)
        self.adult_band = _Weighted(
            [(lo, hi) for lo, hi, _ in ADULT_AGE_BANDS], [w for _, _, w in ADULT_AGE_BANDS]
        )
        size_pick = _Weighted([s for s, _ in HOUSEHOLD_SIZES], [w for _, w in HOUSEHOLD_SIZES])
        self.p_sex: list[str] = []
        self.p_forename: list[str] = []
        self.p_middle: list[str | None] = []
        self.p_surname: list[str] = []
        self.p_birth_surname: list[str] = []
        self.p_age: list[int] = []
        self.p_dob: list[date | None] = []
        self.p_home: list[int] = []  # location index, or -1 for no known address
        self.p_restricted: list[bool] = []
        couples: list[tuple[int, int, int]] = []  # (home, head, partner)
        homes = list(self.locations_of_kind.get("home", []))
        rng.shuffle(homes)
        duplicates = round(total * NEAR_DUPLICATE_SHARE)
        originals = total - duplicates
        next_home = 0
        # People come in households: a head, often a partner, then children (or adult
        # children and lodgers in an older household). A few have no known address.
        while len(self.p_forename) < originals:
            if next_home < len(homes) and rng.random() < 0.88:
                home = homes[next_home]
                next_home += 1
                size = size_pick.pick(rng)
                head_age = self._adult_age(rng)
                head_sex = MALE if rng.random() < 0.5 else FEMALE
                head = self._new_person(rng, head_sex, head_age, home)
                members = 1
                if size >= 2 and rng.random() < 0.75 and len(self.p_forename) < originals:
                    opposite = FEMALE if head_sex == MALE else MALE
                    sex = opposite if rng.random() < 0.92 else head_sex
                    age = max(18, min(95, head_age + rng.randint(-6, 6)))
                    shared = self.p_surname[head] if rng.random() < 0.6 else None
                    partner = self._new_person(rng, sex, age, home, surname=shared)
                    couples.append((home, head, partner))
                    members += 1
                while members < size and len(self.p_forename) < originals:
                    if head_age < 58:
                        age = rng.randint(0, max(0, min(17, head_age - 17)))
                    else:
                        age = rng.randint(18, 45)
                    surname = self.p_surname[head] if rng.random() < 0.8 else None
                    self._new_person(
                        rng, MALE if rng.random() < 0.5 else FEMALE, age, home, surname=surname
                    )
                    members += 1
            else:
                self._new_person(
                    rng, MALE if rng.random() < 0.55 else FEMALE, rng.randint(16, 70), -1
                )
        self._plant_name_variants(rng, originals)
        self._plant_markers(rng, originals, couples)
        aliases = self._aliases(rng, originals, couples)
        # Recorded in the last ten years (never before birth); a duplicate always after
        # its original.
        self.p_created = [
            self.ago(
                rng.randint(1, max(1, min(3650, self.p_age[i] * 365))) * 86400
                + rng.randint(0, 86399)
            )
            for i in range(originals)
        ]
        self._near_duplicates(rng, originals, duplicates)

        self.person_ids: list[int] = []
        for start, end in _chunks(total):
            rows = []
            for i in range(start, end):
                rows.append(
                    {
                        "forename": self.p_forename[i],
                        "middle_names": self.p_middle[i],
                        "surname": self.p_surname[i],
                        "date_of_birth": self.p_dob[i],
                        "gender": self.p_sex[i],
                        "restricted": self.p_restricted[i],
                        "created_at": self.p_created[i],
                        "created_by_id": self.staff(rng, *Role),
                    }
                )
            self.person_ids += self.w.rows_with_ids("persons", Person, rows)
            self.w.commit()
            self.w.progress("persons", end, total)
        self._person_children(rng, aliases)
        self._hazards(rng)
        self.w.commit()
        self.w.progress("persons", total, total)

    def _plant_name_variants(self, rng: random.Random, originals: int) -> None:
        """Make sure every spelling in every family, and the planted names, exist."""
        forenames_present = set(self.p_forename)
        surnames_present = set(self.p_surname)
        for family in FORENAME_FAMILIES:
            for spelling in family.spellings:
                if spelling in forenames_present:
                    continue
                for _attempt in range(1000):
                    i = rng.randrange(originals)
                    if (
                        self.p_sex[i] == family.sex
                        and self.p_age[i] >= 16
                        and self.p_forename[i] not in _FAMILY_FORENAMES
                    ):
                        self.p_forename[i] = spelling
                        forenames_present.add(spelling)
                        break
        wanted = [s for family in SURNAME_FAMILIES for s in family] + list(PLANTED_SURNAMES)
        for spelling in wanted:
            if spelling in surnames_present:
                continue
            for _attempt in range(1000):
                i = rng.randrange(originals)
                if self.p_surname[i] not in _FAMILY_SURNAMES and "-" not in self.p_surname[i]:
                    self.p_surname[i] = self.p_birth_surname[i] = spelling
                    surnames_present.add(spelling)
                    break

    def _plant_markers(
        self, rng: random.Random, originals: int, couples: list[tuple[int, int, int]]
    ) -> None:
        self.marker_codes = {m.code for m in self.w.uow.reference.marker_types() if m.active}
        self.marker_rows: list[tuple[int, str]] = []  # (person index, code)
        marked: dict[int, list[str]] = {}

        def mark(person: int, code: str) -> None:
            if code not in self.marker_codes:
                return  # retired from db/marker_type.csv
            if code not in marked.setdefault(person, []):
                marked[person].append(code)
                self.marker_rows.append((person, code))

        # Domestic abuse lives in households: a share of couples, the perpetrator mostly
        # the man, both at the same home address.
        self.da_households: list[tuple[int, int, int]] = []  # (home, perpetrator, victim)
        for home, head, partner in couples:
            if self.p_age[head] < 18 or self.p_age[partner] < 18:
                continue
            if rng.random() >= DA_HOUSEHOLD_SHARE:
                continue
            perp, victim = head, partner
            if self.p_sex[partner] == MALE and (self.p_sex[head] == FEMALE or rng.random() < 0.5):
                perp, victim = partner, head
            if rng.random() < 0.12:
                perp, victim = victim, perp
            self.da_households.append((home, perp, victim))
            mark(perp, "DAPERP")
            mark(victim, "DAVICT")
            if rng.random() < 0.25:
                mark(victim, "HRVICT")
            if rng.random() < 0.4:
                mark(perp, "VIOLENT")
        housed_adults = [i for i in range(originals) if self.p_home[i] >= 0 and self.p_age[i] >= 21]
        men = [i for i in housed_adults if self.p_sex[i] == MALE]
        rso_count = max(2, round(originals * RSO_SHARE))
        rso = rng.sample(men or housed_adults, min(rso_count, len(men or housed_adults)))
        # One registered sex offender is also a DA perpetrator (the incident in DESIGN.md):
        # that household gets an open, unattended domestic incident below.
        self.rso_da_household: tuple[int, int, int] | None = None
        male_perps = [h for h in self.da_households if self.p_sex[h[1]] == MALE]
        if male_perps:
            self.rso_da_household = rng.choice(male_perps)
            rso.append(self.rso_da_household[1])
            for household in rng.sample(male_perps, min(len(male_perps), max(1, len(rso) // 8))):
                rso.append(household[1])
        for person in rso:
            mark(person, "RSO")
            if rng.random() < 0.3:
                mark(person, "CHILDRISK")
        for code, share in MARKER_SHARES.items():
            if code == "MISSING":
                pool = [i for i in range(originals) if 12 <= self.p_age[i] <= 17]
            elif code == "VULN":
                pool = [i for i in range(originals) if self.p_age[i] >= 65]
            else:
                pool = [i for i in range(originals) if 16 <= self.p_age[i] <= 65]
            count = min(len(pool), max(1, round(originals * share)))
            for person in rng.sample(pool, count):
                mark(person, code)
        self.marked = marked
        self.offenders = sorted(
            p for p, codes in marked.items() if any(c in OFFENDER_CODES for c in codes)
        )
        self.persons_with: dict[str, list[int]] = {code: [] for code in MARKER_NOTES}
        for person, code in self.marker_rows:
            self.persons_with[code].append(person)
        # Lifelong anonymity: sexual-offence complainants are drawn from these restricted
        # records, so a leak of a restricted record is a leak a test can see.
        pool = [i for i in range(originals) if self.p_age[i] >= 13 and i not in marked]
        self.anonymous = rng.sample(pool, min(len(pool), max(3, originals // 100)))
        for person in self.anonymous:
            self.p_restricted[person] = True

    def _aliases(
        self, rng: random.Random, originals: int, couples: list[tuple[int, int, int]]
    ) -> list[tuple[int, str | None, str, str]]:
        aliases: list[tuple[int, str | None, str, str]] = []  # (person, forename, surname, kind)
        for _home, head, partner in couples:
            for person in (head, partner):
                married_name = self.p_birth_surname[person] != self.p_surname[person]
                if self.p_sex[person] == FEMALE and married_name and rng.random() < 0.7:
                    aliases.append(
                        (person, self.p_forename[person], self.p_birth_surname[person], "maiden")
                    )
        for person in range(originals):
            nicknames = NICKNAMES.get(self.p_forename[person])
            if nicknames and self.p_age[person] >= 12 and rng.random() < 0.25:
                aliases.append((person, rng.choice(nicknames), self.p_surname[person], "nickname"))
        for person in self.offenders:
            if rng.random() < 0.35:
                forename = self._plain_forename(rng, self.p_sex[person])
                surname = self.p_surname[person] if rng.random() < 0.4 else self.surnames.pick(rng)
                aliases.append((person, forename, surname, "alias"))
        aliases.sort(key=lambda a: a[0])
        return aliases

    def _near_duplicates(self, rng: random.Random, originals: int, duplicates: int) -> None:
        """The same person entered twice: a variant spelling and/or a day-month transposed
        date of birth, same home address, and none of the original's markers."""
        candidates = [
            i
            for i in range(originals)
            if self.p_home[i] >= 0 and self.p_age[i] >= 16 and self.p_dob[i] is not None
        ]
        self.duplicate_of: list[int] = rng.sample(candidates, min(duplicates, len(candidates)))
        for original in self.duplicate_of:
            forename, surname, dob = (
                self.p_forename[original],
                self.p_surname[original],
                self.p_dob[original],
            )
            transposed = _transposed(dob) if dob is not None else None
            if transposed is not None and rng.random() < 0.4:
                dob = transposed
            if dob == self.p_dob[original] or rng.random() < 0.5:
                forename_family = _FORENAME_FAMILY_OF.get(forename, ())
                surname_family = _SURNAME_FAMILY_OF.get(surname, ())
                if len(forename_family) > 1 and rng.random() < 0.5:
                    forename = rng.choice([s for s in forename_family if s != forename])
                elif len(surname_family) > 1:
                    surname = rng.choice([s for s in surname_family if s != surname])
                elif "-" in surname:
                    # "Hughes Whitfield", or just "Whitfield"
                    surname = (
                        surname.replace("-", " ") if rng.random() < 0.5 else surname.split("-")[1]
                    )
                elif rng.random() < 0.5:
                    surname = _typo(surname, rng)
                else:
                    forename = _typo(forename, rng)
            self.p_sex.append(self.p_sex[original])
            self.p_forename.append(forename)
            self.p_middle.append(self.p_middle[original] if rng.random() < 0.4 else None)
            self.p_surname.append(surname)
            self.p_birth_surname.append(surname)
            self.p_age.append(self.p_age[original])
            self.p_dob.append(dob)
            self.p_home.append(self.p_home[original])
            self.p_restricted.append(False)
        for original in self.duplicate_of:
            first = self.p_created[original]
            gap = (self.anchor - first).total_seconds()
            self.p_created.append(first + timedelta(seconds=int(gap * rng.uniform(0.1, 0.9))))

    def _person_children(self, rng: random.Random, aliases) -> None:
        ids = self.person_ids
        alias_rows = [
            {"person_id": ids[p], "forename": f, "surname": s, "kind": k} for p, f, s, k in aliases
        ]
        address_rows = []
        homes_list = self.locations_of_kind.get("home", [])
        work = self.locations_of_kind.get("business", []) + self.locations_of_kind.get("shop", [])
        for person, home in enumerate(self.p_home):
            if home < 0:
                continue
            born = self.p_dob[person] or self.today - timedelta(days=self.p_age[person] * 365)
            lived = min(6000, (self.today - born).days)
            moved_in = self.today - timedelta(days=rng.randint(1, lived)) if lived > 1 else born
            if self.p_age[person] >= 20 and rng.random() < 0.15 and homes_list:
                before = moved_in - timedelta(days=rng.randint(200, 3000))
                address_rows.append(
                    {
                        "person_id": ids[person],
                        "location_id": self.location_ids[rng.choice(homes_list)],
                        "kind": "previous",
                        "valid_from": before,
                        "valid_to": moved_in,
                    }
                )
            address_rows.append(
                {
                    "person_id": ids[person],
                    "location_id": self.location_ids[home],
                    "kind": "home",
                    "valid_from": moved_in,
                    "valid_to": None,
                }
            )
            if work and 18 <= self.p_age[person] <= 65 and rng.random() < 0.04:
                address_rows.append(
                    {
                        "person_id": ids[person],
                        "location_id": self.location_ids[rng.choice(work)],
                        "kind": "work",
                        "valid_from": moved_in,
                        "valid_to": None,
                    }
                )
        marker_rows = []
        for person, code in self.marker_rows:
            age_days = max(40, (self.p_age[person] - 10) * 365)
            set_at = self.ago(
                rng.randint(20, min(9 * 365, age_days)) * 86400 + rng.randint(0, 86399)
            )
            valid_from = set_at.date()
            valid_to = None
            roll = rng.random()
            since = (self.today - valid_from).days
            if roll < 0.12 and since > 2:
                valid_to = valid_from + timedelta(days=rng.randint(1, since - 1))  # expired
            elif roll < 0.16:
                valid_to = self.today + timedelta(days=rng.randint(30, 900))
            marker_rows.append(
                {
                    "person_id": ids[person],
                    "marker_code": code,
                    "note": rng.choice(MARKER_NOTES.get(code, ("",))) or None,
                    "set_by_id": self.staff(rng, Role.INTELLIGENCE, Role.SUPERVISOR),
                    "set_at": set_at,
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                }
            )
        self.w.rows("person aliases", PersonAlias, alias_rows)
        self.w.rows("person addresses", PersonAddress, address_rows)
        self.w.rows("warning markers", WarningMarker, marker_rows)

    def _hazards(self, rng: random.Random) -> None:
        hazards: dict[tuple[int, str], None] = {}  # ordered and without repeats
        for person in self.persons_with.get("VIOLENT", []):
            if self.p_home[person] >= 0 and rng.random() < 0.3:
                hazards[(self.p_home[person], "VIOLENT OCCUPANT")] = None
        for person in self.persons_with.get("FIREARMS", []):
            if self.p_home[person] >= 0 and rng.random() < 0.5:
                hazards[(self.p_home[person], "FIREARMS HELD")] = None
        for location, kind in enumerate(self.loc_kind):
            roll = rng.random()
            if kind in ("house", "flat"):
                if roll < 0.025:
                    hazards[(location, "DOG ON PREMISES")] = None
                elif roll < 0.035:
                    hazards[(location, "ACCESS: KEY SAFE")] = None
                elif roll < 0.038:
                    hazards[(location, "OXYGEN IN USE")] = None
            elif kind in ("shop", "pub", "business") and roll < 0.08:
                hazards[(location, "CCTV ON PREMISES")] = None
        rows = [
            {
                "location_id": self.location_ids[location],
                "hazard": hazard,
                "note": rng.choice(HAZARD_NOTES[hazard]),
                "set_by_id": self.staff(rng, Role.SUPERVISOR, Role.INTELLIGENCE, Role.CALL_HANDLER),
                "set_at": self.ago(rng.randint(5, 2500) * 86400 + rng.randint(0, 86399)),
            }
            for location, hazard in sorted(hazards)
        ]
        self.w.rows("location hazards", LocationHazard, rows)

    def person_name(self, person: int) -> str:
        return f"{self.p_forename[person]} {self.p_surname[person]}"

    def person_in_report(self, person: int) -> str:
        # Intelligence writes surnames in capitals, with the date of birth.
        return (
            f"{self.p_forename[person]} {self.p_surname[person].upper()} "
            f"({_uk_date(self.p_dob[person])})"
        )

    # --- incidents ------------------------------------------------------------------------

    def make_incidents(self) -> None:
        rng = self.rng("incidents")
        total = self.size.incidents
        self.w.progress("incidents", 0, total)
        types = {t.code: t for t in self.w.uow.reference.incident_types() if t.active}
        type_pick = _Weighted(sorted(types), [TYPE_WEIGHTS.get(c, 1.0) for c in sorted(types)])
        self.types = types
        self._prepare_places(rng)
        # Jitter of up to a fifth of the age (at most eight hours) keeps the planted
        # calls from all arriving at the anchor's time of day.
        planted = (
            [
                (hours * 3600 + rng.randint(0, min(hours * 720, 8 * 3600)), n)
                for n, hours in enumerate(BACKLOG_AGES_HOURS)
            ]
            if "DOM" in types
            else []
        )
        ages = self._ages(rng, total - len(planted), INCIDENT_SPAN_DAYS, 1.5, HOUR_WEIGHTS)
        specs = [(age, -1) for age in ages] + planted
        specs.sort(key=lambda s: -s[0])  # oldest first; ids then follow time
        references, last_numbers = self._references("CR", [age for age, _ in specs])
        self.crime_numbers: dict[int, int] = {}
        # Its own stream: the crimes drawn change nothing else the seed makes.
        crime_rng = self.rng("crimes")
        for start, end in _chunks(len(specs)):
            incidents, links, log = [], [], []
            for k in range(start, end):
                age, backlog = specs[k]
                code = "DOM" if backlog >= 0 else type_pick.pick(rng)
                row, persons, entries = self._incident(
                    rng, references[k], age, types[code], backlog
                )
                incidents.append(row)
                links.append(persons)
                log.append(entries)
            for row in incidents:
                # NCRS: the clock of a crime recorded at closing stopped then.
                recorded = row["possible_crime"] and row["crime_reference"]
                row["crime_clock_stopped_at"] = row["closed_at"] if recorded else None
                # Its crime recorded at the closing (`_crimes`), and its closing with a
                # crime reference: how long after the report, kept on the row.
                row["crime_recording_delay"] = recording_delay(
                    row["opened_at"],
                    None,
                    closed_as_crime(row["crime_reference"], row["closed_at"]),
                )
            ids = self.w.rows_with_ids("incidents", Incident, incidents)
            self._crimes(crime_rng, ids, incidents, links)
            link_rows, log_rows = [], []
            for incident_id, persons, entries in zip(ids, links, log, strict=True):
                for row in persons:
                    row["incident_id"] = incident_id
                    link_rows.append(row)
                for row in entries:
                    row["incident_id"] = incident_id
                    log_rows.append(row)
            self.w.rows("incident persons", IncidentPerson, link_rows)
            self.w.rows("incident log entries", IncidentLogEntry, log_rows)
            self.w.commit()
            self.w.progress("incidents", end, total)
        # The app numbers new incidents from each day's last number: without these rows
        # its next incident today would reuse a seeded reference.
        self.w.rows(
            None,
            IncidentSequence,
            [{"day": day, "last_number": n} for day, n in last_numbers.items()],
        )
        self.w.commit()

    def _crimes(self, rng: random.Random, ids, incidents, links) -> None:
        """A crime record for each incident closed with a crime reference (the reference
        is the crime's), recorded at the closing, with its classification and, for one
        closed more than OUTCOME_AFTER_DAYS ago, an outcome."""
        crimes, suspects = [], []
        for incident_id, row, persons in zip(ids, incidents, links, strict=True):
            offence = _crime_offence(row)
            if offence is None:
                continue
            victim = next((p["person_id"] for p in persons if p["role"] == "victim"), None)
            outcome, outcome_date = 0, None
            if (self.anchor - row["closed_at"]).days > OUTCOME_AFTER_DAYS:
                outcome = rng.choices(
                    [c for c, _ in OUTCOME_WEIGHTS], [w for _, w in OUTCOME_WEIGHTS]
                )[0]
                if outcome:
                    outcome_date = (
                        row["closed_at"] + timedelta(days=rng.randint(3, OUTCOME_AFTER_DAYS))
                    ).date()
            crimes.append(
                {
                    "reference": row["crime_reference"],
                    "incident_id": incident_id,
                    "offence_code": offence,
                    "victim_id": victim,
                    "recorded_at": row["closed_at"],
                    "recorded_by_id": row["closed_by_id"],
                    "committed_from": row["opened_at"],
                    "location_id": row["location_id"],
                    "location_text": row["location_text"],
                    "domestic": row["domestic"],
                    "state": "recorded",
                    "outcome_code": outcome,
                    "outcome_date": outcome_date,
                    "version": 1,
                }
            )
            suspects.append([p["person_id"] for p in persons if p["role"] == "suspect"])
        if not crimes:
            return
        crime_ids = self.w.rows_with_ids("crimes", Crime, crimes)
        self.w.rows(
            None,
            CrimeClassification,
            [
                {
                    "crime_id": crime_id,
                    "old_code": None,
                    "new_code": crime["offence_code"],
                    "reason": None,
                    "changed_at": crime["recorded_at"],
                    "changed_by_id": crime["recorded_by_id"],
                }
                for crime_id, crime in zip(crime_ids, crimes, strict=True)
            ],
        )
        self.w.rows(
            None,
            CrimeOutcome,
            [
                {
                    "crime_id": crime_id,
                    "outcome_code": crime["outcome_code"],
                    "outcome_date": crime["outcome_date"],
                    "given_at": datetime.combine(crime["outcome_date"], time(12), tzinfo=UTC),
                    "given_by_id": crime["recorded_by_id"],
                    "approval_state": "not_needed",
                }
                for crime_id, crime in zip(crime_ids, crimes, strict=True)
                if crime["outcome_date"] is not None
            ],
        )
        self.w.rows(
            None,
            CrimeSuspect,
            [
                {"crime_id": crime_id, "person_id": person_id}
                for crime_id, people in zip(crime_ids, suspects, strict=True)
                for person_id in dict.fromkeys(people)
            ],
        )

    def _ages(
        self,
        rng: random.Random,
        count: int,
        span_days: int,
        skew: float,
        hour_weights: Sequence[float],
    ) -> list[int]:
        """Ages in seconds: more recent ones more often (`skew` > 1), and shaped by the
        hour of day (rejection sampling against `hour_weights`)."""
        span = span_days * 86400
        anchor_seconds = self.anchor.hour * 3600 + self.anchor.minute * 60 + self.anchor.second
        ages: list[int] = []
        while len(ages) < count:
            age = int(span * rng.random() ** skew) + 60
            hour = ((anchor_seconds - age) % 86400) // 3600
            if rng.random() < hour_weights[hour]:
                ages.append(age)
        return ages

    def _references(self, prefix: str, ages: list[int]) -> tuple[list[str], dict[date, int]]:
        """`PREFIX-YYYYMMDD-NNNN` numbered per control-room local day in time order (ages
        oldest first), as the app numbers them; and each day's last number."""
        per_day: dict[date, int] = {}
        references = []
        for age in ages:
            day = reference_day(self.ago(age))
            per_day[day] = per_day.get(day, 0) + 1
            references.append(incident_reference(day, per_day[day]).replace("CR-", f"{prefix}-", 1))
        return references, per_day

    def _prepare_places(self, rng: random.Random) -> None:
        # Incidents concentrate: a heavy-tailed weight per place makes a few addresses
        # the scene of many incidents; homes of offenders and DA households weigh more.
        boost = [1.0] * len(self.loc_kind)
        for person in self.offenders:
            if self.p_home[person] >= 0:
                boost[self.p_home[person]] = 6.0
        self.place_pick = {
            kind: _Weighted(places, [min(rng.paretovariate(1.3), 200.0) * boost[p] for p in places])
            for kind, places in self.locations_of_kind.items()
        }
        self.da_pick = (
            _Weighted(
                self.da_households, [min(rng.paretovariate(1.2), 50.0) for _ in self.da_households]
            )
            if self.da_households
            else None
        )
        self.residents: dict[int, list[int]] = {}
        for person, home in enumerate(self.p_home):
            if home >= 0:
                self.residents.setdefault(home, []).append(person)
        self.offender_list = self.offenders or list(range(len(self.p_forename)))
        self.kinds_for_type: dict[str, _Weighted[str]] = {}

    def _place(self, rng: random.Random, incident_type) -> int | None:
        """A location index for the incident, or None for one on the road network."""
        kinds = self.kinds_for_type.get(incident_type.code)
        if kinds is None:
            choices = TYPE_PLACES.get(incident_type.code) or HEADING_PLACES.get(
                incident_type.heading, (("home", 1),)
            )
            kinds = _Weighted([k for k, _ in choices], [w for _, w in choices])
            self.kinds_for_type[incident_type.code] = kinds
        kind = kinds.pick(rng)
        if kind == "road":
            return None
        pick = self.place_pick.get(kind) or self.place_pick.get("home")
        if pick is None:
            return None
        return pick.pick(rng)

    def _junction(self, rng: random.Random) -> str:
        town = rng.randrange(len(self.towns))
        streets = self.streets_by_town[town] or [0]
        first = self.streets[rng.choice(streets)].name
        second = self.streets[rng.choice(streets)].name
        if first == second:
            return f"{first}, {self.towns[town].name}"
        return f"Junction of {first} and {second}, {self.towns[town].name}"

    def _random_person(self, rng: random.Random) -> int:
        return rng.randrange(len(self.p_forename))

    def _local_or_random(self, rng: random.Random, local: int | None, share: float) -> int:
        """Someone living at the scene `share` of the time (when anyone does), else anyone."""
        if local is not None and rng.random() < share:
            return local
        return self._random_person(rng)

    def _incident(
        self, rng: random.Random, reference: str, age: int, incident_type, backlog: int
    ) -> tuple[dict, list[dict], list[dict]]:
        code = incident_type.code
        opened_at = self.ago(age)
        handler = self.staff(rng, Role.CALL_HANDLER)
        workstation = (
            self.workstation.get(handler, "WS-01")
            if rng.random() < 0.8
            else f"WS-{rng.randint(1, WORKSTATIONS):02d}"
        )
        people: dict[tuple[int, str], None] = {}

        def link(person: int | None, role: PersonRole) -> None:
            if person is not None:
                people[(person, role.value)] = None

        location: int | None
        if (
            incident_type.domestic
            and self.da_pick is not None
            and (backlog >= 0 or rng.random() < 0.7)
        ):
            home, perp, victim = (
                self.rso_da_household
                if backlog == RSO_BACKLOG_INDEX and self.rso_da_household
                else self.da_pick.pick(rng)
            )
            location = home
            link(victim if rng.random() < 0.55 else self._random_person(rng), PersonRole.CALLER)
            link(victim, PersonRole.VICTIM)
            link(perp, PersonRole.SUSPECT)
        else:
            location = self._place(rng, incident_type)
            residents = self.residents.get(location, []) if location is not None else []
            local = residents[rng.randrange(len(residents))] if residents else None
            heading = incident_type.heading
            if code == "SEXO" and self.anonymous:
                victim = rng.choice(self.anonymous)
                link(victim if rng.random() < 0.4 else self._random_person(rng), PersonRole.CALLER)
                link(victim, PersonRole.VICTIM)
                if rng.random() < 0.5:
                    link(rng.choice(self.offender_list), PersonRole.SUSPECT)
            elif incident_type.domestic:
                adults = [p for p in residents if self.p_age[p] >= 18]
                if len(adults) >= 2:
                    link(adults[0], PersonRole.CALLER)
                    link(adults[0], PersonRole.VICTIM)
                    link(adults[1], PersonRole.SUSPECT)
            elif heading == NsirHeading.CRIME.value:
                victim = self._local_or_random(rng, local, 0.7)
                if rng.random() < 0.85:
                    link(victim, PersonRole.VICTIM)
                link(victim if rng.random() < 0.6 else self._random_person(rng), PersonRole.CALLER)
                if rng.random() < 0.5:
                    suspect = (
                        rng.choice(self.offender_list)
                        if rng.random() < 0.65
                        else self._random_person(rng)
                    )
                    if suspect != victim:
                        link(suspect, PersonRole.SUSPECT)
                if rng.random() < 0.2:
                    link(self._random_person(rng), PersonRole.WITNESS)
            elif code in ("WELF", "MHEA", "SUIC", "MISP", "SUDD"):
                pool = {"MHEA": "MENTAL", "SUIC": "SUICIDE", "MISP": "MISSING", "WELF": "VULN"}.get(
                    code
                )
                marked = self.persons_with.get(pool, []) if pool else []
                subject = (
                    rng.choice(marked)
                    if marked and rng.random() < 0.5
                    else local
                    if local is not None
                    else self._random_person(rng)
                )
                link(subject, PersonRole.SUBJECT)
                if rng.random() < 0.8:
                    link(self._random_person(rng), PersonRole.CALLER)
            elif heading == NsirHeading.ANTI_SOCIAL_BEHAVIOUR.value:
                link(self._local_or_random(rng, local, 0.6), PersonRole.CALLER)
                if rng.random() < 0.3:
                    link(rng.choice(self.offender_list), PersonRole.SUSPECT)
            elif code != "ABAN" or rng.random() < 0.3:
                link(self._local_or_random(rng, local, 0.5), PersonRole.CALLER)
                if rng.random() < 0.15:
                    link(self._random_person(rng), PersonRole.WITNESS)

        if location is None:
            location_text = self._junction(rng)
        else:
            location_text = self.loc_text[location]

        # Grade: the type's suggestion most of the time, otherwise one step either way.
        grades = ("G1", "G2", "G3", "G4")
        suggested = incident_type.suggested_grade
        if suggested not in grades:
            suggested = "G2"
        initial = suggested
        if backlog < 0 and rng.random() > 0.65:
            step = rng.choice((-1, 1))
            initial = grades[max(0, min(3, grades.index(suggested) + step))]
        grade = initial
        regraded_at = None
        if backlog < 0 and rng.random() < 0.15:
            step = rng.choice((-1, 1))
            grade = grades[max(0, min(3, grades.index(initial) + step))]
            regraded_at = age - rng.randint(180, 2400)
            if grade == initial or regraded_at <= 0:
                grade, regraded_at = initial, None

        domestic = bool(incident_type.domestic) or (
            code in ("ASLT", "ASLTI", "HARA", "CDAM", "WELF") and rng.random() < 0.12
        )
        household = self.residents.get(location, []) if location is not None else []
        has_child = any(self.p_age[p] < 18 for p in household)
        child_present = (
            code == "CHLD"
            or (domestic and rng.random() < (0.7 if has_child else 0.05))
            or (code == "MISP" and rng.random() < 0.4)
            or (not domestic and rng.random() < 0.02)
        )
        weapons = (
            code == "WEAP"
            or (code == "ROBB" and rng.random() < 0.3)
            or (code in ("ASLTI", "DOMV") and rng.random() < 0.15)
            or (incident_type.possible_crime and rng.random() < 0.01)
        )

        # The call's life: when a resource was assigned, arrived and the incident closed,
        # as seconds after opening (None: never). Whatever lies beyond the anchor has not
        # happened yet, which gives recent incidents their open statuses.
        # An emergency is never left in a queue; domestic calls are, most of all.
        stuck_share = {"G1": 0.0, "G2": 0.004, "G3": 0.03, "G4": 0.03}.get(grade, 0.0)
        if incident_type.domestic and grade != "G1":
            stuck_share = 0.05
        stuck = backlog >= 0 or rng.random() < stuck_share
        dispatched = arrived = closed = None
        closer_role = Role.DISPATCHER
        if stuck:
            # Sat in a queue nobody looked at; a review closes it only after ~3 months.
            if backlog < 0 and age > 100 * 86400:
                closed = rng.randint(30, 100) * 86400
                closer_role = Role.SUPERVISOR
        elif grade == "G4" or (grade in ("G2", "G3") and rng.random() < 0.1):
            closed = rng.randint(600, 6 * 3600)
            closer_role = Role.CALL_HANDLER
        else:
            # G3 is an appointment: a resource is assigned hours ahead and attends at the
            # agreed time, so scheduled calls sit "dispatched" for a while.
            dispatch_delay = {"G1": (30, 360), "G2": (180, 3000), "G3": (3600, 24 * 3600)}
            travel = {"G1": (240, 1200), "G2": (480, 3600), "G3": (3600, 24 * 3600)}
            dispatched = rng.randint(*dispatch_delay[grade])
            arrived = dispatched + rng.randint(*travel[grade])
            closed = arrived + rng.randint(1800, 6 * 3600)  # DA and crime scenes take hours
        status = IncidentStatus.OPEN
        if dispatched is not None and dispatched <= age:
            status = IncidentStatus.DISPATCHED
        if arrived is not None and arrived <= age:
            status = IncidentStatus.AT_SCENE
        if closed is not None and closed <= age:
            status = IncidentStatus.CLOSED

        closing_type = result = closed_at = closed_by = crime_reference = no_crime_reason = None
        if status is IncidentStatus.CLOSED:
            assert closed is not None  # CLOSED only when a closing time was drawn
            closing_type = code
            alternatives = [c for c in RECLASSIFICATIONS.get(code, ()) if c in self.types]
            if alternatives and rng.random() < 0.2:
                closing_type = rng.choice(alternatives)
            result, recorded = self._result(rng, self.types[closing_type], stuck)
            closed_at = opened_at + timedelta(seconds=closed)
            closed_by = self.staff(rng, closer_role)
            if recorded:
                year = reference_day(opened_at).year
                self.crime_numbers[year] = self.crime_numbers.get(year, 0) + 1
                crime_reference = f"CRM-{year}-{self.crime_numbers[year]:06d}"
            elif incident_type.possible_crime:
                no_crime_reason = (
                    REVIEW_CLOSURE
                    if stuck
                    else result
                    if result.startswith("No crime")
                    else rng.choice(NO_CRIME_REASONS)
                )

        narrative = rng.choice(NARRATIVES.get(code, (f"Caller reports: {incident_type.label}.",)))
        extras = []
        names = {role: person for person, role in people}
        if "suspect" in names:
            extras.append(f"Suspect named as {self.person_name(names['suspect'])}.")
        if "subject" in names:
            extras.append(f"Person of concern: {self.person_name(names['subject'])}.")
        if child_present and code != "CHLD":
            extras.append("Children are in the house.")
        if weapons and code != "WEAP":
            extras.append("Caller mentions a knife.")
        narrative = " ".join([narrative, *extras])

        row = {
            "reference": reference,
            "opened_at": opened_at,
            "opened_by_id": handler,
            "workstation": workstation,
            "opening_type_code": code,
            "closing_type_code": closing_type,
            "grade": grade,
            "status": status.value,
            "location_id": None if location is None else self.location_ids[location],
            "location_text": location_text,
            "narrative": narrative,
            "domestic": domestic,
            "child_present": child_present,
            "weapons": weapons,
            "possible_crime": bool(incident_type.possible_crime),
            "closed_at": closed_at,
            "closed_by_id": closed_by,
            "result": result,
            "version": 1,
            "postcode": None if location is None else self.loc_postcode[location],
            "crime_reference": crime_reference,
            "no_crime_reason": no_crime_reason,
        }
        row.update(self._caller(rng, people, incident_type, location))
        row.update(
            self._thrive(rng, age, opened_at, handler, domestic, child_present, status, stuck)
        )

        links = [
            {
                "person_id": self.person_ids[person],
                "role": role,
                "linked_at": opened_at + timedelta(seconds=min(age, rng.randint(20, 600))),
                "linked_by_id": handler,
            }
            for person, role in people
        ]

        entries = [
            {
                "entered_at": opened_at,
                "entered_by_id": handler,
                "kind": LogKind.NOTE.value,
                "text": f"Incident opened: {incident_type.label}. {narrative}",
                "old_value": None,
                "new_value": None,
            }
        ]
        timeline: list[tuple[int, dict]] = []
        if regraded_at is not None:
            direction = "up" if grades.index(grade) < grades.index(initial) else "down"
            timeline.append(
                (
                    age - regraded_at,
                    {
                        "entered_by_id": self.staff(rng, Role.SUPERVISOR),
                        "kind": LogKind.GRADE_CHANGE.value,
                        "text": rng.choice(REGRADE_REASONS[direction]),
                        "old_value": initial,
                        "new_value": grade,
                    },
                )
            )
        if dispatched is not None and dispatched <= age:
            timeline.append(
                (
                    dispatched,
                    {
                        "entered_by_id": self.staff(rng, Role.DISPATCHER),
                        "kind": LogKind.STATUS_CHANGE.value,
                        "text": f"Resource {rng.choice(PHONETIC)} {rng.randint(10, 59)} assigned.",
                        "old_value": IncidentStatus.OPEN.value,
                        "new_value": IncidentStatus.DISPATCHED.value,
                    },
                )
            )
        if arrived is not None and arrived <= age:
            timeline.append(
                (
                    arrived,
                    {
                        "entered_by_id": self.staff(rng, Role.DISPATCHER),
                        "kind": LogKind.STATUS_CHANGE.value,
                        "text": "Resource at scene.",
                        "old_value": IncidentStatus.DISPATCHED.value,
                        "new_value": IncidentStatus.AT_SCENE.value,
                    },
                )
            )
        if status is IncidentStatus.CLOSED and closed is not None:  # closed is set then
            before = IncidentStatus.AT_SCENE if arrived is not None else IncidentStatus.OPEN
            timeline.append(
                (
                    closed,
                    {
                        "entered_by_id": closed_by,
                        "kind": LogKind.CLOSURE.value,
                        "text": result,
                        "old_value": before.value,
                        "new_value": IncidentStatus.CLOSED.value,
                    },
                )
            )
        timeline.sort(key=lambda t: t[0])
        for offset, entry in timeline:
            entry["entered_at"] = opened_at + timedelta(seconds=offset)
            entries.append(entry)
        return row, links, entries

    def _caller(
        self,
        rng: random.Random,
        people: dict[tuple[int, str], None],
        incident_type,
        location: int | None,
    ) -> dict:
        """Who rang, as the call taker wrote it down: name, number and relationship."""
        roles: dict[str, int] = {}
        for person, role in people:
            roles.setdefault(role, person)
        caller = roles.get(PersonRole.CALLER.value)
        if caller is None:
            # Silent and anonymous calls still show the number they came from.
            return {
                "caller_name": None,
                "caller_relationship": None,
                "caller_phone": self._phone(rng.randrange(len(self.p_forename)))
                if incident_type.code == "ABAN" or rng.random() < 0.5
                else None,
            }
        if caller == roles.get(PersonRole.VICTIM.value):
            relationship = "victim"
        elif caller == roles.get(PersonRole.SUBJECT.value):
            relationship = "self"
        elif incident_type.code == "ALRM":
            relationship = "keyholder"
        elif location is not None and self.loc_kind[location] in ("shop", "pub", "business"):
            relationship = "staff"
        elif location is not None and caller in self.residents.get(location, ()):
            relationship = "family member"
        else:
            relationship = rng.choice(CALLER_RELATIONSHIPS)
        return {
            "caller_name": self.person_name(caller),
            "caller_phone": self._phone(caller),
            "caller_relationship": relationship,
        }

    def _phone(self, person: int) -> str:
        # One number per person, so a second call from the same person matches; the
        # drama ranges hold 5,000 numbers, so in the large force numbers repeat.
        prefix = DRAMA_PHONE_PREFIXES[(person // 1000) % len(DRAMA_PHONE_PREFIXES)]
        return f"{prefix}{person % 1000:03d}"

    def _result(self, rng: random.Random, closing_type, stuck: bool) -> tuple[str, bool]:
        """The closing result, and whether it records a crime."""
        if stuck:
            return REVIEW_CLOSURE, False
        if closing_type.domestic:
            group = "domestic"
        elif closing_type.heading == NsirHeading.CRIME.value:
            group = "crime"
        elif closing_type.heading == NsirHeading.ANTI_SOCIAL_BEHAVIOUR.value:
            group = "asb"
        elif closing_type.heading == NsirHeading.TRANSPORT.value:
            group = "transport"
        elif closing_type.heading == NsirHeading.ADMINISTRATION.value:
            group = "admin"
        else:
            group = "welfare"
        return rng.choice(RESULTS_BY_GROUP[group])

    def _thrive(
        self,
        rng: random.Random,
        age: int,
        opened_at: datetime,
        handler: int,
        domestic: bool,
        child_present: bool,
        status: IncidentStatus,
        stuck: bool,
    ) -> dict:
        chance = 0.5 if stuck else 0.9 if status is IncidentStatus.CLOSED else 0.7
        assessed_after = rng.randint(120, 1200)
        fields: dict = {f"thrive_{part}": None for part in THRIVE_PARTS}
        fields["thrive_assessed_at"] = None
        fields["thrive_assessed_by_id"] = None
        fields["thrive_skipped"] = False
        if rng.random() >= chance or assessed_after > age:
            # Not assessed: shown as such, never as "no risk". Some call takers said so.
            fields["thrive_skipped"] = rng.random() < 0.3
            return fields
        flavour = "domestic" if domestic else "other"
        fields["thrive_threat"] = rng.choice(THRIVE_TEXT["threat"][flavour])
        fields["thrive_harm"] = rng.choice(THRIVE_TEXT["harm"][flavour])
        fields["thrive_risk"] = rng.choice(THRIVE_TEXT["risk"])
        fields["thrive_investigation"] = rng.choice(THRIVE_TEXT["investigation"])
        fields["thrive_vulnerability"] = (
            CHILDREN_PRESENT if child_present else rng.choice(THRIVE_TEXT["vulnerability"])
        )
        fields["thrive_engagement"] = rng.choice(THRIVE_TEXT["engagement"])
        fields["thrive_assessed_at"] = opened_at + timedelta(seconds=assessed_after)
        fields["thrive_assessed_by_id"] = (
            handler if rng.random() < 0.8 else self.staff(rng, Role.SUPERVISOR)
        )
        return fields

    # --- intelligence ---------------------------------------------------------------------

    def make_intelligence(self) -> None:
        rng = self.rng("intelligence")
        total = self.size.intelligence
        self.w.progress("intelligence", 0, total)
        combos = []
        for source, grade, weight in GRADING_WEIGHTS:
            grading(source, grade, "P")  # the domain rule vets every combination used
            combos.append(((source, grade), weight))
        combo_pick = _Weighted([c for c, _ in combos], [w for _, w in combos])
        theme_pick = _Weighted(INTELLIGENCE_THEMES, [t[0] for t in INTELLIGENCE_THEMES])
        # Who each theme is usually about, gathered once (a million-person force has tens
        # of thousands of marker holders).
        self.theme_pools = {
            codes: [p for code in codes for p in self.persons_with.get(code, [])]
            for _weight, codes, _templates in INTELLIGENCE_THEMES
        }
        office_hours = tuple(1.0 if 7 <= h <= 19 else 0.15 for h in range(24))
        ages = self._ages(rng, total, INTELLIGENCE_SPAN_DAYS, 1.15, office_hours)
        ages.sort(reverse=True)
        references, _ = self._references("IR", ages)
        report_ids: list[int] = []
        gradings: dict[tuple[str, str, str | None], Grading] = {}
        # Recent reports' subjects, so a correction can restate them; older entries are
        # dropped as the window moves, which keeps the large force's memory flat.
        recent: dict[int, tuple[list[int], int | None, str]] = {}
        superseded: set[int] = set()
        window = 2000
        for start, end in _chunks(total):
            for old in [k for k in recent if k < start - window]:
                del recent[old]
            reports, subjects = [], []
            for k in range(start, end):
                persons: list[int]
                place: int | None
                earlier = None
                # A correction supersedes a report from an earlier batch, whose id is known.
                if start > 0 and rng.random() < 0.02:
                    candidate = rng.randrange(max(0, start - window), start)
                    if candidate not in superseded:
                        earlier = candidate
                if earlier is not None:
                    superseded.add(earlier)
                    persons, place, body = recent[earlier]
                    text = (
                        f"Update to {references[earlier]}: further information corroborates "
                        f"the earlier report. {body}"
                    )
                else:
                    persons, place, body = self._intelligence_text(rng, theme_pick.pick(rng))
                    text = body
                recent[k] = (persons, place, body)
                source, grade = combo_pick.pick(rng)
                restricted = rng.random() < 0.04
                conditions = None
                if rng.random() < (0.7 if restricted else 0.2):
                    conditions = rng.choice(HANDLING_CONDITIONS)
                key = (source, grade, conditions)
                vetted = gradings.get(key)
                if vetted is None:  # a few dozen combinations, vetted once each
                    vetted = gradings[key] = grading(
                        source, grade, "C" if conditions else "P", conditions
                    )
                reports.append(
                    {
                        "reference": references[k],
                        "submitted_at": self.ago(ages[k]),
                        "submitted_by_id": (
                            self.staff(rng, Role.INTELLIGENCE)
                            if rng.random() < 0.6
                            else self.staff(rng, Role.CALL_HANDLER, Role.SUPERVISOR)
                        ),
                        "source_grade": vetted.source.value,
                        "intelligence_grade": vetted.intelligence.value,
                        "handling_code": vetted.handling.value,
                        "handling_conditions": vetted.conditions,
                        "text": text,
                        "restricted": restricted,
                        "supersedes_id": None if earlier is None else report_ids[earlier],
                    }
                )
                subjects.append((persons, place))
            ids = self.w.rows_with_ids("intelligence reports", IntelligenceReport, reports)
            report_ids += ids
            subject_rows = []
            for report_id, (persons, place) in zip(ids, subjects, strict=True):
                for person in persons:
                    subject_rows.append(
                        {
                            "report_id": report_id,
                            "person_id": self.person_ids[person],
                            "location_id": None,
                        }
                    )
                if place is not None:
                    subject_rows.append(
                        {
                            "report_id": report_id,
                            "person_id": None,
                            "location_id": self.location_ids[place],
                        }
                    )
            self.w.rows("intelligence subjects", IntelligenceSubject, subject_rows)
            self.w.commit()
            self.w.progress("intelligence", end, total)

    def _intelligence_text(self, rng: random.Random, theme) -> tuple[list[int], int | None, str]:
        """Subjects (person indexes, a location index) and the report text about them."""
        _weight, codes, templates = theme
        template = rng.choice(templates)
        persons: list[int] = []
        place: int | None = None
        if "DAPERP" in codes and self.da_households:
            assert self.da_pick is not None  # there are DA households
            home, perp, victim = self.da_pick.pick(rng)
            persons = [perp, victim]
            place = home
        elif "{p}" in template:
            pool = self.theme_pools[codes]
            person = (
                rng.choice(pool) if pool and rng.random() < 0.75 else rng.choice(self.offender_list)
            )
            persons = [person]
            if "{q}" in template:
                other = rng.choice(self.offender_list)
                if other != person:
                    persons.append(other)
            if "{address}" in template or "{street}" in template:
                home = self.p_home[person]
                place = home if home >= 0 and rng.random() < 0.7 else self._any_home(rng)
        if place is None and ("{address}" in template or "{street}" in template):
            place = self._any_home(rng)
        if "{q}" in template and len(persons) < 2:
            persons.append(self._random_person(rng))
        values = {
            "p": self.person_in_report(persons[0]) if persons else "",
            "q": self.person_in_report(persons[1]) if len(persons) > 1 else "",
            "address": "" if place is None else self.loc_text[place],
            "street": "" if place is None else self.streets[self.loc_street[place]].name,
            "town": (
                self.towns[self.streets[self.loc_street[place]].town].name
                if place is not None
                else self.towns[rng.randrange(len(self.towns))].name
            ),
            "n3": f"{rng.randint(0, 999):03d}",
        }
        return persons, place, template.format(**values)

    def _any_home(self, rng: random.Random) -> int | None:
        pick = self.place_pick.get("home")
        return None if pick is None else pick.pick(rng)

    # --- units (issue 17) ------------------------------------------------------------

    def make_units(self) -> None:
        """A few hundred units across the towns' police stations, crewed for the shift, most
        on duty near their station; the seed's own anchor is when they took their status."""
        rng = self.rng("units")
        total = self.size.units
        self.w.progress("units", 0, total)
        centre = (
            sum(t.latitude for t in self.towns) / len(self.towns),
            sum(t.longitude for t in self.towns) / len(self.towns),
        )
        towns = _Weighted(range(len(self.towns)), [t.weight for t in self.towns])
        # Every town has a station with a few units; the rest go by the towns' weights.
        homes = [i % len(self.towns) for i in range(min(total, len(self.towns) * 4))]
        homes += [towns.pick(rng) for _ in range(total - len(homes))]
        kinds = _Weighted(UNIT_MIX, [share for _, share, _, _ in UNIT_MIX])
        states = _Weighted([code for code, _ in UNIT_STATES], [share for _, share in UNIT_STATES])
        numbers: dict[str, int] = {}
        unit_rows: list[dict] = []
        crews: list[tuple[int, str, str]] = []  # (unit index, name, skills)
        for index, home in enumerate(homes):
            town = self.towns[home]
            type_code, _, crew_size, unit_skills = kinds.pick(rng)
            prefix = UNIT_PREFIX[type_code]
            numbers[prefix] = numbers.get(prefix, 0) + 1
            unit_rows.append(
                {
                    "callsign": f"{prefix}{numbers[prefix]}",
                    "type_code": type_code,
                    "station": f"{town.name} Police Station",
                    "area": _area(town, centre),
                    "status_code": states.pick(rng),
                    "status_since": self.ago(rng.randint(60, 5 * 3600)),
                    "incident_id": None,
                    "latitude": round(town.latitude + rng.uniform(-0.03, 0.03), 6),
                    "longitude": round(town.longitude + rng.uniform(-0.045, 0.045), 6),
                    "version": 1,
                    "change_seq": 0,
                }
            )
            for _ in range(crew_size):
                sex = MALE if rng.random() < 0.6 else FEMALE
                name = f"{self._plain_forename(rng, sex)} {self.surnames.pick(rng)}"
                skills = set(unit_skills) | {
                    code for code, share in OFFICER_SKILLS if rng.random() < share
                }
                crews.append((index, name, " ".join(sorted(skills))))
        ids = self.w.rows_with_ids("units", Unit, unit_rows)
        collars = rng.sample(range(10000, 99999), len(crews))
        self.w.rows(
            "unit crew",
            UnitCrew,
            [
                {
                    "unit_id": ids[index],
                    "collar_number": str(collars[n]),
                    "name": name,
                    "skills": skills,
                }
                for n, (index, name, skills) in enumerate(crews)
            ],
        )
        sent = self._send_units(rng, unit_rows, ids)
        # Each unit's history holds how it came to its status now (issue 17: "the unit's
        # history kept"; `h` on the board showed nothing for a seeded unit): the status
        # it took at its `status_since`, and for a unit sent to an incident the
        # dispatcher who sent it. Made from what is drawn above: no new draws, so the
        # rest of the force is as before.
        history: list[dict] = []
        for index, row in enumerate(unit_rows):
            code, since, incident_id, by = sent.get(
                index, (row["status_code"], row["status_since"], None, None)
            )
            if code == "SC":  # sent and arrived in the same minute: assigned, then at scene
                history.append(self._status_change(ids[index], "AS", since, incident_id, by))
            history.append(self._status_change(ids[index], code, since, incident_id, by))
        self.w.rows("unit status changes", UnitStatusChange, history)
        self.w.commit()
        self.w.progress("units", total, total)

    @staticmethod
    def _status_change(
        unit_id: int, code: str, at: datetime, incident_id: int | None, by: int | None
    ) -> dict:
        return {
            "unit_id": unit_id,
            "changed_at": at,
            "status_code": code,
            "incident_id": incident_id,
            "changed_by_id": by,
            "terminal": SEED_TERMINAL,
            "override": False,
        }

    def _send_units(
        self, rng: random.Random, unit_rows: list[dict], ids: list[int]
    ) -> dict[int, tuple[str, datetime, int, int]]:
        """The incidents already dispatched or at scene get the nearest available unit
        (assigned, or at scene and arrived), so the board opens on a shift under way.
        Returns, by unit index, each sent unit's (status, since, incident, sent by)."""
        from controlroom.domain.geo import distance_m

        statuses = (IncidentStatus.DISPATCHED.value, IncidentStatus.AT_SCENE.value)
        free = [i for i, row in enumerate(unit_rows) if row["status_code"] == "AV"]
        assignments: list[dict] = []
        sent: dict[int, tuple[str, datetime, int, int]] = {}
        for incident_id, status, opened_at, lat, lon in self.w.uow.bulk.incidents_in_status(
            statuses
        ):
            if not free or lat is None or lon is None:
                continue
            nearest = min(
                free,
                key=lambda i: distance_m(
                    lat, lon, unit_rows[i]["latitude"], unit_rows[i]["longitude"]
                ),
            )
            free.remove(nearest)
            at_scene = status == IncidentStatus.AT_SCENE.value
            since = max(self.ago(rng.randint(120, 40 * 60)), opened_at)
            code = "SC" if at_scene else "AS"
            self.w.uow.bulk.update_unit(ids[nearest], code, since, incident_id)
            sender = self.staff(rng, Role.DISPATCHER)
            sent[nearest] = (code, since, incident_id, sender)
            assignments.append(
                {
                    "unit_id": ids[nearest],
                    "incident_id": incident_id,
                    "assigned_at": since,
                    "assigned_by_id": sender,
                    "override": False,
                    "arrived_at": since if at_scene else None,
                    "cleared_at": None,
                }
            )
        self.w.rows("unit assignments", UnitAssignment, assignments)
        return sent


# --- unit mix (issue 17) --------------------------------------------------------------------

# Where a seeded unit's history says its status was set from (a unit history's
# "terminal" column): not a station of the synthetic force, and plainly so.
SEED_TERMINAL = "seed"

# (type code, share of the force's units, crew size, skills every crew member has)
UNIT_MIX: tuple[tuple[str, float, int, tuple[str, ...]], ...] = (
    ("IRV", 0.45, 2, ()),
    ("NBH", 0.18, 1, ()),
    ("RPU", 0.08, 2, ("RP", "AD")),
    ("ARV", 0.07, 2, ("FA", "AD", "MD")),
    ("DOG", 0.05, 1, ("DG",)),
    ("CVAN", 0.07, 2, ()),
    ("POU", 0.10, 3, ("PO",)),
)
UNIT_PREFIX = {
    "IRV": "RV",
    "NBH": "NP",
    "RPU": "RP",
    "ARV": "AR",
    "DOG": "DH",
    "CVAN": "CV",
    "POU": "PO",
}
# Skills some officers hold besides their unit's (share of officers).
OFFICER_SKILLS = (("TA", 0.35), ("MD", 0.40), ("AD", 0.18), ("SR", 0.12), ("PO", 0.15))
# The state of the shift the seed is taken in: (status code, share of units).
UNIT_STATES = (("AV", 0.50), ("BU", 0.07), ("RF", 0.05), ("OD", 0.38))


def _area(town: _Town, centre: tuple[float, float]) -> str:
    """A policing area by where the town lies from the force's centre."""
    north, east = town.latitude - centre[0], (town.longitude - centre[1]) * 0.6
    if abs(north) < 0.05 and abs(east) < 0.05:
        return "Central"
    if abs(north) >= abs(east):
        return "North" if north > 0 else "South"
    return "East" if east > 0 else "West"
