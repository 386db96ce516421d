"""`agree explore`: click through a model's states in a browser, served from this machine."""

from __future__ import annotations

import click

from agree.explorer.cli.common import Terminated, parse_params
from agree.explorer.engines.diagnose import check_init, guarded
from agree.explorer.web.server import LOOPBACK, ExplorerServer
from agree.explorer.web.session import Session
from agree.models.registry import build_model
from agree.explorer.traces.format import load_trace, trace_to_json


@click.command("explore")
@click.argument("model")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set a model parameter (repeatable); `agree list MODEL` shows them.")
@click.option("--variant", help="Explore a named broken variant of the model.")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False),
              help="Start on the path of this trace file (a trace of the same model, parameters and variant).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but a loopback address lets others on the network drive it.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one.")
def explore_command(model: str, params: tuple[str, ...], variant: str | None, trace_file: str | None,
                    host: str, port: int) -> None:
    """Serve a page that shows MODEL's current state, its enabled steps as buttons, the path so far
    as a sequence diagram and every property on the current state (red when violated). Step
    forward and back, jump, load a trace, ask the checker for a counterexample, save the path as
    a trace for `agree replay`. Ctrl-C stops the server."""
    instance = build_model(model, parse_params(params), variant)
    check_init(instance)
    session = guarded(instance, "starting the explorer on its initial states", lambda: Session(instance, model))
    if trace_file:
        trace = load_trace(trace_file)
        session.check_same_model(trace, trace_file)
        session.load(trace_to_json(trace), trace_file)
    server = ExplorerServer(session, host, port)
    if host not in LOOPBACK:
        click.echo(f"agree: warning: listening on {host}, not on this machine only: anyone who can reach "
                   "this address can use the explorer and make it run searches", err=True)
    try:  # Ctrl-C is how the server ends, even right after it starts: exit 0
        click.echo(f"agree explore: {server.url} (Ctrl-C stops)")
        server.serve_forever()
    except Terminated:
        raise
    except KeyboardInterrupt:
        click.echo("agree explore: stopped", err=True)
    finally:
        server.server_close()
