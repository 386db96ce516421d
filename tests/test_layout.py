"""The package layout: one import root, rooms by concern, and imports that run one way.

The repository's folders install as subpackages of `agree` (pyproject's package-dir): models/ is
`agree.models`, explorer/ is `agree.explorer`, properties/ is `agree.properties`. Floors, from the
top: agree.explorer.cli -> agree.explorer.web -> agree.explorer.traces -> agree.explorer.engines;
explorer may import models and properties, models may import properties, properties imports
neither. Inside the engines each room holds one concern.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"explorer": "agree.explorer", "models": "agree.models", "properties": "agree.properties"}
ENGINES = "agree.explorer.engines"
ROOMS = ("strategies", "parallel", "storage", "liveness", "fuzzing", "conformance")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    parts = (FOLDERS[parts[0]],) + parts[1:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(module_name(p) for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")
                 if p.name != "__main__.py")

# who may import whom: a module's floor may import only what is listed for it
ALLOWED = {
    "agree.properties": {"agree.properties"},
    "agree.models": {"agree.models", "agree.properties"},
    ENGINES: {ENGINES, "agree.models", "agree.properties"},
    "agree.explorer.traces": {"agree.explorer.traces", ENGINES, "agree.models", "agree.properties"},
    "agree.explorer.web": {"agree.explorer.web", "agree.explorer.traces", ENGINES, "agree.models", "agree.properties"},
    "agree.explorer.cli": {"agree.explorer.cli", "agree.explorer.web", "agree.explorer.traces", ENGINES,
                           "agree.models", "agree.properties"},
    "agree.explorer": {"agree.explorer", "agree.models", "agree.properties"},
}


def floor(name: str) -> str:
    return max((f for f in ALLOWED if name == f or name.startswith(f + ".")), key=len)


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; agree's modules import by their full name"
            if node.module:
                names.add(node.module)
    return {n for n in names if n.split(".")[0] in ("agree", *FOLDERS)}


def path_of(name: str) -> Path:
    parts = name.split(".")[1:]  # drop "agree"
    base = ROOT.joinpath(*parts)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_the_layout_has_the_explorer_floors_and_the_engine_rooms():
    assert {"agree.explorer.engines.check", "agree.explorer.traces.replay", "agree.explorer.traces.format",
            "agree.explorer.cli.check", "agree.explorer.web.server"} <= set(MODULES)
    for room in ROOMS:
        assert f"{ENGINES}.{room}" in MODULES, room
    loose = sorted(m for m in MODULES if m.startswith(ENGINES + ".") and m.count(".") == 3
                   and m.rsplit(".", 1)[1] not in ROOMS)
    # what every strategy shares, beside the rooms: the entry point, the run, results, the monitor
    assert loose == [f"{ENGINES}.{m}" for m in ("check", "diagnose", "encoding", "interrupts", "monitor", "options",
                                                "path", "progress", "result", "run", "watchdog")]


def test_every_package_folder_is_in_the_wheel():
    """package-dir maps folders to other names, so pyproject lists the packages: a new folder that
    is not listed would be missing from every regular install (tests/test_wheel.py installs it)."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {module_name(p.parent / "__init__.py") for folder in FOLDERS for p in (ROOT / folder).rglob("__init__.py")}
    assert folders | {"agree"} == listed


@pytest.mark.parametrize("name", MODULES)
def test_each_module_imports_only_downwards(name):
    found = imported(path_of(name))
    bare = sorted(n for n in found if n.split(".")[0] in FOLDERS)
    assert not bare, f"{name} imports {bare}: import them under the root, as agree.{bare[0]}"
    wrong = {n for n in found if not any(n == a or n.startswith(a + ".") for a in ALLOWED[floor(name)])}
    assert not wrong, f"{name} (floor {floor(name)}) imports {sorted(wrong)}"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("agree.explorer")])
def test_each_explorer_module_imports_first_in_a_fresh_interpreter(name):
    """Catches import circles: importing a module first must not fail."""
    ran = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("name", MODULES + ["agree"])
def test_no_module_is_long(name):
    path = ROOT / "agree" / "__init__.py" if name == "agree" else path_of(name)
    lines = path.read_text().count("\n")
    assert lines <= 350, f"{name} has {lines} lines: split it by job"


def test_import_agree_stays_light():
    """`import agree` gives the modelling contract without loading the engines, pytest or Hypothesis."""
    ran = subprocess.run([sys.executable, "-c", "import sys, agree; print(sorted(m for m in sys.modules if m in "
                          "('pytest', 'hypothesis', 'agree.explorer.engines.check')))"],
                         cwd=ROOT, capture_output=True, text=True)
    assert ran.returncode == 0 and ran.stdout.strip() == "[]", ran.stdout + ran.stderr
