"""The unit of work: one session per user action, rolled back unless committed.

    with uow_factory() as uow:
        ...
        uow.commit()

Services take a unit of work; the app and the CLI hold a `uow_factory` built once per
process around the one engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlroom.data import (
    append_only,  # noqa: F401  (installs the append-only guards)
    legacy_guard,  # noqa: F401  (LEGACY records are read-only)
)
from controlroom.data.bulk import BulkWriter
from controlroom.data.changes import ChangeFeed, change_feed
from controlroom.data.crime_queries import CrimeRepository
from controlroom.data.engine import (
    PATIENT,
    Waits,
    make_engine,
    make_session_factory,
    on_standby,
)
from controlroom.data.intelligence_queries import IntelligenceQueries
from controlroom.data.legacy_queries import LegacyImportRepository
from controlroom.data.person_queries import PersonRecordRepository
from controlroom.data.queue_queries import QueueRepository
from controlroom.data.repositories import (
    AuditRepository,
    DatabaseInfoRepository,
    IncidentRepository,
    IntelligenceRepository,
    LocationRepository,
    OfflineReplayRepository,
    PersonRepository,
    RecordCopyRepository,
    ReferenceRepository,
    SessionRepository,
    StaffRepository,
)
from controlroom.data.resource_queries import ResourceRepository, UnitCounterPoll, counter_poll
from controlroom.data.safeguarding_queries import SafeguardingRepository
from controlroom.data.search import search_backend


class SqlAlchemyUnitOfWork:
    """The unit of work on one SQLAlchemy session (`services.unit_of_work.UnitOfWork`)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.session: Session
        self.standby_audit: Callable[[dict[str, object]], None] | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self._session_factory()
        self.database = DatabaseInfoRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.sessions = SessionRepository(self.session)
        self.reference = ReferenceRepository(self.session)
        self.incidents = IncidentRepository(self.session)
        self.persons = PersonRepository(self.session)
        self.person_records = PersonRecordRepository(self.session)
        self.locations = LocationRepository(self.session)
        self.intelligence = IntelligenceRepository(self.session)
        self.reports = IntelligenceQueries(self.session)
        self.queues = QueueRepository(self.session)
        self.resources = ResourceRepository(self.session)
        self.safeguarding = SafeguardingRepository(self.session)
        self.crimes = CrimeRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.offline = OfflineReplayRepository(self.session)
        self.copying = RecordCopyRepository(self.session)
        self.bulk = BulkWriter(self.session)
        self.legacy = LegacyImportRepository(self.session)
        self.search = search_backend(self.session)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()

    def add(self, record: object) -> None:
        self.session.add(record)

    def add_all(self, records: Iterable[object]) -> None:
        self.session.add_all(records)

    def change_feed(self) -> ChangeFeed:
        return change_feed(self.session.get_bind())  # type: ignore[arg-type]  # an Engine

    def on_standby(self) -> bool:
        """Whether this session's connection is on a hot standby (PostgreSQL in recovery:
        read-only), as the server last reported it; never on SQLite."""
        if self.session.get_bind().dialect.name != "postgresql":
            return False
        return on_standby(self.session.connection().connection.dbapi_connection)

    def unit_counter_poll(self) -> UnitCounterPoll:
        return counter_poll(self.session)

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


UnitOfWorkFactory = Callable[[], SqlAlchemyUnitOfWork]


class Database:
    """The process's one engine and session factory, and the UoW factory built on them."""

    def __init__(self, url: str, *, waits: Waits = PATIENT) -> None:
        self.url = url
        self.waits = waits
        self.engine: Engine = make_engine(url, waits=waits)
        self.session_factory = make_session_factory(self.engine)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
