"""Replicated-log safety, as plain functions over plain data (Raft paper, Figure 3).

A log is a sequence of entries, each a `(term, value)` pair; a server's log is `logs[i]`, its
commit index `commits[i]` (entries 1..commits[i] are known committed; 0 means none). Leaders are
given as `(term, server)` pairs. Nothing here knows which protocol produced the data, so Raft,
Multi-Paxos or VR models can share these checks through small view methods.
"""

from __future__ import annotations

from typing import Collection, Hashable, Iterable, Sequence

from agree.properties.consensus import at_most_one_per_key

Entry = tuple  # (term, value)
Log = Sequence[Entry]


def election_safety(leaders: Iterable[tuple[int, Hashable]]) -> bool:
    """At most one leader is elected in each term (Figure 3, Election Safety)."""
    return at_most_one_per_key(leaders)


def log_matching(logs: Sequence[Log]) -> bool:
    """If two logs hold an entry with the same index and term, the logs are identical in all
    entries up to and including that index (Figure 3, Log Matching)."""
    for a in range(len(logs)):
        for b in range(a + 1, len(logs)):
            x, y = logs[a], logs[b]
            # the highest index where the terms agree must have equal prefixes
            for k in range(min(len(x), len(y)) - 1, -1, -1):
                if x[k][0] == y[k][0]:
                    if x[:k + 1] != y[:k + 1]:
                        return False
                    break
    return True


def state_machine_safety(logs: Sequence[Log], commits: Sequence[int]) -> bool:
    """No two servers commit (and so apply) different entries at the same index (Figure 3,
    State Machine Safety)."""
    committed = [log[:c] for log, c in zip(logs, commits)]
    longest = max(committed, key=len, default=())
    return all(longest[:len(prefix)] == prefix for prefix in committed)


def leader_completeness(logs: Sequence[Log], commits: Sequence[int], terms: Sequence[int],
                        leaders: Iterable[int]) -> bool:
    """A leader holds every entry committed in an earlier term (Figure 3, Leader Completeness).

    State-based form: server i set commits[i] in a term no later than terms[i], so every leader j
    with terms[j] > terms[i] must hold i's committed prefix. (Weaker than the history-based
    statement, which also knows the exact commit term, but it needs no history variable.)"""
    for j in leaders:
        for i in range(len(logs)):
            c = commits[i]
            if c and terms[j] > terms[i] and logs[j][:c] != logs[i][:c]:
                return False
    return True


def append_only(before: Log, after: Log) -> bool:
    """`after` extends `before`: nothing was overwritten or deleted (Leader Append-Only)."""
    return len(after) >= len(before) and after[:len(before)] == before


def committed_entries(logs: Sequence[Log], commits: Sequence[int]) -> set[tuple[int, Entry]]:
    """Every `(index, entry)` some server knows to be committed (indexes from 1). A commit index
    beyond the log counts only the entries there (`commit_within_log` judges the rest)."""
    return {(k + 1, log[k]) for log, c in zip(logs, commits) for k in range(min(c, len(log)))}


def commit_within_log(logs: Sequence[Log], commits: Sequence[int]) -> bool:
    """No server's commit index points past the end of its own log (Figure 2: commitIndex is the
    index of the highest log entry known to be committed, so that entry is in the log)."""
    return all(0 <= c <= len(log) for log, c in zip(logs, commits))


def holders(logs: Sequence[Log], index: int, entry: Entry) -> int:
    """How many logs hold `entry` at `index` (from 1)."""
    return sum(1 for log in logs if len(log) >= index and log[index - 1] == entry)


def commit_persists(before_logs: Sequence[Log], before_commits: Sequence[int],
                    after_logs: Sequence[Log], quorum: int, recovering: Collection[int] = ()) -> bool:
    """Once committed, an entry stays: every entry committed before a step is still held, at the
    same index, by at least `quorum` servers after it, and no server loses or changes an entry it
    had itself committed (logs are durable, so this holds across restarts too).

    `recovering` are the positions of servers that lost their state in a crash and take no part
    until a recovery protocol has given it back (VR keeps nothing on disk): they may lose their
    own entries, and count toward the quorum, since then every quorum of the others still meets
    the holders (n - r others, at least quorum - r of them holders)."""
    for k, (log_before, c, log_after) in enumerate(zip(before_logs, before_commits, after_logs)):
        if log_after[:c] != log_before[:c] and k not in recovering:
            return False
    need = quorum - len(recovering)
    return all(holders(after_logs, index, entry) >= need
               for index, entry in committed_entries(before_logs, before_commits))


def committed_kept(before_logs: Sequence[Log], before_commits: Sequence[int], after_logs: Sequence[Log]) -> bool:
    """Commit persistence without a fixed quorum (for membership changes, where the quorum in
    force changes): no log that held an entry some server knew committed loses or changes it. In
    Raft this holds whatever the configuration, since every later leader holds the entry (Leader
    Completeness) and so no AppendEntries deletes it; it implies no server changes its own
    committed entries."""
    committed = committed_entries(before_logs, before_commits)
    for log_before, log_after in zip(before_logs, after_logs):
        if log_after is log_before:
            continue
        for index, entry in committed:
            if len(log_before) >= index and log_before[index - 1] == entry and (
                    len(log_after) < index or log_after[index - 1] != entry):
                return False
    return True

def acknowledged_held(acknowledged: Iterable[Hashable], logs: Iterable[Sequence]) -> bool:
    """Every acknowledged write is in each of `logs` (the logs of the servers that now answer for
    the data): a write the clients were told is done has not been lost."""
    needed = set(acknowledged)
    return all(needed <= set(log) for log in logs)
