"""A real terminal for end-to-end tests: the program runs on a pseudo-terminal, as over SSH.

`TerminalSession` starts a command on an 80x24 pty, sends keys, and waits (bounded, by
reading output — never by sleeping a fixed time) for text to appear on it.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

KEYS = {
    "f2": "\x1bOQ",
    "tab": "\t",
    "enter": "\r",
    "escape": "\x1b",
    "ctrl+s": "\x13",
    "ctrl+q": "\x11",
}

_ESCAPES = re.compile(
    r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)


def station_env(data_dir) -> dict[str, str]:
    """The environment a station's `controlroom` runs in for these tests: its own data and
    settings directories, a 256-colour terminal, nothing of the developer's SSH session,
    database or Textual driver."""
    env = {
        **os.environ,
        "CONTROLROOM_DATA_DIR": str(data_dir),
        "XDG_CONFIG_HOME": str(data_dir),
        "TERM": "xterm-256color",
    }
    for name in ("SSH_CLIENT", "SSH_CONNECTION", "TEXTUAL_DRIVER", "CONTROLROOM_DATABASE_URL"):
        env.pop(name, None)
    return env


def alt(key: str) -> str:
    return "\x1b" + key


class TerminalSession:
    def __init__(self, argv: list[str], env: dict[str, str], *, rows: int = 24, cols: int = 80):
        self.argv = argv
        self.pid, self.master = pty.fork()
        if self.pid == 0:  # the child becomes the program
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.output = b""
        self.status: int | None = None

    def text(self) -> str:
        """Everything written so far, with terminal control sequences removed."""
        return _ESCAPES.sub("", self.output.decode("utf-8", "replace"))

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.output += chunk
        return True

    def wait_for(self, pattern: str, timeout: float = 30.0) -> None:
        """Read until `pattern` (plain text) has appeared since the last `mark()`."""
        deadline = time.monotonic() + timeout
        while pattern not in self.text()[self._mark :]:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{pattern!r} did not appear within {timeout} s; screen tail:\n"
                    + self.text()[-1500:]
                )
            if not self._read(0.2):
                raise AssertionError(
                    f"the program ended before {pattern!r} appeared:\n" + self.text()[-1500:]
                )

    _mark = 0

    def mark(self) -> None:
        """Later waits look only at output written after this point."""
        self._mark = len(self.text())

    def drain(self, seconds: float) -> None:
        """Read whatever arrives for `seconds` (lets the program react to typing)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self._read(0.05):
                return

    def send(self, *keys: str) -> None:
        for key in keys:
            sequence = KEYS.get(key, key)
            os.write(self.master, sequence.encode())
            # An alt key reaches the program as ESC + letter; the terminal parser waits a
            # moment for more bytes before deciding, as for any ESC. A person's next key
            # comes later than that; so must ours.
            self.drain(0.3 if sequence.startswith("\x1b") else 0.05)

    def type(self, text: str) -> None:
        for char in text:
            os.write(self.master, char.encode())
        self.drain(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up code in the program runs."""
        os.kill(self.pid, signal.SIGKILL)
        self.wait()

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError("the program did not exit in time")
            self._read(0.1)
        try:
            os.close(self.master)
        except OSError:
            pass
        return self.status

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                self.wait(5)
            except (ProcessLookupError, ChildProcessError, AssertionError):
                pass
