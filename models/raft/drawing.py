"""How Raft draws: participants, per-server names for diffs, coverage's switched-off actions, and
one sequence-diagram event per step (`agree show --format mermaid`, the HTML page)."""

from __future__ import annotations

from agree.models.contract import Step


class RaftDrawing:
    """Drawing hooks of the Raft model (mixed into it; needs `names` and the bounds)."""

    def participants(self) -> list[str]:
        return list(self.names)

    def node_names(self) -> list[str]:
        return list(self.names)

    def actions_off(self) -> dict[str, str]:
        off = {"Restart": "max_restarts=0", "Duplicate": "max_duplicates=0", "Drop": "loss=False",
               "ClientRequest": "client_values=0"}
        on = {"Restart": self.max_restarts, "Duplicate": self.max_duplicates, "Drop": self.loss,
              "ClientRequest": self.client_values}
        return {action: why for action, why in off.items() if not on[action]}

    def chart(self, step: Step) -> list[tuple]:
        a, act = step.args, step.action
        if act == "Timeout":
            return [("note", a["server"], f"times out: candidate in term {a['term']}, asks for votes")]
        if act == "BecomeLeader":
            return [("note", a["server"], f"leader of term {a['term']}")]
        if act == "ClientRequest":
            return [("note", a["server"], f"client appends {a['value']}")]
        if act == "AdvanceCommitIndex":
            return [("note", a["server"], f"commitIndex = {a['commit']}")]
        if act == "Restart":
            return [("note", a["server"], "restarts, losing its volatile state")]
        if act in ("Duplicate", "Drop", "DropStaleResponse"):
            verb = {"Duplicate": "network duplicates", "Drop": "network drops", "DropStaleResponse": "ignores stale"}
            who = a["dst"] if act == "DropStaleResponse" else None
            return [("note", who, f"{verb[act]} {a['message']}(term {a['term']}) {a['src']}→{a['dst']}")]
        if act == "AppendEntries":
            return [("note", a["src"], f"sends AppendEntries(term {a['term']}) to {a['dst']}")]
        if act == "HandleRequestVoteRequest":
            verdict = "grants" if a["granted"] else "refuses"
            return [("msg", a["src"], a["dst"], f"RequestVote(term {a['term']})"),
                    ("note", a["dst"], f"{verdict} vote to {a['src']}")]
        if act == "HandleRequestVoteResponse":
            return [("msg", a["src"], a["dst"], f"Vote(term {a['term']}, {'yes' if a['granted'] else 'no'})")]
        if act == "HandleAppendEntriesRequest":
            entries = ", ".join(f"{t}:{v}" for t, v in a["entries"]) or "heartbeat"
            return [("msg", a["src"], a["dst"],
                     f"AppendEntries(term {a['term']}, prev {a['prev_index']}, [{entries}])"),
                    ("note", a["dst"], "accepts" if a["success"] else "rejects")]
        if act == "HandleAppendEntriesResponse":
            return [("msg", a["src"], a["dst"], f"AppendEntriesResponse(term {a['term']}, "
                                               f"{'ok' if a['success'] else 'fail'})")]
        return super().chart(step)

