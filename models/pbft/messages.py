"""What PBFT's replicas have sent (Castro & Liskov, OSDI 1999, section 4.2): the Byzantine
replicas' bounded universe, and the honest replicas' messages, derived from their logs. A mixin of
`Pbft`; the rules read messages only through `vouchers` and `pre_prepares_for`.

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
"""

from __future__ import annotations

from typing import Any, Iterator

PRE_PREPARED, PREPARED, COMMITTED = "pre-prepared", "prepared", "committed"
FORGED = "x"  # a request no client sent: only a Byzantine replica would name it
NULL = "null"  # the null request a NEW-VIEW assigns where no request prepared (section 4.4); a no-op


class PbftMessages:
    """The messages sent so far, for Pbft and its view-change subclass."""

    def byzantine_messages(self, replica: str) -> Iterator[tuple]:
        """The bounded universe a Byzantine replica may send: for every view, sequence number and
        request (forged `x` included, and from view 1 on the null request), a PRE-PREPARE if it is
        that view's primary, a PREPARE if it is a backup, and a COMMIT. Messages are (kind, view,
        seq, request, sender). (Its VIEW-CHANGE and NEW-VIEW messages depend on what has been
        prepared, so views.py offers them where they are received.)"""
        for view in range(self.views):
            for seq in self.seq_numbers:
                for request in (*self.client_requests, FORGED) + ((NULL,) if view else ()):
                    if replica == self.names[self.primary(view)]:
                        yield ("PRE-PREPARE", view, seq, request, replica)
                    else:
                        yield ("PREPARE", view, seq, request, replica)
                    yield ("COMMIT", view, seq, request, replica)

    def messages(self, s: Any) -> set:
        """Every message sent so far: what the honest replicas' logs imply, and the Byzantine
        replicas' whole universe."""
        sent = {(kind, view, seq, request, r) for (kind, view, seq, request), who in self.forged.items() for r in who}
        for view, logs in enumerate(self.view_logs(s)):
            p = self.primary(view)
            for i in self.honest:
                for seq, entry in zip(self.seq_numbers, logs[i]):
                    if entry is None:
                        continue
                    phase, request = entry
                    sent.add(("PRE-PREPARE" if i == p else "PREPARE", view, seq, request, self.names[i]))
                    if phase != PRE_PREPARED:
                        sent.add(("COMMIT", view, seq, request, self.names[i]))
        return sent

    def vouchers(self, s: Any, kind: str, seq: int, request: str, view: int = 0) -> frozenset:
        """The replicas that sent `kind` (PREPARE or COMMIT) for request at seq in `view`, with the
        primary counted for PREPARE through its PRE-PREPARE: the paper's "pre-prepare and 2f
        matching prepares from different backups". The same as reading `messages(s)`, faster.
        A replica's messages of a view stay sent after it leaves the view (its log of that view
        is kept, frozen)."""
        found = set(self.forged.get((kind, view, seq, request), ()))
        if kind == "PREPARE":
            found |= self.forged.get(("PRE-PREPARE", view, seq, request), frozenset())
        logs = self.view_logs(s)[view]
        for i in self.honest:
            entry = logs[i][seq - 1]
            if entry is not None and entry[1] == request and (kind == "PREPARE" or entry[0] != PRE_PREPARED):
                found.add(self.names[i])
        return frozenset(found)

    def pre_prepares_for(self, s: Any, seq: int, view: int = 0) -> list[str]:
        """The requests of the PRE-PREPAREs for seq in `view` that its primary has sent."""
        p = self.primary(view)
        if self.names[p] in self.faulty:
            return [r for r in (*self.client_requests, FORGED, NULL) if ("PRE-PREPARE", view, seq, r) in self.forged]
        entry = self.view_logs(s)[view][p][seq - 1]
        return [] if entry is None else [entry[1]]
