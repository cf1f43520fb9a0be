"""The chain's head anchored outside the database (issue 16, item 3).

With write access to the database (an SQLite file, a superuser) one could change an
audit row, re-hash every row after it, move the head, and `audit verify` said "intact";
deleting every row and the head gave "intact: 1 events". `audit verify` now keeps the
head it last found intact in a file outside the database, signed with a key in the
verifier's keyring, and says when the chain no longer extends it.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, select, update

from controlroom.data.models import AuditChainHead, AuditEvent
from controlroom.domain.audit_chain import FIELDS, GENESIS, event_hash
from controlroom.domain.roles import Role
from tests.audit_stations import enrol
from tests.cli_harness import isolate_cli_environment, run_cli

VERIFIER = "anchor.super"


def verify(monkeypatch, tmp_path, capsys, url: str, *extra: str):
    isolate_cli_environment(monkeypatch, tmp_path, columns=400)
    monkeypatch.setattr("controlroom.cli.common._os_user", lambda: VERIFIER)
    return run_cli(capsys, "audit", "verify", "--database-url", url, *extra)


def rewrite_chain(database, change) -> None:
    """What someone who can write the database does: change rows, re-hash the chain from
    the first row and move the head, so the chain verifies."""
    table = AuditEvent.__table__
    columns = [table.c.chain_seq, *(table.c[name] for name in FIELDS[1:])]
    with database.engine.begin() as connection:
        rows = [
            dict(zip(FIELDS, row, strict=True))
            for row in connection.execute(select(*columns).order_by(table.c.chain_seq))
        ]
        rows = change(rows)
        connection.execute(delete(table))
        previous = GENESIS
        for seq, fields in enumerate(rows, start=1):
            fields = {**fields, "seq": seq, "prev_hash": previous}
            previous = event_hash(fields)
            values = {**fields, "event_hash": previous}
            values["chain_seq"] = values.pop("seq")
            connection.execute(table.insert().values(**values))
        connection.execute(
            update(AuditChainHead.__table__).values(event_count=len(rows), last_hash=previous)
        )


def test_a_rewritten_chain_and_head_is_found_by_the_anchor(
    monkeypatch, tmp_path, capsys, database, database_url
):
    enrol(database_url, Role.SUPERVISOR, VERIFIER)
    first = verify(monkeypatch, tmp_path, capsys, database_url)
    assert first.code == 0, first.err
    assert "anchored" in first.out and "no anchor before" in first.out
    [anchor_file] = (tmp_path / "data" / "audit-anchors").iterdir()
    assert anchor_file.stat().st_mode & 0o077 == 0
    assert json.loads(anchor_file.read_text())["mac"]  # signed with the keyring's key
    again = verify(monkeypatch, tmp_path, capsys, database_url)
    assert again.code == 0 and "it extends the head anchored" in again.out

    # The creator's first event (database.create) re-written as done by someone else.
    rewrite_chain(database, lambda rows: [{**rows[0], "actor": "nobody"}, *rows[1:]])
    forged = verify(monkeypatch, tmp_path, capsys, database_url)
    assert "audit trail intact" in forged.out  # the chain alone cannot tell
    assert forged.code == 1
    assert "ANCHOR MISMATCH" in forged.out and "the chain was rewritten" in forged.out


def test_an_emptied_trail_is_found_by_the_anchor(
    monkeypatch, tmp_path, capsys, database, database_url
):
    """Deleting every row and the head gave "intact: 1 events"."""
    enrol(database_url, Role.SUPERVISOR, VERIFIER)
    assert verify(monkeypatch, tmp_path, capsys, database_url).code == 0
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEvent.__table__))
        connection.execute(delete(AuditChainHead.__table__))
    emptied = verify(monkeypatch, tmp_path, capsys, database_url)
    assert emptied.code == 1
    assert "ANCHOR MISMATCH" in emptied.out and "the chain was cut or emptied" in emptied.out


def test_an_edited_anchor_file_is_said_so(monkeypatch, tmp_path, capsys, database_url):
    enrol(database_url, Role.SUPERVISOR, VERIFIER)
    anchor = tmp_path / "offline" / "anchor.json"
    assert verify(monkeypatch, tmp_path, capsys, database_url, "--anchor", str(anchor)).code == 0
    data = json.loads(anchor.read_text())
    anchor.write_text(json.dumps({**data, "count": 1}))
    edited = verify(monkeypatch, tmp_path, capsys, database_url, "--anchor", str(anchor))
    assert edited.code == 1 and "ANCHOR ALTERED" in edited.out
    anchor.write_text("not json")
    damaged = verify(monkeypatch, tmp_path, capsys, database_url, "--anchor", str(anchor))
    assert damaged.code == 1 and "ANCHOR UNREADABLE" in damaged.out
