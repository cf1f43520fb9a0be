"""SQLAlchemy 2 typed models of the core domain.

Conventions that later work relies on:
- every table has an integer surrogate key `id` except the reference tables, whose key
  is their code (so a record reads "8N", "DOM", "RSO" without a join);
- times are stored timezone-aware and always in UTC (`UtcDateTime`);
- constraint names follow `NAMING_CONVENTION`, so Alembic batch mode on SQLite can
  find and alter them;
- append-only tables (incident log, audit) refuse ORM updates and deletes (see
  `controlroom.data.append_only`).

Only the tables the sign-in and the home board read are mapped here; the other 38 are
in `controlroom.data.cold_models`, mapped when a module that uses them is first imported
(every operator's process paid 4.8 MiB for mappings the board never reads; issue 15). So
a relationship runs from a cold model to a model here, never the other way (the reverse
side is the cold side's backref), this module never imports that one, and whatever must
see every table — Alembic, `create_all`/`drop_all`, a schema comparison — takes its
metadata from `cold_models.all_tables()`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Interval,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:  # the other side of their backrefs; never imported from here
    from controlroom.data.cold_models import IncidentLogEntry, IncidentPerson, UnitCrew

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in as aware UTC and comes out as aware UTC on every backend.

    SQLite has no time zones: a naive value read back is UTC by this invariant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Control Room stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model here is mapped to a plain Table (none to a join or a select), so Core
    # statements on `Model.__table__` type-check.
    __table__: ClassVar[Table]


# --- the database itself -------------------------------------------------------------


class DatabaseInfo(Base):
    """One row: which environment this database is, and whether its data is synthetic."""

    __tablename__ = "database_info"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("environment IN ('production', 'training', 'test')", name="environment"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    environment: Mapped[str] = mapped_column(String(16))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    force_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    # Seed and size of the synthetic generator that filled it, when it did.
    seed: Mapped[int | None] = mapped_column(Integer)
    seed_size: Mapped[str | None] = mapped_column(String(16))
    seeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# --- reference tables (loaded from db/*.csv) ----------------------------------------


class IncidentType(Base):
    """What an incident is about, under a National Standard for Incident Recording heading."""

    __tablename__ = "incident_type"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    heading: Mapped[str] = mapped_column(String(40))
    qualifier: Mapped[str | None] = mapped_column(String(20))
    domestic: Mapped[bool] = mapped_column(Boolean, default=False)
    possible_crime: Mapped[bool] = mapped_column(Boolean, default=False)
    suggested_grade: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# --- staff ---------------------------------------------------------------------------


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(
            "role IN ('call_handler', 'dispatcher', 'supervisor', 'intelligence', 'analyst',"
            " 'administrator')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # OS login name
    collar_number: Mapped[str | None] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    station: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The idle lock's re-authentication (migration 0009): an argon2id hash, never the PIN;
    # wrong PINs since the last right one; locked after five until this time.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_pin_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set while the operator's session is behind the idle lock, cleared by the right PIN
    # (migration 0017): a session quit or killed while locked opens locked next time.
    # Deferred (read when first used, by the idle lock): every other read of an account
    # leaves it out, so `db backup`, `db rehearse` and the backup before `db upgrade`
    # still sign their administrator in on a database from before migration 0017.
    session_locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, deferred=True)


class StaffSession(Base):
    """One run of the app by one operator (migration 0013): opened at sign-in, ended on
    the record however it ends (how, in `end_reason`); a run whose process died is ended
    by the operator's next sign-in on the same host."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    terminal: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(120))


# --- people and places ---------------------------------------------------------------


STREET_KEY_LENGTH = 120


def street_key(text: str | None) -> str | None:
    """The form a street is matched by as the operator types: lower case, single spaces.

    Migration 0002 fills existing rows with the same rule (written out there: migrations
    do not import the models).
    """
    if text is None:
        return None
    return " ".join(text.split()).lower()[:STREET_KEY_LENGTH] or None


def _street_key_default(context) -> str | None:
    # Runs for ORM inserts and for Core bulk inserts alike (the synthetic generator's),
    # once per row, so no writer has to remember the key.
    row = context.get_current_parameters()
    return street_key(row.get("street") or row.get("address"))


class Location(Base):
    __tablename__ = "location"
    __table_args__ = (
        # Prefix matching as the operator types: a range scan on SQLite (binary collation),
        # LIKE 'prefix%' on PostgreSQL, which needs the pattern operator class to use the
        # index under any database collation (migration 0002; `_pattern_ops` below).
        Index("ix_location_postcode", "postcode"),
        Index("ix_location_street_key", "street_key", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(200))  # "12 Mill Lane"
    # `active_history` on what the kept street centres read (`data.street_centroids`).
    street: Mapped[str | None] = mapped_column(String(120), index=True, active_history=True)
    town: Mapped[str | None] = mapped_column(String(80), active_history=True)
    postcode: Mapped[str | None] = mapped_column(String(8))  # normalised "SW1A 1AA"
    # street_key(street, or the address where there is no street): "mill lane".
    street_key: Mapped[str | None] = mapped_column(
        String(STREET_KEY_LENGTH), default=_street_key_default
    )
    latitude: Mapped[float | None] = mapped_column(Float, active_history=True)
    longitude: Mapped[float | None] = mapped_column(Float, active_history=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    hazards: Mapped[list[LocationHazard]] = relationship(back_populates="location")


@event.listens_for(Location.__table__, "before_create")
def _pattern_ops(table, connection, **kw) -> None:
    """The prefix indexes' pattern operator class, given only where the table is made on
    PostgreSQL: written into the Index itself, it would load SQLAlchemy's PostgreSQL
    dialect into every SQLite station at start (2.4 MiB of its memory; issue 15)."""
    if connection.dialect.name == "postgresql":
        for index in table.indexes:
            if index.name in {"ix_location_postcode", "ix_location_street_key"}:
                column = index.expressions[0].name
                index.dialect_kwargs["postgresql_ops"] = {column: "varchar_pattern_ops"}


@event.listens_for(Location, "before_update")
def _refresh_street_key(mapper, connection, target: Location) -> None:
    target.street_key = street_key(target.street or target.address)


class LocationHazard(Base):
    __tablename__ = "location_hazard"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    hazard: Mapped[str] = mapped_column(String(60))  # "DOG ON PREMISES", "FIREARMS HELD"
    note: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    location: Mapped[Location] = relationship(back_populates="hazards")


# --- incidents -----------------------------------------------------------------------


class Incident(Base):
    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'dispatched', 'at_scene', 'closed')", name="status"),
        Index("ix_incident_status_grade", "status", "grade"),
        # The command view's open domestic-abuse incidents without a DASH, counted from
        # the index alone (migration 0012).
        Index("ix_incident_open_domestic", "status", "domestic", "opening_type_code", "opened_at"),
        # The crime-recording queue: possible crimes whose clock runs, oldest first; with
        # who opened them, the command view counts them by station from the index alone.
        Index(
            "ix_incident_crime_clock",
            "possible_crime",
            "crime_clock_stopped_at",
            "opened_at",
            "opened_by_id",
        ),
        # A month's crime-related incidents (the integrity measure's list, and its
        # recount), when each was reported and first recorded as a crime, whether it is
        # LEGACY and who opened it, read from the index alone (migrations 0021, 0022).
        Index(
            "ix_incident_crime_recording",
            "opened_at",
            "possible_crime",
            "opening_type_code",
            "closing_type_code",
            "crime_recording_delay",
            "signoff_state",
            "legacy_batch_id",
            "opened_by_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)  # CR-20261126-0042
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    workstation: Mapped[str] = mapped_column(String(64))
    # `active_history` on every column the monthly integrity counts read
    # (`data.crime_counts`): a change is counted out at its old value, loaded or not.
    opening_type_code: Mapped[str] = mapped_column(
        ForeignKey("incident_type.code"), active_history=True
    )
    closing_type_code: Mapped[str | None] = mapped_column(
        ForeignKey("incident_type.code"), active_history=True
    )
    grade: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    # A location is verified exactly when `location_id` points at a known location; an
    # unverified one keeps the typed text and, when one was given, its postcode.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    location_text: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(8))  # normalised "LS6 2AB"
    narrative: Mapped[str] = mapped_column(Text, default="")

    caller_name: Mapped[str | None] = mapped_column(String(120))
    # Digits only, national form ("07700900123"), so a second call from the same phone
    # matches however it was typed.
    caller_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    caller_relationship: Mapped[str | None] = mapped_column(String(60))
    # The entry form's key: saving the same form twice (a restored draft after a crash)
    # finds this row instead of making a second incident. A unique index, not a
    # constraint, so SQLite adds it without rebuilding the table.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    # THRIVE: None means "not assessed", which keeps the incident visible as such.
    thrive_threat: Mapped[str | None] = mapped_column(Text)
    thrive_harm: Mapped[str | None] = mapped_column(Text)
    thrive_risk: Mapped[str | None] = mapped_column(Text)
    thrive_investigation: Mapped[str | None] = mapped_column(Text)
    thrive_vulnerability: Mapped[str | None] = mapped_column(Text)
    thrive_engagement: Mapped[str | None] = mapped_column(Text)
    thrive_assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    thrive_assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # True when the operator chose to skip THRIVE; the incident still reads "not assessed".
    # The server default fills rows written before the column existed (migration 0002).
    thrive_skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    domestic: Mapped[bool] = mapped_column(Boolean, default=False)
    child_present: Mapped[bool] = mapped_column(Boolean, default=False)
    weapons: Mapped[bool] = mapped_column(Boolean, default=False)
    possible_crime: Mapped[bool] = mapped_column(Boolean, default=False, active_history=True)

    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str | None] = mapped_column(Text)
    # NCRS: a possible crime closes with its crime reference or a written no-crime reason.
    crime_reference: Mapped[str | None] = mapped_column(String(40))
    no_crime_reason: Mapped[str | None] = mapped_column(Text)
    # NCRS sign-off of a no-crime closure (migration 0010): NULL when none is needed,
    # "awaiting" until a supervisor signs it off, then "approved".
    signoff_state: Mapped[str | None] = mapped_column(String(16), index=True, active_history=True)
    # NCRS 24-hour clock (migration 0015): when it stopped — the first crime recorded
    # from the incident, or its no-crime closure signed off. NULL while it runs (on a
    # possible crime) or when no clock applies.
    crime_clock_stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # How long after the report a crime was first recorded (migration 0021): its first
    # crime record (cancelled ones too) or its closing with a crime reference, whichever
    # came first (`domain.crime.recording_delay`); kept by the services that record
    # crimes and close incidents (a crime's recording time never changes, no crime is
    # deleted, a closing with a crime reference is never returned). NULL: none yet.
    crime_recording_delay: Mapped[timedelta | None] = mapped_column(Interval, active_history=True)
    # An old system's incident (migration 0019): the import batch it came in on. Such an
    # incident is read-only and shown LEGACY; its source id is in `import_record`.
    legacy_batch_id: Mapped[int | None] = mapped_column(Integer, active_history=True)

    # Optimistic concurrency: an UPDATE carrying a stale version changes no row and fails.
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

    opening_type: Mapped[IncidentType] = relationship(foreign_keys=[opening_type_code])
    location: Mapped[Location | None] = relationship()
    if TYPE_CHECKING:  # mapped with `cold_models`, from that side (its backrefs)
        log: Mapped[list[IncidentLogEntry]]
        persons: Mapped[list[IncidentPerson]]


# --- audit -----------------------------------------------------------------------------


class AuditEvent(Base):
    """Append-only record of every read, change and export (DPA 2018 s.62)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)  # staff username / OS user
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    terminal: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(48))  # "incident.view", "staff.add"
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # success, denied, refused, failed
    justification: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)  # the query, the fields changed, ...
    # The hash chain (controlroom.domain.audit_chain): position, the previous event's
    # hash and this event's, written with the row and never changed. Migration 0008.
    chain_seq: Mapped[int] = mapped_column(Integer, index=True, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    event_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the audit chain's length and newest hash, moved in the transaction of
    every audit insert. It anchors the chain outside its rows (a cut-off tail shows) and
    its row lock serialises writers on PostgreSQL. Migration 0008."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_count: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


# --- resources and dispatch (issue 17; the rest in `cold_models`) -------------------------


class Unit(Base):
    """A resource: a callsign, its type, home station and area, where it is, its status
    now (since when, on which incident). `change_seq` is stamped from the one-row
    `unit_change_counter` on every change, so boards read only what moved."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    callsign: Mapped[str] = mapped_column(String(12), unique=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("unit_type.code"))
    station: Mapped[str] = mapped_column(String(80), index=True)
    area: Mapped[str] = mapped_column(String(40))
    # Indexed: recommendations read the available (and committed) units by status.
    status_code: Mapped[str] = mapped_column(ForeignKey("unit_status.code"), index=True)
    status_since: Mapped[datetime] = mapped_column(UtcDateTime)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(Integer, default=0, index=True)

    __mapper_args__ = {"version_id_col": version}

    if TYPE_CHECKING:  # mapped with `cold_models`, from that side (its backref)
        crew: Mapped[list[UnitCrew]]


class UnitEmergency(Base):
    """An emergency on a unit (the radio's emergency button, entered by a dispatcher):
    open until acknowledged; every dispatcher's and supervisor's screen shows it."""

    __tablename__ = "unit_emergency"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    raised_terminal: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class UnitChangeCounter(Base):
    """One row, bumped in the transaction of every unit change: boards poll it (a one-row
    read) and read the units whose `change_seq` passed what they had seen."""

    __tablename__ = "unit_change_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


# --- the models the home board never reads ---------------------------------------------

_COLD_MODULE = "controlroom.data.cold_models"


def cold_models_loaded() -> bool:
    """Whether the cold models are mapped yet: until they are, no session holds one."""
    return _COLD_MODULE in sys.modules
