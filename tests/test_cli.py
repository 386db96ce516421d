"""The command line: exit codes, JSON, user models, and one clear line for every bad input."""

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

MUTEX = FIXTURES / "mutex_model.py"
TRACE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"


def test_list_shows_models_parameters_variants_and_properties(agree):
    ran = agree("list")
    assert ran.code == 0
    for text in ("twophase", "tcommit", "rms=3", "tm-commits-early", "rm-aborts-after-prepare",
                 "consistent", "all_committed", "reachable"):
        assert text in ran.out
    data = json.loads(agree("list", "twophase", "--json").out)
    assert data[0]["params"]["rms"]["default"] == 3
    assert data[0]["variants"]["tm-commits-early"]["changes"] == ["tm_commit"]


def documented_json_fields() -> set[str]:
    """The field names the README lists for `agree check --json`."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("- `--json` prints one object with")
    bullet = re.split(r"\n(?:- |\n)", readme[start + 2:])[0]
    return set(re.findall(r"`([a-z_]+)`", bullet.split("(`property`")[0]))


def test_check_json_has_exactly_the_documented_fields(agree):
    ran = agree("check", "twophase", "--json", "--quiet")
    assert ran.code == 0
    data = json.loads(ran.out)
    assert set(data) == documented_json_fields()
    assert (data["verdict"], data["exhausted"], data["distinct_states"], data["depth"]) == ("holds", True, 288, 11)
    assert data["properties"] == {"type_ok": "holds", "consistent": "holds",
                                  "all_committed": "reached", "all_aborted": "reached"}
    assert data["violation"] is None


def test_check_a_variant_exits_1_and_saves_the_shortest_trace(agree, tmp_path):
    out = tmp_path / "cx.json"
    ran = agree("check", "twophase", "-p", "rms=2", "--variant", "tm-commits-early", "--save-trace", out)
    assert ran.code == 1
    assert "VIOLATED: consistent" in ran.out and "RMRcvCommitMsg(rm=r2)" in ran.out
    assert json.loads(out.read_text())["length"] == 3
    assert agree("replay", out).code == 0


def test_check_json_violation_carries_the_trace(agree):
    data = json.loads(agree("check", "twophase", "-p", "rms=2", "--variant", "tm-commits-early", "--json").out)
    assert data["verdict"] == "violated"
    assert data["violation"]["property"] == "consistent"
    assert len(data["violation"]["trace"]["steps"]) == 3


def test_incomplete_exits_0_unless_exhaustion_is_required(agree):
    ran = agree("check", "twophase", "--max-depth", "4")
    assert ran.code == 0 and "incomplete" in ran.out and "depth bound" in ran.out
    required = agree("check", "twophase", "--max-depth", "4", "--require-exhausted")
    assert required.code == 1 and "verdict: incomplete" in required.out
    exhausted = agree("check", "twophase", "--max-depth", "11", "--require-exhausted")  # TLC: depth 11
    assert exhausted.code == 0 and "verdict: holds" in exhausted.out


def test_strategies_from_the_command_line(agree):
    assert json.loads(agree("check", "tcommit", "--strategy", "dfs", "--json").out)["verdict"] == "holds"
    data = json.loads(agree("check", "tcommit", "--strategy", "random", "--walks", "50", "--json").out)
    assert data["verdict"] == "incomplete" and data["exhausted"] is False


def test_a_users_model_file_and_its_variant(agree):
    assert agree("check", f"{MUTEX}:Mutex", "-p", "procs=2").code == 0
    no_lock = agree("check", f"{MUTEX}:Mutex", "--variant", "no-lock")
    assert no_lock.code == 1 and "VIOLATED: mutual_exclusion" in no_lock.out
    ran = agree("check", f"{MUTEX}:CounterResets", "--json")
    assert ran.code == 1 and json.loads(ran.out)["violation"]["property"] == "turns_grow"
    assert agree("check", "agree.models.twophase:TwoPhase").code == 0


def test_show_renders_text_and_mermaid(agree):
    text = agree("show", TRACE)
    assert text.code == 0 and "TMCommit" in text.out and "tm_state: init -> committed" in text.out
    chart = agree("show", TRACE, "--format", "mermaid")
    assert chart.code == 0
    assert chart.out.startswith("sequenceDiagram") and "TM->>r2: 3. Commit" in chart.out


def test_show_draws_a_flowchart_when_no_messages_are_sent(agree, tmp_path):
    out = tmp_path / "ex.json"
    agree("check", f"{MUTEX}:NoLock", "--save-trace", out)
    chart = agree("show", out, "--format", "mermaid")
    assert chart.out.startswith("flowchart TD") and "Enter(proc=" in chart.out


def test_the_default_suite_covers_every_model_variant_and_stored_trace():
    from agree.explorer.cli.suite import default_suite
    from agree.models.registry import builtin_models

    suite = default_suite()
    checks = {(e.model, e.variant, e.expect, e.prop) for e in suite if e.kind == "check"}
    for name, cls in builtin_models().items():
        failing = cls.expected_failure  # a model that demonstrates a failure (duelling proposers)
        assert (name, None, "violated" if failing else "holds", failing) in checks
        for variant, info in cls.variants().items():
            if getattr(info.cls, "suite_by_trace", False):  # too deep to search: its stored trace replays
                assert (ROOT / "counterexamples" / f"{name}--{variant}.json").is_file()
                continue
            assert (name, variant, "violated" if info.breaks else "holds", info.breaks) in checks
    replays = {e.trace.rsplit("/", 1)[-1] for e in suite if e.kind == "replay"}
    assert replays == {p.name for p in (ROOT / "counterexamples").glob("*.json")}


def test_verify_prints_a_table_and_exit_0_when_every_expectation_is_met(agree, tmp_path):
    config = tmp_path / "suite.toml"
    config.write_text('[[check]]\nmodel = "tcommit"\n\n[[check]]\nmodel = "twophase"\nvariant = "tm-commits-early"\n'
                      'expect = "violated"\nproperty = "consistent"\n')
    ran = agree("verify", "--config", config, "--quiet")
    assert ran.code == 0, ran.out
    header = ran.out.splitlines()[0].split()
    assert header == ["model", "variant", "expected", "result", "states", "time"]
    assert "tm-commits-early" in ran.out and "2 of 2 expectations met" in ran.out


def test_verify_with_a_users_config(agree, tmp_path):
    config = tmp_path / "suite.toml"
    config.write_text(f'''
[[check]]
model = "twophase"
params = {{ rms = 3 }}
states = 288
depth = 11

[[check]]
model = "{MUTEX.as_posix()}:Mutex"
variant = "no-lock"
expect = "violated"
property = "mutual_exclusion"
length = 4

[[replay]]
trace = "{TRACE.as_posix()}"
''')
    ran = agree("verify", "--config", config, "--quiet")
    assert ran.code == 0, ran.out
    assert "3 of 3 expectations met" in ran.out
    config.write_text('[[check]]\nmodel = "twophase"\nstates = 289\n')
    ran = agree("verify", "--config", config, "--quiet")
    assert ran.code == 1 and "288 distinct states, expected 289" in ran.out


@pytest.mark.parametrize("args, fragment", [
    (["check", "nosuchmodel"], "unknown model 'nosuchmodel'"),
    (["check", "twophase", "--variant", "nope"], "no variant 'nope'"),
    (["check", "twophase", "-p", "nodes=3"], "no parameter 'nodes'"),
    (["check", "twophase", "-p", "rms=three"], "must be an integer"),
    (["check", "twophase", "-p", "rms"], "not key=value"),
    (["check", "twophase", "-p", "rms=0"], "below its minimum"),
    (["check", "twophase", "--max-depth", "0"], "--max-depth must be a whole number of at least 1"),
    (["check", "twophase", "--time-limit", "0"], "--time-limit must be a positive number"),
    (["check", "twophase", "--property", "nope"], "no property 'nope'"),
    (["check", "twophase", "--strategy", "bogus"], "bogus"),
    (["check", "missing_file.py:Model"], "does not exist"),
    (["check", f"{MUTEX}:Nope"], "has no class 'Nope'"),
    (["check", "no.such.module:Model"], "cannot import module"),
    (["replay", "missing.json"], "does not exist"),
    (["show", "missing.json"], "does not exist"),
    (["verify", "--config", "missing.toml"], "does not exist"),
    (["frobnicate"], "No such command"),
    (["check", "rafft"], "unknown model 'rafft' (did you mean 'raft'?)"),
    (["check", "raft", "--variant", "figure8"], "(did you mean 'figure8-commit'?)"),
    (["check", "raft", "-p", "node=3"], "no parameter 'node' (did you mean 'nodes'?)"),
    (["check", "raft", "--property", "log_matchin"], "(did you mean 'log_matching'?)"),
])
def test_bad_input_is_one_line_and_exit_2(agree, args, fragment):
    ran = agree(*args)
    assert ran.code == 2, (ran.out, ran.err)
    assert fragment in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    assert "Traceback" not in ran.err + ran.out


@pytest.mark.parametrize("content", ["{broken", '{"format": 1}', "[1, 2]", ""])
def test_malformed_trace_files_exit_2(agree, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for command in ("replay", "show"):
        ran = agree(command, bad)
        assert ran.code == 2 and len(ran.err.strip().splitlines()) == 1 and "Traceback" not in ran.err


@pytest.mark.parametrize("content", ["[[check]]\nmodel = 3\nbogus = 1\n", "not toml [", "[[check]]\nexpect = 'x'\n"])
def test_malformed_suite_files_exit_2(agree, tmp_path, content):
    bad = tmp_path / "suite.toml"
    bad.write_text(content)
    ran = agree("verify", "--config", bad)
    assert ran.code == 2 and len(ran.err.strip().splitlines()) == 1 and "Traceback" not in ran.err


def test_a_model_that_raises_is_reported_in_one_line(agree, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text(
        "from agree import Model, reachable\n"
        "class Broken(Model):\n"
        "    name = 'broken'\n"
        "    def init(self):\n"
        "        yield 0\n"
        "    def next(self, s):\n"
        "        return [('Boom', {}, 1 // s)]\n"
        "    @reachable\n"
        "    def zero(self, s):\n"
        "        return s == 0\n")
    ran = agree("check", f"{broken}:Broken")
    assert ran.code == 2 and "ZeroDivisionError" in ran.err and "Traceback" not in ran.err


def installed_agree() -> str:
    """The `agree` script that installing the project put beside this Python."""
    script = Path(sys.executable).parent / "agree"
    found = str(script) if script.exists() else shutil.which("agree")
    assert found, "the `agree` command is not installed: run the README's install command"
    return found


def test_the_installed_command_runs_a_check():
    ran = subprocess.run([installed_agree(), "check", "tcommit", "--quiet"], capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "verdict: holds within bounds: search exhausted, 34 distinct states" in ran.stdout  # TLC: 34


def test_the_installed_command_exits_2_without_a_traceback():
    ran = subprocess.run([installed_agree(), "check", "twophase", "-p", "rms=x"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 2
    assert ran.stderr.strip() == ("agree: error: parameter rms must be an integer, got 'x': "
                                  "use e.g. -p rms=3")


def test_ctrl_c_stops_cleanly_with_a_summary():
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "check", "twophase", "-p", "rms=10", "--json",
                             "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the first progress line: the search is under way
    assert first.startswith("agree: ") and "states" in first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    data = json.loads(out)
    assert data["verdict"] == "incomplete" and data["stopped_by"] == "interrupted"
    assert data["distinct_states"] > 0
    assert "Traceback" not in err


def test_keep_going_saves_one_counterexample_per_violated_property(agree, tmp_path):
    ran = agree("check", f"{MUTEX}:Mutex", "--variant", "no-lock", "--keep-going", "--save-trace", tmp_path, "--json")
    assert ran.code == 1
    saved = sorted(p.name for p in tmp_path.iterdir())
    violated = [name for name, status in json.loads(ran.out)["properties"].items() if status == "violated"]
    assert saved == sorted(f"Mutex--{name}.json" for name in violated) and saved
    text = agree("check", f"{MUTEX}:Mutex", "--variant", "no-lock", "--keep-going").out
    assert "(shortest counterexample:" in text
    folder_alone = agree("check", "twophase", "--save-trace", tmp_path)
    assert folder_alone.code == 2 and "--keep-going" in folder_alone.err
