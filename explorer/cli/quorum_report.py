"""`agree quorums`' reporting: run the intersection checks (Z3 in a helper thread, so Ctrl-C and
--time-limit stop it at once) and print the verdict, the witness, or `unknown`, with the exit code."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import click
import z3

from agree.explorer.cli.common import EXIT_FAILED, EXIT_OK, run_beside
from agree.properties.errors import InputError
from agree.properties.quorums import QuorumSystem, Undecided, check_intersection
from agree.properties.quorums.intersection import interrupt as interrupt_solves


@dataclass
class Check:
    """One intersection question; `required` checks decide the exit code, others are for contrast."""

    label: str
    first: QuorumSystem
    second: QuorumSystem
    at_least: int
    required: bool = True


LISTED_QUORUMS = 5000  # a report lists minimal quorums up to this many, for `-p quorum=FILE`


def quorum_lists(first: Check) -> dict:
    """The minimal quorums of the first check, as a model's quorum file takes them: "quorums" for
    one system, "phase1" and "phase2" for two (the first check's first and second systems)."""
    def listed(system):
        found = system.quorums()
        return [sorted(q) for q in found] if len(found) <= LISTED_QUORUMS else None
    try:
        one, two = listed(first.first), listed(first.second)
    except InputError:  # too many to enumerate at all
        return {}
    if one is None or two is None:
        return {}
    return {"quorums": one} if first.first == first.second else {"phase1": one, "phase2": two}
def report_unknown(kind: str, system_text: str, time_limit: float | None, reason: str, as_json: bool) -> None:
    """Z3 gave no answer: say so (verdict `unknown`) and exit 1, since nothing was proved."""
    why = f"no answer within --time-limit {time_limit:g} s" if time_limit is not None else f"Z3 gave up ({reason})"
    if as_json:
        click.echo(json.dumps({"kind": kind, "system": system_text, "verdict": "unknown", "reason": why}, indent=2))
    else:
        click.echo(f"system:  {system_text}\nverdict: unknown - {why}; nothing was proved")
    raise SystemExit(EXIT_FAILED)


def run_checks(kind: str, system_text: str, checks: list[Check], as_json: bool) -> None:
    """Run the checks in a helper thread (so Ctrl-C and --time-limit stop Z3 at once); report."""
    meta = click.get_current_context().meta
    time_limit = meta.get("agree_time_limit")
    deadline = None if time_limit is None else meta.get("agree_started", time.monotonic()) + time_limit

    def solve() -> list:
        return [(check_intersection(c.first, c.second, c.at_least, label=c.label,
                                    timeout=None if deadline is None else max(0.001, deadline - time.monotonic())),
                 c.required) for c in checks]
    z3.set_param("ctrl_c", False)  # Ctrl-C belongs to agree, which interrupts Z3 and exits 130
    try:
        results = run_beside(solve, deadline, interrupt_solves)
    except (Undecided, TimeoutError) as err:
        report_unknown(kind, system_text, time_limit, str(err), as_json)
    required = [r for r, needed in results if needed]
    failed = [r for r in required if not r.holds]
    if as_json:
        systems = list(dict.fromkeys(s for c in checks for s in (c.first, c.second)))
        click.echo(json.dumps({
            "kind": kind, "system": system_text, "systems": [s.to_dict() for s in systems],
            "at_least": max(c.at_least for c in checks),
            "verdict": "disjoint" if failed else "intersect",
            "min_intersection": min(r.min_intersection for r in required),
            "witness": failed[0].witness if failed else None,
            "checks": [{**r.to_dict(), "first": r.first.describe(), "second": r.second.describe(),
                        "required": needed} for r, needed in results],
            **quorum_lists(checks[0]),
        }, indent=2))
    else:
        click.echo(f"system:  {system_text}")
        for result, needed in results:
            block = result.describe(systems=False)
            click.echo(block if needed else block.replace("check:   ", "check:   (for contrast, not required) ", 1))
        if len(required) > 1:
            click.echo(f"{len(required) - len(failed)} of {len(required)} required checks hold")
    raise SystemExit(EXIT_FAILED if failed else EXIT_OK)
