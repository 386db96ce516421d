"""PBFT's normal case with explicit Byzantine replicas, after Castro & Liskov, "Practical
Byzantine Fault Tolerance" (OSDI 1999), section 4.2 (PRE-PREPARE, PREPARE, COMMIT) and section 4.1
(requests are signed by clients, so no replica can forge one).

Replicas r0..r(n-1); r0 is the primary of view 0 (the paper's p = v mod |R|). The replicas named
by `byzantine` may send any message from a bounded universe (`byzantine_messages`): a PRE-PREPARE
(if the Byzantine replica is the primary), PREPARE or COMMIT for view 0, every sequence number and
every request, including a request `x` that no client sent. The others follow the protocol.

What has been sent, and why deriving it from the logs and a fixed Byzantine universe is exact,
is in messages.py.

Quorums come from `properties.quorums.Bft(replicas, f, size)`: quorums of n - f by default, which
is the paper's 2f + 1 when n = 3f + 1. `prepared(m, v, n, i)` needs the pre-prepare plus matching
prepares from backups, together a quorum; `committed-local` needs matching commits from a quorum.
When two quorums can share f replicas or fewer, `warnings()` says so, quoting Z3.

With `views` >= 2 the model is `PbftViews` (views.py): the same normal case in every view, plus
the view change of section 4.4. With one view (the default) nothing of it is built, so the states,
steps and counts are the normal case's alone. The rules below take the view they run in; with one
view it is always 0 and their steps name no view.

Left out: checkpoints and garbage collection, and replies to clients; with one view, only the
primary's equivocation and forged votes can threaten agreement.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable, transition
from agree.models.pbft.bound import bound_warnings
from agree.models.pbft.drawing import PbftDrawing
from agree.models.pbft.messages import COMMITTED, NULL, PRE_PREPARED, PREPARED, PbftMessages
from agree.models.pbft.symmetry import PbftSymmetry
from agree.models.records import put, update_at
from agree.properties import consensus, quorums
from agree.properties.errors import InputError



class PbftState(NamedTuple):
    """log[i][n-1] is honest replica i's entry for sequence number n: None, or (phase, request),
    the phase being pre-prepared (the primary assigned n, or a backup accepted its PRE-PREPARE),
    prepared, or committed (committed-local). A Byzantine replica's log is None: it keeps no
    state the protocol can rely on."""

    log: tuple


class Pbft(PbftMessages, PbftSymmetry, PbftDrawing, Model):
    """PBFT with Byzantine replicas (Castro & Liskov 1999): normal case (4.2), view change (4.4) if views>=2.

    With views >= 2 the instance is `PbftViews` (views.py), which adds the view change's rules
    and the guards that show a commit in a later view."""

    name = "pbft"
    params = {
        "n": Param(int, 4, "number of replicas r0..r(n-1); r(v mod n) is the primary of view v", min=1, max=7),
        "f": Param(int, 1, "faults tolerated (quorums of n - f by default)", min=0, max=3),
        "byzantine": Param(str, "r0", "comma-separated Byzantine replicas ('' for none)"),
        "quorum": Param(int, 0, "quorum size; 0 means n - f (2f + 1 when n = 3f + 1)", min=0, max=7),
        "requests": Param(int, 2, "client requests a, b, ...", min=1, max=3),
        "seqs": Param(int, 2, "sequence numbers 1..seqs (the water marks)", min=1, max=3),
        "views": Param(int, 1, "views 0..views-1; 1 is the normal case alone, 2 or more add the view change "
                               "(VIEW-CHANGE, NEW-VIEW)", min=1, max=3),
    }
    actions = ("PrePrepare", "AcceptPrePrepare", "Prepared", "CommitLocal")

    def __new__(cls, *args, **values):
        """With views >= 2 the model is `PbftViews` (views.py), so that views=1 keeps today's
        rules, states and per-step cost exactly."""
        if "views" in values:  # from the command line it is still text: parse it as __init__ will
            views = cls.params["views"].parse("views", values["views"])
        else:
            views = cls.param_defaults().get("views", 1)
        if views > 1:
            from agree.models.pbft.views import views_class
            cls = views_class(cls)
        return super().__new__(cls)

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
        self._committed_rows: dict[tuple, tuple] = {}
        if all(self.names[self.primary(v)] in self.faulty for v in range(self.views)):
            # a Byzantine primary never runs the honest PrePrepare rule
            self.actions = tuple(a for a in self.actions if a != "PrePrepare")
        # the Byzantine replicas' messages, sent before the first step: who vouches for what
        self.forged: dict[tuple, frozenset] = {}  # (kind, view, seq, request) -> Byzantine senders
        for r in sorted(self.faulty):
            for kind, view, seq, request, sender in self.byzantine_messages(r):
                key = (kind, view, seq, request)
                self.forged[key] = self.forged.get(key, frozenset()) | {sender}

    # ----- helpers a rule (or a user's variant) needs

    def quorum_system(self) -> quorums.Bft:
        """Byzantine quorums over the replicas: any n - f of them, or `quorum` when given."""
        return quorums.Bft(self.names, self.f, self.quorum or None)

    def primary(self, view: int = 0) -> int:
        """The primary of a view (section 4: p = v mod |R|)."""
        return view % self.n

    def view_logs(self, s: PbftState) -> tuple:
        """The honest replicas' logs, one tuple of them per view: with one view, (s.log,)."""
        return (s.log,)

    def in_view(self, s: PbftState, view: int) -> tuple:
        """The honest replicas running the normal case of `view` (section 4.2: a replica accepts
        PRE-PREPARE, PREPARE and COMMIT only for its current view): with one view, all of them."""
        return self.honest

    def live_views(self, s: PbftState) -> tuple:
        """The views whose normal case some honest replica runs."""
        return (0,)

    def step_args(self, view: int, **args) -> dict:
        """A step's args, naming the view when there is more than one."""
        if self.views > 1:
            args["view"] = view
        return args

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

    def with_entry(self, s: PbftState, i: int, seq: int, entry: tuple, view: int = 0) -> PbftState:
        """s with honest replica i's entry for seq in `view` replaced (through `update_at`, so a
        subclass's added fields and state type are kept)."""
        return update_at(s, "log", i, put(s.log[i], seq - 1, entry))

    # ----- the protocol (section 4.2)

    def init(self) -> Iterator[PbftState]:
        empty = (None,) * self.seqs
        yield PbftState(tuple(None if r in self.faulty else empty for r in self.names))

    def next(self, s: PbftState) -> list:
        return self.pre_prepare(s) + self.accept_pre_prepare(s) + self.prepared(s) + self.commit_local(s)

    def pre_prepare(self, s: PbftState) -> list:
        """An honest primary assigns the next sequence number to a client request it has not
        assigned yet in its view and multicasts PRE-PREPARE (section 4.2, pre-prepare phase)."""
        steps = []
        for v in self.live_views(s):
            p = self.primary(v)
            if p not in self.in_view(s, v):
                continue
            row = self.view_logs(s)[v][p]
            if None not in row:
                continue
            seq = row.index(None) + 1
            assigned = {e[1] for e in row if e is not None}
            steps += [("PrePrepare", self.step_args(v, primary=self.names[p], seq=seq, request=r),
                       self.with_entry(s, p, seq, (PRE_PREPARED, r), v))
                      for r in self.client_requests if r not in assigned]
        return steps

    def accept_pre_prepare(self, s: PbftState) -> list:
        """A backup accepts a PRE-PREPARE if the request is signed by its client, it is in the
        backup's view, the sequence number is within the water marks, and it has not accepted a
        PRE-PREPARE for this view and sequence number with a different request; it then
        multicasts PREPARE (section 4.2)."""
        steps = []
        for v in self.live_views(s):
            p, logs = self.primary(v), self.view_logs(s)[v]
            for i in self.in_view(s, v):
                if i == p:
                    continue
                for seq in self.seq_numbers:
                    if logs[i][seq - 1] is not None:
                        continue
                    for request in self.pre_prepares_for(s, seq, v):
                        if self.valid_request(request):
                            args = self.step_args(v, src=self.names[p], dst=self.names[i], seq=seq, request=request)
                            steps.append(("AcceptPrePrepare", args,
                                          self.with_entry(s, i, seq, (PRE_PREPARED, request), v)))
        return steps

    def prepared(self, s: PbftState) -> list:
        """prepared(m, v, n, i): i holds the PRE-PREPARE and matching PREPAREs from backups, from a
        quorum of replicas in all; i then multicasts COMMIT (section 4.2, prepare phase)."""
        return self.advance(s, PRE_PREPARED, "PREPARE", "Prepared", PREPARED)

    def commit_local(self, s: PbftState) -> list:
        """committed-local(m, v, n, i): i is prepared and holds matching COMMITs from a quorum; it
        then executes the request (section 4.2, commit phase)."""
        return self.advance(s, PREPARED, "COMMIT", "CommitLocal", COMMITTED)

    def advance(self, s: PbftState, phase: str, kind: str, action: str, to: str) -> list:
        """Steps moving an honest entry from `phase` to `to` in the replica's view, where the
        `kind` messages for its request come from a quorum (the shape of Prepared and CommitLocal)."""
        steps = []
        for v in self.live_views(s):
            logs = self.view_logs(s)[v]
            for i in self.in_view(s, v):
                for seq, entry in zip(self.seq_numbers, logs[i]):
                    if entry is not None and entry[0] == phase:
                        who = self.vouchers(s, kind, seq, entry[1], v)
                        if self.is_quorum(who):
                            args = self.step_args(v, replica=self.names[i], seq=seq, request=entry[1], **{"from": sorted(who)})
                            steps.append((action, args, self.with_entry(s, i, seq, (to, entry[1]), v)))
        return steps

    # ----- views for the shared properties (honest replicas only)

    def committed(self, s: PbftState) -> list[tuple]:
        """(replica index, seq, request) for every honest committed entry, view by view (each
        log row's committed entries found once: rows recur across many states)."""
        found, memo = [], self._committed_rows
        for logs in self.view_logs(s):
            for i in self.honest:
                row = logs[i]
                hits = memo.get(row)
                if hits is None:
                    hits = memo[row] = tuple((seq, e[1]) for seq, e in zip(self.seq_numbers, row)
                                             if e is not None and e[0] == COMMITTED)
                if hits:
                    found.extend([(i, seq, r) for seq, r in hits])
        return found

    def decisions(self, s: PbftState) -> dict:
        """(replica, seq) -> request, for every request an honest replica has committed (in the
        earliest view it committed one there: a later, different one breaks agreement)."""
        return {(self.names[i], seq): r for i, seq, r in reversed(self.committed(s))}

    def phase_pairs(self, s: PbftState, phases: tuple) -> list[tuple]:
        """(seq, request) for every honest entry in one of `phases`, in any view."""
        return [(seq, e[1]) for logs in self.view_logs(s) for i in self.honest
                for seq, e in zip(self.seq_numbers, logs[i]) if e is not None and e[0] in phases]

    # ----- properties

    @invariant
    def agreement(self, s: PbftState) -> bool:
        """No two honest replicas commit different requests at one sequence number, in any views
        (the null request counts as a request: committing it where another committed `a` is a
        disagreement)."""
        return consensus.slot_agreement([(seq, r) for _, seq, r in self.committed(s)])

    @invariant
    def validity(self, s: PbftState) -> bool:
        """Every request an honest replica commits was sent (signed) by a client, or is the null
        request of a NEW-VIEW (a no-op, section 4.4)."""
        return consensus.validity((r for _, _, r in self.committed(s) if r != NULL), self.client_requests)

    @transition
    def commit_persistence(self, before: PbftState, step: Step, after: PbftState) -> bool:
        """A request an honest replica committed at a sequence number stays committed there."""
        return consensus.stays_decided(self.decisions(before), self.decisions(after))

    @reachable
    def honest_commit(self, s: PbftState) -> bool:
        """Some honest replica commits a request."""
        return bool(self.committed(s))

    @reachable
    def all_honest_commit_every_seq(self, s: PbftState) -> bool:
        """Every honest replica commits at every sequence number (in some view)."""
        done = set(self.decisions(s))
        return all((self.names[i], seq) in done for i in self.honest for seq in self.seq_numbers)

    # ----- the 3f + 1 bound, in the check's report

    def warnings(self) -> list[str]:
        """What these parameters break, checked by Z3 (see models.pbft.bound)."""
        return bound_warnings(self)
