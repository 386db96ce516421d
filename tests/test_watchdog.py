"""A time limit holds whatever the model's code does: the watchdog interrupts model code that runs
past it, and the search reports what it found as `incomplete` (exit 0), never hangs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import INCOMPLETE, VIOLATED, Bounds
from agree.explorer.engines.watchdog import OutOfTime, watchdog
from agree.models.registry import load_model_class
from tests.conftest import FIXTURES, ROOT

STUCK = FIXTURES / "stuck_models.py"
LIMIT = 2.0
HANG = 60  # seconds after which a run counts as hung (subprocess.TimeoutExpired fails the test); how
# close to its limit a run ends is measured by benchmarks/bench_bounds.py, not asserted here


def agree(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from agree.explorer.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=HANG, cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": "0"})


@pytest.mark.parametrize("model", ["Loops", "Slow", "Wide"])
@pytest.mark.parametrize("how", [["check"], ["check", "--strategy", "dfs"], ["check", "--strategy", "random"],
                                 ["check", "--workers", "2"], ["fuzz"], ["fuzz", "--workers", "2"]],
                         ids=["bfs", "dfs", "random", "workers2", "fuzz", "fuzz-workers2"])
def test_a_search_ends_at_its_time_limit_whatever_the_model_does(model, how):
    ran = agree(how[0], f"{STUCK}:{model}", "--time-limit", str(LIMIT), "--json", *how[1:])
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["verdict"] == "incomplete" and report["stopped_by"] == "time-limit", report
    assert "Traceback" not in ran.stderr


def test_a_violation_found_before_the_model_got_stuck_is_kept():
    model = load_model_class(f"{STUCK}:StuckAfterBreaking")()
    result = check(model, bounds=Bounds(time_limit=1.0), keep_going=True)
    assert result.verdict == VIOLATED and result.stopped_by == "time-limit"
    assert result.properties["below_two"].trace is not None and len(result.properties["below_two"].trace) == 2


def test_without_a_time_limit_nothing_is_armed():
    handler = signal.getsignal(signal.SIGALRM)
    with watchdog(None):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) is handler


def test_the_watchdog_interrupts_a_loop_and_is_disarmed_after():
    with pytest.raises(OutOfTime):  # the loop never ends by itself: only the watchdog ends it
        with watchdog(time.monotonic() + 0.1, grace=0):
            while True:
                pass
    with watchdog(time.monotonic() + 0.05, grace=0):
        pass
    time.sleep(0.1)  # the timer was disarmed when the block ended: nothing fires now


def test_a_search_that_stops_by_itself_reports_incomplete_not_an_error():
    model = load_model_class(f"{STUCK}:Loops")()
    result = check(model, bounds=Bounds(time_limit=0.5))
    assert result.verdict == INCOMPLETE and result.stopped_by == "time-limit"
