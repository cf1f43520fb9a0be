"""One install of this repository for every operator account, shared by the test run.

README ("Installing for every operator") installs Control Room into a virtualenv made
from a Python every account can run, in a directory every account can read, with the
pinned versions of `constraints.txt`. `tests/test_install.py` checks that install and
`tests/test_ssh_sessions.py` runs it as sshd's ForceCommand. Making it costs about a
minute of pip, so it is made once per test run, whichever xdist worker asks first: the
others wait on a file lock and reuse it. The controller removes it when the run ends
(`remove_shared_installs`, called from conftest's `pytest_sessionfinish`).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Build leftovers must not reach the wheel: an in-tree build/ can hold deleted modules.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "*.sqlite",
    "*.sqlite-*",
    "tests",
    "benchmarks",
)

_RECORD = "controlroom-shared-install.json"


def shared_python() -> str:
    """A Python every account on the host can run: the system's own when it is new
    enough, else the one running the tests (then the tests that run the install as
    another account skip: that one may live in a private home)."""
    system = Path("/usr/bin/python3")
    if system.exists():
        version = subprocess.run(
            [str(system), "-c", "import sys; print(sys.version_info >= (3, 11))"],
            capture_output=True,
            text=True,
        )
        if version.stdout.strip() == "True":
            return str(system)
    return sys.executable


def runnable_by_every_account() -> bool:
    return not (shared_python() == sys.executable and sys.executable.startswith("/root"))


def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every worker of this run shares (the parent of the workers' own
    base temp directories under xdist; the base temp directory without it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if base.name.startswith("popen-gw") else base


def _build(work: Path) -> Path:
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # Not under pytest's own tmp directory (0700 to its owner): as /opt/controlroom is.
    shared = Path(tempfile.mkdtemp(prefix="controlroom-opt-"))
    shared.chmod(0o755)
    venv = shared / "venv"
    subprocess.run([shared_python(), "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-input",
            "-c",
            str(ROOT / "constraints.txt"),
            str(source),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    shutil.rmtree(source)  # nothing may be read from the source tree after this
    if pip.returncode != 0:
        shutil.rmtree(shared, ignore_errors=True)
        raise AssertionError(pip.stdout + pip.stderr)
    return venv / "bin"


def shared_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of this run's install, made on first use."""
    run_dir = run_directory(tmp_path_factory)
    record = run_dir / _RECORD
    with open(run_dir / f"{_RECORD}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits for the first's pip
        if record.exists():
            made = Path(json.loads(record.read_text())["bin"])
            if (made / "controlroom").exists():
                return made
        made = _build(Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())))
        record.write_text(json.dumps({"bin": str(made)}))
        return made


def remove_shared_installs(config: pytest.Config) -> None:
    """At the end of the run (controller only): the install lives outside pytest's own
    temporary directories, so nothing else would remove it."""
    if hasattr(config, "workerinput"):
        return
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return
    try:
        record = factory.getbasetemp() / _RECORD
    except (OSError, ValueError):
        return
    if record.exists():
        bin_dir = Path(json.loads(record.read_text())["bin"])
        shutil.rmtree(bin_dir.parent.parent, ignore_errors=True)
        record.unlink(missing_ok=True)
