"""`agree quorums`: prove quorum intersection with Z3 for one cluster, or print two quorums that
miss each other; `agree quorums prove` proves the intersection lemmas for every cluster size.

Exit 0 when every required intersection holds (or every lemma comes out as expected), 1 when a
pair of quorums fails, 2 for bad input (raised as InputError; the main `agree` group prints it).
Exit codes are raised as SystemExit, like the other commands: AgreeGroup runs click with
standalone_mode=False, where click turns ctx.exit(code) into a return value and the code is lost.
It imports nothing from the other commands; the group in explorer.cli registers it.
"""

from __future__ import annotations

import json
import time

import click

from agree.explorer.cli.common import EXIT_FAILED, EXIT_OK
from agree.explorer.cli.quorum_report import Check, run_checks
from agree.properties.errors import InputError
from agree.properties.quorums import (Bft, FlexiblePaxos, Grid, JointConsensus, Majority, Threshold, Weighted,
                                all_lemmas, lemma_named, prove_all)
from agree.properties.quorums.loading import load_system
from agree.properties.quorums.system import as_members, show_members


# ---- parsing the options ---------------------------------------------------------------------

def parse_nodes(text: str, flag: str = "--nodes") -> tuple[str, ...]:
    """`5` means n1..n5; anything else is a comma-separated list of names."""
    text = text.strip()
    if text.isdigit() and not text.isascii():
        raise InputError(f"{flag} {text!r}: write a node count with the digits 0-9, or node names")
    if text.isdigit():
        if int(text) < 1:
            raise InputError(f"{flag} {text}: a quorum system needs at least one node, use {flag} 1 or more")
        return as_members(int(text))
    return as_members(text, flag)


def parse_weights(text: str) -> dict[str, int] | list[int]:
    """`2,1,1` (nodes n1..n3) or `a=2,b=1,c=1`."""
    named, plain = {}, []
    for item in (part.strip() for part in text.split(",")):
        name, sep, value = item.rpartition("=")
        if not (value.strip().isascii() and value.strip().isdigit()) or len(value.strip()) > 18:
            raise InputError(f"weight {item!r} is not a whole number >= 0: write --weights 2,1,1 or a=2,b=1,c=1")
        if sep and not name.strip():
            raise InputError(f"weight {item!r} has no node name: write name=weight, e.g. a=2")
        if sep:
            if name.strip() in named:
                raise InputError(f"node {name.strip()!r} has two weights: give each node one weight")
            named[name.strip()] = int(value)
        else:
            plain.append(int(value))
    if named and plain:
        raise InputError("--weights mixes name=weight and bare weights: use one form, e.g. a=2,b=1 or 2,1")
    return named or plain


def in_range(flag: str, value: int, low: int, high: int, what: str) -> int:
    """One line naming the flag, the limit and the fix."""
    if value < low:
        raise InputError(f"{flag} {value} is below {low}: use {flag} {low} or more")
    if value > high:
        raise InputError(f"{flag} {value} is above {what} {high}: use {flag} at most {high}")
    return value


def load_file(path: str):
    return load_system(path)


def _keep_time_limit(ctx: click.Context, param, value: float | None) -> None:
    if value is not None:
        if not value > 0 or value > 1e9:
            raise InputError(f"--time-limit must be a positive number of seconds, got {value}")
        ctx.meta["agree_time_limit"] = value


TIME_LIMIT = click.option("--time-limit", type=float, expose_value=False, callback=_keep_time_limit,
                          metavar="SECONDS", help="Give up after this many seconds (verdict unknown, exit 1).")


def common_options(at_least: bool = True):
    """--json and --time-limit everywhere, --at-least where the required overlap is a free choice."""
    def decorate(command):
        command = TIME_LIMIT(command)
        command = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)
        if at_least:
            command = click.option("--at-least", type=click.IntRange(min=1), default=None, metavar="K",
                                   help="Require every pair of quorums to share K nodes (default 1).")(command)
        return command
    return decorate


NODES = click.option("--nodes", required=True, metavar="N|a,b,c", help="A node count (n1..nN) or node names.")


@click.group("quorums", invoke_without_command=True)
@TIME_LIMIT
@click.pass_context
def quorums(ctx: click.Context) -> None:
    """Prove quorum intersection with Z3, or get two quorums that miss each other.

    \b
    agree quorums majority --nodes 5 [--size K]
    agree quorums threshold --nodes 5 --k 3
    agree quorums flexible --nodes 4 --q1 2 --q2 3
    agree quorums bft --nodes 4 --faults 1 [--size 3]      (requires f + 1 shared)
    agree quorums grid --rows 3 --cols 3 --mode row+col|rows-cols
    agree quorums weighted --weights 2,1,1,1 --read 3 --write 3
    agree quorums joint --old a,b,c --new c,d,e
    agree quorums explicit --file quorums.json
    agree quorums prove                                    (lemmas for every n)

    Exit codes: 0 intersection proved, 1 disjoint quorums found (printed) or no answer within
    --time-limit (verdict unknown), 2 bad input.
    """
    ctx.meta["agree_started"] = time.monotonic()  # --time-limit counts from here
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@quorums.command("majority")
@NODES
@click.option("--size", type=int, help="Quorums of this many nodes instead of a majority.")
@common_options()
def majority_command(nodes, size, at_least, as_json):
    """Majority quorums (Paxos, Raft): any two must share a node."""
    members = parse_nodes(nodes)
    if size is None:
        system = Majority(members)
    else:
        system = Threshold(members, in_range("--size", size, 1, len(members), "the number of nodes"))
    run_checks("majority", system.describe(), [Check("", system, system, at_least or 1)], as_json)


@quorums.command("threshold")
@NODES
@click.option("--k", "k", type=int, required=True, help="Any K nodes form a quorum.")
@common_options()
def threshold_command(nodes, k, at_least, as_json):
    """Any K of N nodes."""
    members = parse_nodes(nodes)
    system = Threshold(members, in_range("--k", k, 1, len(members), "the number of nodes"))
    run_checks("threshold", system.describe(), [Check("", system, system, at_least or 1)], as_json)


@quorums.command("flexible")
@NODES
@click.option("--q1", type=int, required=True, help="Phase-1 (leader election) quorum size.")
@click.option("--q2", type=int, required=True, help="Phase-2 (replication) quorum size.")
@common_options()
def flexible_command(nodes, q1, q2, at_least, as_json):
    """Flexible Paxos: every phase-1 quorum must meet every phase-2 quorum."""
    members = parse_nodes(nodes)
    for flag, value in (("--q1", q1), ("--q2", q2)):
        in_range(flag, value, 1, len(members), "the number of nodes")
    pair = FlexiblePaxos.of_sizes(members, q1, q2)
    run_checks("flexible", pair.describe(),
               [Check("phase 1 vs phase 2", pair.phase1, pair.phase2, at_least or 1)], as_json)


@quorums.command("bft")
@NODES
@click.option("--faults", "f", type=int, required=True, help="How many nodes may be Byzantine (f).")
@click.option("--size", type=int, help="Quorum size (default n - f).")
@common_options()
def bft_command(nodes, f, size, at_least, as_json):
    """Byzantine quorums: any two must share f + 1 nodes, so at least one correct node."""
    members = parse_nodes(nodes)
    n = len(members)
    if f < 0:
        raise InputError(f"--faults {f} is negative: use --faults 0 or more")
    if f >= n:
        raise InputError(f"--faults {f} needs more than {f} nodes but there are {n}: use --faults at most {n - 1}")
    if size is not None:
        in_range("--size", size, 1, n, "the number of nodes")
    system = Bft(members, f, size)
    run_checks("bft", system.describe(), [Check("", system, system, at_least or system.required_overlap)],
               as_json)


@quorums.command("grid")
@click.option("--rows", type=click.IntRange(min=1), required=True)
@click.option("--cols", type=click.IntRange(min=1), required=True)
@click.option("--mode", type=click.Choice(["row+col", "rows-cols", "row", "col"]), default="row+col",
              show_default=True,
              help="row+col: a quorum is a full row plus a full column; rows-cols: any row against any column "
                   "(two systems); row / col: full rows (or columns) against each other.")
@common_options()
def grid_command(rows, cols, mode, at_least, as_json):
    """Grid quorums: full rows and/or columns of ROWS x COLS nodes (n1, n2, ... row by row)."""
    if mode == "rows-cols":
        first, second = Grid(rows, cols, "row"), Grid(rows, cols, "col")
        text = f"{rows}x{cols} grid ({show_members(first.members)}, row by row): any full row vs any full column"
        check = Check("rows vs columns", first, second, at_least or 1)
    else:
        first = Grid(rows, cols, mode)
        text, check = first.describe(), Check("", first, first, at_least or 1)
    run_checks("grid", text, [check], as_json)


@quorums.command("weighted")
@click.option("--weights", required=True, metavar="2,1,1|a=2,b=1", help="One weight per node.")
@click.option("--read", type=int, help="Read-quorum threshold (checked against writes).")
@click.option("--write", type=int, required=True, help="Write-quorum threshold.")
@common_options()
def weighted_command(weights, read, write, at_least, as_json):
    """Weighted voting: read vs write quorums (with --read) and write vs write quorums."""
    parsed = parse_weights(weights)
    total = sum(parsed.values() if isinstance(parsed, dict) else parsed)
    for flag, value in (("--read", read), ("--write", write)):
        if value is not None:
            in_range(flag, value, 1, total, "the total weight")
    writes = Weighted(parsed, write)
    checks = []
    if read is not None:
        checks.append(Check("read vs write", Weighted(parsed, read), writes, at_least or 1))
    checks.append(Check("write vs write", writes, writes, at_least or 1))
    thresholds = f"read {read} / write {write}" if read is not None else f"write {write}"
    text = f"weighted ({writes.weights_text()}), {thresholds} of total weight {writes.total}"
    run_checks("weighted", text, checks, as_json)


@quorums.command("joint")
@click.option("--old", required=True, metavar="a,b,c", help="Node names of the old configuration.")
@click.option("--new", required=True, metavar="c,d,e", help="Node names of the new configuration.")
@common_options()
def joint_command(old, new, at_least, as_json):
    """Joint consensus: joint quorums must meet each other and the majorities of both configurations."""
    joint = JointConsensus(as_members(old, "--old"), as_members(new, "--new"))
    k = at_least or 1
    checks = [Check("joint vs joint", joint, joint, k),
              Check("joint vs old majority", joint, joint.old_majority, k),
              Check("joint vs new majority", joint, joint.new_majority, k),
              Check("old majority vs new majority, no joint phase", joint.old_majority, joint.new_majority, k,
                    required=False)]
    run_checks("joint", joint.describe(), checks, as_json)


@quorums.command("explicit")
@click.option("--file", "path", required=True, metavar="FILE",
              help='JSON: {"quorums": [["a","b"], ...]} or {"phase1": [...], "phase2": [...]}.')
@common_options()
def explicit_command(path, at_least, as_json):
    """Quorums listed by hand in a JSON file."""
    loaded = load_file(path)
    if isinstance(loaded, FlexiblePaxos):
        check = Check("phase 1 vs phase 2", loaded.phase1, loaded.phase2, at_least or 1)
    else:
        check = Check("", loaded, loaded, at_least or 1)
    run_checks("explicit", loaded.describe(), [check], as_json)


@quorums.command("prove")
@click.option("--lemma", "names", multiple=True, metavar="NAME", help="Prove only this lemma (repeatable).")
@click.option("--list", "list_only", is_flag=True, help="List the lemmas without proving them.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def prove_command(names, list_only, as_json):
    """Prove the intersection lemmas for every cluster size (Z3 over integers). One statement is
    false on purpose and must come out as a counterexample. Exit 0 when all come out as expected."""
    lemmas = [lemma_named(name) for name in names] if names else list(all_lemmas())
    if list_only:
        for lemma in lemmas:
            click.echo(f"{lemma.name:<24} {lemma.statement}")
        raise SystemExit(EXIT_OK)
    results = prove_all(lemmas)
    unexpected = [r for r in results if not r.as_expected]
    if as_json:
        click.echo(json.dumps({"verdict": "as expected" if not unexpected else "unexpected",
                               "lemmas": [r.to_dict() for r in results]}, indent=2))
    else:
        for result in results:
            click.echo(result.describe())
        click.echo(f"{len(results) - len(unexpected)} of {len(results)} lemmas came out as expected")
    raise SystemExit(EXIT_FAILED if unexpected else EXIT_OK)
