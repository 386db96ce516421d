"""`agree replay` and `agree show`: stored traces, re-run and drawn.

A trace is data. Its model is resolved by name only when it is built in; for a model of your own
the command needs `--model path/to/file.py:Class` (or `package.module:Class`), so that opening a
trace someone sent you never runs code you did not choose."""

from __future__ import annotations

import click

from agree.explorer.cli.common import EXIT_FAILED, EXIT_OK, emit_json, path_value, write_output
from agree.properties import files
from agree.explorer.engines.diagnose import guarded
from agree.explorer.traces.html import render_html

from agree.explorer.traces.render import RENDERERS
from agree.explorer.traces.replay import model_for, replay
from agree.models.registry import builtin_name
from agree.properties.errors import InputError
from agree.explorer.traces.format import load_trace, trace_to_json

MODEL = click.option("--model", "model_spec", metavar="FILE.py:CLASS|MODULE:CLASS",
                     help="The model to use, needed for a trace of your own model (a trace never makes "
                          "agree import code); built-in models resolve by themselves.")


@click.command("replay")
@click.argument("trace_file", metavar="TRACE")
@MODEL
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def replay_command(trace_file: str, model_spec: str | None, as_json: bool) -> None:
    """Re-run TRACE against today's model.

    Exit 0 when every step matches and the recorded property is still violated at the end, 1 when
    the trace diverges or no longer violates it, 2 when the file is missing or malformed.
    """
    trace = load_trace(trace_file)
    model = model_for(trace, model_spec)
    outcome = guarded(model, "replaying the trace", lambda: replay(trace, model))
    if as_json:
        emit_json({"trace": trace_file, "model": trace.model, "variant": trace.variant,
                   "property": trace.property, "reproduces": outcome.reproduces,
                   "steps_matched": outcome.steps_matched, "steps": len(trace.steps), "message": outcome.message})
    else:
        click.echo(f"{trace_file}: {outcome.message}")
    raise SystemExit(EXIT_OK if outcome.reproduces else EXIT_FAILED)


FORMATS = {**RENDERERS, "html": render_html}


@click.command("show")
@click.argument("trace_file", metavar="TRACE")
@MODEL
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="text: per-step state changes; mermaid: a sequence diagram (or a step flowchart); "
                   "html: one self-contained page (diagram, steps, highlighted states).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), callback=path_value,
              help="Write to this file instead of stdout.")
def show_command(trace_file: str, model_spec: str | None, fmt: str, output: str | None) -> None:
    """Draw TRACE for people: `--format mermaid` output renders on GitHub inside ```mermaid fences;
    `--format html -o FILE` writes a page to open in any browser, with no network needed.

    Without a model (a trace of your own model and no --model) it is drawn from the file alone."""
    if output is not None:
        files.check_writable(output, "output file")  # refused before the trace is read, not after
    trace = load_trace(trace_file)
    model = None
    if model_spec is not None:
        model = model_for(trace, model_spec)
    elif builtin_name(trace.model) is not None:
        try:
            model = model_for(trace)
        except InputError:
            model = None  # parameters today's model refuses: draw from what the trace itself says
    elif fmt != "text":
        click.echo(f"agree: drawn from the trace alone; add --model {trace.model} to draw it as the model does",
                   err=True)
    text = guarded(model, "drawing the trace", lambda: FORMATS[fmt](trace_to_json(trace), model)) \
        if model is not None else FORMATS[fmt](trace_to_json(trace), None)
    if output is not None:
        write_output(output, text)
    else:
        click.echo(text)
