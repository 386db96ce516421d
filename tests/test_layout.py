"""The package layout: every module imports on its own, and imports run one way.

Floors, from the top: explorer.cli -> explorer.web -> explorer.traces -> explorer.engines; explorer may import
models and properties, models may import properties, properties imports neither.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("explorer", "models", "properties")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(module_name(p) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                 if p.name != "__main__.py")

# who may import whom: a module's floor may import only what is listed for it
ALLOWED = {
    "properties": {"properties"},
    "models": {"models", "properties"},
    "explorer.engines": {"explorer.engines", "models", "properties"},
    "explorer.traces": {"explorer.traces", "explorer.engines", "models", "properties"},
    "explorer.web": {"explorer.web", "explorer.traces", "explorer.engines", "models", "properties"},
    "explorer.cli": {"explorer.cli", "explorer.web", "explorer.traces", "explorer.engines", "models", "properties"},
    "explorer": {"explorer", "models", "properties"},
}


def floor(name: str) -> str:
    return max((f for f in ALLOWED if name == f or name.startswith(f + ".")), key=len)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] in PACKAGES}


def path_of(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_the_layout_has_the_three_explorer_floors():
    assert {"explorer.engines.bfs", "explorer.traces.replay", "explorer.cli.check"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_only_downwards(name):
    wrong = {n for n in imported(path_of(name)) if not any(n == a or n.startswith(a + ".") for a in ALLOWED[floor(name)])}
    assert not wrong, f"{name} (floor {floor(name)}) imports {sorted(wrong)}"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("explorer")])
def test_each_explorer_module_imports_first_in_a_fresh_interpreter(name):
    """Catches import circles: importing a module first must not fail."""
    ran = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("explorer")])
def test_no_explorer_module_is_long(name):
    lines = path_of(name).read_text().count("\n")
    assert lines <= 350, f"{name} has {lines} lines: split it by job"
