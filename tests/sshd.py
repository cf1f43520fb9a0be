"""A throwaway sshd on a loopback port, as README's "Running over SSH" sets one up.

Its own config, host key and client key live in a directory the caller gives (one every
account can reach); it listens on 127.0.0.1 only, allows only the accounts named, and
runs `force_command` for them through a `Match` block with `SetEnv`, as README's
`Match Group controlroom` block does. Used by `tests/test_ssh_sessions.py` and by
`benchmarks/terminal_bytes.py --through-sshd`. Needs root and `/usr/sbin/sshd`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawaySshd:
    def __init__(
        self,
        directory: Path,
        *,
        user: str,
        match: str,
        force_command: str,
        env: dict[str, str],
        permit_root: bool = False,
    ) -> None:
        self.directory = directory
        self.user = user
        directory.mkdir(exist_ok=True)
        for key in ("host_key", "client_key"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / key)],
                check=True,
                capture_output=True,
            )
        keys = directory / "authorized_keys"
        shutil.copy(directory / "client_key.pub", keys)
        keys.chmod(0o644)
        (directory / "client_key").chmod(0o600)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation dir
        self.port = free_port()
        set_env = " ".join(f"{name}={value}" for name, value in env.items())
        self.config = directory / "sshd_config"
        self.config.write_text(
            f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {directory / "host_key"}
PidFile {directory / "sshd.pid"}
AuthorizedKeysFile {keys}
StrictModes no
UsePAM no
PermitRootLogin {"prohibit-password" if permit_root else "no"}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers {user}
# README's block: a link that dies without a goodbye is noticed within 45 s.
ClientAliveInterval 15
ClientAliveCountMax 3

Match {match}
    ForceCommand {force_command}
    SetEnv {set_env}
    PermitTTY yes
    AllowTcpForwarding no
    X11Forwarding no
    PermitTunnel no
    AllowAgentForwarding no
"""
        )
        self.log = directory / "sshd.log"
        checked = subprocess.run([SSHD, "-t", "-f", str(self.config)], capture_output=True)
        if checked.returncode != 0:
            raise RuntimeError(checked.stderr.decode(errors="replace"))
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)], stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        "sshd did not listen: " + self.log.read_text()[-1000:]
                    ) from None
                time.sleep(0.1)

    def client_argv(self, *options: str) -> list[str]:
        """The `ssh` command of a thin client: a terminal, this server's key taken on
        trust (a throwaway host key), nothing from the caller's own ssh configuration."""
        return [
            "ssh",
            "-tt",
            "-F",
            "/dev/null",
            "-i",
            str(self.directory / "client_key"),
            "-p",
            str(self.port),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            *options,
            f"{self.user}@127.0.0.1",
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
