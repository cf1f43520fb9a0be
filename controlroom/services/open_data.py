"""The anonymised open-data export: data.police.uk street-level rows for one month.

`export_month` gives one row per incident of the month (opened in it, local time) whose
type — the closing type when it was closed as something else — is an open-data crime type
(`controlroom.domain.open_data`), leaving out possible crimes closed without a crime.
A row carries only: an opaque Crime ID (a salted hash, blank for anti-social behaviour
as on data.police.uk), the month, the force, a snapped map point and "On or near
<street>", the crime type and an outcome category. It never reads a person, a caller, a
narrative, an address or an intelligence report, so no personal data, no sexual-offence
complainant and no restricted record can reach it.

Access: the permission table's `export.anonymised` (analysts and supervisors); a denial
is audited. From a production database the export also needs a justification (the rule
the other exports follow: `services.audit_trail.JUSTIFICATION_MINIMUM`); the export is
audited as `open_data.export` with the month and the counts, before it is written out.

The Crime ID salt lives in the keyring (`crime_id_salt`), made on first use, so an ID
is stable from month to month but cannot be worked back to an incident.
"""

from __future__ import annotations

import secrets as _random
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

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


@dataclass(frozen=True, slots=True)
class OpenDataRow:
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
            "" if self.longitude is None else f"{self.longitude:.6f}",
            "" if self.latitude is None else f"{self.latitude:.6f}",
            self.location,
            self.lsoa_code,
            self.lsoa_name,
            self.crime_type,
            self.last_outcome_category,
            self.context,
        )


@dataclass(frozen=True, slots=True)
class OpenDataExport:
    month: str
    environment: Environment
    rows: tuple[OpenDataRow, ...]
    not_exportable: int  # incidents of the month left out (not a crime type, no crime)


def crime_id_salt() -> str:
    """The salt of Crime IDs, from the keyring (made there on first use).
    `secrets.KeyringUnavailable` when there is no keyring: never a plaintext fallback."""
    from controlroom.services.secrets import SERVICE_NAME, keyring_backend

    backend = keyring_backend()
    salt = backend.get_password(SERVICE_NAME, SALT_KEY)
    if not salt:
        salt = _random.token_hex(32)
        backend.set_password(SERVICE_NAME, SALT_KEY, salt)
    return salt


def _utc(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=REFERENCE_ZONE).astimezone(UTC)


def export_month(
    uow: UnitOfWork, actor: Actor, month: str, *, salt: str, justification: str | None = None
) -> OpenDataExport:
    """The open-data rows of `month` ("YYYY-MM"); ValueError for a month not so written."""
    first = open_data.parse_month(month)
    label = f"{first:%Y-%m}"
    reason = (justification or "").strip() or None
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
        force = info.force_name if info is not None else ""
        found = uow.incidents.opened_between_with_streets(
            _utc(first), _utc(open_data.next_month(first))
        )
        streets = {(street, town) for *_, street, town in found if street}
        centroids = uow.locations.street_centroids(streets) if streets else {}
        rows, left_out = [], 0
        for incident_id, code, no_crime, crime_ref, street, town in found:
            crime_type = open_data.open_data_type(code)
            closed_no_crime = no_crime is not None and crime_ref is None
            if crime_type is None or (closed_no_crime and crime_type != open_data.ASB):
                left_out += 1
                continue
            point = centroids.get((street, town)) if street else None
            latitude = longitude = None
            if point is not None:
                latitude, longitude = open_data.snap(*point)
            rows.append(
                OpenDataRow(
                    crime_id=""
                    if crime_type == open_data.ASB
                    else open_data.crime_id(salt, incident_id),
                    month=label,
                    reported_by=force,
                    falls_within=force,
                    longitude=longitude,
                    latitude=latitude,
                    location=open_data.on_or_near(street)
                    if point is not None
                    else open_data.NO_LOCATION,
                    lsoa_code="",
                    lsoa_name="",
                    crime_type=crime_type,
                    last_outcome_category=open_data.outcome(crime_type),
                    context="",
                )
            )
        audit.record(
            uow,
            actor,
            AUDIT_ACTION,
            "export",
            label,
            justification=reason,
            detail=f"month {label}: {len(rows)} row(s) out, {left_out} incident(s)"
            f" not exportable; environment={environment.value}",
        )
        uow.commit()
        return OpenDataExport(
            month=label, environment=environment, rows=tuple(rows), not_exportable=left_out
        )
