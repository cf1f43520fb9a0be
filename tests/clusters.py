"""Throwaway PostgreSQL clusters for outage tests: made with initdb on a free loopback
port, stopped, frozen (SIGSTOP) and thawed by the test, removed after.

A pair for failover tests (`StandbyPair`): a primary made with initdb, and a hot
standby of it made with pg_basebackup (`-R`: standby.signal and primary_conninfo
written for it) on a port of its own, streaming synchronously (the primary's
`synchronous_standby_names`), so a commit acknowledged by the primary is on the
standby too; `promote` makes the standby the primary (`pg_ctl promote`).

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
from collections.abc import Callable
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

    def __init__(self, standby_of: ThrowawayCluster | None = None) -> None:
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
        if standby_of is not None:
            self._base_backup(standby_of)
            return
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

    def _base_backup(self, primary: ThrowawayCluster) -> None:
        """A hot standby of `primary`: its base backup, streaming from it (`-R`)."""
        self._run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",  # standby.signal, and primary_conninfo in postgresql.auto.conf
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        # The primary's settings came with the backup; the last line of a setting wins.
        # The primary waits for this standby's name at each commit (synchronous).
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"port = {self.port}\nunix_socket_directories = '{self.root}'\n"
                # Promoted, with no standby of its own yet, it must not wait for one.
                "hot_standby = on\nsynchronous_standby_names = ''\n"
                # Back to a primary that restarted within a second, not the default 5 s:
                # until then a synchronous primary's commits wait for it.
                "wal_retrieve_retry_interval = '200ms'\n"
                f"primary_conninfo = 'host=127.0.0.1 port={primary.port} user=postgres "
                "application_name=standby'\n"
            )

    def make_synchronous(self) -> None:
        """A commit returns only once a standby has it on disk (run before it starts)."""
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("synchronous_standby_names = '*'\nsynchronous_commit = on\n")

    def promote(self) -> None:
        """The standby becomes a primary (`pg_ctl promote`, waiting until it is)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "promote")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def psql(self, database: str, sql: str) -> str:
        """One fixed statement through psql (a test's check, never the app's way in)."""
        command = [
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-Atc",
            sql,
        ]
        done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)
        return done.stdout.strip()

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


def multi_host_url(database: str, *clusters: ThrowawayCluster, attrs: str = "read-write") -> str:
    """The stations' URL for a pair: every host, in order, and libpq's
    target_session_attrs (SQLAlchemy's form of libpq's `host=a,b port=p,q`)."""
    hosts = "&".join(f"host=127.0.0.1:{cluster.port}" for cluster in clusters)
    return f"postgresql+psycopg://postgres@/{database}?{hosts}&target_session_attrs={attrs}"


class StandbyPair:
    """A running primary and a running hot standby of it, replicating synchronously, and
    the stations' one URL for both (`url`: the hosts in the order made, which failover
    does not change). `fail_over` stops the primary and promotes the standby; `rejoin`
    makes the old primary a standby of the new one (what Patroni does with pg_rewind or
    a new base backup), so the pair is whole again. `remove` drops both."""

    def __init__(self, prepare: Callable[[ThrowawayCluster], None] | None = None) -> None:
        """`prepare` runs on the primary before the standby is copied from it (a
        database made and migrated once, not replicated statement by statement)."""
        self.primary = ThrowawayCluster()
        self.standby: ThrowawayCluster | None = None
        self._hosts: list[ThrowawayCluster] = [self.primary]
        try:
            self.primary.start()
            if prepare is not None:
                prepare(self.primary)
            self.standby = ThrowawayCluster(standby_of=self.primary)
            self.standby.start()
            self._hosts.append(self.standby)
            self._synchronous(self.primary)
        except BaseException:
            self.remove()
            raise

    @staticmethod
    def _synchronous(primary: ThrowawayCluster) -> None:
        primary.make_synchronous()
        primary._run("pg_ctl", "-D", str(primary.data), "reload")

    def url(self, database: str) -> str:
        return multi_host_url(database, *self._hosts)

    def fail_over(self, pause: float = 0.0) -> None:
        """The primary gone (an immediate stop: a crash, as its clients see it), and after
        `pause` seconds with only the standby answering, the standby promoted."""
        import time

        self.primary.stop("immediate")
        time.sleep(pause)
        self.promote()

    def promote(self) -> None:
        """The standby promoted (`pg_ctl promote`): it is the primary from now on."""
        assert self.standby is not None
        self.standby.promote()
        self.primary, self.standby = self.standby, self.primary

    def rejoin(self) -> None:
        """The stopped old primary back as a standby of the new one (a new base backup)."""
        assert self.standby is not None
        old = self.standby
        if old.running():
            old.stop("immediate")
        shutil.rmtree(old.data)
        old._base_backup(self.primary)
        old.start()
        self._synchronous(self.primary)

    def streaming(self) -> bool:
        """Whether the standby is streaming from the primary, synchronously."""
        states = self.primary.psql("postgres", "SELECT sync_state FROM pg_stat_replication")
        return "sync" in states.split()

    def whole(self) -> None:
        """Both running, the primary taking writes: after a test that stopped either."""
        assert self.standby is not None
        if not self.primary.running():
            self.primary.start()
        if not self.standby.running():
            self.rejoin()

    def remove(self) -> None:
        for cluster in reversed(self._hosts):
            cluster.remove()
