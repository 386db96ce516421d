"""Primary-backup with synchronous replication, and failover decided through consensus.

Sources: P. Alsberg and J. Day, "A principle for resilient sharing of distributed resources"
(ICSE 1976): a primary orders the writes and acknowledges one only once a backup holds it;
N. Budhiraja, K. Marzullo, F. Schneider and S. Toueg, "The primary-backup approach" (1993):
a failover must leave exactly one primary, which holds every acknowledged write; and L. Lamport,
D. Malkhi and L. Zhou, "Vertical Paxos and primary-backup replication" (PODC 2009): the
configuration (who is primary, who is backup, in which epoch) is decided by a consensus service,
and servers refuse messages of an epoch they have left.

Two servers, s1 (primary of epoch 1) and s2 (its backup), and a configuration service that is a
linearizable compare-and-set register (a consensus object, like the store of models/lease.py).
The rules:
- ClientWrite(p): the primary of p's configuration stores the next write (w1, w2, ...); with a
  backup it sends Replicate(epoch, w) and waits; alone, it acknowledges the write at once.
- BackupStore(b): the backup of that same epoch stores w and answers Ack(epoch, w).
- PrimaryAck(p): on Ack(epoch, w) for its own epoch, the primary acknowledges w to the client.
- FailOver(x): x suspects its peer (rightly after a crash, wrongly at any other time) and takes
  over as sole primary of the next epoch: the backup promotes itself, or the primary drops its
  backup. Through consensus: a compare-and-set on the configuration that succeeds only if x is in
  the latest epoch, so one of two rival suspicions wins.
- LearnConfig(x): a server learns a newer configuration from the service.
- AddBackup(p): the sole primary brings the other server back as backup of a new epoch, copying
  its log to it (state transfer), through the same compare-and-set.
- Crash(x): a server stops for good (its log, on disk, is kept).

Properties: `acked_writes_durable` (every acknowledged write is in the log of every server that
is primary of the newest epoch: failover loses none) and `one_primary_per_epoch` (the writes
acknowledged in one epoch come from one server). The variant `script-failover` replaces the
compare-and-set with a script that promotes on its own host's suspicion: a partition that makes
each server suspect the other leaves two primaries.

Messages sit in a set that is never emptied: ("Replicate", epoch, src, dst, w), ("Ack", epoch,
src, dst, w). A server acts on a message only while it is in the message's epoch.
"""

from __future__ import annotations

from itertools import chain
from typing import Iterator, NamedTuple

from agree.models.contract import Model, Param, Step, invariant, reachable
from agree.models.records import RecordModel, put, update
from agree.properties import consensus, logs

SERVERS = ("s1", "s2")
CLIENT, SERVICE = "client", "config"


class Config(NamedTuple):
    epoch: int
    primary: str
    backup: str | None  # None: the primary runs alone


class PrimaryBackupState(NamedTuple):
    config: Config  # the configuration service's register: the latest decided configuration
    view: tuple  # per server: the configuration it is in (the latest it learned or installed)
    log: tuple  # per server: the writes it stores, in order
    msgs: frozenset  # every message sent so far (never emptied)
    acked: frozenset  # history: (write, epoch, server) of every write acknowledged to a client
    crashed: frozenset  # servers that have stopped
    issued: int  # client writes so far: w1..w{issued}


class PrimaryBackup(RecordModel, Model):
    """Primary-backup: a write is acknowledged once the backup holds it; failover through a configuration service."""

    name = "primary-backup"
    params = {
        "writes": Param(int, 3, "number of client writes w1..wN", min=0, max=5),
        "max_epoch": Param(int, 4, "highest epoch a failover or re-join may start", min=1, max=6),
        "max_crashes": Param(int, 1, "most servers that crash in a run", min=0, max=2),
    }
    actions = ("ClientWrite", "BackupStore", "PrimaryAck", "FailOver", "LearnConfig", "AddBackup", "Crash")
    State = PrimaryBackupState

    def setup(self) -> None:
        self.indexed = tuple(enumerate(SERVERS))
        self.values = tuple(f"w{k}" for k in range(1, self.writes + 1))
        if not self.max_crashes:  # so coverage does not warn about a step switched off
            self.actions = tuple(a for a in self.actions if a != "Crash")

    def init(self) -> Iterator[PrimaryBackupState]:
        first = Config(1, SERVERS[0], SERVERS[1])
        yield self.make_state(config=first, view=(first, first), log=((), ()), msgs=frozenset(),
                              acked=frozenset(), crashed=frozenset(), issued=0)

    def next(self, s: PrimaryBackupState) -> Iterator[Step]:
        return chain(self.client_write(s), self.backup_store(s), self.primary_ack(s), self.fail_over(s),
                     self.learn_config(s), self.add_backup(s), self.crash(s))

    # ----- helpers every rule uses

    def live(self, s: PrimaryBackupState) -> Iterator[tuple[int, str]]:
        """(index, name) of every server that has not crashed."""
        return ((i, x) for i, x in self.indexed if x not in s.crashed)

    def peer(self, x: str) -> str:
        return SERVERS[1] if x == SERVERS[0] else SERVERS[0]

    def at_server(self, s: PrimaryBackupState, i: int, **fields) -> dict:
        """The changes to `update` that set server i's entry of per-server fields (view, log)."""
        return {name: put(getattr(s, name), i, value) for name, value in fields.items()}

    def ack(self, s: PrimaryBackupState, w: str, epoch: int, x: str) -> frozenset:
        return s.acked | {(w, epoch, x)}

    # ----- replication (Alsberg & Day 1976: acknowledge once the backup holds the write)

    def client_write(self, s: PrimaryBackupState) -> list[Step]:
        """ClientWrite(p): the primary stores the next write and replicates it, or, alone,
        acknowledges it at once."""
        if s.issued >= self.writes:
            return []
        w = self.values[s.issued]
        steps = []
        for i, x in self.live(s):
            view = s.view[i]
            if view.primary != x:
                continue
            changes = self.at_server(s, i, log=s.log[i] + (w,))
            if view.backup is None:
                changes["acked"] = self.ack(s, w, view.epoch, x)
            else:
                changes["msgs"] = s.msgs | {("Replicate", view.epoch, x, view.backup, w)}
            steps.append(("ClientWrite", {"server": x, "write": w}, update(s, issued=s.issued + 1, **changes)))
        return steps

    def backup_store(self, s: PrimaryBackupState) -> list[Step]:
        """BackupStore(b): the backup of the message's epoch stores the write and acknowledges it."""
        steps = []
        for kind, epoch, src, dst, w in sorted(s.msgs):
            i = SERVERS.index(dst)
            view = s.view[i]
            if kind == "Replicate" and dst not in s.crashed and view.epoch == epoch and view.backup == dst \
                    and w not in s.log[i]:
                changes = self.at_server(s, i, log=s.log[i] + (w,))
                steps.append(("BackupStore", {"server": dst, "write": w, "epoch": epoch},
                              update(s, msgs=s.msgs | {("Ack", epoch, dst, src, w)}, **changes)))
        return steps

    def primary_ack(self, s: PrimaryBackupState) -> list[Step]:
        """PrimaryAck(p): the primary of the message's epoch acknowledges the write to the client."""
        steps = []
        for kind, epoch, src, dst, w in sorted(s.msgs):
            view = s.view[SERVERS.index(dst)]
            if kind == "Ack" and dst not in s.crashed and view.epoch == epoch and view.primary == dst \
                    and (w, epoch, dst) not in s.acked:
                steps.append(("PrimaryAck", {"server": dst, "write": w, "epoch": epoch},
                              update(s, acked=self.ack(s, w, epoch, dst))))
        return steps

    # ----- reconfiguration (Vertical Paxos: the configuration is decided by consensus)

    def fail_over(self, s: PrimaryBackupState) -> list[Step]:
        """FailOver(x): x suspects its peer and asks the service to make it sole primary of the
        next epoch; the compare-and-set succeeds only if x's configuration is still the latest."""
        steps = []
        for i, x in self.live(s):
            view = s.view[i]
            if view.backup is not None and view == s.config and view.epoch < self.max_epoch:
                new = Config(view.epoch + 1, x, None)
                steps.append(("FailOver", {"server": x, "epoch": new.epoch},
                              update(s, config=new, **self.at_server(s, i, view=new))))
        return steps

    def learn_config(self, s: PrimaryBackupState) -> list[Step]:
        """LearnConfig(x): the service tells x of a configuration newer than its own."""
        return [("LearnConfig", {"server": x, "epoch": s.config.epoch},
                 update(s, **self.at_server(s, i, view=s.config)))
                for i, x in self.live(s) if s.view[i].epoch < s.config.epoch]

    def add_backup(self, s: PrimaryBackupState) -> list[Step]:
        """AddBackup(p): the sole primary makes the other live server its backup in a new epoch
        (through the same compare-and-set), copying its log there (Budhiraja et al.: recovery)."""
        steps = []
        for i, x in self.live(s):
            other = self.peer(x)
            if (s.view[i] == s.config and s.config.primary == x and s.config.backup is None
                    and other not in s.crashed and s.config.epoch < self.max_epoch):
                new = Config(s.config.epoch + 1, x, other)
                j = SERVERS.index(other)
                changes = {"view": put(put(s.view, i, new), j, new), "log": put(s.log, j, s.log[i])}
                steps.append(("AddBackup", {"server": x, "backup": other, "epoch": new.epoch},
                              update(s, config=new, **changes)))
        return steps

    def crash(self, s: PrimaryBackupState) -> list[Step]:
        """Crash(x): a server stops for good."""
        if len(s.crashed) >= self.max_crashes:
            return []
        return [("Crash", {"server": x}, update(s, crashed=s.crashed | {x})) for _, x in self.live(s)]

    # ----- views and properties

    def newest_primaries(self, s: PrimaryBackupState) -> list[str]:
        """The servers that are primary in their own view of the newest epoch any server is in
        (crashed ones included: their logs are on disk)."""
        newest = max(view.epoch for view in s.view)
        return [x for i, x in self.indexed if s.view[i].epoch == newest and s.view[i].primary == x]

    @invariant
    def acked_writes_durable(self, s: PrimaryBackupState) -> bool:
        """Every acknowledged write is held by every primary of the newest epoch."""
        acknowledged = {w for w, _, _ in s.acked}
        return logs.acknowledged_held(acknowledged, [s.log[SERVERS.index(x)] for x in self.newest_primaries(s)])

    @invariant
    def one_primary_per_epoch(self, s: PrimaryBackupState) -> bool:
        """The writes acknowledged in one epoch are acknowledged by one server."""
        return consensus.at_most_one_per_key((epoch, x) for _, epoch, x in s.acked)

    @reachable
    def replicated_write_acked(self, s: PrimaryBackupState) -> bool:
        """A write is acknowledged in epoch 1, after the backup stored it."""
        return any(epoch == 1 for _, epoch, _ in s.acked)

    @reachable
    def failover_after_crash(self, s: PrimaryBackupState) -> bool:
        """s1 crashed after acknowledging a write; s2 took over and acknowledged one too."""
        epochs = {epoch for _, epoch, _ in s.acked}
        return SERVERS[0] in s.crashed and s.config.primary == SERVERS[1] and 1 in epochs and len(epochs) >= 2

    @reachable
    def wrong_suspicion_survived(self, s: PrimaryBackupState) -> bool:
        """s2 took over from a live s1, and writes were acknowledged before and after."""
        epochs = {epoch for _, epoch, _ in s.acked}
        return not s.crashed and s.config.primary == SERVERS[1] and 1 in epochs and len(epochs) >= 2

    # ----- drawing

    def participants(self) -> list[str]:
        return [CLIENT, *SERVERS, SERVICE]

    def chart(self, step: Step) -> list[tuple]:
        args, action = step.args, step.action
        x, w = args.get("server"), args.get("write")
        if action == "ClientWrite":
            view = step.state["view"][SERVERS.index(x)]
            events = [("msg", CLIENT, x, f"write {w}")]
            if view["backup"] is None:
                events.append(("msg", x, CLIENT, f"ok {w} (alone, epoch {view['epoch']})"))
            return events
        if action == "BackupStore":
            return [("msg", self.peer(x), x, f"Replicate {w} (epoch {args['epoch']})")]
        if action == "PrimaryAck":
            return [("msg", self.peer(x), x, f"Ack {w} (epoch {args['epoch']})"), ("msg", x, CLIENT, f"ok {w}")]
        if action == "FailOver":
            if step.state["config"]["epoch"] == args["epoch"]:  # decided by the configuration service
                return [("msg", x, SERVICE, f"suspects {self.peer(x)}: make me sole primary of epoch {args['epoch']}")]
            return [("note", x, f"script on {x} suspects {self.peer(x)}: {x} is sole primary of epoch {args['epoch']}")]
        if action == "LearnConfig":
            return [("msg", SERVICE, x, f"configuration of epoch {args['epoch']}")]
        if action == "AddBackup":
            return [("msg", x, SERVICE, f"add {args['backup']} as backup, epoch {args['epoch']}"),
                    ("msg", x, args["backup"], "state transfer")]
        if action == "Crash":
            return [("note", x, "crashes")]
        return super().chart(step)


@PrimaryBackup.variant("script-failover", breaks="acked_writes_durable",
                       defaults={"writes": 1, "max_epoch": 2, "max_crashes": 0},
                       says="an external script makes a server sole primary when it suspects its peer, without "
                            "consensus: when each suspects the other, both acknowledge writes the other lacks")
class ScriptFailover(PrimaryBackup):
    """FailOver installs the next epoch on the suspecting server alone, as a failover script on
    its host would (promote the backup; on the primary, drop the unreachable backup and go on
    alone); the configuration service never hears of it."""

    def fail_over(self, s: PrimaryBackupState) -> list[Step]:
        steps = []
        for i, x in self.live(s):
            view = s.view[i]
            if view.backup is not None and view.epoch < self.max_epoch:
                new = Config(view.epoch + 1, x, None)
                steps.append(("FailOver", {"server": x, "epoch": new.epoch},
                              update(s, **self.at_server(s, i, view=new))))
        return steps
