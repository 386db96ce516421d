"""2PCwithBTM: the state count TLC reports, its invariants, Termination, and the broken variants."""

from __future__ import annotations

from explorer.engines.check import check
from explorer.engines.result import HOLDS, VIOLATED
from models.twophase_btm import COMMITTED, FAILED, PREPARED, TwoPhaseBTM


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
