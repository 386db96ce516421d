"""Broken variants of PBFT. n-equals-3f changes only the numbers (a broken configuration); the
others change one rule each."""

from __future__ import annotations

from agree.models.pbft.model import Pbft
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
