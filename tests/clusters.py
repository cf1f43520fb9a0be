"""Throwaway PostgreSQL clusters for outage tests: made with initdb on a free loopback
port, stopped, frozen (SIGSTOP) and thawed by the test, removed after.

Never the machine's own cluster: each is a new data directory under the system's temp
directory, listening only on 127.0.0.1 at a port found free (55433 and up). As root
(initdb refuses to run as root) the server runs as the `postgres` account.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

FIRST_PORT = 55433


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory holding initdb, or None."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable_reason() -> str | None:
    """Why no throwaway cluster can be made here (None: one can)."""
    if postgres_bin() is None:
        return "initdb is not installed (PostgreSQL server binaries)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres account to run initdb as"
    return None


def _free_port() -> int:
    # Each test process starts looking at a port of its own: two xdist workers making a
    # cluster at once would otherwise both find the same one free.
    offset = os.getpid() % 150
    for port in [
        *range(FIRST_PORT + offset, FIRST_PORT + 200),
        *range(FIRST_PORT, FIRST_PORT + offset),
    ]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port for a throwaway cluster")


class ThrowawayCluster:
    """One PostgreSQL server of the test's own: `start`, `stop`, `freeze`, `thaw`, `remove`."""

    def __init__(self) -> None:
        bindir = postgres_bin()
        assert bindir is not None, unavailable_reason()
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="controlroom-cluster-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        settings = (
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.root}'\nfsync = off\n"
            "synchronous_commit = off\nfull_page_writes = off\nshared_buffers = 16MB\n"
            "max_connections = 40\n"
        )
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(settings)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        for attempt in range(3):
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-w",
                    "-t",
                    "30",
                    "-l",
                    str(self.root / "log"),
                    "start",
                )
                return
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
                # Most likely the port was taken meanwhile: another one (the last
                # `port` line of the file wins).
                self.port = _free_port()
                with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
                    conf.write(f"port = {self.port}\n")

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def ensure_running(self) -> None:
        if not self.running():
            self.start()

    def stop(self, mode: str = "fast") -> None:
        self.thaw()
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def _pids(self) -> list[int]:
        """The postmaster and every process it started."""
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        pids = [postmaster]
        for stat in glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                pids.append(int(stat.split("/")[2]))
        return pids

    def freeze(self) -> None:
        """Every server process stopped (SIGSTOP): a hung host, as its clients see it."""
        for pid in self._pids():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def remove(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
