"""CSV exports carry no formulas and no broken rows (issue 16, item 6).

`audit export` let a CR through unquoted (an `=1+1` cell started a row of its own in a
spreadsheet), and a cell led by TAB, or by spaces before `=`, was not neutralised; an
empty cell came out as a lone apostrophe. Every CSV the program writes goes through
`domain.spreadsheet`.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from controlroom.domain.roles import Role
from controlroom.domain.spreadsheet import csv_writer, safe_cell
from tests.audit_stations import enrol
from tests.cli_harness import isolate_cli_environment, run_cli


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ('  =HYPERLINK("http://x")', '\'  =HYPERLINK("http://x")'),
        ("\t=1", "'\t=1"),
        ("\tplain", "'\tplain"),
        ("\r=1", "'\r=1"),
        ("\n@x", "'\n@x"),
        ("\u00a0=1", "'\u00a0=1"),
        ("-1.5800", "-1.5800"),  # a longitude: a number, not a formula
        ("+44", "+44"),
        ("42", "42"),
        ("", ""),
        ("Mill Lane = home", "Mill Lane = home"),
        (None, None),
        (7, 7),
    ],
)
def test_a_cell_that_could_start_a_formula_is_written_as_text(value, written):
    assert safe_cell(value) == written


def test_a_cell_holding_a_cr_or_line_feed_is_quoted_and_stays_one_cell():
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["a\r=1+1", "b\nc", "d"])
    assert buffer.getvalue() == '"a\r=1+1","b\nc",d\r\n'
    assert list(csv.reader(io.StringIO(buffer.getvalue(), newline=""))) == [
        ["a\r=1+1", "b\nc", "d"]
    ]


def test_audit_export_quotes_and_neutralises_every_cell(
    monkeypatch, tmp_path, capsys, database, database_url
):
    """A row an older version wrote (its text held a CR and formulas) exports as one
    row whose every cell is text."""
    enrol(database_url, Role.SUPERVISOR, "dpo.supervisor")
    hostile = {
        "justification": "reason\r=1+1",
        "detail": '\t=HYPERLINK("http://x")',
        "terminal": " @evil",
    }
    with database.uow() as uow:
        uow.audit.append(
            occurred_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
            actor="-old.version",
            staff_id=None,
            terminal=hostile["terminal"],
            action="person.view",
            object_type="person",
            object_id="=2+2",
            outcome="success",
            justification=hostile["justification"],
            detail=hostile["detail"],
        )
        uow.commit()
    isolate_cli_environment(monkeypatch, tmp_path, columns=200)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: "dpo.supervisor")
    result = run_cli(
        capsys, "audit", "export", "--since", "2000-01-01", "--database-url", database_url
    )
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out, newline="")))
    [row] = [r for r in rows if r["actor"] == "'-old.version"]
    # Quoted: the CR stays inside its cell, and "=1+1" never starts a row of its own.
    assert row["justification"] == hostile["justification"]
    assert not any(r["actor"].startswith("=") for r in rows)
    assert row["detail"] == "'" + hostile["detail"]
    assert row["terminal"] == "'" + hostile["terminal"]
    assert row["object_id"] == "'=2+2"
    for every in rows:
        for cell in every.values():
            assert cell == "" or cell.lstrip(" \t\r\n")[:1] not in "=+-@" or cell[:1] == "'"
    # Empty cells stay empty (they read as a lone apostrophe).
    assert "'" not in [cell for every in rows for cell in every.values()]
