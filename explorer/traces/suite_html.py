"""`agree verify --html FILE`: the whole suite as one self-contained page. A table of every
expectation (met or not, with why), and below it a trace viewer for each outcome that has a trace;
a failing expectation links to its trace, so a reader goes from "not met" to the steps in a click.
"""

from __future__ import annotations

from html import escape

from agree.explorer.traces.html import page, viewer
from agree.models.registry import build_model


def _model_for(trace: dict):
    try:
        return build_model(trace["model"], trace.get("params"), trace.get("variant"))
    except Exception:  # InputError or a user model's own error: the trace still draws from itself
        return None


def render_suite_html(columns: tuple, rows: list[dict]) -> str:
    """`rows`: dicts with "cells" (one text per column), "met", "detail" and "trace" (JSON or None)."""
    met = sum(1 for r in rows if r["met"])
    head = "".join(f"<th>{escape(c)}</th>" for c in columns) + "<th>met</th><th>trace</th>"
    lines, viewers = [], []
    for i, row in enumerate(rows, 1):
        anchor = f"trace-{i}"
        link = ""
        if row.get("trace") is not None:
            link = f'<a href="#{anchor}">{len(row["trace"]["steps"])} steps</a>'
            viewers.append(viewer(row["trace"], _model_for(row["trace"]), anchor).replace(
                "<h2>", f'<h2><a href="#row-{i}">#{i}</a> ', 1))
        elif not row["met"]:
            link = "no trace"
        mark = '<span class="met">yes</span>' if row["met"] else '<span class="not-met-mark">NOT MET</span>'
        cells = "".join(f"<td>{escape(str(c))}</td>" for c in row["cells"])
        why = f'<tr class="not-met"><td colspan="{len(columns) + 2}">{escape(row["detail"])}</td></tr>' \
            if not row["met"] and row.get("detail") else ""
        lines.append(f'<tr id="row-{i}" class="{"met-row" if row["met"] else "not-met"}">{cells}'
                     f"<td>{mark}</td><td>{link}</td></tr>{why}")
    verdict = f"{met} of {len(rows)} expectations met" + (f"; {len(rows) - met} not met" if met < len(rows) else "")
    body = (f"<main><h1>agree verify</h1><p class=\"summary\">{escape(verdict)}</p>"
            f'<table class="suite"><thead><tr>{head}</tr></thead><tbody>{"".join(lines)}</tbody></table>'
            f"{''.join(viewers)}</main>")
    return page(f"agree verify: {verdict}", body)
