"""The intelligence services on a real database (SQLite, or PostgreSQL when
CONTROLROOM_TEST_DATABASE_URL is set): 3x5x2 validation at the field, subjects,
references per local day, supersede chains, searches (exact cases on a small database,
and over the synthetic force's graded reports), restricted reports and their
justifications, hostile text, and one audit event per call.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import func, select

from controlroom.data.cold_models import IntelligenceReport, IntelligenceSubject, Person
from controlroom.data.intelligence_queries import IntelligenceQueries
from controlroom.data.models import AuditEvent, Staff
from controlroom.domain.identity import Actor
from controlroom.domain.roles import Role
from controlroom.services import intelligence
from controlroom.services.audit import AuditRecord, to_record
from controlroom.services.intelligence import (
    IntelligenceInputError,
    IntelligenceNotFound,
    JustificationRequired,
)
from controlroom.services.persons import PersonNotFound
from tests.databases import SEED_ANCHOR
from tests.factories import add_intel, add_location, add_person, set_operator, staff_actor

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CONDITIONS = "Do not action without first contacting the source handler."


@pytest.fixture
def operator(database) -> Actor:
    # Intelligence staff submit, grade (supersede) and read intelligence.
    return staff_actor(database, Role.INTELLIGENCE, terminal="192.0.2.20")


@pytest.fixture
def seeded_operator(seeded_database) -> Actor:
    return staff_actor(seeded_database, Role.INTELLIGENCE, terminal="192.0.2.21")


@pytest.fixture
def subject(database) -> int:
    return add_person(database, "Alex", "Example")


def submit(database, operator, **answers):
    fields = dict(
        source="2",
        intelligence="B",
        handling="P",
        conditions=None,
        text="Believed to be dealing from the flat.",
        now=NOW,
    )
    fields.update(answers)
    return intelligence.submit_report(database.uow(), operator, **fields)


def search(database, operator, **criteria):
    return intelligence.search_reports(database.uow(), operator, **criteria)


def audit_count(database) -> int:
    with database.uow() as uow:
        return uow.audit.count()


def last_audit(database) -> AuditRecord:
    with database.uow() as uow:
        return to_record(uow.audit.latest(1)[0])


def scalar(database, statement):
    with database.uow() as uow:
        return uow.session.scalar(statement)


def scalars(database, statement) -> list:
    with database.uow() as uow:
        return list(uow.session.scalars(statement))


# --- 3x5x2 and the rest of the form ------------------------------------------------------


def test_all_thirty_gradings_are_accepted(database, operator, subject):
    codes = set()
    for source, grade, handling in product("123", "ABCDE", "PC"):
        saved = submit(
            database,
            operator,
            source=source,
            intelligence=grade,
            handling=handling,
            conditions=CONDITIONS if handling == "C" else None,
            person_ids=[subject],
        )
        assert saved.grading_code == f"{source}{grade}{handling}"
        assert saved.handling_code == handling
        codes.add(saved.grading_code)
    assert len(codes) == 30
    stored = scalars(
        database,
        select(IntelligenceReport.handling_conditions).where(
            IntelligenceReport.handling_code == "C"
        ),
    )
    assert stored == [CONDITIONS] * 15


def test_codes_are_read_in_any_case_and_spacing(database, operator, subject):
    saved = submit(
        database,
        operator,
        source=" 1 ",
        intelligence="a",
        handling="c",
        conditions="  " + CONDITIONS + "  ",
        person_ids=[subject],
    )
    assert saved.grading_code == "1AC"
    report = intelligence.view_report(database.uow(), operator, saved.id)
    assert report.handling_conditions == CONDITIONS


BAD_ANSWERS = [
    (dict(handling="C", conditions=None), "conditions", "conditions written out"),
    (dict(handling="C", conditions="   "), "conditions", "conditions written out"),
    (dict(handling="P", conditions=CONDITIONS), "conditions", "only apply to handling code C"),
    (dict(source="4"), "source", "1, 2 or 3"),
    (dict(source="A"), "source", "1, 2 or 3"),
    (dict(source=""), "source", "1, 2 or 3"),
    (dict(intelligence="F"), "intelligence", "A, B, C, D, E"),
    (dict(intelligence="1"), "intelligence", "A, B, C, D, E"),
    (dict(handling="X"), "handling", "P or C"),
    (dict(handling="X", conditions=CONDITIONS), "handling", "P or C"),
    (dict(handling="C", conditions="see \x1b[2J note"), "conditions", "control character"),
    (dict(text=""), "text", "required"),
    (dict(text="   \n "), "text", "required"),
    (dict(text="x" * 8_001), "text", "8,001"),
    (dict(text="nul \x00 here"), "text", "control character"),
    (dict(text="escape \x1b]0;owned\x07"), "text", "control character"),
]


def test_bad_input_is_refused_at_its_field(database, operator, subject):
    before = audit_count(database)
    for answers, field, words in BAD_ANSWERS:
        with pytest.raises(IntelligenceInputError) as refused:
            submit(database, operator, person_ids=[subject], **answers)
        assert (refused.value.field, answers) == (field, answers)
        assert words in refused.value.message
    assert scalar(database, select(func.count()).select_from(IntelligenceReport)) == 0
    assert audit_count(database) == before


def test_text_at_the_limit_is_kept(database, operator, subject):
    saved = submit(database, operator, text="y" * 8_000, person_ids=[subject])
    assert len(intelligence.view_report(database.uow(), operator, saved.id).text) == 8_000


def test_a_report_needs_a_known_subject(database, operator, subject):
    place = add_location(database)
    for answers, words in [
        (dict(), "at least one subject"),
        (dict(person_ids=[], location_ids=[]), "at least one subject"),
        (dict(person_ids=[subject + 999]), f"person {subject + 999}"),
        (dict(location_ids=[place + 999]), f"location {place + 999}"),
        (dict(person_ids=[subject], location_ids=[place + 999]), f"location {place + 999}"),
        (dict(person_ids=["1"]), "not a subject id"),
        (dict(person_ids=[True]), "not a subject id"),
    ]:
        with pytest.raises(IntelligenceInputError) as refused:
            submit(database, operator, **answers)
        assert refused.value.field == "subjects"
        assert words in refused.value.message
    assert scalar(database, select(func.count()).select_from(IntelligenceReport)) == 0


def test_subjects_are_linked_once_each_and_labelled(database, operator):
    home = add_location(database, "12 Mill Lane", town="Leeds", postcode="LS6 2AB")
    alex = add_person(database, "Alex", "Example", home=home)
    saved = submit(database, operator, person_ids=[alex, alex], location_ids=[home])
    assert [(s.person_id, s.location_id, s.label) for s in saved.subjects] == [
        (alex, None, "Alex EXAMPLE"),
        (None, home, "12 Mill Lane, Leeds, LS6 2AB"),
    ]
    assert scalar(database, select(func.count()).select_from(IntelligenceSubject)) == 2


def test_a_restricted_person_is_not_named_in_a_subject_label(database, operator):
    hidden = add_person(database, "Sam", "Hidden")
    with database.uow() as uow:
        uow.session.get(Person, hidden).restricted = True
        uow.commit()
    saved = submit(database, operator, person_ids=[hidden])
    assert saved.subjects[0].label == "restricted person"
    assert saved.subjects[0].person_id == hidden
    report = intelligence.view_report(database.uow(), operator, saved.id)
    assert "Hidden" not in repr(report.subjects)


def test_only_enrolled_staff_submit(database, subject):
    os_user = Actor(None, "someone", None, terminal="local")
    with pytest.raises(PermissionError):
        submit(database, os_user, person_ids=[subject])


def test_hostile_text_is_stored_and_returned_verbatim(database, operator, subject):
    hostile = (
        "[bold red]NOT MARKUP[/] [TODO] [0] [[nested]] \\[escaped]\n"
        "'; DROP TABLE intelligence_report; -- 100% _wild_ "
        "zero\u200bwidth Zoë 🚓\tend"
    )
    saved = submit(
        database,
        operator,
        text=hostile,
        handling="C",
        conditions="[link=http://x]click[/link] \u200b",
        person_ids=[subject],
    )
    report = intelligence.view_report(database.uow(), operator, saved.id)
    assert report.text == hostile
    assert report.handling_conditions == "[link=http://x]click[/link] \u200b"
    assert saved.preview == " ".join(hostile.split())[:80]
    assert "\n" not in saved.preview
    assert scalar(database, select(func.count()).select_from(IntelligenceReport)) == 1


# --- references ----------------------------------------------------------------------------


def test_references_run_per_london_day(database, operator, subject):
    first = submit(database, operator, person_ids=[subject])
    second = submit(database, operator, person_ids=[subject], now=NOW + timedelta(hours=3))
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    summer = submit(
        database, operator, person_ids=[subject], now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    )
    after = submit(
        database, operator, person_ids=[subject], now=datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    )
    assert [first.reference, second.reference] == ["IR-20261126-0001", "IR-20261126-0002"]
    assert [summer.reference, after.reference] == ["IR-20260701-0001", "IR-20260701-0002"]
    assert first.submitted_at == NOW


def test_a_reference_already_used_is_skipped(database, operator, subject):
    # An imported report carrying today's next reference but a time outside today.
    add_intel(database, persons=(subject,), reference="IR-20261126-0002", age=timedelta(days=30))
    add_intel(
        database,
        persons=(subject,),
        reference="IR-20261126-0001",
        age=SEED_ANCHOR - NOW + timedelta(minutes=5),
    )
    saved = submit(database, operator, person_ids=[subject])
    assert saved.reference == "IR-20261126-0003"


def test_references_count_past_four_digits(database, operator, subject):
    add_intel(
        database,
        persons=(subject,),
        reference="IR-20261126-9999",
        age=SEED_ANCHOR - NOW + timedelta(minutes=5),
    )
    assert submit(database, operator, person_ids=[subject]).reference == "IR-20261126-10000"
    assert submit(database, operator, person_ids=[subject]).reference == "IR-20261126-10001"


def test_concurrent_submissions_get_unique_references(database, operator, subject):
    threads, each = 6, 5
    barrier = threading.Barrier(threads)

    def station(index: int) -> list[str]:
        barrier.wait(timeout=30)
        return [
            submit(database, operator, person_ids=[subject], text=f"station {index} #{n}").reference
            for n in range(each)
        ]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        references = [r for rs in pool.map(station, range(threads)) for r in rs]
    assert len(set(references)) == threads * each
    assert all(r.startswith("IR-20261126-") for r in references)
    assert scalar(database, select(func.count()).select_from(IntelligenceReport)) == threads * each


def test_a_reference_taken_meanwhile_is_retried(database, operator, subject, monkeypatch):
    # Another writer (one that takes no lock, like an import) used today's first reference
    # with a time outside today; the first check misses it, the unique index refuses the
    # insert, and the service tries again.
    add_intel(database, persons=(subject,), reference="IR-20261126-0001", age=timedelta(days=30))
    real = IntelligenceQueries.reference_taken
    calls = []

    def misses_once(self, reference):
        calls.append(reference)
        return False if len(calls) == 1 else real(self, reference)

    monkeypatch.setattr(IntelligenceQueries, "reference_taken", misses_once)
    before = audit_count(database)
    saved = submit(database, operator, person_ids=[subject])
    assert saved.reference == "IR-20261126-0002"
    assert calls[:2] == ["IR-20261126-0001", "IR-20261126-0001"]
    assert audit_count(database) == before + 1
    assert (
        scalar(
            database,
            select(func.count())
            .select_from(IntelligenceSubject)
            .where(IntelligenceSubject.report_id == saved.id),
        )
        == 1
    )


# --- superseding ---------------------------------------------------------------------------


def test_a_correction_supersedes_without_editing(database, operator, subject):
    old = submit(database, operator, text="Drives a red car.", person_ids=[subject])
    new = submit(
        database,
        operator,
        text="Drives a blue car.",
        person_ids=[subject],
        supersedes_id=old.id,
        now=NOW + timedelta(minutes=5),
    )
    assert not new.superseded
    old_view = intelligence.view_report(database.uow(), operator, old.id)
    new_view = intelligence.view_report(database.uow(), operator, new.id)
    assert old_view.text == "Drives a red car."  # untouched
    assert old_view.superseded and old_view.superseded_by_reference == new.reference
    assert old_view.superseded_by_id == new.id
    assert new_view.supersedes_id == old.id
    assert new_view.supersedes_reference == old.reference
    assert not new_view.superseded and new_view.superseded_by_reference is None
    # Searches hide the superseded report unless asked; the person's list keeps it, marked.
    assert [r.id for r in search(database, operator, person_id=subject)] == [new.id]
    both = search(database, operator, person_id=subject, include_superseded=True)
    assert [(r.id, r.superseded) for r in both] == [(new.id, False), (old.id, True)]
    listed = intelligence.reports_for_person(database.uow(), operator, subject)
    assert [(r.id, r.superseded) for r in listed] == [(new.id, False), (old.id, True)]


def test_a_superseded_report_cannot_be_superseded_again(database, operator, subject):
    old = submit(database, operator, person_ids=[subject])
    new = submit(database, operator, person_ids=[subject], supersedes_id=old.id)
    before = audit_count(database)
    with pytest.raises(IntelligenceInputError) as refused:
        submit(database, operator, person_ids=[subject], supersedes_id=old.id)
    assert refused.value.field == "supersedes_id"
    assert new.reference in refused.value.message
    with pytest.raises(IntelligenceInputError) as missing:
        submit(database, operator, person_ids=[subject], supersedes_id=new.id + 100)
    assert missing.value.field == "supersedes_id"
    assert audit_count(database) == before
    # The chain goes on from the newest report.
    newest = submit(database, operator, person_ids=[subject], supersedes_id=new.id)
    assert intelligence.view_report(database.uow(), operator, new.id).superseded_by_id == newest.id
    assert scalar(database, select(func.count()).select_from(IntelligenceReport)) == 3


def test_two_stations_superseding_at_once_one_wins(database, operator, subject):
    old = submit(database, operator, person_ids=[subject])
    threads = 4
    barrier = threading.Barrier(threads)

    def station(index: int):
        barrier.wait(timeout=30)
        try:
            return submit(
                database,
                operator,
                person_ids=[subject],
                supersedes_id=old.id,
                text=f"correction {index}",
            )
        except IntelligenceInputError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(station, range(threads)))
    won = [o for o in outcomes if not isinstance(o, Exception)]
    lost = [o for o in outcomes if isinstance(o, Exception)]
    assert len(won) == 1 and len(lost) == threads - 1
    assert all(o.field == "supersedes_id" and won[0].reference in o.message for o in lost)
    assert scalars(
        database, select(IntelligenceReport.id).where(IntelligenceReport.supersedes_id == old.id)
    ) == [won[0].id]


# --- searching: exact cases ---------------------------------------------------------------


def test_text_search_takes_every_typed_character_literally(database, operator, subject):
    texts = {
        "percent": "Owes 100% of the money.",
        "percent_decoy": "Owes 100 of the money.",
        "under": "Uses the handle big_dog online.",
        "under_decoy": "Uses the handle bigXdog online.",
        "bracket": "Notebook marked [b] in the shed.",
        "bracket_decoy": "Notebook marked b in the shed.",
        "quote": "Drinks at O'Neill's most nights.",
        "slash": "Path is a/b/c and 50/50.",
    }
    ids = {name: add_intel(database, text, persons=(subject,)) for name, text in texts.items()}

    def found(query: str) -> set[str]:
        hits = {r.id for r in search(database, operator, text=query)}
        return {name for name, report_id in ids.items() if report_id in hits}

    assert found("100%") == {"percent"}
    assert found("%") == {"percent"}
    assert found("big_dog") == {"under"}
    assert found("_") == {"under"}
    assert found("[b]") == {"bracket"}
    assert found("o'neill") == {"quote"}
    assert found("'") == {"quote"}
    assert found("a/b") == {"slash"}
    assert found("/") == {"slash"}
    assert found("MONEY") == {"percent", "percent_decoy"}
    assert found("no such words") == set()


def test_search_by_subject_location_dates_and_grading(database, operator):
    home = add_location(database, "12 Mill Lane")
    shop = add_location(database, "1 High Street", street="High Street")
    alex = add_person(database, "Alex", "Example")
    sam = add_person(database, "Sam", "Sample")
    day = timedelta(days=1)
    a = add_intel(
        database,
        "alpha",
        persons=(alex,),
        locations=(home,),
        source="1",
        intelligence="A",
        age=10 * day,
    )
    b = add_intel(
        database,
        "bravo",
        persons=(sam,),
        locations=(shop,),
        source="2",
        intelligence="C",
        conditions=CONDITIONS,
        age=5 * day,
    )
    c = add_intel(
        database, "charlie", persons=(alex, sam), source="3", intelligence="E", age=1 * day
    )

    def ids(**criteria) -> list[int]:
        return [r.id for r in search(database, operator, **criteria)]

    assert ids() == [c, b, a]  # newest first
    assert ids(person_id=alex) == [c, a]
    assert ids(person_id=sam) == [c, b]
    assert ids(location_id=home) == [a]
    assert ids(person_id=sam, location_id=shop) == [b]
    anchor = SEED_ANCHOR.date()
    assert ids(date_from=anchor - timedelta(days=5)) == [c, b]
    assert ids(date_to=anchor - timedelta(days=5)) == [b, a]
    assert ids(date_from=anchor - timedelta(days=5), date_to=anchor - timedelta(days=5)) == [b]
    assert ids(date_from=anchor, date_to=anchor) == []
    assert ids(source="1") == [a]
    assert ids(intelligence="e") == [c]
    assert ids(handling="C") == [b]
    assert ids(source="2", handling="P") == []
    assert ids(limit=2) == [c, b]
    assert ids(person_id=alex + sam + 100) == []


BAD_CRITERIA = [
    (dict(source="7"), "source"),
    (dict(intelligence="Z"), "intelligence"),
    (dict(handling="Q"), "handling"),
    (dict(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)), "date_to"),
    (dict(text="bad \x1b[31m"), "text"),
    (dict(text="two\nlines"), "text"),
    (dict(limit=0), "limit"),
    (dict(person_id="12"), "person_id"),
]


def test_bad_search_criteria_are_refused_at_their_field(database, operator):
    before = audit_count(database)
    for criteria, field in BAD_CRITERIA:
        with pytest.raises(IntelligenceInputError) as refused:
            search(database, operator, **criteria)
        assert (refused.value.field, criteria) == (field, criteria)
    assert audit_count(database) == before


def test_a_search_is_audited_with_its_criteria(database, operator, subject):
    report = add_intel(database, "Seen at 100% of meetings", persons=(subject,))
    before = audit_count(database)
    search(
        database, operator, person_id=subject, text="100%", source="2", date_from=date(2026, 11, 1)
    )
    assert audit_count(database) == before + 1
    event = last_audit(database)
    assert (event.action, event.outcome, event.terminal) == (
        "intel.search",
        "success",
        "192.0.2.20",
    )
    assert f"person_id={subject}" in event.detail and "text='100%'" in event.detail
    assert "source='2'" in event.detail and "date_from='2026-11-01'" in event.detail
    assert event.detail.endswith(f"shown: {report}")


def test_a_handling_c_summary_puts_its_conditions_before_its_text(database, operator, subject):
    """Handling-C items show their conditions before their text: in a list too."""
    hostile = "Do not [b]action[/b]\nwithout   the handler."
    conditional = add_intel(database, "Seen at the flat.", persons=(subject,), conditions=hostile)
    plain = add_intel(database, "Seen in the park.", persons=(subject,), age=timedelta(hours=2))
    secret = add_intel(
        database,
        "The source is the landlord.",
        persons=(subject,),
        conditions=CONDITIONS,
        restricted=True,
        age=timedelta(hours=3),
    )
    found = {h.id: h for h in search(database, operator, person_id=subject)}
    shown = found[conditional]
    assert shown.conditions == "Do not [b]action[/b] without the handler."  # one line, literal
    assert shown.about() == (
        "HANDLING C: Do not [b]action[/b] without the handler. \u2014 Seen at the flat."
    )
    assert found[plain].conditions is None and found[plain].about() == "Seen in the park."
    # A restricted report shows neither its text nor its conditions.
    assert found[secret].conditions is None and found[secret].about() is None


# --- restricted reports -------------------------------------------------------------------


def test_a_restricted_hit_shows_only_that_it_exists_and_whom_to_ask(database, operator, subject):
    set_operator(database, display_name="DC Robin Example", station="Leeds Central")
    secret = add_intel(database, "The source is the landlord.", persons=(subject,), restricted=True)
    plain = add_intel(database, "Seen in the park.", persons=(subject,), age=timedelta(hours=2))
    hits = search(database, operator, person_id=subject)
    assert [h.id for h in hits] == [secret, plain]
    hidden, shown = hits
    assert hidden.restricted and hidden.preview is None and hidden.subjects == ()
    assert hidden.ask == "DC Robin Example (Leeds Central)"
    assert hidden.reference and hidden.grading_code == "2BP"
    assert "landlord" not in repr(hidden)
    assert shown.preview == "Seen in the park." and shown.ask is None
    # A text search cannot probe what a restricted report says.
    assert search(database, operator, text="landlord") == []
    assert [h.id for h in search(database, operator, text="park")] == [plain]


def test_viewing_a_restricted_report_needs_a_justification(database, operator, subject):
    set_operator(database, display_name="DC Robin Example", station="Leeds Central")
    secret = add_intel(
        database,
        "The source is the landlord.",
        persons=(subject,),
        restricted=True,
        conditions=CONDITIONS,
    )
    for justification in (None, "", "   ", "too short"):
        before = audit_count(database)
        with pytest.raises(JustificationRequired) as refused:
            intelligence.view_report(database.uow(), operator, secret, justification=justification)
        assert refused.value.field == "justification"
        assert refused.value.ask == "DC Robin Example (Leeds Central)"
        assert "landlord" not in str(refused.value)
        assert audit_count(database) == before + 1
        event = last_audit(database)
        assert (event.action, event.outcome, event.object_id) == (
            "intel.view",
            "denied",
            str(secret),
        )
    why = "Safeguarding check for incident CR-20261126-0042"
    before = audit_count(database)
    report = intelligence.view_report(database.uow(), operator, secret, justification=why)
    assert report.text == "The source is the landlord." and report.restricted
    assert report.handling_code == "C" and report.handling_conditions == CONDITIONS
    assert audit_count(database) == before + 1
    event = last_audit(database)
    assert (event.action, event.outcome, event.justification) == ("intel.view", "success", why)


def test_a_justification_with_control_characters_is_refused(database, operator, subject):
    secret = add_intel(database, persons=(subject,), restricted=True)
    with pytest.raises(IntelligenceInputError) as refused:
        intelligence.view_report(
            database.uow(), operator, secret, justification="because \x1b[2J of reasons"
        )
    assert refused.value.field == "justification"


def test_an_unrestricted_view_is_audited_and_conditions_come_with_it(database, operator, subject):
    report_id = add_intel(
        database, "Text.", persons=(subject,), conditions=CONDITIONS, source="1", intelligence="A"
    )
    before = audit_count(database)
    report = intelligence.view_report(database.uow(), operator, report_id)
    assert (report.grading_code, report.handling_conditions) == ("1AC", CONDITIONS)
    assert report.submitted_by and report.subjects[0].person_id == subject
    assert audit_count(database) == before + 1
    event = last_audit(database)
    assert (event.action, event.outcome, event.justification) == ("intel.view", "success", None)


def test_a_missing_report_is_audited_and_raised(database, operator):
    before = audit_count(database)
    with pytest.raises(IntelligenceNotFound):
        intelligence.view_report(database.uow(), operator, 424242)
    assert audit_count(database) == before + 1
    assert last_audit(database).outcome == "failed"


def test_reports_for_a_person(database, operator, subject):
    other = add_person(database, "Sam", "Sample")
    mine = add_intel(database, "one", persons=(subject,))
    add_intel(database, "two", persons=(other,))
    before = audit_count(database)
    assert [r.id for r in intelligence.reports_for_person(database.uow(), operator, subject)] == [
        mine
    ]
    event = last_audit(database)
    assert audit_count(database) == before + 1
    assert (event.action, event.object_type, event.object_id, event.detail) == (
        "intel.list",
        "person",
        str(subject),
        f"shown: {mine}",
    )
    with pytest.raises(PersonNotFound):
        intelligence.reports_for_person(database.uow(), operator, other + 100)
    assert audit_count(database) == before + 2


def test_every_call_writes_exactly_one_audit_event(database, operator, subject):
    secret = add_intel(database, persons=(subject,), restricted=True)
    calls = [
        lambda: submit(database, operator, person_ids=[subject]),
        lambda: search(database, operator, text="flat"),
        lambda: search(database, operator),
        lambda: intelligence.reports_for_person(database.uow(), operator, subject),
        lambda: intelligence.view_report(
            database.uow(), operator, secret, justification="Reviewing the DA referral"
        ),
    ]
    for call in calls:
        before = audit_count(database)
        call()
        assert audit_count(database) == before + 1
    before = audit_count(database)
    with pytest.raises(JustificationRequired):
        intelligence.view_report(database.uow(), operator, secret)
    assert audit_count(database) == before + 1
    submitted = scalar(
        database,
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "intel.submit"),
    )
    assert submitted == 1


# --- searching the synthetic force ---------------------------------------------------------


def _busiest(seeded_database, column) -> int:
    """The person (or location) who is the subject of the most reports."""
    return scalar(
        seeded_database,
        select(column)
        .where(column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(1),
    )


def _expected(seeded_database, *where) -> list[int]:
    """Unsuperseded reports matching `where`, newest first, straight from the tables."""
    newer = select(IntelligenceReport.supersedes_id).where(
        IntelligenceReport.supersedes_id.is_not(None)
    )
    return scalars(
        seeded_database,
        select(IntelligenceReport.id)
        .where(*where, IntelligenceReport.id.not_in(newer))
        .order_by(IntelligenceReport.submitted_at.desc(), IntelligenceReport.id.desc()),
    )


def test_seeded_search_by_person_and_location(seeded_database, seeded_operator):
    person = _busiest(seeded_database, IntelligenceSubject.person_id)
    about = select(IntelligenceSubject.report_id).where(IntelligenceSubject.person_id == person)
    expected = _expected(seeded_database, IntelligenceReport.id.in_(about))
    assert len(expected) >= 2
    hits = search(seeded_database, seeded_operator, person_id=person, limit=500)
    assert [h.id for h in hits] == expected
    assert all(h.restricted or any(s.person_id == person for s in h.subjects) for h in hits)
    place = _busiest(seeded_database, IntelligenceSubject.location_id)
    at = select(IntelligenceSubject.report_id).where(IntelligenceSubject.location_id == place)
    assert [
        h.id for h in search(seeded_database, seeded_operator, location_id=place, limit=500)
    ] == _expected(seeded_database, IntelligenceReport.id.in_(at))


def test_seeded_search_by_text_dates_and_grading(seeded_database, seeded_operator):
    report = IntelligenceReport
    hits = search(seeded_database, seeded_operator, text="FIREARM", limit=500)
    expected = _expected(
        seeded_database, report.restricted.is_(False), func.lower(report.text).contains("firearm")
    )
    assert expected and [h.id for h in hits] == expected
    assert all("firearm" in h.preview.lower() or len(h.preview) == 80 for h in hits)

    day_from, day_to = date(2026, 9, 1), date(2026, 9, 30)
    hits = search(seeded_database, seeded_operator, date_from=day_from, date_to=day_to, limit=500)
    assert hits
    assert all(
        datetime(2026, 8, 31, 23, tzinfo=UTC)
        <= h.submitted_at
        < datetime(2026, 9, 30, 23, tzinfo=UTC)
        for h in hits
    )
    assert [h.id for h in hits] == _expected(
        seeded_database,
        report.submitted_at >= datetime(2026, 8, 31, 23, tzinfo=UTC),
        report.submitted_at < datetime(2026, 9, 30, 23, tzinfo=UTC),
    )

    hits = search(
        seeded_database, seeded_operator, source="2", intelligence="C", handling="C", limit=500
    )
    assert hits and {h.grading_code for h in hits} == {"2CC"}
    assert [h.id for h in hits] == _expected(
        seeded_database,
        report.source_grade == "2",
        report.intelligence_grade == "C",
        report.handling_code == "C",
    )
    newest = search(seeded_database, seeded_operator)
    assert len(newest) == 50
    assert [h.submitted_at for h in newest] == sorted(
        (h.submitted_at for h in newest), reverse=True
    )


def test_seeded_superseded_reports_are_hidden_unless_asked(seeded_database, seeded_operator):
    old_ids = scalars(
        seeded_database,
        select(IntelligenceReport.supersedes_id).where(
            IntelligenceReport.supersedes_id.is_not(None)
        ),
    )
    assert old_ids
    everything = search(seeded_database, seeded_operator, include_superseded=True, limit=500)
    current = search(seeded_database, seeded_operator, limit=500)
    assert not any(h.superseded for h in current)
    assert {h.id for h in everything if h.superseded} <= set(old_ids)
    assert {h.id for h in current}.isdisjoint(old_ids)


def test_seeded_restricted_hits_name_whom_to_ask(seeded_database, seeded_operator):
    row = scalar(
        seeded_database,
        select(IntelligenceSubject.person_id)
        .join(IntelligenceReport, IntelligenceReport.id == IntelligenceSubject.report_id)
        .where(IntelligenceReport.restricted.is_(True), IntelligenceSubject.person_id.is_not(None))
        .order_by(IntelligenceSubject.id)
        .limit(1),
    )
    hits = search(seeded_database, seeded_operator, person_id=row, include_superseded=True)
    restricted = [h for h in hits if h.restricted]
    assert restricted
    for hit in restricted:
        with seeded_database.uow() as uow:
            name, station = uow.session.execute(
                select(Staff.display_name, Staff.station)
                .join(IntelligenceReport, IntelligenceReport.submitted_by_id == Staff.id)
                .where(IntelligenceReport.id == hit.id)
            ).one()
        assert hit.preview is None and hit.subjects == ()
        assert hit.ask == (f"{name} ({station})" if station else name)
    with pytest.raises(JustificationRequired):
        intelligence.view_report(seeded_database.uow(), seeded_operator, restricted[0].id)


def test_seeded_submission_continues_the_days_numbering(seeded_database, seeded_operator):
    person = _busiest(seeded_database, IntelligenceSubject.person_id)
    today = scalars(
        seeded_database,
        select(IntelligenceReport.reference).where(
            IntelligenceReport.reference.startswith("IR-20261126-")
        ),
    )
    saved = intelligence.submit_report(
        seeded_database.uow(),
        seeded_operator,
        source="1",
        intelligence="B",
        handling="P",
        conditions=None,
        text="New report.",
        person_ids=[person],
        now=SEED_ANCHOR,
    )
    highest = max((int(r.rsplit("-", 1)[1]) for r in today), default=0)
    assert saved.reference == f"IR-20261126-{highest + 1:04d}"
