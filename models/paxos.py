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

import math
from itertools import permutations
from typing import Any, Iterable, NamedTuple

from models.contract import Model, Param, Step, invariant, reachable
from properties import consensus, quorums
from properties.errors import InputError

NO_BALLOT = -1
NONE = None  # the spec's None: "no value"
CACHE_SIZE = 200_000  # sets of messages whose chosen values are remembered
MAX_SYMMETRY_ENTRIES = 2_000_000  # renamed-message entries in the symmetry tables (about 200 MB)


class PaxosState(NamedTuple):
    max_bal: tuple  # max_bal[i]: the highest ballot acceptor i has joined (-1: none)
    max_vbal: tuple  # max_vbal[i]: the ballot of acceptor i's latest vote (-1: none)
    max_val: tuple  # max_val[i]: the value of that vote (None: none)
    msgs: frozenset  # every message sent so far
    restarts: int  # crash-restarts so far (always 0 unless max_restarts > 0)


_new = tuple.__new__  # builds a PaxosState without NamedTuple's Python-level constructor


class Paxos(Model):
    """Single-decree Paxos: leaders of numbered ballots ask a quorum of acceptors to vote."""

    name = "paxos"
    params = {
        "acceptors": Param(int, 3, "number of acceptors", min=1, max=7),
        "values": Param(int, 2, "number of values that may be proposed", min=1, max=4),
        "max_ballot": Param(int, 1, "ballots are 0..max_ballot", min=0, max=5),
        "max_restarts": Param(int, 0, "crash-restarts of acceptors allowed in a run", min=0, max=5),
        "quorum": Param(str, "majority", "'majority', or a JSON file of quorums over a1..aN "
                                         "(the format of `agree quorums explicit --file`)"),
    }
    actions = ("Phase1a", "Phase1b", "Phase2a", "Phase2b", "Restart")

    def setup(self) -> None:
        self.value_count = self.values  # the number of values; `vals` holds their names
        self.names = tuple(f"a{i}" for i in range(1, self.acceptors + 1))
        self.vals = tuple(f"v{i}" for i in range(1, self.value_count + 1))
        self.ballots = tuple(range(self.max_ballot + 1))
        self.quorums = [frozenset(q) for q in self.quorum_system()]
        self._chosen_cache: dict[frozenset, frozenset] = {}
        self.indexed = tuple(enumerate(self.names))
        if not self.max_restarts:  # so coverage does not warn about a step switched off
            self.actions = tuple(a for a in self.actions if a != "Restart")
        self._symmetries: list | None = None  # built on first use: only a --symmetry search needs them

    def quorum_system(self) -> Iterable[frozenset]:
        """The quorums, as sets of acceptor names: majorities by default (the spec's Quorum
        constant, as in MCPaxosTiny), or the explicit system in the file named by `quorum`, so a
        disjoint pair that `agree quorums` found can be played out here. Override this in a
        subclass for any other system; the minimal quorums are enough, since `is_quorum` tests
        for a superset."""
        if self.quorum == "majority":
            return quorums.Majority(self.names).quorums()
        return load_acceptor_quorums(self.quorum, self.names)

    def is_quorum(self, who: frozenset) -> bool:
        return any(q <= who for q in self.quorums)

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
        max_bal, max_vbal, max_val, msgs, restarts = s
        return [("Phase1a", {"bal": b}, _new(PaxosState, (max_bal, max_vbal, max_val, msgs | {("1a", b)}, restarts)))
                for b in self.ballots]

    def phase1b(self, s: PaxosState) -> list[Step]:
        """Phase1b(a): on a 1a for a ballot above maxBal[a], acceptor a joins it (promising to
        ignore lower ballots) and reports its latest vote <<maxVBal[a], maxVal[a]>>."""
        max_bal, max_vbal, max_val, msgs, restarts = s
        asked = sorted(m[1] for m in msgs if m[0] == "1a")
        steps = []
        for i, a in self.indexed:
            for b in asked:
                if b > max_bal[i]:
                    reply = ("1b", a, b, max_vbal[i], max_val[i])
                    steps.append(("Phase1b", {"acc": a, "bal": b}, _new(PaxosState, (
                        _put(max_bal, i, b), max_vbal, max_val, msgs | {reply}, restarts))))
        return steps

    def phase2a(self, s: PaxosState) -> list[Step]:
        """Phase2a(b, v): once a quorum has answered ballot b's 1a, its leader asks for votes on
        v, where v is the value of the highest vote those answers report, or any value if they
        report none; at most one 2a is ever sent per ballot."""
        max_bal, max_vbal, max_val, msgs, restarts = s
        proposed = {m[1] for m in msgs if m[0] == "2a"}
        reports: dict[int, dict[str, list]] = {}  # ballot -> acceptor -> [(mbal, mval)]
        for m in msgs:
            if m[0] == "1b" and m[2] not in proposed:
                reports.setdefault(m[2], {}).setdefault(m[1], []).append((m[3], m[4]))
        steps = []
        for b in sorted(reports):
            answered = reports[b]
            allowed: set = set()
            for q in self.quorums:
                if q <= answered.keys():
                    allowed |= self.values_safe_at([r for a in q for r in answered[a]])
            for v in sorted(allowed):
                steps.append(("Phase2a", {"bal": b, "val": v}, _new(PaxosState, (
                    max_bal, max_vbal, max_val, msgs | {("2a", b, v)}, restarts))))
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
        """Phase2b(a): on a 2a for a ballot at least maxBal[a], acceptor a votes for its value
        (Paxos Made Simple, phase 2(b)) and records the vote."""
        max_bal, max_vbal, max_val, msgs, restarts = s
        requests = sorted(m[1:] for m in msgs if m[0] == "2a")
        steps = []
        for i, a in self.indexed:
            for b, v in requests:
                if b >= max_bal[i]:
                    steps.append(self._vote(s, i, a, b, v))
        return steps

    def _vote(self, s: PaxosState, i: int, a: str, b: int, v: Any) -> Step:
        max_bal, max_vbal, max_val, msgs, restarts = s
        return ("Phase2b", {"acc": a, "bal": b, "val": v}, _new(PaxosState, (
            _put(max_bal, i, b), _put(max_vbal, i, b), _put(max_val, i, v), msgs | {("2b", a, b, v)}, restarts)))

    def restart(self, s: PaxosState) -> list[Step]:
        """Restart(a): acceptor a crashes and recovers. maxBal, maxVBal and maxVal are on
        stable storage ("Paxos Made Simple", section 2.2: an acceptor remembers what it must even
        if it fails and restarts), so they survive; only the count of restarts changes."""
        max_bal, max_vbal, max_val, msgs, restarts = s
        if restarts >= self.max_restarts:
            return []
        after = _new(PaxosState, (max_bal, max_vbal, max_val, msgs, restarts + 1))
        return [("Restart", {"acc": a}, after) for a in self.names]

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
                if not any(self._shows_safe_at(s, q, m[1], m[2], votes) for q in self.quorums):
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

    # ----- symmetry: acceptors (as far as the quorum system allows) and values are interchangeable

    def _setup_symmetry(self) -> None:
        """Precompute, for every symmetry, where it sends each acceptor, value and message.

        The acceptor permutations are those that map the quorum system onto itself (all of them
        for majorities); values are all interchangeable, since any value may be proposed."""
        n = self.acceptors
        quorums = set(self.quorums)
        value_code = {NONE: 0, **{v: k + 1 for k, v in enumerate(self.vals)}}
        universe = self._message_universe()
        entries = math.factorial(n) * math.factorial(self.value_count) * len(universe)
        if entries > MAX_SYMMETRY_ENTRIES:  # each entry costs about 100 bytes: refuse rather than swap
            raise InputError(f"--symmetry for paxos with acceptors={n}, values={self.value_count}, "
                             f"max_ballot={self.max_ballot} needs tables of {entries:,} entries (the limit is "
                             f"{MAX_SYMMETRY_ENTRIES:,}): leave out --symmetry or use fewer acceptors, values or ballots")
        symmetries = []
        for acc_perm in permutations(range(n)):
            rename = {self.names[i]: self.names[acc_perm[i]] for i in range(n)}
            if {frozenset(rename[a] for a in q) for q in quorums} != quorums:
                continue
            for val_perm in permutations(self.vals):
                vmap = {NONE: NONE, **dict(zip(self.vals, val_perm))}
                position = [0] * n  # position[new index] = old index
                for old, new in enumerate(acc_perm):
                    position[new] = old
                bit = {m: 1 << universe[_rename_message(m, rename, vmap)] for m in universe}
                code = {v: value_code[vmap[v]] for v in vmap}
                symmetries.append((tuple(position), code, bit))
        self._symmetries = symmetries

    def _message_universe(self) -> dict:
        """Every message that can ever be sent, numbered (so a set of messages is a bit mask)."""
        found = [("1a", b) for b in self.ballots]
        votes = [(NO_BALLOT, NONE)] + [(c, v) for c in self.ballots for v in self.vals]
        found += [("1b", a, b, c, v) for a in self.names for b in self.ballots for c, v in votes]
        found += [("2a", b, v) for b in self.ballots for v in self.vals]
        found += [("2b", a, b, v) for a in self.names for b in self.ballots for v in self.vals]
        return {m: k for k, m in enumerate(found)}

    def symmetry(self, s: PaxosState) -> tuple:
        """The least, over all symmetries, of an exact sortable encoding of the renamed state:
        a true canonical form, so a symmetric search counts exactly one state per orbit."""
        if self._symmetries is None:
            self._setup_symmetry()
        max_bal, max_vbal, max_val, msgs, restarts = s
        best_local, best_mask = None, 0
        for position, code, bit in self._symmetries:
            local = tuple([(max_bal[i], max_vbal[i], code[max_val[i]]) for i in position])
            if best_local is not None and local > best_local:
                continue  # the acceptors' part already decides: no need to rename the messages
            mask = sum(map(bit.__getitem__, msgs))
            if best_local is None or local < best_local or mask < best_mask:
                best_local, best_mask = local, mask
        return best_local, best_mask, restarts

    # ----- drawing

    def participants(self) -> list[str]:
        return [f"b{b}" for b in self.ballots] + list(self.names)

    def chart(self, step: Step) -> list[tuple]:
        args = step.args
        if step.action == "Phase1a":
            return [("note", f"b{args['bal']}", f"1a: leader starts ballot {args['bal']}")]
        if step.action == "Phase1b":
            leader, a = f"b{args['bal']}", args["acc"]
            vote = _last_vote(step.state, self.names.index(a))
            said = "no vote yet" if vote[0] == NO_BALLOT else f"voted {vote[1]} in ballot {vote[0]}"
            return [("msg", leader, a, "1a"), ("msg", a, leader, f"1b: joins ballot {args['bal']}, {said}")]
        if step.action == "Phase2a":
            return [("note", f"b{args['bal']}", f"2a: proposes {args['val']}")]
        if step.action == "Phase2b":
            leader, a, b, v = f"b{args['bal']}", args["acc"], args["bal"], args["val"]
            events = [("msg", leader, a, f"2a {v}"), ("msg", a, leader, f"2b: votes {v} in ballot {b}")]
            voters = {m[1] for m in map(tuple, _msgs(step.state)) if m[0] == "2b" and m[2] == b and m[3] == v}
            if self.is_quorum(frozenset(voters)) and not self.is_quorum(frozenset(voters - {a})):
                events.append(("note", leader, f"{v} is chosen in ballot {b} by {', '.join(sorted(voters))}"))
            return events
        if step.action == "Restart":
            return [("note", args["acc"], self.restart_says)]
        return super().chart(step)

    restart_says = "crashes and restarts, its state intact"


def _put(row: tuple, i: int, value: Any) -> tuple:
    """`row` with entry i replaced."""
    return row[:i] + (value,) + row[i + 1:]


def _rename_message(m: tuple, rename: dict, vmap: dict) -> tuple:
    kind = m[0]
    if kind == "1a":
        return m
    if kind == "1b":
        return ("1b", rename[m[1]], m[2], m[3], vmap[m[4]])
    if kind == "2a":
        return ("2a", m[1], vmap[m[2]])
    return ("2b", rename[m[1]], m[2], vmap[m[3]])


def _msgs(state: Any) -> Iterable:
    """The messages of a state, or of its JSON encoding (charts are drawn from trace files too)."""
    return state["msgs"] if isinstance(state, dict) else state.msgs


def _last_vote(state: Any, i: int) -> tuple:
    if isinstance(state, dict):
        return state["max_vbal"][i], state["max_val"][i]
    return state.max_vbal[i], state.max_val[i]


# --------------------------------------------------------------------------- broken variants
# Each changes exactly one rule method and says which property should fail.


@Paxos.variant("accept-below-promise", breaks="agreement",
               says="Phase2b drops the guard m.bal >= maxBal[a]: an acceptor votes in a ballot below one it promised to")
class AcceptBelowPromise(Paxos):
    def phase2b(self, s: PaxosState) -> list[Step]:
        requests = sorted(m[1:] for m in s.msgs if m[0] == "2a")
        return [self._vote(s, i, a, b, v) for i, a in self.indexed for b, v in requests]


@Paxos.variant("forget-promise", breaks="agreement",
               says="Phase1b answers a 1a but does not record the promise (maxBal[a] is not raised)")
class ForgetPromise(Paxos):
    def phase1b(self, s: PaxosState) -> list[Step]:
        max_bal, max_vbal, max_val, msgs, restarts = s
        asked = sorted(m[1] for m in msgs if m[0] == "1a")
        return [("Phase1b", {"acc": a, "bal": b}, _new(PaxosState, (
                    max_bal, max_vbal, max_val, msgs | {("1b", a, b, max_vbal[i], max_val[i])}, restarts)))
                for i, a in self.indexed for b in asked if b > max_bal[i]]


@Paxos.variant("ignore-reported-value", breaks="agreement",
               says="Phase2a lets the leader propose any value, even when a 1b in its quorum reported a vote")
class IgnoreReportedValue(Paxos):
    def values_safe_at(self, reports: list[tuple]) -> set:
        return set(self.vals)


@Paxos.variant("minority-quorum", breaks="agreement",
               says="quorums are sets of floor(n/2) acceptors, so two of them can be disjoint")
class MinorityQuorum(Paxos):
    def quorum_system(self) -> Iterable[frozenset]:
        return quorums.Threshold(self.names, max(1, self.acceptors // 2)).quorums()


@Paxos.variant("amnesia-restart", breaks="agreement", defaults={"max_restarts": 1},
               says="Restart(a) wipes maxBal, maxVBal and maxVal: the acceptor forgets its promises and votes")
class AmnesiaRestart(Paxos):
    restart_says = "crashes and restarts with its state wiped"

    def restart(self, s: PaxosState) -> list[Step]:
        max_bal, max_vbal, max_val, msgs, restarts = s
        if restarts >= self.max_restarts:
            return []
        return [("Restart", {"acc": a}, _new(PaxosState, (
                    _put(max_bal, i, NO_BALLOT), _put(max_vbal, i, NO_BALLOT), _put(max_val, i, NONE),
                    msgs, restarts + 1)))
                for i, a in self.indexed]


def load_acceptor_quorums(path: str, acceptors: tuple[str, ...]) -> list[frozenset]:
    """The minimal quorums of an explicit system stored as JSON, checked against the acceptors."""
    from properties.quorums.loading import load_system

    if not path.strip():
        raise InputError("-p quorum= is empty: give -p quorum=majority or the path to a JSON file of quorums")
    system = load_system(path)
    if not isinstance(system, quorums.Explicit):
        raise InputError(f"{path} holds phase-1 and phase-2 quorums; this Paxos uses one system: give \"quorums\"")
    unknown = sorted(set(system.members) - set(acceptors))
    if unknown:
        raise InputError(f"{path} names {unknown[0]!r}, which is not an acceptor ({', '.join(acceptors)})")
    return list(system.quorums())
