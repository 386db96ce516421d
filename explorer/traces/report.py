"""CheckResults for people (text) and for machines (JSON)."""

from __future__ import annotations

from agree.explorer.engines.result import HOLDS, INCOMPLETE, CheckResult
from agree.explorer.traces.render import render_text
from agree.explorer.traces.format import trace_to_json


def result_to_json(result: CheckResult) -> dict:
    violation = result.violation
    return {
        "model": result.model,
        "params": result.params,
        "variant": result.variant,
        "about": result.about,
        "strategy": result.strategy,
        "verdict": result.verdict,
        "exhausted": result.exhausted,
        "stopped_by": result.stopped_by,
        "distinct_states": result.distinct_states,
        "generated": result.generated,
        "depth": result.depth,
        "seconds": round(result.seconds, 6),
        "states_per_second": round(result.states_per_second, 1),
        "symmetry": result.symmetry,
        "workers": result.workers,
        "state_storage": ("64-bit fingerprints" if result.fingerprints
                          else "exact (no fingerprint collisions possible)"),
        "collision_probability": result.collision_probability,
        "exchanged_bytes": result.exchanged,
        "properties": {name: p.status for name, p in result.properties.items()},
        "property_details": {name: {"kind": p.kind, "status": p.status, "detail": p.detail,
                                    "trace_length": len(p.trace) if p.trace is not None else None}
                             for name, p in result.properties.items()},
        "coverage": result.coverage,
        "dead_ends": result.dead_ends,
        "warnings": result.warnings,
        "violation": None if violation is None else {
            "property": violation.name,
            "kind": violation.kind,
            "detail": violation.detail,
            "trace": trace_to_json(violation.trace) if violation.trace is not None else None,
        },
    }


def describe_model(result: CheckResult) -> str:
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    variant = f" --variant {result.variant}" if result.variant else ""
    return f"{result.model}({params}){variant}"


def verdict_line(result: CheckResult) -> str:
    counts = (f"{result.distinct_states:,} distinct states ({result.generated:,} generated), depth {result.depth}, "
              f"{result.seconds:.2f} s, {result.states_per_second:,.0f} states/s")
    symmetry = ", symmetry reduced" if result.symmetry else ""
    if result.fingerprints:
        workers = f"{result.workers} workers arbitrate by fingerprint; " if result.workers > 1 else ""
        symmetry += (f", 64-bit fingerprints ({workers}chance a collision hid a state: {result.collision_probability:.1e},"
                     " assuming uniform hashes)")
    if result.verdict == HOLDS:
        return f"holds within bounds: search exhausted, {counts}{symmetry}"
    if result.verdict == INCOMPLETE and result.exhausted:
        return (f"incomplete: the search was exhausted with no violation, but {result.why_incomplete()}; "
                f"{counts}{symmetry}")
    if result.verdict == INCOMPLETE:
        return (f"incomplete: no violation found, but {result.why_incomplete()} and not every state was "
                f"explored; {counts}{symmetry}")
    return f"VIOLATED: {result.violation.name} ({result.violation.kind}); {counts}{symmetry}"


def render_result(result: CheckResult, model=None, show_coverage: bool = True) -> str:
    lines = [f"{describe_model(result)}, {result.strategy}"] + ([f"  {result.about}"] if result.about else [])
    lines.append(f"verdict: {verdict_line(result)}")
    if result.dead_ends is not None:
        lines.append(f"dead ends (states with no step at all, TLC's deadlocks): {result.dead_ends:,}")
    lines.append("properties:")
    width = max((len(n) for n in result.properties), default=0)
    for name, prop in result.properties.items():
        extra = f"  {prop.detail}" if prop.detail else ""
        if prop.status == "reached" and prop.trace is not None:
            extra = f"  (shortest example: {len(prop.trace)} steps)"
        elif prop.status == "violated" and prop.trace is not None:
            shortest = "shortest " if result.strategy == "bfs" else ""
            extra = f"  ({shortest}counterexample: {len(prop.trace)} steps)"
        lines.append(f"  {name:<{width}}  {prop.kind:<10}  {prop.status:<10}{extra}")
    if show_coverage and result.coverage:
        lines.append("coverage (transitions fired / new states found):")
        aw = max(len(a) for a in result.coverage)
        for action, c in result.coverage.items():
            off = f"  (off: {c['off']})" if "off" in c else ""
            lines.append(f"  {action:<{aw}}  {c['fired']:>10,}  {c['new']:>10,}{off}")
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    violation = result.violation
    if violation is not None and violation.trace is not None:
        trace = violation.trace
        lines.append("")
        shrunk = trace.extra.get("shrunk_from")
        lines.append(f"counterexample ({len(trace)} steps, {result.strategy}"
                     f"{': shortest' if result.strategy == 'bfs' else ''}"
                     f"{f'; shrunk from {shrunk} steps' if shrunk is not None else ''}):")
        lines.append(render_text(trace_to_json(trace), model))
    elif violation is not None:
        lines.append(f"{violation.name}: {violation.detail}")
    return "\n".join(lines)

