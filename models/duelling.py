"""Duelling proposers: Paxos's phases 1 and 2 with two proposers pre-empting each other for ever.

Source: L. Lamport, "Paxos Made Simple" (2001), section 2.5 ("Progress"): two proposers can keep
issuing proposals with ever-higher numbers, each pre-empting the other's phase 2, so that no value
is ever chosen; progress needs a distinguished proposer (a stable leader). Fischer, Lynch and
Paterson (JACM 1985) show no deterministic protocol avoids this in an asynchronous system.

To make the duel a finite cycle, ballots are abstracted: the protocol only compares ballots
(higher, equal), so after every step the ballots in the state are renumbered 1, 2, ... in their
order, and a new ballot is one above the highest in the state. Messages travel on one channel
per (sender, receiver) that keeps only the latest message (a newer one replaces an older one, a
form of the message loss Paxos tolerates), so the state stays finite while every protocol step
of the paper remains: Prepare (1a), Promise or Nack (1b), Accept (2a), Accepted or Nack (2b).

Liveness: `eventually_chosen` under weak fairness of every delivery (per channel). The proposers
themselves are not assumed fair: a pre-empted proposer may retry at once, which is the duel. With
`stable_leader=true`, a weakly fair step `Stabilize` eventually silences proposer p2, after which
p1 alone retries only when pre-empted, and a value is always chosen.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, eventually, invariant, reachable, weak
from agree.models.records import put, update
from agree.properties.consensus import agreement

IDLE, PHASE1, PHASE2, DONE = "idle", "phase1", "phase2", "done"


class Acceptor(NamedTuple):
    promised: int  # the highest ballot promised (0: none)
    accepted: int  # the ballot of the last accepted proposal (0: none)
    value: str | None


class Proposer(NamedTuple):
    ballot: int
    phase: str
    got: frozenset  # phase 1: (acceptor, accepted ballot, value) promises; phase 2: acceptors that accepted
    value: str | None  # the value proposed in phase 2
    preempted: bool  # a Nack showed a higher ballot: the proposer may retry


class DuelState(NamedTuple):
    acceptors: tuple  # Acceptor per acceptor
    proposers: tuple  # Proposer per proposer
    requests: tuple  # requests[p][a]: the latest message from proposer p to acceptor a, or None
    votes: frozenset  # (acceptor, ballot) for every vote in a ballot still in the state
    chosen: frozenset  # values ever accepted by a majority in one ballot (a history variable)
    stable: bool  # stable_leader: p2 has stopped proposing


class DuellingProposers(Model):
    """Paxos with two proposers that pre-empt each other (ballots renumbered to stay finite)."""

    name = "duelling-proposers"
    params = {
        "acceptors": Param(int, 2, "number of acceptors (a majority decides)", min=1, max=5),
        "stable_leader": Param(bool, False, "after some point only proposer p1 proposes"),
    }
    actions = ("Prepare", "Deliver", "Stabilize")
    fairness = (weak("Deliver", per="channel"), weak("Stabilize"))
    expected_failure = "eventually_chosen"  # with the default stable_leader=false: the duel

    def setup(self) -> None:
        self.names = tuple(f"a{i}" for i in range(1, self.acceptors + 1))
        self.proposer_names = ("p1", "p2")
        self.own_values = ("v1", "v2")
        self.majority = self.acceptors // 2 + 1
        if not self.stable_leader:
            self.actions = ("Prepare", "Deliver")

    def init(self) -> Iterator[DuelState]:
        n = self.acceptors
        yield DuelState(acceptors=(Acceptor(0, 0, None),) * n,
                        proposers=(Proposer(0, IDLE, frozenset(), None, False),) * 2,
                        requests=((None,) * n,) * 2,
                        votes=frozenset(), chosen=frozenset(), stable=not self.stable_leader)

    def next(self, s: DuelState) -> Iterator[Step]:
        return chain(self.prepare(s), self.deliver(s), self.stabilize(s))

    # ----- proposers

    def may_propose(self, s: DuelState, p: int) -> bool:
        """A proposer starts when idle and retries only once pre-empted (Paxos Made Simple 2.5);
        once the leader is stable only p1 proposes."""
        me = s.proposers[p]
        if self.stable_leader and s.stable and p != 0:
            return False
        return me.phase == IDLE or (me.phase in (PHASE1, PHASE2) and me.preempted)

    def prepare(self, s: DuelState) -> list[Step]:
        """Prepare(p): choose a ballot above every ballot in the state and send 1a to every acceptor."""
        steps = []
        for p, name in enumerate(self.proposer_names):
            if not self.may_propose(s, p):
                continue
            ballot = highest_ballot(s) + 1
            me = Proposer(ballot, PHASE1, frozenset(), None, False)
            requests = put(s.requests, p, (("1a", ballot),) * self.acceptors)
            steps.append(("Prepare", {"proposer": name, "ballot": ballot},
                          renumber(update(s, proposers=put(s.proposers, p, me), requests=requests))))
        return steps

    def receive(self, s: DuelState, p: int, a: int, message: tuple) -> DuelState:
        """A proposer's reaction to a Promise, an Accepted or a Nack (others are stale: ignored)."""
        me = s.proposers[p]
        kind, ballot = message[0], message[1]
        if kind == "nack":
            if ballot > me.ballot and me.phase in (PHASE1, PHASE2):
                s = update(s, proposers=put(s.proposers, p, update(me, preempted=True)))
            return s
        if ballot != me.ballot:
            return s
        if kind == "1b" and me.phase == PHASE1:
            got = me.got | {(a, message[2], message[3])}
            if len({g[0] for g in got}) < self.majority:
                return update(s, proposers=put(s.proposers, p, update(me, got=got)))
            value = self.value_to_propose(got, p)  # phase 2a: the value of the highest accepted ballot
            me = update(me, phase=PHASE2, got=frozenset(), value=value)
            requests = put(s.requests, p, (("2a", ballot, value),) * self.acceptors)
            return update(s, proposers=put(s.proposers, p, me), requests=requests)
        if kind == "2b" and me.phase == PHASE2:
            got = me.got | {a}
            phase = DONE if len(got) >= self.majority else PHASE2
            return update(s, proposers=put(s.proposers, p, update(me, got=got, phase=phase)))
        return s

    def value_to_propose(self, promises: frozenset, p: int) -> str:
        """Phase 2a: the value of the highest-numbered proposal among the promises, else our own."""
        best = max(promises, key=lambda g: g[1])
        return best[2] if best[1] > 0 else self.own_values[p]

    def stabilize(self, s: DuelState) -> list[Step]:
        """Stabilize: from now on only p1 proposes (a leader election that eventually settles)."""
        return [] if s.stable else [("Stabilize", {}, update(s, stable=True))]

    # ----- acceptors

    def deliver(self, s: DuelState) -> list[Step]:
        """Deliver(p -> a): acceptor a takes the latest message from proposer p and answers it; the
        answer reaches p in the same step (a round trip, so replies need no channels of their own)."""
        steps = []
        for p, proposer in enumerate(self.proposer_names):
            for a, acceptor in enumerate(self.names):
                message = s.requests[p][a]
                if message is None:
                    continue
                requests = put(s.requests, p, put(s.requests[p], a, None))
                after = self.answer(update(s, requests=requests), p, a, message)
                steps.append(("Deliver", {"channel": f"{proposer}->{acceptor}", "message": message[0]},
                              renumber(after)))
        return steps

    def answer(self, s: DuelState, p: int, a: int, message: tuple) -> DuelState:
        """Phase 1b: promise a higher ballot and report the last accepted proposal; phase 2b: accept
        unless a higher ballot was promised. Otherwise Nack with the promised ballot."""
        me = s.acceptors[a]
        kind, ballot = message[0], message[1]
        if kind == "1a" and ballot > me.promised:
            me = update(me, promised=ballot)
            out = ("1b", ballot, me.accepted, me.value)
        elif kind == "2a" and ballot >= me.promised:
            me = Acceptor(ballot, ballot, message[2])
            out = ("2b", ballot)
            votes = s.votes | {(a, ballot)}
            s = update(s, votes=votes)
            if sum(1 for _, b in votes if b == ballot) >= self.majority:  # a majority voted: chosen
                s = update(s, chosen=s.chosen | {message[2]})
        else:
            out = ("nack", me.promised)
        return self.receive(update(s, acceptors=put(s.acceptors, a, me)), p, a, out)

    # ----- properties

    @invariant
    def agreement(self, s: DuelState) -> bool:
        """At most one value is ever chosen, and every proposer that finished learned it."""
        learned = {me.value for me in s.proposers if me.phase == DONE}
        return agreement(s.chosen | learned) and learned <= s.chosen

    @eventually
    def eventually_chosen(self, s: DuelState) -> bool:
        """Some value is eventually chosen (accepted by a majority in one ballot)."""
        return bool(s.chosen)

    @reachable
    def value_chosen(self, s: DuelState) -> bool:
        """A value is chosen in some run."""
        return bool(s.chosen)

    @reachable
    def both_proposers_in_phase2(self, s: DuelState) -> bool:
        """Both proposers reach phase 2 at once: the duel is possible."""
        return all(me.phase == PHASE2 for me in s.proposers)

    # ----- drawing

    def participants(self) -> list[str]:
        return [*self.proposer_names, *self.names]

    def chart(self, step: Step) -> list[tuple]:
        args = step.args
        if "channel" in args:
            src, dst = args["channel"].split("->")
            return [("msg", src, dst, args["message"])]
        if step.action == "Prepare":
            return [("note", args["proposer"], f"Prepare ballot {args['ballot']}")]
        return super().chart(step)


def _ballots(s: DuelState) -> Iterator[int]:
    for x in s.acceptors:
        yield x.promised
        yield x.accepted
    for me in s.proposers:
        yield me.ballot
        for g in me.got:
            if isinstance(g, tuple):
                yield g[1]
    for row in s.requests:
        for m in row:
            if m is not None:
                yield m[1]
                if m[0] == "1b":
                    yield m[2]


def highest_ballot(s: DuelState) -> int:
    return max(_ballots(s))


def renumber(s: DuelState) -> DuelState:
    """Map the ballots in the state onto 1, 2, ... in their order (0, "none", stays 0), and forget
    the votes of ballots no longer anywhere else in the state (no vote can join them any more)."""
    rank = {b: i for i, b in enumerate(sorted(set(_ballots(s)) | {0}))}
    votes = frozenset((a, rank[b]) for a, b in s.votes if b in rank)
    if all(rank[b] == b for b in rank):
        return s if votes == s.votes else update(s, votes=votes)

    def msg(m):
        if m is None:
            return None
        if m[0] == "1b":
            return (m[0], rank[m[1]], rank[m[2]], m[3])
        return (m[0], rank[m[1]], *m[2:])

    return update(
        s, votes=votes,
        acceptors=tuple(update(x, promised=rank[x.promised], accepted=rank[x.accepted]) for x in s.acceptors),
        proposers=tuple(update(me, ballot=rank[me.ballot],
                               got=frozenset((g[0], rank[g[1]], g[2]) if isinstance(g, tuple) else g
                                             for g in me.got)) for me in s.proposers),
        requests=tuple(tuple(map(msg, row)) for row in s.requests))
