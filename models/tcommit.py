"""Transaction commit, a faithful port of Lamport & Gray's TCommit specification.

Source: J. Gray and L. Lamport, "Consensus on Transaction Commit" (2006), and the TLA+ module
TCommit.tla in tlaplus/Examples (specifications/transaction_commit). TCommit is the abstract
problem that TwoPhase implements: RMs prepare, then all commit or all abort. With rms=3 TLC finds
34 distinct states and depth 7.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.records import update_at
from agree.properties.commit import all_in, consistent_outcome

RM_STATES = ("working", "prepared", "committed", "aborted")
WORKING, PREPARED, COMMITTED, ABORTED = RM_STATES
ANY_RM_STATE = frozenset(RM_STATES)
CAN_COMMIT = frozenset({PREPARED, COMMITTED})


def rm_names(count: int) -> tuple[str, ...]:
    return tuple(f"r{i}" for i in range(1, count + 1))


def tc_consistent(rm_state: tuple) -> bool:
    """TCConsistent over a tuple of RM states."""
    return consistent_outcome(rm_state, COMMITTED, ABORTED)


class TCommitState(NamedTuple):
    rm_state: tuple


class TCommit(Model):
    """The transaction-commit problem: each RM prepares, then decides; all must agree."""

    name = "tcommit"
    params = {"rms": Param(int, 3, "number of resource managers", min=1, max=12)}

    def setup(self) -> None:
        self.names = rm_names(self.rms)

    def init(self) -> Iterator[TCommitState]:
        # TCInit
        yield TCommitState((WORKING,) * self.rms)

    def next(self, s: TCommitState) -> Iterator[Step]:
        # TCNext == \E r \in RM : Prepare(r) \/ Decide(r)
        for i, rm in enumerate(self.names):
            yield from self.prepare(s, i, rm)
            yield from self.decide(s, i, rm)

    def prepare(self, s: TCommitState, i: int, rm: str) -> Iterator[Step]:
        """Prepare(r): a working RM becomes prepared."""
        if s.rm_state[i] == WORKING:
            yield Step("Prepare", {"rm": rm}, update_at(s, "rm_state", i, PREPARED))

    def decide(self, s: TCommitState, i: int, rm: str) -> Iterator[Step]:
        """Decide(r): commit once every RM can commit; abort while nobody has committed."""
        states = s.rm_state
        if states[i] == PREPARED and all_in(states, CAN_COMMIT):  # canCommit
            yield Step("Decide", {"rm": rm, "to": COMMITTED}, update_at(s, "rm_state", i, COMMITTED))
        if states[i] in (WORKING, PREPARED) and COMMITTED not in states:  # notCommitted
            yield Step("Decide", {"rm": rm, "to": ABORTED}, update_at(s, "rm_state", i, ABORTED))

    @invariant
    def type_ok(self, s: TCommitState) -> bool:
        """TCTypeOK: rmState is a function from RM to the four RM states."""
        return len(s.rm_state) == self.rms and all_in(s.rm_state, ANY_RM_STATE)

    @invariant
    def consistent(self, s: TCommitState) -> bool:
        """TCConsistent: no RM has committed while another has aborted."""
        return tc_consistent(s.rm_state)

    @reachable
    def all_committed(self, s: TCommitState) -> bool:
        """Every RM commits in some run."""
        return all(x == COMMITTED for x in s.rm_state)

    @reachable
    def all_aborted(self, s: TCommitState) -> bool:
        """Every RM aborts in some run."""
        return all(x == ABORTED for x in s.rm_state)
