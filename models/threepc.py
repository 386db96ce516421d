"""Three-phase commit with Skeen's termination protocol: nonblocking under site crashes.

Source: D. Skeen, "Nonblocking commit protocols" (SIGMOD 1981): the central-site nonblocking
protocol, given there as finite-state automata for the coordinator and the slave sites (local
states q initial, w wait, p prepared, c commit, a abort), and the termination protocol that the
operational sites run through a backup coordinator when the coordinator fails; the same rules,
timeouts included, as P. Bernstein, V. Hadzilacos and N. Goodman, "Concurrency Control and
Recovery in Database Systems" (1987), chapter 7 (the three-phase commit protocol). The
coordinator asks CanCommit, collects votes, sends PreCommit once every vote is Yes, collects Acks,
then sends DoCommit.

Skeen's assumptions, and how the model keeps them:
- Sites fail by crashing and stay down (fail-stop); the network never partitions. Crash is an
  explicit step, bounded by `max_crashes`; `partition` is a rule that yields nothing here, and the
  variant `partition` gives it steps.
- Failures are detected by timeouts in a synchronous network: a timeout only fires on a message
  that can never arrive (its sender crashed before sending it, or a partition cut it off), and a
  participant's timeout only once every message from the coordinator that can still reach its
  side has arrived (the timeout is longer than a message's delay).
- The backup coordinator's round (ask the states of the sites it can reach, decide, tell them) is
  one step per site: a site that times out reads the states of the live sites on its side and
  applies Skeen's termination rule to itself. Every site reading the same rule reaches the same
  decision, so this stands for any elected backup, including one that crashes midway.

Messages sit in a set that is never emptied, as in Gray & Lamport's TwoPhase: ("CanCommit",),
("Yes", p), ("No", p), ("PreCommit",), ("Ack", p), ("DoCommit",), ("Abort",). A message from
a to b may be received while b is up and no partition separates them.

Properties: `consistent` (no two sites decide differently: agreement over their decisions),
`valid` (commit only if every participant voted Yes) and `nonblocking` (whenever no step but a
fault is enabled, every live site has decided: with no cycles in the state graph, every run
ends there, so no live site waits forever; two-phase commit fails this on a coordinator crash).
"""

from __future__ import annotations

from itertools import chain, combinations
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.records import RecordModel, put, update
from agree.properties import consensus

INIT, WAIT, PREPARED, COMMITTED, ABORTED = "init", "wait", "prepared", "committed", "aborted"
DECIDED = frozenset({COMMITTED, ABORTED})
UNDECIDED = frozenset({INIT, WAIT, PREPARED})
COORDINATOR = "coordinator"
CAN_COMMIT, PRE_COMMIT, DO_COMMIT, ABORT = ("CanCommit",), ("PreCommit",), ("DoCommit",), ("Abort",)
FAULTS = ("Crash", "Partition")


class ThreePCState(NamedTuple):
    coord: str  # the coordinator's state: init, wait, prepared, committed, aborted (Skeen's q w p c a)
    parts: tuple  # parts[i]: the state of participant p(i+1), same names
    msgs: frozenset  # every message sent so far (never emptied)
    crashed: frozenset  # the sites that have crashed (they stay down)
    cut: frozenset  # the sites a partition separates from the coordinator (empty: no partition)


class ThreePC(RecordModel, Model):
    """Three-phase commit (Skeen 1981): CanCommit?, PreCommit, DoCommit; a termination rule if the coordinator fails."""

    name = "threepc"
    params = {
        "cohorts": Param(int, 3, "number of participants (cohorts) besides the coordinator", min=1, max=5),
        "max_crashes": Param(int, 2, "most sites (coordinator included) that crash in a run", min=0, max=6),
    }
    actions = ("SendCanCommit", "Vote", "SendPreCommit", "ReceivePreCommit", "SendDoCommit", "ReceiveDoCommit",
               "SendAbort", "ReceiveAbort", "Terminate", "Crash")
    State = ThreePCState

    def setup(self) -> None:
        self.names = tuple(f"p{i}" for i in range(1, self.cohorts + 1))
        self.indexed = tuple(enumerate(self.names))
        self.all_of = {value: (value,) * self.cohorts for value in (COMMITTED, ABORTED)}
        if not self.max_crashes:  # so coverage does not warn about steps switched off
            self.actions = tuple(a for a in self.actions if a != "Crash"
                                 and (a != "Terminate" or "Partition" in self.actions))

    def init(self) -> Iterator[ThreePCState]:
        yield self.make_state(coord=INIT, parts=(INIT,) * self.cohorts, msgs=frozenset(),
                              crashed=frozenset(), cut=frozenset())

    def next(self, s: ThreePCState) -> Iterator[Step]:
        return chain(self.progress(s), self.crash(s), self.partition(s))

    def progress(self, s: ThreePCState) -> Iterator[Step]:
        """Every step but a fault: what the protocol itself does from `s`."""
        return chain(self.send_can_commit(s), self.send_pre_commit(s), self.send_do_commit(s), self.send_abort(s),
                     self.vote(s), self.receive_pre_commit(s), self.receive_do_commit(s), self.receive_abort(s),
                     self.terminate(s))

    # ----- helpers every rule uses (public, so a user's rule can use them too)

    def up(self, s: ThreePCState, site: str) -> bool:
        return site not in s.crashed

    def linked(self, s: ThreePCState, a: str, b: str) -> bool:
        """No partition separates sites a and b (a message between them can get through)."""
        return (a in s.cut) == (b in s.cut)

    def hears(self, s: ThreePCState, sender: str, receiver: str, message: tuple) -> bool:
        """`receiver` can receive `message` from `sender` now: it was sent, the receiver is up and
        no partition separates them (a message in flight survives its sender's crash)."""
        return message in s.msgs and receiver not in s.crashed and self.linked(s, sender, receiver)

    def never_hears(self, s: ThreePCState, sender: str, receiver: str, message: tuple) -> bool:
        """`message` from `sender` can never reach `receiver`: a partition separates them, or the
        sender crashed without sending it. Only then may the receiver time out (synchrony)."""
        return not self.linked(s, sender, receiver) or (sender in s.crashed and message not in s.msgs)

    def set_part(self, s: ThreePCState, i: int, value: str, send: tuple | None = None) -> ThreePCState:
        """`s` with participant i in state `value`, and `send` added to the messages if given."""
        parts = put(s.parts, i, value)
        return update(s, parts=parts, msgs=s.msgs | {send}) if send else update(s, parts=parts)

    def set_coord(self, s: ThreePCState, value: str, send: tuple) -> ThreePCState:
        return update(s, coord=value, msgs=s.msgs | {send})

    # ----- the coordinator (Skeen 1981: the central site's automaton)

    def send_can_commit(self, s: ThreePCState) -> list[Step]:
        """q -> w: the coordinator starts the transaction and asks every participant CanCommit?"""
        if s.coord == INIT and self.up(s, COORDINATOR):
            return [("SendCanCommit", {}, self.set_coord(s, WAIT, CAN_COMMIT))]
        return []

    def send_pre_commit(self, s: ThreePCState) -> list[Step]:
        """w -> p: every participant voted Yes, so the coordinator sends PreCommit (the buffer
        state p that makes the protocol nonblocking: no one commits before everyone is prepared)."""
        if s.coord == WAIT and all(self.hears(s, p, COORDINATOR, ("Yes", p)) for p in self.names):
            return [("SendPreCommit", {}, self.set_coord(s, PREPARED, PRE_COMMIT))]
        return []

    def send_do_commit(self, s: ThreePCState) -> list[Step]:
        """p -> c: every participant acknowledged PreCommit, or its Ack can never arrive (it
        crashed: in BHG the coordinator's timeout in p leads to commit), so commit."""
        if s.coord == PREPARED and self.up(s, COORDINATOR) and all(
                self.hears(s, p, COORDINATOR, ("Ack", p)) or self.never_hears(s, p, COORDINATOR, ("Ack", p))
                for p in self.names):
            return [("SendDoCommit", {}, self.set_coord(s, COMMITTED, DO_COMMIT))]
        return []

    def send_abort(self, s: ThreePCState) -> list[Step]:
        """w -> a: some participant voted No, or its vote can never arrive (the coordinator's
        timeout in w leads to abort)."""
        if s.coord == WAIT and self.up(s, COORDINATOR) and any(
                self.hears(s, p, COORDINATOR, ("No", p))
                or (self.never_hears(s, p, COORDINATOR, ("Yes", p)) and self.never_hears(s, p, COORDINATOR, ("No", p)))
                for p in self.names):
            return [("SendAbort", {}, self.set_coord(s, ABORTED, ABORT))]
        return []

    # ----- the participants (Skeen 1981: a slave site's automaton)

    def vote(self, s: ThreePCState) -> list[Step]:
        """q -> w or q -> a: on CanCommit, a participant votes Yes (and waits) or No (and aborts)."""
        steps = []
        for i, p in self.indexed:
            if s.parts[i] == INIT and self.hears(s, COORDINATOR, p, CAN_COMMIT):
                steps.append(("Vote", {"site": p, "vote": "Yes"}, self.set_part(s, i, WAIT, ("Yes", p))))
                steps.append(("Vote", {"site": p, "vote": "No"}, self.set_part(s, i, ABORTED, ("No", p))))
        return steps

    def receive_pre_commit(self, s: ThreePCState) -> list[Step]:
        """w -> p: on PreCommit, a participant becomes prepared and acknowledges."""
        return [("ReceivePreCommit", {"site": p}, self.set_part(s, i, PREPARED, ("Ack", p)))
                for i, p in self.indexed if s.parts[i] == WAIT and self.hears(s, COORDINATOR, p, PRE_COMMIT)]

    def receive_do_commit(self, s: ThreePCState) -> list[Step]:
        """p -> c: on DoCommit, a prepared participant commits."""
        return [("ReceiveDoCommit", {"site": p}, self.set_part(s, i, COMMITTED))
                for i, p in self.indexed if s.parts[i] == PREPARED and self.hears(s, COORDINATOR, p, DO_COMMIT)]

    def receive_abort(self, s: ThreePCState) -> list[Step]:
        """On Abort, an undecided participant aborts."""
        return [("ReceiveAbort", {"site": p}, self.set_part(s, i, ABORTED))
                for i, p in self.indexed if s.parts[i] in UNDECIDED and self.hears(s, COORDINATOR, p, ABORT)]

    # ----- timeouts and the termination protocol (Skeen 1981; BHG chapter 7)

    def terminate(self, s: ThreePCState) -> list[Step]:
        """An undecided participant that can no longer hear the coordinator times out, once its
        side is quiet, and moves by the termination rule (`termination_rule`)."""
        steps = []
        for i, p in self.indexed:
            if s.parts[i] in UNDECIDED and self.up(s, p) and self.coordinator_lost(s, p) and self.quiet(s, p):
                seen = tuple(s.parts[j] for j, q in self.indexed if self.up(s, q) and self.linked(s, p, q))
                after = self.termination_rule(s.parts[i], seen)
                if after != s.parts[i]:
                    steps.append(("Terminate", {"site": p, "to": after}, self.set_part(s, i, after)))
        return steps

    def coordinator_lost(self, s: ThreePCState, p: str) -> bool:
        """p can no longer hear the coordinator: it crashed, or a partition cut it off."""
        return COORDINATOR in s.crashed or not self.linked(s, COORDINATOR, p)

    def quiet(self, s: ThreePCState, p: str) -> bool:
        """No message from the coordinator is still on its way to a live participant on p's side."""
        waiting = {INIT: (CAN_COMMIT, ABORT), WAIT: (PRE_COMMIT, ABORT), PREPARED: (DO_COMMIT, ABORT)}
        return not any(self.linked(s, p, q) and self.hears(s, COORDINATOR, q, m)
                       for j, q in self.indexed for m in waiting.get(s.parts[j], ()))

    def termination_rule(self, mine: str, seen: tuple) -> str:
        """Skeen's termination rule, from the states of the live sites this one can reach (its
        own included): a site in q aborts (it never voted, so no one can have committed); if
        any site committed, commit; if any aborted, abort; if any is prepared, first move to
        prepared, and commit once every reachable site is prepared; if all are uncertain (w),
        abort, for no site can have committed (the coordinator commits only after everyone
        reachable is prepared)."""
        if mine == INIT:
            return ABORTED
        if COMMITTED in seen:
            return COMMITTED
        if ABORTED in seen:
            return ABORTED
        if PREPARED in seen:
            return COMMITTED if all(x in (PREPARED, COMMITTED) for x in seen) else PREPARED
        return ABORTED

    # ----- faults

    def crash(self, s: ThreePCState) -> list[Step]:
        """A site (coordinator or participant) crashes and stays down."""
        if len(s.crashed) >= self.max_crashes:
            return []
        return [("Crash", {"site": site}, update(s, crashed=s.crashed | {site}))
                for site in (COORDINATOR, *self.names) if site not in s.crashed]

    def partition(self, s: ThreePCState) -> list[Step]:
        """Skeen's model has no partitions (the network is reliable, only sites fail): nothing here."""
        return []

    # ----- views and properties

    def decisions(self, s: ThreePCState) -> list[str]:
        """The outcome of every site that has decided (crashed ones included: a decision stays)."""
        return [x for x in (s.coord, *s.parts) if x in DECIDED]

    @invariant
    def consistent(self, s: ThreePCState) -> bool:
        """No site commits while another aborts (agreement over the sites' decisions)."""
        return consensus.agreement(self.decisions(s))

    @invariant
    def valid(self, s: ThreePCState) -> bool:
        """A site commits only if every participant voted Yes."""
        allowed = {COMMITTED, ABORTED} if all(("Yes", p) in s.msgs for p in self.names) else {ABORTED}
        return consensus.validity(self.decisions(s), allowed)

    @invariant
    def nonblocking(self, s: ThreePCState) -> bool:
        """When only faults can happen next, every live site has decided: no one waits forever."""
        if next(iter(self.progress(s)), None) is not None:
            return True
        return all(x in DECIDED for site, x in zip((COORDINATOR, *self.names), (s.coord, *s.parts))
                   if site not in s.crashed)

    @reachable
    def all_committed(self, s: ThreePCState) -> bool:
        """Every site commits in some run."""
        return s.coord == COMMITTED and s.parts == self.all_of[COMMITTED]

    @reachable
    def commit_without_coordinator(self, s: ThreePCState) -> bool:
        """The coordinator crashes undecided and the participants still commit (termination)."""
        return COORDINATOR in s.crashed and s.coord in UNDECIDED and s.parts == self.all_of[COMMITTED]

    @reachable
    def abort_without_coordinator(self, s: ThreePCState) -> bool:
        """The coordinator crashes undecided and every participant aborts (termination)."""
        return COORDINATOR in s.crashed and s.coord in UNDECIDED and s.parts == self.all_of[ABORTED]

    # ----- drawing

    def participants(self) -> list[str]:
        return [COORDINATOR, *self.names]

    def chart(self, step: Step) -> list[tuple]:
        site, action = step.args.get("site"), step.action
        if action == "Vote":
            return [("msg", COORDINATOR, site, "CanCommit?"), ("msg", site, COORDINATOR, step.args["vote"])]
        if action == "ReceivePreCommit":
            return [("msg", COORDINATOR, site, "PreCommit"), ("msg", site, COORDINATOR, "Ack")]
        if action in ("ReceiveDoCommit", "ReceiveAbort"):
            label = "DoCommit" if action == "ReceiveDoCommit" else "Abort"
            outcome = "committed" if label == "DoCommit" else "aborted"
            return [("msg", COORDINATOR, site, label), ("note", site, outcome)]
        if action.startswith("Send"):
            return [("note", COORDINATOR, {"SendCanCommit": "starts: CanCommit? to all",
                                           "SendPreCommit": "all voted Yes: PreCommit to all",
                                           "SendDoCommit": "every Ack in, or never coming: commits, DoCommit to all",
                                           "SendAbort": "aborts: Abort to all"}[action])]
        if action == "Terminate":
            return [("note", site, f"times out, runs the termination rule: {step.args['to']}")]
        if action == "Crash":
            return [("note", site, "crashes")]
        if action == "Partition":
            cut = ", ".join(step.args["cut"])
            return [("note", None, f"partition: {cut} cut off from the coordinator")]
        return super().chart(step)


@ThreePC.variant("partition", breaks="consistent", defaults={"cohorts": 1, "max_crashes": 0},
                 says="the network may partition (Skeen assumes it never does): the coordinator's side "
                      "commits on a timeout while the cut-off side's termination rule aborts")
class Partitioned(ThreePC):
    """The partition step: once in a run, any non-empty set of participants is cut off from the
    coordinator for good. Each side then times out on the other and terminates on its own."""

    actions = ThreePC.actions + ("Partition",)

    def partition(self, s: ThreePCState) -> list[Step]:
        if s.cut:
            return []
        return [("Partition", {"cut": cut}, update(s, cut=frozenset(cut)))
                for k in range(1, self.cohorts + 1) for cut in combinations(self.names, k)]
