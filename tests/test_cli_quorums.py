"""`agree quorums`: exit codes 0/1/2, --json fields, and one clear line for every bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agree.explorer.cli import cli


def run(*args):
    """`agree quorums ARGS` through the main group, so the command's registration is tested too."""
    return CliRunner().invoke(cli, ["quorums", *(str(a) for a in args)])


@pytest.mark.parametrize("args, code", [
    (["majority", "--nodes", 5], 0),
    (["majority", "--nodes", 4, "--size", 2], 1),
    (["threshold", "--nodes", 5, "--k", 3], 0),
    (["threshold", "--nodes", 6, "--k", 3], 1),
    (["flexible", "--nodes", 4, "--q1", 2, "--q2", 3], 0),
    (["flexible", "--nodes", 4, "--q1", 2, "--q2", 2], 1),
    (["bft", "--nodes", 4, "--faults", 1], 0),
    (["bft", "--nodes", 3, "--faults", 1], 1),
    (["bft", "--nodes", 4, "--faults", 1, "--size", 3, "--at-least", 3], 1),
    (["grid", "--rows", 3, "--cols", 3], 0),
    (["grid", "--rows", 2, "--cols", 2, "--mode", "rows-cols"], 0),
    (["grid", "--rows", 2, "--cols", 2, "--mode", "row"], 1),
    (["weighted", "--weights", "2,1,1,1", "--read", 3, "--write", 3], 0),
    (["weighted", "--weights", "2,1,1,1", "--read", 2, "--write", 3], 1),
    (["weighted", "--weights", "a=3,b=1,c=1", "--write", 3], 0),
    (["joint", "--old", "a,b,c", "--new", "c,d,e"], 0),
    (["joint", "--old", "1,2,3", "--new", "4,5,6"], 0),
])
def test_exit_codes(args, code):
    result = run(*args)
    assert result.exit_code == code, result.output
    if args[0] != "joint":  # joint also prints old-vs-new majorities, disjoint on purpose, for contrast
        assert ("DISJOINT" in result.stdout) == (code == 1)


def test_disjoint_output_shows_the_witness():
    out = run("majority", "--nodes", 4, "--size", 2).stdout
    assert "system:  any 2 of 4 nodes (n1..n4)" in out
    assert "q1     = {n1, n2}" in out and "q2     = {n3, n4}" in out and "common = {}" in out


def test_json_fields_for_a_failing_pair():
    result = run("bft", "--nodes", 3, "--faults", 1, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert (data["verdict"], data["min_intersection"], data["at_least"]) == ("disjoint", 1, 2)
    assert data["system"].startswith("BFT n=3, f=1")
    witness = data["witness"]
    assert len(witness["q1"]) == len(witness["q2"]) == 2 and witness["common"] == sorted(
        set(witness["q1"]) & set(witness["q2"]))


def test_json_fields_for_a_proof():
    data = json.loads(run("flexible", "--nodes", 4, "--q1", 2, "--q2", 3, "--json").stdout)
    assert (data["verdict"], data["min_intersection"], data["witness"]) == ("intersect", 1, None)
    assert data["checks"][0]["check"] == "phase 1 vs phase 2"


def test_weighted_reports_read_vs_write_and_write_vs_write():
    data = json.loads(run("weighted", "--weights", "2,1,1,1", "--read", 2, "--write", 3, "--json").stdout)
    assert [c["check"] for c in data["checks"]] == ["read vs write", "write vs write"]
    assert [c["verdict"] for c in data["checks"]] == ["disjoint", "intersect"]
    assert data["verdict"] == "disjoint" and data["witness"]["q1"] == ["n1"]


def test_joint_contrast_check_does_not_decide_the_exit_code():
    result = run("joint", "--old", "1,2,3", "--new", "4,5,6", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["verdict"] == "intersect"
    contrast = [c for c in data["checks"] if not c["required"]]
    assert len(contrast) == 1 and contrast[0]["verdict"] == "disjoint"


def test_explicit_file(tmp_path):
    single = tmp_path / "q.json"
    single.write_text(json.dumps({"quorums": [["a", "b"], ["b", "c"], ["a", "c"]]}))
    assert run("explicit", "--file", single).exit_code == 0
    phases = tmp_path / "phases.json"
    phases.write_text(json.dumps({"phase1": [["a", "b"]], "phase2": [["c", "d"], ["a", "c"]]}))
    data = json.loads(run("explicit", "--file", phases, "--json").stdout)
    assert data["verdict"] == "disjoint" and data["witness"] == {"q1": ["a", "b"], "q2": ["c", "d"], "common": []}


def test_prove():
    result = run("prove")
    assert result.exit_code == 0
    assert "bft-3f+1: proved" in result.stdout and "counterexample: n=3, f=1" in result.stdout
    data = json.loads(run("prove", "--lemma", "majorities-intersect", "--json").stdout)
    assert data["lemmas"][0]["verdict"] == "proved" and len(data["lemmas"]) == 1
    assert "flexible-paxos" in run("prove", "--list").stdout


def test_exit_codes_survive_the_main_cli():
    runner = CliRunner()
    holds = runner.invoke(cli, ["quorums", "majority", "--nodes", "5"])
    assert holds.exit_code == 0 and "DISJOINT" not in holds.stdout
    disjoint = runner.invoke(cli, ["quorums", "majority", "--nodes", "4", "--size", "2"])
    assert disjoint.exit_code == 1 and "DISJOINT" in disjoint.stdout
    lemma = runner.invoke(cli, ["quorums", "prove", "--lemma", "bft-3f+1"])
    assert lemma.exit_code == 0 and "bft-3f+1" in lemma.stdout


@pytest.fixture
def bad_file(tmp_path):
    files = {"broken": "{not json", "list": "[1, 2]", "unknown": json.dumps({"members": ["a"], "quorums": [["z"]]}),
             "empty": json.dumps({"quorums": []})}
    for name, text in files.items():
        (tmp_path / f"{name}.json").write_text(text)
    return tmp_path


@pytest.mark.parametrize("args, words", [
    (["weighted", "--weights", "2,1,1,1", "--write", "7"],
     "--write 7 is above the total weight 5: use --write at most 5"),
    (["weighted", "--weights", "2,x", "--write", "1"], "weight 'x' is not a whole number"),
    (["bft", "--nodes", "4", "--faults", "4"], "--faults 4 needs more than 4 nodes"),
    (["bft", "--nodes", "4", "--faults", "1", "--size", "5"], "--size 5 is above the number of nodes 4"),
    (["majority", "--nodes", "0"], "at least one node"),
    (["threshold", "--nodes", "5", "--k", "0"], "--k 0 is below 1"),
    (["flexible", "--nodes", "3", "--q1", "4", "--q2", "1"], "--q1 4 is above the number of nodes 3"),
    (["joint", "--old", "a,a", "--new", "b"], "listed twice"),
    (["majority", "--nodes", "3", "--at-least", "0"], "--at-least"),
    (["grid", "--rows", "2", "--cols", "2", "--mode", "diagonal"], "--mode"),
    (["explicit", "--file", "{dir}/missing.json"], "no such file"),
    (["explicit", "--file", "{dir}/broken.json"], "is not valid JSON"),
    (["explicit", "--file", "{dir}/list.json"], "got a JSON list"),
    (["explicit", "--file", "{dir}/unknown.json"], "unknown node 'z'"),
    (["explicit", "--file", "{dir}/empty.json"], "lists no quorums"),
    (["prove", "--lemma", "nope"], "no lemma named 'nope'"),
])
def test_bad_input_is_one_line_and_exit_2(agree, bad_file, args, words):
    ran = agree("quorums", *(a.format(dir=bad_file) for a in args))
    assert ran.code == 2
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agree: error: ") and words in lines[0], ran.err
    assert "Traceback" not in ran.err + ran.out and ran.out == ""
