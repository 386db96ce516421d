"""`agree fuzz`: seeded random runs through the Hypothesis bridge, for models too big to exhaust."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from agree.explorer.cli.common import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, emit_json, model_prints_to_stderr,
                                      parse_params, path_value)
from agree.explorer.engines.fuzzing.limits import DEFAULT_EXAMPLES, DEFAULT_STEPS, MAX_STEPS
from agree.explorer.engines.result import REACHED, VIOLATED
from agree.explorer.traces.report import render_result, result_to_json, verdict_line
from agree.models.registry import build_model, builtin_name
from agree.properties import files
from agree.properties.errors import InputError
from agree.explorer.traces.format import write_trace

if TYPE_CHECKING:
    from agree.explorer.engines.fuzzing.fuzz import FuzzOutcome


@click.command("fuzz")
@click.argument("model")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set a model parameter (repeatable); `agree list MODEL` shows them.")
@click.option("--variant", help="Fuzz a named broken variant of the model.")
@click.option("--examples", type=int,
              help=f"Runs to make in each process (fresh ones, and guided ones that continue a kept run); "
                   f"default {DEFAULT_EXAMPLES}, or as many as fit in --time-limit.")
@click.option("--steps", type=int, default=DEFAULT_STEPS, show_default=True,
              help=f"Most steps in one run, at most {MAX_STEPS:,} (Hypothesis draws a run from a bounded buffer).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same runs.")
@click.option("--time-limit", type=float,
              help="Stop after this many seconds; without --examples, runs go on until then.")
@click.option("--workers", default="1", show_default=True, metavar="N|auto",
              help="Processes searching at once with seeds derived from --seed (auto: one per usable core); "
                   "the first violation stops them all.")
@click.option("--worker-seed", type=int, metavar="SEED",
              help="Replay one worker's search in this process: the seed a --workers report names.")
@click.option("--property", "only", multiple=True, help="Check only this property (repeatable).")
@click.option("--save-trace", type=click.Path(dir_okay=False), callback=path_value,
              help="Write the (shrunk) counterexample here (JSON).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the shape of `agree check --json`).")
@click.option("--guide/--no-guide", default=True, show_default=True,
              help="Let every other run continue a kept run that reached a new state feature (deep bugs), "
                   "or start every run afresh.")
@click.option("--quiet", is_flag=True, help="No progress lines; print only the verdict line (not with --json).")
def fuzz_command(model, params, variant, examples, steps, seed, time_limit, workers, worker_seed, only, save_trace,
                 as_json, guide, quiet) -> None:
    """Run MODEL through Hypothesis's stateful testing: seeded random runs, shrunk counterexamples.

    A fresh run starts in an initial state and takes up to --steps enabled steps, with a few
    actions switched off at random (swarm testing). With --guide (the default) half the runs
    instead continue a kept run, one that first reached a new state feature, by up to 24 steps:
    deep bugs are reached a few steps at a time. Every invariant and transition property is judged
    after each step; a trace always starts in an initial state. A violation is shrunk (by
    Hypothesis, then by delta debugging over the steps) and exits 1. Random search never exhausts a
    state space, so without a violation the verdict is `incomplete` (exit 0), saying how much was
    tried and which @reachable guards were reached. With --time-limit and no --examples, runs go on
    until the limit. With --workers, that many processes search at once and the report names the
    worker and seed that found the violation (--worker-seed replays it alone).
    """
    started = time.monotonic()  # the time limit counts from here, loading Hypothesis and the model included
    if save_trace is not None:
        files.check_writable(save_trace, "--save-trace file")  # refused before fuzzing, not after
    instance = build_model(model, parse_params(params), variant)
    from agree.explorer.engines.fuzzing.fuzz import fuzz  # Hypothesis loads only when fuzzing
    from agree.explorer.engines.fuzzing.workers import workers_for

    try:
        count = 1 if worker_seed is not None else workers_for(workers)
    except ValueError:
        raise InputError(f"--workers must be a whole number of at least 1 or auto, got {workers}") from None
    with model_prints_to_stderr(as_json):
        outcome = fuzz(instance, examples=examples, steps=steps, seed=seed if worker_seed is None else worker_seed,
                       time_limit=time_limit, only=list(only) or None, model_ref=builtin_name(model) or model,
                       progress=None if quiet else _progress, guide=guide, workers=count, started=started)
    result = outcome.result
    violation = result.violation
    if save_trace is not None:
        if violation is not None and violation.trace is not None:
            write_trace(violation.trace, save_trace)
            click.echo(f"agree: counterexample written to {save_trace}", err=True)
        else:
            click.echo("agree: no counterexample to save", err=True)
    if as_json:
        data = result_to_json(result)
        data["fuzz"] = _summary(outcome)
        emit_json(data)
    elif quiet:
        click.echo(f"verdict: {verdict_line(result)}")
    else:
        click.echo(render_result(result, instance))
        click.echo(_tried(outcome))
        if outcome.worker is not None:
            replay = " ".join([f"agree fuzz {model}", *(f"-p {p}" for p in params),
                               *([f"--variant {variant}"] if variant else []), *(f"--property {p}" for p in only),
                               f"--steps {steps}", f"--worker-seed {outcome.worker_seed}",
                               *([f"--examples {examples}"] if examples is not None else []),
                               *([f"--time-limit {time_limit:g}"] if time_limit else []),
                               *([] if guide else ["--no-guide"])])
            click.echo(f"found by worker {outcome.worker} of {outcome.workers} (seed {outcome.worker_seed}); "
                       f"replay it in one process: {replay}")
    if result.verdict == VIOLATED:
        raise SystemExit(EXIT_FAILED)
    if result.stopped_by == "interrupted":
        raise SystemExit(EXIT_INTERRUPTED)
    raise SystemExit(EXIT_OK)


def _summary(outcome: FuzzOutcome) -> dict:
    result = outcome.result
    violation = result.violation
    trace = violation.trace if violation is not None else None
    return {"seed": outcome.seed, "workers": outcome.workers, "worker": outcome.worker,
            "worker_seed": outcome.worker_seed, "runs": outcome.runs, "steps": outcome.steps, "kept_runs": outcome.kept,
            "guards_reached": [n for n, p in result.properties.items() if p.status == REACHED],
            "trace_length_found": trace.extra.get("shrunk_from", len(trace)) if trace is not None else None,
            "trace_length_shrunk": len(trace) if trace is not None else None}


def _tried(outcome: FuzzOutcome) -> str:
    summary = _summary(outcome)
    kept = f" ({summary['kept_runs']:,} run prefixes kept)" if summary["kept_runs"] is not None else ""
    processes = f", {outcome.workers} workers" if outcome.workers > 1 else ""
    line = (f"tried {summary['runs']:,} runs{kept}, {summary['steps']:,} steps (seed {summary['seed']}{processes}); "
            f"guards reached: "
            f"{', '.join(summary['guards_reached']) or 'none'}")
    if summary["trace_length_found"] is not None:
        line += f"; counterexample shrunk from {summary['trace_length_found']} to {summary['trace_length_shrunk']} steps"
    return line


def _progress(runs: int, steps: int, states: int, found_in: int | None = None) -> None:
    """A progress line on stderr; with workers, also the moment a violation is found (in run `found_in`)."""
    if found_in is not None:
        click.echo(f"fuzz: a violation was found in run {found_in:,} of a worker; the others finish that many runs",
                   err=True)
    click.echo(f"fuzz: {runs:,} runs, {steps:,} steps, {states:,} distinct states", err=True)
