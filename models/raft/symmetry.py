"""Symmetry for Raft: servers are interchangeable, so a state is stored as its least renaming."""

from __future__ import annotations

from agree.models import network
from agree.models.raft.state import _SHARED, RaftState

ADDED = len(RaftState._fields)  # fields from here on were added by a subclass's state


class _Renaming:
    """One renaming of the servers, for symmetry: the server at old position order[k] moves to
    position k, and every name changes by `rename`. Renamed networks and election histories are
    remembered (a few thousand of each occur), which also shares them between canonical states."""

    __slots__ = ("order", "rename", "_msgs", "_elected")

    def __init__(self, order: tuple, rename: dict) -> None:
        self.order, self.rename = order, rename
        self._msgs: dict = {}
        self._elected: dict = {}

    def servers(self, s: RaftState) -> tuple:
        """The per-server fields of s renamed, as a sortable tuple (None becomes "", frozensets
        sorted tuples)."""
        order, rename = self.order, self.rename

        def per_server(values):
            return tuple(values[i] for i in order)

        def leader_vector(vector):
            return tuple(vector[i] for i in order) if vector else ()

        return (per_server(s.term), per_server(s.role), tuple(rename.get(s.voted_for[i], "") for i in order),
                per_server(s.log), per_server(s.commit),
                tuple(tuple(sorted(rename[v] for v in s.votes[i])) for i in order),
                tuple(leader_vector(s.next_index[i]) for i in order),
                tuple(leader_vector(s.match_index[i]) for i in order))

    def canonical(self, servers: str, s: RaftState) -> tuple:
        """(servers, then the shared fields of s renamed: msgs, elected, restarts, duplicates),
        then any fields a subclass's state adds, as they are: sound when they name no server."""
        try:
            msgs = self._msgs[s.msgs]
        except KeyError:
            msgs = self._msgs[s.msgs] = repr(network.rename(s.msgs, self.message))
        try:
            elected = self._elected[s.elected]
        except KeyError:
            rename = self.rename
            elected = self._elected[s.elected] = repr(sorted((t, rename[v]) for t, v in s.elected))
        return (servers, msgs, elected, s.restarts, s.duplicates) + s[ADDED:]

    def message(self, m: tuple) -> tuple:
        return m[:2] + (self.rename[m[2]], self.rename[m[3]]) + m[4:]



class RaftSymmetry:
    """The `symmetry` method of Raft, apart from its rules. Needs `self.renamings` and
    `self._canon_servers`, which Raft.setup builds."""

    def symmetry(self, s: RaftState) -> tuple:
        """The canonical representative of s under renaming servers. Sound because no rule or
        property distinguishes servers by name (elections, quorums and messages treat them
        alike); values are not permuted.

        It is (servers, msgs, elected, restarts, duplicates): the least renaming of the
        per-server fields (`_least_servers`, a function of those fields alone, so remembered for
        each of the few thousand combinations that occur), then, among the permutations that
        give it (several only when the servers' fields have a symmetry of their own), the least
        renamed network and elections. The set of those permutations is a function of the
        orbit, so the result is too, and it determines the state up to renaming. The first
        three parts are texts (their repr), remembered and shared, whose hashes Python caches:
        the visited set hashes and compares such a key cheaply, and stores little per state."""
        servers = s[:_SHARED]
        try:
            least, renamings = self._canon_servers[servers]
        except KeyError:
            least, renamings = self._canon_servers[servers] = self._least_servers(s)
        if len(renamings) == 1:
            return renamings[0].canonical(least, s)
        return min(r.canonical(least, s) for r in renamings)

    def _signature(self, s: RaftState) -> list:
        """Per server, what no renaming changes (term, role, log, commit): the servers are listed
        in its sorted order."""
        return list(zip(s.term, s.role, s.log, s.commit))

    def _least_servers(self, s: RaftState) -> tuple:
        """The least of the renamed per-server fields over the permutations that list the servers
        in sorted order of a name-free signature (term, role, log, commit), and the renamings
        that give it. Every state of an orbit has the same such permutations (up to the
        renaming), so restricting the minimum to them keeps it a function of the orbit while
        skipping most permutations."""
        signature = self._signature(s)
        wanted = sorted(signature)
        candidates = [(r.servers(s), r) for r in self.renamings if [signature[i] for i in r.order] == wanted]
        least = min(encoded for encoded, _ in candidates)
        return repr(least), [r for encoded, r in candidates if encoded == least]
