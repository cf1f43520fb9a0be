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
