"""Signals never lose what a run found: a double Ctrl-C (two signals 50 ms apart) still ends with
the report, and a KeyboardInterrupt that model code raises itself is the model's error (exit 2),
not an interruption (130)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.conftest import FIXTURES
from tests.test_hardening_runs import first_progress_line, start


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_double_signal_still_prints_the_report(tmp_path, sig, code):
    proc = start(["check", "raft", "-p", "nodes=3", "-p", "max_term=3", "-p", "max_log=2"], tmp_path)
    seen = first_progress_line(proc)
    proc.send_signal(sig)
    time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, seen + err
    assert "verdict: incomplete" in out and "Traceback" not in err


@pytest.mark.parametrize("command", [["check"], ["fuzz", "--examples", "5"], ["fuzz", "--examples", "5", "--workers", "2"]],
                         ids=["check", "fuzz", "fuzz-workers"])
def test_a_model_that_raises_keyboardinterrupt_is_the_models_error(tmp_path, command):
    proc = start([*command, f"{FIXTURES / 'misbehaving_models.py'}:RaisesInterrupt"], tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (proc.returncode, err)
    assert "KeyboardInterrupt" in err and "in next" in err and "Traceback" not in err
