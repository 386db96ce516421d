"""Viewstamped Replication: pinned counts (one derived by hand), the engines agree, and the
eager-view-update bug is caught with its stored, minimal, replaying trace."""

import json
from pathlib import Path


from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED

from agree.explorer.traces.render import render_mermaid
from agree.explorer.traces.replay import replay
from agree.models.registry import build_model
from agree.models.vr import ViewstampedReplication
from agree.explorer.traces.format import load_trace

ROOT = Path(__file__).resolve().parent.parent
SAFETY = ["agreement", "commit_persistence", "committed_survives_view_change"]


def test_normal_operation_alone_has_the_hand_counted_states():
    # One view, one op. Before r0 appends: 1 state. After: each backup has the op or not (each
    # that has it sent PREPAREOK): 4 states while r0 has not committed; once it has (at least one
    # backup holds the op), each backup is without the op, with it, or has also learnt the
    # COMMIT: 3 * 3 - 1 = 8. Total 13; the longest run is append, 2 prepares, commit, 2 commits.
    result = check(ViewstampedReplication(max_view=0, max_ops=1), only=SAFETY)
    assert result.verdict == HOLDS and (result.distinct_states, result.depth) == (13, 7)


def test_default_bounds_hold_and_reach_both_guards():
    result = check(ViewstampedReplication())
    assert result.verdict == HOLDS and result.exhausted and result.warnings == []
    assert {p.status for p in result.properties.values()} == {"holds", "reached"}
    assert (result.distinct_states, result.depth) == (59630, 27)
    # op 1 appended, acknowledged and committed in view 0; 2 timeouts, 2 DOVIEWCHANGEs, STARTVIEW
    assert len(result.properties["committed_op_in_new_view"].trace) == 8


def test_bfs_and_dfs_agree_on_one_view_change():
    model = ViewstampedReplication(max_view=1, max_ops=1)
    bfs, dfs = check(model), check(model, strategy="dfs")
    assert bfs.verdict == dfs.verdict == HOLDS
    assert bfs.distinct_states == dfs.distinct_states == 933


def test_eager_view_update_is_caught_with_the_stored_minimal_trace():
    info = ViewstampedReplication.variants()["eager-view-update"]
    assert info.breaks == "committed_survives_view_change" and info.rules == ("adopt_view",)
    result = check(build_model("vr", variant="eager-view-update"), only=[info.breaks])
    # append, PREPARE/PREPAREOK, commit (3); a timeout and a replica hearing of it (2); two
    # DOVIEWCHANGEs, as f + 1 = 2 are needed (2); STARTVIEW (1)
    assert result.verdict == VIOLATED and len(result.violation.trace) == 8
    trace = load_trace(str(ROOT / "counterexamples" / "vr--eager-view-update.json"))
    assert (trace.property, len(trace)) == (info.breaks, 8)
    assert replay(trace).reproduces


def test_mermaid_shows_the_lost_operation():
    data = json.loads((ROOT / "counterexamples" / "vr--eager-view-update.json").read_text())
    text = render_mermaid(data, ViewstampedReplication.with_variant("eager-view-update")(**data["params"]))
    assert "commits ops 1..1 and acknowledges them to the client" in text
    assert "DOVIEWCHANGE(v1, 1 ops, last normal v0, commit 0)" in text  # the op is offered...
    assert "DOVIEWCHANGE(v1, 0 ops, last normal v1, commit 0)" in text  # ...but the eager log wins
    assert "starts view 1 with 0 ops" in text
    assert text.splitlines()[-1].strip().endswith("committed_survives_view_change violated")


def test_longest_log_wins_loses_a_committed_op():
    # view 1 starts empty and commits its own op 1; the change to view 2 hears from r0 (op 1 of
    # view 0, never committed, last normal view 0) and r2 (op 1 of view 1): same length, and
    # ignoring v' the stale one is taken
    result = check(build_model("vr", variant="longest-log-wins"), only=["commit_persistence"])
    assert result.verdict == VIOLATED and len(result.violation.trace) == 15
    trace = load_trace(str(ROOT / "counterexamples" / "vr--longest-log-wins.json"))
    assert len(trace) == 15 and replay(trace).reproduces


def test_recovery_holds_and_every_recovery_step_fires():
    result = check(ViewstampedReplication(max_view=1, max_recoveries=1))
    assert result.verdict == HOLDS and result.exhausted and result.warnings == []
    assert result.distinct_states == 59723
    assert all(result.coverage[a]["fired"] > 0 for a in ("Crash", "RecoveryResponse", "FinishRecovery"))


def test_amnesia_rejoin_is_caught_with_the_stored_minimal_trace():
    # committing anything takes 3 steps (append, PREPARE/PREPAREOK, commit); then one of the two
    # holders crashes and comes back with nothing: 4
    result = check(build_model("vr", variant="amnesia-rejoin"), only=["commit_persistence"])
    assert result.verdict == VIOLATED and len(result.violation.trace) == 4
    trace = load_trace(str(ROOT / "counterexamples" / "vr--amnesia-rejoin.json"))
    assert len(trace) == 4 and trace.steps[-1]["action"] == "Crash" and replay(trace).reproduces


def test_commit_persistence_counts_a_recovering_replica_toward_the_quorum():
    from agree.properties.logs import commit_persists
    entry = (0, "v1")
    before = [(entry,), (entry,), ()]
    # r1 crashed: r0 alone holds the op, but r1 takes no part until it has recovered it
    assert commit_persists(before, [1, 0, 0], [(entry,), (), ()], 2, recovering=(1,))
    assert not commit_persists(before, [1, 0, 0], [(entry,), (), ()], 2)
    # r0, which committed it, crashed: it may lose its own entry while recovering
    assert commit_persists(before, [1, 0, 0], [(), (entry,), ()], 2, recovering=(0,))
    assert not commit_persists(before, [1, 0, 0], [(), (), ()], 2, recovering=(0,))
