"""The hash chain that makes the audit trail tamper-evident (pure: no database here).

Every audit event carries its position in the chain (`seq`, 1, 2, 3, ...), the hash of
the event before it (`prev_hash`, GENESIS for the first) and its own hash: SHA-256 over a
canonical serialisation of every field it records, `seq` and `prev_hash` included. So

- editing any field of an event changes its hash (found at that event);
- deleting an event leaves a gap in `seq` and a `prev_hash` that names a missing hash;
- reordering (swapping positions or contents) breaks `seq` or the `prev_hash` links;
- cutting the newest events off leaves a chain that is valid in itself: it is found by
  comparing the last event with the chain head kept beside the rows (`ChainHead`: the
  number of events and the newest hash, moved in the same transaction as every insert).

The canonical form is FROZEN: migration 0008 chained the rows that existed before it with
this function, and every database verifies with it. A new form needs a new version
marker and a migration that re-chains (never an edit here).

Canonical form: a JSON object with sorted keys, no whitespace, ASCII only; times as
ISO 8601 UTC with microseconds and a trailing "Z"; ids and texts as they are stored
(None as null).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
HASH_LENGTH = 64

# Every field an event records, in the order the rows are read for verifying.
FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "staff_id",
    "terminal",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "justification",
    "detail",
    "prev_hash",
)


_SORTED_FIELDS = tuple(sorted(FIELDS))
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times are aware UTC")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat gives 2026-11-26T09:00:00.000000+00:00; the Z form is the frozen one.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


def canonical(fields: dict) -> bytes:
    """The bytes an event's hash is taken over (every field of FIELDS, nothing else):
    a JSON object, keys sorted, no whitespace, ASCII only."""
    try:
        body = {name: fields[name] for name in _SORTED_FIELDS}
    except KeyError:
        missing = [name for name in FIELDS if name not in fields]
        raise ValueError(f"audit event lacks {', '.join(missing)}") from None
    body["occurred_at"] = canonical_time(body["occurred_at"])
    return _ENCODE(body).encode()


def event_hash(fields: dict) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The anchor outside the rows: how many events the chain holds and its newest hash."""

    count: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first place the chain does not hold: the position, the row id when there is a
    row, and what is wrong in words."""

    seq: int
    event_id: int | None
    problem: str


@dataclass(frozen=True, slots=True)
class Verification:
    events: int
    head: ChainHead | None
    broken: BrokenLink | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify(rows: Iterable[tuple], head: ChainHead | None) -> Verification:
    """Check the chain: `rows` are (id, *FIELDS, event_hash) tuples in `seq` order.

    Stops at the first broken link. `head` None means the anchor row is missing, which
    is itself a break (nothing could tell a truncated chain from a whole one).
    """
    expected_seq = 1
    previous = GENESIS
    seen = 0
    width = len(FIELDS)
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            break
        except (TypeError, ValueError) as exc:  # a value the database cannot give back
            return Verification(
                seen,
                head,
                BrokenLink(
                    expected_seq, None, f"unreadable row after event {expected_seq - 1}: {exc}"
                ),
            )
        event_id = row[0]
        fields = dict(zip(FIELDS, row[1 : 1 + width], strict=True))
        stored = row[1 + width]
        seq = fields["seq"]
        seen += 1
        if seq != expected_seq:
            problem = (
                f"event {expected_seq} is missing (next is {seq})"
                if seq > expected_seq
                else f"event {seq} is out of order (expected {expected_seq})"
            )
            return Verification(seen, head, BrokenLink(expected_seq, event_id, problem))
        if fields["prev_hash"] != previous:
            return Verification(
                seen,
                head,
                BrokenLink(
                    seq, event_id, "does not follow the event before it (previous hash differs)"
                ),
            )
        try:
            recomputed = event_hash(fields)
        except (TypeError, ValueError) as exc:
            return Verification(seen, head, BrokenLink(seq, event_id, f"unreadable: {exc}"))
        if recomputed != stored:
            return Verification(
                seen,
                head,
                BrokenLink(seq, event_id, "content changed after it was written (hash differs)"),
            )
        previous = stored
        expected_seq += 1
    count = expected_seq - 1
    if head is None:
        return Verification(count, head, BrokenLink(count + 1, None, "the chain head is missing"))
    if head.count != count or head.last_hash != previous:
        if head.count > count:
            problem = (
                f"the chain ends at event {count} but the head records {head.count}"
                " events (events cut off the end)"
            )
        else:
            problem = (
                f"the head records {head.count} events and hash {head.last_hash[:12]}…"
                f" but the chain holds {count} ending {previous[:12]}…"
            )
        return Verification(count, head, BrokenLink(count + 1, None, problem))
    return Verification(count, head, None)


# --- the head anchored outside the database ------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head as one verifier last saw it intact, kept outside the database
    (`audit verify` writes it): a rewrite of rows *and* head in the database cannot
    move it. `mac` is an HMAC-SHA256 over the rest under a key in the verifier's OS
    keyring (None where there is no keyring: then only the file's mode protects it)."""

    database: str
    count: int
    last_hash: str
    anchored_at: str
    anchored_by: str
    mac: str | None


def anchor_message(database: str, count: int, last_hash: str, anchored_at: str, by: str) -> bytes:
    return "\x1f".join((database, str(count), last_hash, anchored_at, by)).encode("utf-8")


def anchor_mac(key: bytes, database: str, count: int, last_hash: str, at: str, by: str) -> str:
    return hmac.new(key, anchor_message(database, count, last_hash, at, by), "sha256").hexdigest()


def anchor_problem(anchor: Anchor, hash_at_anchor: str | None) -> str | None:
    """Why the chain as it is now does not extend the anchored head, or None: the chain
    may have grown since, but the event at the anchored position must still be the one
    that was anchored (`hash_at_anchor` is its stored hash now, None if it is gone)."""
    when = f"the head anchored {anchor.anchored_at} by {anchor.anchored_by}"
    if hash_at_anchor is None:
        return f"event {anchor.count} of {when} is gone: the chain was cut or emptied"
    if not hmac.compare_digest(hash_at_anchor, anchor.last_hash):
        return (
            f"event {anchor.count} is not the one of {when} (hash {hash_at_anchor[:12]}…, "
            f"anchored {anchor.last_hash[:12]}…): the chain was rewritten"
        )
    return None
