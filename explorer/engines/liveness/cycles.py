"""Liveness on the explored state graph: can a fair execution avoid a goal forever?

`@eventually P` fails when some execution from an initial state never reaches a state where P
holds; `P ~> Q` (leads-to) fails when some execution from a state where P holds never reaches one
where Q holds. Such an execution either stops in a dead end (a state with no step that changes
it: the system halts, or only stutters, undecided) or ends by going round a cycle for ever.
Only fair cycles count: for every weakly fair group, the cycle takes it or passes a state where
it is disabled; for every strongly fair group, the cycle takes it or never passes a state where
it is enabled.

The search for one, as TLC and SPIN do it: keep the states where the goal is false, reachable from
the seeds through such states (breadth first, in numpy); split them into strongly connected
components (scipy's csgraph, in C, loaded only when a cycle through two states is possible: the
states are numbered in BFS order, and such a cycle needs a step back to an earlier one); an SCC
that is a cycle (two states or more, or one with a step to itself) holds a fair cycle under weak
fairness exactly when the cycle through all of its states and edges is fair. Strong fairness may
need a smaller cycle: drop the states where an untaken strong group is enabled and look again
inside what is left (Emerson and Lei, 1987). The answer is a `Lasso`: the path to a dead end, or
the path to a fair cycle and the cycle, the nearest to the seeds (breadth first).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from agree.explorer.engines.liveness.graph import CHUNK, StateGraph

STEP = 1 << 13  # queued states the breadth-first search expands at once (bounds its temporaries)


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
    starts = np.flatnonzero(seeds & allowed).astype(np.int32)
    if len(starts) == 0:
        return None
    region, parent = _breadth_first(graph, allowed, starts)
    del allowed
    rank = np.full(n, n + 1, dtype=np.int32)
    rank[region] = np.arange(1, len(region) + 1, dtype=np.int32)
    region.sort()
    candidates: list[tuple[int, int, np.ndarray | None]] = []  # (rank, entry, cycle states or None)
    dead = region[graph.moves[region] == 0]
    if len(dead):
        entry = int(dead[np.argmin(rank[dead])])
        candidates.append((int(rank[entry]), entry, None))
    for members in _fair_components(graph, region, weak, strong):
        entry = int(members[np.argmin(rank[members])])
        candidates.append((int(rank[entry]), entry, members))
    if not candidates:
        return None
    _, entry, cycle = min(candidates, key=lambda c: c[0])
    path = _back_to_seed(parent, entry)
    if cycle is None:
        return Lasso(path, None, [0] * (len(path) - 1))
    loop_states, loop_groups = _fair_loop(graph, set(cycle.tolist()), entry, weak, strong)
    start = len(path) - 1
    return Lasso(path + loop_states, start, [0] * start + loop_groups)


def _breadth_first(graph: StateGraph, allowed: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breadth first from `starts` through `allowed` states, in numpy (scipy's import alone costs
    as much memory as a small search): the states in the order a queue meets them when it takes
    each state's successors by increasing number, and where each came from (-1: a start)."""
    parent = np.full(graph.size, -2, dtype=np.int32)  # -2: not reached
    parent[starts] = -1
    levels = [starts]
    while len(levels[-1]):
        level = levels[-1]  # expanded a slice at a time, in queue order, so the temporaries stay small
        levels.append(np.concatenate([_expand(graph, allowed, parent, level[lo:lo + STEP])
                                      for lo in range(0, len(level), STEP)]))
    return np.concatenate(levels), parent


def _expand(graph: StateGraph, allowed: np.ndarray, parent: np.ndarray, queue: np.ndarray) -> np.ndarray:
    """The allowed states first met from `queue`, in the order a queue meets them; sets their parent."""
    lo = graph.indptr[queue]
    width = graph.indptr[queue + 1] - lo
    succ = graph.dst[np.repeat(lo - np.cumsum(width) + width, width) + np.arange(int(width.sum()))]
    at = np.repeat(np.arange(len(queue), dtype=np.int32), width)  # the position in `queue` it came from
    fresh = allowed[succ] & (parent[succ] == -2)
    succ, at = succ[fresh], at[fresh]
    queued = np.lexsort((succ, at))  # queue order, then increasing number
    succ, at = succ[queued], at[queued]
    first = np.sort(np.unique(succ, return_index=True)[1])  # the first time each new state is met
    found = succ[first]
    parent[found] = queue[at[first]]
    return found


def _back_to_seed(parent: np.ndarray, node: int) -> list[int]:
    path = [node]
    while parent[path[-1]] >= 0:
        path.append(int(parent[path[-1]]))
    path.reverse()
    return path


def _back_edges(graph: StateGraph) -> tuple[np.ndarray, np.ndarray]:
    """(sources, destinations) of the edges to an earlier state. States are numbered in BFS order,
    and every cycle has such an edge (its numbers cannot only grow): without one, no cycle."""
    sources, dsts = [], []
    for lo in range(0, graph.edges, CHUNK):  # a chunk at a time: no source number for every edge
        dst = graph.dst[lo:lo + CHUNK]
        src = (np.searchsorted(graph.indptr, np.arange(lo, lo + len(dst)), side="right") - 1).astype(np.int32)
        back = dst < src
        sources.append(src[back])
        dsts.append(dst[back])
    empty = [np.zeros(0, dtype=np.int32)]
    return np.concatenate(sources or empty), np.concatenate(dsts or empty)


def _strong_components(graph: StateGraph, nodes: np.ndarray, keep: np.ndarray):
    """The strongly connected components of the subgraph on `nodes` (`keep` per state): (label
    per state, -1 outside `nodes`; whether each label holds a cycle; the groups taken by steps
    inside each)."""
    sources = graph.sources()
    inside = keep[sources]
    inside &= keep[graph.dst]
    labels = _scc_labels(graph, inside)
    labels[~keep] = -1
    count = int(labels.max()) + 1
    cyclic = np.bincount(labels[nodes], minlength=count) > 1
    cyclic[labels[nodes[graph.self_loop[nodes]]]] = True
    inside &= labels[sources] == labels[graph.dst]
    internal = np.flatnonzero(inside)
    taken = np.zeros(count, dtype=np.int64)
    np.bitwise_or.at(taken, labels[sources[internal]], graph.groups(internal))
    return labels, cyclic, taken


def _scc_labels(graph: StateGraph, inside: np.ndarray) -> np.ndarray:
    """scipy's strongly connected components (in C) of the edges marked `inside`."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = graph.size
    kept = np.zeros(graph.edges + 1, dtype=np.int64)
    np.cumsum(inside, out=kept[1:])
    indptr = kept[graph.indptr]
    del kept
    indices = graph.dst[inside]
    matrix = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n, n))  # float64: csgraph's own
    del indices, indptr
    matrix.sum_duplicates()  # two steps between the same states: csgraph would loop for ever on them
    return connected_components(matrix, directed=True, connection="strong")[1]


def _fair_components(graph: StateGraph, nodes: np.ndarray, weak: int, strong: int):
    """Yield the state sets (each strongly connected, with a cycle) that hold a fair cycle. The
    groups taken inside each component and enabled in all or some of its states are gathered for
    every component at once (numpy), so a graph of many small components costs no Python loop;
    a subset without a step back to an earlier state has only states with a step to themselves."""
    pending = [nodes] if len(nodes) else []
    back = _back_edges(graph)
    while pending:
        subset = pending.pop()
        keep = np.zeros(graph.size, dtype=bool)
        keep[subset] = True
        if not np.any(keep[back[0]] & keep[back[1]]):  # no cycle through two states or more
            yield from _fair_self_loops(graph, subset, weak | strong)
            continue
        labels, cyclic, taken = _strong_components(graph, subset, keep)
        del keep
        count = len(cyclic)
        label, enabled = labels[subset], graph.enabled[subset]
        del labels
        everywhere = np.full(count, -1, dtype=np.int64)
        np.bitwise_and.at(everywhere, label, enabled)
        somewhere = np.zeros(count, dtype=np.int64)
        np.bitwise_or.at(somewhere, label, enabled)
        del enabled
        # a weak group always enabled and never taken: no cycle inside is fair either
        weak_ok = cyclic & ((np.int64(weak) & everywhere & ~taken) == 0)
        unfair = np.int64(strong) & somewhere & ~taken
        chosen = np.flatnonzero(weak_ok)
        if len(chosen) == 0:
            continue
        order = np.argsort(label, kind="stable")
        grouped = subset[order]
        starts = np.searchsorted(label[order], np.arange(count + 1))
        for c in chosen.tolist():
            members = grouped[starts[c]:starts[c + 1]]
            if not unfair[c]:
                yield members
                continue
            rest = members[(graph.enabled[members] & unfair[c]) == 0]  # a fair cycle must avoid these
            if len(rest):
                pending.append(rest)


def _fair_self_loops(graph: StateGraph, nodes: np.ndarray, fair: int):
    """Each state of `nodes` with a step to itself, as a cycle of its own: such a step takes no
    group, so the cycle is fair when no fair group is enabled there."""
    looped = nodes[graph.self_loop[nodes]]
    for u in looped[(graph.enabled[looped] & np.int64(fair)) == 0]:
        yield np.array([u])


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
    for v, label in zip(graph.dst[lo:hi].tolist(), graph.groups(slice(lo, hi)).tolist()):
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
