"""The `agree` command line (click): the group, which imports one module per command.

Conventions every subcommand follows: results on stdout, progress on stderr, `--json` for machines;
exit 0 when every expectation is met, 1 when a property fails, 2 for bad usage or input (one line,
no traceback unless `agree --debug`), 130 when interrupted.
"""

from __future__ import annotations

import click

from explorer.cli.check import check_command, list_command
from explorer.cli.common import AgreeGroup
from explorer.cli.fuzz import fuzz_command
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
    agree fuzz MODEL [-p k=v]       seeded random runs (Hypothesis), shrunk counterexamples
    agree replay TRACE              does a stored counterexample still reproduce?
    agree show TRACE                draw a trace as text or a Mermaid diagram
    agree verify [--config FILE]    run a suite of expectations (the project's by default)
    agree quorums KIND ...          prove quorum intersection with Z3, or get disjoint quorums

    Exit codes: 0 expectations met, 1 a property failed, 2 bad input, 130 interrupted.
    """


for _command in (list_command, check_command, fuzz_command, replay_command, show_command, verify_command, quorums):
    cli.add_command(_command)


def main() -> None:
    cli.main()
