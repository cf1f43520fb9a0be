"""The engineer's log: what went wrong, in detail, where the operator never sees it.

Screens turn a failure into one sentence for the operator (`screens/seam.py`); the
exception behind it (type, message, traceback) is written here, to
`<data dir>/logs/<user>.log` (mode 0600: it is per operator, like the drafts), rotated at
1 MiB with three old files kept. The file is created at once and opened for writing
with the first record: a session with nothing to log never loads `logging.handlers`
(about 0.1 MiB of every operator's peak memory, issue 15). The engines are built with
`hide_parameters=True`, so a database error's text carries its statement but never the
record values bound to it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOGGER_NAME = "controlroom"
LOG_BYTES = 1024 * 1024
LOG_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s"


def log_path(data_dir: Path, username: str) -> Path:
    return Path(data_dir) / "logs" / f"{username}.log"


def _rotating_file(path: Path) -> logging.Handler:
    """A rotating file whose every generation is created readable by its owner only."""
    from logging.handlers import RotatingFileHandler

    class PrivateRotatingFileHandler(RotatingFileHandler):
        def _open(self):  # the base class's signature (untyped in typeshed)
            fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            return os.fdopen(fd, self.mode, encoding=self.encoding, errors=self.errors)

    return PrivateRotatingFileHandler(
        path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )


class _OperatorLog(logging.Handler):
    """The operator's log file, opened (and its rotation loaded) with its first record."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        # Called under this handler's lock (`Handler.handle`): one file, opened once.
        if self._file is None:
            try:
                self._file = _rotating_file(self.path)
            except Exception:  # noqa: BLE001 - as any handler: report, never raise
                self.handleError(record)
                return
            self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def close(self) -> None:
        self.acquire()
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
        finally:
            self.release()
        super().close()


def configure_file_log(data_dir: Path, username: str) -> Path:
    """Send Control Room's log records to the operator's log file; returns its path.

    Safe to call again (a test, a second app in one process): the handler it installed
    before is replaced, never doubled.
    """
    path = log_path(data_dir, username)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if isinstance(handler, _OperatorLog):
            logger.removeHandler(handler)
            handler.close()
    # The file is there (the operator's alone) from the start; written with the first record.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = _OperatorLog(path)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # The terminal belongs to the app: nothing of ours goes to stderr beneath it.
    logger.propagate = False
    return path
