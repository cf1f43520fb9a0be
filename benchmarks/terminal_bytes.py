"""Bytes on the wire: what Control Room sends to an operator's terminal, against a bare
Textual app with one focused Input (the floor), measured in the same run.

Both run in a real pseudo-terminal at 80x24 (TERM=xterm-256color), as over SSH
(`SSH_CONNECTION` is set, as sshd sets it; `--no-ssh` leaves it out). Nothing in either
app is instrumented: every byte the program writes to its terminal is counted.

    startup        bytes from the fork until the first screen is ready (the board with
                   its counts; the bare app's title), plus one second of settling
    idle           bytes per second over --idle-seconds (default 60: a whole minute, as
                   clocks and ages turn over each minute) on each main screen, after it has
                   settled: board, new incident (F2), person search (F3), intelligence
                   (F4), triage queue (F5), command view (F6), incident list (F7),
                   resource board (F8), crime recording (F9), crime integrity (F11),
                   crime statistics (F12)
    per key        bytes per key typing KEYS characters one by one (a typist's pace)
                   into the narrative (ours) and into the Input (the floor)
    memory         the app's resident memory (VmRSS) and its peak so far (VmHWM) after
                   each main screen has settled and idled, and after the typing: which
                   screen costs what (the app's own process only)

    .venv/bin/python benchmarks/terminal_bytes.py [--database-url URL] [--no-ssh]
                                                  [--idle-seconds 60] [--through-sshd]

With --through-sshd (root, and sshd installed: openssh-server), Control Room runs behind
a real sshd on a loopback port (tests/sshd.py: README's ForceCommand block, its own
config and keys), reached with the real `ssh` client on the pty; the bytes counted are
the ones the thin client's terminal receives, and the wire bytes (encrypted, with the
protocol's own traffic) are the ssh client's own count of what it received. The floor
runs locally as before.

Goals (issue 15): idle <= 50 B/s on every main screen; bytes per key <= 1.1x the floor;
startup bytes <= 1.5x the floor; peak RSS after every main screen <= 100 MiB on the
1M-person seed (`--database-url` the large seed; the app's own process only).
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# benchmarks/queue.py would hide the standard library's `queue` (see startup.py).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import tempfile
import termios
import time

SETTLE_SECONDS = 2.0
IDLE_SECONDS = 60.0
KEYS = 40
KEY_GAP = 0.12
TIMEOUT = 60.0

BARE_TITLE = b"BAREAPPFRAME"
BARE_APP = f"""
from textual.app import App
from textual.widgets import Footer, Header, Input

class Bare(App):
    TITLE = {BARE_TITLE.decode()!r}

    def compose(self):
        yield Header()
        yield Input()
        yield Footer()

Bare().run()
"""

# What each main screen shows once it is there (its own words, not record data).
SCREENS = [
    ("board", None, b"Open incidents:"),
    ("new incident (F2)", b"\x1bOQ", b"Relation"),
    ("person search (F3)", b"\x1bOR", b"any order"),
    ("intelligence (F4)", b"\x1bOS", b"words in the text"),
    ("triage queue (F5)", b"\x1b[15~", b"over triage target"),
    ("command view (F6)", b"\x1b[17~", b"Backlog, last 24"),
    ("incident list (F7)", b"\x1b[18~", b"oldest first"),
    ("resource board (F8)", b"\x1b[19~", b"on duty"),
    ("crime recording (F9)", b"\x1b[20~", b"Time left"),
    ("crime integrity (F11)", b"\x1b[23~", b"Crime data integrity"),
    ("crime statistics (F12)", b"\x1b[24~", b"Crime statistics"),
]
RSS_GOAL_MIB = 100  # issue 15: after visiting every main screen, on the 1M-person seed
ESCAPE = b"\x1b"
ALT_N = b"\x1bn"
QUIT = b"\x11"


class Terminal:
    """A program on its own 80x24 pty; counts every byte it writes."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.start = time.perf_counter()
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.received = 0
        self.tail = b""

    def pump(self, seconds: float) -> int:
        """Read for `seconds`; the bytes read."""
        got = 0
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                got += len(chunk)
                self.received += len(chunk)
                self.tail = (self.tail + chunk)[-4096:]
        return got

    def wait_for(self, mark: bytes) -> None:
        """Read until `mark` appears in what was written since this call began."""
        seen = b""
        deadline = time.perf_counter() + TIMEOUT
        while mark not in seen:
            if time.perf_counter() > deadline:
                self.close()
                raise SystemExit(f"timed out waiting for {mark!r}; tail {self.tail[-400:]!r}")
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                chunk = os.read(self.master, 65536)
                self.received += len(chunk)
                self.tail = (self.tail + chunk)[-4096:]
                seen = (seen + chunk)[-65536:]

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        try:
            self.send(QUIT)
            self.send(QUIT)  # a second ctrl+q answers "quit with a form open?"
            deadline = time.perf_counter() + 15
            while time.perf_counter() < deadline:  # (an ssh client then logs its count)
                self.pump(0.2)
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    self.pid = 0
                    break
        finally:
            if self.pid:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            os.close(self.master)


def type_keys(terminal: Terminal) -> int:
    """KEYS letters one at a time; the bytes written while they were drawn."""
    got = 0
    for index in range(KEYS):
        terminal.send(b"abcdefghij"[index % 10 : index % 10 + 1])
        got += terminal.pump(KEY_GAP)
    return got + terminal.pump(1.0)


def measure_floor(env: dict[str, str]) -> dict[str, float]:
    terminal = Terminal([sys.executable, "-c", BARE_APP], env)
    terminal.wait_for(BARE_TITLE)
    terminal.pump(1.0)
    startup = terminal.received
    terminal.pump(SETTLE_SECONDS)
    idle = terminal.pump(IDLE_SECONDS) / IDLE_SECONDS
    per_key = type_keys(terminal) / KEYS
    terminal.close()
    return {"startup": startup, "idle": idle, "per_key": per_key}


def measure_ours(
    env: dict[str, str], argv: list[str]
) -> tuple[dict[str, float], dict[str, float], dict[str, tuple[float, float] | None]]:
    terminal = Terminal(argv, env)
    terminal.wait_for(SCREENS[0][2])
    terminal.pump(1.0)
    startup = terminal.received
    idle: dict[str, float] = {}
    memory: dict[str, tuple[float, float] | None] = {}
    for name, key, mark in SCREENS:
        if key is not None:
            terminal.send(key)
            terminal.wait_for(mark)
        terminal.pump(SETTLE_SECONDS)
        idle[name] = terminal.pump(IDLE_SECONDS) / IDLE_SECONDS
        memory[name] = resident_mib(terminal.pid)  # the screen settled, still shown
        if key is not None:
            terminal.send(ESCAPE)  # back to the board (a blank form closes)
            terminal.wait_for(SCREENS[0][2])
    terminal.send(b"\x1bOQ")
    terminal.wait_for(SCREENS[1][2])
    terminal.send(ALT_N)
    terminal.pump(SETTLE_SECONDS)
    per_key = type_keys(terminal) / KEYS
    # Every main screen visited, and typed into.
    memory["typing (F2)"] = resident = resident_mib(terminal.pid)
    terminal.close()
    rss = None if resident is None else resident[1]
    return (
        {"startup": startup, "per_key": per_key, "total": terminal.received, "rss": rss},
        idle,
        memory,
    )


def resident_mib(pid: int) -> tuple[float, float] | None:
    """The process's resident and peak resident memory now (VmRSS, VmHWM), in MiB (None
    for an ssh client: the app is then sshd's child, not ours to read)."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.split()
    if Path(f"/proc/{pid}/exe").resolve().name.startswith("ssh"):
        return None
    return int(fields["VmRSS"][0]) / 1024, int(fields["VmHWM"][0]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a seeded demo database (default: make one)")
    parser.add_argument("--no-ssh", action="store_true", help="leave SSH_CONNECTION unset")
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument(
        "--through-sshd", action="store_true", help="run ours behind a throwaway sshd"
    )
    args = parser.parse_args()
    global IDLE_SECONDS
    IDLE_SECONDS = args.idle_seconds

    scratch = Path(tempfile.mkdtemp(prefix="controlroom-bytes-"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "CONTROLROOM_DATA_DIR": str(scratch),
        "XDG_CONFIG_HOME": str(scratch),
    }
    env.pop("SSH_CLIENT", None)
    env.pop("SSH_CONNECTION", None)
    if not args.no_ssh:
        env["SSH_CONNECTION"] = "127.0.0.1 50000 127.0.0.1 22"
    url = args.database_url or f"sqlite+pysqlite:///{scratch / 'demo.sqlite'}"
    if not args.database_url:
        print("seeding the small demo database…", flush=True)
        subprocess.run(
            [sys.executable, "-m", "controlroom", "demo", "--seed-only", "--database-url", url],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )

    floor = measure_floor(env)
    ours_argv = [sys.executable, "-m", "controlroom", "demo", "--database-url", url]
    server = None
    wire_log = scratch / "ssh-client.log"
    if args.through_sshd:
        # benchmarks/ is not a package: the repository root holds tests/.
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.sshd import ThrowawaySshd

        server = ThrowawaySshd(
            scratch / "sshd",
            user="root",
            match="User root",
            force_command=" ".join(ours_argv),
            env={
                "CONTROLROOM_DATA_DIR": str(scratch),
                "XDG_CONFIG_HOME": str(scratch),
            },
            permit_root=True,
        )
        # -v -E: the client's log (not the terminal) gets its byte count at the end.
        ours_argv = server.client_argv("-v", "-E", str(wire_log))
        env = {k: v for k, v in env.items() if not k.startswith(("SSH_", "CONTROLROOM_"))}
    try:
        ours, idle, memory = measure_ours(env, ours_argv)
    finally:
        if server is not None:
            server.stop()
    how = (
        "through a real sshd (ssh -tt)"
        if args.through_sshd
        else (f"SSH_CONNECTION {'unset' if args.no_ssh else 'set'}")
    )
    print(
        f"80x24 pty, TERM=xterm-256color, {how}; "
        f"idle over {IDLE_SECONDS:.0f} s per screen, {KEYS} keys typed"
    )
    print(f"{'':28}{'controlroom':>14}{'floor':>12}{'goal':>18}")
    startup_ratio = ours["startup"] / floor["startup"]
    print(
        f"{'startup bytes':28}{ours['startup']:>14,.0f}{floor['startup']:>12,.0f}"
        f"{'<= 1.5x floor':>18}  {startup_ratio:.2f}x {'met' if startup_ratio <= 1.5 else 'NOT MET'}"
    )
    key_ratio = ours["per_key"] / floor["per_key"]
    print(
        f"{'bytes per key (narrative)':28}{ours['per_key']:>14,.0f}{floor['per_key']:>12,.0f}"
        f"{'<= 1.1x floor':>18}  {key_ratio:.2f}x {'met' if key_ratio <= 1.1 else 'NOT MET'}"
    )
    print(f"{'idle, bare app (floor)':28}{'':>14}{floor['idle']:>10,.0f}/s")
    for name, rate in idle.items():
        print(
            f"{'idle, ' + name:28}{rate:>12,.0f}/s{'':>12}{'<= 50 B/s':>18}  "
            f"{'met' if rate <= 50 else 'NOT MET'}"
        )
    if ours["rss"] is not None:
        # Which screen costs what: after each has settled (and its idle time), the
        # process's resident memory and its peak so far.
        print(f"{'memory after':28}{'RSS':>14}{'peak so far':>16}")
        for name, figures in memory.items():
            if figures is not None:
                print(f"{'  ' + name:28}{figures[0]:>10,.1f} MiB{figures[1]:>12,.1f} MiB")
        print(
            f"{'peak RSS, every screen':28}{ours['rss']:>10,.1f} MiB{'':>12}"
            f"{f'<= {RSS_GOAL_MIB} MiB':>18}  {'met' if ours['rss'] <= RSS_GOAL_MIB else 'NOT MET'}"
            " (the goal is for the 1M-person seed: --database-url)"
        )
    if args.through_sshd:
        received = re.search(r"Transferred: sent (\d+), received (\d+) bytes", wire_log.read_text())
        if received:
            wire = int(received.group(2))
            print(
                f"{'wire bytes received (all)':28}{wire:>14,}  terminal bytes {ours['total']:,.0f} "
                f"({wire / ours['total']:.2f}x: encryption and the protocol's own traffic)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
