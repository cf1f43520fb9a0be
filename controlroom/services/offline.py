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
from controlroom.services import audit
from controlroom.services.session import OpenedSession

# The incident services (and their rules: crime, DASH, queues, referrals) load with the
# first entry replayed or form opened, not at every sign-in: 1.4 MiB of every operator's
# memory that a board left alone never uses (issue 15).
if TYPE_CHECKING:
    from controlroom.services.incidents import IncidentTypeOption, NewIncident
    from controlroom.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "OfflineJournal",
    "OfflineSaved",
    "ReplayReport",
    "incident_types_or_cached",
    "open_journal",
    "audit_offline_sign_in",
    "cache_identity",
    "cached_session",
    "kept_back",
    "record_change",
    "resolve",
    "record_incident",
    "record_session_end",
    "replay",
    "replay_left_behind",
    "session_token",
]

KIND_INCIDENT = "incident.create"
KIND_NOTE = "incident.note"
KIND_STATUS = "incident.status"
KIND_REGRADE = "incident.regrade"
CHANGE_KINDS = (KIND_NOTE, KIND_STATUS, KIND_REGRADE)
KIND_SESSION_END = "session.end"
MARKER_ACTION = "offline.journal"
REPLAYED, DUPLICATE, CONFLICTED, REFUSED = "replayed", "duplicate", "conflicted", "refused"
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
    # (provisional, why) per call that went in though another call at the same place or
    # from the same phone is in the database too (a supervisor looks at both).
    duplicates: tuple[tuple[str, str], ...] = ()

    @property
    def lines(self) -> list[str]:
        """The reconciliation report, a line per entry that did not simply go in."""
        out = [f"{p}: went in as {f}" for p, f in self.replayed]
        out += [f"{p}: went in, but {why}" for p, why in self.duplicates]
        out += [f"{p}: NOT IN — conflict: {why}" for p, why in self.conflicted]
        out += [f"{p}: NOT IN — refused: {why}" for p, why in self.refused]
        out += [f"journal not sent: {why}" for why in self.tampered]
        return out


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
    from controlroom.services.incidents import NewIncident

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


def record_session_end(
    journal: OfflineJournal,
    actor: Actor,
    session_id: int | None,
    how: str,
    now: datetime,
    token: str,
) -> OfflineSaved:
    """A session that ends while the database does not answer: its end kept on this
    station, put on the record (`session.end`) by the next replay."""
    number = journal.count() + 1
    entry = journal.record(
        KIND_SESSION_END,
        f"session-end-{token}"[:64],
        f"OFF-{token}-{number}",
        {"session_id": session_id, "how": how, "reference": actor.username},
        _actor(actor),
        now,
    )
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
    from controlroom.services import incidents

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
    from controlroom.services import incidents

    incident_id, current, reference = _target(journal, entries, entry, uow_factory)
    payload = entry.payload
    when = entry.recorded_at
    if entry.kind == KIND_NOTE:
        incidents.add_note(
            uow_factory(), actor, incident_id, payload["text"], when, key=entry.idempotency_key
        )
        return reference, None, incident_id
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
    return reference, detail.version, incident_id


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
    duplicates: list[tuple[str, str]] = []
    interrupted = False
    entries = list(journal.entries())
    name = journal_name(journal)
    for entry in journal.pending():
        version: int | None = None
        incident_id: int | None = None
        doubt: str | None = None
        try:
            if entry.problem is not None and _resolved(journal, entry, uow_factory, clock):
                continue  # a supervisor settled it: no longer sent
            if entry.kind == KIND_SESSION_END:
                from controlroom.services import staff

                staff.end_kept_session(
                    uow_factory(),
                    actor,
                    entry.payload.get("session_id"),
                    str(entry.payload.get("how") or "ended"),
                    entry.recorded_at,
                )
                final = "session ended"
            elif entry.kind == KIND_INCIDENT:
                call = _call(entry.payload)
                doubt = _same_place(uow_factory, actor, call, entry)
                from controlroom.services import incidents

                saved = incidents.save_new_incident(
                    uow_factory(), actor, call, clock(), grade_codes
                )
                final, incident_id = saved.reference, saved.id
            else:
                final, version, incident_id = _replay_change(
                    journal, entries, entry, uow_factory, actor, grade_codes
                )
        except _Refused as exc:
            state = CONFLICTED if exc.conflict else REFUSED
            if _kept_back(journal, entry, uow_factory, actor, name, state, str(exc), clock):
                (conflicted if exc.conflict else refused).append(
                    (entry.provisional_reference, str(exc))
                )
                continue
            interrupted = True
            break
        except Exception as exc:  # noqa: BLE001 - sorted below: a rule, or no database
            if type(exc).__module__.startswith("controlroom.") and _kept_back(
                journal, entry, uow_factory, actor, name, REFUSED, str(exc), clock
            ):
                # A rule or a permission said no: kept, with why, for a supervisor.
                refused.append((entry.provisional_reference, str(exc)))
                continue
            interrupted = True  # the database went again: the rest wait
            break
        try:
            # Before the journal is marked: a crash in between replays it again, which
            # finds what its key made and writes this row once more, the same.
            report_outcome(
                uow_factory,
                actor,
                name,
                entry,
                DUPLICATE if doubt else REPLAYED,
                clock(),
                final_reference=final,
                incident_id=incident_id,
                why=doubt,
            )
        except Exception as exc:  # noqa: BLE001 - the database went: resumed next time
            if type(exc).__module__.startswith("controlroom."):
                raise
            interrupted = True
            break
        if doubt:
            duplicates.append((entry.provisional_reference, doubt))
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
        duplicates=tuple(duplicates),
    )


def _same_place(uow_factory, actor: Actor, call: NewIncident, entry) -> str | None:
    """Why this call kept offline may be one the database already has, or None."""
    from controlroom.services import incidents

    taken = call.call_taken_at or entry.recorded_at
    found = incidents.same_place_calls(uow_factory(), actor, call, taken)
    if not found:
        return None
    named = ", ".join(
        f"{m.reference} ({m.type_label}, opened {m.opened_at.astimezone(UTC):%H:%M} UTC)"
        for m in found[:3]
    )
    return f"possibly the same call as {named}: same place or phone, within the hour"


def _kept_back(journal, entry, uow_factory, actor, name, state, why, clock) -> bool:
    """An entry that cannot go in: kept in the journal with why, and put on the
    supervisors' list. False when the database went meanwhile (the list is written at
    the next replay)."""
    journal.refused(entry.seq, why)
    try:
        report_outcome(uow_factory, actor, name, entry, state, clock(), why=why)
    except Exception as exc:  # noqa: BLE001 - no database: resumed next time
        if type(exc).__module__.startswith("controlroom."):
            raise
        return False
    return True


def _resolved(journal, entry, uow_factory, clock) -> bool:
    """A supervisor resolved this entry (it went in by hand, or is not wanted): the
    journal marks it done, so the station stops sending it."""
    uow = uow_factory()
    with uow:
        row = uow.offline.by_provisional(entry.provisional_reference)
        if row is None or row.resolved_at is None:
            return False
        final = row.final_reference or "resolved"
    journal.replayed(entry.seq, final, clock())
    return True


def report_outcome(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    name: str,
    entry,
    state: str,
    now: datetime,
    *,
    final_reference: str | None = None,
    incident_id: int | None = None,
    why: str | None = None,
) -> None:
    """Write (or rewrite) what became of `entry` in `offline_replay`: its provisional
    reference mapped to the final one, or why it is kept back. One that did not simply
    go in is audited (it goes on the supervisors' list)."""
    import json

    from controlroom.data.cold_models import OfflineReplay

    uow = uow_factory()
    with uow:
        row = uow.offline.by_provisional(entry.provisional_reference)
        if row is None:
            row = OfflineReplay(
                provisional_reference=entry.provisional_reference,
                journal=name,
                kind=entry.kind,
                kept_at=entry.recorded_at,
                kept_by_id=entry.actor.get("staff_id"),
            )
            uow.offline.add(row)
        row.state = state
        row.final_reference = final_reference
        row.incident_id = incident_id
        row.why = why
        row.typed = None if state == REPLAYED else json.dumps(entry.payload, sort_keys=True)
        row.reported_at = now
        if state != REPLAYED:
            uow.flush()
            audit.record(
                uow,
                actor,
                "offline.reconcile",
                "offline_replay",
                row.id,
                detail=f"{entry.provisional_reference} {state}: {why}",
            )
        uow.commit()


@dataclass(frozen=True, slots=True)
class KeptBack:
    """An entry on the supervisors' list: went in with a doubt, or not at all."""

    id: int
    provisional_reference: str
    kind: str
    state: str
    final_reference: str | None
    why: str
    typed: dict[str, Any]
    kept_at: datetime
    kept_by: str
    station: str


def kept_back(uow: UnitOfWork, actor: Actor) -> list[KeptBack]:
    """Every entry kept offline that a supervisor has still to resolve, oldest first
    (the read audited)."""
    import json

    from controlroom.domain.permissions import Action
    from controlroom.services import access

    with uow:
        access.require(uow, actor, Action.OVERRIDE, "offline_replay", audit_action="offline.list")
        rows = uow.offline.unresolved()
        found = []
        for row in rows:
            staff = uow.staff.get(row.kept_by_id)
            found.append(
                KeptBack(
                    id=row.id,
                    provisional_reference=row.provisional_reference,
                    kind=row.kind,
                    state=row.state,
                    final_reference=row.final_reference,
                    why=row.why or "",
                    typed=json.loads(row.typed) if row.typed else {},
                    kept_at=row.kept_at,
                    kept_by=staff.username if staff is not None else "unknown",
                    station=row.journal,
                )
            )
        audit.record(
            uow,
            actor,
            "offline.list",
            "offline_replay",
            None,
            detail=f"{len(found)} kept back shown",
        )
        uow.commit()
        return found


def resolve(uow: UnitOfWork, actor: Actor, replay_id: int, how: str, now: datetime) -> None:
    """A supervisor settles an entry kept back (`how`: what was done — entered by hand
    as CR-…, not a real call, a duplicate of …); it leaves the list and its station stops
    sending it. Audited."""
    from controlroom.domain.permissions import Action
    from controlroom.services import access, incidents

    words = printable(how or "", multiline=True).strip()
    if not words:
        raise incidents.IncidentInputError("resolution", "say how it was resolved")
    with uow:
        access.require(
            uow, actor, Action.OVERRIDE, "offline_replay", replay_id, audit_action="offline.resolve"
        )
        row = uow.offline.get(replay_id, for_update=True)
        if row is None or row.resolved_at is not None:
            raise incidents.IncidentInputError("resolution", "it is no longer on the list")
        row.resolved_at = now
        row.resolved_by_id = actor.staff_id
        row.resolution = words[:2000]
        audit.record(
            uow,
            actor,
            "offline.resolve",
            "offline_replay",
            row.id,
            detail=f"{row.provisional_reference}: {words[:500]}",
        )
        uow.commit()


def journal_name(journal: OfflineJournal) -> str:
    """The name the main trail knows a journal by (its file's, without the suffix)."""
    return journal.path.name.removesuffix(".sqlite")[:64]


def forward_events(journal: OfflineJournal, uow_factory: UnitOfWorkFactory, actor: Actor) -> int:
    """Append the journal's audit events the main chain does not have yet, each with the
    time it happened, then a marker naming the last; one transaction, so exactly once."""
    name = journal_name(journal)
    uow = uow_factory()
    with uow:
        # The head first: two replays of one journal at once (the sign-in's and the
        # database's return) would both find no marker and both append the events.
        uow.audit.lock_chain()
        done = 0
        for marker in uow.audit.for_object("journal", name):
            found = _APPENDED.search(marker.detail or "")
            if marker.action == MARKER_ACTION and found:
                done = max(done, int(found.group(2)))
        events = journal.events(after=done)
        if not events:
            journal.mark_forwarded(done)
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
    journal.mark_forwarded(events[-1].seq)
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
    duplicates: list[tuple[str, str]] = []
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
            if journal.settled():  # all in, its events on the chain: nothing to ask
                continue
            # Even with nothing pending: its audit events may not all be on the chain.
            report = replay(journal, uow_factory, actor, clock, grade_codes)
        finally:
            journal.close()
        replayed += report.replayed
        refused += report.refused
        conflicted += report.conflicted
        tampered += report.tampered
        appended += report.events_appended
        duplicates += report.duplicates
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
        duplicates=tuple(duplicates),
    )


def audit_offline_sign_in(journal: OfflineJournal, actor: Actor, now: datetime) -> None:
    """The sign-in from the station's cache, into the journal's audit chain."""
    journal.audit(
        _actor(actor),
        "session.start",
        "staff",
        actor.username,
        "signed in from this station's cache: the database did not answer",
        now,
    )


def identity_path(data_dir: Path, username: str) -> Path:
    """The station's cache of who `username` was at the last good sign-in."""
    journal_path(data_dir, username, "identity")  # the same checks on the name
    return Path(data_dir) / "offline" / f"{username}.identity.json"


def cache_identity(data_dir: Path, opened: OpenedSession) -> None:
    """After a good sign-in: who the operator is (role, station) and the database's
    profile, kept on this station (0600) so that a start during an outage can take calls."""
    member, profile = opened.operator, opened.profile
    write_cache(
        identity_path(data_dir, member.username),
        {
            "operator": {
                **dataclasses.asdict(member),
                "role": member.role.value,
            },
            "profile": {
                **dataclasses.asdict(profile),
                "environment": profile.environment.value,
            },
        },
    )


def cached_session(data_dir: Path, username: str, terminal: str) -> OpenedSession | None:
    """A session opened from the station's cache while the database does not answer:
    the operator as last signed in here, or None when there is no usable cache (never
    signed in on this station, or an account inactive or locked when last seen)."""
    from controlroom.domain.environment import Environment
    from controlroom.domain.roles import Role
    from controlroom.services.database import DatabaseProfile
    from controlroom.services.staff import StaffMember

    content = read_cache(identity_path(data_dir, username))
    if content is None:
        return None
    try:
        fields = dict(content["operator"])
        fields["role"] = Role(fields["role"])
        member = StaffMember(**fields)
        facts = dict(content["profile"])
        facts["environment"] = Environment(facts["environment"])
        profile = DatabaseProfile(**facts)
    except (KeyError, TypeError, ValueError):
        return None
    if member.username != username or not member.active or member.locked:
        return None
    return OpenedSession(
        member,
        profile,
        None,
        warning=(
            "SIGNED IN FROM THIS STATION'S CACHE: the database is not answering. Calls, "
            "notes, status and grade changes are kept on this station and sent when it "
            "answers; your account is checked again then."
        ),
        offline=True,
    )


def incident_types_or_cached(
    uow_factory: UnitOfWorkFactory, data_dir: Path, *, offline: bool = False
) -> tuple[list[IncidentTypeOption], bool]:
    """The active incident types, and whether they came from the station's cache: read
    from the database (and cached) when it answers, else as last read. `offline` (the
    database known not to answer or not writable): the cache first, without waiting
    out a frozen server's bounds for every form."""
    from controlroom.services import incidents

    path = cache_path(data_dir)
    if offline:
        cached = read_cache(path)
        rows = None if cached is None else cached.get("incident_types")
        if isinstance(rows, list):
            return [incidents.IncidentTypeOption(**row) for row in rows], True
    try:
        types = incidents.incident_types(uow_factory())
    except Exception:
        cached = read_cache(path)
        rows = None if cached is None else cached.get("incident_types")
        if not isinstance(rows, list):
            raise
        return [incidents.IncidentTypeOption(**row) for row in rows], True
    try:
        write_cache(path, {"incident_types": [dataclasses.asdict(t) for t in types]})
    except OSError:
        pass  # the cache is a convenience; the read itself succeeded
    return types, False
