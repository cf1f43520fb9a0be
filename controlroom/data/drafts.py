"""The per-operator draft journal: the entry form's state, kept on the local disk so that
a crash, a killed process or a dropped SSH link loses nothing typed.

One JSON file per open entry form, `<directory>/drafts/<username>.<form>.json` (the
form's idempotency key names it, so two forms, or two sessions of one operator, never
write over each other; `<username>.json` is where a single draft was kept before, still
read), readable by its owner only (the directory 0700, the file 0600: a draft holds a caller's name and account).
Every save writes a new file beside the old one, flushes it to disk and renames it over
the old one, so a reader (or the next start after a power cut) finds the old draft or
the new one, never half of one.

A draft whose form is open belongs to that session (`DraftClaims`): the session holds an
exclusive `flock` on the draft's `.lock` file beside it while the form is open, so a
second session of the same operator neither offers nor opens it — two sessions never
type into one draft. The operating system lets go of the lock when the process ends,
however it ends, so a crashed session's drafts are offered at the next start. A file that cannot be read as a draft is moved aside,
not deleted, and the form starts empty: a damaged draft never stops the app.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
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


def _check_form(form: str) -> str:
    # Part of a file name: 32 hex digits (`form_key`), nothing else, so one operator's
    # listing never takes "x.supervisor.json" (another operator's own draft) for a form.
    if not _FORM.fullmatch(form):
        raise ValueError(f"not a form key a draft can be kept under: {form!r}")
    return form


_FORM = re.compile(r"[0-9a-f]{32}")


def form_key(idempotency_key: str) -> str:
    """The file-name key of the form whose incident will carry `idempotency_key`."""
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


class DraftJournal:
    """Save, load and clear one draft: the operator's own (`form` None: the one file kept
    before forms had their own) or one entry form's (`for_form`)."""

    def __init__(self, directory: Path, username: str, form: str | None = None) -> None:
        self.username = _check_username(username)
        self.directory = Path(directory) / "drafts"
        self.form = None if form is None else _check_form(form)

    @property
    def path(self) -> Path:
        if self.form is None:
            return self.directory / f"{self.username}.json"
        return self.directory / f"{self.username}.{self.form}.json"

    @property
    def lock_path(self) -> Path:
        """The file a session holds the draft by while its form is open (DraftClaims)."""
        return self.path.with_suffix(".lock")

    def for_form(self, form: str) -> DraftJournal:
        """The journal of one entry form of this operator."""
        return DraftJournal(self.directory.parent, self.username, form)

    def all(self) -> list[DraftJournal]:
        """Every draft this operator has on disk (the old single file first, then one per
        form, oldest first)."""
        found: list[tuple[float, DraftJournal]] = []
        if not self.directory.is_dir():
            return []
        prefix = f"{self.username}."
        for path in self.directory.iterdir():
            name = path.name
            if name == f"{self.username}.json":
                found.append((float("-inf"), DraftJournal(self.directory.parent, self.username)))
                continue
            if not (name.startswith(prefix) and name.endswith(".json")):
                continue
            form = name[len(prefix) : -len(".json")]
            if not _FORM.fullmatch(form):
                continue  # temporary and set-aside files, another user's "name.x"
            with contextlib.suppress(OSError):
                found.append((path.stat().st_mtime, self.for_form(form)))
        found.sort(key=lambda pair: (pair[0], pair[1].path.name))
        return [journal for _, journal in found]

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
        target = self.directory / f"{self.path.name}.corrupt-{stamp}"
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        self._sync_directory()
        return target

    def clear(self) -> None:
        """Forget the draft (after it was saved as an incident, or discarded), and the
        lock file a session held it by (DraftClaims), which has no draft to guard now."""
        with contextlib.suppress(OSError):
            os.unlink(self.lock_path)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return
        self._sync_directory()


class DraftClaims:
    """One session's hold on the drafts of its open forms (flock on `<draft>.lock`)."""

    def __init__(self) -> None:
        self._held: dict[Path, int] = {}

    def claim(self, journal: DraftJournal) -> bool:
        """Hold `journal`'s draft for this session; False when another session holds it."""
        lock = journal.lock_path
        if lock in self._held:
            return True
        journal._ensure_directory()
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | _NOFOLLOW, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._held[lock] = fd
        return True

    def release(self, journal: DraftJournal) -> None:
        """The form closed (saved, discarded): its lock file goes with the hold."""
        fd = self._held.pop(journal.lock_path, None)
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(journal.lock_path)
        os.close(fd)

    def release_all(self) -> None:
        """The session ends: every hold is let go; the drafts stay for the next start."""
        for fd in self._held.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.clear()

    def held_elsewhere(self, journal: DraftJournal) -> bool:
        """Whether another live session has this draft's form open."""
        lock = journal.lock_path
        if lock in self._held:
            return False
        try:
            fd = os.open(lock, os.O_RDWR | _NOFOLLOW)
        except FileNotFoundError:
            return False
        except OSError:
            return False  # unreadable lock: the draft is offered rather than hidden
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing the probe's descriptor lets go of its lock
        return False
