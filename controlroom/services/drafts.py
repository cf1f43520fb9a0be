"""Drafts of the incident entry form, for the screens (which import services only).

See `controlroom.data.drafts` for how a draft is kept; this module hands the screens a
journal for the operator without them reaching into the data layer.
"""

from __future__ import annotations

from pathlib import Path

from controlroom.data.drafts import DraftClaims, DraftJournal, form_key

__all__ = ["DraftClaims", "DraftJournal", "draft_journal", "form_key"]


def draft_journal(data_dir: Path, username: str) -> DraftJournal:
    """The draft journal of `username` under the data directory (ValueError for a name
    that cannot be a file name)."""
    return DraftJournal(Path(data_dir), username)
