"""What the explorer page shows, as JSON with ready-made HTML fragments: the page's script only
puts them in place, so states, diffs and the diagram are drawn by the same code as `agree show`."""

from __future__ import annotations

from html import escape

from agree.explorer.engines.encoding import encode
from agree.explorer.traces.html import step_label
from agree.explorer.traces.render import chart_events
from agree.explorer.traces.statehtml import shape_of, state_html
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
    enabled = [{"index": i, "label": step_label({"action": s.action, "args": encode(s.args)})}
               for i, s in enumerate(session.enabled())]
    return {
        "title": describe(session.model_ref, model.parameters, model.variant_name),
        "position": position,
        "length": len(session.steps),
        "path": labels,
        "svg": sequence_svg(actors, events, broken[0] if broken and at_end else None),
        "state": (f"<h3>state {position}{' (after ' + escape(labels[position]) + ')' if position else ''}</h3>"
                  + state_html(after, before, shape_of(view(session.current)), first=position == 0)),
        "properties": properties,
        "enabled": enabled,
        "initials": len(session.initials),
        "message": message,
    }
