"""2PCwithBTM: the state count TLC reports, its invariants, Termination, and the broken variants."""

from __future__ import annotations

from agree.explorer.engines.check import check
from agree.explorer.engines.result import HOLDS, VIOLATED
from agree.models.twophase_btm import COMMITTED, FAILED, PREPARED, TwoPhaseBTM


def test_state_space_equals_tlc():
    # tlaplus/Examples specifications/transaction_commit/manifest.json records TLC's run of
    # 2PCwithBTM.cfg (RM = {rm1, rm2, rm3}, RMMAYFAIL = TMMAYFAIL = TRUE): 1245 distinct states,
    # depth 15.
    result = check(TwoPhaseBTM())
    assert result.verdict == HOLDS
    assert (result.distinct_states, result.depth) == (1245, 15)


def test_termination_holds_with_the_backup():
    result = check(TwoPhaseBTM(), only=["termination"])
    assert result.properties["termination"].status == HOLDS


def test_termination_fails_when_the_tm_never_fails():
    # With TMMAYFAIL = FALSE the TM never hides, so the BTM waits at BTS for ever: once the RMs
    # failed) only if it has no other step; but the TM may simply never be scheduled: with no
    # fairness at all, a cycle of stuttering... there is none, yet a dead end is not needed either:
    # the BTM waits at BTS for ever in runs where the TM never fails, so take tm_may_fail=false.
    result = check(TwoPhaseBTM(tm_may_fail=False), only=["termination"])
    prop = result.properties["termination"]
    assert prop.status == VIOLATED and prop.trace.loop is None
    last = prop.trace.steps[-1].state
    assert last.btm_pc == "BTS" and last.tm_state in ("commit", "abort")  # the backup waits for ever


def test_no_backup_blocks_at_a_dead_end():
    result = check(TwoPhaseBTM.with_variant("no-backup")(), only=["termination"])
    prop = result.properties["termination"]
    assert prop.status == VIOLATED and prop.trace.loop is None and len(prop.trace) == 7
    last = prop.trace.steps[-1].state
    # the TM decided and failed ("hidden") before the prepared RMs heard the decision
    assert last.tm_state == "hidden" and last.rm_state.count(PREPARED) == 2 and FAILED in last.rm_state


def test_safety_variants_break_consistency():
    for variant, length in (("abort-ignores-commit", 11), ("backup-while-primary-slow", 10)):
        result = check(TwoPhaseBTM.with_variant(variant)(), only=["consistent"])
        violation = result.violation
        assert violation.name == "consistent" and len(violation.trace) == length
        assert COMMITTED in violation.trace.steps[-1].state.rm_state


def test_dead_ends_are_counted():
    # With the backup every run ends in the stuttering Terminating step: no state lacks a step.
    assert check(TwoPhaseBTM()).dead_ends == 0


def enumerate_by_hand(n: int, rm_may_fail: bool = True, tm_may_fail: bool = True) -> tuple[int, int]:
    """(distinct states, depth) of 2PCwithBTM by a direct BFS over the PlusCal translation's
    variables <<rmState, tmState, pc>>, written from the spec independently of the model: pc is one
    tuple over ProcSet = RM \\cup {0, 10} (the RMs, then the TM, then the BTM)."""
    tm, btm = n, n + 1

    def successors(state):
        rm, tm_state, pc = state
        can_commit = all(r == "prepared" for r in rm) or "committed" in rm
        can_abort = any(r in ("aborted", "failed") for r in rm) and "committed" not in rm

        def at(seq, i, v):
            return seq[:i] + (v,) + seq[i + 1:]

        for i in range(n):  # RS(self)
            if pc[i] != "RS":
                continue
            if rm[i] in ("working", "prepared"):
                if rm[i] == "working":
                    yield at(rm, i, "prepared"), tm_state, pc
                if tm_state == "commit":
                    yield at(rm, i, "committed"), tm_state, pc
                if rm[i] == "working" or tm_state == "abort":
                    yield at(rm, i, "aborted"), tm_state, pc
                yield (at(rm, i, "failed") if rm_may_fail and "failed" not in rm else rm), tm_state, pc
            else:
                yield rm, tm_state, at(pc, i, "Done")
        label = pc[tm]  # TS, TC, F1, TA, F2
        if label == "TS":
            if can_commit:
                yield rm, tm_state, at(pc, tm, "TC")
            if can_abort:
                yield rm, tm_state, at(pc, tm, "TA")
        elif label in ("TC", "TA"):
            yield rm, "commit" if label == "TC" else "abort", at(pc, tm, "F1" if label == "TC" else "F2")
        elif label in ("F1", "F2"):
            yield rm, "hidden" if tm_may_fail else tm_state, at(pc, tm, "Done")
        label = pc[btm]  # BTS, BTC, BTA
        if label == "BTS":
            if can_commit and tm_state == "hidden":
                yield rm, tm_state, at(pc, btm, "BTC")
            if can_abort and tm_state == "hidden":
                yield rm, tm_state, at(pc, btm, "BTA")
        elif label in ("BTC", "BTA"):
            yield rm, "commit" if label == "BTC" else "abort", at(pc, btm, "Done")

    start = (("working",) * n, "init", ("RS",) * n + ("TS", "BTS"))
    seen, level, depth = {start}, [start], 0
    while level:
        depth += 1
        level = [t for s in level for t in successors(s) if t not in seen and not seen.add(t)]
    return len(seen), depth


def test_the_port_matches_a_direct_enumeration_of_the_spec():
    assert enumerate_by_hand(3) == (1245, 15)  # and TLC's count, above
    for params in ({"rms": 1}, {"rms": 2}, {"rms": 4}, {"rms": 3, "rm_may_fail": False},
                   {"rms": 3, "tm_may_fail": False}):
        result = check(TwoPhaseBTM(**params), only=[])
        by_hand = enumerate_by_hand(params["rms"], params.get("rm_may_fail", True), params.get("tm_may_fail", True))
        assert (result.distinct_states, result.depth) == by_hand, params
