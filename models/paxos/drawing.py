"""How a Paxos run is drawn: the participants of the sequence chart and what each step says
(mixed into `Paxos`; charts are drawn from live states and from trace files alike)."""

from __future__ import annotations

from typing import Any, Iterable

from agree.models.contract import Step
from agree.models.paxos.state import NO_BALLOT


class PaxosDrawing:
    """Paxos's chart: ballots' leaders and acceptors exchange 1a/1b and 2a/2b."""

    def participants(self) -> list[str]:
        return [f"b{b}" for b in self.ballots] + list(self.names)

    def node_names(self) -> list[str]:
        return list(self.names)

    def actions_off(self) -> dict[str, str]:
        return {} if self.max_restarts else {"Restart": "max_restarts=0"}

    def chart(self, step: Step) -> list[tuple]:
        args = step.args
        if step.action == "Phase1a":
            return [("note", f"b{args['bal']}", f"1a: leader starts ballot {args['bal']}")]
        if step.action == "Phase1b":
            leader, a = f"b{args['bal']}", args["acc"]
            vote = _last_vote(step.state, self.names.index(a))
            said = "no vote yet" if vote[0] == NO_BALLOT else f"voted {vote[1]} in ballot {vote[0]}"
            return [("msg", leader, a, "1a"), ("msg", a, leader, f"1b: joins ballot {args['bal']}, {said}")]
        if step.action == "Phase2a":
            return [("note", f"b{args['bal']}", f"2a: proposes {args['val']}")]
        if step.action == "Phase2b":
            leader, a, b, v = f"b{args['bal']}", args["acc"], args["bal"], args["val"]
            events = [("msg", leader, a, f"2a {v}"), ("msg", a, leader, f"2b: votes {v} in ballot {b}")]
            voters = {m[1] for m in map(tuple, _msgs(step.state)) if m[0] == "2b" and m[2] == b and m[3] == v}
            if self.is_quorum(frozenset(voters)) and not self.is_quorum(frozenset(voters - {a})):
                events.append(("note", leader, f"{v} is chosen in ballot {b} by {', '.join(sorted(voters))}"))
            return events
        if step.action == "Restart":
            return [("note", args["acc"], self.restart_says)]
        return super().chart(step)

    restart_says = "crashes and restarts, its state intact"


def _msgs(state: Any) -> Iterable:
    """The messages of a state, or of its JSON encoding (charts are drawn from trace files too)."""
    return state["msgs"] if isinstance(state, dict) else state.msgs


def _last_vote(state: Any, i: int) -> tuple:
    if isinstance(state, dict):
        return state["max_vbal"][i], state["max_val"][i]
    return state.max_vbal[i], state.max_val[i]
