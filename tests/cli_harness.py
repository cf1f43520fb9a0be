"""Running the `controlroom` command in-process, isolated from the machine's settings."""

from __future__ import annotations

import os
from dataclasses import dataclass

from controlroom import cli


@dataclass
class Result:
    code: int
    out: str
    err: str


def isolate_cli_environment(monkeypatch, tmp_path, *, columns: int) -> None:
    """No settings, colours or SSH session leak in from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("CONTROLROOM_") and name != "CONTROLROOM_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    for name in (
        "FORCE_COLOR",
        "TTY_COMPATIBLE",
        "TTY_INTERACTIVE",
        "SSH_CLIENT",
        "SSH_CONNECTION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONTROLROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("COLUMNS", str(columns))  # rich tables must not wrap the cells under test


def run_cli(capsys, *argv: str) -> Result:
    """`controlroom ARGV` in this process: exit code and what it printed."""
    capsys.readouterr()
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse: --version, usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
