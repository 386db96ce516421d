"""PBFT's symmetry: which renamings leave the model unchanged, and the canonical state under them.

Client requests are interchangeable (the forged `x` and the null request keep their names): every
rule treats the client requests alike, and the Byzantine universe holds all of them. Honest
replicas are interchangeable unless some view in the bound makes one of them primary (p = v mod
|R|, section 4): no rule or property tells two honest non-primaries apart, and quorums count
replicas. Byzantine replicas keep no state, so they are never renamed.
"""

from __future__ import annotations

from itertools import permutations


class PbftSymmetry:
    """`symmetry` for Pbft and its view-change subclass (a mixin of `Pbft`)."""

    def request_renamings(self) -> list[dict]:
        """Every permutation of the client requests, as a dict (computed once)."""
        try:
            return self._request_perms
        except AttributeError:
            reqs = self.client_requests
            self._request_perms = [dict(zip(reqs, p)) for p in permutations(reqs)]
            return self._request_perms

    def symmetry(self, s) -> tuple:
        """The least renaming of s: honest backups' logs sorted, over every permutation of the
        client requests (the forged request and the primary keep their names). Sound because no
        rule or property tells honest backups apart, and quorums count replicas."""
        if self.views > 1:
            return self.views_symmetry(s)
        p = self.primary()
        best = None
        for rename in self.request_renamings():
            def entry(e):
                return e if e is None else (e[0], rename.get(e[1], e[1]))
            logs = [tuple(map(entry, s.log[i])) for i in self.honest]
            head = logs.pop(0) if self.honest and self.honest[0] == p else None
            key = (head, tuple(sorted(logs, key=repr)))
            if best is None or repr(key) < repr(best):
                best = key
        return best

    def views_symmetry(self, s) -> tuple:
        """With several views: each honest replica's record (its log in every view, its view,
        whether it runs that view's normal case, the views it sent VIEW-CHANGE for) kept in place
        for the primaries of the views in the bound and sorted for the others; the honest
        primaries' NEW-VIEW sets renamed with the requests."""
        fixed = {self.primary(v) for v in range(self.views)}
        best = None
        for rename in self.request_renamings():
            def entry(e):
                return e if e is None else (e[0], rename.get(e[1], e[1]))

            def record(i):
                return (tuple(map(entry, s.log[i])), tuple(tuple(map(entry, logs[i])) for logs in s.later),
                        s.view[i], s.normal[i], tuple(sorted(s.vc[i])))
            head = tuple(record(i) for i in self.honest if i in fixed)
            rest = tuple(sorted((record(i) for i in self.honest if i not in fixed), key=repr))
            sets = tuple(o if o is None else tuple(rename.get(r, r) for r in o) for o in s.newview)
            key = (head, rest, sets)
            if best is None or repr(key) < repr(best):
                best = key
        return best
