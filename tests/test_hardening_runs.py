"""Regression tests for the hardening issue, runs: bounds are bounds from the command's start,
interrupts keep what was found, and errors in a model's own code say which method, which state
and what to write instead (exit 2, never a traceback, never exit 0)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.diagnose import ModelError
from agree.explorer.engines.result import INCOMPLETE, VIOLATED, Bounds
from agree import Model, Step, invariant, reachable
from agree.models.registry import build_model
from agree.properties.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]


class Counter(Model):
    """An unbounded counter: one state per BFS level, one DFS path that never backtracks."""

    name = "counter"
    actions = ("Up",)

    def init(self):
        yield 0

    def next(self, s):
        yield Step("Up", {}, s + 1)

    @invariant
    def below_three(self, s):
        return s < 3

    @reachable
    def one(self, s):
        return s == 1


# ----- bounds


@pytest.mark.parametrize("strategy", ["bfs", "dfs", "random"])
def test_the_time_limit_holds_on_levels_and_paths_that_never_reach_512_states(strategy):
    # before: BFS looked at the clock only every 512 expansions of a level, DFS only when it
    # backtracked, so this search ran on to the state bound (ten million states)
    bounds = Bounds(max_states=10_000_000, max_depth=10_000_000 if strategy == "random" else None, time_limit=0.3)
    result = check(Counter(), strategy=strategy, only=["one"], bounds=bounds)
    assert result.stopped_by == "time-limit" and result.verdict == INCOMPLETE
    assert result.distinct_states < 10_000_000


def test_the_time_limit_counts_from_the_commands_start():
    long_ago = time.monotonic() - 60  # as if the model's setup had taken a minute
    result = check(build_model("twophase", {"rms": 6}), bounds=Bounds(time_limit=30), started=long_ago)
    assert result.stopped_by == "time-limit" and result.distinct_states < 1000


BIG_PAXOS = {"acceptors": 7, "values": 4, "max_ballot": 5, "max_restarts": 5}


def test_paxos_builds_no_symmetry_tables_without_symmetry():
    model = build_model("paxos", BIG_PAXOS)  # before: 22 GB of tables built here, clock not started
    assert getattr(model, "_symmetries", None) is None
    assert check(build_model("paxos", {}), symmetry=True).distinct_states == 443  # README: 443 orbits


def test_paxos_refuses_symmetry_tables_too_big_for_memory():
    from agree.models.paxos import Paxos

    class Lopsided(Paxos):  # a1 is in every quorum: only renamings of a2..a7 keep the system
        def quorum_system(self):
            return [frozenset({"a1", a}) for a in self.names[1:]]

    with pytest.raises(InputError, match="leave out --symmetry"):  # 7! x 4! renamings of ~1,250 messages
        check(Lopsided(**BIG_PAXOS), symmetry=True)


def test_a_big_paxos_with_a_time_limit_stops_on_time(agree):
    ran = agree("check", "paxos", "-p", "acceptors=7", "-p", "values=4", "-p", "max_ballot=5",
                "-p", "max_restarts=5", "--time-limit", "1", "--json", "--quiet")
    assert ran.code == 0 and json.loads(ran.out)["stopped_by"] == "time-limit"


def test_agree_quorums_time_limit_gives_unknown_and_exit_1(agree):
    # a 30x30 grid ran for minutes before (the issue); here Z3 is stopped at the limit
    ran = agree("quorums", "grid", "--rows", "30", "--cols", "30", "--time-limit", "0.5", "--json")
    assert ran.code == 1 and json.loads(ran.out)["verdict"] == "unknown"
    assert agree("quorums", "majority", "--nodes", "5", "--time-limit", "30").code == 0  # Z3 still works after


# ----- interrupts (real signals, so a real process)


USER_MODEL = textwrap.dedent('''
    from agree import Model, Step, invariant, reachable

    class Slow(Model):
        """Breaks at once, then counts for ever (with --keep-going the search goes on)."""
        name = "slow"
        actions = ("Up",)

        def init(self):
            yield 0

        def next(self, s):
            yield Step("Up", {"by": 1}, s + 1)

        @invariant
        def small(self, s):
            return s < 2

        @invariant
        def never(self, s):
            return s >= 0

        @reachable
        def one(self, s):
            return s == 1
''')


def start(args: list[str], folder: Path) -> subprocess.Popen:
    return subprocess.Popen(AGREE + args, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def first_progress_line(proc: subprocess.Popen, wait: float = 120.0) -> str:
    """Block until the search prints its first progress line (a fixed sleep fails on a loaded machine)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if ready:
            line = proc.stderr.readline()
            if line.startswith("agree: ") and " states, " in line:
                return line
            if not line:
                break
    proc.kill()
    raise AssertionError(f"no progress line within {wait} s")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 1), (signal.SIGTERM, 1)])
def test_a_violation_found_before_ctrl_c_is_reported_and_saved(tmp_path, sig, code):
    (tmp_path / "slow.py").write_text(USER_MODEL)
    proc = start(["check", "slow.py:Slow", "--keep-going", "--save-trace", "cx.json"], tmp_path)
    seen = first_progress_line(proc)  # the search runs (and broke `small` at its second state)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    err = seen + err
    assert proc.returncode == code, err  # the verdict (violated) wins over the interruption
    assert "violated" in out and "counterexample written to cx.json" in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "__pycache__") == ["cx.json", "slow.py"]
    assert json.loads((tmp_path / "cx.json").read_text())["property"] == "small"


def test_ctrl_c_stops_all_of_agree_verify_with_a_summary(tmp_path):
    (tmp_path / "slow.py").write_text(USER_MODEL)
    # the first check looks for a violation of `never` only, which never comes: it runs until stopped
    (tmp_path / "suite.toml").write_text('[[check]]\nmodel = "slow.py:Slow"\nproperty = "never"\n'
                                         'expect = "violated"\n\n[[check]]\nmodel = "twophase"\n')
    proc = start(["verify", "--quiet", "--config", "suite.toml"], tmp_path)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted after 0 of 2 expectations" in err and "twophase" not in out


def test_sigterm_exits_143_and_leaves_no_temporary_file(tmp_path):
    proc = start(["check", "twophase", "-p", "rms=9", "--save-trace", "cx.json"], tmp_path)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


# ----- errors in model code (one mechanism, for this issue and the user-model issue)


BROKEN = {
    "unhashable": ("def next(self, s):\n        yield Step('Up', {}, S([s.n + 1]))",
                   ["next(state)", "on state {\"n\":0}", "must be hashable", "field 'n' holds a list"]),
    "property raises": ("@invariant\n    def bad(self, s):\n        return (1, 2)[s.n + 5]",
                        ["invariant bad", "IndexError", "on state {\"n\":0}", "line"]),
    "property returns None": ("@invariant\n    def bad(self, s):\n        s.n < 3",
                              ["property bad (m.py line 25) returned None", "on state {\"n\":0}",
                               "is a `return` missing"]),
    "init returns": ("def init(self):\n        return S(0)", ["init() returned one state", "yield"]),
    "next yields a state": ("def next(self, s):\n        yield S(s.n + 1)",
                            ["must yield steps", "it yielded S(n=1)"]),
    "sys.exit in next": ("def next(self, s):\n        import sys; sys.exit(0)", ["sys.exit(0)", "in next (m.py line"]),
    "setup raises": ("def setup(self):\n        raise KeyError('quorum')", ["setup", "KeyError"]),
    "view raises": ("def view(self, s):\n        raise ValueError('no view')", ["view", "no view"]),
    "args not a dict": ("def next(self, s):\n        yield ('Up', ('by', 1), S(s.n + 1))", ["args", "a dict"]),
}
TEMPLATE = textwrap.dedent('''
    from typing import NamedTuple
    from agree import Model, Step, invariant, reachable

    class S(NamedTuple):
        n: int

    class Base(Model):
        name = "base"
        actions = ("Up",)
        def init(self):
            yield S(0)
        def next(self, s):
            if s.n < 3:
                yield Step("Up", {}, S(s.n + 1))
        @invariant
        def small(self, s):
            return s.n < 2
        @reachable
        def one(self, s):
            return s.n == 1

    class Broken(Base):
        name = "broken"
        OVERRIDE
''')


@pytest.mark.parametrize("mistake", sorted(BROKEN))
def test_a_mistake_in_model_code_is_one_line_naming_method_and_state(agree, tmp_path, mistake):
    override, words = BROKEN[mistake]
    (tmp_path / "m.py").write_text(TEMPLATE.replace("OVERRIDE", override))
    ran = agree("check", f"{tmp_path / 'm.py'}:Broken")
    assert ran.code == 2, (ran.code, ran.out, ran.err)
    line = ran.err.strip().splitlines()
    assert len(line) == 1 and line[0].startswith("agree: error: ") and "Traceback" not in ran.err, ran.err
    for word in words:
        assert word in line[0], line[0]


def test_an_error_while_importing_a_users_module_is_one_line(agree, tmp_path, monkeypatch):
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("")
    (tmp_path / "brokenpkg" / "models.py").write_text("x = 1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ran = agree("check", "brokenpkg.models:Mine")
    assert ran.code == 2 and "ZeroDivisionError" in ran.err and "models.py line 1" in ran.err, ran.err


def test_a_violation_that_stops_bfs_early_does_not_warn_about_actions_never_fired():
    result = check(build_model("twophase", {"rms": 2}, "tm-commits-early"), only=["consistent"])
    assert result.verdict == VIOLATED and not any("never fired" in w for w in result.warnings)


def test_model_errors_raised_by_the_engines_are_model_errors():
    class Unhashable(Counter):
        def next(self, s):
            yield Step("Up", {}, [s])
    with pytest.raises(ModelError, match="must be hashable"):
        check(Unhashable())


def test_ctrl_c_stops_agree_quorums_at_once(tmp_path):
    # before: Z3 held the signal for 30-50 s and the run ended in a traceback or "found no quorum"
    proc = start(["quorums", "grid", "--rows", "30", "--cols", "30"], tmp_path)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and err.strip() == "agree: interrupted", err


# ----- the documented exit codes 2 and 3, with and without --debug


def test_debug_adds_the_traceback_and_keeps_exit_2(agree):
    plain, debug = agree("check", "twophase", "-p", "rms=x"), agree("--debug", "check", "twophase", "-p", "rms=x")
    assert plain.code == debug.code == 2
    assert "Traceback" not in plain.err and "Traceback (most recent call last)" in debug.err
    assert debug.err.strip().splitlines()[-1] == plain.err.strip()


def test_a_bug_in_agree_exits_3_and_saves_its_traceback(agree, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug planted by the test")
    monkeypatch.setattr("agree.explorer.cli.check.render_result", broken)
    ran = agree("check", "twophase")
    assert ran.code == 3 and "Traceback" not in ran.err
    line = ran.err.strip().splitlines()[-1]
    assert line.startswith("agree: internal error: RuntimeError: a bug planted by the test")
    saved = Path(line.split("the traceback is in ")[1].split(";")[0])
    assert "a bug planted by the test" in saved.read_text() and "Traceback" in saved.read_text()
    saved.unlink()


SIGNAL_DURING_SAVE = '''
import os, signal, sys
import agree.explorer.cli.check as command
original = command.write_trace
def write_trace(trace, path):
    os.kill(os.getpid(), signal.SIG{name})  # the signal lands while the counterexample is being written
    original(trace, path)
command.write_trace = write_trace
from agree.explorer.cli import main
sys.argv = ["agree"] + sys.argv[1:]
main()
'''


@pytest.mark.parametrize("name, code", [("INT", 130), ("TERM", 143)])
def test_a_signal_while_the_counterexample_is_saved_waits_until_it_is_written(tmp_path, name, code):
    # before: the signal interrupted the save, the trace was lost and only "agree: interrupted" printed
    ran = subprocess.run([sys.executable, "-c", SIGNAL_DURING_SAVE.replace("{name}", name), "check", "twophase",
                          "--variant", "tm-commits-early", "-p", "rms=2", "--save-trace", "cx.json"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert ran.returncode == code, ran.stderr
    assert "consistent" in ran.stdout and "violated" in ran.stdout  # the report was printed
    assert json.loads((tmp_path / "cx.json").read_text())["length"] == 3  # and the trace written whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cx.json"]
