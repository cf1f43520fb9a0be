"""`controlroom search person|intel`: the searches of F3 and F4 as a table or JSON, audited."""

from __future__ import annotations

from controlroom.cli.common import (
    CliError,
    _console,
    _open_database,
    _operator_actor,
    _print_json,
    _settings,
    _table,
    _terminal,
    _whole_number,
)

SEARCH_LIMIT_DEFAULT = 20


SEARCH_LIMIT_MAX = 500


def cmd_search(args) -> int:
    """Search as the OS user; the service audits each search with its query and results."""
    limit = _whole_number(args.limit, "--limit", maximum=SEARCH_LIMIT_MAX)
    person_id = None
    if args.search_command == "intel":
        if args.person is not None:
            # Ids are 32-bit integers on both backends; a larger one would fail in the driver.
            person_id = _whole_number(args.person, "--person", maximum=2**31 - 1)
        if person_id is None and not (args.query or "").strip():
            raise CliError("search intel needs QUERY text or --person ID")
    settings = _settings(args)
    database = _open_database(settings.database_url, args, create_sqlite=False)
    try:
        actor = _operator_actor(database).actor(_terminal())
        policy = _record_export_policy(database, actor, args) if args.json else None
        if args.search_command == "person":
            from datetime import UTC, datetime

            from controlroom.domain.incidents import REFERENCE_ZONE
            from controlroom.services.person_search import QueryTooLong, search_persons

            today = datetime.now(UTC).astimezone(REFERENCE_ZONE).date()
            try:
                hits = search_persons(database.uow(), actor, args.query, today=today, limit=limit)
            except QueryTooLong as exc:
                raise CliError(f"search person: {exc.message}") from None
            if policy is not None:  # --json
                rows = [
                    _person_json(hit) for hit in hits if not policy.withholds_person(hit.person_id)
                ]
                _record_export(database, actor, policy, args, len(rows), len(hits) - len(rows))
                _print_json(rows)
            else:
                _print_person_hits(hits)
        else:
            from controlroom.services.intelligence import IntelligenceInputError, search_reports

            try:
                reports = search_reports(
                    database.uow(), actor, text=args.query or None, person_id=person_id, limit=limit
                )
            except IntelligenceInputError as exc:
                raise CliError(f"search intel: {exc.message}") from None
            if policy is not None:  # --json
                rows = [_intel_json(report) for report in reports]
                withheld = 0
                for row in rows:
                    for subject in row["subjects"]:
                        if policy.withholds_person(subject["person_id"]):
                            subject.update(person_id=None, label="WITHHELD")
                            withheld += 1
                _record_export(database, actor, policy, args, len(rows), withheld)
                _print_json(rows)
            else:
                _print_intel(reports)
        return 0
    finally:
        database.dispose()


def _record_export_policy(database, actor, args):
    """A JSON search result leaves the system: on production it needs a role and a
    justification, and leaves out protected persons unless authorised (see README)."""
    from controlroom.services.audit_trail import AuditTrailRefused, record_export_policy

    try:
        return record_export_policy(
            database.uow(),
            actor,
            _export_what(args),
            justification=args.justification,
            include_protected=args.include_protected,
        )
    except AuditTrailRefused as exc:
        raise CliError(str(exc)) from None


def _export_what(args) -> str:
    return f"search {args.search_command} --json limit={args.limit}"


def _record_export(database, actor, policy, args, shown: int, withheld: int) -> None:
    from controlroom.services.audit import AuditUnavailable
    from controlroom.services.audit_trail import record_export

    try:
        record_export(
            database.uow(), actor, policy, _export_what(args), shown=shown, withheld=withheld
        )
    except AuditUnavailable as exc:
        raise CliError(str(exc)) from None


def _person_json(hit) -> dict:
    return {
        "person_id": hit.person_id,
        "forename": hit.forename,
        "surname": hit.surname,
        "date_of_birth": hit.date_of_birth.isoformat() if hit.date_of_birth else None,
        "address": hit.address,
        "markers": [m.label for m in hit.markers],
        "marker_codes": [m.code for m in hit.markers],
        "match": hit.match,
        "score": hit.score,
        "incident_count": hit.incident_count,
        "intelligence_count": hit.intelligence_count,
        "restricted": hit.restricted,
        "ask": hit.ask,
        "why": list(hit.why),
    }


def _intel_json(report) -> dict:
    return {
        "id": report.id,
        "reference": report.reference,
        "submitted_at": report.submitted_at.isoformat(),
        "grading_code": report.grading_code,
        "handling_code": report.handling_code,
        "restricted": report.restricted,
        "superseded": report.superseded,
        "legacy": report.legacy,
        "preview": report.preview,
        "ask": report.ask,
        "conditions": report.conditions,
        "subjects": [
            {"person_id": s.person_id, "location_id": s.location_id, "label": s.label}
            for s in report.subjects
        ],
    }


# Below this many columns a hit is a block of lines (name, address, markers and counts,
# why) beside its id, not a row of nine columns: at 80 the address came one letter a line.
WIDE_TABLE_COLUMNS = 120


def _print_person_hits(hits) -> None:
    from rich.text import Text

    from controlroom.domain.safe_text import printable

    console = _console()
    if not hits:
        console.print("No one found.", markup=False, highlight=False)
        return

    def born(hit) -> str:
        return hit.date_of_birth.strftime("%d/%m/%Y") if hit.date_of_birth else ""

    def markers(hit) -> str:
        return ", ".join(m.label for m in hit.markers)

    if console.width >= WIDE_TABLE_COLUMNS:
        table = _table(
            ("id", True),
            ("name", False),
            ("born", True),
            ("markers", False),
            ("address", False),
            ("incidents", True),
            ("intel", True),
            ("match", True),
            ("why", False),
        )
        for hit in hits:
            table.add_row(
                *(
                    Text(printable(str(v)))
                    for v in (
                        hit.person_id,
                        hit.name,
                        born(hit),
                        markers(hit),
                        hit.address or "",
                        "" if hit.restricted else hit.incident_count,
                        "" if hit.restricted else hit.intelligence_count,
                        hit.match,
                        hit.why_text,
                    )
                )
            )
        console.print(table)
        return
    # Narrow: the id, and the hit in lines that wrap at words.
    table = _table(("id", True), ("person", False))
    table.show_lines = True  # one hit from the next
    for hit in hits:
        if hit.restricted:
            lines = [hit.name]
        else:
            lines = [
                " \u00b7 ".join(part for part in (hit.name, born(hit), hit.match) if part),
                hit.address or "no address known",
                " \u00b7 ".join(
                    part
                    for part in (
                        markers(hit),
                        f"{hit.incident_count} incidents",
                        f"{hit.intelligence_count} intel",
                    )
                    if part
                ),
                f"why: {hit.why_text}" if hit.why else "",
            ]
        table.add_row(
            Text(str(hit.person_id)),
            Text("\n".join(printable(line) for line in lines if line)),
        )
    console.print(table)


def _print_intel(reports) -> None:
    from rich.text import Text

    from controlroom.domain.incidents import REFERENCE_ZONE
    from controlroom.domain.legacy import LEGACY_LABEL
    from controlroom.domain.safe_text import printable
    from controlroom.services.person_search import RESTRICTED_LABEL, UNKNOWN_OWNER

    if not reports:
        _console().print("No reports found.", markup=False, highlight=False)
        return
    table = _table(
        ("reference", True),
        ("submitted", True),
        ("grading", True),
        ("subjects", False),
        ("report", False),
    )
    for report in reports:
        when = report.submitted_at.astimezone(REFERENCE_ZONE).strftime("%d/%m/%Y %H:%M")
        if report.restricted:
            about = RESTRICTED_LABEL.format(owner=report.ask or UNKNOWN_OWNER)
        else:
            about = report.about() or ""
        if report.legacy:
            about = f"{LEGACY_LABEL} {about}"
        subjects = "; ".join(s.label for s in report.subjects)
        table.add_row(
            *(
                Text(printable(v))
                for v in (report.reference, when, report.grading_code, subjects, about)
            )
        )
    _console().print(table)
