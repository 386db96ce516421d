"""Paxos's symmetry reduction: acceptors (as far as the quorum system allows) and values are
interchangeable, so a symmetric search keeps one state per orbit (mixed into `Paxos`)."""

from __future__ import annotations

import math
from itertools import permutations

from agree.models.paxos.state import NO_BALLOT, NONE, PaxosState
from agree.properties.errors import InputError

MAX_SYMMETRY_ENTRIES = 2_000_000  # renamed-message entries in the symmetry tables (about 200 MB)


class PaxosSymmetry:
    """The canonical forms of Paxos states (the model supplies names, vals, ballots and quorums)."""

    def symmetry(self, s: PaxosState) -> tuple:
        """A canonical form of s under renaming acceptors and values: equal for two states exactly
        when one is a renaming of the other, so a symmetric search counts one state per orbit.

        When every permutation of acceptors keeps the quorum system (majorities, thresholds) it
        needs no enumeration of those permutations: an acceptor's name appears only in its own
        fields and in the 1b/2b messages it sent, so a state is determined up to renaming by the
        multiset of per-acceptor signatures (its fields and its messages, name erased): sorting them
        is the canonical form, whatever the ties. Only the values' permutations (at most 4! = 24)
        are tried. Other quorum systems fall back to trying every symmetry they allow."""
        if self._every_acceptor_permutation_allowed():
            return self._canonical_by_signatures(s)
        return self._canonical_by_enumeration(s)

    def _every_acceptor_permutation_allowed(self) -> bool:
        try:
            return self._symmetric_quorums
        except AttributeError:
            pass
        names = self.names
        swaps = [{**{a: a for a in names}, names[i]: names[i + 1], names[i + 1]: names[i]}
                 for i in range(len(names) - 1)]  # adjacent transpositions generate every permutation
        self._symmetric_quorums = all(self._keeps_quorums(swap) for swap in swaps)
        self._value_codes = [{NONE: 0, **{v: k + 1 for k, v in enumerate(perm)}} for perm in permutations(self.vals)]
        self._position = {a: i for i, a in enumerate(names)}
        self._encoded: dict = {}  # message -> its encodings under each permutation of the values
        return self._symmetric_quorums

    def _keeps_quorums(self, rename: dict) -> bool:
        """Does renaming acceptors map each phase's quorum system onto itself?"""
        return all({frozenset(rename[a] for a in q) for q in qs} == set(qs)
                   for qs in (self.phase1_quorums, self.phase2_quorums))

    def _canonical_by_signatures(self, s: PaxosState) -> tuple:
        max_bal, max_vbal, max_val, msgs, restarts = s[:5]
        position, encoded = self._position, self._encoded
        own: list[list] = [[] for _ in self.names]  # the 1b and 2b messages each acceptor sent
        shared = []  # 1a and 2a: they name no acceptor
        for m in msgs:
            try:
                codes = encoded[m]
            except KeyError:
                codes = encoded[m] = self._encodings(m)
            if m[0] == "1b" or m[0] == "2b":
                own[position[m[1]]].append(codes)
            else:
                shared.append(codes)
        best = None
        for k, code in enumerate(self._value_codes):
            acceptors = sorted((max_bal[i], max_vbal[i], code[max_val[i]], tuple(sorted(c[k] for c in own[i])))
                               for i in range(len(own)))
            key = (tuple(acceptors), tuple(sorted(c[k] for c in shared)))
            if best is None or key < best:
                best = key
        return best + (restarts,) + s[5:]  # a subclass's added fields, as they are

    def _encodings(self, m: tuple) -> tuple:
        """Message m with its acceptor name erased, under each permutation of the values."""
        kind = m[0]
        if kind == "1a":
            return tuple((0, m[1]) for _ in self._value_codes)
        if kind == "1b":
            return tuple((1, m[2], m[3], code[m[4]]) for code in self._value_codes)
        if kind == "2b":
            return tuple((2, m[2], code[m[3]]) for code in self._value_codes)
        return tuple((3, m[1], code[m[2]]) for code in self._value_codes)

    def _canonical_by_enumeration(self, s: PaxosState) -> tuple:
        """The least, over all allowed symmetries, of an exact sortable encoding of the renamed state."""
        if not hasattr(self, "_symmetries"):
            self._setup_symmetry()
        max_bal, max_vbal, max_val, msgs, restarts = s[:5]
        best_local, best_mask = None, 0
        for position, code, bit in self._symmetries:
            local = tuple([(max_bal[i], max_vbal[i], code[max_val[i]]) for i in position])
            if best_local is not None and local > best_local:
                continue  # the acceptors' part already decides: no need to rename the messages
            mask = sum(map(bit.__getitem__, msgs))
            if best_local is None or local < best_local or mask < best_mask:
                best_local, best_mask = local, mask
        return (best_local, best_mask, restarts) + s[5:]

    def _setup_symmetry(self) -> None:
        """Precompute, for every symmetry, where it sends each acceptor, value and message (only
        when a symmetric search over an asymmetric quorum system asks for it: it grows as n!).

        The acceptor permutations are those that map the quorum system onto itself; values are all
        interchangeable, since any value may be proposed."""
        n = self.acceptors
        value_code = {NONE: 0, **{v: k + 1 for k, v in enumerate(self.vals)}}
        universe = self._message_universe()
        entries = math.factorial(n) * math.factorial(self.value_count) * len(universe)
        if entries > MAX_SYMMETRY_ENTRIES:  # each entry costs about 100 bytes: refuse rather than swap
            raise InputError(f"--symmetry for paxos with acceptors={n}, values={self.value_count}, "
                             f"max_ballot={self.max_ballot} needs tables of {entries:,} entries (the limit is "
                             f"{MAX_SYMMETRY_ENTRIES:,}): leave out --symmetry or use fewer acceptors, values or ballots")
        symmetries = []
        for acc_perm in permutations(range(n)):
            rename = {self.names[i]: self.names[acc_perm[i]] for i in range(n)}
            if not self._keeps_quorums(rename):
                continue
            for val_perm in permutations(self.vals):
                vmap = {NONE: NONE, **dict(zip(self.vals, val_perm))}
                position = [0] * n  # position[new index] = old index
                for old, new in enumerate(acc_perm):
                    position[new] = old
                bit = {m: 1 << universe[_rename_message(m, rename, vmap)] for m in universe}
                code = {v: value_code[vmap[v]] for v in vmap}
                symmetries.append((tuple(position), code, bit))
        self._symmetries = symmetries

    def _message_universe(self) -> dict:
        """Every message that can ever be sent, numbered (so a set of messages is a bit mask)."""
        found = [("1a", b) for b in self.ballots]
        votes = [(NO_BALLOT, NONE)] + [(c, v) for c in self.ballots for v in self.vals]
        found += [("1b", a, b, c, v) for a in self.names for b in self.ballots for c, v in votes]
        found += [("2a", b, v) for b in self.ballots for v in self.vals]
        found += [("2b", a, b, v) for a in self.names for b in self.ballots for v in self.vals]
        return {m: k for k, m in enumerate(found)}


def _rename_message(m: tuple, rename: dict, vmap: dict) -> tuple:
    kind = m[0]
    if kind == "1a":
        return m
    if kind == "1b":
        return ("1b", rename[m[1]], m[2], m[3], vmap[m[4]])
    if kind == "2a":
        return ("2a", m[1], vmap[m[2]])
    return ("2b", rename[m[1]], m[2], vmap[m[3]])
