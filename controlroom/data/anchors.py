"""The audit chain's anchor files: one small JSON file per database, private to the
verifier (directory 0700, file 0600), replaced atomically (write, fsync, rename).

Where they live is the caller's choice: by default the verifier's data directory
(`<data dir>/audit-anchors/`), or a file named with `audit verify --anchor FILE` — a
share only verifiers can write, a medium kept offline. See README, "Trust boundaries".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from controlroom.domain.audit_chain import Anchor

_FIELDS = ("database", "count", "last_hash", "anchored_at", "anchored_by", "mac")


class AnchorUnreadable(Exception):
    """The anchor file exists but is not an anchor (damaged or edited by hand)."""


def read_anchor(path: Path) -> Anchor | None:
    """The anchor at `path`, None when there is none yet; AnchorUnreadable if damaged."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        anchor = Anchor(**{name: data[name] for name in _FIELDS})
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorUnreadable(f"{path} is not an audit anchor ({type(exc).__name__})") from None
    if not isinstance(anchor.count, int) or not isinstance(anchor.last_hash, str):
        raise AnchorUnreadable(f"{path} is not an audit anchor")
    return anchor


def write_anchor(path: Path, anchor: Anchor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({name: getattr(anchor, name) for name in _FIELDS}, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
