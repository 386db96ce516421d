"""What the explorer page shows, as JSON with ready-made HTML fragments: the page's script only
puts them in place, so states, diffs and the diagram are drawn by the same code as `agree show`."""

from __future__ import annotations

from agree.explorer.engines.encoding import encode
from agree.explorer.traces.html import state_panel, step_label
from agree.explorer.traces.render import chart_events, diff, node_names_of
from agree.explorer.traces.statehtml import shape_of
from agree.explorer.traces.svg import sequence_svg
from agree.explorer.web.session import Session, describe


def snapshot(session: Session, message: str = "") -> dict:
    """Everything the page needs after any action."""
    model, view = session.model, session.model.view
    path = session.encoded_path()
    labels = ["initial state"] + [step_label(s) for s in path["steps"]]
    position = session.position
    before = path["steps"][position - 2]["state"] if position > 1 else path["initial"]
    after = path["initial"] if position == 0 else path["steps"][position - 1]["state"]
    properties = session.properties()
    broken = [p["name"] for p in properties if p["violated"]]
    at_end = position == len(session.steps)
    actors, events = chart_events(path, model)
    names = node_names_of(model)
    enabled = [{"index": i, "label": step_label({"action": s.action, "args": encode(s.args)})}
               for i, s in enumerate(session.enabled())]
    return {
        "title": describe(session.model_ref, model.parameters, model.variant_name),
        "position": position,
        "length": len(session.steps),
        "path": labels,
        "svg": sequence_svg(actors, events, broken[0] if broken and at_end else None),
        "state": state_panel(position, labels[position], after, before, shape_of(view(session.current)), names),
        "properties": properties,
        "enabled": enabled,
        "initials": len(session.initials),
        "initial_labels": initial_labels(session, names),
        "message": message,
    }


def initial_labels(session: Session, names: list[str] | None) -> list[str]:
    """How the explorer offers each initial state: by how it differs from the first, in node names
    (`2: input[p2]: 0 -> 1`), not by a bare number. Worked out once per session."""
    if getattr(session, "initial_labels", None) is not None:
        return session.initial_labels
    states = [encode(session.model.view(s)) for s in session.initials]
    labels = []
    for i, state in enumerate(states):
        said = "; ".join(diff(states[0], state, names=names)) if i else "the first"
        labels.append(f"{i + 1}: {said[:80] + '…' if len(said) > 80 else said}")
    session.initial_labels = labels
    return labels
