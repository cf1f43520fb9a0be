"""Reads survive the primary (issue 13, item 4): a PostgreSQL primary and its hot
standby, the stations on one multi-host URL (`target_session_attrs=read-write`).

The pair is made once for the module (tests/clusters.py `StandbyPair`: initdb, then
pg_basebackup of it on another loopback port, streaming synchronously; never the
machine's own cluster) and made whole again before each test (the old primary rebuilt
as a standby of the new one). PostgreSQL only, whichever backend the run is for: the
tests ask for no `databases` fixture, so the PostgreSQL pass leaves them to the SQLite
pass (they would only make the same clusters again); without the PostgreSQL server
binaries the module is skipped.

- Only the standby answers: person search, location history, warnings and incidents
  are read from it, each read audited into the station's journal (the database can
  take no audit row); a change is refused by the standby, not audited as done.
- The standby promoted while 4 writer threads create incidents: every acknowledged
  incident (saved, or kept on the station and replayed) is there once, no reference
  twice, on the same engine throughout.
- The operator's screen, through both (one Pilot test).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from controlroom.data.engine import INTERACTIVE
from controlroom.data.models import Incident
from controlroom.data.offline_journal import OfflineJournal
from controlroom.data.uow import Database
from controlroom.domain.availability import DatabaseState
from controlroom.domain.grades import grade_codes
from controlroom.domain.roles import Role
from controlroom.services import availability, incidents, offline
from controlroom.services.audit import AuditUnavailable
from controlroom.services.incidents import NewIncident
from controlroom.services.locations import location_context
from controlroom.services.person_record import view_person
from controlroom.services.person_search import search_persons
from controlroom.services.standby import journal_event, with_station_audit
from tests.clusters import StandbyPair, ThrowawayCluster, unavailable_reason
from tests.databases import _migrate
from tests.factories import add_location, add_marker, add_person, staff_actor

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no throwaway cluster: {unavailable_reason()}"
)

# The app's waits, with a shorter cut-off for an unanswered call (as tests/test_outage.py).
QUICK = replace(INTERACTIVE, answer_seconds=1.5)
GRADES = grade_codes()
TODAY = date.today()


@pytest.fixture(scope="module")
def pair():
    def station_database(primary: ThrowawayCluster) -> None:
        primary.create_database("station")
        _migrate(primary.url("station"))

    made = StandbyPair(prepare=station_database)
    try:
        yield made
    finally:
        made.remove()


@pytest.fixture
def station(pair):
    """The station's database as the app opens it, on the pair's URL, with the pair
    whole first (whatever the test before stopped or promoted: the last test's damage
    is never repaired, only removed)."""
    pair.whole()
    database = Database(pair.url("station"), waits=QUICK)
    try:
        yield database
    finally:
        database.dispose()


def _eventually(condition, timeout: float = 10.0):
    """Polls a condition on the real clusters (a server's start or promotion is not an
    event the test can wait on); returns the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # noqa: BLE001 - not answering yet
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not so within {timeout} s")
        time.sleep(0.1)


def _state(uow_factory) -> DatabaseState:
    return availability.examine(uow_factory()).state


def _on_record(database: Database, name: str):
    """A resident with a warning marker at an address with an incident: what the lookups
    read."""
    home = add_location(database, f"3 {name} Road", street=f"{name} Road", postcode="LS6 3BB")
    person = add_person(database, name, "Standbyson", date_of_birth=date(1984, 5, 6), home=home)
    add_marker(database, person, "WEAPONS")
    return home, person


@pytest.mark.slow
def test_lookups_work_read_only_while_only_the_standby_answers(pair, station, tmp_path):
    """The primary crashes and is not replaced: the same engine reads from the standby,
    each read audited into the station's journal; a change is refused; the primary
    back, the engine returns to it by itself.

    Marked slow only as the first of the module's (it pays for the pair): so it runs
    before the two that promote the standby, which leaves one rebuild of a standby
    between them instead of two."""
    operator = staff_actor(station, Role.SUPERVISOR)
    home, person = _on_record(station, "Rowena")
    saved = incidents.save_new_incident(
        station.uow(),
        operator,
        NewIncident("standby-history", "NOISE", "3 Rowena Road", location_id=home),
        datetime.now(UTC),
        GRADES,
    )
    with station.uow() as uow:
        audited_before = uow.audit.count()
    journal = OfflineJournal(tmp_path / "station.sqlite")
    reads = with_station_audit(station.uow, lambda event: journal_event(journal, event))

    pair.primary.stop("immediate")
    found = availability.examine(reads())
    assert found.state is DatabaseState.STANDBY
    # How fresh: the last change it received, which is no later than now.
    assert found.data_as_of is not None and found.data_as_of <= datetime.now(UTC)

    hits = search_persons(reads(), operator, "rowena standbyson", today=TODAY)
    assert hits and hits[0].person_id == person
    assert [m.code for m in hits[0].markers] == ["WEAPONS"]  # the warnings
    record = view_person(reads(), operator, person, today=TODAY)
    assert "WEAPONS" in {m.code for m in record.markers}
    context = location_context(reads(), operator, home, datetime.now(UTC))
    assert saved.reference in {i.reference for i in context.recent}  # location history
    detail = incidents.view_incident(reads(), operator, saved.reference, today=TODAY)
    assert detail.reference == saved.reference
    assert saved.reference in {i.reference for i in incidents.list_incidents(reads(), operator)}

    # Each read audited, on the station (chained in its journal), as it happened.
    actions = [event.action for event in journal.events()]
    for action in ("person.search", "location.context", "incident.view", "incident.list"):
        assert action in actions
    assert all(event.actor == operator.username for event in journal.events())
    # A change is the standby's to refuse (the database's own error: the form keeps the
    # call offline), and no event says it happened.
    kept = len(actions)
    call = NewIncident("on-the-standby", "NOISE", "4 Rowena Road")
    with pytest.raises(Exception) as refused:  # noqa: PT011 - the driver's own error
        incidents.save_new_incident(reads(), operator, call, datetime.now(UTC), GRADES)
    assert type(refused.value).__module__.startswith("sqlalchemy")
    assert len(journal.events()) == kept
    # Without the station's journal to audit into, a read is refused (fail closed).
    with pytest.raises(AuditUnavailable):
        search_persons(station.uow(), operator, "rowena standbyson", today=TODAY)

    # The primary back (never promoted): the same engine finds it again by itself.
    pair.primary.start()
    _eventually(lambda: _state(reads) is DatabaseState.ANSWERING, timeout=8.0)
    # A synchronous primary's commits wait for the standby to stream again.
    _eventually(pair.streaming, timeout=8.0)
    search_persons(reads(), operator, "rowena standbyson", today=TODAY)
    with station.uow() as uow:  # that read went to the database's own trail
        assert uow.audit.count() == audited_before + 1
    assert len(journal.events()) == kept
    journal.close()


@pytest.mark.slow
def test_the_standby_promoted_under_four_writers_loses_and_doubles_nothing(pair, station, tmp_path):
    """Four threads create incidents as fast as the database takes them, through the
    primary's crash (immediate stop), half a second of the standby alone, and its
    promotion. A save the database refused or did not answer is kept on the writer's
    journal, as the entry form keeps it, and replayed after. Acknowledged (saved, or
    kept) = present, each once; the engine is never rebuilt.

    Slow (3-5 s on a loaded machine): twenty saves on each side of a real promotion."""
    operator = staff_actor(station, Role.SUPERVISOR)
    stop = threading.Event()
    lock = threading.Lock()
    saved: dict[str, str] = {}  # key -> reference the database acknowledged
    kept: dict[str, str] = {}  # key -> provisional reference on the station
    faults: list[BaseException] = []
    promoted_at: list[float] = []
    first_save_after: list[float] = []
    journals = [OfflineJournal(tmp_path / f"writer{n}.sqlite") for n in range(4)]

    def write(n: int) -> None:
        journal = journals[n]
        number = 0
        while not stop.is_set():
            number += 1
            call = NewIncident(f"failover-{n}-{number}", "NOISE", f"{number} Writer {n} Street")
            now = datetime.now(UTC)
            try:
                done = incidents.save_new_incident(station.uow(), operator, call, now, GRADES)
            except Exception as exc:  # noqa: BLE001 - sorted: the database, or a fault
                if type(exc).__module__.startswith("controlroom."):
                    faults.append(exc)  # a rule said no: not what this test is about
                    return
                entry = offline.record_incident(journal, operator, call, now, f"W{n}")
                with lock:
                    kept[call.idempotency_key] = entry.provisional_reference
                time.sleep(0.05)  # as an operator would retry: not a spin on the refusal
                continue
            with lock:
                saved[call.idempotency_key] = done.reference
                if promoted_at and not first_save_after:
                    first_save_after.append(time.monotonic() - promoted_at[0])

    threads = [threading.Thread(target=write, args=(n,), daemon=True) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        _eventually(lambda: len(saved) >= 20, timeout=15.0)
        before = len(saved)
        pair.fail_over(pause=0.5)
        promoted_at.append(time.monotonic())
        _eventually(lambda: len(saved) >= before + 20, timeout=15.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert not faults
    assert kept, "no save met the outage: the failover was not under load"

    for journal in journals:
        report = offline.replay(journal, station.uow, operator, lambda: datetime.now(UTC), GRADES)
        assert report.waiting == 0 and not report.refused
        journal.close()

    with station.uow() as uow:
        rows = uow.session.execute(
            select(Incident.idempotency_key, Incident.reference).where(
                Incident.idempotency_key.like("failover-%")
            )
        ).all()
        references = uow.session.scalars(select(Incident.reference)).all()
        assert uow.session.scalar(select(func.pg_is_in_recovery())) is False
    present = dict(rows)
    assert len(present) == len(rows)  # no key twice
    assert len(references) == len(set(references))  # no reference twice
    for key, reference in saved.items():
        assert present.get(key) == reference  # acknowledged by the database: there
    assert set(kept) <= set(present)  # kept on a station: replayed, once
    assert set(present) == set(saved) | set(kept)  # and nothing else
    assert first_save_after and first_save_after[0] < 10.0


# --- the operator's screen ---------------------------------------------------------------


@pytest.mark.slow
async def test_a_station_reads_from_the_standby_and_carries_on_after_its_promotion(
    pair, station, tmp_path, monkeypatch
):
    """At 80x24: the primary crashes; the frame says only the standby answers and how
    fresh its data is; a person search works (its audit kept on the station); a call is
    kept offline; the standby is promoted and the same app, not restarted, says nothing
    any more and sends the call in.

    Slow (8-14 s at load 11-16 on 2 cores): one app through a crash, a search, a call
    kept offline and a promotion, each a real server's doing, waited for."""
    from controlroom.screens.person.search import PersonSearch
    from tests.apps import build_app, burst, screen_text, settle, until
    from tests.test_outage import _fill, told, words

    supervisor = staff_actor(station, Role.SUPERVISOR)
    _on_record(station, "Marigold")
    before = _count(station)
    monkeypatch.setattr(PersonSearch, "search_delay", 0.0)
    app = build_app(station, tmp_path, username=supervisor.username)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        pair.primary.stop("immediate")
        await until(pilot, lambda: "DATABASE STANDBY ONLY since 09:00" in words(app), 8.0)
        text = words(app)
        assert "data as of" in text and "read-only lookups work" in text
        await pilot.press("f3")
        await settle(pilot)
        await burst(pilot, *"marigold standbyson")
        await until(pilot, lambda: "STANDBYSON, Marigold" in screen_text(app), 8.0)
        assert "!WEAPONS" in screen_text(app)
        await pilot.press("f2")
        await settle(pilot)
        await _fill(pilot, "Standby Caller")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "OFFLINE — SAVED ON THIS STATION" in told(app), 8.0)
        pair.promote()
        await until(pilot, lambda: "DATABASE" not in screen_text(app), 8.0)
        await until(pilot, lambda: "now in the database" in told(app), 8.0)
    assert _count(station) == before + 1
    journal = OfflineJournal(next((tmp_path / "offline").glob(f"{supervisor.username}.*.sqlite")))
    assert "person.search" in [event.action for event in journal.events()]
    journal.close()


def _count(database: Database) -> int:
    with database.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Incident)) or 0


def test_the_words_for_a_standby_fit_two_lines_and_say_how_fresh():
    import textwrap

    from controlroom.domain.availability import Availability, banner_words
    from controlroom.domain.local_time import LOCAL_ZONE

    since = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    standby = Availability().became(DatabaseState.STANDBY, since, since - timedelta(seconds=3))
    words = banner_words(standby, LOCAL_ZONE)
    assert "since 09:00" in words and "data as of 08:59:57" in words
    assert "read-only lookups work" in words and "(OFFLINE)" in words
    # 80 columns less the banner's padding; the screen breaks lines at spaces only.
    assert len(textwrap.wrap(words, 78, break_on_hyphens=False)) <= 2
    fresher = standby.became(DatabaseState.STANDBY, since + timedelta(minutes=1), since)
    assert fresher.since == since and fresher.data_as_of == since
    unknown = Availability().became(DatabaseState.STANDBY, since)
    assert "data age unknown" in banner_words(unknown, LOCAL_ZONE)
    assert standby.became(DatabaseState.ANSWERING, since) == Availability()
