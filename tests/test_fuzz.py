"""The Hypothesis bridge and `agree fuzz`: each model's broken variants are caught in a fixed,
seeded budget, the correct models raise no alarm, and the verdict never claims `holds`.

Budgets are (runs, steps per run) at seed 0 unless said; every test runs in the default run (the
slowest, Raft's figure-8, takes about 20 s). What must be found is each variant's own statement
of the property it breaks (`Variant.breaks`), which the BFS checks in tests/test_*.py confirm.
"""

from __future__ import annotations

import json

import pytest
from hypothesis.stateful import run_state_machine_as_test

from agree.explorer.engines.fuzzing.fuzz import YOUNG_COLLECTION, fuzz
from agree.explorer.engines.fuzzing.bridge import PropertyViolation, state_machine
from agree.explorer.engines.result import INCOMPLETE, REACHED, VIOLATED

from agree.explorer.traces.replay import replay
from agree.explorer.engines.strategies.shrink import shrink
from agree.models.registry import build_model, builtin_models
from agree.explorer.traces.format import trace_from_json, trace_to_json



def caught(model_name: str, variant: str, examples: int, steps: int, seed: int = 0):
    model = build_model(model_name, {}, variant)
    prop = type(model).variant_info().breaks
    outcome = fuzz(model, examples=examples, steps=steps, seed=seed, only=[prop])
    violation = outcome.result.violation
    assert violation is not None and violation.status == VIOLATED and violation.name == prop, \
        f"{model_name} --variant {variant}: {prop} not violated in {outcome.runs} runs"
    # the trace is real: it replays from its JSON form, through today's model, to the violation
    assert replay(trace_from_json(trace_to_json(violation.trace))).reproduces
    return violation.trace


def quiet_on_the_correct_model(model_name: str, examples: int, steps: int, guards: set[str], seed: int = 0):
    outcome = fuzz(build_model(model_name), examples=examples, steps=steps, seed=seed)
    result = outcome.result
    assert result.violation is None and result.verdict == INCOMPLETE  # never `holds`
    assert {n for n, p in result.properties.items() if p.status == REACHED} == guards
    assert outcome.runs >= examples and outcome.steps > 0


@pytest.mark.parametrize("variant, examples, steps", [
    ("tm-commits-early", 50, 20),
    ("rm-aborts-after-prepare", 50, 20),
])
def test_twophase_variants_are_caught(variant, examples, steps):
    caught("twophase", variant, examples, steps)


def test_twophase_and_tcommit_correct_models_raise_no_alarm():
    # 150 runs: with an eighth of the runs afresh (guide.FRESH), 100 runs reach all_committed at seeds 1..3, not 0
    quiet_on_the_correct_model("twophase", 150, 30, {"all_committed", "all_aborted"})
    quiet_on_the_correct_model("tcommit", 50, 20, {"all_committed", "all_aborted"})


@pytest.mark.parametrize("variant, examples, steps", [
    ("accept-below-promise", 50, 20),
    ("forget-promise", 50, 20),
    ("ignore-reported-value", 50, 20),
    ("minority-quorum", 100, 20),
    ("amnesia-restart", 1000, 60),
])
def test_paxos_variants_are_caught(variant, examples, steps):
    caught("paxos", variant, examples, steps)


def test_paxos_correct_model_raises_no_alarm():
    quiet_on_the_correct_model("paxos", 50, 20, {"value_chosen"})


@pytest.mark.parametrize("variant, examples, steps", [
    ("new-leader-ignores-votes", 500, 50),
    ("apply-unchosen", 500, 50),
])
def test_multipaxos_variants_are_caught(variant, examples, steps):
    caught("multipaxos", variant, examples, steps)


def test_multipaxos_correct_model_raises_no_alarm():
    quiet_on_the_correct_model("multipaxos", 50, 20, {"two_slots_chosen", "log_applied"})


@pytest.mark.parametrize("variant, examples, steps", [
    ("leader-ignores-higher-term", 50, 20),
    ("volatile-votedfor", 800, 50),
    ("vote-without-log-check", 800, 30),
])
def test_raft_variants_are_caught(variant, examples, steps):
    caught("raft", variant, examples, steps)


def test_raft_figure8_is_caught_by_guided_runs():
    """The figure-8 bug needs four elections in a particular order, 31 steps at the least: guided
    runs (explorer.engines.fuzzing.guide) reach it by continuing kept runs (at seed 0, after some 4,000
    runs, about 10-20 s); shrunk, the trace is at most twice the BFS-shortest length."""
    trace = caught("raft", "figure8-commit", 4000, 100)
    assert 31 <= len(shrink(trace, build_model("raft", {}, "figure8-commit"))) <= 62


def test_raft_correct_model_raises_no_alarm():
    # seed 1: since guide.FRESH = 32, seed 0 reaches leader_after_commit in none of 100 to 200 runs (seeds 1, 2 do)
    quiet_on_the_correct_model("raft", 100, 30, {"leader_elected", "committed_everywhere", "leader_after_commit"}, seed=1)


# budgets found by trying seeds 0..2 at growing budgets; (runs, steps, seed)
OTHER_MODELS = [
    ("threepc", "partition", 200, 40, 1),  # none in 200 at seed 0 since guide.FRESH = 32
    ("lease", "no-fencing", 200, 40, 0),
    ("lease", "clock-jump", 50, 20, 0),
    ("primary-backup", "script-failover", 50, 20, 0),
    ("pbft", "n-equals-3f", 50, 20, 0),
    ("pbft", "quorum-2f", 50, 20, 0),
    ("pbft", "unsigned-requests", 50, 20, 0),
    ("pbft", "new-primary-drops-prepared", 200, 40, 2),  # across views; none in 200 at seeds 0, 1 since guide.FRESH = 32
    ("pbft", "view-change-quorum-f+1", 1000, 40, 0),  # 537 runs at seed 0 (none in 200)
    ("pbft", "unchecked-new-view", 200, 40, 0),  # 226 runs at seed 0
    ("vr", "amnesia-rejoin", 50, 20, 0),
    ("vr", "eager-view-update", 3000, 60, 0),
    ("vr", "longest-log-wins", 3000, 60, 0),
    ("twophase-btm", "backup-while-primary-slow", 2000, 60, 1),  # 833 runs at seed 1; none in 2000 at seed 0 since cells are coarse
    ("twophase-btm", "abort-ignores-commit", 3000, 60, 1),
    ("paxos-commit", "rm-decides-without-majority", 3000, 40, 0),
    ("paxos-commit", "accept-lower-ballot", 3000, 40, 0),
    ("raft", "joint-skip", 400, 40, 1),  # none in 400 at seed 0 since guide.FRESH = 32
    ("raft", "single-server-bug", 3000, 100, 1),  # the sibling configurations: 2,126 runs at seed 1 (seeds 2, 3: none in 3,000)
]


@pytest.mark.parametrize("model_name, variant, examples, steps, seed", OTHER_MODELS)
def test_the_other_models_variants_are_caught(model_name, variant, examples, steps, seed):
    caught(model_name, variant, examples, steps, seed)


def test_every_registered_safety_variant_has_a_bridge_test():
    """Liveness variants are out of the bridge's reach: a random run cannot show that something
    never happens (they are judged on the exhausted graph by agree check)."""
    tested = {"tm-commits-early", "rm-aborts-after-prepare", "accept-below-promise", "forget-promise",
              "ignore-reported-value", "minority-quorum", "amnesia-restart", "new-leader-ignores-votes",
              "apply-unchosen", "leader-ignores-higher-term", "volatile-votedfor", "vote-without-log-check",
              "figure8-commit"} | {v for _, v, *_ in OTHER_MODELS}
    registered = {v for cls in builtin_models().values() for v, info in cls.variants().items()
                  if info.breaks and {p.name: p.kind for p in cls.properties()}[info.breaks]
                  in ("invariant", "transition")}
    assert registered == tested


def test_the_same_seed_gives_the_same_counterexample():
    def run(seed):
        model = build_model("twophase", {}, "rm-aborts-after-prepare")
        return trace_to_json(fuzz(model, examples=50, steps=20, seed=seed, only=["consistent"]).result.violation.trace)

    assert run(0) == run(0)


def test_the_same_seed_gives_the_same_counterexample_in_other_processes():
    """Across processes with different string hashing (set iteration order) and imports."""
    import os
    import subprocess
    import sys

    def run(hash_seed: str) -> dict:
        ran = subprocess.run([sys.executable, "-m", "explorer", "fuzz", "twophase", "--variant", "rm-aborts-after-prepare",
                              "--examples", "50", "--steps", "20", "--json", "--quiet"],
                             capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed})
        data = json.loads(ran.stdout)
        return {"runs": data["fuzz"]["runs"], "trace": data["violation"]["trace"]}

    assert run("1") == run("2")


def test_a_time_limit_stops_the_search_with_an_honest_verdict():
    outcome = fuzz(build_model("raft"), examples=100_000, steps=50, time_limit=0.5)
    assert outcome.result.stopped_by == "time-limit" and outcome.result.verdict == INCOMPLETE
    assert outcome.runs < 100_000


def test_runs_take_exactly_the_steps_asked_for():
    # runs stop at --steps steps, never later, and some run of these ten gets there (Raft rarely
    # deadlocks): depth, in states with the initial one counting, is steps + 1
    for steps in (1, 8, 30):
        assert fuzz(build_model("raft"), examples=10, steps=steps).result.depth == steps + 1


def test_garbage_is_collected_less_often_during_a_search_only():
    import gc

    before, during = gc.get_threshold(), []
    model = build_model("twophase", {"rms": 2})
    model.within = lambda s: during.append(gc.get_threshold()) or True  # called on every successor
    fuzz(model, examples=10, steps=5)
    runs = during[1:]  # the first call filters the initial states, before the search starts
    assert runs and all(t[0] >= YOUNG_COLLECTION and t[1:] == before[1:] for t in runs)
    assert gc.get_threshold() == before


def test_distinct_states_counts_each_state_visited_once():
    # the count is kept by hash (bridge.FuzzStats.seen): it must still be the number of distinct
    # states the runs judged, here every one an invariant saw
    from agree import invariant

    judged = set()

    class Recorded(type(build_model("twophase"))):
        @invariant
        def recorded(self, s) -> bool:
            judged.add(s)
            return True

    result = fuzz(Recorded(rms=3), examples=200, steps=30, only=["recorded"]).result
    assert result.distinct_states == len(judged) > 100


def test_within_is_respected():
    model = build_model("twophase", {"rms": 2})
    model.within = lambda s: s[1] != "committed"  # a user's state constraint: the TM never commits
    outcome = fuzz(model, examples=60, steps=20)
    assert "TMCommit" not in outcome.result.coverage or outcome.result.coverage["TMCommit"]["fired"] == 0
    assert outcome.result.properties["all_committed"].status == INCOMPLETE  # cut off by within


def test_the_one_line_test_class_runs_and_fails_with_the_trace():
    machine = state_machine(build_model("twophase", {"rms": 2}, "tm-commits-early"), max_examples=50, steps=20)
    with pytest.raises(PropertyViolation) as failure:
        run_state_machine_as_test(machine)
    assert failure.value.trace.property == "consistent"
    assert "consistent (invariant) violated after" in str(failure.value)


TestTwoPhaseMachine = state_machine(build_model("twophase", {"rms": 2}), max_examples=20, steps=20).TestCase


def test_shrinking_a_padded_trace_gives_the_bfs_length():
    """ddmin removes the steps that do not matter: a random walk's trace for rm-aborts-after-prepare
    shrinks to 7 steps, the BFS-shortest length (counterexamples/twophase--rm-aborts-after-prepare.json)."""
    from agree.explorer.engines.check import check

    model = build_model("twophase", {"rms": 2}, "rm-aborts-after-prepare")
    walked = check(model, strategy="random", seed=4, only=["consistent"], shrink=False).violation.trace
    shrunk = shrink(walked, model)
    assert len(walked) == 12 and len(shrunk) == 7
    assert shrunk.extra["shrunk_from"] == len(walked)
    assert replay(trace_from_json(trace_to_json(shrunk))).reproduces


def test_check_shrinks_where_the_search_lives():
    """check() shrinks DFS and random-walk counterexamples itself (no caller has to), within the
    time limit; the library's fuzz() does the same after Hypothesis's own shrinking."""
    from agree.explorer.engines.check import check

    model = build_model("twophase", {"rms": 2}, "rm-aborts-after-prepare")
    shrunk = check(model, strategy="random", seed=4, only=["consistent"]).violation.trace
    assert len(shrunk) == 7 and shrunk.extra["shrunk_from"] == 12
    found = fuzz(model, examples=50, steps=20, seed=0, only=["consistent"]).result.violation.trace
    unshrunk = fuzz(model, examples=50, steps=20, seed=0, only=["consistent"], shrink=False).result.violation.trace
    assert len(found) <= len(unshrunk) and replay(trace_from_json(trace_to_json(found))).reproduces


# --------------------------------------------------------------------------- the command line


def test_fuzz_cli_finds_saves_and_replays(agree, tmp_path):
    saved = tmp_path / "t.json"
    ran = agree("fuzz", "twophase", "--variant", "rm-aborts-after-prepare", "--property", "consistent",
                "--examples", "50", "--steps", "20", "--save-trace", saved)
    assert ran.code == 1
    assert "VIOLATED: consistent" in ran.out and "shrunk from" in ran.out
    assert agree("replay", saved).code == 0
    assert "sequenceDiagram" in agree("show", saved, "--format", "mermaid").out


def test_fuzz_cli_json_has_the_shape_of_check(agree):
    fuzzed = json.loads(agree("fuzz", "twophase", "--examples", "30", "--steps", "10", "--json", "--quiet").out)
    checked = json.loads(agree("check", "twophase", "--json", "--quiet").out)
    assert set(checked) <= set(fuzzed)
    assert fuzzed["verdict"] == "incomplete" and fuzzed["strategy"] == "hypothesis"
    assert fuzzed["fuzz"]["runs"] >= 30 and fuzzed["fuzz"]["steps"] > 0
    assert set(fuzzed["fuzz"]["guards_reached"]) <= {"all_committed", "all_aborted"}


def test_fuzz_cli_without_violation_says_what_was_tried(agree):
    ran = agree("fuzz", "twophase", "--examples", "30", "--steps", "10")
    assert ran.code == 0
    assert "incomplete" in ran.out and "holds" not in ran.out.split("properties:")[0]
    assert "tried " in ran.out and "runs" in ran.out and "guards reached" in ran.out


@pytest.mark.parametrize("args, says", [
    (["nosuch"], "unknown model"),
    (["twophase", "--variant", "nosuch"], "no variant"),
    (["twophase", "--property", "nosuch"], "no property"),
    (["twophase", "--examples", "-1"], "--examples must be"),
    (["twophase", "--steps", "0"], "--steps must be"),
    (["twophase", "--time-limit", "-2"], "--time-limit must be"),
    (["twophase", "-p", "rms=x"], "must be an integer"),
    (["twophase", "--examples", "many"], "examples"),
])
def test_bad_input_to_fuzz_is_one_line_and_exit_2(agree, args, says):
    ran = agree("fuzz", *args)
    assert ran.code == 2
    assert ran.err.count("\n") == 1 and ran.err.startswith("agree: error:") and says in ran.err


def test_check_shrinks_dfs_and_random_counterexamples(agree):
    for strategy in ("dfs", "random"):
        ran = agree("check", "paxos", "--variant", "ignore-reported-value", "--property", "agreement",
                    "--strategy", strategy, "--json", "--quiet")
        trace = json.loads(ran.out)["violation"]["trace"]
        # 12 steps is the BFS-shortest (counterexamples/paxos--ignore-reported-value.json); the walk
        # and the DFS path are longer, and ddmin brings both down to it
        assert trace["length"] == 12 and trace["shrunk_from"] > 12, strategy


def test_pbft_beyond_exhaustive_bounds():
    """Issue 12's larger clusters, two Byzantine replicas (the primary among them): at n = 6 = 3f the
    bridge finds two honest replicas committing different requests; at n = 7 = 3f + 1 it finds none
    in the same budget (and never claims `holds`)."""
    small = fuzz(build_model("pbft", {"n": 6, "f": 2, "byzantine": "r0,r1"}), examples=300, steps=40, seed=0,
                 only=["agreement"]).result
    assert small.verdict == VIOLATED and small.violation.name == "agreement"
    large = fuzz(build_model("pbft", {"n": 7, "f": 2, "byzantine": "r0,r1"}), examples=300, steps=40, seed=0).result
    assert large.verdict == INCOMPLETE and large.violation is None


def test_a_full_guide_stops_growing_and_the_search_goes_on(monkeypatch):
    """The guide's features are capped (memory on long searches): once full, it keeps no more
    runs, and the search goes on continuing those it has."""
    from agree.explorer.engines.fuzzing import guide
    model = build_model("raft")
    free = fuzz(model, examples=200, steps=30, seed=0)
    monkeypatch.setattr(guide, "MAX_FEATURES", 100)  # an initial Raft state alone has 66 features
    capped = fuzz(model, examples=200, steps=30, seed=0)
    assert 0 < capped.kept < free.kept
    assert capped.runs == free.runs and capped.result.violation is None


def test_the_guide_restarts_on_luby_s_schedule_and_the_same_seed_still_gives_the_same_runs(monkeypatch):
    """Every RESTART_RUNS * luby(k) runs the guide starts afresh: its cells go, and a search with
    restarts keeps what it kept since the last one; the same seed makes the same runs."""
    from agree.explorer.engines.fuzzing import guide
    assert [guide.luby(i) for i in range(1, 16)] == [1, 1, 2, 1, 1, 2, 4, 1, 1, 2, 1, 1, 2, 4, 8]
    model = build_model("raft")
    free = fuzz(model, examples=300, steps=30, seed=0)
    monkeypatch.setattr(guide, "RESTART_RUNS", 64)
    once, again = (fuzz(model, examples=300, steps=30, seed=0) for _ in range(2))  # 3 restarts
    assert once.runs == again.runs == free.runs and once.kept == again.kept
    assert 0 < once.kept < free.kept and once.result.violation is None
