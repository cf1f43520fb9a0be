"""The unit of work every service takes: its repositories, and commit or roll back.

    with uow:
        ...
        uow.commit()

A service reaches the database only through the repositories named here: it never
holds a session or builds a statement (the data layer does that). The concrete unit of
work is `controlroom.data.uow.SqlAlchemyUnitOfWork`, one session per user action, rolled
back on exit unless committed; a rule-heavy service may be tested on a fake that has the
same shape (cosmicpython's pattern: `tests/fakes.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol, Self

from controlroom.data.bulk import BulkWriter
from controlroom.data.changes import ChangeFeed
from controlroom.data.crime_queries import CrimeRepository
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
from controlroom.data.resource_queries import ResourceRepository
from controlroom.data.safeguarding_queries import SafeguardingRepository
from controlroom.data.search import PersonSearch
from controlroom.data.unit_watch import UnitCounterPoll

# An audit event's fields (`audit_log.append`'s keywords), handed to the station.
StandbyAudit = Callable[[dict[str, object]], None]


class UnitOfWork(Protocol):
    """One user action's access to the database (see the module docstring)."""

    database: DatabaseInfoRepository
    staff: StaffRepository
    sessions: SessionRepository
    reference: ReferenceRepository
    incidents: IncidentRepository
    persons: PersonRepository
    locations: LocationRepository
    intelligence: IntelligenceRepository
    audit: AuditRepository
    offline: OfflineReplayRepository
    copying: RecordCopyRepository

    # Built when first asked for (`data/uow.py`): read-only here, so a fake may hold them
    # as plain attributes.
    @property
    def person_records(self) -> PersonRecordRepository: ...
    @property
    def reports(self) -> IntelligenceQueries: ...
    @property
    def queues(self) -> QueueRepository: ...
    @property
    def resources(self) -> ResourceRepository: ...
    @property
    def safeguarding(self) -> SafeguardingRepository: ...
    @property
    def crimes(self) -> CrimeRepository: ...
    @property
    def bulk(self) -> BulkWriter:  # the synthetic force's writer
        ...
    @property
    def legacy(self) -> LegacyImportRepository: ...
    @property
    def search(self) -> PersonSearch: ...

    # Where the audit of a read goes while this unit of work is on a hot standby (the
    # station's journal, `services/standby.py`); None: nowhere, the read is refused.
    standby_audit: StandbyAudit | None

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def add(self, record: object) -> None:
        """A new record, written at the next flush or commit."""

    def add_all(self, records: Iterable[object]) -> None: ...

    def flush(self) -> None: ...

    def commit(self) -> None: ...

    def reading(self) -> AbstractContextManager[None]:
        """A read-only part, in a transaction of its own that holds no write lock (what
        came before is committed first; a write inside is refused)."""
        ...

    def rollback(self) -> None: ...

    def change_feed(self) -> ChangeFeed:
        """A feed of queue changes at any station, on this database (outlives the unit
        of work; close it when done)."""
        ...

    def on_standby(self) -> bool:
        """Whether this unit of work reads from a hot standby (nothing can be written)."""
        ...

    def close_connection_after(self) -> None:
        """Close this unit of work's connection when it ends rather than pool it (after a
        one-off read of many rows: the process does not keep their pages cached)."""
        ...

    def unit_counter_poll(self) -> UnitCounterPoll:
        """A poll of the unit change counter on a connection of its own (outlives the
        unit of work; close it when done)."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
