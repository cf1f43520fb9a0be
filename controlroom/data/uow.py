"""The unit of work: one session per user action, rolled back unless committed.

    with uow_factory() as uow:
        ...
        uow.commit()

Services take a unit of work; the app and the CLI hold a `uow_factory` built once per
process around the one engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from controlroom.data import (
    append_only,  # noqa: F401  (installs the append-only guards)
    crime_counts,  # noqa: F401  (keeps the monthly crime and integrity counts)
    legacy_guard,  # noqa: F401  (LEGACY records are read-only)
)
from controlroom.data.engine import (
    BATCH_CACHE_KIB,
    ONE_OFF_CACHE_KIB,
    PATIENT,
    READS_ONLY,
    Waits,
    make_engine,
    make_session_factory,
    on_standby,
    set_cache_kib,
)
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

if TYPE_CHECKING:
    from controlroom.data.bulk import BulkWriter
    from controlroom.data.changes import ChangeFeed
    from controlroom.data.crime_queries import CrimeRepository
    from controlroom.data.intelligence_queries import IntelligenceQueries
    from controlroom.data.legacy_queries import LegacyImportRepository
    from controlroom.data.person_queries import PersonRecordRepository
    from controlroom.data.queue_queries import QueueRepository
    from controlroom.data.resource_queries import ResourceRepository
    from controlroom.data.safeguarding_queries import SafeguardingRepository
    from controlroom.data.search import PersonSearch
    from controlroom.data.unit_watch import UnitCounterPoll


class SqlAlchemyUnitOfWork:
    """The unit of work on one SQLAlchemy session (`services.unit_of_work.UnitOfWork`)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.session: Session
        self.standby_audit: Callable[[dict[str, object]], None] | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self._session_factory()
        for name in _LAZY:  # built on the last session, if it was entered before
            self.__dict__.pop(name, None)
        self.database = DatabaseInfoRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.sessions = SessionRepository(self.session)
        self.reference = ReferenceRepository(self.session)
        self.incidents = IncidentRepository(self.session)
        self.persons = PersonRepository(self.session)
        self.locations = LocationRepository(self.session)
        self.intelligence = IntelligenceRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.offline = OfflineReplayRepository(self.session)
        self.copying = RecordCopyRepository(self.session)
        return self

    @cached_property
    def person_records(self) -> PersonRecordRepository:
        from controlroom.data.person_queries import PersonRecordRepository

        return PersonRecordRepository(self.session)

    @cached_property
    def reports(self) -> IntelligenceQueries:
        from controlroom.data.intelligence_queries import IntelligenceQueries

        return IntelligenceQueries(self.session)

    @cached_property
    def queues(self) -> QueueRepository:
        from controlroom.data.queue_queries import QueueRepository

        return QueueRepository(self.session)

    @cached_property
    def resources(self) -> ResourceRepository:
        from controlroom.data.resource_queries import ResourceRepository

        return ResourceRepository(self.session)

    @cached_property
    def safeguarding(self) -> SafeguardingRepository:
        from controlroom.data.safeguarding_queries import SafeguardingRepository

        return SafeguardingRepository(self.session)

    @cached_property
    def crimes(self) -> CrimeRepository:
        from controlroom.data.crime_queries import CrimeRepository

        return CrimeRepository(self.session)

    @cached_property
    def bulk(self) -> BulkWriter:
        from controlroom.data.bulk import BulkWriter

        return BulkWriter(self.session)

    @cached_property
    def legacy(self) -> LegacyImportRepository:
        from controlroom.data.legacy_queries import LegacyImportRepository

        return LegacyImportRepository(self.session)

    @cached_property
    def search(self) -> PersonSearch:
        from controlroom.data.search import search_backend

        return search_backend(self.session)

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
        from controlroom.data.changes import change_feed

        return change_feed(self.session.get_bind())  # type: ignore[arg-type]  # an Engine

    def on_standby(self) -> bool:
        """Whether this session's connection is on a hot standby (PostgreSQL in recovery:
        read-only), as the server last reported it; never on SQLite."""
        if self.session.get_bind().dialect.name != "postgresql":
            return False
        return on_standby(self.session.connection().connection.dbapi_connection)

    def close_connection_after(self) -> None:
        """On SQLite, for a one-off read of many rows: this unit of work's connection
        keeps only a small page cache (`ONE_OFF_CACHE_KIB`), and is closed when it ends
        instead of going back to the pool, where the pages it read would have stayed
        cached (up to `APP_CACHE_KIB`) for as long as it was kept. A no-op on PostgreSQL
        (the pages are the server's)."""
        connection = self.session.connection()
        # Nor are its statements kept compiled in the engine's cache for the session
        # (about 250 KiB for the station's area).
        connection.execution_options(compiled_cache=None)
        if self.session.get_bind().dialect.name != "sqlite":
            return
        set_cache_kib(connection.connection.dbapi_connection, ONE_OFF_CACHE_KIB)
        connection.detach()

    def unit_counter_poll(self) -> UnitCounterPoll:
        from controlroom.data.unit_watch import counter_poll

        return counter_poll(self.session)

    def flush(self) -> None:
        self.session.flush()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """A read-only part of this unit of work, in a transaction of its own.

        What came before it (an access check, say) is committed first; its statements
        then read one snapshot, and on SQLite the transaction begins DEFERRED, so it
        holds no write lock: every other unit of work there begins IMMEDIATE and would
        wait for a long read (a year of statistics on a force's database) to finish.
        A write inside is refused (`ReadOnlyPart`). At the end the read transaction is
        ended, and what is written next (the read's audit) begins a transaction of its
        own."""
        self.session.commit()
        self.session.info[READS_ONLY] = True
        try:
            self.session.connection(execution_options={READS_ONLY: True})
            yield
        finally:
            self.session.info.pop(READS_ONLY, None)
        self.session.commit()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


# The repositories a unit of work builds only when a service first asks for one (its
# cached properties), with their modules (issue 15, memory: the home board needs none of
# them, and their statements and modules were about 1.5 MiB of every session's peak).
# Forgotten at each `with`, as the session they were built on is.
_LAZY = tuple(
    name
    for name, member in vars(SqlAlchemyUnitOfWork).items()
    if isinstance(member, cached_property)
)

UnitOfWorkFactory = Callable[[], SqlAlchemyUnitOfWork]


class ReadOnlyPart(RuntimeError):
    """A write inside a unit of work's read-only part (`SqlAlchemyUnitOfWork.reading`):
    a fault in the service, never the operator's."""


@event.listens_for(Session, "before_flush")
def _no_flush_while_reading(session: Session, flush_context, instances) -> None:
    if session.info.get(READS_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlyPart("a unit of work wrote inside its read-only part")


@event.listens_for(Session, "do_orm_execute")
def _no_write_statement_while_reading(state: ORMExecuteState) -> None:
    if state.session.info.get(READS_ONLY) and not state.is_select:
        raise ReadOnlyPart("a unit of work wrote inside its read-only part")


class Database:
    """The process's one engine and session factory, and the UoW factory built on them."""

    def __init__(
        self,
        url: str,
        *,
        waits: Waits = PATIENT,
        cache_kib: int = BATCH_CACHE_KIB,
        heap_limit_kib: int = 0,
    ) -> None:
        self.url = url
        self.waits = waits
        self.engine: Engine = make_engine(
            url, waits=waits, cache_kib=cache_kib, heap_limit_kib=heap_limit_kib
        )
        self.session_factory = make_session_factory(self.engine)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
