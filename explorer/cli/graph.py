"""`agree graph`: the explored state graph of a small configuration, for looking at it.

Every reachable state is a node, annotated with the value of each property in it (an
`@eventually` goal, an invariant, a reachable guard; for leads-to `p` and `q`), whether it is
initial and whether it is a dead end (no step leads to another state); every step is an edge
with its action, its arguments and the fairness groups it belongs to. networkx writes GraphML
and node-link JSON; DOT is written here (networkx's DOT writer needs pydot or pygraphviz, which
agree does not depend on).
"""

from __future__ import annotations

import json
import time

from typing import TYPE_CHECKING

import click

from agree.explorer.cli.common import model_prints_to_stderr, parse_params, path_value
from agree.explorer.engines.diagnose import check_init, guarded
from agree.explorer.engines.encoding import encode
from agree.explorer.engines.liveness.judge import explored_graph
from agree.explorer.engines.result import Bounds
from agree.explorer.engines.watchdog import OutOfTime, watchdog
from agree.models.contract import LEADS_TO
from agree.models.registry import build_model
from agree.properties import files
from agree.properties.errors import InputError

if TYPE_CHECKING:  # networkx loads only when a graph is written: every other command starts faster
    import networkx as nx

DEFAULT_LIMIT = 2000  # states: above this a picture no longer teaches anything


def to_networkx(model, graph) -> nx.MultiDiGraph:
    """The state graph with its annotations as a networkx multigraph (nodes s0, s1, ...)."""
    import networkx as nx

    out = nx.MultiDiGraph(model=model.label(), params=json.dumps(model.parameters),
                          fairness="; ".join(f.describe() for f in type(model).fairness))
    index = {state: i for i, state in enumerate(graph.states)}
    specs = [s for s in type(model).properties() if s.kind != "transition"]
    for i, state in enumerate(graph.states):
        attrs = {"label": json.dumps(encode(model.view(state)), separators=(",", ":")),
                 "initial": i < graph.initial, "dead_end": bool(graph.moves[i] == 0)}
        for spec in specs:
            value = getattr(model, spec.method)(state)
            if spec.kind == LEADS_TO:
                attrs[f"{spec.name}.p"], attrs[f"{spec.name}.q"] = bool(value[0]), bool(value[1])
            else:
                attrs[spec.name] = bool(value)
        out.add_node(f"s{i}", **attrs)
    names = graph.fairness.names
    for i, state in enumerate(graph.states):
        for action, args, succ in model.next(state):
            j = index.get(succ)
            if j is None:
                continue  # beyond the model's bounds
            groups = graph.fairness.of(action, args) if succ != state else 0
            out.add_edge(f"s{i}", f"s{j}", action=action, args=json.dumps(encode(args), separators=(",", ":")),
                         fair=", ".join(n for b, n in enumerate(names) if groups >> b & 1))
    return out


def to_dot(g: nx.MultiDiGraph) -> str:
    def quote(text) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {quote(g.graph['model'])} {{", "  node [shape=box, fontsize=9];"]
    for node, attrs in g.nodes(data=True):
        extra = {k: v for k, v in attrs.items() if k != "label"}
        style = ", peripheries=2" if attrs["initial"] else ""
        style += ", color=red" if attrs["dead_end"] else ""
        text = attrs["label"] + "\\n" + " ".join(f"{k}={int(v)}" for k, v in extra.items())
        lines.append(f"  {node} [label={quote(text)}{style}];")
    for u, v, attrs in g.edges(data=True):
        label = attrs["action"] + (attrs["args"] if attrs["args"] != "{}" else "")
        style = ", style=bold" if attrs["fair"] else ""
        lines.append(f"  {u} -> {v} [label={quote(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(g: nx.MultiDiGraph, fmt: str) -> str:
    import networkx as nx

    if fmt == "dot":
        return to_dot(g)
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(g)) + "\n"
    return json.dumps(nx.node_link_data(g, edges="edges"), indent=1) + "\n"


@click.command("graph")
@click.argument("model")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Set a model parameter.")
@click.option("--variant", help="Draw a named variant of the model.")
@click.option("--format", "fmt", type=click.Choice(["dot", "graphml", "json"]), default="dot", show_default=True)
@click.option("--output", "-o", callback=path_value, metavar="FILE", help="Write here instead of to stdout.")
@click.option("--max-states", type=int, default=DEFAULT_LIMIT, show_default=True,
              help="Refuse graphs with more states than this (raise it to export a larger one).")
@click.option("--time-limit", type=float, metavar="SECONDS",
              help="Give up (exit 2) if the graph is not built within this many seconds.")
def graph_command(model, params, variant, fmt, output, max_states, time_limit) -> None:
    """Write the whole explored state graph of MODEL (a small configuration) as DOT, GraphML or JSON.

    Nodes carry each property's value and the initial/dead-end marks; edges carry the action, its
    arguments and its fairness groups. Exit 2 when the graph has more than --max-states states.
    """
    started = time.monotonic()
    if max_states < 1:
        raise InputError(f"--max-states must be at least 1, got {max_states}")
    deadline = None if time_limit is None else started + Bounds(time_limit=time_limit).time_limit
    if output is not None:
        files.check_writable(output, "--output file")  # refused before the graph is built, not after
    try:
        with watchdog(deadline, grace=0), model_prints_to_stderr(fmt == "json" and not output):
            instance = build_model(model, parse_params(params), variant)  # the model's code runs all through: one guard around it all
            check_init(instance)
            graph = guarded(instance, "exploring the state graph", lambda: explored_graph(instance, max_states))
            if graph is None:
                raise InputError(f"{instance.label()} has more than {max_states:,} reachable states: choose "
                                 "smaller parameters, or raise --max-states to export it anyway")
            text = guarded(instance, "annotating the state graph", lambda: render(to_networkx(instance, graph), fmt))
    except OutOfTime:
        raise InputError(f"the graph of {model} was not built within --time-limit {time_limit:g} s: "
                         "choose smaller parameters or give it more time") from None
    if output is not None:
        files.write_text(output, text, "--output file")  # never through a symlink, a FIFO or a folder
        click.echo(f"agree: {graph.size:,} states and {graph.edges:,} steps written to {output}", err=True)
    else:
        click.echo(text, nl=False)
