"""`agree replay` and `agree show`: stored traces, re-run and drawn."""

from __future__ import annotations

import click

from explorer.cli.common import EXIT_FAILED, EXIT_OK, emit_json, write_output
from explorer.traces.html import render_html
from explorer.traces.render import RENDERERS
from explorer.traces.replay import replay
from explorer.engines.trace import load_trace
from models.registry import build_model
from properties.errors import InputError


@click.command("replay")
@click.argument("trace_file", metavar="TRACE")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def replay_command(trace_file: str, as_json: bool) -> None:
    """Re-run TRACE against today's model.

    Exit 0 when every step matches and the recorded property is still violated at the end, 1 when
    the trace diverges or no longer violates it, 2 when the file is missing or malformed.
    """
    trace = load_trace(trace_file)
    outcome = replay(trace)
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
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True,
              help="text: per-step state changes; mermaid: a sequence diagram (or a step flowchart); "
                   "html: one self-contained page (diagram, steps, highlighted states).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def show_command(trace_file: str, fmt: str, output: str | None) -> None:
    """Draw TRACE for people: `--format mermaid` output renders on GitHub inside ```mermaid fences;
    `--format html -o FILE` writes a page to open in any browser, with no network needed."""
    trace = load_trace(trace_file)
    try:
        model = build_model(trace.model, trace.params, trace.variant)
    except InputError:
        model = None  # the drawing falls back to what the trace itself says
    text = FORMATS[fmt](trace.to_json(), model)
    if output:
        write_output(output, text)
    else:
        click.echo(text)
