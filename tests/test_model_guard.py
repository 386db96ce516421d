"""One guard around model code in every command: an error in the user's model is the user's, said
in one line naming the method (exit 2), never agree's own "internal error" (exit 3); `agree graph`
and `agree explore` included, and `agree graph --time-limit` holds against a model that loops."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES

BAD = FIXTURES / "misbehaving_models.py"

CASES = {  # class -> what the one line names
    "PropRaises": "in invariant fine",
    "ViewRaises": "in view",
    "EvRaises": "in eventually done",
    "Unhashable": "unhashable",
    "InitRaises": "in init",
    "InitNone": "init() returned None",
    "Exits": "sys.exit",
    "Recurses": "RecursionError",
}


@pytest.mark.parametrize("cls, named", sorted(CASES.items()))
def test_graph_blames_the_model_in_one_line(agree, cls, named):
    ran = agree("graph", f"{BAD}:{cls}")
    assert ran.code == 2, (ran.code, ran.err)
    assert named in ran.err and "internal error" not in ran.err and "Traceback" not in ran.err
    assert len(ran.err.strip().splitlines()) == 1


FUZZ_CASES = {  # what Hypothesis's machinery must not swallow or turn into agree's own error
    "WithinRaises": "in within",
    "NoInit": "must define init()",
    "InitNone": "init() returned None",
    "Exits": "sys.exit",
}  # a model raising KeyboardInterrupt needs the command's own signal handlers: tests/test_signals.py


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("cls, named", sorted(FUZZ_CASES.items()))
def test_fuzz_blames_the_model_in_one_line(agree, cls, named, workers):
    ran = agree("fuzz", f"{BAD}:{cls}", "--examples", "5", "--workers", workers)
    assert ran.code == 2, (ran.code, ran.out, ran.err)
    assert named in ran.err and "internal error" not in ran.err and "Traceback" not in ran.err
    assert len(ran.err.strip().splitlines()) == 1 and ran.out == ""


def test_fuzz_refuses_runs_longer_than_hypothesis_can_draw(agree):
    ran = agree("fuzz", "twophase", "--steps", "99999999999999999999")
    assert ran.code == 2 and "--steps is at most 1,000" in ran.err and len(ran.err.strip().splitlines()) == 1


def test_graph_draws_a_step_whose_args_are_not_a_dict(agree):
    """The graph only encodes a step's args (check is what refuses them): it draws, it never crashes."""
    ran = agree("graph", f"{BAD}:BadStep")
    assert ran.code == 0 and 'label="Up5"' in ran.out and "Traceback" not in ran.err


@pytest.mark.parametrize("cls, named", [("InitRaises", "in init"), ("InitNone", "init() returned None")])
def test_explore_blames_the_model_before_serving(agree, cls, named):
    ran = agree("explore", f"{BAD}:{cls}", "--port", "0")
    assert ran.code == 2 and named in ran.err and "Traceback" not in ran.err


def test_graph_time_limit_holds_against_a_loop(agree):
    ran = agree("graph", f"{BAD}:Loops", "--time-limit", "0.5")
    assert ran.code == 2 and "--time-limit" in ran.err and "Traceback" not in ran.err


PRINTER = FIXTURES / "printing_model.py"


@pytest.mark.parametrize("args", [("check", f"{PRINTER}:Printer", "--json"),
                                  ("graph", f"{PRINTER}:Printer", "--format", "json")],
                         ids=["check", "graph"])
def test_what_a_model_prints_never_breaks_a_json_report(agree, args):
    ran = agree(*args)
    assert ran.code in (0, 1), ran.err
    json.loads(ran.out)  # stdout is the JSON document alone
    assert "hello from" in ran.err  # the model's output is not lost: it went to stderr


def test_what_a_model_prints_never_breaks_verify_json(agree, tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text(f'[[check]]\nmodel = "{PRINTER}:Printer"\nexpect = "violated"\nproperty = "fine"\n')
    ran = agree("verify", "--config", suite, "--json")
    assert ran.code == 0 and json.loads(ran.out)[0]["met"] and "hello from" in ran.err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_max_states_holds_against_a_state_with_endless_successors(agree, workers):
    """A level's expansion stops once the state bound surely falls before the rest, so a model
    whose `next` never ends still stops at --max-states (no time limit needed), with one worker's
    counts."""
    ran = agree("check", f"{BAD}:Endless", "--max-states", "10", "--workers", workers, "--json")
    data = json.loads(ran.out)
    assert ran.code == 0 and data["stopped_by"] == "max-states" and data["distinct_states"] == 10
