"""The offline journal (issue 13, items 2 and 3, first slice): calls kept on the station
while the database cannot be reached, replayed into it exactly once, in order, with the
time each call was taken — also when a replay was cut off after its commits and before
it could mark them (a crash, a second outage)."""

from __future__ import annotations

import stat
import uuid
from datetime import timedelta

from sqlalchemy import select

from controlroom.data.models import Incident
from controlroom.domain.grades import grade_codes
from controlroom.domain.identity import Actor
from controlroom.services import incidents, offline
from controlroom.services.incidents import NewIncident
from tests.databases import SEED_ANCHOR

CALLS = 20


def _actor(member) -> Actor:
    return Actor(member.staff_id, member.username, member.role, "local")


def _call(number: int) -> NewIncident:
    return NewIncident(
        uuid.uuid4().hex,
        "NOISE",
        f"{number} Mill Lane, Leeds LS6 2AB",
        caller_name=f"Caller {number}",
        call_taken_at=SEED_ANCHOR + timedelta(minutes=number),
    )


def test_the_journal_is_private_and_one_per_session(tmp_path, supervisor):
    first = offline.open_journal(tmp_path, supervisor.username, "VM-1-100")
    second = offline.open_journal(tmp_path, supervisor.username, "VM-1-101")
    call = _call(1)
    kept = offline.record_incident(first, _actor(supervisor), call, SEED_ANCHOR, "VM-1-100")
    assert kept.provisional_reference == "OFF-VM-1-100-1" and kept.waiting == 1
    assert second.pending() == []  # the other session's file is its own
    assert stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.path.parent.stat().st_mode) == 0o700
    again = offline.record_incident(first, _actor(supervisor), call, SEED_ANCHOR, "VM-1-100")
    assert again.provisional_reference == "OFF-VM-1-100-1"  # the same form: one entry
    first.close()
    second.close()


def test_calls_kept_offline_replay_once_in_order_even_after_a_cut_off_replay(
    database, tmp_path, supervisor
):
    actor = _actor(supervisor)
    journal = offline.open_journal(tmp_path, supervisor.username, "VM-2-200")
    calls = [_call(number) for number in range(1, CALLS + 1)]
    for call in calls:
        offline.record_incident(journal, actor, call, SEED_ANCHOR, "VM-2-200")
    later = SEED_ANCHOR + timedelta(hours=2)
    # A replay that committed the first five and was cut off before marking them.
    for call in calls[:5]:
        incidents.save_new_incident(database.uow(), actor, call, later, grade_codes())
    report = offline.replay(journal, database.uow, actor, lambda: later, grade_codes())
    assert (len(report.replayed), report.refused, report.interrupted) == (CALLS, (), False)
    assert report.waiting == 0 and journal.pending() == []
    again = offline.replay(journal, database.uow, actor, lambda: later, grade_codes())
    assert again.replayed == ()  # nothing left: a second replay makes nothing
    with database.uow() as uow:
        rows = uow.session.execute(
            select(Incident.idempotency_key, Incident.opened_at, Incident.reference).order_by(
                Incident.id
            )
        ).all()
    assert [row.idempotency_key for row in rows] == [call.idempotency_key for call in calls]
    assert [row.opened_at for row in rows] == [call.call_taken_at for call in calls]
    # Both references stay findable: the journal maps each provisional to its final one.
    finals = {entry.provisional_reference: entry.final_reference for entry in journal.entries()}
    assert sorted(finals.values()) == sorted(row.reference for row in rows)
    assert dict(report.replayed) == finals
    journal.close()


def test_an_entry_the_database_refuses_is_kept_with_why(database, tmp_path, supervisor):
    actor = _actor(supervisor)
    journal = offline.open_journal(tmp_path, supervisor.username, "VM-3-300")
    bad = NewIncident(uuid.uuid4().hex, "NO-SUCH-TYPE", "1 Mill Lane, Leeds LS6 2AB")
    offline.record_incident(journal, actor, bad, SEED_ANCHOR, "VM-3-300")
    offline.record_incident(journal, actor, _call(2), SEED_ANCHOR, "VM-3-300")
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    assert len(report.replayed) == 1 and report.waiting == 1
    [(provisional, why)] = report.refused
    [kept] = journal.pending()
    assert kept.provisional_reference == provisional and "incident type" in kept.problem
    assert "incident type" in why
    journal.close()


def test_entry_reads_its_incident_types_from_the_cache_when_the_database_is_gone(
    database, tmp_path
):
    from controlroom.data.uow import Database

    types, cached = offline.incident_types_or_cached(database.uow, tmp_path)
    assert types and not cached
    gone = Database(f"sqlite+pysqlite:///{tmp_path / 'missing' / 'nothing.sqlite'}")
    try:
        again, cached = offline.incident_types_or_cached(gone.uow, tmp_path)
    finally:
        gone.dispose()
    assert cached and again == types

    # Known to be away: the cache, without asking (a frozen server would hold each form).
    asked = []

    def never():
        asked.append(True)
        raise RuntimeError("the database was asked")

    first, cached = offline.incident_types_or_cached(never, tmp_path, offline=True)
    assert cached and first == types and asked == []


def test_what_an_earlier_session_kept_is_replayed_at_the_next_sign_in(
    database, tmp_path, supervisor
):
    """Quit (or killed) while the database was away: the next session of the same
    operator replays it; another operator's journal in the same directory is not its."""
    actor = _actor(supervisor)
    earlier = offline.open_journal(tmp_path, supervisor.username, "VM-260101090000-41")
    call = _call(3)
    offline.record_incident(earlier, actor, call, SEED_ANCHOR, "VM-260101090000-41")
    other = offline.open_journal(tmp_path, f"{supervisor.username}.x", "VM-260101090000-42")
    offline.record_incident(other, actor, _call(4), SEED_ANCHOR, "VM-260101090000-42")
    report = offline.replay_left_behind(
        tmp_path,
        supervisor.username,
        "VM-260101100000-43",
        database.uow,
        actor,
        lambda: SEED_ANCHOR + timedelta(hours=1),
        grade_codes(),
    )
    assert [provisional for provisional, _ in report.replayed] == ["OFF-VM-260101090000-41-1"]
    assert earlier.pending() == [] and len(other.pending()) == 1
    with database.uow() as uow:
        assert uow.incidents.by_idempotency_key(call.idempotency_key) is not None
    earlier.close()
    other.close()


# --- notes, status and grade changes kept offline (item 2) ---------------------------------


def _change(journal, actor, kind, reference, incident_id, version, typed, token, minutes):
    return offline.record_change(
        journal,
        actor,
        kind,
        uuid.uuid4().hex,
        reference,
        incident_id,
        version,
        typed,
        SEED_ANCHOR + timedelta(minutes=minutes),
        token,
    )


def test_changes_kept_offline_replay_in_order_once_on_new_and_saved_incidents(
    database, tmp_path, supervisor
):
    """A note and a status change on an incident itself kept offline (named by its
    provisional reference), and on an incident already saved a note, two status
    changes and a regrade from the version the operator saw: all land once, in order,
    with the times they were made, also after a replay cut off after its commits."""
    actor = _actor(supervisor)
    token = "VM-4-400"
    saved = incidents.save_new_incident(database.uow(), actor, _call(1), SEED_ANCHOR, grade_codes())
    seen = incidents.view_incident(database.uow(), actor, saved.reference, today=SEED_ANCHOR)
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    new = offline.record_incident(journal, actor, _call(2), SEED_ANCHOR, token)
    off = new.provisional_reference
    N, S, G = offline.KIND_NOTE, offline.KIND_STATUS, offline.KIND_REGRADE
    _change(journal, actor, N, off, None, None, {"text": "Caller rang back"}, token, 3)
    _change(journal, actor, S, off, None, None, {"status": "dispatched"}, token, 4)
    note = _change(
        journal, actor, N, saved.reference, seen.id, seen.version, {"text": "Noted"}, token, 5
    )
    _change(
        journal,
        actor,
        S,
        saved.reference,
        seen.id,
        seen.version,
        {"status": "dispatched"},
        token,
        6,
    )
    _change(
        journal, actor, S, saved.reference, seen.id, seen.version, {"status": "at_scene"}, token, 7
    )
    _change(
        journal,
        actor,
        G,
        saved.reference,
        seen.id,
        seen.version,
        {"grade": "G1", "reason": "weapon seen"},
        token,
        8,
    )
    assert note.waiting == 4 and len(journal.pending()) == 7
    # The note on the saved incident went in before the replay was cut off (a crash).
    [kept_note] = [
        e for e in journal.pending() if e.provisional_reference == note.provisional_reference
    ]
    incidents.add_note(
        database.uow(),
        actor,
        seen.id,
        "Noted",
        kept_note.recorded_at,
        key=kept_note.idempotency_key,
    )
    later = SEED_ANCHOR + timedelta(hours=1)
    report = offline.replay(journal, database.uow, actor, lambda: later, grade_codes())
    assert (report.refused, report.conflicted, report.interrupted) == ((), (), False)
    assert len(report.replayed) == 7 and journal.pending() == []
    assert offline.replay(journal, database.uow, actor, lambda: later, grade_codes()).replayed == ()
    made = dict(report.replayed)[off]
    now_new = incidents.view_incident(database.uow(), actor, made, today=later)
    now_saved = incidents.view_incident(database.uow(), actor, saved.reference, today=later)
    assert now_new.status == "dispatched"
    assert (now_saved.status, now_saved.grade) == ("at_scene", "G1")
    notes = [e for e in now_saved.log if e.text == "Noted"]
    assert len(notes) == 1 and notes[0].entered_at == SEED_ANCHOR + timedelta(minutes=5)
    assert [e.kind for e in now_saved.log][-4:] == [
        "note",
        "status_change",
        "status_change",
        "grade_change",
    ]
    assert any(e.text == "Caller rang back" for e in now_new.log)
    journal.close()


def test_a_change_another_station_beat_is_kept_as_a_conflict(database, tmp_path, supervisor):
    actor = _actor(supervisor)
    token = "VM-5-500"
    saved = incidents.save_new_incident(database.uow(), actor, _call(1), SEED_ANCHOR, grade_codes())
    seen = incidents.view_incident(database.uow(), actor, saved.reference, today=SEED_ANCHOR)
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    kept = _change(
        journal,
        actor,
        offline.KIND_STATUS,
        saved.reference,
        seen.id,
        seen.version,
        {"status": "dispatched"},
        token,
        2,
    )
    # Meanwhile another station, still connected, moved it on.
    incidents.change_status(database.uow(), actor, seen.id, "at_scene", seen.version, SEED_ANCHOR)
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    [(provisional, why)] = report.conflicted
    assert provisional == kept.provisional_reference and "another station" in why
    [pending] = journal.pending()
    assert pending.problem == why  # never dropped: kept, with why
    journal.close()


# --- the journal's own audit chain (item 2) -----------------------------------------------


def test_the_journal_audits_into_its_own_chain_and_its_events_reach_the_main_chain_once(
    database, tmp_path, supervisor
):
    from controlroom.services.audit_trail import verify_chain

    actor = _actor(supervisor)
    token = "VM-6-600"
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    kept = offline.record_incident(journal, actor, _call(1), SEED_ANCHOR, token)
    journal.audit(
        {"username": actor.username, "staff_id": actor.staff_id, "terminal": "local"},
        "offline.read",
        "incident",
        kept.provisional_reference,
        "the operator read the calls kept on this station",
        SEED_ANCHOR + timedelta(minutes=1),
    )
    assert journal.verify().intact and journal.verify().events == 2
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    assert report.events_appended == 2
    # A second replay, or one resumed after a crash past its commit, appends nothing.
    assert offline.forward_events(journal, database.uow, actor) == 0
    assert journal.settled()  # a later sign-in need not ask the database about it
    journal.audit(
        {"username": actor.username, "staff_id": actor.staff_id, "terminal": "local"},
        "offline.read",
        "incident",
        kept.provisional_reference,
        "read again",
        SEED_ANCHOR + timedelta(minutes=2),
    )
    assert not journal.settled()
    assert offline.forward_events(journal, database.uow, actor) == 1
    with database.uow() as uow:
        appended = [
            (e.action, e.occurred_at)
            for e in uow.audit.latest(20)
            if (e.detail or "").startswith("offline, journal")
        ]
    assert sorted(appended) == [
        ("incident.create", SEED_ANCHOR),
        ("offline.read", SEED_ANCHOR + timedelta(minutes=1)),
        ("offline.read", SEED_ANCHOR + timedelta(minutes=2)),
    ]
    assert verify_chain(database.uow()).intact
    journal.close()


def test_a_journal_tampered_with_is_found_and_not_replayed(database, tmp_path, supervisor):
    import sqlite3

    actor = _actor(supervisor)
    token = "VM-7-700"
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    offline.record_incident(journal, actor, _call(1), SEED_ANCHOR, token)
    offline.record_incident(journal, actor, _call(2), SEED_ANCHOR, token)
    assert journal.verify().intact
    raw = sqlite3.connect(journal.path)
    # Someone edits what was typed in the second call (the address).
    raw.execute(
        "UPDATE offline_entry SET payload = replace(payload, '2 Mill Lane', '9 Mill Lane') "
        "WHERE seq = 2"
    )
    raw.commit()
    broken = journal.verify()
    assert not broken.intact and "changed after it was kept" in broken.broken.problem
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    assert report.replayed == () and report.waiting == 2 and report.tampered
    # An audit event deleted is found too.
    raw.execute("UPDATE offline_entry SET payload = replace(payload, '9 Mill', '2 Mill')")
    raw.execute("DELETE FROM offline_audit WHERE seq = 1")
    raw.commit()
    raw.close()
    assert not journal.verify().intact
    journal.close()


# --- provisional references stay findable; the reconciliation (items 3 and 4) -------------


def test_a_provisional_reference_finds_its_incident_after_the_replay(
    database, tmp_path, supervisor
):
    actor = _actor(supervisor)
    token = "VM-8-800"
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    kept = offline.record_incident(journal, actor, _call(1), SEED_ANCHOR, token)
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    final = dict(report.replayed)[kept.provisional_reference]
    found = incidents.view_incident(
        database.uow(), actor, kept.provisional_reference.lower(), today=SEED_ANCHOR
    )
    assert found.reference == final
    [listed] = incidents.find_references(database.uow(), actor, kept.provisional_reference)
    assert listed.reference == final  # ctrl+o finds it by either reference
    assert f"{kept.provisional_reference}: went in as {final}" in report.lines
    journal.close()


def test_the_reconciliation_names_a_duplicate_call_and_keeps_back_what_cannot_go_in(
    database, tmp_path, supervisor
):
    """A call kept offline at an address another station recorded meanwhile goes in, and
    is named as a possible duplicate; a refused entry is on the supervisors' list until
    one resolves it, and then its station stops sending it."""
    actor = _actor(supervisor)
    token = "VM-9-900"
    # Another station, connected, took a call at 5 Mill Lane at 09:03.
    other = NewIncident(
        uuid.uuid4().hex,
        "NOISE",
        "5 Mill Lane, Leeds LS6 2AB",
        call_taken_at=SEED_ANCHOR + timedelta(minutes=3),
    )
    there = incidents.save_new_incident(database.uow(), actor, other, SEED_ANCHOR, grade_codes())
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    same = NewIncident(
        uuid.uuid4().hex,
        "NOISE",
        "5 mill lane,  Leeds LS6 2AB",
        call_taken_at=SEED_ANCHOR + timedelta(minutes=5),
    )
    dup = offline.record_incident(journal, actor, same, SEED_ANCHOR, token)
    bad = offline.record_incident(
        journal,
        actor,
        NewIncident(uuid.uuid4().hex, "NO-SUCH-TYPE", "7 Mill Lane, Leeds LS6 2AB"),
        SEED_ANCHOR,
        token,
    )
    report = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    [(provisional, why)] = report.duplicates
    assert provisional == dup.provisional_reference and there.reference in why
    assert len(report.replayed) == 1 and [p for p, _ in report.refused] == [
        bad.provisional_reference
    ]
    listed = offline.kept_back(database.uow(), actor)
    assert {(k.provisional_reference, k.state) for k in listed} == {
        (dup.provisional_reference, "duplicate"),
        (bad.provisional_reference, "refused"),
    }
    refused = next(k for k in listed if k.state == "refused")
    assert refused.typed["type_code"] == "NO-SUCH-TYPE"  # what was typed, for the supervisor
    offline.resolve(database.uow(), actor, refused.id, "entered by hand", SEED_ANCHOR)
    assert [k.state for k in offline.kept_back(database.uow(), actor)] == ["duplicate"]
    again = offline.replay(journal, database.uow, actor, lambda: SEED_ANCHOR, grade_codes())
    assert again.refused == () and journal.pending() == []
    journal.close()


def test_a_session_that_ended_in_an_outage_reaches_the_record_once(database, tmp_path, supervisor):
    """Quit while the database was away: the end is kept in the journal; the next
    sign-in (which first guesses the process died) replays the real end, once."""
    from sqlalchemy import func

    from controlroom.data.models import AuditEvent
    from controlroom.services import staff

    actor = _actor(supervisor)
    member = staff.sign_in(database.uow(), actor.username, "local")
    started = staff.begin_session(
        database.uow(), member, "local", host="cr-1", pid=101, running=lambda pid: False
    )
    token = "VM-260101090000-11"
    journal = offline.open_journal(tmp_path, actor.username, token)
    ended = SEED_ANCHOR + timedelta(hours=8)
    offline.record_session_end(journal, actor, started, "quit", ended, token)
    journal.close()
    # The next sign-in on that host: the old session's process is gone.
    staff.begin_session(
        database.uow(), member, "local", host="cr-1", pid=102, running=lambda pid: False
    )

    def ends():
        with database.uow() as uow:
            row = uow.sessions.get(started)
            count = uow.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "session.end", AuditEvent.detail.like("quit;%"))
            )
            return row.end_reason, row.ended_at, count

    for _ in range(2):  # a second replay (or one resumed) records nothing more
        offline.replay_left_behind(
            tmp_path,
            actor.username,
            "VM-260101170000-12",
            database.uow,
            actor,
            lambda: ended,
            grade_codes(),
        )
        reason, at, count = ends()
        assert reason.startswith("quit; kept on this station") and at == ended and count == 1


def test_two_replays_of_one_journal_at_once_put_its_events_on_the_chain_once(
    database, tmp_path, supervisor
):
    """The sign-in's replay of a journal left behind and the one the database's return
    starts can run at once: the journal's events reach the main chain once (found by the
    must-show demo on PostgreSQL, where both had read no marker and both appended)."""
    import threading

    from sqlalchemy import func

    from controlroom.data.models import AuditEvent
    from controlroom.data.offline_journal import OfflineJournal

    actor = _actor(supervisor)
    token = "VM-7-700"
    journal = offline.open_journal(tmp_path, supervisor.username, token)
    for number in range(5):
        offline.record_incident(journal, actor, _call(number), SEED_ANCHOR, token)
    path = journal.path
    journal.close()
    start = threading.Barrier(2)
    appended: list[int] = []
    errors: list[BaseException] = []

    def forward() -> None:
        mine = OfflineJournal(path)
        try:
            start.wait()
            appended.append(offline.forward_events(mine, database.uow, actor))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            mine.close()

    threads = [threading.Thread(target=forward) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(appended) == [0, 5]
    with database.uow() as uow:
        on_chain = uow.session.scalar(
            select(func.count()).where(AuditEvent.detail.like("offline, journal %"))
        )
    assert on_chain == 5


def test_a_cache_written_item_by_item_reads_back_whole_and_a_failure_keeps_the_old(tmp_path):
    # The station's gazetteer is written one place at a time (issue 15, memory): what is
    # read back is the same as the whole written at once, and a list that fails part-way
    # leaves the last good file, not half of a new one.
    from controlroom.data.offline_journal import read_cache, write_cache, write_cache_listing

    path = tmp_path / "offline" / "op.area.json"
    places = [{"id": n, "address": f'{n} "Quote" Lane', "hazards": ["dog"] * n} for n in range(3)]
    write_cache_listing(path, {"as_of": "2026-01-01", "station": None}, "places", iter(places))
    assert read_cache(path) == {"as_of": "2026-01-01", "station": None, "places": places}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    write_cache_listing(path, {}, "places", iter([]))
    assert read_cache(path) == {"places": []}

    write_cache(path, {"places": places})

    def failing():
        yield places[0]
        raise RuntimeError("the database went away")

    try:
        write_cache_listing(path, {"as_of": "2026-02-01"}, "places", failing())
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure was swallowed")
    assert read_cache(path) == {"places": places}
    assert [p.name for p in path.parent.iterdir()] == ["op.area.json"]
