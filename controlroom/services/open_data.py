"""The anonymised open-data returns: a month's data.police.uk street file and outcomes
file, rebuilt from the database byte for byte.

`export_month` makes both files of one month (local time):
- the street file: one row per crime recorded in the month and not cancelled (its type
  the open-data type of its Home Office class, its last outcome category the police.uk
  category of its current outcome), in the order recorded; then one row per
  anti-social behaviour incident opened in the month (no Crime ID, no outcome, as on
  data.police.uk), in the order opened;
- the outcomes file: one row per outcome dated in the month (not 0; approved, where it
  needs approval) of a crime not cancelled, in the order given.
A row carries only an opaque Crime ID (a salted hash of the crime record, the same in
both files so they join), the month, the force, a snapped map point and "On or near
<street>", and the type or outcome category. It never reads a person, a caller, a
narrative, an address or an intelligence report, so no personal data, no sexual-offence
complainant and no restricted record can reach it. Every row is checked against its
file's columns and values before anything is written (`ReturnInvalid` otherwise). The
same database and the same salt give the same bytes; each making is recorded
(`open_data_return`: rows and SHA-256 of each file), and a month never made is flagged
on the command view (`missing_months`).

Access: the permission table's `export.anonymised` (analysts and supervisors); a denial
is audited. From a production database the export also needs a justification (the rule
the other exports follow: `services.audit_trail.JUSTIFICATION_MINIMUM`); the export is
audited as `open_data.export` with the month and the counts, before it is written out.

The Crime ID salt is the force's, one for every analyst: it lives in each analyst's
keyring (never in a file), and the database keeps its fingerprint (a one-way hash).
The first export ever makes it and records the fingerprint; after that an export with
another salt is refused (`SaltMismatch`), as is one with none (`SaltMissing`): the salt
is passed from an analyst who holds it (`controlroom export salt --show`) to one who
does not (`controlroom export salt --import`, typed or pasted, never a file), so two
analysts exporting the same month give the same Crime IDs.
"""

from __future__ import annotations

import hashlib
import secrets as _random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, NamedTuple

from controlroom.domain import open_data
from controlroom.domain.environment import Environment
from controlroom.domain.identity import Actor
from controlroom.domain.incidents import REFERENCE_ZONE
from controlroom.domain.permissions import Action
from controlroom.services import access, audit
from controlroom.services.audit_trail import JUSTIFICATION_MINIMUM

if TYPE_CHECKING:  # the data layer loads SQLAlchemy: not at start-up
    from controlroom.services.unit_of_work import UnitOfWork

AUDIT_ACTION = "open_data.export"
SALT_KEY = "open-data-crime-id-salt"


class OpenDataRow(NamedTuple):
    """A street-file row (a tuple: a month's tens of thousands are made quickly)."""

    crime_id: str
    month: str
    reported_by: str
    falls_within: str
    longitude: float | None
    latitude: float | None
    location: str
    lsoa_code: str
    lsoa_name: str
    crime_type: str
    last_outcome_category: str
    context: str

    def cells(self) -> tuple[str, ...]:
        """The row in `open_data.COLUMNS` order, as text."""
        return (
            self.crime_id,
            self.month,
            self.reported_by,
            self.falls_within,
            open_data.coordinate(self.longitude),
            open_data.coordinate(self.latitude),
            self.location,
            self.lsoa_code,
            self.lsoa_name,
            self.crime_type,
            self.last_outcome_category,
            self.context,
        )


class OutcomeRow(NamedTuple):
    """An outcomes-file row."""

    crime_id: str
    month: str
    reported_by: str
    falls_within: str
    longitude: float | None
    latitude: float | None
    location: str
    outcome_type: str

    def cells(self) -> tuple[str, ...]:
        """The row in `open_data.OUTCOME_COLUMNS` order, as text."""
        return (
            self.crime_id,
            self.month,
            self.reported_by,
            self.falls_within,
            open_data.coordinate(self.longitude),
            open_data.coordinate(self.latitude),
            self.location,
            "",
            "",
            self.outcome_type,
        )


@dataclass(frozen=True, slots=True)
class OpenDataExport:
    month: str
    environment: Environment
    rows: tuple[OpenDataRow, ...]  # the street file
    outcome_rows: tuple[OutcomeRow, ...]
    not_exportable: int  # incidents of the month left out (not a crime type, no crime)
    street_file: bytes
    outcomes_file: bytes
    street_name: str  # data.police.uk's file names: 2026-11-<force>-street.csv
    outcomes_name: str
    same_as_before: bool | None  # byte-identical to the last making (None: first one)


class SaltMismatch(access.PermissionDenied):
    """This keyring's Crime-ID salt is not the force's: its Crime IDs would not match."""


class ReturnInvalid(ValueError):
    """A row failed its file's check; nothing was written."""


SALT_MISSING = (
    "the force's Crime-ID salt is not in this keyring, and exports must share it (or the "
    "Crime IDs would not match those already published): ask an analyst or supervisor "
    "who has exported to run `controlroom export salt --show`, then run `controlroom "
    "export salt --import` and type or paste it"
)
SALT_MISMATCH = (
    "this keyring's Crime-ID salt is not the force's: its Crime IDs would not match those "
    "already published. Import the force's salt (`controlroom export salt --import`, from "
    "an analyst who has exported: `controlroom export salt --show`)"
)


def keyring_salt() -> str | None:
    """The Crime-ID salt in this OS user's keyring, or None. `secrets.KeyringUnavailable`
    when there is no keyring: never a plaintext fallback."""
    from controlroom.services.secrets import SERVICE_NAME, keyring_backend

    return keyring_backend().get_password(SERVICE_NAME, SALT_KEY) or None


def store_salt(salt: str) -> None:
    from controlroom.services.secrets import SERVICE_NAME, keyring_backend

    keyring_backend().set_password(SERVICE_NAME, SALT_KEY, salt)


def crime_id_salt() -> str:
    """The salt of Crime IDs from the keyring; a new one, stored there, when it holds
    none (the export then refuses it if the force already has another)."""
    salt = keyring_salt()
    if not salt:
        salt = _random.token_hex(32)
        store_salt(salt)
    return salt


def is_salt(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def check_salt(uow: UnitOfWork, actor: Actor, salt: str) -> bool:
    """Whether `salt` is the force's; with none recorded yet, it becomes the force's
    (its fingerprint recorded, audited). For the caller's unit of work (not committed)."""
    from controlroom.data.cold_models import OpenDataSalt

    fingerprint = open_data.salt_check(salt)
    known = uow.crimes.salt()
    if known is None:
        uow.crimes.add(
            OpenDataSalt(
                id=1, fingerprint=fingerprint, made_at=datetime.now(UTC), made_by_id=actor.staff_id
            )
        )
        audit.record(uow, actor, "open_data.salt", "export", "salt", detail="the force's salt set")
        return True
    return known.fingerprint == fingerprint


def force_salt_set(uow: UnitOfWork) -> bool:
    """Whether the force's Crime-ID salt has been set (by the first export)."""
    with uow:
        return uow.crimes.salt() is not None


def share_salt(uow: UnitOfWork, actor: Actor, salt: str | None, *, importing: bool) -> None:
    """Showing this keyring's salt to pass it on (`importing` False), or taking one in
    (True): analysts and supervisors only, audited either way (never the salt itself).
    PermissionDenied with the reason when the salt is not the force's, or there is none."""
    what = "open_data.salt_import" if importing else "open_data.salt_show"
    with uow:
        access.require(uow, actor, Action.EXPORT_ANONYMISED, "export", "salt", audit_action=what)
        known = uow.crimes.salt()
        problem = None
        if known is None:
            problem = "the force has no Crime-ID salt yet: the first export makes it"
        elif not salt or not is_salt(salt):
            problem = (
                "not a Crime-ID salt (64 hex digits)"
                if importing
                else "this keyring holds no Crime-ID salt"
            )
        elif known.fingerprint != open_data.salt_check(salt):
            problem = (
                "that is not the force's Crime-ID salt"
                if importing
                else "this keyring's Crime-ID salt is not the force's"
            )
        if problem is not None:
            access.refuse(
                uow,
                actor,
                Action.EXPORT_ANONYMISED,
                "export",
                "salt",
                audit_action=what,
                detail=problem,
                message=problem,
            )
        audit.record(uow, actor, what, "export", "salt", detail="the force's salt")
        uow.commit()


def _month_bounds(first: date) -> tuple[datetime, datetime]:
    return _utc(first), _utc(open_data.next_month(first))


def missing_months(uow: UnitOfWork, now: datetime, *, months: int = 12) -> tuple[date, ...]:
    """The complete months (local time) of the last `months`, from the first crime
    recorded on, whose returns were never made: oldest first. For the command view."""
    from controlroom.domain.local_time import local_day

    first_crime = uow.crimes.first_crime_at()
    if first_crime is None:
        return ()
    if first_crime.tzinfo is None:
        first_crime = first_crime.replace(tzinfo=UTC)
    this_month = local_day(now).replace(day=1)
    start = this_month
    for _ in range(months):
        start = (start - timedelta(days=1)).replace(day=1)
    start = max(start, local_day(first_crime).replace(day=1))
    made = uow.crimes.returns_made(start, this_month)
    wanted = []
    day = start
    while day < this_month:
        if day not in made:
            wanted.append(day)
        day = open_data.next_month(day)
    return tuple(wanted)


def _utc(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=REFERENCE_ZONE).astimezone(UTC)


def export_month(
    uow: UnitOfWork,
    actor: Actor,
    month: str,
    *,
    salt: str,
    justification: str | None = None,
    now: datetime | None = None,
) -> OpenDataExport:
    """The street and outcomes files of `month` ("YYYY-MM"); ValueError for a month not
    so written; `SaltMissing`/`SaltMismatch` for a salt not the force's; `ReturnInvalid`
    for a row that fails its file's check (nothing made)."""
    from controlroom.data.cold_models import OpenDataReturn

    first = open_data.parse_month(month)
    label = f"{first:%Y-%m}"
    reason = (justification or "").strip() or None
    made_at = now or datetime.now(UTC)
    with uow:
        access.require(
            uow, actor, Action.EXPORT_ANONYMISED, "export", label, audit_action=AUDIT_ACTION
        )
        info = uow.database.get()
        environment = Environment(info.environment) if info is not None else Environment.PRODUCTION
        if environment is Environment.PRODUCTION and (
            reason is None or len(reason) < JUSTIFICATION_MINIMUM
        ):
            access.refuse(
                uow,
                actor,
                Action.EXPORT_ANONYMISED,
                "export",
                label,
                audit_action=AUDIT_ACTION,
                detail=f"month {label}: no justification (production)",
                message="an export from a production database needs a justification"
                f" (--justification, at least {JUSTIFICATION_MINIMUM}"
                " characters)",
            )
        if not check_salt(uow, actor, salt):
            access.refuse(
                uow,
                actor,
                Action.EXPORT_ANONYMISED,
                "export",
                label,
                audit_action=AUDIT_ACTION,
                detail=f"month {label}: a Crime-ID salt not the force's",
                message=SALT_MISMATCH,
                error=SaltMismatch,
            )
        force = info.force_name if info is not None else ""
        start, end = _month_bounds(first)
        # The month's rows are read in a read-only part (one snapshot; on SQLite no write
        # lock, which every other station's save would wait for: the reads and the rows
        # made from them take over a second on a force's database). The return's record
        # and its audit are written after, in a transaction of their own.
        with uow.reading():
            crimes = uow.crimes.street_crimes(start, end)
            outcomes = uow.crimes.month_outcomes(first, open_data.next_month(first))
            # Anti-social behaviour goes out by street too: only those incidents are placed.
            asb = uow.incidents.opened_between_with_streets(start, end, open_data.ASB_CODES)

        # A month's crimes share streets, and a crime with an outcome is often in both
        # files: each street is placed, and each Crime ID made, once.
        placed: dict[tuple, tuple[float | None, float | None, str, str, str]] = {}

        def place(key: tuple) -> tuple[float | None, float | None, str, str, str]:
            street, point = key
            if not street or point is None:
                found: tuple[float | None, float | None, str, str, str] = (
                    None,
                    None,
                    "",
                    "",
                    open_data.NO_LOCATION,
                )
            else:
                latitude, longitude = open_data.snap(*point)
                found = (
                    longitude,
                    latitude,
                    open_data.coordinate(longitude),
                    open_data.coordinate(latitude),
                    open_data.on_or_near(street),
                )
            placed[key] = found
            return found

        made_ids: dict[int, str] = {}
        new_id = open_data.crime_ids(salt)

        def crime_id(crime_number: int) -> str:
            made = made_ids.get(crime_number)
            if made is None:
                made = made_ids[crime_number] = new_id(crime_number)
            return made

        rows: list[OpenDataRow] = []
        street_cells: list[tuple[str, ...]] = []

        def street_row(made: str, key: tuple, crime_type: str, last: str) -> None:
            longitude, latitude, x, y, location = placed.get(key) or place(key)
            rows.append(
                OpenDataRow(
                    made, label, force, force, longitude, latitude, location, "", "",
                    crime_type, last, "",
                )
            )  # fmt: skip
            street_cells.append(
                (made, label, force, force, x, y, location, "", "", crime_type, last, "")
            )

        for crime_number, crime_type, code, street, centre in crimes:
            street_row(
                crime_id(crime_number),
                (street, centre),
                crime_type,
                open_data.outcome(crime_type, code),
            )
        for _, street, centre in asb:
            street_row("", (street, centre), open_data.ASB, "")
        outcome_rows: list[OutcomeRow] = []
        outcome_cells: list[tuple[str, ...]] = []
        for crime_number, code, street, centre in outcomes:
            key = (street, centre)
            longitude, latitude, x, y, location = placed.get(key) or place(key)
            made = crime_id(crime_number)
            category = open_data.outcome_category(code)
            outcome_rows.append(
                OutcomeRow(made, label, force, force, longitude, latitude, location, category)
            )
            outcome_cells.append((made, label, force, force, x, y, location, "", "", category))
        problems = [
            f"street row {n}: {problem}"
            for n, problem in open_data.file_problems(
                street_cells, label, open_data.street_row_problems
            )
        ] + [
            f"outcomes row {n}: {problem}"
            for n, problem in open_data.file_problems(
                outcome_cells, label, open_data.outcome_row_problems
            )
        ]
        if problems:
            audit.record(
                uow,
                actor,
                AUDIT_ACTION,
                "export",
                label,
                outcome=audit.Outcome.FAILED,
                detail=f"month {label}: {len(problems)} problem(s), nothing written; "
                + "; ".join(problems[:5]),
            )
            uow.commit()
            raise ReturnInvalid(
                f"{len(problems)} row problem(s), nothing written: " + "; ".join(problems[:3])
            )
        street_file = open_data.render(open_data.COLUMNS, street_cells)
        outcomes_file = open_data.render(open_data.OUTCOME_COLUMNS, outcome_cells)
        street_sha = hashlib.sha256(street_file).hexdigest()
        outcomes_sha = hashlib.sha256(outcomes_file).hexdigest()
        before = uow.crimes.returns_made(first, open_data.next_month(first)).get(first)
        same = (
            None
            if before is None
            else (before.street_sha256, before.outcomes_sha256) == (street_sha, outcomes_sha)
        )
        uow.crimes.add(
            OpenDataReturn(
                month=first,
                made_at=made_at,
                made_by_id=actor.staff_id,
                street_rows=len(rows),
                outcome_rows=len(outcome_rows),
                street_sha256=street_sha,
                outcomes_sha256=outcomes_sha,
            )
        )
        # incidents of the month in neither file: not a crime type, or no crime recorded
        # in the month (a possible crime closed without one, or recorded later); the
        # anti-social behaviour ones are in the street file
        left_out = uow.incidents.count_opened_without_crime(start, end, open_data.ASB_CODES)
        audit.record(
            uow,
            actor,
            AUDIT_ACTION,
            "export",
            label,
            justification=reason,
            detail=f"month {label}: {len(rows)} row(s) out, {left_out} incident(s)"
            f" not exportable; {len(outcome_rows)} outcome(s);"
            f" street sha256 {street_sha[:16]}, outcomes sha256 {outcomes_sha[:16]}"
            + ("" if same is None else "; same as before" if same else "; changed")
            + f"; environment={environment.value}",
        )
        uow.commit()
        return OpenDataExport(
            month=label,
            environment=environment,
            rows=tuple(rows),
            outcome_rows=tuple(outcome_rows),
            not_exportable=left_out,
            street_file=street_file,
            outcomes_file=outcomes_file,
            street_name=open_data.file_name(label, force, "street"),
            outcomes_name=open_data.file_name(label, force, "outcomes"),
            same_as_before=same,
        )
