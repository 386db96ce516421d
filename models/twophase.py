"""Two-phase commit, a faithful port of Lamport & Gray's TwoPhase specification.

Source: J. Gray and L. Lamport, "Consensus on Transaction Commit" (2006), and the TLA+ module
TwoPhase.tla in tlaplus/Examples (specifications/transaction_commit). Each rule method below is
one disjunct of the spec's next-state relation, quantified over the RMs, and names it. The
transaction manager (TM) and the resource managers (RMs) communicate through `msgs`, a set of sent
messages that is never emptied, so loss, duplication and reordering are all covered. With rms=3
TLC finds 288 distinct states and depth 11; with rms=7, 296,448 states and depth 23.

This model is the engine's speed benchmark, so it stores states as plain tuples
`(rm_state, tm_state, tm_prepared, msgs)` (building a NamedTuple costs twice as much) and shows
them in traces through `view` as a `TwoPhaseState`; its rules return lists of plain
`(action, args, state)` tuples rather than generators of Steps.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.tcommit import ANY_RM_STATE, RM_STATES, rm_names, tc_consistent
from agree.properties.commit import all_in

WORKING, PREPARED, COMMITTED, ABORTED = RM_STATES
TM_STATES = ("init", "committed", "aborted")
COMMIT_MSG = ("Commit",)
ABORT_MSG = ("Abort",)


class TwoPhaseState(NamedTuple):
    """How a state reads in traces; the search itself holds the same four fields as a tuple."""

    rm_state: tuple  # rm_state[i] is the state of the i-th RM (named r1, r2, ...)
    tm_state: str
    tm_prepared: frozenset  # names of the RMs the TM has received "Prepared" from
    msgs: frozenset  # ("Prepared", rm), ("Commit",), ("Abort",)


class TwoPhase(Model):
    """Two-phase commit: a TM collects "Prepared" from every RM, then broadcasts Commit or Abort."""

    name = "twophase"
    params = {"rms": Param(int, 3, "number of resource managers", min=1, max=12)}
    actions = ("TMRcvPrepared", "TMCommit", "TMAbort", "RMPrepare", "RMChooseToAbort",
               "RMRcvCommitMsg", "RMRcvAbortMsg")

    def setup(self) -> None:
        self.names = rm_names(self.rms)
        self.everyone = frozenset(self.names)
        # (index, name, step arguments) per RM; the argument dicts are shared and never mutated
        self.rm_list = tuple((i, rm, {"rm": rm}) for i, rm in enumerate(self.names))
        self.all_of = {value: (value,) * self.rms for value in RM_STATES}
        self.messages = frozenset({("Prepared", rm) for rm in self.names} | {COMMIT_MSG, ABORT_MSG})

    def init(self) -> Iterator[tuple]:
        # TPInit
        yield ((WORKING,) * self.rms, "init", frozenset(), frozenset())

    def next(self, s: tuple) -> Iterator[Step]:
        # TPNext == TMCommit \/ TMAbort \/ \E rm \in RM : TMRcvPrepared(rm) \/ RMPrepare(rm)
        #           \/ RMChooseToAbort(rm) \/ RMRcvCommitMsg(rm) \/ RMRcvAbortMsg(rm)
        return chain(self.tm_commit(s), self.tm_abort(s), self.tm_rcv_prepared(s), self.rm_prepare(s),
                     self.rm_choose_to_abort(s), self.rm_rcv_commit_msg(s), self.rm_rcv_abort_msg(s))

    def view(self, s: tuple) -> TwoPhaseState:
        return TwoPhaseState(*s)

    # ----- the TM's rules

    def tm_rcv_prepared(self, s: tuple) -> list[Step]:
        """TMRcvPrepared(rm): the TM, still undecided, records a Prepared message from rm."""
        rm_state, tm_state, prepared, msgs = s
        if tm_state != "init":
            return []
        return [("TMRcvPrepared", args, s if rm in prepared else (rm_state, tm_state, prepared | {rm}, msgs))
                for _, rm, args in self.rm_list if ("Prepared", rm) in msgs]

    def tm_commit(self, s: tuple) -> list[Step]:
        """TMCommit: once every RM has prepared, the TM commits and broadcasts Commit."""
        rm_state, tm_state, prepared, msgs = s
        if tm_state == "init" and prepared == self.everyone:
            return [("TMCommit", {}, (rm_state, COMMITTED, prepared, msgs | {COMMIT_MSG}))]
        return []

    def tm_abort(self, s: tuple) -> list[Step]:
        """TMAbort: the undecided TM may abort at any time and broadcasts Abort."""
        rm_state, tm_state, prepared, msgs = s
        if tm_state == "init":
            return [("TMAbort", {}, (rm_state, ABORTED, prepared, msgs | {ABORT_MSG}))]
        return []

    # ----- the RMs' rules

    def rm_prepare(self, s: tuple) -> list[Step]:
        """RMPrepare(rm): a working RM prepares and tells the TM."""
        rm_state, tm_state, prepared, msgs = s
        return [("RMPrepare", args,
                 (rm_state[:i] + (PREPARED,) + rm_state[i + 1:], tm_state, prepared, msgs | {("Prepared", rm)}))
                for i, rm, args in self.rm_list if rm_state[i] == WORKING]

    def rm_choose_to_abort(self, s: tuple) -> list[Step]:
        """RMChooseToAbort(rm): a working RM may abort on its own."""
        rm_state, tm_state, prepared, msgs = s
        return [("RMChooseToAbort", args, (rm_state[:i] + (ABORTED,) + rm_state[i + 1:], tm_state, prepared, msgs))
                for i, rm, args in self.rm_list if rm_state[i] == WORKING]

    def rm_rcv_commit_msg(self, s: tuple) -> list[Step]:
        """RMRcvCommitMsg(rm): an RM that sees the Commit message commits."""
        return self._rm_obeys(s, COMMIT_MSG, COMMITTED, "RMRcvCommitMsg")

    def rm_rcv_abort_msg(self, s: tuple) -> list[Step]:
        """RMRcvAbortMsg(rm): an RM that sees the Abort message aborts."""
        return self._rm_obeys(s, ABORT_MSG, ABORTED, "RMRcvAbortMsg")

    def _rm_obeys(self, s: tuple, message: tuple, outcome: str, action: str) -> list[Step]:
        """Every RM may act on the TM's decision once it is sent. As in the spec, the step is
        enabled for an RM already there too; it then leads back to `s` itself, which is cheap."""
        rm_state, tm_state, prepared, msgs = s
        if message not in msgs:
            return []
        return [(action, args, s if rm_state[i] == outcome else
                 (rm_state[:i] + (outcome,) + rm_state[i + 1:], tm_state, prepared, msgs))
                for i, rm, args in self.rm_list]

    # ----- properties

    @invariant
    def type_ok(self, s: tuple) -> bool:
        """TPTypeOK: every variable holds a value of its type."""
        rm_state, tm_state, prepared, msgs = s
        return (len(rm_state) == self.rms and all_in(rm_state, ANY_RM_STATE) and tm_state in TM_STATES
                and prepared <= self.everyone and msgs <= self.messages)

    @invariant
    def consistent(self, s: tuple) -> bool:
        """TCConsistent: no RM has committed while another has aborted."""
        return tc_consistent(s[0])

    @reachable
    def all_committed(self, s: tuple) -> bool:
        """Every RM commits in some run (the protocol can succeed)."""
        return s[0] == self.all_of[COMMITTED]

    @reachable
    def all_aborted(self, s: tuple) -> bool:
        """Every RM aborts in some run."""
        return s[0] == self.all_of[ABORTED]

    # ----- drawing

    def participants(self) -> list[str]:
        return ["TM", *self.names]

    def node_names(self) -> list[str]:
        return list(self.names)

    def chart(self, step: Step) -> list[tuple]:
        rm = step.args.get("rm")
        if step.action == "RMPrepare":
            return [("msg", rm, "TM", "Prepared")]
        if step.action == "TMRcvPrepared":
            return [("note", "TM", f"receives Prepared from {rm}")]
        if step.action in ("TMCommit", "TMAbort"):
            decision = "Commit" if step.action == "TMCommit" else "Abort"
            return [("note", "TM", f"decides {decision}, broadcasts {decision}")]
        if step.action in ("RMRcvCommitMsg", "RMRcvAbortMsg"):
            label = "Commit" if step.action == "RMRcvCommitMsg" else "Abort"
            return [("msg", "TM", rm, label), ("note", rm, "committed" if label == "Commit" else "aborted")]
        if step.action == "RMChooseToAbort":
            return [("note", rm, "aborts on its own")]
        return super().chart(step)


# Broken variants: each changes exactly one rule, and says which property should fail.

@TwoPhase.variant("tm-commits-early", breaks="consistent",
                  says="TMCommit drops the guard tmPrepared = RM: the TM commits before every RM has prepared")
class TMCommitsEarly(TwoPhase):
    def tm_commit(self, s: tuple) -> list[Step]:
        rm_state, tm_state, prepared, msgs = s
        if tm_state == "init":
            return [("TMCommit", {}, (rm_state, COMMITTED, prepared, msgs | {COMMIT_MSG}))]
        return []


@TwoPhase.variant("rm-aborts-after-prepare", breaks="consistent",
                  says="RMChooseToAbort is also enabled for a prepared RM, which has promised to obey the TM")
class RMAbortsAfterPrepare(TwoPhase):
    def rm_choose_to_abort(self, s: tuple) -> list[Step]:
        rm_state, tm_state, prepared, msgs = s
        return [("RMChooseToAbort", args, (rm_state[:i] + (ABORTED,) + rm_state[i + 1:], tm_state, prepared, msgs))
                for i, rm, args in self.rm_list if rm_state[i] in (WORKING, PREPARED)]
