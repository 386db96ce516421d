"""`agree verify`: run a suite of expectations and print a table."""

from __future__ import annotations

import click

from explorer.cli.common import EXIT_FAILED, EXIT_OK, emit_json, interrupted_exit_code, parse_workers, write_output
from explorer.engines.interrupts import held_interrupts
from explorer.cli.suite import Outcome, default_suite, load_suite, run_expectation
from explorer.engines.progress import StderrProgress
from explorer.traces.suite_html import render_suite_html

COLUMNS = ("model", "variant", "expected", "result", "states", "time")
WIDTHS = (24, 26, 22, 38, 10, 8)


def _row(cells) -> str:
    return "  ".join(f"{str(c):<{w}}" if i < 4 else f"{str(c):>{w}}" for i, (c, w) in enumerate(zip(cells, WIDTHS)))


def _cells(o: Outcome) -> tuple:
    e = o.expectation
    if e.kind == "replay":
        name = e.trace.rsplit("/", 1)[-1]
        return ("replay", name[:WIDTHS[1]], "reproduces", o.result, "", f"{o.seconds:.2f}s")
    expected = e.expect + (f": {e.prop}" if e.prop and e.expect == "violated" else "")
    params = ",".join(f"{k}={v}" for k, v in e.params.items())
    model = e.model + (f"({params})" if params else "")
    return (model, e.variant or "-", expected, o.result, f"{o.states:,}" if o.states is not None else "",
            f"{o.seconds:.2f}s")


@click.command("verify")
@click.option("--config", "config", metavar="FILE",
              help="A suite file (TOML or JSON) of [[check]] and [[replay]] entries; see the README.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of outcomes instead of a table.")
@click.option("--workers", default="1", show_default=True, callback=lambda ctx, p, v: parse_workers(v),
              help="Processes sharing each large BFS level (a number, or auto: one per usable core).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False),
              help="Also write a self-contained HTML report: every expectation, each trace one click away.")
def verify_command(config: str | None, as_json: bool, workers: int, quiet: bool, html_file: str | None) -> None:
    """Run a suite: the project's own by default (every model holds, every variant is caught,
    every stored counterexample replays). Exit 0 when every expectation is met, 1 otherwise."""
    suite = load_suite(config) if config is not None else default_suite()
    outcomes = []
    if not as_json:
        click.echo(_row(COLUMNS))
    interrupted = False
    for expectation in suite:
        progress = None if quiet else StderrProgress()
        try:
            outcome = run_expectation(expectation, progress, workers)
        except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) stops the whole suite, not one check
            interrupted = True
        finally:
            if progress is not None:
                progress.finish()
        if interrupted or outcome.interrupted:
            interrupted = True
            break
        outcomes.append(outcome)
        if not as_json:
            click.echo(_row(_cells(outcome)) + ("" if outcome.met else f"   <- NOT MET: {outcome.detail}"))
    with held_interrupts():
        failed = summarize(outcomes, len(suite), as_json, interrupted)
        if html_file:
            write_output(html_file, render_suite_html(COLUMNS, [
                {"cells": _cells(o), "met": o.met, "detail": o.detail, "trace": o.trace} for o in outcomes]))
    if interrupted:
        raise SystemExit(interrupted_exit_code())
    raise SystemExit(EXIT_FAILED if failed else EXIT_OK)


def summarize(outcomes: list[Outcome], planned: int, as_json: bool, interrupted: bool) -> list[Outcome]:
    """Print the outcomes (a JSON list, or the summary under the table); return those not met."""
    failed = [o for o in outcomes if not o.met]
    if as_json:
        emit_json([{"kind": o.expectation.kind, "model": o.expectation.model or None,
                    "variant": o.expectation.variant, "trace": o.expectation.trace,
                    "expect": o.expectation.expect, "property": o.expectation.prop,
                    "met": o.met, "result": o.result, "states": o.states, "seconds": round(o.seconds, 3),
                    "detail": o.detail} for o in outcomes])
    else:
        click.echo(f"\n{len(outcomes) - len(failed)} of {len(outcomes)} expectations met"
                   + (f"; {len(failed)} not met" if failed else ""))
    if interrupted:
        click.echo(f"agree: interrupted after {len(outcomes)} of {planned} expectations; the rest did not run",
                   err=True)
    return failed
