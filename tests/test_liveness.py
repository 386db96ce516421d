"""Liveness on small hand-made graphs whose answers are worked out by hand in each test.

A `Graph` model turns an explicit edge list into a model: states are small integers, an edge
(u, action, v) is a step, `goal` is the set of states where the `@eventually` property holds.
"""

from __future__ import annotations

import pytest

from agree.explorer.engines.check import Parallel, Storage, check
from agree.explorer.engines.result import HOLDS, INCOMPLETE, NOT_CHECKED, VIOLATED, Bounds
from agree.explorer.traces.replay import replay
from agree.models.contract import Model, eventually, leads_to, reachable, strong, weak
from agree.explorer.traces.format import load_trace, trace_from_json, trace_to_json, write_trace


def graph_model(edges, goal, fairness=(), init=(0,), lead=None):
    """A model whose states are the integers in `edges`, stepping along them."""

    class Graph(Model):
        name = "graph"

        def init(self):
            return iter(init)

        def next(self, s):
            return [(action, {"to": v}, v) for u, action, v in edges if u == s]

        @reachable
        def started(self, s):
            return True

        @eventually
        def arrives(self, s):
            return s in goal

        if lead is not None:
            @leads_to
            def answered(self, s):
                return s in lead[0], s in lead[1]

    Graph.fairness = tuple(fairness)
    return Graph()


def judge(model, prop="arrives", **kw):
    result = check(model, only=["started", prop], **kw)
    return result.properties[prop], result


def states_of(trace):
    return [trace.initial] + [step.state for step in trace.steps]


def test_every_path_reaches_the_goal_holds():
    # 0 -> 1 -> 2 (goal), 0 -> 2: every path ends in 2, where the goal holds
    prop, result = judge(graph_model([(0, "a", 1), (1, "b", 2), (0, "c", 2)], goal={2}))
    assert prop.status == HOLDS and result.verdict == HOLDS


def test_a_dead_end_before_the_goal_is_a_counterexample():
    # 0 -> 1 (no step out of 1), 0 -> 2 (goal): stopping in 1 never reaches the goal
    prop, result = judge(graph_model([(0, "a", 1), (0, "b", 2)], goal={2}))
    assert prop.status == VIOLATED and result.verdict == VIOLATED
    assert prop.trace.loop is None and states_of(prop.trace) == [0, 1]


def test_a_dead_end_where_the_goal_holds_is_fine_but_counted():
    # 0 -> 1 (goal, no step out): the run stops, but after the goal held
    prop, result = judge(graph_model([(0, "a", 1)], goal={1}))
    assert prop.status == HOLDS
    assert result.dead_ends == 1 and states_of(result.dead_end) == [0, 1]


def test_an_unfair_cycle_does_not_count():
    # 0 <-> 1 by "spin", 1 -> 2 (goal) by "exit". Weakly fair "exit" is enabled in 1 only, so it is
    # not continuously enabled on the cycle 0,1,0,...: weak fairness does not force it. The cycle is
    # fair under weak fairness, unfair under strong fairness (enabled infinitely often, never taken).
    edges = [(0, "spin", 1), (1, "spin", 0), (1, "exit", 2)]
    prop, _ = judge(graph_model(edges, goal={2}, fairness=[weak("exit")]))
    assert prop.status == VIOLATED and prop.trace.loop is not None
    prop, _ = judge(graph_model(edges, goal={2}, fairness=[strong("exit")]))
    assert prop.status == HOLDS


def test_weak_fairness_rules_out_a_cycle_where_the_exit_is_always_enabled():
    # 0 <-> 1, and "exit" to 2 (goal) from both: always enabled on the cycle, so weak fairness
    # forces it. Without fairness the cycle is a counterexample.
    edges = [(0, "spin", 1), (1, "spin", 0), (0, "exit", 2), (1, "exit", 2)]
    prop, _ = judge(graph_model(edges, goal={2}))
    assert prop.status == VIOLATED
    trace = prop.trace
    assert trace.loop == 0 and states_of(trace) == [0, 1, 0]
    prop, _ = judge(graph_model(edges, goal={2}, fairness=[weak("exit")]))
    assert prop.status == HOLDS


def test_a_self_loop_is_a_cycle_unless_fairness_forbids_it():
    # 0 -> 0 ("wait"), 0 -> 1 (goal) by "go": waiting forever is an execution; weak fairness of "go"
    # rules it out. A step back to the same state takes no fairness group (TLA+'s <<A>>_vars), so
    # even weak fairness of "wait" does not help.
    edges = [(0, "wait", 0), (0, "go", 1)]
    prop, _ = judge(graph_model(edges, goal={1}))
    assert prop.status == VIOLATED and prop.trace.loop == 0 and [s.action for s in prop.trace.steps] == ["wait"]
    assert judge(graph_model(edges, goal={1}, fairness=[weak("go")]))[0].status == HOLDS
    assert judge(graph_model(edges, goal={1}, fairness=[weak("wait")]))[0].status == VIOLATED


def test_a_cycle_through_the_goal_holds():
    # 0 -> 1 -> 0 with the goal true in 1: every infinite run passes 1
    prop, _ = judge(graph_model([(0, "a", 1), (1, "b", 0)], goal={1}))
    assert prop.status == HOLDS


def test_a_goal_never_reachable_from_a_cycle_fails_whatever_the_fairness():
    # 0 -> 1 -> 2 -> 1: the goal (3) is never reachable; the cycle 1,2 takes both actions
    edges = [(0, "a", 1), (1, "b", 2), (2, "c", 1)]
    prop, _ = judge(graph_model(edges, goal={3}, fairness=[weak("b", "c"), strong("a")]))
    assert prop.status == VIOLATED
    trace = prop.trace
    assert states_of(trace) == [0, 1, 2, 1] and trace.loop == 1


def test_per_process_fairness_separates_two_processes():
    # Two processes p and q each "step". State 0: p steps to 0 (a real change is needed, so through
    # 1 and back), q steps from 0 and 1 to the goal 2. With one group for "step" of both processes,
    # p's steps keep the group taken; with one group per process, q's group is always enabled on
    # the cycle 0,1 and never taken, so the cycle is unfair.
    class Two(Model):
        name = "two"
        fairness = (weak("step"),)

        def init(self):
            return iter([0])

        def next(self, s):
            steps = []
            if s in (0, 1):
                steps.append(("step", {"who": "p"}, 1 - s))
                steps.append(("step", {"who": "q"}, 2))
            return steps

        @reachable
        def started(self, s):
            return True

        @eventually
        def arrives(self, s):
            return s == 2

    assert check(Two(), only=["arrives"]).properties["arrives"].status == VIOLATED
    Two.fairness = (weak("step", per="who"),)
    assert check(Two(), only=["arrives"]).properties["arrives"].status == HOLDS


def test_strong_fairness_may_need_a_smaller_cycle():
    # 0 <-> 1 <-> 2 (one strongly connected component), "exit" from 2 to the goal 3 is strongly fair
    # and never taken inside. The cycle 0,1,0 never passes 2, where "exit" is enabled: it is fair.
    edges = [(0, "a", 1), (1, "a", 0), (1, "a", 2), (2, "a", 1), (2, "exit", 3)]
    prop, _ = judge(graph_model(edges, goal={3}, fairness=[strong("exit"), weak("a")]))
    assert prop.status == VIOLATED
    assert 2 not in states_of(prop.trace)[prop.trace.loop:]


def test_leads_to():
    # 0 -> 1 (request) -> 2 (answer) -> 0, and 1 -> 1' (3) -> 1: after a request the run may loop
    # 1,3,1 forever without an answer, unless "answer" is weakly fair... it is disabled in 3, so
    # weak fairness is not enough; strong fairness is.
    edges = [(0, "ask", 1), (1, "answer", 2), (2, "reset", 0), (1, "dither", 3), (3, "dither", 1)]
    lead = ({1}, {2})
    prop, _ = judge(graph_model(edges, goal=set(), lead=lead, fairness=[weak("answer")]), prop="answered")
    assert prop.status == VIOLATED and prop.trace.loop is not None
    assert 2 not in states_of(prop.trace)[1:]
    prop, _ = judge(graph_model(edges, goal=set(), lead=lead, fairness=[strong("answer")]), prop="answered")
    assert prop.status == HOLDS


def test_liveness_never_holds_without_an_exhausted_bfs():
    model = graph_model([(0, "a", 1), (1, "b", 2), (2, "c", 3)], goal={3})
    prop, result = judge(model, bounds=Bounds(max_depth=2))
    assert prop.status == INCOMPLETE and result.verdict == INCOMPLETE
    prop, result = judge(model, strategy="dfs")
    assert prop.status == NOT_CHECKED and result.verdict == INCOMPLETE
    prop, result = judge(model, storage=Storage(fingerprints=True))
    assert prop.status == NOT_CHECKED and result.verdict == INCOMPLETE


def test_lasso_trace_round_trips_and_replays(tmp_path):


    edges = [(0, "spin", 1), (1, "spin", 0), (0, "exit", 2), (1, "exit", 2)]
    model = graph_model(edges, goal={2})
    prop, _ = judge(model)
    path = tmp_path / "lasso.json"
    write_trace(prop.trace, path)
    loaded = load_trace(path)
    assert loaded.loop == prop.trace.loop == 0
    assert replay(loaded, model).reproduces


@pytest.mark.parametrize("loop", [-1, 2, "0", True])
def test_a_bad_loop_index_is_refused(loop):

    from agree.properties.errors import InputError

    data = {"format": 1, "model": "graph", "initial": 0, "kind": "eventually", "property": "arrives",
            "steps": [{"action": "a", "args": {}, "state": 1}, {"action": "b", "args": {}, "state": 0}],
            "loop": loop}
    with pytest.raises(InputError):
        trace_from_json(data)


# ----- against a brute-force oracle on random small graphs

from itertools import combinations  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def oracle_violated(edges, goal, fairness, n) -> bool:
    """Is there a fair execution from state 0 that never reaches the goal? By brute force: the
    states reachable from 0 through non-goal states; a dead end among them (no step to another
    state), or a set S of them whose induced subgraph is strongly connected with a cycle and whose
    covering cycle is fair (taking more edges only helps fairness, and which groups are enabled
    depends only on the states visited, so S's covering cycle is the fairest cycle on S)."""
    if 0 in goal:
        return False
    region, todo = {0}, [0]
    while todo:
        u = todo.pop()
        for a, b, v in edges:
            if a == u and v not in goal and v not in region:
                region.add(v)
                todo.append(v)
    if any(not any(a == u and v != u for a, _, v in edges) for u in region):
        return True
    weak_actions = {x for kind, x in fairness if kind == "weak"}
    strong_actions = {x for kind, x in fairness if kind == "strong"}
    enabled = {u: {b for a, b, v in edges if a == u and v != u} for u in region}
    for size in range(1, len(region) + 1):
        for chosen in combinations(sorted(region), size):
            S = set(chosen)
            inner = [(a, b, v) for a, b, v in edges if a in S and v in S]
            if not inner or not _strongly_connected(S, inner):
                continue
            taken = {b for a, b, v in inner if a != v}
            if all(x in taken or any(x not in enabled[u] for u in S) for x in weak_actions) and \
                    all(x in taken or all(x not in enabled[u] for u in S) for x in strong_actions):
                return True
    return False


def _strongly_connected(S, inner) -> bool:
    for start in S:
        seen, todo = {start}, [start]
        while todo:
            u = todo.pop()
            for a, _, v in inner:
                if a == u and v not in seen:
                    seen.add(v)
                    todo.append(v)
        if seen != S:
            return False
    return True


graphs = st.integers(2, 5).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from("abc"), st.integers(0, n - 1)), max_size=10,
             unique=True),
    st.sets(st.integers(0, n - 1), max_size=2),
    st.lists(st.tuples(st.sampled_from(["weak", "strong"]), st.sampled_from("abc")), max_size=3,
             unique_by=lambda f: f[1])))


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_find_lasso_agrees_with_brute_force(case):
    n, edges, goal, fairness = case
    fairs = [weak(x) if kind == "weak" else strong(x) for kind, x in fairness]
    model = graph_model(edges, goal=goal, fairness=fairs)
    prop = check(model, only=["arrives"]).properties["arrives"]
    assert (prop.status == VIOLATED) == oracle_violated(edges, goal, fairness, n)
    if prop.status == VIOLATED:  # the counterexample itself is checked by replay (closes, fair)
        assert replay(trace_from_json(trace_to_json(prop.trace)), model).reproduces


def test_recording_during_the_search_equals_expanding_again():
    # The one-process BFS records steps as it goes; after a search shared with helpers the graph
    # is built by expanding every state again. Both must give the same graph.
    import numpy as np

    from agree.explorer.engines.liveness.graph import build_graph
    from agree.explorer.engines.liveness.judge import explored_graph
    from agree.models.twophase_btm import TwoPhaseBTM

    model = TwoPhaseBTM(rms=2)
    recorded = explored_graph(model, 10 ** 6)
    parents = {s: (None if i < recorded.initial else recorded.states[0]) for i, s in enumerate(recorded.states)}
    rebuilt = build_graph(model, parents, type(model).fairness)
    assert rebuilt.states == recorded.states and rebuilt.initial == recorded.initial == 1
    for field in ("indptr", "dst", "labels", "masks", "enabled", "self_loop", "moves"):
        assert np.array_equal(getattr(rebuilt, field), getattr(recorded, field)), field
    assert recorded.fairness.names == rebuilt.fairness.names


def test_workers_give_the_same_liveness_verdict():
    from agree.models.twophase_btm import TwoPhaseBTM

    model = TwoPhaseBTM.with_variant("no-backup")(rms=5)
    one = check(model, only=["termination"]).properties["termination"]
    two = check(model, only=["termination"], parallel=Parallel(2)).properties["termination"]
    assert one.status == two.status == VIOLATED
    assert [s.action for s in one.trace.steps] == [s.action for s in two.trace.steps]


class SameHash(int):
    """An integer whose hash is always 7: every state of a graph made of them shares one hash."""

    def __hash__(self):
        return 7


def test_states_sharing_a_hash_are_still_told_apart():
    # The recorder turns successor hashes into state numbers; when two states share a hash it must
    # fall back to exact lookups. Same graph, same answers, with and without colliding hashes.
    for kind in (int, SameHash):
        edges = [(kind(0), "spin", kind(1)), (kind(1), "spin", kind(0)), (kind(1), "exit", kind(2))]
        model = graph_model(edges, goal={kind(2)}, init=(kind(0),), fairness=[weak("exit")])
        prop = check(model, only=["arrives"]).properties["arrives"]
        assert prop.status == VIOLATED and states_of(prop.trace) == [0, 1, 0] and prop.trace.loop == 0
        model = graph_model(edges, goal={kind(2)}, init=(kind(0),), fairness=[strong("exit")])
        assert check(model, only=["arrives"]).properties["arrives"].status == HOLDS
