"""`agree list` and `agree check`."""

from __future__ import annotations

import click

from explorer.engines.check import STRATEGIES, check
from explorer.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, emit_json, parse_params, parse_workers
from explorer.engines.progress import StderrProgress
from explorer.engines.random_walk import DEFAULT_WALKS
from explorer.traces.report import render_result, result_to_json
from explorer.traces.shrink import shrink_result
from explorer.engines.result import INCOMPLETE, VIOLATED, Bounds
from models.registry import build_model, builtin_models, load_model_class


def describe_class(cls) -> dict:
    return {
        "name": cls.name,
        "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else "",
        "params": {k: {"type": p.type.__name__, "default": p.default, "help": p.help}
                   for k, p in cls.params.items()},
        "properties": [{"name": p.name, "kind": p.kind, "doc": p.doc} for p in cls.properties()],
        "actions": list(getattr(cls, "actions", ())),
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
        click.echo(f"{d['name']}: {d['summary']}")
        click.echo("  parameters: " + (", ".join(f"{k}={p['default']} ({p['help']})" for k, p in d["params"].items())
                                       or "none"))
        click.echo("  properties:")
        for p in d["properties"]:
            click.echo(f"    {p['name']:<28} {p['kind']:<10} {p['doc']}")
        if d["variants"]:
            click.echo("  variants:")
            for name, v in d["variants"].items():
                breaks = f"breaks {v['breaks']}" if v["breaks"] else "should still hold"
                defaults = f"; defaults {v['defaults']}" if v["defaults"] else ""
                click.echo(f"    {name:<28} {breaks}: {v['says']} (changes {', '.join(v['changes'])}{defaults})")
        click.echo("")


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
              help="Processes sharing each large BFS level: a number, or auto (one per usable core). "
                   "Results are the same as with 1.")
@click.option("--fingerprints", is_flag=True,
              help="Store 64-bit hashes of states instead of the states (far less memory; the verdict "
                   "then gives the chance that a hash collision hid a state).")
@click.option("--property", "only", multiple=True, help="Check only this property (repeatable).")
@click.option("--keep-going", is_flag=True, help="After a violation, go on checking the other properties.")
@click.option("--walks", type=int, default=DEFAULT_WALKS, show_default=True, help="Random walks (--strategy random).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --strategy random.")
@click.option("--require-exhausted", is_flag=True, help="Exit 1 unless the search was exhausted.")
@click.option("--save-trace", type=click.Path(dir_okay=False), help="Write the counterexample here (JSON).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
def check_command(model, params, variant, strategy, max_depth, max_states, time_limit, symmetry, workers,
                  fingerprints, only, keep_going, walks, seed, require_exhausted, save_trace, as_json,
                  quiet) -> None:
    """Search every interleaving of MODEL within bounds and judge each property.

    MODEL is a built-in name (`agree list`), path/to/file.py:ClassName or package.module:ClassName.
    The verdict is `holds` only when the search was exhausted; a search stopped by a bound is
    `incomplete`. Exit 0 unless a property fails (1); --require-exhausted makes `incomplete` 1 too.
    """
    instance = build_model(model, parse_params(params), variant)
    progress = None if quiet else StderrProgress()
    result = check(instance, strategy=strategy, bounds=Bounds(max_depth, max_states, time_limit),
                   symmetry=symmetry, only=list(only) or None, keep_going=keep_going, walks=walks,
                   seed=seed, model_ref=model, progress=progress, workers=workers, fingerprints=fingerprints)
    if progress is not None:
        progress.finish()
    if strategy != "bfs":  # BFS traces are shortest already; DFS and random ones are shrunk
        shrink_result(result, instance)
    violation = result.violation
    if save_trace:
        if violation is not None and violation.trace is not None:
            violation.trace.save(save_trace)
            click.echo(f"agree: counterexample written to {save_trace}", err=True)
        else:
            click.echo("agree: no counterexample to save", err=True)
    if as_json:
        emit_json(result_to_json(result))
    else:
        click.echo(render_result(result, instance))
    if result.verdict == VIOLATED:
        raise SystemExit(EXIT_FAILED)
    if result.stopped_by == "interrupted":
        raise SystemExit(EXIT_INTERRUPTED)
    if require_exhausted and result.verdict == INCOMPLETE:
        raise SystemExit(EXIT_FAILED)
    raise SystemExit(EXIT_OK)
