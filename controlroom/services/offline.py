"""Call handling while the database cannot be reached: new incidents go to this station's
offline journal (`data/offline_journal.py`) and are replayed into the database, each
exactly once, when it answers again; the reference data entry needs comes from the
station's cache of the last good read.

Exactly once: every entry carries its form's idempotency key, and the replay saves it
through `save_new_incident`, which finds an incident that key already made (the first
try that got through before the outage was noticed, or a replay that committed and
then crashed before marking its entry) instead of making another. A note, status or
grade change kept offline carries its dialog's key into the incident's log entry
(unique), so it too lands once. An entry the database refuses (a rule, a permission,
another station's change since — a conflict) is never dropped: it stays pending with
why.

A change on an incident itself kept offline names it by its provisional reference; the
replay finds the final one in the journal. Several changes kept offline on one saved
incident all expected the version the operator saw: each replayed one records the
version it left, and the next expects that.

The journal's audit chain is verified before anything is sent (a journal tampered with
is not replayed: it is reported), and its events go onto the main chain after the
entries, in one transaction with a marker event (`offline.journal`, naming the last
journal event appended), so a replay cut off and resumed never appends them twice.
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
from controlroom.domain.safe_text import printable
from controlroom.services import audit, incidents
from controlroom.services.incidents import IncidentTypeOption, NewIncident

if TYPE_CHECKING:
    from controlroom.services.unit_of_work import UnitOfWorkFactory

__all__ = [
    "OfflineJournal",
    "OfflineSaved",
    "ReplayReport",
    "incident_types_or_cached",
    "open_journal",
    "record_change",
    "record_incident",
    "replay",
    "replay_left_behind",
    "session_token",
]

KIND_INCIDENT = "incident.create"
KIND_NOTE = "incident.note"
KIND_STATUS = "incident.status"
KIND_REGRADE = "incident.regrade"
CHANGE_KINDS = (KIND_NOTE, KIND_STATUS, KIND_REGRADE)
MARKER_ACTION = "offline.journal"
_APPENDED = re.compile(r"journal events (\d+)-(\d+) appended")
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
    # (provisional, why) per change another station's change got in before (a conflict).
    conflicted: tuple[tuple[str, str], ...] = ()
    # Journal audit events appended to the main chain by this replay.
    events_appended: int = 0
    # Why a journal was not replayed at all (its chain or an entry does not verify).
    tampered: tuple[str, ...] = ()


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


def _actor(actor: Actor) -> dict[str, Any]:
    return {
        "staff_id": actor.staff_id,
        "username": actor.username,
        "role": None if actor.role is None else actor.role.value,
        "terminal": actor.terminal,
    }


def record_change(
    journal: OfflineJournal,
    actor: Actor,
    kind: str,
    key: str,
    reference: str,
    incident_id: int | None,
    expected_version: int | None,
    typed: dict[str, Any],
    now: datetime,
    token: str,
) -> OfflineSaved:
    """Keep a note (`KIND_NOTE`, typed {"text"}), a status change (`KIND_STATUS`,
    {"status", "note"}) or a regrade (`KIND_REGRADE`, {"grade", "reason",
    "override_reason"}) on incident `reference` (its id, or None for an incident kept
    offline) on this station; `key` is the dialog's, so saving it again keeps one."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"not a change kept offline: {kind}")
    payload = {
        **typed,
        "reference": reference,
        "incident_id": incident_id,
        "expected_version": expected_version,
    }
    number = journal.count() + 1
    entry = journal.record(kind, key, f"OFF-{token}-{number}", payload, _actor(actor), now)
    return OfflineSaved(entry.provisional_reference, len(journal.pending()))


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
        _actor(actor),
        now,
    )
    return OfflineSaved(entry.provisional_reference, len(journal.pending()))


class _Refused(Exception):
    """An entry that cannot go in as it stands (kept, with why)."""

    def __init__(self, why: str, *, conflict: bool = False) -> None:
        super().__init__(why)
        self.conflict = conflict


def _target(journal: OfflineJournal, entries, entry, uow_factory) -> tuple[int, int, str]:
    """(id, current version, final reference) of the incident a change names."""
    reference = entry.payload["reference"]
    if entry.payload.get("incident_id") is None:
        made = next((e for e in entries if e.provisional_reference == reference), None)
        if made is None or made.final_reference is None:
            raise _Refused(f"its incident {reference} kept on this station has not gone in yet")
        reference = made.final_reference
    found = incidents.incident_key(uow_factory(), reference)
    if found is None:
        raise _Refused(f"{reference} is not in the database")
    return found[0], found[1], reference


def _expected(journal: OfflineJournal, entries, entry, current: int) -> int:
    """The version a status or grade change kept offline expects: the one the operator
    saw, or — after changes of this journal to the same incident from that same
    version — the version the last of them left; an incident kept offline: as it is."""
    payload = entry.payload
    if payload.get("incident_id") is None or payload.get("expected_version") is None:
        return current
    expected = int(payload["expected_version"])
    for earlier in entries:
        if earlier.seq >= entry.seq:
            break
        same = (
            earlier.kind in (KIND_STATUS, KIND_REGRADE)
            and earlier.payload.get("reference") == payload["reference"]
            and earlier.payload.get("expected_version") == payload["expected_version"]
        )
        if same:
            after = journal.result_version(earlier.seq)
            if after is not None:
                expected = after
    return expected


def _replay_change(journal, entries, entry, uow_factory, actor, grade_codes):
    """One change kept offline into the database: (final reference, version after)."""
    incident_id, current, reference = _target(journal, entries, entry, uow_factory)
    payload = entry.payload
    when = entry.recorded_at
    if entry.kind == KIND_NOTE:
        incidents.add_note(
            uow_factory(), actor, incident_id, payload["text"], when, key=entry.idempotency_key
        )
        return reference, None
    expected = _expected(journal, entries, entry, current)
    try:
        if entry.kind == KIND_STATUS:
            detail = incidents.change_status(
                uow_factory(),
                actor,
                incident_id,
                payload["status"],
                expected,
                when,
                payload.get("note") or "",
                key=entry.idempotency_key,
            )
        else:
            detail = incidents.change_grade(
                uow_factory(),
                actor,
                incident_id,
                payload["grade"],
                payload["reason"],
                expected,
                when,
                grade_codes,
                override_reason=payload.get("override_reason"),
                key=entry.idempotency_key,
            )
    except incidents.EditConflict as conflict:
        raise _Refused(
            f"{reference} was changed on another station after this change was kept "
            f"(now version {conflict.current.version}): not applied, review it",
            conflict=True,
        ) from conflict
    return reference, detail.version


def replay(
    journal: OfflineJournal,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    clock: Callable[[], datetime],
    grade_codes: tuple[str, ...],
) -> ReplayReport:
    """Send every pending entry to the database, in the order taken, each exactly once,
    then the journal's audit events onto the main chain. A journal whose chain or
    entries do not verify is not sent: the report says why."""
    checked = journal.verify()
    if not checked.intact:
        assert checked.broken is not None
        return ReplayReport(
            (),
            (),
            False,
            len(journal.pending()),
            tampered=(f"{journal.path.name}: {checked.broken.problem}",),
        )
    replayed: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    conflicted: list[tuple[str, str]] = []
    interrupted = False
    entries = list(journal.entries())
    for entry in journal.pending():
        version: int | None = None
        try:
            if entry.kind == KIND_INCIDENT:
                saved = incidents.save_new_incident(
                    uow_factory(), actor, _call(entry.payload), clock(), grade_codes
                )
                final = saved.reference
            else:
                final, version = _replay_change(
                    journal, entries, entry, uow_factory, actor, grade_codes
                )
        except _Refused as exc:
            journal.refused(entry.seq, str(exc))
            (conflicted if exc.conflict else refused).append(
                (entry.provisional_reference, str(exc))
            )
            continue
        except Exception as exc:  # noqa: BLE001 - sorted below: a rule, or no database
            if type(exc).__module__.startswith("controlroom."):
                # A rule or a permission said no: kept, with why, for a supervisor.
                journal.refused(entry.seq, str(exc))
                refused.append((entry.provisional_reference, str(exc)))
                continue
            interrupted = True  # the database went again: the rest wait
            break
        journal.replayed(entry.seq, final, clock(), version)
        # Later changes to an incident made offline find its final reference here.
        entries = [
            dataclasses.replace(e, final_reference=final) if e.seq == entry.seq else e
            for e in entries
        ]
        replayed.append((entry.provisional_reference, final))
    appended = 0
    if not interrupted:
        try:
            appended = forward_events(journal, uow_factory, actor)
        except Exception as exc:  # noqa: BLE001 - the database went: the next replay sends them
            if type(exc).__module__.startswith("controlroom."):
                raise
            interrupted = True
    return ReplayReport(
        tuple(replayed),
        tuple(refused),
        interrupted,
        len(journal.pending()),
        conflicted=tuple(conflicted),
        events_appended=appended,
    )


def journal_name(journal: OfflineJournal) -> str:
    """The name the main trail knows a journal by (its file's, without the suffix)."""
    return journal.path.name.removesuffix(".sqlite")[:64]


def forward_events(journal: OfflineJournal, uow_factory: UnitOfWorkFactory, actor: Actor) -> int:
    """Append the journal's audit events the main chain does not have yet, each with the
    time it happened, then a marker naming the last; one transaction, so exactly once."""
    name = journal_name(journal)
    uow = uow_factory()
    with uow:
        done = 0
        for marker in uow.audit.for_object("journal", name):
            found = _APPENDED.search(marker.detail or "")
            if marker.action == MARKER_ACTION and found:
                done = max(done, int(found.group(2)))
        events = journal.events(after=done)
        if not events:
            return 0
        for event in events:
            uow.audit.append(
                occurred_at=event.occurred_at,
                actor=printable(event.actor),
                staff_id=event.staff_id,
                terminal=printable(event.terminal),
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                outcome=event.outcome,
                justification=event.justification,
                detail=printable(
                    f"offline, journal {name} event {event.seq}"
                    + (f": {event.detail}" if event.detail else ""),
                    multiline=True,
                ),
            )
        audit.record(
            uow,
            actor,
            MARKER_ACTION,
            "journal",
            name,
            detail=f"journal events {events[0].seq}-{events[-1].seq} appended",
        )
        uow.commit()
    return len(events)


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
    conflicted: list[tuple[str, str]] = []
    tampered: list[str] = []
    appended = 0
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
            # Even with nothing pending: its audit events may not all be on the chain.
            report = replay(journal, uow_factory, actor, clock, grade_codes)
        finally:
            journal.close()
        replayed += report.replayed
        refused += report.refused
        conflicted += report.conflicted
        tampered += report.tampered
        appended += report.events_appended
        waiting += report.waiting
        if report.interrupted:
            interrupted = True
            break
    return ReplayReport(
        tuple(replayed),
        tuple(refused),
        interrupted,
        waiting,
        conflicted=tuple(conflicted),
        events_appended=appended,
        tampered=tuple(tampered),
    )


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
