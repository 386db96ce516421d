"""Regression tests for the hardening issue, files and input: no save destroys a file, no trace
runs code, and every input format is checked strictly, with one line naming what is wrong."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agree.properties import files
from agree.properties.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"
SAVE = ["check", "twophase", "--variant", "tm-commits-early", "-p", "rms=2", "--quiet", "--save-trace"]


def one_line_error(ran, *words: str) -> None:
    assert ran.code == 2, (ran.code, ran.out, ran.err)
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agree: error: "), ran.err
    for word in words:
        assert word in lines[0], ran.err


# ----- safe writes


def test_save_trace_refuses_a_symlink_and_leaves_it_and_its_target_alone(agree, tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "link.json").symlink_to(target)
    one_line_error(agree(*SAVE, tmp_path / "link.json"), "symbolic link")
    assert (tmp_path / "link.json").is_symlink() and target.read_text() == "keep me"


def test_save_trace_refuses_a_fifo_without_opening_it(agree, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    one_line_error(agree(*SAVE, tmp_path / "pipe"), "FIFO")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)


def test_save_trace_refuses_a_device(agree):
    one_line_error(agree(*SAVE, "/dev/null"), "character device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("where, words", [("", "empty"), ("sub", "directory"), ("file.txt/cx.json", "Not a directory"),
                                          ("a\0b", "NUL character")])
def test_save_trace_refuses_impossible_paths_before_searching(agree, tmp_path, where, words):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    one_line_error(agree(*SAVE, str(tmp_path / where) if where else ""), words)


@pytest.mark.parametrize("args", [["replay", "a\0b"], ["verify", "--config", "a\0b"], ["check", "paxos", "-p", "quorum=\0"]])
def test_a_nul_in_a_path_is_one_line(agree, args):
    one_line_error(agree(*args), "NUL character")


def test_an_existing_file_keeps_its_mode_and_a_new_one_gets_the_umask(agree, tmp_path):
    old = tmp_path / "old.json"
    old.write_text("{}")
    old.chmod(0o640)
    assert agree(*SAVE, old).code == 1
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and json.loads(old.read_text())["property"] == "consistent"
    mask = os.umask(0o027)
    try:
        assert agree(*SAVE, tmp_path / "new.json").code == 1
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~0o027  # 0o640


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError, ValueError])
def test_the_temporary_file_is_removed_on_every_way_out(tmp_path, stop):
    target = tmp_path / "out.json"
    target.write_text("before")

    def half_then_fail(out):
        out.write("half")
        raise stop("stopped")

    with pytest.raises((stop, InputError)):
        files.write_with(target, half_then_fail, "test file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"] and target.read_text() == "before"


# ----- traces are data


EVIL = '''
import pathlib
pathlib.Path("{marker}").write_text("code ran")
from agree import Model
class Evil(Model):
    name = "evil"
    def init(self):
        yield 0
    def next(self, s):
        return []
'''


def evil_trace(tmp_path: Path, model: str) -> Path:
    data = json.loads(TRACE.read_text())
    data.update(model=model, params={}, variant=None)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    return path


def test_replay_and_show_never_import_the_model_a_trace_names(agree, tmp_path):
    marker = tmp_path / "marker"
    (tmp_path / "evil.py").write_text(EVIL.format(marker=marker))
    trace = evil_trace(tmp_path, f"{tmp_path / 'evil.py'}:Evil")
    one_line_error(agree("replay", trace), "--model", "evil.py:Evil")
    shown = agree("show", trace)
    assert shown.code == 0 and "TMCommit" in shown.out  # drawn from the file alone
    assert not marker.exists()
    # the same model named by the user on the command line is the user's choice
    assert agree("replay", trace, "--model", f"{tmp_path / 'evil.py'}:Evil").code in (1, 0)
    assert marker.exists()


def test_a_module_named_by_a_trace_is_not_imported(agree, tmp_path):
    ran = agree("replay", evil_trace(tmp_path, "this:Zen"))
    one_line_error(ran, "--model this:Zen")
    assert "Beautiful is better" not in ran.out


def test_a_suite_replay_of_a_user_model_must_name_the_model(agree, tmp_path):
    marker = tmp_path / "marker"
    (tmp_path / "evil.py").write_text(EVIL.format(marker=marker))
    evil_trace(tmp_path, "evil.py:Evil")
    (tmp_path / "suite.toml").write_text('[[replay]]\ntrace = "t.json"\n')
    refused = agree("verify", "--quiet", "--config", tmp_path / "suite.toml")
    one_line_error(refused, "--model ")
    assert "evil.py:Evil" in refused.err
    assert not marker.exists()


def test_a_builtin_trace_replays_by_its_name_alone(agree):
    assert agree("replay", TRACE).code == 0


# ----- strict traces


def mutated(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.json"
    path.write_text(text)
    return path


GOOD = TRACE.read_text()


@pytest.mark.parametrize("text, words", [
    (GOOD.replace('"format": 1', '"format": 1.0'), '"format" must be 1'),
    (GOOD.replace('"format": 1', '"format": true'), '"format" must be 1'),
    (GOOD.replace('"format": 1', '"format": NaN'), "NaN"),
    (GOOD.replace('"engine": "bfs"', '"engine": "bfs", "extra": 1'), "unknown field 'extra'"),
    (GOOD.replace('"engine": "bfs"', '"engine": "bfs", "loop": 99'), '"loop" must be the index of a state before the last (0 to 2)'),
    (GOOD.replace('"engine": "bfs"', '"engine": "bfs", "loop": -1'), '"loop"'),
    (GOOD.replace('"engine": "bfs"', '"engine": "bfs", "loop": 1.5'), '"loop"'),
    (GOOD.replace('"rms": 2', '"rms": [2]'), 'parameter "rms"'),
    (GOOD.replace('"kind": "invariant"', '"kind": "sometimes"'), '"kind"'),
    ("[" * 1600 + "]" * 1600, "nested more than 64 levels"),
    ('{"format": ' + "9" * 5000 + "}", "cannot read"),
    (GOOD.replace('"twophase"', '"\\ud800"', 1), "surrogate"),
])
def test_malformed_traces_are_one_line(agree, tmp_path, text, words):
    path = mutated(tmp_path, text)
    for command in (["replay"], ["show"], ["show", "--format", "mermaid"]):
        one_line_error(agree(*command, path), words)


def test_a_trace_whose_args_do_not_fit_the_model_still_draws(agree, tmp_path):
    data = json.loads((ROOT / "counterexamples" / "paxos--minority-quorum.json").read_text())
    for step in data["steps"]:
        step["args"] = {"nonsense": [1, 2]}
        step["state"] = {"who": "knows"}
    ran = agree("show", "--format", "mermaid", mutated(tmp_path, json.dumps(data)))
    assert ran.code == 0 and ran.out.startswith(("sequenceDiagram", "flowchart")), ran.err


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_a_trace_that_is_not_a_regular_file_is_refused_at_once(agree, tmp_path, special):
    path = {"fifo": tmp_path / "pipe", "/dev/zero": Path("/dev/zero"), "directory": tmp_path}[special]
    if special == "fifo":
        os.mkfifo(path)
    one_line_error(agree("replay", path), "not a regular file")
    one_line_error(agree("check", "paxos", "-p", f"quorum={path}"), "not a regular file")


def test_a_file_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_BYTES", 10)
    (tmp_path / "big.json").write_text("[" + "1," * 20 + "1]")
    with pytest.raises(InputError, match="over the 10-byte limit"):
        files.read_json(tmp_path / "big.json")


# ----- strict suites


@pytest.mark.parametrize("text, words", [
    (b"\xff\xfe[[check]]", "not UTF-8"),
    (b"check = 5", "list of tables"),
    (b"[[check]]\nmodel = 5", "model must be a non-empty string"),
    (b'[[check]]\nmodel = ["twophase"]', "model must be a non-empty string"),
    (b'[[check]]\nmodel = "twophase"\nsymmetry = "no"', "symmetry must be true or false"),
    (b'[[check]]\nmodel = "twophase"\nstates = "288"', "states must be a whole number"),
    (b'[[check]]\nmodel = "twophase"\ntime_limit = true', "time_limit must be a positive number"),
    (b'[[check]]\nmodel = "twophase"\nstate = 288', "unknown key 'state'"),
    (b'[[chek]]\nmodel = "twophase"\n[[check]]\nmodel = "twophase"', "unknown table 'chek'"),
    (b'[[replay]]\ntrace = "t.json"\nexpect = "holds"', "unknown key 'expect'"),
    (b"a = " + b"[" * 3000 + b"]" * 3000, "nested"),
])
def test_malformed_suites_are_one_line(agree, tmp_path, text, words):
    (tmp_path / "s.toml").write_bytes(text)
    one_line_error(agree("verify", "--config", tmp_path / "s.toml"), words)


def test_an_empty_config_path_is_an_error_not_the_default_suite(agree):
    one_line_error(agree("verify", "--config", ""), "empty")


# ----- strict quorum files and options


@pytest.mark.parametrize("data, words", [
    ({"quorums": [["a", "b"]], "phase1": [["a"]], "phase2": [["b"]]}, "not both"),
    ({"quorums": [["a", "b"]], "member": ["a"]}, "unknown key 'member'"),
    ({"quorums": [["a", "\x1b[31mred"]]}, "node name"),
    ({"quorums": [["a", "-1"]]}, "node name"),
    ({"quorums": [[1, 2]]}, "node names as strings"),
])
def test_malformed_quorum_files_are_one_line(agree, tmp_path, data, words):
    (tmp_path / "q.json").write_text(json.dumps(data))
    one_line_error(agree("quorums", "explicit", "--file", tmp_path / "q.json"), words)


@pytest.mark.parametrize("args, words", [
    (["majority", "--nodes", "²"], "digits 0-9"),
    (["majority", "--nodes", "-1"], "node name"),
    (["majority", "--nodes", "100000"], "at most 1,000"),
    (["grid", "--rows", "100", "--cols", "100"], "at most 1,000"),
    (["weighted", "--weights", "9" * 40, "--write", "1"], "whole number"),
    (["majority", "--nodes", "3", "--time-limit", "nan"], "--time-limit"),
])
def test_absurd_quorum_options_are_refused_up_front(agree, args, words):
    one_line_error(agree("quorums", *args), words)


def test_control_characters_in_an_error_are_escaped(agree):
    ran = agree("check", "twophase\x1b[2J\nx")
    one_line_error(ran, "\\x1b[2J\\nx")


# ----- the command line


@pytest.mark.parametrize("spec", [":X", "..:X", "a..b:X", "x.py:", "mod:1x"])
def test_malformed_model_specs_are_one_line(agree, spec):
    one_line_error(agree("check", spec), "is not of the form")


@pytest.mark.parametrize("args", [[], ["quorums"]])
def test_a_bare_command_prints_its_help_and_exits_0(agree, args):
    ran = agree(*args)
    assert ran.code == 0 and ran.out.startswith("Usage:") and ran.err == ""


def test_absurd_worker_counts_are_refused_before_forking(agree):
    one_line_error(agree("check", "twophase", "--workers", "100000"), "more than 256")
