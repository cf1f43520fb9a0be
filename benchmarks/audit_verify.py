"""How long `controlroom audit verify` takes on 100,000 audit events, against a floor.

Builds a scratch database (SQLite in a temporary directory, or the empty PostgreSQL
database named by --database-url), appends N synthetic events with the bulk path that
computes the same hashes as `services.audit.record` (`data.audit_log.append_many`), then
times, alternately so drift in the machine's load hits both alike:

    verify   the chain check `audit verify` runs (`domain.audit_chain.verify` over every
             row in chain order, rehashing each, then the chain head);
    floor    reading the same rows in the same order with the same query, no hashing.

    .venv/bin/python benchmarks/audit_verify.py
    .venv/bin/python benchmarks/audit_verify.py --events 1000000
    .venv/bin/python benchmarks/audit_verify.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Target (issue 6): verifying 100,000 events "takes seconds".
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# benchmarks/queue.py (so named by issue 5) would hide the standard library's `queue` from
# Textual and psycopg while this script's own directory is first on sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from controlroom.config import mask_url, sqlite_url
from controlroom.data import audit_log
from controlroom.data.engine import make_engine
from controlroom.data.schema import upgrade
from controlroom.domain.audit_chain import verify
from controlroom.domain.environment import Environment

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def events(n: int) -> list[dict]:
    actions = ("person.view", "incident.view", "person.search", "intel.view", "incident.create")
    return [
        {
            "occurred_at": START + timedelta(seconds=i, microseconds=(i * 7919) % 1_000_000),
            "actor": f"user{i % 199}",
            "staff_id": None,
            "terminal": f"10.0.{i % 7}.{i % 250}",
            "action": actions[i % 5],
            "object_type": "person",
            "object_id": str(i * 31 % 50_000),
            "outcome": "success",
            "justification": "need to know" if i % 97 == 0 else None,
            "detail": f"query='smyth'; shown: {i % 1000}" if i % 5 == 0 else None,
        }
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="an EMPTY database to build the chain in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or sqlite_url(Path(scratch) / "audit.sqlite")
        engine = make_engine(url)
        try:
            upgrade(engine, environment=Environment.TEST, created_by="bench")
            began = time.perf_counter()
            with engine.begin() as connection:
                total = audit_log.append_many(connection, events(args.events))
            built = time.perf_counter() - began
            print(f"{mask_url(url)}: {total:,} events in the chain (built in {built:.1f} s)")
            checks, floors = [], []
            for _ in range(args.rounds):
                with engine.connect() as connection:
                    began = time.perf_counter()
                    result = verify(
                        audit_log.chain_rows(connection), audit_log.chain_head(connection)
                    )
                    checks.append(time.perf_counter() - began)
                    assert result.intact and result.events == total, result.broken
                with engine.connect() as connection:
                    began = time.perf_counter()
                    assert audit_log.chain_rows_plain(connection) == total
                    floors.append(time.perf_counter() - began)
        finally:
            engine.dispose()
    check, floor = statistics.median(checks), statistics.median(floors)
    print(
        f"verify {total:,} events: {check:.2f} s (median of {args.rounds}; "
        f"{total / check:,.0f} events/s)"
    )
    print(f"floor (same rows, same order, no hashing): {floor:.2f} s")
    print(f"ratio verify/floor: {check / floor:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
