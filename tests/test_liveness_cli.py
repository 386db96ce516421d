"""`agree graph` (the exported graph has the states and steps the search found, annotated),
`agree check --show-deadlock`, and liveness in `agree list`."""

from __future__ import annotations

import json

import networkx as nx
from click.testing import CliRunner

from agree.explorer.cli import cli
from agree.explorer.engines.check import check
from agree.models.twophase_btm import TwoPhaseBTM


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_json_export_has_every_state_and_step():
    # the node-link JSON must hold exactly the states BFS counts
    states = check(TwoPhaseBTM(rms=1)).distinct_states
    result = run("graph", "twophase-btm", "-p", "rms=1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    g = nx.node_link_graph(data, edges="edges")
    assert g.number_of_nodes() == states
    initial = [n for n, a in g.nodes(data=True) if a["initial"]]
    assert initial == ["s0"] and g.nodes["s0"]["termination"] is False
    done = [n for n, a in g.nodes(data=True) if a["termination"]]
    assert done and all(a["action"] == "Terminating" for u, v, a in g.out_edges(done, data=True))
    rs = [a for _, _, a in g.edges(data=True) if a["action"] == "RS" and a["fair"]]
    assert rs and all(a["fair"] == "WF(RS) for rm=r1" for a in rs)


def test_dot_and_graphml(tmp_path):
    dot = run("graph", "duelling-proposers", "-p", "acceptors=1", "--format", "dot")
    assert dot.exit_code == 0 and dot.output.startswith('digraph "duelling-proposers" {')
    out = tmp_path / "g.graphml"
    assert run("graph", "twophase-btm", "-p", "rms=1", "--format", "graphml", "-o", out).exit_code == 0
    assert nx.read_graphml(out).number_of_nodes() == check(TwoPhaseBTM(rms=1)).distinct_states


def test_a_large_graph_is_refused_in_one_line():
    result = run("graph", "twophase-btm", "--max-states", "100")
    assert result.exit_code == 2
    assert "more than 100 reachable states" in result.output and "Traceback" not in result.output


def test_show_deadlock_prints_the_path_to_a_state_with_no_step():
    # With TMMAYFAIL = FALSE the BTM never runs: a finished run has no step at all
    result = run("check", "twophase-btm", "-p", "tm_may_fail=false", "--show-deadlock")
    assert result.exit_code == 1  # termination fails
    assert "shortest path to a dead end" in result.output and "=> no step is enabled here" in result.output
    data = json.loads(run("check", "twophase-btm", "-p", "tm_may_fail=false", "--show-deadlock", "--json",
                          "--quiet").output)
    assert data["dead_ends"] > 0 and data["dead_end"]["kind"] == "dead-end"


def test_list_shows_fairness():
    result = run("list", "twophase-btm")
    assert "fairness: WF(RS) for each rm, WF(TS | TC | F1 | TA | F2), WF(BTS | BTC | BTA)" in result.output


def test_raft_elects_a_leader_when_timeouts_do_not_collide():
    from agree.models.raft import Raft

    result = check(Raft.with_variant("stable-election")(max_log=0))
    assert result.properties["leader_elected"].status == "holds"


def test_raft_split_votes_stop_at_the_term_bound_without_a_leader():
    # 258,462 states: with colliding timeouts all three servers stand in term 2 and split the vote
    from agree.models.raft import Raft

    model = Raft.with_variant("stable-election")(max_log=0, max_messages=4, timeouts_collide=True)
    prop = check(model, only=["leader_elected"]).properties["leader_elected"]
    assert prop.status == "violated" and prop.trace.loop is None
    assert all(t == 2 for t in prop.trace.steps[-1].state.term)
