"""Call handling while the database cannot be reached: new incidents go to this station's
offline journal (`data/offline_journal.py`) and are replayed into the database, each
exactly once, when it answers again; the reference data entry needs comes from the
station's cache of the last good read.

Exactly once: every entry carries its form's idempotency key, and the replay saves it
through `save_new_incident`, which finds an incident that key already made (the first
try that got through before the outage was noticed, or a replay that committed and
then crashed before marking its entry) instead of making another. An entry the
database refuses (a rule, a permission) is never dropped: it stays pending with why.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controlroom.data.offline_journal import (
    OfflineJournal,
    cache_path,
    journal_path,
    read_cache,
    write_cache,
)
from controlroom.domain.identity import Actor
from controlroom.services import incidents
from controlroom.services.incidents import IncidentTypeOption, NewIncident

if TYPE_CHECKING:
    from controlroom.services.unit_of_work import UnitOfWorkFactory

__all__ = [
    "OfflineJournal",
    "OfflineSaved",
    "ReplayReport",
    "incident_types_or_cached",
    "open_journal",
    "record_incident",
    "replay",
    "replay_left_behind",
    "session_token",
]

KIND_INCIDENT = "incident.create"
# A session token (`session_token`): host, start time, process.
_TOKEN = re.compile(r"[A-Z0-9-]+-\d{12}-\d+")


@dataclass(frozen=True, slots=True)
class OfflineSaved:
    """An incident kept on this station: its provisional reference, and how many wait."""

    provisional_reference: str
    waiting: int


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did: (provisional, final) per entry that went in; (provisional,
    why) per entry the database refused; `interrupted` when the database stopped
    answering part-way (the rest wait for the next replay)."""

    replayed: tuple[tuple[str, str], ...]
    refused: tuple[tuple[str, str], ...]
    interrupted: bool
    waiting: int


def session_token(started: datetime, pid: int | None = None, host: str | None = None) -> str:
    """Names a session's journal and its provisional references: the host, the start
    time and the process, so no two sessions anywhere share one."""
    host = (host or socket.gethostname()).split(".")[0][:12] or "station"
    host = "".join(ch if ch.isalnum() else "-" for ch in host).upper()
    pid = os.getpid() if pid is None else pid
    return f"{host}-{started.astimezone(UTC):%y%m%d%H%M%S}-{pid}"


def open_journal(data_dir: Path, username: str, token: str) -> OfflineJournal:
    return OfflineJournal(journal_path(data_dir, username, token))


def _payload(call: NewIncident) -> dict[str, Any]:
    fields = dataclasses.asdict(call)
    fields["persons"] = [list(pair) for pair in call.persons]
    taken = call.call_taken_at
    fields["call_taken_at"] = None if taken is None else taken.astimezone(UTC).isoformat()
    return fields


def _call(payload: dict[str, Any]) -> NewIncident:
    fields = dict(payload)
    fields["persons"] = tuple(tuple(pair) for pair in fields.get("persons") or ())
    taken = fields.get("call_taken_at")
    fields["call_taken_at"] = None if taken is None else datetime.fromisoformat(taken)
    return NewIncident(**fields)


def record_incident(
    journal: OfflineJournal, actor: Actor, call: NewIncident, now: datetime, token: str
) -> OfflineSaved:
    """Keep a new incident on this station (on the disk when this returns). The same form
    saved again keeps its one entry and provisional reference."""
    number = journal.count() + 1
    entry = journal.record(
        KIND_INCIDENT,
        call.idempotency_key,
        f"OFF-{token}-{number}",
        _payload(call),
        {
            "staff_id": actor.staff_id,
            "username": actor.username,
            "role": None if actor.role is None else actor.role.value,
            "terminal": actor.terminal,
        },
        now,
    )
    return OfflineSaved(entry.provisional_reference, len(journal.pending()))


def replay(
    journal: OfflineJournal,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    clock: Callable[[], datetime],
    grade_codes: tuple[str, ...],
) -> ReplayReport:
    """Send every pending entry to the database, in the order taken, each exactly once."""
    replayed: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    interrupted = False
    for entry in journal.pending():
        try:
            saved = incidents.save_new_incident(
                uow_factory(), actor, _call(entry.payload), clock(), grade_codes
            )
        except Exception as exc:  # noqa: BLE001 - sorted below: a rule, or no database
            if type(exc).__module__.startswith("controlroom."):
                # A rule or a permission said no: kept, with why, for a supervisor.
                journal.refused(entry.seq, str(exc))
                refused.append((entry.provisional_reference, str(exc)))
                continue
            interrupted = True  # the database went again: the rest wait
            break
        journal.replayed(entry.seq, saved.reference, clock())
        replayed.append((entry.provisional_reference, saved.reference))
    return ReplayReport(tuple(replayed), tuple(refused), interrupted, len(journal.pending()))


def replay_left_behind(
    data_dir: Path,
    username: str,
    token: str,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    clock: Callable[[], datetime],
    grade_codes: tuple[str, ...],
) -> ReplayReport:
    """Replay what this operator's earlier sessions kept on this station and could not
    send (quit, or killed, while the database was away). Another live session of the
    operator replaying the same journal at the same time is harmless: each entry's
    idempotency key lets it into the database once."""
    replayed: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    interrupted = False
    waiting = 0
    own = journal_path(data_dir, username, token)
    try:
        names = sorted(path.name for path in own.parent.iterdir())
    except OSError:  # no journal was ever kept here
        names = []
    for name in names:
        middle = name.removeprefix(f"{username}.").removesuffix(".sqlite")
        # Only this operator's: "demo" must not take "demo.supervisor.<token>" for its own.
        if name == own.name or len(middle) == len(name) or not _TOKEN.fullmatch(middle):
            continue
        path = own.parent / name
        journal = OfflineJournal(path)
        try:
            if not journal.pending():
                continue
            report = replay(journal, uow_factory, actor, clock, grade_codes)
        finally:
            journal.close()
        replayed += report.replayed
        refused += report.refused
        waiting += report.waiting
        if report.interrupted:
            interrupted = True
            break
    return ReplayReport(tuple(replayed), tuple(refused), interrupted, waiting)


def incident_types_or_cached(
    uow_factory: UnitOfWorkFactory, data_dir: Path
) -> tuple[list[IncidentTypeOption], bool]:
    """The active incident types, and whether they came from the station's cache: read
    from the database (and cached) when it answers, else as last read."""
    path = cache_path(data_dir)
    try:
        types = incidents.incident_types(uow_factory())
    except Exception:
        cached = read_cache(path)
        rows = None if cached is None else cached.get("incident_types")
        if not isinstance(rows, list):
            raise
        return [IncidentTypeOption(**row) for row in rows], True
    try:
        write_cache(path, {"incident_types": [dataclasses.asdict(t) for t in types]})
    except OSError:
        pass  # the cache is a convenience; the read itself succeeded
    return types, False
