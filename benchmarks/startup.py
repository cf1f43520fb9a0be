"""Cold start to first frame: `controlroom demo` on the seeded demo database against a
bare Textual app (Header, Input, DataTable, Footer), measured in the same run.

Each start is a fresh interpreter in a real pseudo-terminal (80x24, TERM=xterm-256color),
as for an operator logging in over SSH: nothing in either app is instrumented. The clock
runs from just before the fork to the moment the first frame's text arrives on the
terminal ("CONTROL ROOM" on the sign-in screen; the bare app's title in its header).
Control Room draws that first frame before it opens the database; its run then goes on
until the home board shows real counts ("Open incidents:"), which is printed too. Then
ctrl+q quits and wait4() gives each child's peak RSS — for Control Room that peak
includes SQLAlchemy, the database and the board, not just the first frame. Runs
alternate between the two apps so drift in the machine's load hits both alike.

    .venv/bin/python benchmarks/startup.py [--runs 9] [--database-url URL]

Targets (issue 2): first frame ≤ 1.3× the bare app, peak RSS ≤ 1.6×. Issue 15: peak RSS
≤ 1.15× a second floor, the bare app with SQLAlchemy's ORM and one query on the same
database (what Textual + SQLAlchemy cost before Control Room adds anything).
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# benchmarks/queue.py (so named by issue 5) would hide the standard library's `queue` from
# Textual and psycopg while this script's own directory is first on sys.path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import tempfile
import termios
import time

BARE_TITLE = b"BAREAPPFRAME"
BARE_APP = f"""
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Input

class Bare(App):
    TITLE = {BARE_TITLE.decode()!r}

    def compose(self):
        yield Header()
        yield Input()
        yield DataTable()
        yield Footer()

Bare().run()
"""

# The second floor (issue 15): the same bare app with the data stack Control Room must
# carry — SQLAlchemy's ORM imported and one query on the demo database — so the RSS ratio
# says what Control Room adds beyond Textual + SQLAlchemy.
STACK_TITLE = b"STACKAPPFRAME"
STACK_APP = f"""
import sys
from sqlalchemy import create_engine, func, select, table
import sqlalchemy.orm  # noqa: F401
from textual.app import App
from textual.widgets import DataTable, Footer, Header, Input

engine = create_engine(sys.argv[1])
with engine.connect() as connection:
    connection.execute(select(func.count()).select_from(table("sqlite_master"))).scalar()

class Stack(App):
    TITLE = {STACK_TITLE.decode()!r}

    def compose(self):
        yield Header()
        yield Input()
        yield DataTable()
        yield Footer()

Stack().run()
"""

FIRST_FRAME = b"CONTROL ROOM"
BOARD_READY = b"Open incidents:"
QUIT = b"\x11"  # ctrl+q
TIMEOUT = 60.0


def run_in_terminal(argv: list[str], marks: dict[str, bytes], env: dict[str, str]):
    """Run argv on a new 80x24 pty; seconds from fork to each mark's first appearance,
    and the child's peak RSS in KiB. Quits with ctrl+q once every mark has appeared."""
    start = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:  # the child: become the program
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    seen: dict[str, float] = {}
    buffer = b""
    quit_sent = False
    deadline = start + TIMEOUT
    while True:
        if time.perf_counter() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise SystemExit(f"timed out; saw {sorted(seen)}; tail {buffer[-400:]!r}")
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            now = time.perf_counter()
            buffer += chunk
            for name, mark in marks.items():
                if name not in seen and mark in buffer:
                    seen[name] = now - start
        if len(seen) == len(marks) and not quit_sent:
            os.write(master, QUIT)
            quit_sent = True
    _, status, usage = os.wait4(pid, 0)
    os.close(master)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or len(seen) != len(marks):
        raise SystemExit(f"{argv} exited {code}, saw {sorted(seen)}; tail {buffer[-600:]!r}")
    return seen, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--database-url", help="a seeded demo database (default: make one)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="controlroom-startup-"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "CONTROLROOM_DATA_DIR": str(scratch),
        "XDG_CONFIG_HOME": str(scratch),
    }
    env.pop("SSH_CLIENT", None)
    env.pop("SSH_CONNECTION", None)
    url = args.database_url or f"sqlite+pysqlite:///{scratch / 'demo.sqlite'}"
    if not args.database_url:
        print("seeding the small demo database…", flush=True)
        subprocess.run(
            [sys.executable, "-m", "controlroom", "demo", "--seed-only", "--database-url", url],
            check=True,
            stdout=subprocess.DEVNULL,
            env=env,
        )

    bare = ([sys.executable, "-c", BARE_APP], {"first_frame": BARE_TITLE})
    stack = ([sys.executable, "-c", STACK_APP, url], {"first_frame": STACK_TITLE})
    ours = (
        [sys.executable, "-m", "controlroom", "demo", "--database-url", url],
        {"first_frame": FIRST_FRAME, "board_ready": BOARD_READY},
    )
    # One warm-up each, so both read their .pyc files from the page cache, as in service.
    run_in_terminal(*bare, env)
    run_in_terminal(*stack, env)
    run_in_terminal(*ours, env)
    bare_first, bare_rss, our_first, our_ready, our_rss = [], [], [], [], []
    stack_rss: list[int] = []
    for _ in range(args.runs):
        seen, rss = run_in_terminal(*bare, env)
        bare_first.append(seen["first_frame"])
        bare_rss.append(rss)
        _, rss = run_in_terminal(*stack, env)
        stack_rss.append(rss)
        seen, rss = run_in_terminal(*ours, env)
        our_first.append(seen["first_frame"])
        our_ready.append(seen["board_ready"])
        our_rss.append(rss)

    bare_t, our_t = statistics.median(bare_first), statistics.median(our_first)
    bare_m, our_m = max(bare_rss), max(our_rss)
    time_ratio, rss_ratio = our_t / bare_t, our_m / bare_m
    print(f"runs each: {args.runs} in an 80x24 pty (median times, largest peak RSS)")
    print(
        f"bare Textual app (floor):  first frame {bare_t * 1000:5.0f} ms   "
        f"peak RSS {bare_m / 1024:5.1f} MiB"
    )
    print(
        f"controlroom demo:          first frame {our_t * 1000:5.0f} ms   "
        f"peak RSS {our_m / 1024:5.1f} MiB"
    )
    print(f"  home board with real counts at {statistics.median(our_ready) * 1000:5.0f} ms")
    # Context for the RSS figure: what the mandated data stack costs on its own.
    orm = subprocess.Popen([sys.executable, "-c", "import sqlalchemy.orm"])
    _, _, orm_usage = os.wait4(orm.pid, 0)
    nothing = subprocess.Popen([sys.executable, "-c", "pass"])
    _, _, bare_python = os.wait4(nothing.pid, 0)
    print(
        f"  for scale: python alone {bare_python.ru_maxrss / 1024:5.1f} MiB, "
        f"python + import sqlalchemy.orm {orm_usage.ru_maxrss / 1024:5.1f} MiB"
    )
    print(
        f"first-frame ratio: {time_ratio:.2f}x (target <= 1.30x) "
        f"{'met' if time_ratio <= 1.3 else 'NOT MET'}"
    )
    print(
        f"peak RSS ratio:    {rss_ratio:.2f}x (target <= 1.60x) "
        f"{'met' if rss_ratio <= 1.6 else 'NOT MET'}"
    )
    stack_m = max(stack_rss)
    stack_ratio = our_m / stack_m
    print(
        f"Textual + SQLAlchemy app (floor 2): peak RSS {stack_m / 1024:5.1f} MiB; "
        f"ratio {stack_ratio:.2f}x (target <= 1.15x, issue 15) "
        f"{'met' if stack_ratio <= 1.15 else 'NOT MET'}"
    )
    # The same runs in detail: each run's peak, and the ratio of the medians.
    for name, peaks in (("bare", bare_rss), ("floor 2", stack_rss), ("controlroom", our_rss)):
        listed = " ".join(f"{peak / 1024:.1f}" for peak in peaks)
        print(
            f"  peak RSS per run, {name}: {listed} MiB (median {statistics.median(peaks) / 1024:.2f})"
        )
    print(
        "  ratio of the medians to floor 2: "
        f"{statistics.median(our_rss) / statistics.median(stack_rss):.3f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
