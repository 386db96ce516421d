"""The built wheel, installed as a user installs it, next to a user's own `models` package.

An editable install resolves `agree.models` by name from the repository and put the repository on
no path a user's project sees, so it hid what a real install does: only a wheel shows whether
anything but `agree` lands at the top of site-packages (where a user's own `models/`, `explorer/`
or `properties/` would clash with it), whether package data made it in, and whether the command
and the pytest plugin work from the installed files alone.

So the module builds the wheel from a copy of the source (a stale build/ in the checkout cannot
leak into it), installs it (not editable) into a fresh virtual environment, and runs pytest,
`agree check` and `agree fuzz` there from a scratch project that has packages of its own named
models, explorer and properties. The fresh environment gets the dependencies, not agree, of the
environment running the tests: a .pth file names a folder of links to that environment's installed
distributions, leaving out agree's own (its editable finder, .pth and metadata), so nothing is
downloaded and pytest sees exactly one agree plugin. Building needs setuptools>=77: the current
environment's when it has one (offline), else pip's isolated build (the index or pip's cache).

Slow-ish (about 20 s), but it runs by default: it is the only test of the install users get.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

# what never goes into the copy the wheel is built from: environments, builds, caches, history
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".hypothesis", ".pytest_cache", "benchmarks", "docs", "tests")
# what the environment running the tests must not lend the fresh one: agree's own installation
NOT_LENT = ("agree", "__editable__", "__pycache__")


@dataclass
class Installed:
    wheel: Path
    python: Path
    bin: Path
    site: Path
    scratch: Path
    env: dict

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command from the scratch project with the fresh environment's executables."""
        return subprocess.run([str(a) for a in args], cwd=self.scratch, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def agree(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(self.bin / "agree", *args)


def build_wheel(out: Path) -> Path:
    source = out / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    needed = int(re.search(r"setuptools>=(\d+)", " ".join(requires)).group(1))
    have = int(importlib.metadata.version("setuptools").split(".")[0])
    isolation = ["--no-build-isolation"] if have >= needed else []  # else pip fetches setuptools>=needed
    ran = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation,
                          "-w", str(out / "wheels"), str(source)], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (wheel,) = (out / "wheels").glob("agree-*.whl")
    return wheel


def lend_dependencies(view: Path) -> None:
    """Link every distribution installed beside agree's dependencies into `view`, except agree."""
    view.mkdir()
    requirements = [re.match(r"[A-Za-z0-9_.-]+", r).group(0) for r in importlib.metadata.requires("agree")
                    if "extra ==" not in r]
    folders = {Path(importlib.metadata.distribution(name).locate_file("")).resolve() for name in requirements}
    for folder in sorted(folders):
        for entry in folder.iterdir():
            if entry.name.startswith(NOT_LENT) or entry.suffix == ".pth" or (view / entry.name).exists():
                continue
            (view / entry.name).symlink_to(entry)


def fresh_environment(where: Path, wheel: Path) -> tuple[Path, Path]:
    """A virtual environment without pip, agree installed from `wheel`; returns (python, site-packages)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where / "env")], check=True, timeout=120)
    python = where / "env" / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    ran = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                          "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    lend_dependencies(where / "lent")
    (Path(purelib) / "lent-dependencies.pth").write_text(f"{where / 'lent'}\n")
    return python, Path(purelib)


# --------------------------------------------------------------------------- the user's project

USER_MODEL = '''
from agree import Model, Param, Step, invariant, reachable
from models import USER_THING          # the user's own package named models, not agree's


class Counter(Model):
    """A counter that climbs to `limit` and may reset."""
    name = "counter"
    params = {"limit": Param(int, USER_THING + 2, "highest value", min=1)}
    actions = ("Up", "Reset")

    def init(self):
        yield 0

    def next(self, s):
        if s < self.limit:
            yield Step("Up", {}, s + 1)
        if s > 0:
            yield Step("Reset", {}, 0)

    @invariant
    def bounded(self, s):
        return s <= self.limit

    @reachable
    def tops(self, s):
        return s == self.limit


@Counter.variant("overshoot", breaks="bounded", says="Up ignores the limit once")
class Overshoot(Counter):
    def next(self, s):
        if s <= self.limit:
            yield Step("Up", {}, s + 1)
'''

USER_TESTS = '''
from models import USER_THING
from explorer import USER_THING as EXPLORER_THING
from properties import USER_THING as PROPERTIES_THING

from agree import assert_holds, assert_violates
from agree.models.twophase import TwoPhase
from my_model import Counter, Overshoot


def test_the_users_packages_are_the_users():
    assert (USER_THING, EXPLORER_THING, PROPERTIES_THING) == (1, 2, 3)


def test_a_builtin_model_holds():
    assert_holds("twophase")


def test_a_builtin_variant_is_caught():
    assert_violates(TwoPhase.with_variant("tm-commits-early")(rms=2), "consistent", length=3)


def test_the_users_model():
    assert_holds(Counter())
    assert_violates(Overshoot(), "bounded", length=4)
'''

INSTALL_CHECKS = '''
import sys

import agree


def test_agree_is_the_installed_wheel():
    assert agree.__file__.startswith(sys.prefix), agree.__file__


def test_pytest_loads_one_agree_plugin(pytestconfig):
    found = [(plugin, dist) for plugin, dist in pytestconfig.pluginmanager.list_plugin_distinfo()
             if dist.metadata["Name"] == "agree"]
    assert len(found) == 1, found
    assert found[0][0].__file__.startswith(sys.prefix), found[0][0].__file__
'''

SUITE = '''
[[check]]
model = "my_model.py:Counter"
variant = "overshoot"
expect = "violated"
property = "bounded"
length = 4
'''


def scratch_project(where: Path) -> Path:
    where.mkdir()
    for number, name in enumerate(("models", "explorer", "properties"), 1):
        (where / name).mkdir()
        (where / name / "__init__.py").write_text(f"USER_THING = {number}\n")
    (where / "my_model.py").write_text(textwrap.dedent(USER_MODEL))
    (where / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    (where / "test_installed.py").write_text(textwrap.dedent(INSTALL_CHECKS))
    (where / "team.agree.toml").write_text(SUITE)
    return where


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    where = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(where)
    python, site = fresh_environment(where, wheel)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PYTEST_", "VIRTUAL_ENV", "HYPOTHESIS"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return Installed(wheel, python, python.parent, site, scratch_project(where / "project"), env)


# --------------------------------------------------------------------------- the tests


def test_the_wheel_holds_only_agree(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"agree", f"agree-{importlib.metadata.version('agree')}.dist-info"}, tops
    assert {"agree/models/paxos/__init__.py", "agree/explorer/cli/__init__.py", "agree/properties/quorums/__init__.py",
            "agree/explorer/traces/assets/page.css", "agree/explorer/web/static/index.html"} <= set(names)


def test_site_packages_gains_nothing_named_like_the_users_packages(installed):
    added = {p.name for p in installed.site.iterdir()} - {"lent-dependencies.pth", "__pycache__"}
    assert {n for n in added if not n.startswith("agree")} == set(), added


def test_pytest_in_the_users_project(installed):
    """The user's tests import their own models package and agree's face; the suite file is collected."""
    ran = installed.run(installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert re.search(r"\b7 passed\b", ran.stdout), ran.stdout
    assert "team.agree.toml" in installed.run(installed.python, "-m", "pytest", "--collect-only", "-q",
                                              "-p", "no:cacheprovider").stdout


def test_agree_check_on_the_users_model_file(installed):
    ran = installed.agree("check", "my_model.py:Counter")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "holds" in ran.stdout and "4 distinct states" in ran.stdout, ran.stdout
    broken = installed.agree("check", "my_model.py:Counter", "--variant", "overshoot")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "bounded" in broken.stdout and "VIOLATED" in broken.stdout, broken.stdout


def test_agree_fuzz(installed):
    ran = installed.agree("fuzz", "my_model.py:Counter", "--variant", "overshoot", "--examples", "50",
                          "--steps", "10", "--quiet")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "bounded" in ran.stdout and "VIOLATED" in ran.stdout, ran.stdout
    clean = installed.agree("fuzz", "twophase", "--examples", "20", "--steps", "20", "--quiet")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "incomplete" in clean.stdout, clean.stdout
