"""Per-node positions read the same everywhere: the text trace, the HTML state panel, the web
explorer and replay's divergence messages all say `decided[p3]` (the model's `node_names`)."""

from __future__ import annotations

from itertools import product
from typing import NamedTuple

from agree import Model, Step, check, invariant
from agree.explorer.traces.format import trace_from_json, trace_to_json
from agree.explorer.traces.html import render_html
from agree.explorer.traces.replay import replay
from agree.explorer.traces.render import render_text
from agree.explorer.web.session import Session
from agree.explorer.web.views import snapshot


class S(NamedTuple):
    inputs: tuple
    decided: tuple


class Vote(Model):
    """Three nodes each decide the first node's input; several initial states (the inputs)."""

    name = "vote"

    def init(self):
        for inputs in product((0, 1), repeat=3):
            yield S(inputs, (None,) * 3)

    def next(self, s):
        for i in range(3):
            if s.decided[i] is None:
                yield Step("Decide", {"node": i}, S(s.inputs, s.decided[:i] + (self.pick(s, i),) + s.decided[i + 1:]))

    def pick(self, s, i):
        return s.inputs[0]

    def node_names(self):
        return ["p1", "p2", "p3"]

    @invariant
    def agreement(self, s):
        return len({d for d in s.decided if d is not None}) <= 1


class OwnInput(Vote):
    """The broken one: each node decides its own input."""

    def pick(self, s, i):
        return s.inputs[i]


def counterexample():
    return check(OwnInput()).violation.trace


def test_the_text_and_the_html_panel_name_the_node():
    trace = trace_to_json(counterexample())
    assert "decided[p" in render_text(trace, OwnInput())
    page = render_html(trace, OwnInput())
    assert '<span class="index">p3</span>' in page and '<span class="index">2</span>' not in page
    assert '<p class="changes">decided[p' in page


def test_replay_says_where_it_diverges_by_node_name():
    outcome = replay(trace_from_json(trace_to_json(counterexample())), Vote())  # as read from a file
    assert not outcome.reproduces
    assert "decided[p" in outcome.message and "decided[1]" not in outcome.message, outcome.message


def test_the_explorer_names_initial_states_and_positions():
    session = Session(Vote(), "vote")
    view = snapshot(session)
    assert view["initial_labels"][0] == "1: the first"
    assert view["initial_labels"][1] == "2: inputs[p3]: 0 -> 1"
    session.take(2)
    view = snapshot(session)
    assert '<span class="index">p3</span>' in view["state"] and "decided[p3]: null -&gt; 0" in view["state"]


def test_a_cut_note_keeps_its_whole_text_as_a_tooltip():
    from agree.explorer.traces.svg import sequence_svg

    text = "decides Commit, broadcasts Commit to every resource manager and waits for each to answer"
    svg = sequence_svg(["tm", "rm1"], [(1, {"action": "Decide"}, [("note", "tm", text)])])
    assert "…" in svg  # cut in the box
    assert f'<g class="note-box"><title>{text}</title>' in svg
