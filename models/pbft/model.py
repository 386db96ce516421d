"""PBFT's normal case with explicit Byzantine replicas, after Castro & Liskov, "Practical
Byzantine Fault Tolerance" (OSDI 1999), section 4.2 (PRE-PREPARE, PREPARE, COMMIT) and section 4.1
(requests are signed by clients, so no replica can forge one).

Replicas r0..r(n-1); r0 is the primary of view 0 (the paper's p = v mod |R|). The replicas named
by `byzantine` may send any message from a bounded universe (`byzantine_messages`): a PRE-PREPARE
(if the Byzantine replica is the primary), PREPARE or COMMIT for view 0, every sequence number and
every request, including a request `x` that no client sent. The others follow the protocol.

How the network is modelled, and why it is exact:
- An honest replica's messages follow from its state (it multicasts PREPARE when it accepts a
  PRE-PREPARE, COMMIT when it becomes prepared, and never takes either back in a view), so the
  state holds only each honest replica's log, and `messages(s)` derives what has been sent.
- A Byzantine replica's messages are all of its universe, sent before the first step. The network
  is asynchronous and a replica acts on a message whenever it chooses, so this allows exactly the
  runs in which a Byzantine replica sends any message at any time, to any subset of replicas:
  equivocation is two honest replicas accepting different PRE-PREPAREs for one sequence number.
  A trace shows a forged message where an honest replica acts on it. A subclass narrows the
  universe by overriding `byzantine_messages`; the rules read it from there.

Quorums come from `properties.quorums.Bft(replicas, f, size)`: quorums of n - f by default, which
is the paper's 2f + 1 when n = 3f + 1. `prepared(m, v, n, i)` needs the pre-prepare plus matching
prepares from backups, together a quorum; `committed-local` needs matching commits from a quorum.
When two quorums can share f replicas or fewer, `warnings()` says so, quoting Z3.

Left out: the view change, checkpoints and garbage collection, and replies to clients; with one
view, only the primary's equivocation and forged votes can threaten agreement.
"""

from __future__ import annotations

from itertools import permutations
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.pbft.bound import bound_warnings
from agree.models.records import put, update_at
from agree.properties import consensus, quorums
from agree.properties.errors import InputError

VIEW = 0  # the one view modelled
PRE_PREPARED, PREPARED, COMMITTED = "pre-prepared", "prepared", "committed"
FORGED = "x"  # a request no client sent: only a Byzantine replica would name it


class PbftState(NamedTuple):
    """log[i][n-1] is honest replica i's entry for sequence number n: None, or (phase, request),
    the phase being pre-prepared (the primary assigned n, or a backup accepted its PRE-PREPARE),
    prepared, or committed (committed-local). A Byzantine replica's log is None: it keeps no
    state the protocol can rely on."""

    log: tuple


class Pbft(Model):
    """PBFT's normal case (Castro & Liskov 1999, section 4.2) with Byzantine replicas."""

    name = "pbft"
    params = {
        "n": Param(int, 4, "number of replicas r0..r(n-1); r0 is the primary", min=1, max=7),
        "f": Param(int, 1, "faults tolerated (quorums of n - f by default)", min=0, max=3),
        "byzantine": Param(str, "r0", "comma-separated Byzantine replicas ('' for none)"),
        "quorum": Param(int, 0, "quorum size; 0 means n - f (2f + 1 when n = 3f + 1)", min=0, max=7),
        "requests": Param(int, 2, "client requests a, b, ...", min=1, max=3),
        "seqs": Param(int, 2, "sequence numbers 1..seqs (the water marks)", min=1, max=3),
    }
    actions = ("PrePrepare", "AcceptPrePrepare", "Prepared", "CommitLocal")

    def setup(self) -> None:
        n = self.n
        self.names = tuple(f"r{i}" for i in range(n))
        chosen = [b.strip() for b in self.byzantine.split(",") if b.strip()]
        unknown = sorted(set(chosen) - set(self.names))
        if unknown:
            raise InputError(f"byzantine={self.byzantine!r} names {unknown[0]!r}, not a replica: "
                             f"use names from r0..r{n - 1}, comma-separated")
        self.faulty = frozenset(chosen)
        self.honest = tuple(i for i, r in enumerate(self.names) if r not in self.faulty)
        if self.f >= n:
            raise InputError(f"f={self.f} needs more than {self.f} replicas, but n={n}: use f at most {n - 1}")
        if self.quorum > n:
            raise InputError(f"quorum={self.quorum} is larger than n={n}: use a quorum size from 1 to {n}")
        self.system = self.quorum_system()
        self.client_requests = tuple("abc"[:self.requests])
        self.seq_numbers = tuple(range(1, self.seqs + 1))
        self._quorum_memo: dict[frozenset, bool] = {}
        if self.names[0] in self.faulty:  # a Byzantine primary never runs the honest PrePrepare rule
            self.actions = tuple(a for a in self.actions if a != "PrePrepare")
        self._request_perms = [dict(zip(self.client_requests, p)) for p in permutations(self.client_requests)]
        # the Byzantine replicas' messages, sent before the first step: who vouches for what
        self.forged: dict[tuple, frozenset] = {}  # (kind, seq, request) -> Byzantine senders
        for r in sorted(self.faulty):
            for kind, _, seq, request, sender in self.byzantine_messages(r):
                key = (kind, seq, request)
                self.forged[key] = self.forged.get(key, frozenset()) | {sender}

    # ----- helpers a rule (or a user's variant) needs

    def quorum_system(self) -> quorums.Bft:
        """Byzantine quorums over the replicas: any n - f of them, or `quorum` when given."""
        return quorums.Bft(self.names, self.f, self.quorum or None)

    def primary(self) -> int:
        """The primary of view 0 (section 4: p = v mod |R|)."""
        return VIEW % self.n

    def is_quorum(self, replicas: frozenset) -> bool:
        """Whether these replicas form a quorum of the Bft system (remembered: at most 2^n sets)."""
        try:
            return self._quorum_memo[replicas]
        except KeyError:
            answer = self._quorum_memo[replicas] = self.system.is_quorum(replicas)
            return answer

    def valid_request(self, request: str) -> bool:
        """A backup accepts a PRE-PREPARE only if the request's client signature is correct
        (section 4.2: "the signatures in the request and the pre-prepare message are correct");
        clients signed exactly the client requests, never `x`."""
        return request in self.client_requests

    def byzantine_messages(self, replica: str) -> Iterator[tuple]:
        """The bounded universe a Byzantine replica may send: for every sequence number and every
        request (forged `x` included), a PRE-PREPARE if it is the primary, a PREPARE if it is a
        backup, and a COMMIT. Messages are (kind, view, seq, request, sender)."""
        for seq in self.seq_numbers:
            for request in (*self.client_requests, FORGED):
                if replica == self.names[self.primary()]:
                    yield ("PRE-PREPARE", VIEW, seq, request, replica)
                else:
                    yield ("PREPARE", VIEW, seq, request, replica)
                yield ("COMMIT", VIEW, seq, request, replica)

    def messages(self, s: PbftState) -> set:
        """Every message sent so far: what the honest replicas' logs imply, and the Byzantine
        replicas' whole universe."""
        sent = {(kind, VIEW, seq, request, r) for (kind, seq, request), who in self.forged.items() for r in who}
        p = self.primary()
        for i in self.honest:
            for seq, entry in zip(self.seq_numbers, s.log[i]):
                if entry is None:
                    continue
                phase, request = entry
                sent.add(("PRE-PREPARE" if i == p else "PREPARE", VIEW, seq, request, self.names[i]))
                if phase != PRE_PREPARED:
                    sent.add(("COMMIT", VIEW, seq, request, self.names[i]))
        return sent

    def vouchers(self, s: PbftState, kind: str, seq: int, request: str) -> frozenset:
        """The replicas that sent `kind` (PREPARE or COMMIT) for request at seq in view 0, with the
        primary counted for PREPARE through its PRE-PREPARE: the paper's "pre-prepare and 2f
        matching prepares from different backups". The same as reading `messages(s)`, faster."""
        found = set(self.forged.get((kind, seq, request), ()))
        if kind == "PREPARE":
            found |= self.forged.get(("PRE-PREPARE", seq, request), frozenset())
        for i in self.honest:
            entry = s.log[i][seq - 1]
            if entry is not None and entry[1] == request and (kind == "PREPARE" or entry[0] != PRE_PREPARED):
                found.add(self.names[i])
        return frozenset(found)

    def with_entry(self, s: PbftState, i: int, seq: int, entry: tuple) -> PbftState:
        """s with honest replica i's entry for seq replaced (through `update_at`, so a subclass's
        added fields and state type are kept)."""
        return update_at(s, "log", i, put(s.log[i], seq - 1, entry))

    def pre_prepares_for(self, s: PbftState, seq: int) -> list[str]:
        """The requests of the PRE-PREPAREs for seq that the primary has sent."""
        p = self.primary()
        if self.names[p] in self.faulty:
            return [r for r in (*self.client_requests, FORGED) if ("PRE-PREPARE", seq, r) in self.forged]
        entry = s.log[p][seq - 1]
        return [] if entry is None else [entry[1]]

    # ----- the protocol (section 4.2)

    def init(self) -> Iterator[PbftState]:
        empty = (None,) * self.seqs
        yield PbftState(tuple(None if r in self.faulty else empty for r in self.names))

    def next(self, s: PbftState) -> list:
        return self.pre_prepare(s) + self.accept_pre_prepare(s) + self.prepared(s) + self.commit_local(s)

    def pre_prepare(self, s: PbftState) -> list:
        """An honest primary assigns the next sequence number to a client request it has not
        assigned yet and multicasts PRE-PREPARE (section 4.2, pre-prepare phase)."""
        p = self.primary()
        if self.names[p] in self.faulty:
            return []
        row = s.log[p]
        if None not in row:
            return []
        seq = row.index(None) + 1
        assigned = {e[1] for e in row if e is not None}
        return [("PrePrepare", {"primary": self.names[p], "seq": seq, "request": r},
                 self.with_entry(s, p, seq, (PRE_PREPARED, r)))
                for r in self.client_requests if r not in assigned]

    def accept_pre_prepare(self, s: PbftState) -> list:
        """A backup accepts a PRE-PREPARE if the request is signed by its client, it is in view 0,
        the sequence number is within the water marks, and it has not accepted a PRE-PREPARE for
        this view and sequence number with a different request; it then multicasts PREPARE."""
        p = self.primary()
        steps = []
        for i in self.honest:
            if i == p:
                continue
            for seq in self.seq_numbers:
                if s.log[i][seq - 1] is not None:
                    continue
                for request in self.pre_prepares_for(s, seq):
                    if self.valid_request(request):
                        steps.append(("AcceptPrePrepare", {"src": self.names[p], "dst": self.names[i], "seq": seq,
                                                           "request": request},
                                      self.with_entry(s, i, seq, (PRE_PREPARED, request))))
        return steps

    def prepared(self, s: PbftState) -> list:
        """prepared(m, v, n, i): i holds the PRE-PREPARE and matching PREPAREs from backups, from a
        quorum of replicas in all; i then multicasts COMMIT (section 4.2, prepare phase)."""
        steps = []
        for i in self.honest:
            for seq, entry in zip(self.seq_numbers, s.log[i]):
                if entry is not None and entry[0] == PRE_PREPARED:
                    who = self.vouchers(s, "PREPARE", seq, entry[1])
                    if self.is_quorum(who):
                        steps.append(("Prepared", {"replica": self.names[i], "seq": seq, "request": entry[1],
                                                   "from": sorted(who)},
                                      self.with_entry(s, i, seq, (PREPARED, entry[1]))))
        return steps

    def commit_local(self, s: PbftState) -> list:
        """committed-local(m, v, n, i): i is prepared and holds matching COMMITs from a quorum; it
        then executes the request (section 4.2, commit phase)."""
        steps = []
        for i in self.honest:
            for seq, entry in zip(self.seq_numbers, s.log[i]):
                if entry is not None and entry[0] == PREPARED:
                    who = self.vouchers(s, "COMMIT", seq, entry[1])
                    if self.is_quorum(who):
                        steps.append(("CommitLocal", {"replica": self.names[i], "seq": seq, "request": entry[1],
                                                      "from": sorted(who)},
                                      self.with_entry(s, i, seq, (COMMITTED, entry[1]))))
        return steps

    # ----- views for the shared properties (honest replicas only)

    def decisions(self, s: PbftState) -> dict:
        """(replica, seq) -> request, for every request an honest replica has committed."""
        return {(self.names[i], seq): e[1] for i in self.honest
                for seq, e in zip(self.seq_numbers, s.log[i]) if e is not None and e[0] == COMMITTED}

    def phase_pairs(self, s: PbftState, phases: tuple) -> list[tuple]:
        """(seq, request) for every honest entry in one of `phases`."""
        return [(seq, e[1]) for i in self.honest for seq, e in zip(self.seq_numbers, s.log[i])
                if e is not None and e[0] in phases]

    # ----- properties

    @invariant
    def agreement(self, s: PbftState) -> bool:
        """No two honest replicas commit different requests at one sequence number."""
        return consensus.slot_agreement(self.phase_pairs(s, (COMMITTED,)))

    @invariant
    def validity(self, s: PbftState) -> bool:
        """Every request an honest replica commits was sent (signed) by a client."""
        return consensus.validity((r for _, r in self.phase_pairs(s, (COMMITTED,))), self.client_requests)

    @transition
    def commit_persistence(self, before: PbftState, step: Step, after: PbftState) -> bool:
        """A request an honest replica committed at a sequence number stays committed there."""
        return consensus.stays_decided(self.decisions(before), self.decisions(after))

    @reachable
    def honest_commit(self, s: PbftState) -> bool:
        """Some honest replica commits a request."""
        return bool(self.phase_pairs(s, (COMMITTED,)))

    @reachable
    def all_honest_commit_every_seq(self, s: PbftState) -> bool:
        """Every honest replica commits at every sequence number."""
        return all(e is not None and e[0] == COMMITTED for i in self.honest for e in s.log[i])

    # ----- symmetry: honest backups are interchangeable, and so are client requests

    def symmetry(self, s: PbftState) -> tuple:
        """The least renaming of s: honest backups' logs sorted, over every permutation of the
        client requests (the forged request and the primary keep their names). Sound because no
        rule or property tells honest backups apart, and quorums count replicas."""
        p = self.primary()
        best = None
        for rename in self._request_perms:
            def entry(e):
                return e if e is None else (e[0], rename.get(e[1], e[1]))
            logs = [tuple(map(entry, s.log[i])) for i in self.honest]
            head = logs.pop(0) if self.honest and self.honest[0] == p else None
            key = (head, tuple(sorted(logs, key=repr)))
            if best is None or repr(key) < repr(best):
                best = key
        return best

    # ----- the 3f + 1 bound, in the check's report

    def warnings(self) -> list[str]:
        """What these parameters break, checked by Z3 (see models.pbft.bound)."""
        return bound_warnings(self)

    # ----- drawing

    def actor(self, name: str) -> str:
        return f"{name} (Byzantine)" if name in self.faulty else name

    def participants(self) -> list[str]:
        return [self.actor(r) for r in self.names]

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        if act == "PrePrepare":
            return [("note", self.actor(a["primary"]),
                     f"assigns n={a['seq']} to {a['request']}, multicasts PRE-PREPARE")]
        if act == "AcceptPrePrepare":
            return [("msg", self.actor(a["src"]), a["dst"], f"PRE-PREPARE(v0, n={a['seq']}, {a['request']})"),
                    ("note", a["dst"], f"accepts, multicasts PREPARE(n={a['seq']}, {a['request']})")]
        if act in ("Prepared", "CommitLocal"):
            kind = "PREPARE" if act == "Prepared" else "COMMIT"
            primary = self.names[self.primary()]
            events = [("msg", self.actor(r), a["replica"], f"{kind}(n={a['seq']}, {a['request']})")
                      for r in a["from"] if r in self.faulty and (kind == "COMMIT" or r != primary)]
            did = "prepared" if act == "Prepared" else "COMMITS"
            events.append(("note", a["replica"], f"{did} {a['request']} at n={a['seq']} "
                                                 f"(quorum {', '.join(a['from'])})"))
            return events
        return super().chart(step)
