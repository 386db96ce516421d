"""Single-decree Paxos (the Paxos consensus algorithm), a faithful port of Lamport's TLA+ spec.

Source: L. Lamport, module Paxos in tlaplus/Examples, specifications/PaxosHowToWinATuringAward
(Paxos.tla, refining Voting.tla and Consensus.tla), and "Paxos Made Simple" (2001), section 2.2.
Each rule method below is one disjunct of the spec's Next and names it:

    Next == \\/ \\E b \\in Ballot : Phase1a(b) \\/ \\E v \\in Value : Phase2a(b, v)
            \\/ \\E a \\in Acceptor : Phase1b(a) \\/ Phase2b(a)

Acceptors keep maxBal, maxVBal and maxVal; `msgs` is the set of every message ever sent, never
emptied, so loss, duplication and reordering come for free. There is one leader per ballot. With 3
acceptors, 2 values, ballots 0..1 and majority quorums (the spec's MCPaxosTiny model) TLC finds
3,921 distinct states and depth 17; this model finds the same.

One addition, off by default: `Restart(a)`, an acceptor crashing and recovering (parameter
`max_restarts`). Its state is durable, so in the correct model a restart changes nothing but the
count of restarts; the `amnesia-restart` variant wipes it.

Messages are plain tuples (b: ballot, a: acceptor, v: value, None: no value, -1: no ballot):
    ("1a", b)   ("1b", a, b, mbal, mval)   ("2a", b, v)   ("2b", a, b, v)
"""

from __future__ import annotations

from typing import Any, Iterable

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.paxos.drawing import PaxosDrawing
from agree.models.paxos.state import NO_BALLOT, NONE, PaxosState
from agree.models.paxos.symmetry import PaxosSymmetry
from agree.models.records import put, update
from agree.properties import consensus, quorums
from agree.properties.errors import InputError

CACHE_SIZE = 200_000  # sets of messages whose chosen values are remembered


class Paxos(PaxosSymmetry, PaxosDrawing, Model):
    """Single-decree Paxos: leaders of numbered ballots ask a quorum of acceptors to vote."""

    name = "paxos"
    params = {
        "acceptors": Param(int, 3, "number of acceptors", min=1, max=7),
        "values": Param(int, 2, "number of values that may be proposed", min=1, max=4),
        "max_ballot": Param(int, 1, "ballots are 0..max_ballot", min=0, max=5),
        "max_restarts": Param(int, 0, "crash-restarts of acceptors allowed in a run", min=0, max=5),
        "quorum": Param(str, "majority", "'majority', or a JSON file of quorums over a1..aN: one system "
                                         "(\"quorums\") or flexible (\"phase1\", \"phase2\"), or what "
                                         "`agree quorums ... --nodes a1,a2,a3 --json` writes"),
        "q1": Param(int, 0, "phase-1 quorum size, with q2 (flexible Paxos); 0: from `quorum`", min=0, max=7),
        "q2": Param(int, 0, "phase-2 quorum size, with q1; safe when q1 + q2 > acceptors", min=0, max=7),
    }
    actions = ("Phase1a", "Phase1b", "Phase2a", "Phase2b", "Restart")

    def setup(self) -> None:
        self.value_count = self.values  # the number of values; `vals` holds their names
        self.names = tuple(f"a{i}" for i in range(1, self.acceptors + 1))
        self.vals = tuple(f"v{i}" for i in range(1, self.value_count + 1))
        self.ballots = tuple(range(self.max_ballot + 1))
        phase1, phase2 = self.quorum_systems()
        self.phase1_quorums = [frozenset(q) for q in phase1]  # answer 1a: a leader learns what is safe
        self.phase2_quorums = [frozenset(q) for q in phase2]  # vote 2b: a value is chosen
        self._chosen_cache: dict[frozenset, frozenset] = {}
        self.indexed = tuple(enumerate(self.names))

    def quorum_systems(self) -> tuple[Iterable[frozenset], Iterable[frozenset]]:
        """(phase-1 quorums, phase-2 quorums) as sets of acceptor names. Lamport's spec has one
        system for both; Howard, Malkhi & Spiegelman, "Flexible Paxos" (2016), show that Paxos stays
        safe when only every phase-1 quorum meets every phase-2 quorum. Sizes q1, q2 give
        threshold systems; a `quorum` file may give both phases; otherwise `quorum_system()`
        serves both. Override this (or just `quorum_system`) in a subclass for any other systems."""
        if self.q1 or self.q2:
            if not (self.q1 and self.q2):
                raise InputError(f"give both q1 and q2 (got q1={self.q1}, q2={self.q2}), e.g. -p q1=3 -p q2=2")
            for name, size in (("q1", self.q1), ("q2", self.q2)):
                if size > self.acceptors:
                    raise InputError(f"{name}={size} is more than the {self.acceptors} acceptors")
            return quorums.Threshold(self.names, self.q1).quorums(), quorums.Threshold(self.names, self.q2).quorums()
        if self.quorum != "majority":
            if not self.quorum.strip():
                raise InputError("-p quorum= is empty: give -p quorum=majority or the path to a JSON file of quorums")
            phase1, phase2 = load_acceptor_quorums(self.quorum, self.names)
            return phase1, phase2
        one = list(self.quorum_system())
        return one, one

    def quorum_system(self) -> Iterable[frozenset]:
        """The quorums of both phases when they are one system: majorities by default (the spec's
        Quorum constant, as in MCPaxosTiny). The minimal quorums are enough, since `is_quorum`
        tests for a superset."""
        return quorums.Majority(self.names).quorums()

    def is_quorum(self, who: frozenset) -> bool:
        """Does `who` include a phase-2 quorum (so that their votes choose a value)?"""
        return any(q <= who for q in self.phase2_quorums)

    def about(self) -> str:
        def text(qs):
            return " ".join("{" + ",".join(sorted(q)) + "}" for q in sorted(qs, key=sorted))
        if self.phase1_quorums == self.phase2_quorums:
            return f"quorums {text(self.phase1_quorums)}"
        return f"phase-1 quorums {text(self.phase1_quorums)}; phase-2 quorums {text(self.phase2_quorums)}"

    # ----- the spec

    def init(self) -> Iterable[PaxosState]:
        # Init: nobody has joined a ballot or voted, and no message has been sent
        n = self.acceptors
        yield PaxosState((NO_BALLOT,) * n, (NO_BALLOT,) * n, (NONE,) * n, frozenset(), 0)

    def next(self, s: PaxosState) -> list[Step]:
        return (self.phase1a(s) + self.phase1b(s) + self.phase2a(s) + self.phase2b(s)
                + self.restart(s))

    def phase1a(self, s: PaxosState) -> list[Step]:
        """Phase1a(b): the leader of ballot b asks every acceptor to join it (Paxos Made Simple,
        phase 1(a)). Unguarded as in the spec: sending it again is a stuttering step."""
        return [("Phase1a", {"bal": b}, update(s, msgs=s.msgs | {("1a", b)})) for b in self.ballots]

    def phase1b(self, s: PaxosState) -> list[Step]:
        """Phase1b(a): on a 1a for ballot b, acceptor a joins b if `may_join` allows it."""
        asked = sorted(m[1] for m in s.msgs if m[0] == "1a")
        return [("Phase1b", {"acc": a, "bal": b}, self.join(s, i, b))
                for i, a in self.indexed for b in asked if self.may_join(s, i, b)]

    def may_join(self, s: PaxosState, i: int, b: int) -> bool:
        """Phase1b's guard: only a ballot above every one acceptor i has joined (maxBal[a] < b)."""
        return b > s.max_bal[i]

    def join(self, s: PaxosState, i: int, b: int) -> PaxosState:
        """Phase1b's effect: acceptor i promises to ignore ballots below b (maxBal[a] := b) and
        reports its latest vote <<maxVBal[a], maxVal[a]>> in a 1b message."""
        return update(s, max_bal=put(s.max_bal, i, b), msgs=s.msgs | {self.one_b(s, i, b)})

    def one_b(self, s: PaxosState, i: int, b: int) -> tuple:
        """The 1b message acceptor i sends for ballot b: ("1b", a, b, maxVBal[a], maxVal[a])."""
        return ("1b", self.names[i], b, s.max_vbal[i], s.max_val[i])

    def phase2a(self, s: PaxosState) -> list[Step]:
        """Phase2a(b, v): once a phase-1 quorum has answered ballot b's 1a, its leader asks for
        votes on a value from `values_safe_at` of their reports; at most one 2a per ballot."""
        msgs = s.msgs
        proposed = {m[1] for m in msgs if m[0] == "2a"}
        reports: dict[int, dict[str, list]] = {}  # ballot -> acceptor -> [(mbal, mval)]
        for m in msgs:
            if m[0] == "1b" and m[2] not in proposed:
                reports.setdefault(m[2], {}).setdefault(m[1], []).append((m[3], m[4]))
        steps = []
        for b in sorted(reports):
            answered = reports[b]
            allowed: set = set()
            for q in self.phase1_quorums:
                if q <= answered.keys():
                    allowed |= self.values_safe_at([r for a in q for r in answered[a]])
            for v in sorted(allowed):
                steps.append(("Phase2a", {"bal": b, "val": v}, update(s, msgs=msgs | {("2a", b, v)})))
        return steps

    def values_safe_at(self, reports: list[tuple]) -> set:
        """The values a leader may propose given its quorum's 1b reports (mbal, mval): the value
        of the highest-ballot vote reported, or any value when no one reports a vote (Phase2a's
        second conjunct, the heart of Paxos; Voting.tla's ShowsSafeAt)."""
        votes = [r for r in reports if r[0] >= 0]
        if not votes:
            return set(self.vals)
        top = max(r[0] for r in votes)
        return {v for b, v in votes if b == top}

    def phase2b(self, s: PaxosState) -> list[Step]:
        """Phase2b(a): on a 2a for ballot b and value v, acceptor a votes if `may_vote` allows it
        (Paxos Made Simple, phase 2(b))."""
        requests = sorted(m[1:] for m in s.msgs if m[0] == "2a")
        return [("Phase2b", {"acc": a, "bal": b, "val": v}, self.vote(s, i, b, v))
                for i, a in self.indexed for b, v in requests if self.may_vote(s, i, b)]

    def may_vote(self, s: PaxosState, i: int, b: int) -> bool:
        """Phase2b's guard: never below a ballot acceptor i has joined (m.bal >= maxBal[a])."""
        return b >= s.max_bal[i]

    def vote(self, s: PaxosState, i: int, b: int, v: Any) -> PaxosState:
        """Phase2b's effect: acceptor i joins b, records its vote (maxVBal, maxVal) and sends 2b."""
        return update(s, max_bal=put(s.max_bal, i, b), max_vbal=put(s.max_vbal, i, b),
                      max_val=put(s.max_val, i, v), msgs=s.msgs | {("2b", self.names[i], b, v)})

    def restart(self, s: PaxosState) -> list[Step]:
        """Restart(a): acceptor a crashes and recovers (at most max_restarts times in a run)."""
        if s.restarts >= self.max_restarts:
            return []
        return [("Restart", {"acc": a}, self.restarted(s, i)) for i, a in self.indexed]

    def restarted(self, s: PaxosState, i: int) -> PaxosState:
        """The state after acceptor i restarts. maxBal, maxVBal and maxVal are on stable storage
        ("Paxos Made Simple", section 2.2: an acceptor remembers what it must even if it fails and
        restarts), so they survive; only the count of restarts changes."""
        return update(s, restarts=s.restarts + 1)

    # ----- views: what the properties in properties/consensus.py look at

    def votes(self, s: PaxosState) -> list[tuple]:
        """Every vote cast, as (acceptor, ballot, value): the spec's `votes`, from 2b messages."""
        return [m[1:] for m in s.msgs if m[0] == "2b"]

    def decisions(self, s: PaxosState) -> frozenset:
        """The chosen values (Voting.tla: chosen, over the votes of the 2b messages).

        Several properties ask this of every state, and many states share their messages, so the
        answer is remembered per set of messages (a bounded cache, emptied when full)."""
        found = self._chosen_cache.get(s.msgs)
        if found is None:
            if len(self._chosen_cache) >= CACHE_SIZE:
                self._chosen_cache.clear()
            found = self._chosen_cache[s.msgs] = frozenset(consensus.chosen(self.votes(s), self.is_quorum))
        return found

    def proposals(self, s: PaxosState) -> set:
        """The values some leader asked acceptors to vote for (in a 2a message)."""
        return {m[2] for m in s.msgs if m[0] == "2a"}

    # ----- properties

    @invariant
    def agreement(self, s: PaxosState) -> bool:
        """At most one value is chosen (Consensus.tla: Cardinality(chosen) <= 1)."""
        return consensus.agreement(self.decisions(s))

    @invariant
    def validity(self, s: PaxosState) -> bool:
        """Every chosen value is in Value and was proposed in a 2a message."""
        chosen = self.decisions(s)
        return consensus.validity(chosen, self.proposals(s)) and consensus.validity(chosen, self.vals)

    @invariant
    def inv(self, s: PaxosState) -> bool:
        """Paxos.tla's inductive invariant Inv (less TypeOK), the reason Paxos implements Voting."""
        votes = set(self.votes(s))
        return (self._acceptors_consistent(s, votes) and self._messages_consistent(s, votes))

    def _acceptors_consistent(self, s: PaxosState, votes: set) -> bool:
        # maxBal[a] >= maxVBal[a]; <<maxVBal[a], maxVal[a]>> is a vote of a, or <<-1, None>>
        for i, a in self.indexed:
            if s.max_bal[i] < s.max_vbal[i]:
                return False
            if s.max_vbal[i] == NO_BALLOT:
                if s.max_val[i] is not NONE:
                    return False
            elif (a, s.max_vbal[i], s.max_val[i]) not in votes:
                return False
        return True

    def _messages_consistent(self, s: PaxosState, votes: set) -> bool:
        where = {a: i for i, a in self.indexed}
        proposal = {}
        for m in s.msgs:
            if m[0] == "2a":
                if proposal.setdefault(m[1], m[2]) != m[2]:
                    return False  # one value per ballot
        for m in s.msgs:
            if m[0] == "1b":
                _, a, b, mbal, mval = m
                if s.max_bal[where[a]] < b or (mbal >= 0 and (a, mbal, mval) not in votes):
                    return False
            elif m[0] == "2a":
                if not any(self._shows_safe_at(s, q, m[1], m[2], votes) for q in self.phase1_quorums):
                    return False
            elif m[0] == "2b":
                _, a, b, v = m
                if s.max_vbal[where[a]] < b or proposal.get(b) != v:
                    return False
        return True

    def _shows_safe_at(self, s: PaxosState, q: frozenset, b: int, v: Any, votes: set) -> bool:
        """Voting.tla's ShowsSafeAt(Q, b, v): every member of Q has joined ballot b or higher,
        and for some c < b, none of Q voted in ballots c+1..b-1 and (c = -1 or one of Q voted v at c)."""
        where = {a: i for i, a in self.indexed}
        if any(s.max_bal[where[a]] < b for a in q):
            return False
        voted = {(bal, val) for a, bal, val in votes if a in q}
        for c in range(b - 1, NO_BALLOT - 1, -1):
            if c == NO_BALLOT or (c, v) in voted:
                return True
            if any(bal == c for bal, _ in voted):
                return False
        return False

    @reachable
    def value_chosen(self, s: PaxosState) -> bool:
        """Some value is chosen."""
        return bool(self.decisions(s))


def load_acceptor_quorums(path: str, acceptors: tuple[str, ...]) -> tuple[list[frozenset], list[frozenset]]:
    """(phase-1, phase-2) minimal quorums from a JSON file: one explicit system (both phases),
    a flexible pair, or an `agree quorums --json` report; every member must be an acceptor."""
    from agree.properties.quorums.loading import load_system

    system = load_system(path)
    phases = (system, system) if isinstance(system, quorums.Explicit) else (system.phase1, system.phase2)
    unknown = sorted({m for phase in phases for m in phase.members} - set(acceptors))
    if unknown:
        raise InputError(f"{path} names {unknown[0]!r}, which is not an acceptor ({', '.join(acceptors)}): "
                         f"name the nodes as the model does, e.g. agree quorums ... --nodes {','.join(acceptors)}")
    return list(phases[0].quorums()), list(phases[1].quorums())
