"""The unit of work: one session per user action, rolled back unless committed.

    with uow_factory() as uow:
        ...
        uow.commit()

Services take a unit of work; the app and the CLI hold a `uow_factory` built once per
process around the one engine.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlroom.data import append_only  # noqa: F401  (installs the append-only guards)
from controlroom.data.engine import make_engine, make_session_factory
from controlroom.data.repositories import (
    AuditRepository,
    DatabaseInfoRepository,
    IncidentRepository,
    IntelligenceRepository,
    LocationRepository,
    PersonRepository,
    ReferenceRepository,
    StaffRepository,
)
from controlroom.data.search import search_backend


class SqlAlchemyUnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.session: Session

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self.session = self._session_factory()
        self.database = DatabaseInfoRepository(self.session)
        self.staff = StaffRepository(self.session)
        self.reference = ReferenceRepository(self.session)
        self.incidents = IncidentRepository(self.session)
        self.persons = PersonRepository(self.session)
        self.locations = LocationRepository(self.session)
        self.intelligence = IntelligenceRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.search = search_backend(self.session)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()

    def flush(self) -> None:
        self.session.flush()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


UnitOfWorkFactory = Callable[[], SqlAlchemyUnitOfWork]


class Database:
    """The process's one engine and session factory, and the UoW factory built on them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.session_factory = make_session_factory(self.engine)

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.session_factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
