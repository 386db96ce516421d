"""Raft membership changes: configurations and their quorums, the Z3 lemmas, small pinned
searches of reconfig=single and reconfig=joint, symmetry with configurations in the log, and the
stored traces of the 2015 single-server bug and of joint consensus skipped."""

import json
from itertools import permutations
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS
from agree.explorer.traces.format import load_trace
from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models import network
from agree.models.raft import Raft
from agree.models.raft.membership import RaftMembership
from agree.properties import logs
from agree.properties.errors import InputError
from agree.properties.quorums import check_intersection, lemma_named, prove_lemma
from agree.properties.quorums.membership import Configuration
from tests.conftest import reachable_states

ROOT = Path(__file__).resolve().parent.parent
SINGLE = {"reconfig": "single", "nodes": 2, "spares": 1, "max_term": 1, "max_log": 2, "max_messages": 2,
          "loss": False}
JOINT = {"reconfig": "joint", "nodes": 2, "spares": 1, "max_term": 1, "max_log": 2, "max_messages": 1, "loss": False}
ONE_TERM = [p.name for p in RaftMembership.properties() if p.name != "leader_after_commit"]  # needs 2 terms
TRACES = {"single-server-bug": ("election_safety", 29), "joint-skip": ("election_safety", 13)}


def test_configuration_quorums_and_text():
    c = Configuration.of(["s1", "s2", "s3"])
    assert c.is_quorum({"s1", "s3"}) and not c.is_quorum({"s2", "s4"})
    joint = c.enter_joint(["s3", "s4", "s5"])
    assert joint.joint and joint.voting == {"s1", "s2", "s3", "s4", "s5"}
    assert joint.is_quorum({"s1", "s3", "s4"}) and not joint.is_quorum({"s1", "s2", "s4"})  # both halves
    assert joint.leave_joint() == Configuration.of(["s3", "s4", "s5"])
    learned = c.add_learner("s4")
    assert learned.members == ("s1", "s2", "s3", "s4") and not learned.is_quorum({"s1", "s4"})
    assert learned.add_voter("s4").learners == () and learned.add_voter("s4").voters == ("s1", "s2", "s3", "s4")
    for config in (c, joint, learned, joint.add_learner("s6")):
        assert Configuration.parse(config.text) == config
    assert c.voters_changed(joint.leave_joint()) == 4  # s1, s2 out; s4, s5 in
    with pytest.raises(InputError):
        Configuration.parse("config(s1)")


def test_z3_one_server_apart_overlap_and_siblings_need_not():
    parent = Configuration.of(["s1", "s2", "s3", "s4"])
    added, removed = parent.add_voter("s5"), parent.remove("s1")
    assert check_intersection(parent.quorum_system(), added.quorum_system()).verdict == "intersect"
    assert check_intersection(parent.quorum_system(), removed.quorum_system()).verdict == "intersect"
    siblings = check_intersection(added.quorum_system(), removed.quorum_system())
    assert siblings.verdict == "disjoint"  # the 2015 bug: e.g. {s1, s4, s5} and {s2, s3}
    assert prove_lemma(lemma_named("single-server-change")).verdict == "proved"
    sibling = prove_lemma(lemma_named("sibling-configurations"))
    assert sibling.verdict == "counterexample" and sibling.as_expected and sibling.counterexample["common"] == 0


def test_reconfig_none_is_todays_raft():
    assert type(Raft()) is Raft and type(Raft(reconfig="single")) is RaftMembership
    assert not {"config_change_committed", "new_server_votes"} & {p.name for p in Raft.properties()}
    with pytest.raises(InputError, match="spares"):
        Raft(spares=1)
    with pytest.raises(InputError, match="learners"):
        Raft(reconfig="joint", learners=True)


def test_single_server_changes_hold_with_pinned_count():
    result = check(Raft(**SINGLE), only=ONE_TERM)
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (8192, 39)
    statuses = {k: v.status for k, v in result.properties.items()}
    assert all(statuses[g] == "reached" for g in ("config_change_committed", "removed_leader_steps_down",
                                                  "new_server_votes")), statuses
    assert result.coverage["AddNewServer"]["fired"] and result.coverage["RemoveServer"]["fired"]


def test_joint_consensus_holds_with_pinned_count():
    result = check(Raft(**JOINT), only=ONE_TERM)
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (4833, 27)
    steps = [s.action for s in result.properties["removed_leader_steps_down"].trace.steps]
    assert steps.index("EnterJoint") < steps.index("LeaveJoint")


def test_joint_consensus_with_configurations_as_the_only_commands():
    """client_values=0: joint consensus still commits (its configuration entries), with a smaller
    count; the other modes have nothing to commit without client values and refuse it."""
    result = check(Raft(**JOINT, client_values=0), only=ONE_TERM)
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (1089, 25)
    assert all(result.properties[g].status == "reached" for g in ("config_change_committed", "new_server_votes"))
    assert result.coverage["ClientRequest"] == {"fired": 0, "new": 0, "off": "client_values=0"}
    for reconfig in ("none", "single"):
        with pytest.raises(InputError, match="client_values=0"):
            Raft(reconfig=reconfig, client_values=0)


def test_learners_are_added_and_promoted():
    result = check(Raft(**SINGLE, learners=True), only=ONE_TERM)
    assert result.verdict == HOLDS and result.coverage["AddLearner"]["fired"]


def _renamed(model, s, p):
    """s with server i moved to position p[i] and every name renamed, configurations included
    (the test's own code, independent of the model's symmetry)."""
    rename = {model.names[i]: model.names[p[i]] for i in range(model.size)}
    order = [p.index(k) for k in range(model.size)]
    moved = lambda values: tuple(values[i] for i in order)  # noqa: E731
    value = lambda v: Configuration.parse(v).renamed(rename).text if Configuration.is_text(v) else v  # noqa: E731
    log = lambda entries: tuple((t, value(v)) for t, v in entries)  # noqa: E731

    def msg(m):
        fields = m[:2] + (rename[m[2]], rename[m[3]]) + m[4:]
        if m[0] == "AppendEntriesRequest":
            fields = fields[:6] + (log(fields[6]),) + fields[7:]
        return type(m)(*fields)

    return type(s)(moved(s.term), moved(s.role), tuple(rename.get(s.voted_for[i]) for i in order),
                   tuple(log(s.log[i]) for i in order), moved(s.commit),
                   tuple(frozenset(rename[v] for v in s.votes[i]) for i in order),
                   tuple(moved(s.next_index[i]) if s.next_index[i] else () for i in order),
                   tuple(moved(s.match_index[i]) if s.match_index[i] else () for i in order),
                   network.from_messages(msg(m) for m, c in s.msgs for _ in range(c)),
                   frozenset((t, rename[v]) for t, v in s.elected), s.restarts, s.duplicates)


def test_symmetry_counts_the_orbits_of_renamings_that_keep_the_initial_configuration():
    model = Raft(**SINGLE | {"nodes": 2, "max_log": 2})
    states = reachable_states(model)
    group = [pv + ps for pv in permutations(range(model.nodes)) for ps in
             permutations(range(model.nodes, model.size))]
    orbits = {frozenset(_renamed(model, s, p) for p in group) for s in states}
    assert all(model.symmetry(_renamed(model, s, p)) == model.symmetry(s) for s in states for p in group)
    assert check(model, symmetry=True).distinct_states == len(orbits) < len(states)


@pytest.mark.parametrize("variant", sorted(TRACES))
def test_membership_variant_traces_are_stored_and_replay(variant):
    prop, length = TRACES[variant]
    assert Raft.variants()[variant].breaks == prop
    trace = load_trace(str(ROOT / "counterexamples" / f"raft--{variant}.json"))
    assert (trace.variant, trace.property, len(trace)) == (variant, prop, length)
    assert trace.params == Raft.with_variant(variant).param_defaults()
    assert replay(trace).reproduces
    data = json.loads((ROOT / "counterexamples" / f"raft--{variant}.json").read_text())
    assert "appends config{" in render_mermaid(data, Raft.with_variant(variant)(**data["params"]))


def test_committed_kept_on_plain_data():
    before = [((1, "a"),), ((1, "a"),), ()]
    assert logs.committed_kept(before, [1, 0, 0], [((1, "a"),), ((1, "a"), (2, "b")), ((3, "c"),)])
    assert not logs.committed_kept(before, [1, 0, 0], [((1, "a"),), ((3, "c"),), ()])  # s2 held it: lost


def test_membership_defaults_reach_every_guard():
    # `agree check raft -p reconfig=single`: its own small defaults (2 voters, 1 spare, 2 terms, 2 entries)
    result = check(Raft(reconfig="single"), symmetry=True)
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (30776, 49)
