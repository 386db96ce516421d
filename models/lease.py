"""Leader election by leases in a linearizable store, with fencing tokens at the resource.

Sources: C. Gray and D. Cheriton, "Leases: an efficient fault-tolerant mechanism for distributed
file cache consistency" (SOSP 1989): a lease is safe only while clocks stay within a known error;
etcd's lease API (a lease with a TTL granted by the store, a transaction that compares and sets a
key bound to it, keep-alives that renew it, and the store's revision of that write); and
M. Kleppmann, "How to do distributed locking" (2016): a client may pause (a GC pause, a network
delay) between checking its lease and writing, so the resource must reject writes carrying an
older fencing token than one it has seen.

Time is discrete: a global tick `now`, which is the store's clock. Each client's clock reads
`now + offset` with |offset| <= `drift` (clock error within a bound, as NTP or TrueTime promise);
Drift steps move an offset within that bound. A client pauses simply by taking no step while
others do and time passes: every interleaving is explored, so every pause is.

The rules:
- Acquire(c): compare-and-set on the store: if no lease is live (none granted, or its expiry has
  passed), grant c a lease of `ttl` ticks; the grant's revision, one more than the last, is its
  epoch and fencing token. c reckons its lease ends at local time clock + ttl - 2 * drift: its
  clock may run up to `drift` fast at the grant and `drift` slow later, so this ends before the
  store's expiry whatever the clocks do within the bound (Gray & Cheriton's allowance for skew).
- Renew(c): a keep-alive while c believes it holds the lease: the store extends the expiry to
  now + ttl and c reckons again.
- IssueWrite(c): while c believes it holds the lease, it sends a write with its token. The write
  reaches the resource in a later step: between the two, time passes and others act (the pause).
- DeliverWrite(c, token): the resource accepts the write if `resource_accepts` says so: with
  fencing, if the token is at least the highest it has seen. It remembers the highest token.

Properties: `one_writer_per_epoch` (the resource accepts the writes of at most one client in each
epoch, the epoch being the highest token it has seen when it accepts: "at most one effective
leader"), broken by `no-fencing`; `one_believed_leader` (at most one client believes it holds the
lease at any instant, the lease's own promise), broken by `clock-jump`. Fencing does not need the
clocks: under `clock-jump`, `one_writer_per_epoch` still holds.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.records import RecordModel, put, update, update_at
from agree.properties import consensus
from agree.properties.errors import InputError

STORE, RESOURCE = "store", "resource"


class LeaseState(NamedTuple):
    now: int  # the global tick, which is also the store's clock
    offset: tuple  # per client: its clock reads now + offset
    holder: str | None  # the store: the client of the latest grant (None: never granted)
    epoch: int  # the store: the revision of the latest grant, its fencing token (0: none)
    expiry: int  # the store: the tick at which the latest grant expires
    token: tuple  # per client: the token of the lease it believes it holds (0: none)
    deadline: tuple  # per client: the local time at which it stops believing
    in_flight: frozenset  # writes sent and not yet at the resource: (client, token)
    fence: int  # the resource: the highest token it has seen
    accepted: frozenset  # history: (epoch at the resource, client) of every accepted write
    rejected: frozenset  # history: (client, token) of every write the resource refused


class Lease(RecordModel, Model):
    """Leader election by leases from a store (compare-and-set with expiry); the resource checks fencing tokens."""

    name = "lease"
    params = {
        "clients": Param(int, 2, "number of clients competing for the lease", min=1, max=4),
        "ttl": Param(int, 3, "lease length in ticks (must exceed 2 * drift)", min=1, max=9),
        "drift": Param(int, 1, "bound on each client clock's error, in ticks", min=0, max=4),
        "max_time": Param(int, 4, "last tick of the run", min=0, max=20),
        "max_epoch": Param(int, 2, "most leases the store grants in a run", min=1, max=6),
    }
    actions = ("Tick", "Drift", "Acquire", "Renew", "IssueWrite", "DeliverWrite")
    State = LeaseState

    def setup(self) -> None:
        if self.ttl <= 2 * self.drift:
            raise InputError(f"ttl={self.ttl} must exceed 2 * drift = {2 * self.drift}: a client allows for its "
                             "clock's error in both directions, so a shorter lease is never believed")
        self.names = tuple(f"c{i}" for i in range(1, self.clients + 1))
        self.indexed = tuple(enumerate(self.names))
        self.margin = 2 * self.drift
        if not self.drift:  # so coverage does not warn about a step switched off
            self.actions = tuple(a for a in self.actions if a != "Drift")

    def init(self) -> Iterator[LeaseState]:
        n = self.clients
        yield self.make_state(now=0, offset=(0,) * n, holder=None, epoch=0, expiry=0, token=(0,) * n,
                              deadline=(0,) * n, in_flight=frozenset(), fence=0, accepted=frozenset(),
                              rejected=frozenset())

    def next(self, s: LeaseState) -> Iterator[Step]:
        return chain(self.tick(s), self.drift_clock(s), self.acquire(s), self.renew(s), self.issue_write(s),
                     self.deliver_write(s))

    # ----- helpers every rule uses

    def clock(self, s: LeaseState, i: int) -> int:
        """What client i's clock reads now."""
        return s.now + s.offset[i]

    def believes(self, s: LeaseState, i: int) -> bool:
        """Client i believes it holds a lease: it was granted one and its own clock says it is
        not over yet."""
        return s.token[i] > 0 and self.clock(s, i) < s.deadline[i]

    def lease_live(self, s: LeaseState) -> bool:
        """The store's latest grant has not expired."""
        return s.holder is not None and s.now < s.expiry

    def believe(self, s: LeaseState, i: int, token: int) -> dict:
        """The changes that make client i hold `token` until its conservative local deadline."""
        deadline = self.clock(s, i) + self.ttl - self.margin
        return {"token": put(s.token, i, token), "deadline": put(s.deadline, i, deadline)}

    # ----- time

    def tick(self, s: LeaseState) -> list[Step]:
        """Time passes: the global tick advances, and every clock with it."""
        if s.now >= self.max_time:
            return []
        return [("Tick", {"now": s.now + 1}, update(s, now=s.now + 1))]

    def drift_clock(self, s: LeaseState) -> list[Step]:
        """A client's clock gains or loses a tick, staying within `drift` of true time."""
        return [("Drift", {"client": c, "offset": o}, update_at(s, "offset", i, o))
                for i, c in self.indexed for o in (s.offset[i] - 1, s.offset[i] + 1) if abs(o) <= self.drift]

    # ----- the store (etcd: a lease with a TTL, a compare-and-set bound to it, keep-alives)

    def acquire(self, s: LeaseState) -> list[Step]:
        """Acquire(c): the store grants c the lease if none is live (compare-and-set on the key:
        it succeeds only while the key is absent, and the key goes when its lease expires)."""
        if self.lease_live(s) or s.epoch >= self.max_epoch:
            return []
        epoch = s.epoch + 1
        return [("Acquire", {"client": c, "token": epoch},
                 update(s, holder=c, epoch=epoch, expiry=s.now + self.ttl, **self.believe(s, i, epoch)))
                for i, c in self.indexed]

    def renew(self, s: LeaseState) -> list[Step]:
        """Renew(c): a keep-alive from the holder, while it believes, extends the lease.

        The state remembers no times in its history, so a renewal leads to a state that the
        same client acquiring later also reaches: coverage shows Renew finding no new state. It
        stays as etcd's keep-alive, and as the rule a user's variant of renewal overrides."""
        steps = []
        for i, c in self.indexed:
            if (s.holder == c and s.token[i] == s.epoch and self.believes(s, i) and self.lease_live(s)
                    and s.now + self.ttl > s.expiry):
                steps.append(("Renew", {"client": c, "token": s.epoch},
                              update(s, expiry=s.now + self.ttl, **self.believe(s, i, s.epoch))))
        return steps

    # ----- the clients and the resource (Kleppmann 2016: check the lease, pause, write)

    def issue_write(self, s: LeaseState) -> list[Step]:
        """IssueWrite(c): a client that believes it leads sends a write carrying its token."""
        return [("IssueWrite", {"client": c, "token": s.token[i]},
                 update(s, in_flight=s.in_flight | {(c, s.token[i])}))
                for i, c in self.indexed if self.believes(s, i) and (c, s.token[i]) not in s.in_flight]

    def deliver_write(self, s: LeaseState) -> list[Step]:
        """DeliverWrite(c, token): a write reaches the resource, which accepts or refuses it."""
        steps = []
        for c, token in sorted(s.in_flight):
            rest = s.in_flight - {(c, token)}
            if self.resource_accepts(s.fence, token):
                fence = max(s.fence, token)
                after = update(s, in_flight=rest, fence=fence, accepted=s.accepted | {(fence, c)})
            else:
                after = update(s, in_flight=rest, rejected=s.rejected | {(c, token)})
            steps.append(("DeliverWrite", {"client": c, "token": token, "accepted": after.rejected == s.rejected},
                          after))
        return steps

    def resource_accepts(self, fence: int, token: int) -> bool:
        """Fencing: the resource refuses a token older than the highest it has seen."""
        return token >= fence

    # ----- properties

    def leaders(self, s: LeaseState) -> list[tuple[int, str]]:
        """(epoch, client) for every write the resource accepted: who led, as the resource saw it."""
        return sorted(s.accepted)

    @invariant
    def one_writer_per_epoch(self, s: LeaseState) -> bool:
        """The resource accepts the writes of at most one client per epoch (one effective leader)."""
        return consensus.at_most_one_per_key(s.accepted)

    @invariant
    def one_believed_leader(self, s: LeaseState) -> bool:
        """At most one client believes it holds the lease at any instant."""
        return sum(self.believes(s, i) for i in range(self.clients)) <= 1

    @reachable
    def leadership_changes(self, s: LeaseState) -> bool:
        """Writes of two epochs are accepted: the lease passed from one leader to the next."""
        return len({epoch for epoch, _ in s.accepted}) >= 2

    @reachable
    def stale_write_fenced(self, s: LeaseState) -> bool:
        """A paused leader's write arrives after a newer leader's and is refused."""
        return bool(s.rejected)

    # ----- drawing

    def participants(self) -> list[str]:
        return [*self.names, STORE, RESOURCE]

    def chart(self, step: Step) -> list[tuple]:
        args, action = step.args, step.action
        client, token = args.get("client"), args.get("token")
        if action == "Acquire":
            deadline = step.state["deadline"][self.names.index(client)]
            return [("msg", client, STORE, "CAS lease"),
                    ("msg", STORE, client, f"granted, token {token}, expires at time {step.state['expiry']}"),
                    ("note", client, f"believes it leads until its clock reads {deadline}")]
        if action == "Renew":
            return [("msg", client, STORE, f"keep-alive, token {token}")]
        if action == "IssueWrite":
            return [("note", client, f"believes it leads: sends write with token {token}")]
        if action == "DeliverWrite":
            return [("msg", client, RESOURCE, f"write, token {token}"),
                    ("note", RESOURCE, "accepts" if args["accepted"] else "refuses: stale token")]
        if action == "Tick":
            state = step.state
            expired = f": the store's lease {state['epoch']} expires" if state["expiry"] == args["now"] else ""
            return [("note", None, f"time {args['now']}{expired}")]
        if action == "Drift":
            now = step.state["now"]
            return [("note", client, f"clock reads {now + args['offset']} at true time {now}")]
        return super().chart(step)


@Lease.variant("no-fencing", breaks="one_writer_per_epoch",
               defaults={"ttl": 1, "drift": 0, "max_time": 1},
               says="the resource accepts every write whatever its token: a leader paused past its lease "
                    "writes after the next leader has written")
class NoFencing(Lease):
    def resource_accepts(self, fence: int, token: int) -> bool:
        return True


@Lease.variant("clock-jump", breaks="one_believed_leader",
               defaults={"ttl": 1, "drift": 0, "max_time": 1},
               says="a client's clock may jump back beyond the drift bound, so it believes its lease "
                    "after the store has expired it and granted it to another")
class ClockJump(Lease):
    def drift_clock(self, s: LeaseState) -> list[Step]:
        low = -(self.drift + self.ttl)  # a jump back by up to a whole lease
        return [("Drift", {"client": c, "offset": o}, update_at(s, "offset", i, o))
                for i, c in self.indexed for o in range(low, self.drift + 1) if o != s.offset[i]]
