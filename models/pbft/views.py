"""PBFT's view change, after Castro & Liskov, "Practical Byzantine Fault Tolerance" (OSDI 1999),
section 4.4, and Castro's thesis (MIT 2001; BFT-PK, the version with signatures, is modelled).

`Pbft(views=k)` with k >= 2 builds `PbftViews`: the normal case of model.py runs in every view
0..k-1, and these rules move replicas between views:
- ViewChange: an honest replica in view v (its timer expired: any time) multicasts
  VIEW-CHANGE(v+1, P), P holding, for each sequence number, the prepared certificate of the
  highest view in which it prepared a request there; it stops accepting messages of view v.
- NewView: the honest primary of view v+1, having sent its own VIEW-CHANGE, takes VIEW-CHANGEs
  for v+1 from a quorum (2f+1) of replicas as V, computes O from V and multicasts
  NEW-VIEW(v+1, V, O); it enters v+1 with O's PRE-PREPAREs in its log.
- AcceptNewView: a backup accepts a NEW-VIEW for a view above its own if V holds valid
  VIEW-CHANGEs from a quorum and O is what V determines; it enters the view, logs O's
  PRE-PREPAREs and multicasts a PREPARE for each.

O (section 4.4): max-s is the highest sequence number of a certificate in V (min-s is 0: there
are no checkpoints, so the water marks stay 1..seqs); for each n in 1..max-s, the request of
the certificate for n with the highest view in V, else the null request. Two certificates of
one view for one n with different requests cannot both be valid while quorums share an honest
replica; where they can (a broken configuration), the paper leaves the choice open and O takes
the later request name (so renaming requests, --symmetry, is exact only without such ties).

The signed version: a certificate is a PRE-PREPARE and 2f matching PREPAREs, signed, so a
Byzantine replica can put into its VIEW-CHANGE only certificates whose messages were sent: for
each sequence number it claims none or any certificate valid in the messages so far (claiming
several for one n changes nothing: O keeps the highest view). Valid certificates only grow, so
offering a Byzantine VIEW-CHANGE or NEW-VIEW where it is received, built from what is valid then,
allows exactly the runs where a Byzantine replica sends any of them at any time. A Byzantine
primary may send a NEW-VIEW for any V it can assemble, one backup one V and another another.

An honest replica's messages of view v follow from its log of view v, kept (frozen) after it
leaves v, because sent messages stay in the network. Honest VIEW-CHANGEs are recorded as the
views each replica sent one for; its P follows from its logs of the earlier views, which no
longer change once it has left them.
"""

from __future__ import annotations

from itertools import combinations, product

from agree.models.contract import reachable
from agree.models.pbft.messages import COMMITTED, FORGED, NULL, PRE_PREPARED, PREPARED
from agree.models.pbft.model import Pbft, PbftState
from agree.models.records import extend, mixed_in, put, update
from agree.properties.errors import InputError

# view[i]: the view honest replica i is in (or moving to); normal[i]: it runs that view's normal
# case (False between its VIEW-CHANGE and the NEW-VIEW it accepts); vc[i]: the views it sent a
# VIEW-CHANGE for; later[v-1][i]: its log of view v; newview[v-1]: the O of the NEW-VIEW that
# view v's honest primary multicast (None before it does; a Byzantine primary's are not state).
PbftViewState = extend(PbftState, "PbftViewState", view=(), normal=(), vc=(), later=(), newview=())

def views_class(cls: type) -> type:
    """The class `Pbft(..., views=k)` builds for k >= 2: PbftViews, a subclass of it unchanged,
    or for another subclass of Pbft (a variant, a user's model), that subclass with the view
    change mixed in."""
    return mixed_in(cls, Pbft, PbftViews)


class PbftViews(Pbft):
    """PBFT with the view change of section 4.4 (views >= 2)."""

    actions = Pbft.actions + ("ViewChange", "NewView", "AcceptNewView")

    def setup(self) -> None:
        super().setup()
        if self.views < 2:
            raise InputError(f"{self.label()} with the view change needs views >= 2: use -p views=2")
        if all(self.names[self.primary(v)] in self.faulty for v in range(1, self.views)):
            self.actions = tuple(a for a in self.actions if a != "NewView")
        self._cert_universe = (*self.client_requests, FORGED, NULL)
        self._running: dict[tuple, dict] = {}

    def init(self):
        empty = (None,) * self.seqs
        log = tuple(None if r in self.faulty else empty for r in self.names)
        honest = [r not in self.faulty for r in self.names]
        yield PbftViewState(log=log, view=tuple(0 if h else None for h in honest),
                            normal=tuple(True if h else None for h in honest),
                            vc=tuple(frozenset() if h else None for h in honest),
                            later=(log,) * (self.views - 1), newview=(None,) * (self.views - 1))

    def next(self, s) -> list:
        return super().next(s) + self.view_change(s) + self.new_view(s) + self.accept_new_view(s)

    # ----- the views the normal case runs in

    def view_logs(self, s) -> tuple:
        return (s.log,) + s.later

    def running(self, s) -> dict:
        """view -> the honest replicas running its normal case (found once per (view, normal)
        pair of tuples: few recur across all states)."""
        key = (s.view, s.normal)
        try:
            return self._running[key]
        except KeyError:
            found = self._running[key] = {}
            for i in self.honest:
                if s.normal[i]:
                    found[s.view[i]] = found.get(s.view[i], ()) + (i,)
            return found

    def in_view(self, s, view: int) -> tuple:
        return self.running(s).get(view, ())

    def live_views(self, s) -> tuple:
        return tuple(sorted(self.running(s)))

    def with_entry(self, s, i: int, seq: int, entry: tuple, view: int = 0):
        if view == 0:
            return super().with_entry(s, i, seq, entry)
        logs = s.later[view - 1]
        return update(s, later=put(s.later, view - 1, put(logs, i, put(logs[i], seq - 1, entry))))

    def with_view_log(self, s, i: int, view: int, o: tuple):
        """s with honest replica i in the normal case of `view`, its log of that view holding O's
        PRE-PREPAREs (section 4.4: O is appended to the log; the rest of the window is free)."""
        row = tuple((PRE_PREPARED, r) for r in o) + (None,) * (self.seqs - len(o))
        logs = s.later[view - 1]
        return update(s, view=put(s.view, i, view), normal=put(s.normal, i, True),
                      later=put(s.later, view - 1, put(logs, i, row)))

    # ----- P, V and O (section 4.4)

    def prepared_set(self, s, i: int, before: int) -> tuple:
        """P of honest replica i's VIEW-CHANGE for view `before` (section 4.4): per sequence
        number, None or the (view, request) of the highest view below `before` in which i prepared
        a request there (committed-local implies prepared)."""
        logs = self.view_logs(s)
        found = []
        for k in range(self.seqs):
            cert = None
            for v in range(before - 1, -1, -1):
                e = logs[v][i][k]
                if e is not None and e[0] in (PREPARED, COMMITTED):
                    cert = (v, e[1])
                    break
            found.append(cert)
        return tuple(found)

    def valid_certificates(self, s, seq: int, before: int) -> list:
        """The prepared certificates for seq, of views below `before`, whose messages have been
        sent: the PRE-PREPARE of that view's primary and matching PREPAREs, from a quorum. These
        are what a Byzantine VIEW-CHANGE may carry (section 4.4: a backup accepts a NEW-VIEW only
        if its VIEW-CHANGEs are valid, and signatures stop a replica inventing others' messages)."""
        return [(v, r) for v in range(before) for r in self._cert_universe
                if r in self.pre_prepares_for(s, seq, v) and self.is_quorum(self.vouchers(s, "PREPARE", seq, r, v))]

    def byzantine_prepared_sets(self, s, before: int) -> list:
        """Every P a Byzantine replica may send in a VIEW-CHANGE for `before` now: per sequence
        number, no certificate or any valid one."""
        return list(product(*([None, *self.valid_certificates(s, seq, before)] for seq in self.seq_numbers)))

    def new_view_set(self, view: int, certificates: dict) -> tuple:
        """O for NEW-VIEW(view) from V, given as replica name -> P (section 4.4): for n from 1 to
        max-s, the request of the highest-view certificate for n in V, else the null request.
        Returns the requests of O's PRE-PREPAREs in order (empty when V certifies nothing)."""
        best: dict[int, tuple] = {}
        for p in certificates.values():
            for seq, cert in zip(self.seq_numbers, p):
                if cert is not None and (seq not in best or cert > best[seq]):  # ties: see the module's notes
                    best[seq] = cert
        top = max(best, default=0)
        return tuple(best[n][1] if n in best else NULL for n in range(1, top + 1))

    def new_view_quorum(self, members: frozenset) -> bool:
        """Whether VIEW-CHANGEs from `members` are enough for a NEW-VIEW: 2f+1, a quorum (section
        4.4: the primary waits for 2f valid VIEW-CHANGEs from other replicas, and its own)."""
        return self.is_quorum(members)

    def new_view_options(self, s, view: int, including: str | None = None) -> dict:
        """O -> the smallest V that yields it, over every V a NEW-VIEW for `view` can carry now:
        VIEW-CHANGEs for `view` from a quorum (containing `including`, the honest primary), the
        honest replicas' as sent, the Byzantine ones' any they may send."""
        sent = {self.names[j]: self.prepared_set(s, j, view) for j in self.honest if view in s.vc[j]}
        forged = self.byzantine_prepared_sets(s, view) if self.faulty else []
        senders = sorted(set(sent) | self.faulty)
        found: dict = {}
        for size in range(1, len(senders) + 1):
            for members in combinations(senders, size):
                chosen = frozenset(members)
                if (including is not None and including not in chosen) or not self.new_view_quorum(chosen):
                    continue
                liars = [r for r in members if r in self.faulty]
                for claims in product(forged, repeat=len(liars)):
                    o = self.new_view_set(view, {**{r: sent[r] for r in members if r in sent},
                                                 **dict(zip(liars, claims))})
                    found.setdefault(o, members)
        return found

    def byzantine_new_views(self, s, view: int) -> dict:
        """The NEW-VIEWs for `view` that a Byzantine primary can send now and a backup accepts:
        O -> the step's args showing V. A backup checks V and O (section 4.4), so these are the
        O's of every V the primary can assemble."""
        return {o: {"V": list(members)} for o, members in self.new_view_options(s, view).items()}

    # ----- the rules (section 4.4)

    def view_change(self, s) -> list:
        """An honest replica whose timer expires in view v multicasts VIEW-CHANGE(v+1, P) and stops
        accepting messages of view v (section 4.4; the timer is not modelled: it may expire at
        any time, also while the replica waits for a NEW-VIEW)."""
        steps = []
        for i in self.honest:
            w = s.view[i] + 1
            if w >= self.views:
                continue
            p = self.prepared_set(s, i, w)
            shown = [f"n={n}: {c[1]}@v{c[0]}" for n, c in zip(self.seq_numbers, p) if c is not None]
            steps.append(("ViewChange", {"replica": self.names[i], "view": w, "P": shown},
                          update(s, view=put(s.view, i, w), normal=put(s.normal, i, False),
                                 vc=put(s.vc, i, s.vc[i] | {w}))))
        return steps

    def new_view(self, s) -> list:
        """The honest primary of view v, having sent VIEW-CHANGE(v), multicasts NEW-VIEW(v, V, O)
        once it holds VIEW-CHANGEs for v from a quorum, and enters v with O in its log."""
        steps = []
        for w in range(1, self.views):
            p = self.primary(w)
            if self.names[p] in self.faulty or s.view[p] != w or s.normal[p]:
                continue
            for o, members in self.new_view_options(s, w, including=self.names[p]).items():
                after = self.with_view_log(s, p, w, o)
                steps.append(("NewView", {"primary": self.names[p], "view": w, "V": list(members), "O": list(o)},
                              update(after, newview=put(after.newview, w - 1, o))))
        return steps

    def accept_new_view(self, s) -> list:
        """A backup below view v (or waiting for it) accepts NEW-VIEW(v, V, O) if V holds valid
        VIEW-CHANGEs for v from a quorum and O is the one V determines; it enters v, logs O and
        multicasts PREPARE for each of O's PRE-PREPAREs (section 4.4)."""
        steps = []
        for w in range(1, self.views):
            p = self.primary(w)
            src = self.names[p]
            takers = [i for i in self.honest if i != p and (s.view[i] < w or (s.view[i] == w and not s.normal[i]))]
            if not takers:
                continue
            if src in self.faulty:
                offers = list(self.byzantine_new_views(s, w).items())
            else:
                offers = [] if s.newview[w - 1] is None else [(s.newview[w - 1], {})]
            for i in takers:
                for o, shown in offers:
                    steps.append(("AcceptNewView", {"src": src, "dst": self.names[i], "view": w, **shown, "O": list(o)},
                                  self.with_view_log(s, i, w, o)))
        return steps

    # ----- guards: the view change is exercised, not vacuous

    @reachable
    def commit_in_later_view(self, s) -> bool:
        """Some honest replica commits a request in a view after the first."""
        return any(e is not None and e[0] == COMMITTED for logs in s.later for i in self.honest for e in logs[i])

    @reachable
    def commit_carried_into_later_view(self, s) -> bool:
        """A request committed in view 0 is committed again at its sequence number in a later
        view: the NEW-VIEW carried it over (the case agreement across views rests on)."""
        first = {(seq, e[1]) for i in self.honest for seq, e in zip(self.seq_numbers, s.log[i])
                 if e is not None and e[0] == COMMITTED}
        return any((seq, e[1]) in first for logs in s.later for i in self.honest
                   for seq, e in zip(self.seq_numbers, logs[i]) if e is not None and e[0] == COMMITTED)
