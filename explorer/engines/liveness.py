"""Liveness on the explored state graph: can a fair execution avoid a goal forever?

`@eventually P` fails when some execution from an initial state never reaches a state where P
holds; `P ~> Q` (leads-to) fails when some execution from a state where P holds never reaches one
where Q holds. Such an execution either stops in a dead end (a state with no step that changes
it: the system halts, or only stutters, undecided) or ends by going round a cycle for ever.
Only fair cycles count: for every weakly fair group, the cycle takes it or passes a state where
it is disabled; for every strongly fair group, the cycle takes it or never passes a state where
it is enabled.

The search for one, as TLC and SPIN do it: keep the states where the goal is false, reachable from
the seeds through such states; split them into strongly connected components (scipy's csgraph, in
C); an SCC that is a cycle (two states or more, or one with a step to itself) holds a fair cycle
under weak fairness exactly when the cycle through all of its states and edges is fair. Strong
fairness may need a smaller cycle: drop the states where an untaken strong group is enabled and
look again inside what is left (Emerson and Lei, 1987). The answer is a `Lasso`: the path to a
dead end, or the path to a fair cycle and the cycle, the nearest to the seeds (breadth first).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from explorer.engines.graph import StateGraph


@dataclass
class Lasso:
    """A path of state numbers from a seed; `loop` is where the cycle starts (path[-1] is then
    path[loop] again), None when path[-1] is a dead end. `groups[k]`, when non-zero, is the
    fairness group the step path[k] -> path[k+1] must be taken in."""

    path: list[int]
    loop: int | None
    groups: list[int]


def find_lasso(graph: StateGraph, seeds: np.ndarray, goal: np.ndarray, weak: int, strong: int) -> Lasso | None:
    """The nearest fair execution from a seed (bool per state) on which `goal` (bool per state)
    never holds, or None when every fair execution from every seed reaches the goal."""
    n = graph.size
    allowed = ~goal
    starts = np.flatnonzero(seeds & allowed)
    if len(starts) == 0:
        return None
    # a virtual state n with an edge to every seed, so one BFS finds the nearest of everything
    matrix, _ = _subgraph(graph, allowed, extra_row=starts)
    order, predecessors = breadth_first_order(matrix, n, directed=True, return_predecessors=True)
    del matrix
    region = np.zeros(n + 1, dtype=bool)
    region[order] = True
    region = region[:n]
    rank = np.full(n, n + 1, dtype=np.int64)
    rank[order[1:]] = np.arange(1, len(order))
    candidates: list[tuple[int, int, list[int] | None]] = []  # (rank, entry, cycle states or None)
    dead = np.flatnonzero(region & (graph.moves == 0))
    if len(dead):
        entry = int(dead[np.argmin(rank[dead])])
        candidates.append((int(rank[entry]), entry, None))
    for members in _fair_components(graph, np.flatnonzero(region), weak, strong):
        entry = int(members[np.argmin(rank[members])])
        candidates.append((int(rank[entry]), entry, members.tolist()))
    if not candidates:
        return None
    _, entry, cycle = min(candidates, key=lambda c: c[0])
    path = _back_to_root(predecessors, entry, n)
    if cycle is None:
        return Lasso(path, None, [0] * (len(path) - 1))
    loop_states, loop_groups = _fair_loop(graph, set(cycle), entry, weak, strong)
    start = len(path) - 1
    return Lasso(path + loop_states, start, [0] * start + loop_groups)


def _back_to_root(predecessors: np.ndarray, node: int, root: int) -> list[int]:
    path = [node]
    while predecessors[path[-1]] != root:
        path.append(int(predecessors[path[-1]]))
    path.reverse()
    return path


def _strong_components(graph: StateGraph, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label the strongly connected components of the subgraph on `nodes`: (label per state, -1
    outside `nodes`; whether each label holds a cycle; the edges inside one component)."""
    n = graph.size
    keep = np.zeros(n, dtype=bool)
    keep[nodes] = True
    matrix, inside = _subgraph(graph, keep)
    count, labels = connected_components(matrix, directed=True, connection="strong")
    del matrix
    labels = np.where(keep, labels, -1)
    sizes = np.bincount(labels[nodes], minlength=count)
    cyclic = sizes > 1
    cyclic[labels[nodes[graph.self_loop[nodes]]]] = True
    internal = inside[labels[_sources(graph)[inside]] == labels[graph.dst[inside]]]
    return labels, cyclic, internal


def _sources(graph: StateGraph) -> np.ndarray:
    """The source state of every edge (edges are stored by source)."""
    return np.repeat(np.arange(graph.size, dtype=np.int32), np.diff(graph.indptr))


def _subgraph(graph: StateGraph, keep: np.ndarray, extra_row: np.ndarray | None = None):
    """The adjacency matrix (CSR, built straight from the graph's own arrays, in the float64
    scipy's csgraph works in, so it makes no copy) of the edges between states in `keep`; with
    `extra_row`, one more state (number n) with an edge to each of those. Also the numbers of the
    edges kept."""
    n = graph.size
    sources = _sources(graph)
    inside = np.flatnonzero(keep[sources] & keep[graph.dst])
    per_row = np.bincount(sources[inside], minlength=n)
    del sources
    indices = graph.dst[inside]
    size = n
    if extra_row is not None:
        per_row = np.append(per_row, len(extra_row))
        indices = np.concatenate([indices, extra_row.astype(np.int32)])
        size = n + 1
    indptr = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(per_row, out=indptr[1:])
    matrix = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(size, size))
    matrix.sum_duplicates()  # two steps between the same states are one edge (csgraph needs that)
    return matrix, inside


def _fair_components(graph: StateGraph, nodes: np.ndarray, weak: int, strong: int):
    """Yield the state sets (each strongly connected, with a cycle) that hold a fair cycle. The
    groups taken inside each component and enabled in all or some of its states are gathered for
    every component at once (numpy), so a graph of many small components costs no Python loop."""
    pending = [nodes] if len(nodes) else []
    sources = np.repeat(np.arange(graph.size, dtype=np.int32), np.diff(graph.indptr))
    while pending:
        subset = pending.pop()
        labels, cyclic, internal = _strong_components(graph, subset)
        count = len(cyclic)
        taken = np.zeros(count, dtype=np.int64)
        np.bitwise_or.at(taken, labels[sources[internal]], graph.groups[internal])
        everywhere = np.full(count, -1, dtype=np.int64)
        np.bitwise_and.at(everywhere, labels[subset], graph.enabled[subset])
        somewhere = np.zeros(count, dtype=np.int64)
        np.bitwise_or.at(somewhere, labels[subset], graph.enabled[subset])
        # a weak group always enabled and never taken: no cycle inside is fair either
        weak_ok = cyclic & ((np.int64(weak) & everywhere & ~taken) == 0)
        unfair = np.int64(strong) & somewhere & ~taken
        chosen = np.flatnonzero(weak_ok)
        if len(chosen) == 0:
            continue
        order = np.argsort(labels[subset], kind="stable")
        grouped = subset[order]
        starts = np.searchsorted(labels[subset][order], np.arange(count + 1))
        for label in chosen.tolist():
            members = grouped[starts[label]:starts[label + 1]]
            if not unfair[label]:
                yield members
                continue
            rest = members[(graph.enabled[members] & unfair[label]) == 0]  # a fair cycle must avoid these
            if len(rest):
                pending.append(rest)


def _fair_loop(graph: StateGraph, members: set[int], entry: int, weak: int, strong: int) -> tuple[list, list]:
    """A cycle from `entry` back to it inside `members` that meets every fairness group:
    (the states after `entry`, in order, and the group each step must be taken in)."""
    enabled_at = {u: int(graph.enabled[u]) for u in members}
    states: list[int] = []
    groups: list[int] = []
    here = entry

    def go(arrived) -> None:
        nonlocal here
        hop = _walk(graph, members, here, arrived)
        states.extend(hop)
        groups.extend([0] * len(hop))
        here = hop[-1] if hop else here

    def take(group: int) -> None:
        nonlocal here
        go(lambda u: _edge_in(graph, members, u, group) is not None)
        here = _edge_in(graph, members, here, group)
        states.append(here)
        groups.append(group)

    for group in (1 << bit for bit in range(64) if (weak | strong) >> bit & 1):
        disabled = [u for u in members if not enabled_at[u] & group]
        if weak & group and disabled:  # passing a state where it is disabled is enough
            if all(enabled_at[u] & group for u in (entry, *states)):
                go(lambda u, g=group: not enabled_at[u] & g)
        elif len(disabled) < len(members):  # enabled somewhere (or everywhere): take it
            take(group)
    if not states:  # no group asked for a step: take one inside (the self-loop if there is one)
        if graph.self_loop[entry]:
            return [entry], [0]
        here = next(v for v in graph.successors(entry).tolist() if v in members)
        states, groups = [here], [0]
    home = _walk(graph, members, here, lambda u: u == entry)
    return states + home, groups + [0] * len(home)


def _edge_in(graph: StateGraph, members: set[int], u: int, group: int) -> int | None:
    """A successor of u inside `members` reached by a step in `group`, or None."""
    lo, hi = graph.indptr[u], graph.indptr[u + 1]
    for v, label in zip(graph.dst[lo:hi].tolist(), graph.groups[lo:hi].tolist()):
        if label & group and v in members:
            return v
    return None


def _walk(graph: StateGraph, members: set[int], start: int, arrived) -> list[int]:
    """The shortest path inside `members` from `start` (excluded) to a state where `arrived`,
    at least one step long unless `start` itself has arrived."""
    if arrived(start):
        return []
    parent = {start: None}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for v in graph.successors(u).tolist():
            if v in members and v not in parent:
                parent[v] = u
                if arrived(v):
                    path = [v]
                    while parent[path[-1]] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                queue.append(v)
    raise AssertionError("a strongly connected component was not connected")
