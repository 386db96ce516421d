"""A trace's sequence diagram as inline SVG, drawn here so a page needs no script from the internet.

It draws the same events as the Mermaid renderer (`render.chart_events`): one lifeline per actor,
one row per event, messages as arrows and notes as boxes. Each step's rows sit in a group
`<g class="step" data-step="N">`, so a page can highlight the selected step and select a step by
a click on the drawing. A lasso trace (a "loop" field: the number of the state the last step
returns to) gets a bracket over the steps that repeat.
"""

from __future__ import annotations

from html import escape

ROW, HEAD, LEFT, RIGHT = 26, 44, 48, 90  # pixels: a row, the actor heads, the step numbers, the loop mark
CHAR = 7.4  # the width of one character at the diagram's font size, for fitting labels


def _fit(text: str, width: float) -> str:
    room = max(4, int(width / CHAR))
    return text if len(text) <= room else text[:room - 1] + "…"


def _text(x: float, y: float, text: str, width: float, cls: str = "", anchor: str = "middle") -> str:
    shown = _fit(str(text), width)
    title = f"<title>{escape(str(text))}</title>" if shown != str(text) else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}"{klass}>{title}{escape(shown)}</text>'


def _column_width(actors: list[str], events: list[tuple]) -> float:
    """Wide enough for most labels between neighbouring lifelines, within sensible limits."""
    longest = max([len(a) for a in actors] + [len(str(e[-1])) for _, _, drawn in events for e in drawn] + [8])
    return max(120.0, min(260.0, longest * CHAR * 0.9 + 24))


def sequence_svg(actors: list[str], events: list[tuple], violated: str | None = None,
                 loop: int | None = None) -> str:
    """The diagram for `render.chart_events(...)`; `violated` names a broken property to show last."""
    actors = actors or ["system"]
    col = _column_width(actors, events)
    x_of = {a: LEFT + col / 2 + i * col for i, a in enumerate(actors)}
    span = (LEFT + 6, LEFT + col * len(actors) - 6)
    rows = 1 + sum(max(1, len(drawn)) for _, _, drawn in events) + (1 if violated else 0)
    width, height = LEFT + col * len(actors) + RIGHT, HEAD + rows * ROW + 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width:.0f}" height="{height}" '
           f'viewBox="0 0 {width:.0f} {height}" role="img" aria-label="sequence diagram">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for a, x in x_of.items():
        out.append(f'<line class="lifeline" x1="{x:.0f}" y1="{HEAD - 8}" x2="{x:.0f}" y2="{height - 6}"/>')
        out.append(f'<rect class="actor" x="{x - col / 2 + 8:.0f}" y="6" width="{col - 16:.0f}" height="26" rx="4"/>')
        out.append(_text(x, 24, a, col - 20, "actor-name"))
    y = HEAD
    out.append(_step_group(0, y, 1, width, [_text(LEFT + 4, y + 17, "initial state", col * 2, "initial", "start")]))
    y += ROW
    tops = {}
    for number, step, drawn in events:
        tops[number] = y
        parts = []
        for i, event in enumerate(drawn or [("note", None, step["action"])]):
            parts.append(_event(event, y + i * ROW, x_of, col, span))
        out.append(_step_group(number, y, max(1, len(drawn)), width, parts))
        y += max(1, len(drawn)) * ROW
    if violated:
        out.append(f'<rect class="violation" x="{span[0]:.0f}" y="{y + 3}" width="{span[1] - span[0]:.0f}" '
                   f'height="{ROW - 6}" rx="4"/>')
        out.append(_text((span[0] + span[1]) / 2, y + 17, f"{violated} violated", span[1] - span[0], "violation"))
    if loop is not None and events and 0 <= loop < len(events):
        out.append(_loop_mark(tops[loop + 1], y, span[1] + 14, loop))
    out.append("</svg>")
    return "\n".join(out)


def _step_group(number: int, y: float, rows: int, width: float, parts: list[str]) -> str:
    label = "" if number == 0 else _text(LEFT - 8, y + 17, f"{number}.", LEFT, "number", "end")
    return (f'<g class="step" data-step="{number}"><rect class="row" x="0" y="{y:.0f}" width="{width:.0f}" '
            f'height="{rows * ROW}"/>{label}{"".join(parts)}</g>')


def _event(event: tuple, y: float, x_of: dict, col: float, span: tuple) -> str:
    if event[0] == "msg":
        _, src, dst, label = event
        x1, x2 = x_of[str(src)], x_of[str(dst)]
        if x1 == x2:  # a message to oneself: a small loop on the right of the lifeline
            return (f'<path class="message" d="M{x1:.0f},{y + 10} h24 v10 h-22" marker-end="url(#arrow)"/>'
                    + _text(x1 + 30, y + 18, label, col - 34, "label", "start"))
        return (f'<line class="message" x1="{x1:.0f}" y1="{y + 20}" x2="{x2:.0f}" y2="{y + 20}" '
                f'marker-end="url(#arrow)"/>' + _text((x1 + x2) / 2, y + 15, label, abs(x2 - x1) - 8, "label"))
    _, who, text = event
    left, right = span if who is None else (x_of[str(who)] - col / 2 + 6, x_of[str(who)] + col / 2 - 6)
    box = (f'<rect class="note" x="{left:.0f}" y="{y + 3}" width="{right - left:.0f}" height="{ROW - 6}" rx="3"/>'
           + _text((left + right) / 2, y + 17, text, right - left - 8, "note-text"))
    if _fit(str(text), right - left - 8) == str(text):
        return box
    # a cut note shows its whole text when the pointer is anywhere on its box, not only on the letters
    return f'<g class="note-box"><title>{escape(str(text))}</title>{box}</g>'



def _loop_mark(top: float, bottom: float, x: float, loop: int) -> str:
    """A bracket beside the steps that repeat, saying which state they return to."""
    return (f'<g class="loop"><path d="M{x:.0f},{top + 4} h8 V{bottom - 4} h-8"/>'
            + _text(x + 12, (top + bottom) / 2 - 4, "loop", RIGHT - 16, "loop-text", "start")
            + _text(x + 12, (top + bottom) / 2 + 10, f"back to {loop}", RIGHT - 16, "loop-text", "start") + "</g>")
