"""Multi-Paxos: a replicated log whose slots are decided by Paxos under one stable leader.

Sources: L. Lamport, "Paxos Made Simple" (2001), section 3 ("Implementing a State Machine"): the
leader of a ballot runs phase 1 once for all slots, then phase 2 for each slot; a new leader takes
over with a higher ballot and, for each slot, must propose the value of the highest-ballot vote its
quorum reports. The message-level rules follow the single-decree spec (models/paxos.py, after
Lamport's Paxos.tla) with a slot added to votes, 2a and 2b messages, as in the MultiPaxos specs of
tlaplus/Examples. `msgs` is the set of every message sent, never emptied.

A ballot's leader is an explicit participant: `BecomeLeader(b)` is the end of its phase 1, where it
fixes, for every slot, the value it must propose there (or None: any client command). Replicas
apply chosen commands in slot order (`Apply(r)`), so the log they execute can be checked too.

Default bounds: 2 acceptors (a majority is both), 2 slots, 2 commands, ballots 0..1, 2 replicas:
10,244 states, about a second. With 3 acceptors and 2 slots the interleavings of three acceptors'
votes in two slots give over 700,000 states even with one replica (a run stopped there after a
minute), so 3 acceptors are checked with 1 slot in the tests.

Messages are plain tuples (b: ballot, a: acceptor, k: slot, v: value, votes: per slot (vbal, vval)):
    ("1a", b)   ("1b", a, b, votes)   ("2a", b, k, v)   ("2b", a, b, k, v)
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Iterable, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.records import put, update, update_at
from agree.properties import consensus

NO_VOTE = (-1, None)
CACHE_SIZE = 200_000  # sets of messages whose chosen pairs are remembered  # (vbal, vval) of an acceptor that has not voted in a slot


class MultiPaxosState(NamedTuple):
    max_bal: tuple  # max_bal[i]: the highest ballot acceptor i has joined (-1: none)
    votes: tuple  # votes[i][k]: acceptor i's latest vote in slot k, (ballot, value) or (-1, None)
    leaders: tuple  # leaders[b]: None before ballot b's phase 1 ends, then per slot the value it must propose (None: free)
    msgs: frozenset  # every message sent so far
    logs: tuple  # logs[r]: the commands replica r has applied, in slot order


class MultiPaxos(Model):
    """Multi-Paxos: phase 1 once per leader for every slot, phase 2 per slot, replicas apply in order."""

    name = "multipaxos"
    params = {
        "acceptors": Param(int, 2, "number of acceptors (3 with 2 slots: over 700,000 states)", min=1, max=5),
        "slots": Param(int, 2, "length of the replicated log", min=1, max=4),
        "values": Param(int, 2, "number of client commands that may be proposed", min=1, max=3),
        "max_ballot": Param(int, 1, "ballots are 0..max_ballot, one leader each", min=0, max=3),
        "replicas": Param(int, 2, "replicas applying the chosen commands", min=1, max=3),
    }
    actions = ("Phase1a", "Phase1b", "BecomeLeader", "Phase2a", "Phase2b", "Apply")

    def setup(self) -> None:
        self.value_count = self.values  # the number of commands; `vals` holds their names
        self.names = tuple(f"a{i}" for i in range(1, self.acceptors + 1))
        self.vals = tuple(f"v{i}" for i in range(1, self.value_count + 1))
        self.ballots = tuple(range(self.max_ballot + 1))
        self.slot_ids = tuple(range(self.slots))
        self.replica_names = tuple(f"r{i}" for i in range(1, self.replicas + 1))
        self.indexed = tuple(enumerate(self.names))
        self.quorums = [frozenset(q) for q in self.quorum_system()]
        self._chosen_cache: dict[frozenset, frozenset] = {}

    def quorum_system(self) -> Iterable[frozenset]:
        """Majorities of acceptors (minimal quorums; override for another quorum system)."""
        return [frozenset(q) for q in combinations(self.names, self.acceptors // 2 + 1)]

    def is_quorum(self, who: frozenset) -> bool:
        return any(q <= who for q in self.quorums)

    def init(self) -> Iterable[MultiPaxosState]:
        n = self.acceptors
        yield MultiPaxosState((-1,) * n, ((NO_VOTE,) * self.slots,) * n, (None,) * len(self.ballots),
                              frozenset(), ((),) * self.replicas)

    def next(self, s: MultiPaxosState) -> list[Step]:
        return (self.phase1a(s) + self.phase1b(s) + self.become_leader(s) + self.phase2a(s)
                + self.phase2b(s) + self.apply(s))

    # ----- leaders

    def phase1a(self, s: MultiPaxosState) -> list[Step]:
        """Phase1a(b): a would-be leader starts ballot b, higher than any it has seen, to take over
        (Paxos Made Simple, section 3: one phase 1 for all instances at once)."""
        return [("Phase1a", {"bal": b}, update(s, msgs=s.msgs | {("1a", b)})) for b in self.ballots]

    def become_leader(self, s: MultiPaxosState) -> list[Step]:
        """End of phase 1 for ballot b: with 1b answers from a quorum, the leader fixes for each
        slot the value of the highest-ballot vote reported there, or leaves it free."""
        leaders, msgs = s.leaders, s.msgs
        answers: dict[int, dict[str, list]] = {}
        for m in msgs:
            if m[0] == "1b" and leaders[m[2]] is None:
                answers.setdefault(m[2], {}).setdefault(m[1], []).append(m[3])
        steps = []
        for b in sorted(answers):
            outcomes = set()
            for q in self.quorums:
                if q <= answers[b].keys():
                    reported = [r for a in q for r in answers[b][a]]
                    outcomes.add(tuple(self.value_to_keep([r[k] for r in reported]) for k in self.slot_ids))
            for plan in sorted(outcomes, key=repr):
                steps.append(("BecomeLeader", {"bal": b, "keeps": _plan_text(plan)}, update_at(s, "leaders", b, plan)))
        return steps

    def value_to_keep(self, slot_votes: list[tuple]) -> Any:
        """What a new leader must propose in one slot given its quorum's reported votes
        (vbal, vval) there: the value of the highest-ballot vote, or None (free) if none voted."""
        best = max(slot_votes, default=NO_VOTE)
        return best[1] if best[0] >= 0 else None

    def phase2a(self, s: MultiPaxosState) -> list[Step]:
        """Phase2a(b, k, v): ballot b's leader, past phase 1, proposes v in slot k (the value it
        must keep there, or any command in a free slot); at most one 2a per ballot and slot."""
        leaders, msgs = s.leaders, s.msgs
        taken = {(m[1], m[2]) for m in msgs if m[0] == "2a"}
        steps = []
        for b in self.ballots:
            plan = leaders[b]
            if plan is None:
                continue
            for k in self.slot_ids:
                if (b, k) in taken:
                    continue
                for v in (self.vals if plan[k] is None else (plan[k],)):
                    steps.append(("Phase2a", {"bal": b, "slot": k, "val": v}, update(s, msgs=msgs | {("2a", b, k, v)})))
        return steps

    # ----- acceptors

    def phase1b(self, s: MultiPaxosState) -> list[Step]:
        """Phase1b(a): on a 1a above maxBal[a], acceptor a joins the ballot and reports its latest
        vote in every slot."""
        max_bal, votes, msgs = s.max_bal, s.votes, s.msgs
        asked = sorted(m[1] for m in msgs if m[0] == "1a")
        return [("Phase1b", {"acc": a, "bal": b},
                 update(s, max_bal=put(max_bal, i, b), msgs=msgs | {("1b", a, b, votes[i])}))
                for i, a in self.indexed for b in asked if b > max_bal[i]]

    def phase2b(self, s: MultiPaxosState) -> list[Step]:
        """Phase2b(a): on a 2a for a ballot at least maxBal[a], acceptor a votes for its value in
        its slot."""
        max_bal, votes, msgs = s.max_bal, s.votes, s.msgs
        requests = sorted(m[1:] for m in msgs if m[0] == "2a")
        return [("Phase2b", {"acc": a, "bal": b, "slot": k, "val": v},
                 update(s, max_bal=put(max_bal, i, b), votes=put(votes, i, put(votes[i], k, (b, v))),
                        msgs=msgs | {("2b", a, b, k, v)}))
                for i, a in self.indexed for b, k, v in requests if b >= max_bal[i]]

    # ----- replicas

    def apply(self, s: MultiPaxosState) -> list[Step]:
        """Apply(r): replica r executes the command chosen in its next slot (a quorum sent 2b for
        it in one ballot), so every replica runs the chosen commands in log order."""
        logs = s.logs
        chosen = self.chosen_pairs(s)
        steps = []
        for j, r in enumerate(self.replica_names):
            k = len(logs[j])
            for v in sorted(v for slot, v in chosen if slot == k):
                steps.append(("Apply", {"replica": r, "slot": k, "val": v}, update_at(s, "logs", j, logs[j] + (v,))))
        return steps

    # ----- views

    def votes_cast(self, s: MultiPaxosState) -> dict[int, list[tuple]]:
        """Per slot, every vote cast as (acceptor, ballot, value), from the 2b messages."""
        per_slot: dict[int, list[tuple]] = {k: [] for k in self.slot_ids}
        for m in s.msgs:
            if m[0] == "2b":
                per_slot[m[3]].append((m[1], m[2], m[4]))
        return per_slot

    def chosen_pairs(self, s: MultiPaxosState) -> frozenset:
        """The (slot, value) pairs chosen: a quorum voted for the value in one ballot.

        Every property and the Apply rule ask this, and many states share their messages, so the
        answer is remembered per set of messages (a bounded cache, emptied when full)."""
        found = self._chosen_cache.get(s.msgs)
        if found is None:
            if len(self._chosen_cache) >= CACHE_SIZE:
                self._chosen_cache.clear()
            found = self._chosen_cache[s.msgs] = frozenset(
                (k, v) for k, cast in self.votes_cast(s).items() for v in consensus.chosen(cast, self.is_quorum))
        return found

    def decided(self, s: MultiPaxosState) -> dict[int, frozenset]:
        """Each slot with something chosen, and the set of what is chosen there."""
        return _by_slot(self.chosen_pairs(s))

    def applied_logs(self, s: MultiPaxosState) -> tuple:
        return s.logs

    # ----- properties

    @invariant
    def slot_agreement(self, s: MultiPaxosState) -> bool:
        """At most one command is chosen in each slot."""
        return consensus.slot_agreement(self.chosen_pairs(s))

    @invariant
    def validity(self, s: MultiPaxosState) -> bool:
        """A chosen command was proposed by some leader for that slot."""
        proposed = {(m[2], m[3]) for m in s.msgs if m[0] == "2a"}
        return consensus.validity(self.chosen_pairs(s), proposed)

    @invariant
    def log_prefix_consistency(self, s: MultiPaxosState) -> bool:
        """Of any two replicas' applied logs, one is a prefix of the other."""
        return consensus.prefix_consistent(self.applied_logs(s))

    @transition
    def commit_persistence(self, before: MultiPaxosState, step: Step, after: MultiPaxosState) -> bool:
        """A slot once chosen keeps what was chosen there, and an applied command is never undone."""
        if before.msgs is not after.msgs:  # only a new message can choose something
            was, now = self.chosen_pairs(before), self.chosen_pairs(after)
            if was != now and not consensus.stays_decided(_by_slot(was), _by_slot(now)):
                return False
        return before.logs is after.logs or all(consensus.is_prefix(x, y) for x, y in zip(before.logs, after.logs))

    @reachable
    def two_slots_chosen(self, s: MultiPaxosState) -> bool:
        """Commands are chosen in two slots."""
        return len({k for k, _ in self.chosen_pairs(s)}) >= min(2, self.slots)

    @reachable
    def log_applied(self, s: MultiPaxosState) -> bool:
        """Some replica has applied the whole log."""
        return any(len(log) == self.slots for log in s.logs)

    # ----- drawing

    def participants(self) -> list[str]:
        return [f"b{b}" for b in self.ballots] + list(self.names) + list(self.replica_names)

    def chart(self, step: Step) -> list[tuple]:
        args = step.args
        if step.action == "Phase1a":
            return [("note", f"b{args['bal']}", f"1a: leader starts ballot {args['bal']}")]
        if step.action == "Phase1b":
            leader, a = f"b{args['bal']}", args["acc"]
            return [("msg", leader, a, "1a"), ("msg", a, leader, f"1b: joins ballot {args['bal']}")]
        if step.action == "BecomeLeader":
            return [("note", f"b{args['bal']}", f"leads ballot {args['bal']}: {args['keeps']}")]
        if step.action == "Phase2a":
            return [("note", f"b{args['bal']}", f"2a: proposes {args['val']} for slot {args['slot']}")]
        if step.action == "Phase2b":
            leader, a = f"b{args['bal']}", args["acc"]
            b, k, v = args["bal"], args["slot"], args["val"]
            events = [("msg", leader, a, f"2a slot {k}: {v}"), ("msg", a, leader, f"2b: votes {v} in slot {k}")]
            msgs = step.state["msgs"] if isinstance(step.state, dict) else step.state.msgs
            voters = {m[1] for m in map(tuple, msgs) if m[0] == "2b" and tuple(m[2:]) == (b, k, v)}
            if self.is_quorum(frozenset(voters)) and not self.is_quorum(frozenset(voters - {a})):
                events.append(("note", leader, f"{v} is chosen in slot {k} (ballot {b})"))
            return events
        if step.action == "Apply":
            return [("note", args["replica"], f"applies {args['val']} at slot {args['slot']}")]
        return super().chart(step)


def _by_slot(pairs: Iterable[tuple]) -> dict[int, frozenset]:
    found: dict[int, set] = {}
    for k, v in pairs:
        found.setdefault(k, set()).add(v)
    return {k: frozenset(vs) for k, vs in found.items()}


def _plan_text(plan: tuple) -> str:
    """A leader's per-slot obligations, readably: "slot 0 keeps v1, slot 1 free"."""
    return ", ".join(f"slot {k} free" if v is None else f"slot {k} keeps {v}" for k, v in enumerate(plan))


# --------------------------------------------------------------------------- broken variants


@MultiPaxos.variant("new-leader-ignores-votes", breaks="slot_agreement",
                    says="a new leader treats every slot as free instead of adopting the highest-ballot vote its quorum reports")
class NewLeaderIgnoresVotes(MultiPaxos):
    def value_to_keep(self, slot_votes: list[tuple]) -> Any:
        return None


@MultiPaxos.variant("apply-unchosen", breaks="log_prefix_consistency", defaults={"acceptors": 3, "slots": 1},
                    says="a replica applies a command as soon as one acceptor voted for it, before a quorum has")
class ApplyUnchosen(MultiPaxos):
    def apply(self, s: MultiPaxosState) -> list[Step]:
        logs, msgs = s.logs, s.msgs
        steps = []
        for j, r in enumerate(self.replica_names):
            k = len(logs[j])
            for v in sorted({m[4] for m in msgs if m[0] == "2b" and m[3] == k}):
                steps.append(("Apply", {"replica": r, "slot": k, "val": v}, update_at(s, "logs", j, logs[j] + (v,))))
        return steps
