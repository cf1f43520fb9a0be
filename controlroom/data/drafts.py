"""The per-operator draft journal: the entry form's state, kept on the local disk so that
a crash, a killed process or a dropped SSH link loses nothing typed.

One JSON file per operator, `<directory>/drafts/<username>.json`, readable by its owner
only (the directory 0700, the file 0600: a draft holds a caller's name and account).
Every save writes a new file beside the old one, flushes it to disk and renames it over
the old one, so a reader (or the next start after a power cut) finds the old draft or
the new one, never half of one. A file that cannot be read as a draft is moved aside,
not deleted, and the form starts empty: a damaged draft never stops the app.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _check_username(username: str) -> str:
    # The name becomes a file name: nothing that could step outside the drafts directory.
    if (
        not username
        or username in {".", ".."}
        or "/" in username
        or "\\" in username
        or "\x00" in username
        or (os.altsep and os.altsep in username)
        or not username.isprintable()
    ):
        raise ValueError(f"not a username a draft can be kept under: {username!r}")
    return username


class DraftJournal:
    """Save, load and clear one operator's draft."""

    def __init__(self, directory: Path, username: str) -> None:
        self.username = _check_username(username)
        self.directory = Path(directory) / "drafts"

    @property
    def path(self) -> Path:
        return self.directory / f"{self.username}.json"

    def _ensure_directory(self) -> None:
        self.directory.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        self.directory.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing directory.
        if stat.S_IMODE(self.directory.stat().st_mode) != DIRECTORY_MODE:
            os.chmod(self.directory, DIRECTORY_MODE)

    def _sync_directory(self) -> None:
        # The rename is durable only once the directory entry itself is on disk.
        with contextlib.suppress(OSError):
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def save(self, state: dict) -> None:
        """Replace the draft with `state` (anything JSON can hold), atomically."""
        if not isinstance(state, dict):
            raise TypeError("a draft is a dict of the form's fields")
        data = json.dumps(state, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self._ensure_directory()
        temporary = self.directory / f".{self.username}.{secrets.token_hex(6)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
        try:
            try:
                os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self._sync_directory()

    def load(self) -> dict | None:
        """The saved draft, or None when there is none or it was unreadable (moved aside)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError:
            # A symbolic link (or something else odd) where the draft should be.
            self._move_aside()
            return None
        try:
            with os.fdopen(fd, "rb") as file:
                raw = file.read()
            state = json.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            self._move_aside()
            return None
        if not isinstance(state, dict):
            self._move_aside()
            return None
        return state

    def _move_aside(self) -> Path | None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.directory / f"{self.username}.json.corrupt-{stamp}"
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        self._sync_directory()
        return target

    def clear(self) -> None:
        """Forget the draft (after it was saved as an incident, or discarded)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return
        self._sync_directory()
