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

UI = (
    "controlroom/screens/",
    "controlroom/widgets/",
    "controlroom/app.py",
    "controlroom/commands.py",
    "controlroom/messages.py",
)
UI_MODULES = (
    "controlroom.screens",
    "controlroom.widgets",
    "controlroom.app",
    "controlroom.commands",
    "controlroom.messages",
    "controlroom.cli",
)


@dataclass(frozen=True)
class Rule:
    """Files under any of `where` may not import anything under `forbidden`, except
    what is under `allowed` (module prefixes, matched on dotted-name boundaries)."""

    where: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()

    def applies_to(self, relative: str) -> bool:
        return any(
            relative == w or (w.endswith("/") and relative.startswith(w)) for w in self.where
        )

    def refuses(self, module: str) -> bool:
        return _under(module, self.forbidden) and not _under(module, self.allowed)


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


RULES = (
    Rule(
        UI,
        ("sqlalchemy", "alembic", "psycopg", "controlroom.data", "controlroom.db"),
        "screens call services and domain only, never the database layer",
    ),
    Rule(
        ("controlroom/domain/",),
        ("controlroom", "sqlalchemy", "alembic", "psycopg", "textual", "rich"),
        "domain is pure: it imports nothing of ours outside controlroom.domain",
        allowed=("controlroom.domain",),
    ),
    Rule(
        ("controlroom/data/", "controlroom/services/", "controlroom/domain/", "db/"),
        ("textual",),
        "only the UI imports textual",
    ),
    Rule(
        ("controlroom/data/",),
        ("controlroom.services", *UI_MODULES),
        "data sits below services and the UI",
    ),
    Rule(("controlroom/services/",), UI_MODULES, "services sit below the UI"),
    # A service reaches the database through its unit of work's repositories: it may
    # catch SQLAlchemy's errors and parse a URL, never build a statement or hold a session.
    Rule(
        ("controlroom/services/",),
        ("sqlalchemy", "psycopg", "alembic"),
        "services build no SQL: queries live in data/ repositories",
        allowed=(
            "sqlalchemy.exc",
            "sqlalchemy.orm.exc",
            "sqlalchemy.engine.make_url",
            "sqlalchemy.engine",
        ),
    ),
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
            found += [
                (node.lineno, f"{origin}.{alias.name}") for alias in node.names if alias.name != "*"
            ]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                getattr(node.func, "attr", None) == "import_module"
                or getattr(node.func, "id", None) in {"import_module", "__import__"}
            )
        ):
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
        names = imports_of(
            path.read_text(encoding="utf-8"),
            _module_name(relative),
            is_package=path.name == "__init__.py",
        )
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
    for expected in (
        "controlroom/domain/safe_text.py",
        "controlroom/data/schema.py",
        "controlroom/services/staff.py",
        "db/env.py",
        "db/versions/0001_initial_schema.py",
    ):
        assert expected in files
    names = [
        name
        for _, name in imports_of(
            (ROOT / "controlroom/data/schema.py").read_text(encoding="utf-8"),
            "controlroom.data.schema",
        )
    ]
    assert "sqlalchemy" in names and "controlroom.domain.roles" in names


PLANTED = {
    "controlroom/screens/incident_entry.py": (
        "def save():\n    from sqlalchemy.orm import Session\n",
        "sqlalchemy.orm",
    ),
    "controlroom/widgets/grade_badge.py": ("from ..data import models\n", "controlroom.data"),
    "controlroom/app.py": ("from controlroom import data\n", "controlroom.data"),
    "controlroom/commands.py": ("import psycopg\n", "psycopg"),
    "controlroom/messages.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import alembic\n",
        "alembic",
    ),
    "controlroom/domain/dash.py": (
        "from controlroom.services import staff\n",
        "controlroom.services",
    ),
    "controlroom/domain/postcode.py": ("import rich.text\n", "rich.text"),
    "controlroom/domain/phonetic.py": ("from .. import config\n", "controlroom.config"),
    "controlroom/services/person_search.py": ("from textual import work\n", "textual"),
    "controlroom/services/triage.py": (
        "from controlroom.screens import triage_queue\n",
        "controlroom.screens",
    ),
    "controlroom/data/search.py": (
        "import importlib\nwidgets = importlib.import_module('textual.widgets')\n",
        "textual.widgets",
    ),
    "controlroom/data/uow.py": (
        "from controlroom.services.audit import record\n",
        "controlroom.services.audit",
    ),
    "controlroom/services/queues.py": ("from sqlalchemy import select\n", "sqlalchemy"),
    "controlroom/services/dash.py": (
        "def f():\n    from sqlalchemy.orm import Session\n",
        "sqlalchemy.orm",
    ),
    "db/versions/0002_planted.py": ("def upgrade():\n    import textual\n", "textual"),
}


def test_the_checker_catches_every_planted_violation(tmp_path):
    for relative, (source, _) in PLANTED.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source, encoding="utf-8")
    violations = layer_violations(tmp_path)
    for relative, (_, name) in PLANTED.items():
        assert any(v.startswith(f"{relative}:") and f" imports {name} " in v for v in violations), (
            f"{relative} importing {name} went unnoticed"
        )


def test_the_checker_allows_what_the_layers_allow(tmp_path):
    allowed = {
        "controlroom/screens/person_search.py": "from textual.screen import Screen\nfrom controlroom.services import staff\n"
        "from controlroom.domain.safe_text import printable\n",
        "controlroom/services/staff.py": "from controlroom.data.models import Staff\nfrom controlroom.domain import roles\n"
        "from sqlalchemy.exc import IntegrityError\n",
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
        (1, "controlroom.data"),
        (1, "controlroom.data.models"),
    ]
    assert imports_of("from . import roles\n", "controlroom.domain", is_package=True) == [
        (1, "controlroom.domain"),
        (1, "controlroom.domain.roles"),
    ]


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
    proc = subprocess.run(
        [sys.executable, "-c", HYGIENE_PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
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
    proc = subprocess.run(
        [sys.executable, "-c", HYGIENE_PROBE, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[module] == []


# --- services hold no session -----------------------------------------------------------


def session_uses(root: Path) -> list[str]:
    """Every `.session` a service module reaches for (an attribute, not a word in text)."""
    found = []
    for path in sorted((root / "controlroom" / "services").glob("**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "session":
                found.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    return found


def test_no_service_holds_a_session():
    uses = session_uses(ROOT)
    assert not uses, "services reach into a session:\n  " + "\n  ".join(uses)


def test_the_session_check_catches_one(tmp_path):
    planted = tmp_path / "controlroom" / "services" / "queues.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(
        '"""uow.session in a docstring is words."""\n'
        "def f(uow):\n    return uow.session.execute(1)\n",
        encoding="utf-8",
    )
    assert session_uses(tmp_path) == ["controlroom/services/queues.py:3"]


# --- no import cycles -------------------------------------------------------------------


def _runtime_imports(source: str, module: str, *, is_package: bool) -> set[str]:
    """What `module` imports when it runs (at the top or inside a function), leaving out
    imports under `if TYPE_CHECKING:`, which only the type checker follows."""
    tree = ast.parse(source)
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only |= {
                n.lineno
                for child in node.body
                for n in ast.walk(child)
                if isinstance(n, ast.Import | ast.ImportFrom)
            }
    return {
        name
        for line, name in imports_of(source, module, is_package=is_package)
        if line not in typing_only
    }


def import_cycles(root: Path) -> list[list[str]]:
    """The cycles among controlroom's modules (each as the modules round it, sorted)."""
    modules: dict[str, Path] = {}
    for path in root.glob("controlroom/**/*.py"):
        modules[_module_name(path.relative_to(root).as_posix())] = path
    graph = {
        name: {
            imported
            for imported in _runtime_imports(
                path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py"
            )
            if imported in modules and imported != name and not name.startswith(imported + ".")
        }
        for name, path in modules.items()
    }
    # Tarjan's strongly connected components: a component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_no_two_modules_import_each_other():
    cycles = import_cycles(ROOT)
    assert not cycles, "import cycles (inside functions too):\n  " + "\n  ".join(
        " <-> ".join(cycle) for cycle in cycles
    )


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    screens = tmp_path / "controlroom" / "screens"
    screens.mkdir(parents=True)
    (screens / "report.py").write_text(
        "def supersede():\n    from controlroom.screens.submit import Submit\n", encoding="utf-8"
    )
    (screens / "submit.py").write_text(
        "def saved():\n    from controlroom.screens import report\n", encoding="utf-8"
    )
    (screens / "board.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from controlroom.screens.report import x\n",
        encoding="utf-8",
    )
    (screens / "view.py").write_text("from controlroom.screens import board\n", encoding="utf-8")
    assert import_cycles(tmp_path) == [["controlroom.screens.report", "controlroom.screens.submit"]]


def test_the_first_frame_loads_no_sqlalchemy():
    """The app and the screens of sign-in and the home board draw before the database is
    opened: services they import must keep the data layer (SQLAlchemy) for their workers.
    A service importing its unit of work's type at run time pulled it in."""
    modules = ["controlroom.app", "controlroom.screens.home_board"]
    proc = subprocess.run(
        [sys.executable, "-c", HYGIENE_PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert "sqlalchemy" not in loaded["controlroom.screens.home_board"], loaded
