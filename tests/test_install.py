"""A non-editable `pip install` carries everything the program needs at run time.

The repository is copied (without build leftovers) and installed into a new virtualenv,
then the installed `controlroom` command migrates, reports on and seeds databases from a
working directory outside the repository. That proves the Alembic environment, the
migration scripts, the reference CSVs and the synthetic force's word lists ship inside
the wheel, and that no package was left out of pyproject's explicit package list.

Slow (about a minute, most of it pip); run once per CI run, on the SQLite pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from controlroom import __version__
from controlroom.config import sqlite_url
from controlroom.data.schema import head_revision
from tests.shared_install import runnable_by_every_account, shared_install

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("CONTROLROOM_TEST_DATABASE_URL")),
        reason="backend-independent; runs once, on the SQLite pass",
    ),
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ directory of a virtualenv holding a regular install of this repo, made
    as README says for every operator (tests/shared_install.py; one per test run)."""
    return shared_install(tmp_path_factory)


@pytest.fixture
def outside(tmp_path) -> dict[str, str]:
    """Environment for a run from tmp_path: own data dir and config home, no repo on the path."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONTROLROOM_") and k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    return env | {
        "CONTROLROOM_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }


def run(installed: Path, cwd: Path, env: dict[str, str], *argv: str):
    return subprocess.run(
        [str(installed / argv[0]), *argv[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def test_the_installed_package_is_the_one_running(installed, tmp_path, outside):
    proc = run(
        installed,
        tmp_path,
        outside,
        "python",
        "-c",
        "import controlroom, pathlib; print(pathlib.Path(controlroom.__file__).resolve())",
    )
    assert proc.returncode == 0, proc.stderr
    location = Path(proc.stdout.strip())
    assert "site-packages" in location.parts
    assert not location.is_relative_to(ROOT)


SHIPPED = textwrap.dedent("""
    import json
    from importlib import resources
    files = []
    def walk(node, prefix):
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, name + "/")
            elif "__pycache__" not in name:
                files.append(name)
    walk(resources.files("controlroom"), "")
    print(json.dumps(sorted(files)))
""")


def test_every_module_migration_csv_and_stylesheet_ships(installed, tmp_path, outside):
    proc = run(installed, tmp_path, outside, "python", "-c", SHIPPED)
    assert proc.returncode == 0, proc.stderr
    shipped = set(json.loads(proc.stdout))
    wanted = {
        p.relative_to(ROOT / "controlroom").as_posix()
        for p in (ROOT / "controlroom").rglob("*")
        if p.suffix in {".py", ".tcss", ".txt", ".toml"} and "__pycache__" not in p.parts
    }
    assert "services/synthetic/words/town_stems.txt" in wanted  # the synthetic force's words
    wanted |= {
        f"db/{p.relative_to(ROOT / 'db').as_posix()}"
        for p in (ROOT / "db").rglob("*")
        if p.suffix in {".py", ".csv", ".mako"} and "__pycache__" not in p.parts
    }
    assert "db/versions/0001_initial_schema.py" in wanted and "db/incident_type.csv" in wanted
    assert sorted(wanted - shipped) == []


def test_the_installed_command_migrates_and_reports_outside_the_repo(installed, tmp_path, outside):
    version = run(installed, tmp_path, outside, "controlroom", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("controlroom ")

    url = sqlite_url(tmp_path / "x.sqlite")
    upgrade = run(
        installed, tmp_path, outside, "controlroom", "db", "upgrade", "--database-url", url
    )
    assert upgrade.returncode == 0, upgrade.stderr
    current = run(
        installed, tmp_path, outside, "controlroom", "db", "current", "--database-url", url
    )
    assert current.returncode == 0, current.stderr
    assert f"current at revision {head_revision()}" in current.stdout
    assert "0001" in current.stdout or head_revision() != "0001"

    listed = run(
        installed, tmp_path, outside, "controlroom", "staff", "list", "--database-url", url
    )
    assert listed.returncode == 0, listed.stderr
    assert "administrator" in listed.stdout  # the reference data and creator enrolment ran


def test_the_installed_command_seeds_the_demo(installed, tmp_path, outside):
    url = sqlite_url(tmp_path / "demo.sqlite")
    demo = run(
        installed, tmp_path, outside, "controlroom", "demo", "--seed-only", "--database-url", url
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (tmp_path / "demo.sqlite").is_file()


OPERATOR = "crinstalltest"


@pytest.fixture
def operator_account():
    """A real OS account with no home and no login shell, as an operator's is to the
    installed files: made for the test and removed after."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("making an OS account needs root, useradd and runuser")
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OPERATOR],
        capture_output=True,
        text=True,
    )
    assert made.returncode in (0, 9), made.stderr  # 9: left by an interrupted run
    yield OPERATOR
    subprocess.run(["userdel", OPERATOR], capture_output=True)


def test_every_operator_account_can_run_the_install(installed, operator_account, tmp_path):
    """The ForceCommand runs as each operator: a venv whose Python sits in a private home
    failed with 'bad interpreter: Permission denied' for every account but its owner."""
    if not runnable_by_every_account():
        pytest.skip("no Python every account can run on this host")
    proc = subprocess.run(
        [
            shutil.which("runuser") or "runuser",
            "-u",
            operator_account,
            "--",
            str(installed / "controlroom"),
            "--version",
        ],
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert __version__ in proc.stdout


def test_the_install_has_the_pinned_versions(installed, tmp_path, outside):
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    proc = run(installed, tmp_path, outside, "python", "-m", "pip", "freeze")
    assert proc.returncode == 0, proc.stderr
    have = dict(line.split("==", 1) for line in proc.stdout.splitlines() if "==" in line)
    for name in ("textual", "SQLAlchemy", "alembic", "psycopg", "keyring", "Faker", "rich"):
        assert have.get(name) == pins[name], name
