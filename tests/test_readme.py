"""The README's quick commands do what it says: the "Using it" block runs, and the numbers in the
Paxos variant table are what `agree check` finds; the files it names exist, and its Layout table
names every room of the engines."""

from __future__ import annotations

import json
import re
import shlex

import pytest
from click.testing import CliRunner

from agree.explorer.cli import cli
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def using_it_commands() -> list[list[str]]:
    """The `agree ...` lines of the first shell block under "## Using it" (comments dropped),
    except those naming files the reader supplies (path/to/..., suite.toml)."""
    section = README[README.index("## Using it"):]
    block = section[section.index("```sh") + 5:section.index("```\n", section.index("```sh") + 5)]
    commands = []
    for line in block.splitlines():
        words = shlex.split(line.split("#")[0])
        if words and words[0] == "agree" and not any("path/to" in w or w.endswith(".toml") for w in words):
            commands.append(words[1:])
    return commands


def test_the_using_it_block_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # cx.json is written and read here
    commands = using_it_commands()
    assert len(commands) >= 7
    runner = CliRunner()
    for args in commands:
        ran = runner.invoke(cli, args)
        expected = 1 if "--variant" in args else 0  # a broken variant is a failed property: exit 1
        assert ran.exit_code == expected, (args, ran.stdout, ran.stderr)
        assert "Traceback" not in ran.stderr
        if "--json" in args:
            assert json.loads(ran.stdout)["verdict"] == "holds"
    assert (tmp_path / "cx.json").is_file()


def paxos_rows() -> list[tuple[str, int, str, int]]:
    """(variant, steps to agreement, first property broken, its steps) from the README table."""
    rows = re.findall(r"^\| `([a-z-]+)` \|[^|]+\| `agreement` \| (\d+) steps \| `(\w+)`, (\d+) steps \|$", README, re.M)
    return [(v, int(a), p, int(n)) for v, a, p, n in rows]


def test_the_paxos_table_is_parsed():
    assert [r[0] for r in paxos_rows()] == ["accept-below-promise", "forget-promise", "ignore-reported-value",
                                            "minority-quorum", "amnesia-restart"]


@pytest.mark.parametrize("variant, to_agreement, first, first_steps", paxos_rows())
def test_the_paxos_table_is_what_check_finds(agree, variant, to_agreement, first, first_steps):
    only = json.loads(agree("check", "paxos", "--variant", variant, "--property", "agreement", "--json").out)
    assert (only["violation"]["property"], len(only["violation"]["trace"]["steps"])) == ("agreement", to_agreement)
    plain = json.loads(agree("check", "paxos", "--variant", variant, "--json").out)
    assert (plain["violation"]["property"], len(plain["violation"]["trace"]["steps"])) == (first, first_steps)


def test_the_raft_proof_command_carries_the_time_it_needs():
    """The command shown must not stop before the time the quoted proof took (nor at bench_raft's
    default limit of 20 minutes)."""
    minutes = re.search(r"bench_raft\.py --workers 1 --minutes (\d+) proof", README)
    took = re.search(r"depth 68,\s+in (\d+) minutes", README)
    assert minutes and took and int(minutes.group(1)) > max(int(took.group(1)), 20)


def test_every_file_path_the_readme_names_exists():
    """Paths in backticks (`explorer/traces/format.py`) follow the code when it moves between rooms."""
    paths = set(re.findall(r"`((?:[\w.-]+/)+[\w.-]+\.(?:py|json|toml|yml))`", README))
    assert "explorer/traces/format.py" in paths
    assert [p for p in sorted(paths) if not (ROOT / p).exists()] == []


def test_the_layout_table_names_every_engine_room_and_shared_module():
    engines = ROOT / "explorer" / "engines"
    row = next(line for line in README.splitlines() if line.startswith("| `explorer/engines/`"))
    rooms = [p.parent.name for p in engines.glob("*/__init__.py")]
    shared = [p.name for p in engines.glob("*.py") if p.name != "__init__.py"]
    assert len(rooms) >= 5 and [n for n in rooms if f"`{n}/`" not in row] == []
    assert [n for n in shared if f"`{n}`" not in row] == []
    traces = next(line for line in README.splitlines() if line.startswith("| `explorer/traces/`"))
    assert "`format.py`" in traces
