"""`agree conform` with agree's own event format: a model's own runs conform, and each mutation
of such a log (an event dropped, an argument changed, two events swapped) is rejected at the
event where it becomes impossible."""

from __future__ import annotations

import json
import random
import re

import pytest

from tests.conftest import real_trace
from click.testing import CliRunner

from agree.explorer.cli import cli
from agree.explorer.engines.conformance import Adapter, conform, read_events
from agree.explorer.engines.conformance.agree_format import AgreeEvents, write_events
from agree.explorer.engines.conformance.etcd import parse_etcd_line
from agree.models.registry import build_model
from agree.properties.errors import InputError


def run_of(model, length: int, seed: int) -> list:
    """A random run whose every step changes the state (so no mutation can be a no-op)."""
    rng = random.Random(seed)
    state, steps = next(iter(model.init())), []
    for _ in range(length):
        moves = [s for s in model.next(state) if s[2] != state]
        if not moves:
            break
        step = rng.choice(moves)
        steps.append(step)
        state = step[2]
    return steps


def check_lines(tmp_path, model, lines: list[str], **adapter):
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n")
    events_adapter = AgreeEvents(**adapter)
    return conform(model, read_events(path, events_adapter), events_adapter)


@pytest.mark.parametrize("spec,params", [("twophase", {"rms": 3}), ("paxos", {}), ("tcommit", {"rms": 3})])
@pytest.mark.parametrize("seed", range(3))
def test_a_models_own_runs_conform(tmp_path, spec, params, seed):
    model = build_model(spec, params)
    steps = run_of(model, 15, seed)
    verdict = check_lines(tmp_path, model, write_events(model, steps).splitlines())
    assert verdict.conforms and verdict.events == len(steps), verdict.differs
    assert len(verdict.trace.steps) == len(steps)


def test_a_log_without_states_conforms_and_keeps_every_possibility(tmp_path):
    model = build_model("twophase", {"rms": 3})
    steps = run_of(model, 12, 7)
    verdict = check_lines(tmp_path, model, write_events(model, steps, fields=()).splitlines())
    assert verdict.conforms and verdict.largest >= 1


@pytest.mark.parametrize("seed", range(4))
def test_mutations_are_rejected_where_they_become_impossible(tmp_path, seed):
    model = build_model("twophase", {"rms": 3})
    steps = run_of(model, 12, seed)
    lines = write_events(model, steps).splitlines()
    i = len(lines) // 2
    dropped = lines[:i] + lines[i + 1:]
    assert check_lines(tmp_path, model, dropped).event.index == i
    changed = [json.loads(x) for x in lines]
    changed[i]["args"] = {k: "r9" for k in changed[i]["args"]} or {"rm": "r9"}
    assert check_lines(tmp_path, model, [json.dumps(x) for x in changed]).event.index == i
    swapped = lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:]
    assert check_lines(tmp_path, model, swapped).event.index == i


def test_silent_steps_are_allowed_only_where_named_and_bounded(tmp_path):
    model = build_model("twophase", {"rms": 2})
    steps = run_of(model, 10, 3)
    logged = [s for s in steps if s[0] != "TMRcvPrepared"]
    assert len(logged) < len(steps)
    lines = write_events(model, logged).splitlines()
    assert not check_lines(tmp_path, model, lines).conforms
    assert check_lines(tmp_path, model, lines, silent=["TMRcvPrepared"], max_silent=2).conforms


def test_the_cli_verdicts_exit_codes_json_and_saved_trace(tmp_path):
    model = build_model("twophase", {"rms": 3})
    lines = write_events(model, run_of(model, 10, 1)).splitlines()
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("\n".join(lines) + "\n")
    bad.write_text("\n".join(lines[:4] + lines[5:]) + "\n")
    runner = CliRunner()
    ran = runner.invoke(cli, ["conform", str(good), "--format", "agree", "--model", "twophase", "-p", "rms=3"])
    assert ran.exit_code == 0 and "conforms" in ran.output
    saved = tmp_path / "prefix.json"
    ran = runner.invoke(cli, ["conform", str(bad), "--format", "agree", "--model", "twophase", "-p", "rms=3", "--json",
                              "--save-trace", str(saved)])
    assert ran.exit_code == 1
    report = json.loads(ran.stdout)
    assert report["verdict"] == "diverges" and report["event"] == 4 and report["line"] == 5
    assert {"events", "seconds", "allowed", "closest"} <= set(report)
    assert runner.invoke(cli, ["replay", str(saved)]).exit_code == 0
    assert runner.invoke(cli, ["show", str(saved), "--format", "mermaid"]).exit_code == 0


@pytest.mark.parametrize("line,says", [("not json", "line 2: not a JSON object"),
                                       ('{"action": 3}', "line 2: field 'action' must be a string"),
                                       ('{"action": "TMAbort", "args": []}', "line 2: field 'args' must be an object"),
                                       ('{"action": "TMAbort", "when": 1}', "line 2: unknown field 'when'")])
def test_a_malformed_line_is_one_line_naming_its_line_and_field(tmp_path, line, says):
    path = tmp_path / "log.jsonl"
    path.write_text('{"action": "TMAbort"}\n' + line + "\n")
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "agree", "--model", "twophase"])
    assert ran.exit_code == 2
    assert ran.stderr.strip().count("\n") == 0 and says in ran.stderr and ran.stdout == ""


def test_the_agree_format_needs_a_model_and_the_candidate_set_is_bounded(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"action": "RMPrepare"}\n{"action": "RMPrepare"}\n')
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "agree"])
    assert ran.exit_code == 2 and "--model" in ran.stderr
    ran = CliRunner().invoke(cli, ["conform", str(path), "--format", "agree", "--model", "twophase",
                                   "--max-candidates", "2"])
    assert ran.exit_code == 2 and "over the bound of 2" in ran.stderr


# --------------------------------------------------------------------------- etcd's real trace



class EtcdLines(Adapter):
    name = "etcd-raft lines"

    def parse(self, data, line, index):
        return parse_etcd_line(data, line, index)


def test_etcds_real_trace_parses_into_its_events():
    events = read_events(real_trace("etcd-raft-example.ndjson"), EtcdLines())
    assert len(events) == 4888
    assert {e.fields["nid"] for e in events} == {str(n) for n in range(1, 11)}
    assert sum(e.name == "ChangeConf" for e in events) == 9


@pytest.mark.parametrize("line,says", [('{"tag": "trace", "event": {"name": "Elect"}}', "'event.name' is 'Elect'"),
                                       ('{"tag": "trace", "event": {"name": "Ready", "nid": 1}}', "'event.nid' must be a string")])
def test_a_malformed_etcd_line_names_its_line_and_field(tmp_path, line, says):
    path = tmp_path / "log.ndjson"
    path.write_text('{"level": "info", "msg": "not a trace line"}\n' + line + "\n")
    with pytest.raises(InputError, match="line 2: .*" + re.escape(says)):
        read_events(path, EtcdLines())
