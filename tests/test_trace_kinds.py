"""Every trace agree writes, agree reads: one trace of each kind (invariant, transition, reachable,
eventually, leads-to, a dead end) is written, then replayed and shown through the command line."""

from __future__ import annotations

import json

import pytest

from agree.explorer.engines.check import check
from agree.explorer.traces.format import KINDS, write_trace
from agree.models.contract import PROPERTY_KINDS
from agree.models.registry import load_model_class

# A walk on 0..3 that may stop at 3 (a dead end), each property failing in its own way.
MODEL = '''
from agree import Model, Step, eventually, invariant, leads_to, reachable, transition, weak

class Walk(Model):
    name = "walk"
    actions = ("Up", "Stay")
    fairness = (weak("Up"),)

    def init(self):
        yield 0

    def next(self, s):
        if s < 3:
            yield Step("Up", {"by": 1}, s + 1)
        if s == 1:
            yield Step("Stay", {}, s)

    @invariant
    def below_two(self, s):
        return s < 2

    @transition
    def never_reaches_three(self, before, step, after):
        return after != 3

    @reachable
    def two(self, s):
        return s == 2

    @eventually
    def four(self, s):
        return s == 4

    @leads_to
    def one_leads_to_four(self, s):
        return s == 1, s == 4
'''


@pytest.fixture
def walk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "walk.py").write_text(MODEL)
    return load_model_class("walk.py:Walk")()


def test_the_schema_reads_every_kind_the_contract_declares():
    assert set(PROPERTY_KINDS) < set(KINDS) and "dead-end" in KINDS


@pytest.mark.parametrize("prop, kind", [("below_two", "invariant"), ("never_reaches_three", "transition"),
                                        ("two", "reachable"), ("four", "eventually"),
                                        ("one_leads_to_four", "leads-to"), (None, "dead-end")])
def test_a_trace_of_each_kind_is_written_replayed_and_shown(agree, walk, tmp_path, prop, kind):
    result = check(walk, only=[prop] if prop else [], model_ref="walk.py:Walk")
    trace = result.dead_end if prop is None else result.properties[prop].trace
    assert trace is not None and trace.kind == kind
    write_trace(trace, tmp_path / "t.json")
    assert json.loads((tmp_path / "t.json").read_text())["kind"] == kind
    replayed = agree("replay", tmp_path / "t.json", "--model", "walk.py:Walk")
    expected = "holds at the end" if kind == "reachable" else "reproduces"
    assert replayed.code == 0 and expected in replayed.out, replayed.out + replayed.err
    for fmt in ("text", "mermaid", "html"):
        shown = agree("show", tmp_path / "t.json", "--format", fmt, "--model", "walk.py:Walk")
        assert shown.code == 0 and shown.out.strip(), (fmt, shown.err)
        assert "Traceback" not in shown.err


def test_a_dead_end_trace_whose_last_state_has_a_step_is_refused(agree, walk, tmp_path):
    trace = check(walk, only=[], model_ref="walk.py:Walk").dead_end
    trace.steps.pop()  # now it ends at 2, where Up is enabled
    write_trace(trace, tmp_path / "t.json")
    replayed = agree("replay", tmp_path / "t.json", "--model", "walk.py:Walk")
    assert replayed.code == 1 and "not a dead end" in replayed.out, replayed.out + replayed.err
