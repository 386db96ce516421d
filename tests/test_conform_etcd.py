"""`agree conform --format etcd-raft`: the etcd-raft model's own runs, written in etcd's trace
format, conform; each mutation of them is rejected at the event where it becomes impossible; and
etcd's own example trace (../shared/traces) conforms."""

from __future__ import annotations

import copy
import json
import random

import pytest

from tests.conftest import real_trace
from click.testing import CliRunner

from agree.explorer.cli import cli
from agree.explorer.engines.conformance import conform, read_events
from agree.explorer.engines.conformance.etcd_adapter import EtcdEvents
from agree.explorer.engines.conformance.etcd_writer import write_etcd_trace
from agree.models.registry import build_model

SIMPLE = {"nodes": 4, "voters": 3, "max_term": 4, "max_log": 10, "max_messages": 6, "max_changes": 2,
          "max_restarts": 1}
JOINT = {**SIMPLE, "max_changes": 3, "joint": True, "learners": True}
RARE = {"Timeout": 0.03, "StepDownToFollower": 0.01, "Restart": 0.01}  # so that runs make progress


def run_of(model, length: int, seed: int) -> list:
    """A random run that changes the state at every step; as etcd does after Bootstrap, every node
    first persists (Ready), which ends the bootstrap lines of the trace."""
    rng = random.Random(seed)
    state, steps = next(iter(model.init())), []
    for i in range(model.nodes):
        steps.append(model.ready(state, i)[0])
        state = steps[-1][2]
    for _ in range(length):
        moves = [step for step in model.next(state) if step[2] != state]
        if not moves:
            break
        step = rng.choices(moves, [RARE.get(m[0], 1) for m in moves])[0]
        steps.append(step)
        state = step[2]
    return steps


def trace_lines(params: dict, seed: int, length: int = 300) -> list[dict]:
    model = build_model("etcd-raft", params)
    return [json.loads(x) for x in write_etcd_trace(model, run_of(model, length, seed)).splitlines()]


def check(tmp_path, lines: list[dict]):
    path = tmp_path / "trace.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    adapter = EtcdEvents()
    events = read_events(path, adapter)
    return conform(build_model("etcd-raft", adapter.model_params(events)), events, adapter)


def names(lines):
    return [x["event"]["name"] for x in lines]


@pytest.mark.parametrize("params", [SIMPLE, JOINT], ids=["simple", "joint"])
@pytest.mark.parametrize("seed", range(4))
def test_the_models_own_runs_written_as_etcd_traces_conform(tmp_path, params, seed):
    lines = trace_lines(params, seed)
    verdict = check(tmp_path, lines)
    assert verdict.conforms, (verdict.event and verdict.event.show(), verdict.differs)
    assert verdict.events == len(lines) and "BecomeLeader" in names(lines)


def test_joint_runs_leave_their_joint_configuration_by_the_unlogged_auto_leave(tmp_path):
    model = build_model("etcd-raft", JOINT)
    for seed in range(40):
        steps = run_of(model, 300, seed)
        if any(step[0] == "AutoLeave" for step in steps):
            break
    else:
        pytest.fail("no run of 40 left a joint configuration")
    lines = [json.loads(x) for x in write_etcd_trace(model, steps).splitlines()]
    verdict = check(tmp_path, lines)
    assert verdict.conforms and any(s.action == "AutoLeave" for s in verdict.trace.steps)


def find(lines, name, start=0, nid=None, where=lambda e: True) -> int:
    """The index of the first event `name` (of node `nid`) from `start` on that `where` accepts."""
    for k in range(start, len(lines)):
        e = lines[k]["event"]
        if e["name"] == name and (nid is None or e["nid"] == nid) and where(e):
            return k
    raise LookupError(name)


def next_of_node(lines, k: int) -> int:
    nid = lines[k]["event"]["nid"]
    return next(j for j in range(k + 1, len(lines)) if lines[j]["event"]["nid"] == nid)


def a_run_with(params, wanted) -> list[dict]:
    """The first seeded run whose lines `wanted` accepts (the seeds are fixed: no flakiness)."""
    for seed in range(60):
        lines = trace_lines(params, seed)
        if wanted(lines):
            return lines
    raise AssertionError("no seeded run has what the test needs")


def test_an_event_dropped_is_rejected_where_it_becomes_impossible(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "BecomeCandidate" in names(x))
    k = find(lines, "BecomeCandidate")
    after = next_of_node(lines, k)
    verdict = check(tmp_path, lines[:k] + lines[k + 1:])
    assert not verdict.conforms and verdict.event.index == after - 1  # the candidate's next event


def test_a_term_changed_is_rejected_at_that_event(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "BecomeLeader" in names(x))
    k = find(lines, "Ready", find(lines, "BecomeLeader"))
    lines[k]["event"]["state"]["term"] += 1
    verdict = check(tmp_path, lines)
    assert not verdict.conforms and verdict.event.index == k
    assert any(d.startswith("term:") for d in verdict.differs)


def test_two_events_of_one_node_swapped_are_rejected_at_the_first(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "BecomeCandidate" in names(x))
    k = find(lines, "BecomeCandidate")
    j = next_of_node(lines, k)
    lines[k], lines[j] = lines[j], lines[k]
    verdict = check(tmp_path, lines)
    assert not verdict.conforms and verdict.event.index == k


def test_a_second_leader_in_one_term_is_rejected(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "BecomeLeader" in names(x))
    k = find(lines, "BecomeLeader")
    leader, term = lines[k]["event"]["nid"], lines[k]["event"]["state"]["term"]
    other = next(x for x in reversed(lines[:k]) if x["event"]["nid"] not in (leader, "4"))
    second = copy.deepcopy(other)
    second["event"].update(name="BecomeLeader", role="StateLeader")
    second["event"].pop("msg", None), second["event"].pop("prop", None)
    second["event"]["state"].update(term=term, vote=second["event"]["nid"])
    verdict = check(tmp_path, lines[:k + 1] + [second] + lines[k + 1:])
    assert not verdict.conforms and verdict.event.index == k + 1


def test_a_commit_beyond_the_log_is_rejected_at_that_event(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "Commit" in names(x))
    k = find(lines, "Commit")
    lines[k]["event"]["state"]["commit"] = lines[k]["event"]["log"] + 1
    verdict = check(tmp_path, lines)
    assert not verdict.conforms and verdict.event.index == k


def adds_a_voter(e) -> bool:
    return e["name"] == "ApplyConfChange" and len(e["prop"]["cc"]["newconf"]) == len(e["conf"][0]) + 1


def test_two_voters_added_in_one_simple_change_are_rejected_at_that_event(tmp_path):
    lines = a_run_with({**SIMPLE, "nodes": 5}, lambda x: any(adds_a_voter(y["event"]) for y in x[20:]))
    k = find(lines, "ApplyConfChange", 20, where=adds_a_voter)
    event = lines[k]["event"]
    extra = next(n for n in "12345" if n not in event["prop"]["cc"]["newconf"])
    event["prop"]["cc"]["newconf"] = sorted(event["prop"]["cc"]["newconf"] + [extra])
    verdict = check(tmp_path, lines)
    assert not verdict.conforms and verdict.event.index == k
    assert any(d.startswith("newconf:") for d in verdict.differs)


def test_a_malformed_conf_change_is_one_line_naming_line_and_field(tmp_path):
    lines = trace_lines(SIMPLE, 0, 10)
    bad = copy.deepcopy(lines[0])
    bad["event"].update(name="ChangeConf", prop={"cc": {"changes": [{"nid": "2", "action": "Promote"}]}})
    path = tmp_path / "bad.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines[:3] + [bad]))
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "etcd-raft"])
    assert ran.exit_code == 2 and ran.stdout == ""
    assert ran.stderr.strip().count("\n") == 0 and "line 4: field 'event.prop.cc.changes'" in ran.stderr


# --------------------------------------------------------------------------- etcd's real trace



def test_etcds_example_trace_conforms():
    ran = CliRunner().invoke(cli, ["conform", str(real_trace("etcd-raft-example.ndjson")), "--format", "etcd-raft",
                                   "--json"])
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert report["verdict"] == "conforms" and report["events"] == 4888 and report["model"] == "etcd-raft"


def test_etcds_example_trace_with_a_term_changed_diverges_there(tmp_path):
    lines = real_trace("etcd-raft-example.ndjson").read_text().splitlines()
    k = next(k for k, x in enumerate(lines) if '"name":"BecomeLeader"' in x)
    mutated = json.loads(lines[k])
    mutated["event"]["state"]["term"] = 3
    lines[k] = json.dumps(mutated)
    path = tmp_path / "mutated.ndjson"
    path.write_text("\n".join(lines) + "\n")
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "etcd-raft", "--json"])
    assert ran.exit_code == 1
    report = json.loads(ran.stdout)
    assert report["verdict"] == "diverges" and report["line"] == k + 1 and report["event"] == k


def test_the_etcd_format_needs_the_etcd_raft_model(tmp_path):
    path = tmp_path / "trace.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in trace_lines(SIMPLE, 0, 20)))
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "etcd-raft", "--model", "raft"])
    assert ran.exit_code == 2 and "etcd-raft model" in ran.stderr and ran.stdout == ""
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "etcd-raft"])
    assert ran.exit_code == 0 and "conforms to etcd-raft" in ran.stdout


def test_a_response_to_another_node_is_checked_though_it_has_no_step(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "SendAppendEntriesResponse" in names(x))
    k = find(lines, "SendAppendEntriesResponse", where=lambda e: e["msg"]["from"] != e["msg"]["to"])
    lines[k]["event"]["state"]["commit"] = lines[k]["event"]["log"] + 1
    verdict = check(tmp_path, lines)
    assert not verdict.conforms and verdict.event.index == k
    assert [d for d in verdict.differs if d.startswith("commit:")], verdict.differs


def test_the_matched_prefix_of_a_divergence_replays_and_shows(tmp_path):
    lines = a_run_with(SIMPLE, lambda x: "BecomeLeader" in names(x))
    k = find(lines, "Ready", find(lines, "BecomeLeader"))
    lines[k]["event"]["state"]["term"] += 1
    path, saved = tmp_path / "trace.ndjson", tmp_path / "prefix.json"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    runner = CliRunner()
    ran = runner.invoke(cli, ["conform", str(path), "--format", "etcd-raft", "--save-trace", str(saved)])
    assert ran.exit_code == 1 and f"(line {k + 1})" in ran.stdout
    assert runner.invoke(cli, ["replay", str(saved)]).exit_code == 0
    for fmt in ("text", "mermaid", "html"):
        assert runner.invoke(cli, ["show", str(saved), "--format", fmt]).exit_code == 0, fmt
    data = json.loads(saved.read_text())  # each step with the log's events it explains
    assert len(data["log_events"]) == len(data["steps"])
    first = lines.index(next(x for x in lines if x["event"]["name"] == "BecomeLeader"))
    assert f"line {first + 1}: BecomeLeader" in sum(data["log_events"], [])
    page = runner.invoke(cli, ["show", str(saved), "--format", "html"]).stdout
    assert f"line {first + 1}: BecomeLeader" in page and 'class="log"' in page
