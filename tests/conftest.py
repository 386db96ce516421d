"""Shared helpers: run the CLI in-process and look at what it printed."""

from __future__ import annotations

import os

from pathlib import Path

import pytest
from click.testing import CliRunner

from agree.explorer.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TRACES = ROOT.parent / "shared" / "traces"  # real systems' logs, beside the checkout (not in it)


def real_trace(name: str) -> Path:
    """A real trace from ../shared/traces: skipped with the reason where the folder is absent,
    failed instead when AGREE_REQUIRE_TRACES=1 (CI)."""
    path = TRACES / name
    if not path.is_file():
        if os.environ.get("AGREE_REQUIRE_TRACES") == "1":
            pytest.fail(f"{path} is missing and AGREE_REQUIRE_TRACES=1")
        pytest.skip(f"{path} is absent (the shared traces folder beside the checkout)")
    return path


def reachable_states(model) -> set:
    """Every reachable state of a model, by a plain closure over init() and next(): the tests'
    own enumeration, independent of the engines it checks."""
    seen = set(model.init())
    todo = list(seen)
    while todo:
        for _, _, succ in model.next(todo.pop()):
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return seen


# a suite with one expectation that is met and one that is not (a broken variant expected to hold)
ONE_MET_ONE_NOT = """[[check]]
model = "twophase"
params = { rms = 2 }
expect = "holds"

[[check]]
model = "twophase"
variant = "tm-commits-early"
params = { rms = 2 }
expect = "holds"
"""


class Ran:
    def __init__(self, result):
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr
        self.exception = result.exception


@pytest.fixture
def agree():
    """`agree(*args)` runs the command line and returns exit code, stdout and stderr."""
    runner = CliRunner()

    def run(*args: str) -> Ran:
        return Ran(runner.invoke(cli, [str(a) for a in args], catch_exceptions=True))

    return run
