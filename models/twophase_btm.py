"""Two-phase commit with a backup transaction manager: a faithful port of 2PCwithBTM.

Source: the TLA+/PlusCal module 2PCwithBTM.tla in tlaplus/Examples
(specifications/transaction_commit; by Murat Demirbas, after Lamport's P2TCommit), a variant of
Gray & Lamport's two-phase commit in which RMs and the TM may fail and a backup TM (BTM) takes
over once the TM is gone. Each rule below is one action of the spec's PlusCal translation and is
named after its label: RS (an RM's loop), TS/TC/F1/TA/F2 (the TM), BTS/BTC/BTA (the BTM), and
Terminating (stuttering once every process is done). The state is the spec's three variables:
rmState, tmState and pc (one program counter per process). With 3 RMs and both kinds of failure
allowed (the spec's .cfg), TLC finds 1,245 distinct states and depth 15 (the repository's
manifest.json); the tests pin that count.

Liveness: every process is weakly fair (PlusCal `fair process`: WF of RManager(self) for each RM,
of TManager and of BTManager), and `termination` is the spec's Termination: every process
reaches "Done". It holds here because the TM, once it has decided, may fail ("hidden") and the
BTM then decides again; without the backup (variant no-backup) a TM that fails before any RM has
heard its decision leaves the prepared RMs blocked for ever: two-phase commit's blocking.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, eventually, invariant, reachable, weak
from agree.models.records import update, update_at
from agree.models.tcommit import rm_names, tc_consistent

WORKING, PREPARED, COMMITTED, ABORTED, FAILED = "working", "prepared", "committed", "aborted", "failed"
RM_STATES = frozenset({WORKING, PREPARED, COMMITTED, ABORTED, FAILED})
TM_STATES = frozenset({"init", "commit", "abort", "hidden"})
DONE = "Done"


class BTMState(NamedTuple):
    """rmState, tmState and pc of the spec (pc split into the RMs', the TM's and the BTM's)."""

    rm_state: tuple  # rm_state[i]: the i-th RM (named r1, r2, ...)
    tm_state: str
    rm_pc: tuple  # "RS" or "Done" per RM
    tm_pc: str  # TS, TC, F1, TA, F2 or Done
    btm_pc: str  # BTS, BTC, BTA or Done


class TwoPhaseBTM(Model):
    """Two-phase commit where RMs and the TM may fail and a backup TM takes over (2PCwithBTM)."""

    name = "twophase-btm"
    params = {
        "rms": Param(int, 3, "number of resource managers", min=1, max=8),
        "rm_may_fail": Param(bool, True, "RMMAYFAIL: one RM may fail"),
        "tm_may_fail": Param(bool, True, "TMMAYFAIL: the TM fails after deciding"),
    }
    actions = ("RS", "TS", "TC", "F1", "TA", "F2", "BTS", "BTC", "BTA", "Terminating")
    # Spec == ... /\ \A self \in RM : WF_vars(RManager(self)) /\ WF_vars(TManager) /\ WF_vars(BTManager)
    fairness = (weak("RS", per="rm"), weak("TS", "TC", "F1", "TA", "F2"), weak("BTS", "BTC", "BTA"))

    def setup(self) -> None:
        self.names = rm_names(self.rms)

    def init(self) -> Iterator[BTMState]:
        # Init: every RM working, the TM at "init", each process at its first label
        yield BTMState((WORKING,) * self.rms, "init", ("RS",) * self.rms, "TS", "BTS")

    def next(self, s: BTMState) -> Iterator[Step]:
        # Next == TManager \/ BTManager \/ (\E self \in RM : RManager(self)) \/ Terminating
        return chain(self.tmanager(s), self.btmanager(s), self.rmanager(s), self.terminating(s))

    # ----- the spec's define block

    def can_commit(self, s: BTMState) -> bool:
        """canCommit: every RM prepared, or some RM already committed (for when the BTM takes over)."""
        return all(r == PREPARED for r in s.rm_state) or COMMITTED in s.rm_state

    def can_abort(self, s: BTMState) -> bool:
        """canAbort: some RM aborted or failed, and no RM has committed (without the second
        conjunct the spec warns it is inconsistent: variant abort-ignores-commit)."""
        return (ABORTED in s.rm_state or FAILED in s.rm_state) and COMMITTED not in s.rm_state

    # ----- RManager(self) == RS(self)

    def rmanager(self, s: BTMState) -> list[Step]:
        """RS(self): while working or prepared, either Prepare, Decide or Fail; then finish."""
        steps = []
        for i, rm in enumerate(self.names):
            if s.rm_pc[i] != "RS":
                continue
            mine = s.rm_state[i]
            if mine not in (WORKING, PREPARED):
                steps.append(("RS", {"rm": rm, "does": "finish"}, update_at(s, "rm_pc", i, DONE)))
                continue
            if mine == WORKING:  # macro Prepare(p)
                steps.append(self._rm_becomes(s, i, rm, PREPARED, "prepare"))
            if s.tm_state == "commit":  # macro Decide(p), first branch
                steps.append(self._rm_becomes(s, i, rm, COMMITTED, "commit"))
            if mine == WORKING or s.tm_state == "abort":  # macro Decide(p), second branch
                steps.append(self._rm_becomes(s, i, rm, ABORTED, "abort"))
            steps.append(self.rm_fail(s, i, rm))  # macro Fail(p)
        return steps

    def rm_fail(self, s: BTMState, i: int, rm: str) -> Step:
        """Fail(p): if RMs may fail and none has yet, this one fails; otherwise nothing changes."""
        if self.rm_may_fail and FAILED not in s.rm_state:
            return self._rm_becomes(s, i, rm, FAILED, "fail")
        return ("RS", {"rm": rm, "does": "nothing"}, s)

    def _rm_becomes(self, s: BTMState, i: int, rm: str, value: str, does: str) -> Step:
        return ("RS", {"rm": rm, "does": does}, update_at(s, "rm_state", i, value))

    # ----- TManager == TS \/ TC \/ F1 \/ TA \/ F2

    def tmanager(self, s: BTMState) -> list[Step]:
        pc = s.tm_pc
        if pc == "TS":  # either await canCommit, or await canAbort
            return ([("TS", {"to": "TC"}, update(s, tm_pc="TC"))] if self.can_commit(s) else []) + \
                   ([("TS", {"to": "TA"}, update(s, tm_pc="TA"))] if self.can_abort(s) else [])
        if pc in ("TC", "TA"):  # the TM decides
            decision = "commit" if pc == "TC" else "abort"
            return [(pc, {}, update(s, tm_state=decision, tm_pc="F1" if pc == "TC" else "F2"))]
        if pc in ("F1", "F2"):
            return [self.tm_fail(s)]
        return []

    def tm_fail(self, s: BTMState) -> Step:
        """F1/F2: if the TM may fail it does so now, right after deciding (tmState := "hidden")."""
        return (s.tm_pc, {}, update(s, tm_state="hidden" if self.tm_may_fail else s.tm_state, tm_pc=DONE))

    # ----- BTManager == BTS \/ BTC \/ BTA

    def btmanager(self, s: BTMState) -> list[Step]:
        pc = s.btm_pc
        if pc == "BTS":
            return [("BTS", {"to": to}, update(s, btm_pc=to)) for to in ("BTC", "BTA")
                    if self.backup_may_take_over(s, commit=to == "BTC")]
        if pc in ("BTC", "BTA"):
            return [(pc, {}, update(s, tm_state="commit" if pc == "BTC" else "abort", btm_pc=DONE))]
        return []

    def backup_may_take_over(self, s: BTMState, commit: bool) -> bool:
        """BTS: await canCommit (or canAbort) /\\ tmState = "hidden": only once the TM is gone."""
        return (self.can_commit(s) if commit else self.can_abort(s)) and s.tm_state == "hidden"

    def terminating(self, s: BTMState) -> list[Step]:
        """Terminating: once every process is done, stutter (so the end is not a deadlock)."""
        return [("Terminating", {}, s)] if self.all_done(s) else []

    # ----- properties

    def all_done(self, s: BTMState) -> bool:
        return s.tm_pc == DONE and s.btm_pc == DONE and all(pc == DONE for pc in s.rm_pc)

    @invariant
    def type_ok(self, s: BTMState) -> bool:
        """TypeOK: every RM and the TM hold a value of their type."""
        return RM_STATES.issuperset(s.rm_state) and s.tm_state in TM_STATES

    @invariant
    def consistent(self, s: BTMState) -> bool:
        """Consistency: no RM has committed while another has aborted."""
        return tc_consistent(s.rm_state)

    @eventually
    def termination(self, s: BTMState) -> bool:
        """Termination: every process (each RM, the TM, the BTM) eventually finishes."""
        return self.all_done(s)

    @reachable
    def backup_commits(self, s: BTMState) -> bool:
        """The BTM takes over and commits in some run (when the TM may fail)."""
        if not self.tm_may_fail:
            return True
        return s.btm_pc == DONE and s.tm_pc == DONE and s.tm_state == "commit" and COMMITTED in s.rm_state

    @reachable
    def some_rm_fails(self, s: BTMState) -> bool:
        """An RM fails in some run (when RMs may fail)."""
        return FAILED in s.rm_state or not self.rm_may_fail

    # ----- drawing

    def participants(self) -> list[str]:
        return ["TM", "BTM", *self.names]

    def chart(self, step: Step) -> list[tuple]:
        args = step.args
        if step.action == "RS":
            return [("note", args["rm"], args["does"])]
        who = "BTM" if step.action.startswith("BT") else "TM"
        text = {"TS": f"ready to {'commit' if args.get('to') == 'TC' else 'abort'}", "TC": "decides commit",
                "TA": "decides abort", "F1": "fails (hidden)", "F2": "fails (hidden)",
                "BTS": f"takes over to {'commit' if args.get('to') == 'BTC' else 'abort'}",
                "BTC": "decides commit", "BTA": "decides abort", "Terminating": "all done"}
        return [("note", who, text.get(step.action, step.action))]


@TwoPhaseBTM.variant("abort-ignores-commit", breaks="consistent",
                     says="canAbort drops 'no RM has committed' (the spec's own warning): after the TM "
                          "commits and fails, an RM failure lets the BTM abort")
class AbortIgnoresCommit(TwoPhaseBTM):
    def can_abort(self, s: BTMState) -> bool:
        return ABORTED in s.rm_state or FAILED in s.rm_state


@TwoPhaseBTM.variant("backup-while-primary-slow", breaks="consistent",
                     says="the BTM takes over without waiting for tmState = hidden: with the TM only "
                          "slow, both decide and disagree")
class BackupWhilePrimarySlow(TwoPhaseBTM):
    def backup_may_take_over(self, s: BTMState, commit: bool) -> bool:
        return self.can_commit(s) if commit else self.can_abort(s)


@TwoPhaseBTM.variant("no-backup", breaks="termination",
                     says="there is no backup TM (its process starts finished): a TM that fails after "
                          "deciding leaves prepared RMs blocked for ever")
class NoBackup(TwoPhaseBTM):
    def init(self) -> Iterator[BTMState]:
        yield BTMState((WORKING,) * self.rms, "init", ("RS",) * self.rms, "TS", DONE)
