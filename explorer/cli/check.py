"""`agree list` and `agree check`."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
import time

import click

from agree.explorer.engines.check import check
from agree.explorer.engines.interrupts import held_interrupts
from agree.explorer.engines.options import BACKENDS, DEFAULT_WALKS, STRATEGIES, Options, Parallel, Storage
from agree.explorer.cli.common import (EXIT_FAILED, EXIT_OK, emit_json, interrupted_exit_code, model_prints_to_stderr,
                                      parse_params, parse_workers, path_value)
from agree.explorer.engines.progress import StderrProgress
from agree.explorer.traces.render import render_text
from agree.explorer.traces.report import render_result, result_to_json, verdict_line
from agree.explorer.engines.result import INCOMPLETE, VIOLATED, Bounds
from agree.models.contract import LIVENESS_KINDS
from agree.models.registry import build_model, builtin_models, builtin_name, load_model_class
from agree.properties import files
from agree.properties.errors import InputError
from agree.explorer.traces.format import trace_to_json, write_trace


def deadlock_text(result, instance) -> str:
    """The shortest path to the first dead end found, for --show-deadlock."""
    if result.dead_end is None:
        counted = "were not counted (BFS counts them)" if result.dead_ends is None else "were found"
        return f"\nno dead ends {counted}"
    return f"\nshortest path to a dead end ({len(result.dead_end)} steps):\n" + \
        render_text(trace_to_json(result.dead_end), instance) + "\n  => no step is enabled here"


def _fairness_of(cls, prop) -> dict:
    """A liveness property's fairness (its own or the model's), for `agree list --json`."""
    if prop.kind not in LIVENESS_KINDS:
        return {}
    return {"fairness": [f.describe() for f in (prop.fairness if prop.fairness is not None else cls.fairness)]}


def describe_class(cls) -> dict:
    return {
        "name": cls.name,
        "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
        "params": {k: {"type": p.type.__name__, "default": p.default, "help": p.help}
                   for k, p in cls.params.items()},
        "properties": [{"name": p.name, "kind": p.kind, "doc": p.doc, **_fairness_of(cls, p)}
                       for p in cls.properties()],
        "fairness": [f.describe() for f in cls.fairness],
        "actions": list(cls.actions),
        "variants": {name: {"changes": list(v.rules), "breaks": v.breaks, "says": v.says,
                            "defaults": v.defaults}
                     for name, v in cls.variants().items()},
    }


@click.command("list")
@click.argument("model", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def list_command(model: str | None, as_json: bool) -> None:
    """Show the models (or one MODEL): parameters with defaults, variants and properties."""
    classes = [load_model_class(model)] if model else list(builtin_models().values())
    described = [describe_class(cls) for cls in classes]
    if as_json:
        emit_json(described)
        return
    for d in described:
        click.echo(_wrapped(f"{d['name']}: {d['summary']}", ""))
        click.echo(_wrapped("parameters: " + (", ".join(f"{k}={p['default']} ({p['help']})"
                                                      for k, p in d["params"].items()) or "none"), "  "))
        if d["fairness"]:
            click.echo(_wrapped("fairness: " + ", ".join(d["fairness"]), "  "))
        click.echo("  properties:")
        for p in d["properties"]:
            click.echo(_wrapped(f"{p['name']:<28} {p['kind']:<10} {p['doc']}", "    ", 40))
        if d["variants"]:
            click.echo("  variants:")
            for name, v in d["variants"].items():
                breaks = f"breaks {v['breaks']}" if v["breaks"] else "should still hold"
                defaults = f"; defaults {v['defaults']}" if v["defaults"] else ""
                changes = ", ".join(v["changes"]) or "no rule, only parameters"
                click.echo(_wrapped(f"{name:<28} {breaks}: {v['says']} (changes {changes}{defaults})", "    ", 29))
        click.echo("")


def _wrapped(text: str, indent: str, hang: int = 2) -> str:
    """Text wrapped to the terminal's width (at most 100 columns), continuation lines indented under
    the description, so nothing is cut."""
    width = max(60, min(100, shutil.get_terminal_size((100, 24)).columns))
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent + " " * hang,
                         break_on_hyphens=False)


@click.command("check")
@click.argument("model")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set a model parameter (repeatable); `agree list MODEL` shows them.")
@click.option("--variant", help="Check a named broken variant of the model.")
@click.option("--strategy", type=click.Choice(STRATEGIES), default="bfs", show_default=True,
              help="bfs: exhaustive, shortest counterexamples; dfs: depth-first; random: seeded walks.")
@click.option("--max-depth", type=int, help="Explore paths of at most this many states (initial = 1).")
@click.option("--max-states", type=int, help="Stop after this many distinct states.")
@click.option("--time-limit", type=float, help="Stop after this many seconds.")
@click.option("--symmetry", is_flag=True, help="Reduce by the model's symmetry (if it offers one).")
@click.option("--workers", default="1", show_default=True, callback=lambda ctx, p, v: parse_workers(v),
              help="Partition the BFS among this many processes (each owns the states whose hash "
                   "falls to it): a number, or auto (one per usable core). Results are the same as with 1.")
@click.option("--backend", type=click.Choice(BACKENDS), default="local", show_default=True,
              help="Where the workers run: local processes, or Ray actors (pip install -e \".[ray]\").")
@click.option("--address", metavar="HOST:PORT",
              help="With --backend ray: the Ray cluster to join (default: start Ray on this machine).")
@click.option("--checkpoint", metavar="DIR",
              help="Save the BFS in DIR at level boundaries, so --resume DIR can continue it if killed.")
@click.option("--checkpoint-every", type=float, default=60.0, show_default=True, metavar="SECONDS",
              help="At most one checkpoint per this many seconds (0: after every level).")
@click.option("--resume", metavar="DIR",
              help="Continue the search saved in DIR by --checkpoint (same model, parameters, options).")
@click.option("--fingerprints", is_flag=True,
              help="Store 64-bit hashes of states instead of the states (far less memory; the verdict "
                   "then gives the chance that a hash collision hid a state).")
@click.option("--property", "only", multiple=True, help="Check only this property (repeatable).")
@click.option("--keep-going", is_flag=True, help="After a violation, go on checking the other properties.")
@click.option("--walks", type=int, default=DEFAULT_WALKS, show_default=True, help="Random walks (--strategy random).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --strategy random.")
@click.option("--require-exhausted", is_flag=True, help="Exit 1 unless the search was exhausted.")
@click.option("--save-trace", metavar="FILE", callback=path_value, help="Write the counterexample here (JSON).")
@click.option("--show-deadlock", is_flag=True,
              help="Show the shortest path to a state with no step at all (BFS), if there is one.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--quiet", is_flag=True, help="No progress lines; print only the verdict line (not with --json).")
def check_command(model, params, variant, strategy, max_depth, max_states, time_limit, symmetry, workers,
                  backend, address, checkpoint, checkpoint_every, resume, fingerprints, only, keep_going, walks, seed, require_exhausted, save_trace, show_deadlock,
                  as_json, quiet) -> None:
    """Search every interleaving of MODEL within bounds and judge each property.

    MODEL is a built-in name (`agree list`), path/to/file.py:ClassName or package.module:ClassName.
    The verdict is `holds` only when the search was exhausted; a search stopped by a bound is
    `incomplete`. Liveness (@eventually, @leads_to) is judged on the graph of an exhausted BFS. Exit 0 unless a property fails (1); --require-exhausted makes `incomplete` 1 too.
    """
    started = time.monotonic()  # every bound counts from here, the model's own setup included
    bounds = Bounds(max_depth, max_states, time_limit)
    options = Options(strategy=strategy, bounds=bounds, symmetry=symmetry, only=tuple(only) or None,
                      keep_going=keep_going, walks=walks, seed=seed,
                      parallel=Parallel(workers, backend, address),
                      storage=Storage(fingerprints, checkpoint, resume, checkpoint_every))
    if save_trace is not None and os.path.isdir(save_trace):
        if not keep_going:
            raise InputError(f"--save-trace {save_trace} is a directory: with --keep-going it receives one file per "
                             "violated property; otherwise give the path of a file")
    elif save_trace is not None:
        files.check_writable(save_trace, "--save-trace file")  # refused before the search, not after
    progress = None if quiet else StderrProgress()
    with model_prints_to_stderr(as_json):
        instance = build_model(model, parse_params(params), variant)
        result = check(instance, options, model_ref=builtin_name(model) or model, progress=progress, started=started)
    with held_interrupts():  # a counterexample found is saved and shown, even on a second Ctrl-C
        report(result, instance, progress, save_trace, as_json, show_deadlock, quiet)
    if result.verdict == VIOLATED:
        raise SystemExit(EXIT_FAILED)  # also when interrupted after the violation was found
    if result.stopped_by == "interrupted":
        raise SystemExit(interrupted_exit_code())
    if require_exhausted and result.verdict == INCOMPLETE:
        raise SystemExit(EXIT_FAILED)
    raise SystemExit(EXIT_OK)


def report(result, instance, progress, save_trace: str | None, as_json: bool, show_deadlock: bool,
           quiet: bool = False) -> None:
    """Save the counterexample (when asked) and print the result (with the path to a dead end);
    `quiet` prints the verdict line alone, for scripts and CI logs that want one line."""
    if progress is not None:
        progress.finish()
    if save_trace is not None:
        save_counterexamples(result, save_trace)
    if as_json:
        data = result_to_json(result)
        if show_deadlock:
            data["dead_end"] = trace_to_json(result.dead_end) if result.dead_end is not None else None
        emit_json(data)
    else:
        click.echo(f"verdict: {verdict_line(result)}" if quiet else render_result(result, instance))
        if show_deadlock:
            click.echo(deadlock_text(result, instance))


def save_counterexamples(result, target: str) -> None:
    """The counterexample to `target`; when `target` is a folder (with --keep-going), one file per
    violated property, named MODEL--PROPERTY.json."""
    found = [p for p in result.properties.values() if p.status == VIOLATED and p.trace is not None]
    if not found:
        click.echo("agree: no counterexample to save", err=True)
        return
    if not os.path.isdir(target):
        write_trace(result.violation.trace, target)
        click.echo(f"agree: counterexample written to {target}", err=True)
        return
    model = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(result.model).rpartition(":")[2] or result.model)
    for prop in found:
        path = os.path.join(target, f"{model}--{prop.name}.json")
        write_trace(prop.trace, path)
        click.echo(f"agree: counterexample of {prop.name} ({len(prop.trace)} steps) written to {path}", err=True)
