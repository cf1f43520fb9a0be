"""The models the sign-in and the home board never read (issue 15, start-up memory).

Mapped when a module that uses one of them is first imported (the services and queries
behind the other screens import them inside their functions where the board's code
shares a module with them), and not before: the 38 tables here cost every operator's
process 4.8 MiB of mappings at start-up, for screens most sessions open later or never.
`all_tables()` is the metadata with every table, for whatever must see them all.

Relationships run from here to the models of `controlroom.data.models`, never the other
way: the reverse sides those models had (`Incident.log`, `Incident.persons`,
`Unit.crew`) are backrefs made here, so they exist once these models are mapped.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, backref, configure_mappers, mapped_column, relationship

from controlroom.data.models import (
    Base,
    Incident,
    Location,
    Unit,
    UtcDateTime,
    utcnow,
)
from controlroom.domain.phonetics import KEY_LENGTH, name_keys

# --- people (their names' phonetic keys) ---------------------------------------------

PHONETIC_KEY_LENGTH = KEY_LENGTH


def _name_key_default(source: str, part: str):
    """A column default computing one phonetic key of the row's `source` name column.

    Runs for ORM inserts and for Core bulk inserts alike (the synthetic generator's), so
    no writer has to remember the keys; `_refresh_name_keys` keeps them on update.
    """

    def default(context) -> str | None:
        return getattr(name_keys(context.get_current_parameters().get(source)), part)

    return default


def _name_key_columns():
    return (
        mapped_column(
            String(PHONETIC_KEY_LENGTH), default=_name_key_default("forename", "whole"), index=True
        ),
        mapped_column(
            String(PHONETIC_KEY_LENGTH), default=_name_key_default("surname", "whole"), index=True
        ),
        mapped_column(
            String(PHONETIC_KEY_LENGTH), default=_name_key_default("surname", "first"), index=True
        ),
        mapped_column(
            String(PHONETIC_KEY_LENGTH), default=_name_key_default("surname", "last"), index=True
        ),
    )


def _refresh_name_keys(mapper, connection, target) -> None:
    forename, surname = name_keys(target.forename), name_keys(target.surname)
    target.forename_key = forename.whole
    target.surname_key, target.surname_key_first, target.surname_key_last = (
        surname.whole,
        surname.first,
        surname.last,
    )


class OffenceClass(Base):
    """A Home Office offence classification ("8N Assault with injury"), with the
    data.police.uk crime type it is published under (db/offence_class.csv)."""

    __tablename__ = "offence_class"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    open_data_type: Mapped[str] = mapped_column(String(40))
    sexual: Mapped[bool] = mapped_column(Boolean, default=False)
    victim_based: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MarkerType(Base):
    """A kind of warning marker, with the words the screen shows (never colour alone)."""

    __tablename__ = "marker_type"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    label: Mapped[str] = mapped_column(String(60))
    severity: Mapped[int] = mapped_column(Integer)  # 1 highest
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Person(Base):
    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_surname_forename", "surname", "forename"),
        # Person search asks for a forename key and a surname key together, or a surname
        # key and a range of dates of birth (migration 0005).
        Index("ix_person_name_keys", "surname_key", "forename_key", "date_of_birth"),
        Index("ix_person_surname_key_born", "surname_key", "date_of_birth"),
        Index("ix_person_surname_first_keys", "surname_key_first", "forename_key"),
        Index("ix_person_surname_last_keys", "surname_key_last", "forename_key"),
        # A lone word's forename key within a range of dates of birth (migration 0011).
        Index("ix_person_forename_key_born", "forename_key", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forename: Mapped[str] = mapped_column(String(80))
    middle_names: Mapped[str | None] = mapped_column(String(120))
    surname: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date | None] = mapped_column(Date, index=True)
    gender: Mapped[str | None] = mapped_column(String(16))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Phonetic keys (controlroom.domain.phonetics.name_keys) of the forename and of the
    # surname, whole and, when it has several parts, its first and last: computed on
    # write, indexed, and what person search finds spelling variants by.
    forename_key: Mapped[str | None]
    surname_key: Mapped[str | None]
    surname_key_first: Mapped[str | None]
    surname_key_last: Mapped[str | None]
    forename_key, surname_key, surname_key_first, surname_key_last = _name_key_columns()
    # Set when a supervisor merged this record into another (the survivor); cleared when
    # the merge is undone. Nothing else about the record changes either way
    # (`PersonMerge` keeps who, when and why). Added by migration 0004.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)

    aliases: Mapped[list[PersonAlias]] = relationship(back_populates="person")
    markers: Mapped[list[WarningMarker]] = relationship(back_populates="person")
    addresses: Mapped[list[PersonAddress]] = relationship(back_populates="person")


class PersonAlias(Base):
    __tablename__ = "person_alias"
    # Person search asks for a surname key and a forename key together (migration 0005).
    __table_args__ = (Index("ix_person_alias_name_keys", "surname_key", "forename_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    forename: Mapped[str | None] = mapped_column(String(80))
    surname: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="alias")  # alias, maiden, nickname
    # The same phonetic keys as Person's, of the alias's names.
    forename_key: Mapped[str | None]
    surname_key: Mapped[str | None]
    surname_key_first: Mapped[str | None]
    surname_key_last: Mapped[str | None]
    forename_key, surname_key, surname_key_first, surname_key_last = _name_key_columns()

    person: Mapped[Person] = relationship(back_populates="aliases")


for _named in (Person, PersonAlias):
    event.listen(_named, "before_insert", _refresh_name_keys)
    event.listen(_named, "before_update", _refresh_name_keys)


class PersonAddress(Base):
    __tablename__ = "person_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="home")  # home, previous, work
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="addresses")
    location: Mapped[Location] = relationship()


class WarningMarker(Base):
    __tablename__ = "warning_marker"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    marker_code: Mapped[str] = mapped_column(ForeignKey("marker_type.code"))
    note: Mapped[str | None] = mapped_column(Text)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="markers")
    marker_type: Mapped[MarkerType] = relationship()


class PersonMerge(Base):
    """One merge of a duplicate person record into the record that survives.

    Rows are never deleted: undoing a merge stamps `undone_*` on its row, so the history
    of every merge and every undo stays. At most one merge of a record is live (not
    undone) at a time; the service keeps that invariant.
    """

    __tablename__ = "person_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reason: Mapped[str] = mapped_column(Text)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    undo_reason: Mapped[str | None] = mapped_column(Text)


class IncidentLogEntry(Base):
    """Append-only: corrections are new entries, never edits."""

    __tablename__ = "incident_log_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    old_value: Mapped[str | None] = mapped_column(String(80))
    new_value: Mapped[str | None] = mapped_column(String(80))
    # A linked call's form key: saving the same call twice appends one entry.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    incident: Mapped[Incident] = relationship(
        backref=backref("log", order_by="IncidentLogEntry.id")
    )


class IncidentSequence(Base):
    """The last incident number given out on each local day.

    One row per day, incremented in the transaction that saves the incident: the row lock
    (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE) makes the numbers unique and
    gap-free across every station.
    """

    __tablename__ = "incident_sequence"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class IncidentPerson(Base):
    __tablename__ = "incident_person"
    __table_args__ = (
        UniqueConstraint("incident_id", "person_id", "role", name="incident_person_role"),
        CheckConstraint(
            "role IN ('caller', 'victim', 'suspect', 'witness', 'subject')", name="role"
        ),
        # A person's incidents, and their count on every search hit, from the index
        # alone (migration 0011).
        Index("ix_incident_person_person_incident", "person_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    role: Mapped[str] = mapped_column(String(16))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    incident: Mapped[Incident] = relationship(backref="persons")
    person: Mapped[Person] = relationship()


# --- crime records (issue 18, migration 0015) -------------------------------------------


class Crime(Base):
    """One crime recorded from an incident: one per victim (the counting rules), or
    one with no victim for an offence against the state (drugs, weapons).

    Its classification is `offence_code`, every change of it a `CrimeClassification`
    row; its outcome is the last approved `CrimeOutcome`, copied here for counting.
    """

    __tablename__ = "crime"
    __table_args__ = (
        CheckConstraint(
            "state IN ('recorded', 'cancellation_requested', 'cancelled')", name="state"
        ),
        CheckConstraint("outcome_code >= 0 AND outcome_code <= 22", name="outcome_code"),
        Index("ix_crime_recorded_at", "recorded_at"),
        # Each incident's first crime for the integrity counts, from the index alone
        # (migration 0020).
        Index("ix_crime_incident_recorded", "incident_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)  # CRM-2026-000042
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    # `active_history` on what the monthly counts read (`data.crime_counts`).
    offence_code: Mapped[str] = mapped_column(ForeignKey("offence_class.code"), active_history=True)
    victim_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # When it happened: from, and to where it is not known to the minute.
    committed_from: Mapped[datetime] = mapped_column(UtcDateTime)
    committed_to: Mapped[datetime | None] = mapped_column(UtcDateTime)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    location_text: Mapped[str] = mapped_column(String(200))
    domestic: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(24), default="recorded", active_history=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancel_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_decision_note: Mapped[str | None] = mapped_column(Text)
    outcome_code: Mapped[int] = mapped_column(Integer, default=0, active_history=True)
    outcome_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class CrimeSuspect(Base):
    __tablename__ = "crime_suspect"
    __table_args__ = (UniqueConstraint("crime_id", "person_id", name="crime_suspect_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    crime_id: Mapped[int] = mapped_column(ForeignKey("crime.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))


class CrimeClassification(Base):
    """Every classification a crime has had, first (no `old_code`) to now; never edited."""

    __tablename__ = "crime_classification"

    id: Mapped[int] = mapped_column(primary_key=True)
    crime_id: Mapped[int] = mapped_column(ForeignKey("crime.id"), index=True)
    old_code: Mapped[str | None] = mapped_column(ForeignKey("offence_class.code"))
    new_code: Mapped[str] = mapped_column(ForeignKey("offence_class.code"))
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))


class CrimeOutcome(Base):
    """An outcome given to a crime, with its date; 14 and 16 carry the victim's decision,
    16 on domestic abuse a supervisor's approval. Never edited: a later outcome is a new
    row, and the crime's `outcome_code` is the last approved one."""

    __tablename__ = "crime_outcome"
    __table_args__ = (
        CheckConstraint("outcome_code >= 0 AND outcome_code <= 22", name="outcome_code"),
        CheckConstraint(
            "approval_state IN ('not_needed', 'awaiting', 'approved')", name="approval_state"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crime_id: Mapped[int] = mapped_column(ForeignKey("crime.id"), index=True)
    outcome_code: Mapped[int] = mapped_column(Integer)
    outcome_date: Mapped[date] = mapped_column(Date)
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    victim_decision: Mapped[str | None] = mapped_column(Text)
    victim_decision_on: Mapped[date | None] = mapped_column(Date)
    victim_decision_by: Mapped[str | None] = mapped_column(String(120))
    approval_state: Mapped[str] = mapped_column(String(12), default="not_needed")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IntegrityCheck(Base):
    """One crime-related incident drawn at random into a month's crime data integrity
    audit sample, and the supervisor's check of it (finding NULL until checked)."""

    __tablename__ = "integrity_check"
    __table_args__ = (
        UniqueConstraint("month", "incident_id", name="integrity_check_month_incident"),
        CheckConstraint(
            "finding IS NULL OR finding IN ('correct', 'crime_missed', 'misclassified')",
            name="finding",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"))
    drawn_at: Mapped[datetime] = mapped_column(UtcDateTime)
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    finding: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class CrimeMonthCount(Base):
    """Crimes recorded (not cancelled) in a local month, by Home Office offence code and
    outcome: the statistics' counts, kept in the transaction of every crime written
    through the ORM (`data.crime_counts`) and rebuilt from the crimes by migration 0022
    and after bulk writes. Always equal to counting `crime` (a test proves it)."""

    __tablename__ = "crime_month_count"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first of the month
    offence_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    outcome_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    crimes: Mapped[int] = mapped_column(Integer, default=0)


class IntegrityMonthCount(Base):
    """The crime data integrity counts of a local month: its crime-related incidents
    (not LEGACY, not a signed-off no-crime), and those with a crime recorded within
    24 hours and within 7 days of the report. Kept as `CrimeMonthCount` is."""

    __tablename__ = "integrity_month_count"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the first of the month
    incidents: Mapped[int] = mapped_column(Integer, default=0)
    within_24h: Mapped[int] = mapped_column(Integer, default=0)
    within_7d: Mapped[int] = mapped_column(Integer, default=0)


class StreetCentroid(Base):
    """The centre of every located address on a street: the map point of the open-data
    returns (`domain.open_data.snap` of it), kept in the transaction of every location
    written through the ORM (`data.street_centroids`), filled by migration 0023 and
    rebuilt after bulk writes. The sums are in ten-millionths of a degree (about 1 cm),
    whole numbers, so the kept row always equals summing the addresses again in any
    order (a test proves it)."""

    __tablename__ = "street_centroid"
    # On SQLite the row lives in its key's b-tree: one search per crime placed, where a
    # rowid table is searched twice (its key's index, then the row).
    __table_args__ = {"sqlite_with_rowid": False}

    street: Mapped[str] = mapped_column(String(120), primary_key=True)
    town: Mapped[str] = mapped_column(String(80), primary_key=True)  # "" for none
    addresses: Mapped[int] = mapped_column(Integer, default=0)
    latitude_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    longitude_sum: Mapped[int] = mapped_column(BigInteger, default=0)


class OpenDataReturn(Base):
    """One making of a month's data.police.uk files (street and outcomes): who made
    them, when, how many rows, and each file's SHA-256, so a month whose files were
    never made shows as missing, and a rebuild can be checked byte for byte."""

    __tablename__ = "open_data_return"
    __table_args__ = (Index("ix_open_data_return_month", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first of the month
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    made_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    street_rows: Mapped[int] = mapped_column(Integer)
    outcome_rows: Mapped[int] = mapped_column(Integer)
    street_sha256: Mapped[str] = mapped_column(String(64))
    outcomes_sha256: Mapped[str] = mapped_column(String(64))


class OpenDataSalt(Base):
    """One row: the fingerprint of the force's Crime-ID salt (a one-way hash), so every
    analyst's export uses the same salt, and a different one is refused. The salt itself
    is kept only in each analyst's keyring."""

    __tablename__ = "open_data_salt"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    made_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))


# --- intelligence ----------------------------------------------------------------------


class IntelligenceReport(Base):
    """Never edited; a correction is a new report that `supersedes` the old one."""

    __tablename__ = "intelligence_report"
    __table_args__ = (
        CheckConstraint("source_grade IN ('1', '2', '3')", name="source_grade"),
        CheckConstraint(
            "intelligence_grade IN ('A', 'B', 'C', 'D', 'E')", name="intelligence_grade"
        ),
        CheckConstraint("handling_code IN ('P', 'C')", name="handling_code"),
        CheckConstraint(
            "handling_code = 'P' OR (handling_conditions IS NOT NULL AND handling_conditions <> '')",
            name="conditions_required",
        ),
        # "Not superseded" looks up the few superseded reports (migration 0005).
        Index("ix_intelligence_report_supersedes_id", "supersedes_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)  # IR-20261126-0007
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    source_grade: Mapped[str] = mapped_column(String(1))
    intelligence_grade: Mapped[str] = mapped_column(String(1))
    handling_code: Mapped[str] = mapped_column(String(1))
    handling_conditions: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("intelligence_report.id"))
    # An old system's report (migration 0019): the import batch it came in on. Read-only,
    # shown LEGACY; its source id is in `import_record`.
    legacy_batch_id: Mapped[int | None] = mapped_column(Integer)

    subjects: Mapped[list[IntelligenceSubject]] = relationship(back_populates="report")


class IntelligenceSubject(Base):
    __tablename__ = "intelligence_subject"
    __table_args__ = (
        CheckConstraint(
            "person_id IS NOT NULL OR location_id IS NOT NULL", name="person_or_location"
        ),
        # A person's reports, and their count on every search hit, from the index alone
        # (migration 0011).
        Index("ix_intelligence_subject_person_report", "person_id", "report_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("intelligence_report.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)

    report: Mapped[IntelligenceReport] = relationship(back_populates="subjects")


# --- DASH, referrals and safeguarding overrides (issue #5, migration 0006) --------------


class DashAssessment(Base):
    """One DASH risk assessment of a domestic-abuse incident. Never edited: a new
    assessment `supersedes` the previous one, so the history stays; the current one is
    the newest (highest id) of its incident.

    `answers` holds the 27 answers in question order, one letter each: Y yes, N no,
    K not known (`controlroom.domain.dash.encode_answers`). `level` is the level in
    force: `judgement_level` where professional judgement raised it, else `score_level`.
    """

    __tablename__ = "dash_assessment"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 27", name="score"),
        CheckConstraint("score_level IN ('standard', 'medium', 'high')", name="score_level"),
        CheckConstraint("level IN ('standard', 'medium', 'high')", name="level"),
        CheckConstraint(
            "judgement_level IS NULL OR judgement_level IN ('medium', 'high')",
            name="judgement_level",
        ),
        CheckConstraint(
            "(judgement_level IS NULL) = (judgement_reason IS NULL)", name="judgement_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    answers: Mapped[str] = mapped_column(String(27))
    score: Mapped[int] = mapped_column(Integer)
    score_level: Mapped[str] = mapped_column(String(8))
    judgement_level: Mapped[str | None] = mapped_column(String(8))
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(8))
    assessed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("dash_assessment.id"))


class Referral(Base):
    """A MARAC or children's services referral made for an incident, tracked created ->
    sent -> acknowledged; each step keeps who and when, and its due time."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint("kind IN ('marac', 'childrens_services')", name="kind"),
        CheckConstraint("status IN ('created', 'sent', 'acknowledged')", name="status"),
        Index("ix_referral_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))
    # The triggers that raised it ("high_risk,escalation"), and the DASH it followed.
    triggers: Mapped[str] = mapped_column(String(80))
    dash_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("dash_assessment.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    send_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class SafeguardingOverride(Base):
    """A supervisor's override of safeguarding rules (`controlroom.domain.safeguarding`)
    to grade an incident for resolution without deployment or to close it. Never edited."""

    __tablename__ = "safeguarding_override"
    __table_args__ = (CheckConstraint("action IN ('grade_no_deployment', 'close')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    rules: Mapped[str] = mapped_column(String(120))  # rule codes, comma-separated
    action: Mapped[str] = mapped_column(String(24))
    new_grade: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    overridden_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# --- triage queues (migration 0007) ------------------------------------------------------


class QueueItem(Base):
    """One incident waiting in one triage queue (controlroom.domain.queues).

    One row per incident and queue, ever: an item is open, then claimed by one operator
    (who heartbeats while they hold it), then done. Every change of state bumps
    `version` through a conditional UPDATE, which is what makes a claim exclusive, and
    stamps `change_seq` from the change counter so a polling station can fetch only the
    items changed since it last looked.
    """

    __tablename__ = "queue_item"
    __table_args__ = (
        UniqueConstraint("incident_id", "queue", name="queue_item_incident_queue"),
        CheckConstraint("state IN ('open', 'claimed', 'done')", name="state"),
        CheckConstraint(
            "queue IN ('general', 'domestic_abuse', 'child_protection', 'missing_persons')",
            name="queue",
        ),
        # The queue screen: the items not done, of one queue or all, oldest first.
        Index("ix_queue_item_state_queue_entered_at", "state", "queue", "entered_at"),
        # Bulk claiming: the oldest open item of any queue, in index order.
        Index("ix_queue_item_state_entered_at_id", "state", "entered_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    queue: Mapped[str] = mapped_column(String(24))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(8), default="open")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(Integer, default=0, index=True)


class QueueChangeCounter(Base):
    """One row, bumped in the transaction of every queue change: SQLite stations poll it
    (a one-row read) and fetch the items whose `change_seq` passed what they had seen."""

    __tablename__ = "queue_change_counter"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(Integer, default=0)


class OfflineReplay(Base):
    """What became of one entry a station kept offline (issue 13), written by its replay:
    the provisional reference stays findable (mapped to the final one); an entry that
    went in with a doubt (a possible duplicate call) or could not go in at all (refused,
    or beaten by another station's change) is on the supervisors' list until one of them
    marks it resolved, with why. The entry itself stays in the station's journal.
    Migration 0018."""

    __tablename__ = "offline_replay"

    id: Mapped[int] = mapped_column(primary_key=True)
    provisional_reference: Mapped[str] = mapped_column(String(60), unique=True)
    journal: Mapped[str] = mapped_column(String(64))  # <user>.<session>: the station's file
    kind: Mapped[str] = mapped_column(String(40))  # incident.create, incident.note, ...
    # replayed, duplicate (went in; another call at the same place), conflicted, refused
    state: Mapped[str] = mapped_column(String(16), index=True)
    final_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    why: Mapped[str | None] = mapped_column(Text)
    typed: Mapped[str | None] = mapped_column(Text)  # what was typed (JSON), if not in
    kept_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kept_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolution: Mapped[str | None] = mapped_column(Text)


class ImportBatch(Base):
    """One legacy extract brought in (`controlroom import legacy`): which system it came
    from, which extract (its SHA-256, so a re-run or a resumed run finds its batch), who
    started it, and when it finished (NULL while it runs or after an interruption)."""

    __tablename__ = "import_batch"
    __table_args__ = (UniqueConstraint("source_system", "extract_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40))
    extract_name: Mapped[str] = mapped_column(String(255))
    extract_digest: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ImportRecord(Base):
    """The provenance of one legacy row: its source system, file and id, the batch and
    line it came in on, and what became of it: `imported` (as the record `target_id`),
    `matched` (probably a person already here, `candidate_id`: on the review list, not
    imported; `held` keeps the row for the supervisor), `merged` (the supervisor found
    it the same person as `candidate_id`, now `target_id` too) or `rejected` (`reason`).
    An alias or marker row keeps its person's source id (`person_ref`): held with a
    matched person, it follows the supervisor's decision.

    One row per source id and file (the unique constraint): a re-run of an extract, or
    the rest of an interrupted one, skips every row already accounted for."""

    __tablename__ = "import_record"
    __table_args__ = (
        UniqueConstraint("source_system", "source_file", "source_id"),
        CheckConstraint("outcome IN ('imported', 'matched', 'merged', 'rejected')", name="outcome"),
        # The review list: probable matches, oldest first.
        Index("ix_import_record_outcome_batch", "outcome", "batch_id"),
        # An alias's or marker's person, when the supervisor decides about them.
        Index("ix_import_record_person_ref", "source_system", "person_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    source_system: Mapped[str] = mapped_column(String(40))
    # persons, aliases, addresses, markers, incidents, intelligence
    source_file: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    person_ref: Mapped[str | None] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[int | None] = mapped_column(Integer)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    held: Mapped[str | None] = mapped_column(Text)  # the row as JSON, for the review list


# --- resources and dispatch (issue 17) ----------------------------------------------------


class Skill(Base):
    """A skill an officer may hold (db/skill.csv): firearms, Taser, advanced driver, …"""

    __tablename__ = "skill"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    label: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitType(Base):
    """A kind of unit (db/unit_type.csv): response car, armed response, dog, …"""

    __tablename__ = "unit_type"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    label: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(4))  # callsign prefix: "AR" for AR12
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class UnitStatusCode(Base):
    """A configured status code (db/unit_status.csv); `kind` is what the rules read
    (`domain.resources.StatusKind`)."""

    __tablename__ = "unit_status"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(1))
    command: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IncidentTypeSkill(Base):
    """A skill every unit sent to an incident of this type must have among its crew
    (db/incident_type_skill.csv)."""

    __tablename__ = "incident_type_skill"

    type_code: Mapped[str] = mapped_column(ForeignKey("incident_type.code"), primary_key=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skill.code"), primary_key=True)


class UnitCrew(Base):
    """An officer crewing a unit this shift, with their skills (codes of `skill`,
    space-separated: "FA TA AD")."""

    __tablename__ = "unit_crew"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    collar_number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    skills: Mapped[str] = mapped_column(String(120), default="")

    unit: Mapped[Unit] = relationship(backref="crew")


class UnitStatusChange(Base):
    """A unit's history: every status it took, when, on which incident, by whom and from
    which terminal (append-only)."""

    __tablename__ = "unit_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[str] = mapped_column(ForeignKey("unit_status.code"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    terminal: Mapped[str] = mapped_column(String(64))
    override: Mapped[bool] = mapped_column(Boolean, default=False)


class UnitAssignment(Base):
    """A unit sent to an incident: when and by whom, when it arrived and was cleared."""

    __tablename__ = "unit_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class IncidentAttendance(Base):
    """The attendance clock of an incident, stopped by its first arrival: met or missed
    against the grade's target at that moment (None: the grade has no target)."""

    __tablename__ = "incident_attendance"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    arrived_at: Mapped[datetime] = mapped_column(UtcDateTime)
    grade: Mapped[str] = mapped_column(String(8))
    target_seconds: Mapped[int | None] = mapped_column(Integer)
    met: Mapped[bool | None] = mapped_column(Boolean)


# The backrefs above (`Incident.log`, `Incident.persons`, `Unit.crew`) are made when the
# mappers are configured: done now, so that they are there as soon as this module is, as
# they were when every model was mapped at once.
configure_mappers()


def all_tables() -> MetaData:
    """`Base.metadata` with every table in it (this module's are mapped by now): for
    migrations, creating or dropping the schema, and comparing it with a database."""
    return Base.metadata
