"""The layer rule of DESIGN.md, enforced.

    screens/widgets/app  ->  services  ->  data  ->  domain        (db/ beside data)

A static check reads every import in controlroom/ and db/ with `ast` — module level,
inside functions, under TYPE_CHECKING, relative, and `importlib.import_module("...")`
with a literal name — and fails naming the file, the line and the import. A run-time
check (as in harlequin's test_import_hygiene.py) imports the headless packages in a
fresh interpreter and proves Textual stays out of `sys.modules`, which also catches an
import that arrives sideways through a third-party package.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

UI = ("controlroom/screens/", "controlroom/widgets/", "controlroom/app.py",
      "controlroom/commands.py", "controlroom/messages.py")
UI_MODULES = ("controlroom.screens", "controlroom.widgets", "controlroom.app",
              "controlroom.commands", "controlroom.messages", "controlroom.cli")


@dataclass(frozen=True)
class Rule:
    """Files under any of `where` may not import anything under `forbidden`, except
    what is under `allowed` (module prefixes, matched on dotted-name boundaries)."""

    where: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()

    def applies_to(self, relative: str) -> bool:
        return any(relative == w or (w.endswith("/") and relative.startswith(w))
                   for w in self.where)

    def refuses(self, module: str) -> bool:
        return _under(module, self.forbidden) and not _under(module, self.allowed)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


RULES = (
    Rule(UI, ("sqlalchemy", "alembic", "psycopg", "controlroom.data", "controlroom.db"),
         "screens call services and domain only, never the database layer"),
    Rule(("controlroom/domain/",),
         ("controlroom", "sqlalchemy", "alembic", "psycopg", "textual", "rich"),
         "domain is pure: it imports nothing of ours outside controlroom.domain",
         allowed=("controlroom.domain",)),
    Rule(("controlroom/data/", "controlroom/services/", "controlroom/domain/", "db/"),
         ("textual",), "only the UI imports textual"),
    Rule(("controlroom/data/",), ("controlroom.services", *UI_MODULES),
         "data sits below services and the UI"),
    Rule(("controlroom/services/",), UI_MODULES, "services sit below the UI"),
)


def _module_name(relative: str) -> str:
    parts = relative.removesuffix(".py").split("/")
    if parts[0] == "db":  # shipped as controlroom.db
        parts = ["controlroom", *parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every (line, dotted name) that `source`, the text of `module`, imports."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if origin == "__future__":
                continue
            found.append((node.lineno, origin))
            # `from controlroom import data` imports controlroom.data.
            found += [(node.lineno, f"{origin}.{alias.name}") for alias in node.names
                      if alias.name != "*"]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in {"import_module", "__import__"})):
            found.append((node.lineno, node.args[0].value))
    return found


def layer_violations(root: Path) -> list[str]:
    """One message per import that breaks a rule, for every .py under root/controlroom and root/db."""
    messages = []
    for path in sorted([*root.glob("controlroom/**/*.py"), *root.glob("db/**/*.py")]):
        relative = path.relative_to(root).as_posix()
        rules = [rule for rule in RULES if rule.applies_to(relative)]
        if not rules:
            continue
        names = imports_of(path.read_text(encoding="utf-8"), _module_name(relative),
                           is_package=path.name == "__init__.py")
        for line, name in names:
            for rule in rules:
                if rule.refuses(name):
                    messages.append(f"{relative}:{line} imports {name} ({rule.why})")
    return sorted(set(messages))


def checked_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in [*root.glob("controlroom/**/*.py"), *root.glob("db/**/*.py")]
        if any(rule.applies_to(p.relative_to(root).as_posix()) for rule in RULES)
    )


def test_the_code_keeps_the_layer_rule():
    violations = layer_violations(ROOT)
    assert not violations, "layer rule broken:\n  " + "\n  ".join(violations)


def test_the_checker_reads_the_real_tree():
    # Guards against a glob or a rule path going stale and the check passing on nothing.
    files = checked_files(ROOT)
    for expected in ("controlroom/domain/safe_text.py", "controlroom/data/schema.py",
                     "controlroom/services/staff.py", "db/env.py",
                     "db/versions/0001_initial_schema.py"):
        assert expected in files
    names = [name for _, name in imports_of(
        (ROOT / "controlroom/data/schema.py").read_text(encoding="utf-8"), "controlroom.data.schema")]
    assert "sqlalchemy" in names and "controlroom.domain.roles" in names


PLANTED = {
    "controlroom/screens/incident_entry.py": (
        "def save():\n    from sqlalchemy.orm import Session\n", "sqlalchemy.orm"),
    "controlroom/widgets/grade_badge.py": ("from ..data import models\n", "controlroom.data"),
    "controlroom/app.py": ("from controlroom import data\n", "controlroom.data"),
    "controlroom/commands.py": ("import psycopg\n", "psycopg"),
    "controlroom/messages.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import alembic\n", "alembic"),
    "controlroom/domain/dash.py": ("from controlroom.services import staff\n",
                                   "controlroom.services"),
    "controlroom/domain/postcode.py": ("import rich.text\n", "rich.text"),
    "controlroom/domain/phonetic.py": ("from .. import config\n", "controlroom.config"),
    "controlroom/services/person_search.py": ("from textual import work\n", "textual"),
    "controlroom/services/triage.py": ("from controlroom.screens import triage_queue\n",
                                       "controlroom.screens"),
    "controlroom/data/search.py": (
        "import importlib\nwidgets = importlib.import_module('textual.widgets')\n",
        "textual.widgets"),
    "controlroom/data/uow.py": ("from controlroom.services.audit import record\n",
                                "controlroom.services.audit"),
    "db/versions/0002_planted.py": ("def upgrade():\n    import textual\n", "textual"),
}


def test_the_checker_catches_every_planted_violation(tmp_path):
    for relative, (source, _) in PLANTED.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source, encoding="utf-8")
    violations = layer_violations(tmp_path)
    for relative, (_, name) in PLANTED.items():
        assert any(v.startswith(f"{relative}:") and f" imports {name} " in v
                   for v in violations), f"{relative} importing {name} went unnoticed"


def test_the_checker_allows_what_the_layers_allow(tmp_path):
    allowed = {
        "controlroom/screens/person_search.py":
            "from textual.screen import Screen\nfrom controlroom.services import staff\n"
            "from controlroom.domain.safe_text import printable\n",
        "controlroom/services/staff.py":
            "from controlroom.data.models import Staff\nfrom controlroom.domain import roles\n",
        "controlroom/data/models.py": "from sqlalchemy import String\nfrom ..domain import roles\n",
        "controlroom/domain/dash.py": "from __future__ import annotations\nfrom . import grades\n",
        "db/env.py": "from alembic import context\nfrom controlroom.data.models import Base\n",
    }
    for relative, source in allowed.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source, encoding="utf-8")
    assert layer_violations(tmp_path) == []


def test_relative_imports_resolve_against_the_package():
    assert imports_of("from ..data import models\n", "controlroom.screens.x") == [
        (1, "controlroom.data"), (1, "controlroom.data.models")]
    assert imports_of("from . import roles\n", "controlroom.domain", is_package=True) == [
        (1, "controlroom.domain"), (1, "controlroom.domain.roles")]


# --- run-time import hygiene -----------------------------------------------------------


def _headless_modules() -> list[str]:
    modules = []
    for package in ("domain", "data", "services"):
        for path in sorted((ROOT / "controlroom" / package).glob("*.py")):
            name = f"controlroom.{package}" + ("" if path.stem == "__init__" else f".{path.stem}")
            modules.append(name)
    return [*modules, "controlroom.config", "controlroom.cli"]


HYGIENE_PROBE = textwrap.dedent("""
    import importlib, json, sys
    report = {}
    for name in sys.argv[1:]:
        importlib.import_module(name)
        report[name] = sorted(m for m in ("textual", "sqlalchemy", "alembic") if m in sys.modules)
    print(json.dumps(report))
""")


def test_headless_packages_never_load_textual():
    modules = _headless_modules()
    assert "controlroom.services.staff" in modules and "controlroom.data.uow" in modules
    # Domain modules first: nothing before them may have loaded sqlalchemy.
    proc = subprocess.run([sys.executable, "-c", HYGIENE_PROBE, *modules], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    first_with_textual = next((m for m in modules if "textual" in loaded[m]), None)
    assert first_with_textual is None, f"importing {first_with_textual} loaded textual"
    for module in modules:
        if module.startswith("controlroom.domain"):
            assert loaded[module] == [], f"importing {module} loaded {loaded[module]}"


@pytest.mark.parametrize("module", ["controlroom.cli", "controlroom.config"])
def test_the_command_line_defers_the_heavy_imports(module):
    """`controlroom --version` and argument errors must not pay for SQLAlchemy or Textual."""
    proc = subprocess.run([sys.executable, "-c", HYGIENE_PROBE, module], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[module] == []
