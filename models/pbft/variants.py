"""Broken variants of PBFT. n-equals-3f changes only the numbers (a broken configuration); the
others change one rule each: of the normal case (section 4.2), or of the view change (section 4.4,
views.py)."""

from __future__ import annotations

from itertools import product

from agree.models.pbft.messages import NULL
from agree.models.pbft.model import Pbft
from agree.models.pbft.views import PbftViews
from agree.properties import quorums


@Pbft.variant("n-equals-3f", breaks="agreement", defaults={"n": 3, "f": 1, "byzantine": "r0"},
              says="n = 3f (3 replicas, f = 1, quorums of n - f = 2): a Byzantine primary equivocates and two "
                   "honest replicas commit different requests at one sequence number")
class NEquals3f(Pbft):
    """n = 3f: two quorums of n - f share only f replicas, all of which may be Byzantine."""


@Pbft.variant("quorum-2f", breaks="agreement", defaults={"n": 4, "f": 1, "byzantine": "r0"},
              says="quorums of 2f (2 of 4 replicas, f = 1): two quorums share at most the Byzantine primary, "
                   "so its equivocation commits two requests at one sequence number")
class Quorum2f(Pbft):
    """Quorums of 2f instead of n - f = 2f + 1: two of them can meet only in a Byzantine replica."""

    def quorum_system(self) -> quorums.Bft:
        return quorums.Bft(self.names, self.f, max(1, 2 * self.f))


@Pbft.variant("unsigned-requests", breaks="validity", defaults={"seqs": 1},
              says="backups accept a PRE-PREPARE without checking the client's signature on its request, so a "
                   "Byzantine primary gets a request no client sent committed")
class UnsignedRequests(Pbft):
    """valid_request accepts any request: the check of section 4.2 is skipped."""

    def valid_request(self, request: str) -> bool:
        return True


# ----- the view change (views.py, section 4.4): views=2, one sequence number, Byzantine r0


@Pbft.variant("new-primary-drops-prepared", breaks="agreement", defaults={"views": 2, "seqs": 1},
              says="the new primary computes O from the certificates of its own VIEW-CHANGE only (backups check O by "
                   "the same rule), so O omits a request that others prepared, and committed, in the old view: "
                   "another request is committed at that sequence number in view 1")
class NewPrimaryDropsPrepared(PbftViews):
    """O ignores the P sets in the other VIEW-CHANGEs of V (section 4.4 takes every certificate
    in V): a request committed in view 0 by replicas other than the new primary is left out."""

    def new_view_set(self, view: int, certificates: dict) -> tuple:
        own = self.names[self.primary(view)]
        return super().new_view_set(view, {own: certificates[own]} if own in certificates else {})


@Pbft.variant("view-change-quorum-f+1", breaks="agreement", defaults={"views": 2, "seqs": 1},
              says="a NEW-VIEW needs VIEW-CHANGEs from only f+1 replicas instead of 2f+1, so V need not meet the "
                   "quorum that prepared a committed request in an honest replica: O leaves it out and view 1 "
                   "commits another request at its sequence number")
class ViewChangeQuorumF1(PbftViews):
    """new_view_quorum counts f+1 VIEW-CHANGEs as enough: V of the new primary and a Byzantine
    replica carries no certificate of the committed request."""

    def new_view_quorum(self, members: frozenset) -> bool:
        return len(members) >= self.f + 1


@Pbft.variant("unchecked-new-view", breaks="agreement", defaults={"views": 2, "seqs": 1, "byzantine": "r1"},
              says="backups accept a NEW-VIEW whose V holds VIEW-CHANGEs from a quorum without checking that O is "
                   "the one V determines, so a Byzantine new primary replaces a request committed in view 0 "
                   "(exposed with r1, the primary of view 1, Byzantine)")
class UncheckedNewView(PbftViews):
    """byzantine_new_views offers every O (client requests or null at each sequence number) as soon
    as some valid V exists: the check of section 4.4, "O is correct", is skipped."""

    def byzantine_new_views(self, s, view: int) -> dict:
        valid = super().byzantine_new_views(s, view)
        if not valid:
            return {}
        shown = next(iter(valid.values()))
        return {o: shown for k in range(self.seqs + 1)
                for o in product((*self.client_requests, NULL), repeat=k)}
