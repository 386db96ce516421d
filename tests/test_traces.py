"""Traces: one JSON format, written whole, loaded without executing anything, and replayed."""

import json
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import Bounds
from agree.explorer.traces.replay import replay

from agree.models.registry import build_model
from agree.properties.errors import InputError
from agree.explorer.traces.format import load_trace, write_trace
from tests.conftest import ROOT

STORED = sorted((ROOT / "counterexamples").glob("*.json"))


def test_there_are_stored_counterexamples():
    names = {p.name for p in STORED}
    assert {"twophase--tm-commits-early.json", "twophase--rm-aborts-after-prepare.json"} <= names


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.name)
def test_every_stored_counterexample_replays(path):
    trace = load_trace(path)
    outcome = replay(trace)
    assert outcome.reproduces, outcome.message
    assert outcome.steps_matched == len(trace.steps)


# shown minimal by a search too big for a test: it is the trace BFS (with symmetry, checking
# election_safety) found first, after 1,210,463 states, none violating it within 28 steps (90 s;
# README, "Raft membership changes")
PROVED_ELSEWHERE = {"raft--single-server-bug.json"}
SAFETY = [p for p in STORED if json.loads(p.read_text())["kind"] in ("invariant", "transition")
          and p.name not in PROVED_ELSEWHERE]
LIVENESS = [p for p in STORED if json.loads(p.read_text())["kind"] not in ("invariant", "transition")]


@pytest.mark.parametrize("path", SAFETY, ids=lambda p: p.name)
def test_every_stored_safety_counterexample_is_minimal(path):
    """No shorter violation exists: depth-bounded DFS (a different engine from the BFS that wrote
    the trace, complete within its bound) explores every path of fewer steps and finds none.
    Depth counts states, the initial one being 1: a state invariant broken after N steps needs
    depth N + 1, a transition broken by step N needs its source at depth N."""
    trace = load_trace(path)
    steps = len(trace.steps)
    shorter = steps - 1 if trace.kind == "transition" else steps
    result = check(build_model(trace.model, trace.params, trace.variant), strategy="dfs", only=[trace.property],
                   bounds=Bounds(max_depth=shorter))
    assert result.violation is None and result.stopped_by == "max-depth", result.properties
    assert replay(trace).reproduces  # and one of exactly `steps` steps does exist


@pytest.mark.parametrize("path", LIVENESS, ids=lambda p: p.name)
def test_every_stored_liveness_counterexample_is_what_bfs_finds_today(path):
    """Liveness needs the whole graph, so depth-bounded DFS cannot judge it: today's exhausted BFS
    must find a counterexample of the same shape (length, and where the loop starts)."""
    trace = load_trace(path)
    result = check(build_model(trace.model, trace.params, trace.variant), only=[trace.property])
    found = result.properties[trace.property]
    assert found.status == "violated" and found.trace is not None
    assert (len(found.trace.steps), found.trace.loop) == (len(trace.steps), trace.loop)


def test_saved_trace_round_trips(tmp_path):
    result = check(build_model("twophase", {"rms": 2}, "tm-commits-early"))
    path = tmp_path / "t.json"
    write_trace(result.violation.trace, path)
    data = json.loads(path.read_text())
    assert data["format"] == 1 and data["model"] == "twophase" and data["variant"] == "tm-commits-early"
    assert data["property"] == "consistent" and data["kind"] == "invariant"
    assert data["initial"]["rm_state"] == ["working", "working"]
    assert [s["action"] for s in data["steps"]] == ["TMCommit", "RMChooseToAbort", "RMRcvCommitMsg"]
    assert replay(load_trace(path)).reproduces
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]  # no temporary file left behind


def _stored(tmp_path, edit) -> Path:
    data = json.loads((ROOT / "counterexamples" / "twophase--tm-commits-early.json").read_text())
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


def test_replay_reports_a_step_that_is_not_enabled(tmp_path):
    def swap(data):
        data["steps"][0], data["steps"][1] = data["steps"][1], data["steps"][0]
    outcome = replay(load_trace(_stored(tmp_path, swap)))
    assert not outcome.reproduces and "step 1" in outcome.message


def test_replay_reports_a_state_that_differs(tmp_path):
    def corrupt(data):
        data["steps"][0]["state"]["tm_state"] = "aborted"
    outcome = replay(load_trace(_stored(tmp_path, corrupt)))
    assert not outcome.reproduces and "different state" in outcome.message


def test_replay_fails_when_the_bug_is_fixed(tmp_path):
    def against_correct_model(data):
        data["variant"] = None
    outcome = replay(load_trace(_stored(tmp_path, against_correct_model)))
    assert not outcome.reproduces and "not enabled" in outcome.message

    def truncated(data):
        data["steps"] = data["steps"][:2]
    outcome = replay(load_trace(_stored(tmp_path, truncated)))
    assert not outcome.reproduces and "no longer violated" in outcome.message


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"format": 2}', '"format" must be 1'),
    ('{"format": 1, "model": "twophase", "initial": {}, "steps": "x"}', '"steps" must be a list'),
    ('{"format": 1, "model": "twophase", "initial": {}, "steps": [{"args": {}}]}', "step 1"),
    ('{"format": 1, "model": "twophase", "steps": []}', '"initial"'),
])
def test_malformed_traces_are_rejected_with_the_reason(tmp_path, text, fragment):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment.replace("[", r"\[")):
        load_trace(path)


def test_missing_trace_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_trace(tmp_path / "nope.json")


# ----- diffs say what changed, where

def test_a_list_with_nulls_and_repeats_changes_by_position():
    from agree.explorer.traces.render import diff

    before = {"max_val": [None, "v1", "v1"]}
    after = {"max_val": ["v1", "v1", "v1"]}
    assert diff(before, after) == ["max_val[0]: null -> v1"]
    assert diff(before, after, names=["a1", "a2", "a3"]) == ["max_val[a1]: null -> v1"]


def test_a_message_bag_changes_as_received_and_sent():
    from agree.explorer.traces.render import diff

    request = {"kind": "AppendEntriesRequest", "term": 2, "src": "s1", "dst": "s2"}
    reply = {"kind": "AppendEntriesResponse", "term": 2, "src": "s2", "dst": "s1", "success": True}
    before, after = {"msgs": [[request, 1]]}, {"msgs": [[reply, 2]]}
    assert diff(before, after) == ["msgs - AppendEntriesRequest(term=2, src=s1, dst=s2)",
                                   "msgs + AppendEntriesResponse(term=2, src=s2, dst=s1, success=true) ×2"]


def test_a_set_that_grows_shows_the_new_element():
    from agree.explorer.traces.render import diff

    assert diff({"msgs": [["1a", 0]]}, {"msgs": [["1a", 0], ["1a", 1]]}) == ['msgs + ["1a", 1]']


def test_shown_traces_name_the_node_that_changed(agree):
    out = agree("show", ROOT / "counterexamples" / "raft--volatile-votedfor.json").out
    assert "voted_for[s2]: s1 -> null" in out  # the restarted server forgets its vote
    assert "msgs + RequestVoteResponse(term=1, src=s2, dst=s1, granted=true)" in out


def test_a_users_model_file_is_recorded_relative_to_the_trace(agree, tmp_path, monkeypatch):
    """The hint to replay a trace of one's own model names the right file from any folder."""
    project = tmp_path / "p3"
    (project / "out").mkdir(parents=True)
    (project / "p3.py").write_text((ROOT / "tests" / "fixtures" / "mutex_model.py").read_text())
    monkeypatch.chdir(project)
    assert agree("check", "p3.py:Mutex", "--variant", "no-lock", "--save-trace", "out/t.json").code == 1
    assert json.loads((project / "out" / "t.json").read_text())["model"] == "../p3.py:Mutex"
    monkeypatch.chdir(tmp_path)
    refused = agree("replay", "p3/out/t.json")
    assert refused.code == 2 and "--model p3/p3.py:Mutex" in refused.err
    assert agree("replay", "p3/out/t.json", "--model", "p3/p3.py:Mutex").code == 0


def test_a_diagram_lists_every_participant_even_a_silent_one():
    from agree.explorer.traces.render import render_mermaid
    from agree.models.twophase import TwoPhase

    trace = json.loads((ROOT / "counterexamples" / "twophase--tm-commits-early.json").read_text())
    text = render_mermaid(trace, TwoPhase(**trace["params"]))
    assert [ln.strip() for ln in text.splitlines() if "participant" in ln] == [
        "participant TM as TM", "participant r1 as r1", "participant r2 as r2"]
    assert "--variant tm-commits-early" in text.splitlines()[1]
