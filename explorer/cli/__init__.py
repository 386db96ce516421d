"""The `agree` command line (click): the group, which imports one module per command.

Conventions every subcommand follows: results on stdout, progress on stderr, `--json` for machines;
exit 0 when every expectation is met, 1 when a property fails, 2 for bad usage or input (one line,
no traceback unless `agree --debug`), 3 for a bug in agree itself, 130 when interrupted (143 on SIGTERM).
"""

from __future__ import annotations

import click

from explorer.cli.check import check_command, list_command
from explorer.cli.common import AgreeGroup, install_signal_handlers
from explorer.cli.graph import graph_command
from explorer.cli.quorums import quorums
from explorer.cli.traces import replay_command, show_command
from explorer.cli.verify import verify_command


@click.group(cls=AgreeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="agree")
def cli(debug: bool) -> None:
    """agree: model-check consensus protocols and prove their quorum lemmas.

    \b
    agree list                      models, parameters, variants, properties
    agree check MODEL [-p k=v]      search every interleaving within bounds
    agree replay TRACE              does a stored counterexample still reproduce?
    agree show TRACE                draw a trace as text or a Mermaid diagram
    agree verify [--config FILE]    run a suite of expectations (the project's by default)
    agree quorums KIND ...          prove quorum intersection with Z3, or get disjoint quorums
    agree graph MODEL [-p k=v]      write the explored state graph (DOT, GraphML, JSON)

    Exit codes: 0 expectations met, 1 a property failed, 2 bad input (or an error in a
    model's own code), 3 a bug in agree (traceback saved to a file), 130 interrupted, 143 SIGTERM.
    --debug adds tracebacks and never changes the exit code.
    """


for _command in (list_command, check_command, replay_command, show_command, verify_command, quorums,
                 graph_command):
    cli.add_command(_command)


def main() -> None:
    install_signal_handlers()
    cli.main()
