"""A record merged into another is that person: its intelligence appears on the surviving
record (the list the record screen shows, a search by person, and the counts on a search
hit), and leaves again when the merge is undone. On both backends."""

from __future__ import annotations

from datetime import date, timedelta

from controlroom.domain.roles import Role
from controlroom.services import intelligence, person_merge
from controlroom.services.person_search import search_persons
from tests.factories import add_intel, add_person, staff_actor

TODAY = date(2026, 11, 26)
REASON = "same DOB and address; PNC confirms one person"


def test_a_merged_records_intelligence_appears_on_the_survivor_until_undone(database):
    supervisor = staff_actor(database, Role.SUPERVISOR)
    survivor = add_person(database, "Daniel", "Duplicate", date_of_birth=date(1985, 3, 4))
    merged = add_person(database, "Danny", "Duplicate", date_of_birth=date(1985, 3, 4))
    own = add_intel(database, "Daniel seen at the depot.", persons=(survivor,))
    theirs = add_intel(
        database, "Danny carries a knife.", persons=(merged,), age=timedelta(hours=2)
    )

    def listed() -> list[int]:
        return [r.id for r in intelligence.reports_for_person(database.uow(), supervisor, survivor)]

    def searched() -> list[int]:
        return [
            r.id
            for r in intelligence.search_reports(database.uow(), supervisor, person_id=survivor)
        ]

    def counted() -> int:
        hits = search_persons(database.uow(), supervisor, "daniel duplicate", today=TODAY)
        return next(h.intelligence_count for h in hits if h.person_id == survivor)

    assert (listed(), searched(), counted()) == ([own], [own], 1)

    info = person_merge.merge_persons(database.uow(), supervisor, survivor, merged, REASON)
    assert (listed(), searched(), counted()) == ([own, theirs], [own, theirs], 2)
    # The merged record itself still lists only its own.
    assert [r.id for r in intelligence.reports_for_person(database.uow(), supervisor, merged)] == [
        theirs
    ]

    person_merge.undo_merge(
        database.uow(), supervisor, info.merge_id, "two brothers after all, checked on PNC"
    )
    assert (listed(), searched(), counted()) == ([own], [own], 1)
