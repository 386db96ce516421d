"""Raft: pinned state counts, the four classic bugs with their minimal traces, symmetry, drawing."""

import json
from itertools import permutations
from pathlib import Path

import pytest

from agree.explorer.engines.check import check
from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.models import network
from agree.models.raft import Raft
from agree.models.registry import build_model
from agree.properties import logs
from agree.explorer.traces.format import load_trace
from tests.conftest import reachable_states

ROOT = Path(__file__).resolve().parent.parent
TRACES = {  # variant: (property, minimal trace length)
    "vote-without-log-check": ("leader_completeness", 15),
    "leader-ignores-higher-term": ("election_safety", 10),
    "volatile-votedfor": ("election_safety", 9),
    "figure8-commit": ("leader_completeness", 31),
}
SMALL = {"nodes": 3, "max_term": 1, "max_log": 1, "max_messages": 2, "loss": False}
FAULTY = {"nodes": 2, "max_term": 2, "max_log": 1, "max_messages": 2, "max_restarts": 1, "max_duplicates": 1}
ELECTIONS = {"nodes": 3, "max_term": 2, "max_log": 0, "max_messages": 2}


ONE_TERM = ["election_safety", "log_matching", "leader_completeness", "state_machine_safety", "leader_append_only",
            "commit_persistence", "leader_elected", "committed_everywhere"]  # leader_after_commit needs 2 terms


def test_small_config_holds_with_pinned_count_and_depth():
    result = check(Raft(**SMALL), only=ONE_TERM)
    assert result.verdict == HOLDS and result.exhausted
    assert (result.distinct_states, result.depth) == (6229, 24)
    assert result.properties["committed_everywhere"].status == "reached"
    # Timeout, a vote granted, the vote counted, BecomeLeader
    assert [s.action for s in result.properties["leader_elected"].trace.steps] == [
        "Timeout", "HandleRequestVoteRequest", "HandleRequestVoteResponse", "BecomeLeader"]


def test_faults_config_fires_every_action():
    result = check(Raft(**FAULTY))
    assert (result.distinct_states, result.depth) == (22776, 30)
    assert all(p.status in ("holds", "reached", "unreached") for p in result.properties.values())
    assert result.properties["leader_after_commit"].status == "unreached"  # two servers: both must move on
    assert all(c["fired"] > 0 for c in result.coverage.values()), result.coverage


def test_leader_after_commit_is_reached_with_two_terms():
    model = Raft(nodes=3, max_term=2, max_log=1, max_messages=2, loss=False)
    result = check(model, only=["leader_after_commit"])
    assert result.properties["leader_after_commit"].status == "reached"


@pytest.mark.parametrize("variant", sorted(TRACES))
def test_variant_trace_is_stored_minimal_and_replays(variant):
    prop, length = TRACES[variant]
    info = Raft.variants()[variant]
    assert info.breaks == prop
    trace = load_trace(str(ROOT / "counterexamples" / f"raft--{variant}.json"))
    assert (trace.variant, trace.property, len(trace)) == (variant, prop, length)
    assert trace.params == Raft.with_variant(variant).param_defaults()
    assert replay(trace).reproduces


@pytest.mark.parametrize("variant", ["vote-without-log-check", "leader-ignores-higher-term", "volatile-votedfor"])
def test_small_variants_are_caught_with_minimal_traces(variant):
    prop, length = TRACES[variant]
    result = check(build_model("raft", variant=variant), only=[prop])
    assert result.verdict == VIOLATED and result.violation.name == prop
    assert len(result.violation.trace) == length


def test_figure8_is_caught_with_a_minimal_trace():
    result = check(build_model("raft", variant="figure8-commit"), only=["leader_completeness"])
    assert result.verdict == VIOLATED and len(result.violation.trace) == 31


def test_volatile_votedfor_story():
    trace = load_trace(str(ROOT / "counterexamples" / "raft--volatile-votedfor.json"))
    actions = [s["action"] for s in trace.steps]
    assert actions.count("Restart") == 1 and actions.count("BecomeLeader") == 2
    last = trace.steps[-1]["state"]
    assert sorted(r for r in last["role"]) == ["follower", "leader", "leader"]
    assert len({t for t in last["term"]}) == 1


@pytest.mark.parametrize("variant", sorted(TRACES))
def test_mermaid_draws_servers_and_rpcs(variant):
    data = json.loads((ROOT / "counterexamples" / f"raft--{variant}.json").read_text())
    text = render_mermaid(data, Raft.with_variant(variant)(**data["params"]))
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert [ln.strip() for ln in lines if "participant" in ln] == [f"participant s{k} as s{k}" for k in (1, 2, 3)]
    assert any("->>" in ln and "RequestVote(term 1)" in ln for ln in lines)
    assert any("->>" in ln and "Vote(term" in ln and "yes" in ln for ln in lines)
    assert lines[-1].strip().endswith(f"{TRACES[variant][0]} violated")


def test_figure8_trace_shows_the_old_entry_committed_by_counting():
    data = json.loads((ROOT / "counterexamples" / "raft--figure8-commit.json").read_text())
    text = render_mermaid(data, Raft.with_variant("figure8-commit")(**data["params"]))
    assert "AppendEntries(term 3, prev 0, [1:v1])" in text  # a term-1 entry replicated in term 3
    assert "commitIndex = 1" in text
    assert "leader of term 4" in text


# ----- symmetry


def brute_force_orbits(model, states) -> set:
    """Each state's orbit as the set of all its renamings (the test's own permutations and
    renaming code, independent of Raft.symmetry)."""
    names = [f"s{k + 1}" for k in range(model.nodes)]
    renamings = [(p, {names[i]: names[p[i]] for i in range(len(names))}) for p in permutations(range(len(names)))]
    return {frozenset(_permute(model, s, p, rename) for p, rename in renamings) for s in states}


def test_symmetry_counts_exactly_the_orbits():
    model = Raft(**ELECTIONS)
    states = reachable_states(model)
    plain, reduced = check(model), check(model, symmetry=True)
    assert plain.distinct_states == len(states) == 9879
    assert reduced.distinct_states == len(brute_force_orbits(model, states)) == 1667
    assert plain.verdict == reduced.verdict
    assert {k: v.status for k, v in plain.properties.items()} == {k: v.status for k, v in reduced.properties.items()}


def test_symmetry_is_invariant_under_renaming():
    model = Raft(**SMALL)
    for s in list(reachable_states(model))[:300]:
        for p, rename in model.perms:
            assert model.symmetry(_permute(model, s, p, rename)) == model.symmetry(s)


def _permute(model, s, p, rename):
    """s with server i moved to position p[i], as a real state (the test's own, independent code)."""
    n = model.nodes
    order = [p.index(k) for k in range(n)]
    moved = lambda values: tuple(values[i] for i in order)  # noqa: E731
    from agree.models.raft import RaftState
    msg = lambda m: type(m)(*(m[:2] + (rename[m[2]], rename[m[3]]) + m[4:]))  # noqa: E731
    return RaftState(moved(s.term), moved(s.role), tuple(rename.get(s.voted_for[i]) for i in order),
                     moved(s.log), moved(s.commit), tuple(frozenset(rename[v] for v in s.votes[i]) for i in order),
                     tuple(moved(s.next_index[i]) if s.next_index[i] else () for i in order),
                     tuple(moved(s.match_index[i]) if s.match_index[i] else () for i in order),
                     network.from_messages(msg(m) for m, c in s.msgs for _ in range(c)),
                     frozenset((t, rename[v]) for t, v in s.elected), s.restarts, s.duplicates)


@pytest.mark.parametrize("params", [SMALL, ELECTIONS | {"max_duplicates": 1, "loss": False}])
def test_symmetry_agrees_with_the_brute_force_canonical_form(params):
    # the least full encoding over every renaming: slow, obviously right, and independent of
    # how Raft.symmetry chooses its representative (the second configuration has many states
    # whose servers tie on every per-server field, so the network must break the tie)
    model = Raft(**params)
    states = reachable_states(model)

    def encoding(s):
        return (s.term, s.role, tuple(v or "" for v in s.voted_for), s.log, s.commit,
                tuple(tuple(sorted(v)) for v in s.votes), s.next_index, s.match_index, s.msgs,
                tuple(sorted(s.elected)), s.restarts, s.duplicates)

    brute = {s: min(encoding(_permute(model, s, p, rename)) for p, rename in model.perms) for s in states}
    by_model = {}
    for s in states:
        by_model.setdefault(model.symmetry(s), set()).add(brute[s])
    assert all(len(forms) == 1 for forms in by_model.values())  # one orbit per canonical key
    assert len(by_model) == len(set(brute.values()))  # and one key per orbit


def test_symmetry_separates_different_orbits():
    model = Raft(**SMALL)
    initial = next(iter(model.init()))
    timeouts = [t for act, _, t in model.next(initial) if act == "Timeout"]
    assert len(timeouts) == 3 and len(set(timeouts)) == 3
    assert len({model.symmetry(t) for t in timeouts}) == 1  # whoever times out first: one orbit
    assert model.symmetry(timeouts[0]) != model.symmetry(initial)


# ----- the property functions on plain data

def test_log_properties_on_plain_data():
    assert logs.election_safety([(1, "a"), (2, "b"), (1, "a")])
    assert not logs.election_safety([(1, "a"), (1, "b")])
    assert logs.log_matching([((1, "x"), (2, "y")), ((1, "x"),), ()])
    assert not logs.log_matching([((1, "x"), (2, "y")), ((1, "z"), (2, "y"))])
    assert logs.state_machine_safety([((1, "x"),), ((2, "y"),)], [1, 0])
    assert not logs.state_machine_safety([((1, "x"),), ((2, "y"),)], [1, 1])
    assert not logs.leader_completeness([((1, "x"),), ((2, "y"),)], [1, 0], [1, 2], [1])
    assert logs.leader_completeness([((1, "x"),), ((2, "y"),)], [1, 0], [2, 2], [1])
    assert logs.append_only(((1, "x"),), ((1, "x"), (1, "y"))) and not logs.append_only(((1, "x"),), ())
    assert logs.commit_persists([((1, "x"),)] * 3, [1, 0, 0], [((1, "x"),), ((1, "x"),), ()], 2)
    assert not logs.commit_persists([((1, "x"),)] * 3, [1, 0, 0], [((1, "x"),), (), ()], 2)


def test_cli_show_mermaid_and_replay(agree):
    path = ROOT / "counterexamples" / "raft--volatile-votedfor.json"
    shown = agree("show", path, "--format", "mermaid")
    assert shown.code == 0
    assert "participant s1 as s1" in shown.out
    assert "s1->>s2: 2. RequestVote(term 1)" in shown.out and "s2->>s3: 8. Vote(term 1, yes)" in shown.out
    assert "Note over s2" in shown.out and "3. restarts, losing its volatile state" in shown.out
    replayed = agree("replay", path)
    assert replayed.code == 0 and "reproduces" in replayed.out


def test_a_commit_index_past_the_log_is_a_violation_not_a_crash():
    assert logs.commit_within_log([((1, "v1"),), ()], [1, 0])
    assert not logs.commit_within_log([((1, "v1"),), ()], [1, 1])
    assert logs.committed_entries([((1, "v1"),), ()], [1, 1]) == {(1, (1, "v1"))}
