"""Verdicts and exit codes that cannot lie: an unchecked property never lets a verdict be `holds`,
a crash of agree never looks like a verdict, and signals stop a run cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agree.explorer.engines.result import HOLDS, INCOMPLETE, NOT_CHECKED, CheckResult, PropertyResult
from tests.conftest import ROOT

NEVER_DONE = """
from agree import Model, eventually, invariant, reachable


class NeverDone(Model):
    '''A counter that stops at 2 and never reaches 3: `done` is false on every path.'''
    name = "never-done"
    actions = ("Inc",)

    def init(self):
        yield 0

    def next(self, s):
        if s < 2:
            yield ("Inc", {}, s + 1)

    @invariant
    def small(self, s):
        return s <= 2

    @reachable
    def two(self, s):
        return s == 2

    @eventually
    def done(self, s):
        return s == 3
"""


@pytest.fixture
def never_done(tmp_path):
    path = tmp_path / "never_done.py"
    path.write_text(NEVER_DONE)
    return f"{path}:NeverDone"


def test_a_result_with_an_unchecked_property_is_incomplete_even_when_exhausted():
    props = {"safe": PropertyResult("safe", "invariant", HOLDS),
             "live": PropertyResult("live", "eventually", NOT_CHECKED)}
    result = CheckResult(model="m", params={}, variant=None, strategy="bfs", exhausted=True, stopped_by=None,
                         distinct_states=3, generated=3, depth=3, seconds=0.0, symmetry=False, properties=props,
                         coverage={})
    assert result.verdict == INCOMPLETE and result.unchecked == ["live"]
    assert "live" in result.why_incomplete()


def test_an_unchecked_eventually_is_never_reported_as_holding(agree, never_done):
    ran = agree("check", never_done, "--strategy", "dfs", "--json")  # DFS never judges liveness
    data = json.loads(ran.out)
    assert data["exhausted"] is True and data["properties"]["done"] == "not-checked"
    assert data["verdict"] == "incomplete" and ran.code == 0
    required = agree("check", never_done, "--strategy", "dfs", "--require-exhausted")
    assert required.code == 1 and "verdict: incomplete" in required.out and "done" in required.out


def test_verify_does_not_count_an_unchecked_property_as_holding(agree, never_done, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(f'[[check]]\nmodel = "{never_done}"\nstrategy = "dfs"\nexpect = "holds"\n')
    ran = agree("verify", "--config", suite, "--quiet")
    assert ran.code == 1 and "NOT MET" in ran.out and "0 of 1 expectations met" in ran.out


def test_a_bug_in_agree_exits_3_with_the_traceback_saved(agree, monkeypatch):
    import agree.explorer.cli.check as command

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug planted by the test")

    monkeypatch.setattr(command, "render_result", broken)
    ran = agree("check", "tcommit")
    assert ran.code == 3
    line = ran.err.strip()
    assert line.startswith("agree: internal error: ZeroDivisionError: a bug planted by the test")
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    saved = line.split("the traceback is in ")[1].split(";")[0]
    try:
        assert "ZeroDivisionError" in open(saved).read()
    finally:
        os.remove(saved)


def test_debug_adds_the_traceback_but_keeps_the_exit_code(agree, monkeypatch):
    bad = agree("--debug", "check", "nosuchmodel")
    assert bad.code == 2 and "Traceback" in bad.err and "unknown model 'nosuchmodel'" in bad.err
    assert agree("--debug", "check", "tcommit", "--quiet").code == 0
    violated = agree("--debug", "check", "twophase", "-p", "rms=2", "--variant", "tm-commits-early", "--quiet")
    assert violated.code == 1 and "VIOLATED: consistent" in violated.out


def _started_search(args, ignore_sigint=False):
    """A long `agree check` in its own process, once its first progress line is out. With
    `ignore_sigint` it starts as a background job of a non-interactive shell does: SIGINT ignored."""
    def preexec():
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-m", "explorer", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, preexec_fn=preexec)
    first = proc.stderr.readline()
    assert first.startswith("agree: ") and "states" in first, first
    return proc


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_background_search_with_its_summary(sig, code):
    proc = _started_search(["check", "twophase", "-p", "rms=10", "--json"], ignore_sigint=True)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    data = json.loads(out)
    assert data["verdict"] == "incomplete" and data["stopped_by"] == "interrupted"
    assert "Traceback" not in err


def test_plain_pytest_collects_the_suite():
    """`pytest` (the script) and `python3 -m pytest` both find every test module."""
    script = Path(sys.executable).parent / "pytest"  # its sys.path starts at its own folder, not here
    command = [str(script)] if script.exists() else [sys.executable, "-I", "-m", "pytest"]
    ran = subprocess.run([*command, "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout[-2000:]
    assert "ERROR" not in ran.stdout and " error" not in ran.stdout.splitlines()[-1]
    assert "tests/test_cli.py::" in ran.stdout and "tests/test_layout.py::" in ran.stdout


def test_an_old_python_gets_one_line():
    pretend = "import sys; sys.version_info = (3, 10, 12, 'final', 0); import agree.explorer.cli"
    ran = subprocess.run([sys.executable, "-c", pretend], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2
    assert ran.stderr.startswith("agree: error: agree needs Python 3.11 or newer") and len(ran.stderr.splitlines()) == 1


def test_no_test_is_deselected_by_default():
    """Every test runs in CI: no marker filter in pytest's defaults, no test marked to be skipped."""
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "-m" not in options.get("addopts", "").split()
    marked = [p.name for p in (ROOT / "tests").glob("test_*.py") if "mark." + "slow" in p.read_text()]
    assert not marked


def test_no_test_asserts_on_wall_time():
    """Speed is measured in benchmarks/, never asserted: a busy CI machine must not fail a test."""
    timing = re.compile(r"assert[^\n]*(\.seconds\s*[<>]|perf_counter\(\)|time\.time\(\)|monotonic\(\))")
    offenders = [p.name for p in (ROOT / "tests").glob("test_*.py") if timing.search(p.read_text())]
    assert not offenders
