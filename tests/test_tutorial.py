"""The README's tutorial ("Your first model in ten minutes") works as written: its files, taken from
the README, are written into a scratch folder that is not this repository, and every command shown
runs there with the exit code and the output the README shows (times and rates aside)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TITLE = "## Your first model in ten minutes"
BIN = Path(sys.executable).parent  # the environment's `agree` and `python`


def section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index(TITLE)
    end = readme.find("\n## ", start + len(TITLE))
    return readme[start:end if end != -1 else None]


def fenced(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.M | re.S)]


def tutorial_files() -> dict[str, str]:
    """Every block whose first line is a comment naming a file: that file's whole text."""
    found = {}
    for lang, body in fenced(section()):
        first = body.splitlines()[0] if body else ""
        named = re.fullmatch(r"# ([\w.-]+\.(?:py|toml))", first)
        if lang in ("python", "py", "toml") and named:
            found[named.group(1)] = body
    return found


def tutorial_commands() -> list[tuple[str, list[str]]]:
    """(command, the output lines shown under it) for every `$ ` line of the console blocks."""
    runs = []
    for lang, body in fenced(section()):
        if lang != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                runs.append((line[2:], []))
            elif runs:
                runs[-1][1].append(line)
    return runs


def normal(line: str) -> str:
    """A line with what differs from run to run (times, rates) and spacing evened out."""
    line = re.sub(r"[\d,]+ states/s", "R states/s", line)
    line = re.sub(r"\d+\.\d+ ?s\b", "Ts", line)
    return " ".join(line.split())


def test_the_tutorial_has_its_files_and_commands():
    assert set(tutorial_files()) == {"lock.py", "test_lock.py", "lock.agree.toml"}
    commands = [c.split()[:2] for c, _ in tutorial_commands()]
    assert ["agree", "check"] in commands and ["agree", "fuzz"] in commands
    assert ["agree", "verify"] in commands and ["python", "-m"] in commands


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("tutorial")  # not the repository: nothing of ours on the path
    assert ROOT not in where.parents
    for name, text in tutorial_files().items():
        (where / name).write_text(text)
    return where


@pytest.mark.parametrize("command, shown", tutorial_commands(), ids=[c for c, _ in tutorial_commands()])
def test_each_tutorial_command_prints_what_the_readme_shows(scratch, command, shown):
    words = shlex.split(command)
    words[0] = sys.executable if words[0] == "python" else str(BIN / words[0])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    ran = subprocess.run(words, cwd=scratch, capture_output=True, text=True, timeout=300, env=env)
    expected = 1 if any(line.startswith("verdict: VIOLATED") for line in shown) else 0
    assert ran.returncode == expected, ran.stdout + ran.stderr
    printed = [normal(line) for line in ran.stdout.splitlines()]
    at = 0
    for line in (normal(s) for s in shown if s.strip()):  # every line shown, in the order shown
        assert line in printed[at:], f"README shows {line!r}; agree printed:\n{ran.stdout}"
        at = printed.index(line, at) + 1
