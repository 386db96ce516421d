"""Checkpoints are read, never run: a crafted pickle in any checkpoint file runs no code and is one
line (exit 2); damaged, truncated or swapped files and a CURRENT that points anywhere but a level
folder of agree's are refused; agree deletes only the folders it marked as its own; and errors in
the checkpoint options are agree's own, never blamed on the model."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from agree.explorer.engines.storage import checkpoints
from agree.explorer.engines.storage.checkpoints import MARKER, SEARCH
from agree.explorer.engines.storage.unpickling import allowed_classes, load
from agree.models.registry import build_model, builtin_models
from agree.properties.errors import InputError
from tests.conftest import ROOT, reachable_states

AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
CHECK = ["check", "twophase", "-p", "rms=2", "--quiet"]
MODES = {"exact": ["--workers", "1"], "workers-2": ["--workers", "2"],
         "fingerprints-2": ["--fingerprints", "--workers", "2"]}


def one_line(ran, *words: str) -> str:
    """The run failed with exit 2 and one line of agree's own (no traceback, not blamed on the model)."""
    code, err = (ran.returncode, ran.stderr) if hasattr(ran, "returncode") else (ran.code, ran.err)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("agree: error: "), err
    assert "Traceback" not in err and "raised" not in err, err  # not "model twophase raised ..."
    for word in words:
        assert word in lines[0], err
    return lines[0]


# ----- crafted pickles: every way pickle has of calling something


class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class _CallableReduce(_Reduce):
    def __call__(self, *args):  # pickle insists that a reduce's function be callable
        raise AssertionError("never called here")


def _calls(marker: Path) -> dict:
    """What each crafted file would call, each creating `marker` if it ran."""
    code, shell = f"open({str(marker)!r}, 'w').close()", f"touch {marker}"
    imported = _CallableReduce(getattr, (_CallableReduce(__import__, ("os",)), "system"))
    return {"exec": _Reduce(exec, (code,)), "eval": _Reduce(eval, (code,)),
            "getattr+__import__": _Reduce(imported, (shell,)), "open": _Reduce(open, (str(marker), "w")),
            "os.system": _Reduce(os.system, (shell,)),
            "subprocess": _Reduce(subprocess.call, (["touch", str(marker)],))}


def _short(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data  # SHORT_BINUNICODE


def payloads(marker: Path) -> dict[str, bytes]:
    """Crafted pickles by opcode: GLOBAL+REDUCE (protocol 0), STACK_GLOBAL+REDUCE (protocol 4),
    INST, OBJ, and a dotted STACK_GLOBAL that reaches os.system through a module the model uses."""
    shell = f"touch {marker}"
    out = {}
    for name, call in _calls(marker).items():
        out[f"GLOBAL-{name}"] = pickle.dumps(call, protocol=0)
        out[f"STACK_GLOBAL-{name}"] = pickle.dumps(call, protocol=4)
    out["INST-os.system"] = b"(V" + shell.encode() + b"\nios\nsystem\n."
    out["OBJ-os.system"] = b"(cos\nsystem\nV" + shell.encode() + b"\no."
    out["STACK_GLOBAL-dotted"] = (b"\x80\x04" + _short("agree.models.contract") + _short("inspect.os.system")
                                  + b"\x93" + _short(shell) + b"\x85R.")
    out["GLOBAL-copyreg"] = (b"ccopyreg\n_reconstructor\n(cos\n_wrap_close\ncbuiltins\nobject\nNtR.")
    return out


def test_every_payload_really_runs_code_under_plain_pickle(tmp_path):
    """The control: each crafted file does run code when unpickled without agree's allow-list."""
    script = ("import pickle, sys\n"
              "for path in sys.argv[1:]:\n"
              "    try:\n        pickle.loads(open(path, 'rb').read())\n"
              "    except Exception:\n        pass\n")
    paths = []
    for name in payloads(tmp_path):
        if name == "GLOBAL-copyreg":
            continue  # builds an object only: refused below, but it runs nothing by itself
        marker = tmp_path / f"ran-{name}"
        path = tmp_path / f"{name}.pickle"
        path.write_bytes(payloads(marker)[name])
        paths.append((path, marker))
    subprocess.run([sys.executable, "-c", script, *[str(p) for p, _ in paths]], timeout=60, check=True,
                   capture_output=True)
    assert [p.name for p, marker in paths if not marker.exists()] == []


@pytest.mark.parametrize("name", sorted(payloads(Path("/x"))))
def test_the_reader_refuses_every_crafted_pickle_without_running_it(tmp_path, name):
    marker = tmp_path / "ran"
    path = tmp_path / "file.pickle"
    path.write_bytes(payloads(marker)[name])
    with pytest.raises(InputError, match="not read|cannot be read") as caught:
        load(str(path), build_model("twophase", {"rms": "2"}))
    assert not marker.exists() and "\n" not in str(caught.value)


def test_the_allow_list_is_the_models_record_types_and_plain_containers_only():
    for cls in builtin_models().values():
        allowed = allowed_classes(cls())
        for (module, name), value in allowed.items():
            assert isinstance(value, type), (module, name)
            if module == "builtins":
                assert value in (tuple, frozenset, set, list, dict, int, str, bytes, float, bool)
            else:  # a NamedTuple or namedtuple: a tuple whose constructor only builds
                assert issubclass(value, tuple) and hasattr(value, "_fields"), (module, name)
                assert value.__module__ == module and value.__qualname__ == name
        for forbidden in [("builtins", n) for n in ("exec", "eval", "getattr", "__import__", "open", "object")] + [
                ("copyreg", "_reconstructor"), ("os", "system"), ("posix", "system"), ("subprocess", "call")]:
            assert forbidden not in allowed


@pytest.mark.parametrize("name", ["raft", "duelling-proposers", "primary_backup", "paxos"])
def test_the_reader_still_reads_every_state_the_model_reaches(tmp_path, name):
    model = build_model(name, {})
    states = sorted(reachable_states_bounded(model, 2000), key=repr)
    path = tmp_path / "states.pickle"
    path.write_bytes(pickle.dumps(states, protocol=pickle.HIGHEST_PROTOCOL))
    assert load(str(path), model) == states


def reachable_states_bounded(model, limit: int) -> set:
    seen, todo = set(model.init()), list(model.init())
    while todo and len(seen) < limit:
        for _, _, succ in model.next(todo.pop()):
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return seen


# ----- crafted pickles in every file of real checkpoints, through the command line


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    """The real command line, in its own process (PYTHONHASHSEED pinned as `agree` pins it)."""
    return subprocess.run(AGREE + [str(a) for a in args], env=ENV, capture_output=True, text=True, timeout=120,
                          **kwargs)


@pytest.fixture
def pinned(agree, monkeypatch):
    """The command line in this process (fast), with the hash seed the agree command pins for
    checkpoints, so a checkpoint written by `run` is of the same search."""
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    return agree


@pytest.fixture
def resume(pinned):
    """`agree check ... --resume FOLDER`, in this process."""
    return lambda mode, folder: pinned(*CHECK, *MODES[mode], "--resume", folder)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """One checkpoint per storage mode, at depth 3, to copy for each test; written in this
    process, so fingerprints resumed here match."""
    from click.testing import CliRunner

    from agree.explorer.cli import cli

    made = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONHASHSEED", "0")
        for mode, options in MODES.items():
            folder = tmp_path_factory.mktemp("checkpoints") / mode
            ran = CliRunner().invoke(cli, [*CHECK, *options, "--max-depth", "3", "--checkpoint", str(folder),
                                           "--checkpoint-every", "0"])
            assert ran.exit_code == 0, ran.output
            made[mode] = folder
    return made


def level_of(folder: Path) -> Path:
    return folder / (folder / "CURRENT").read_text().strip()


def reseal(level: Path) -> None:
    """Give the shard files' current digests to search.pickle, as if agree had written them, so a
    crafted file reaches the reader rather than stopping at the digest check."""
    saved = pickle.loads((level / SEARCH).read_bytes())  # the test's own file: trusted
    saved["files"] = {name: checkpoints._digest(level / name) for name in saved["files"]}
    (level / SEARCH).write_bytes(pickle.dumps(saved))


FILES = {"exact": ["search.pickle", "shard-0-level.pickle", "shard-0-visited.pickle"],
         "workers-2": ["search.pickle", "shard-0-level.pickle", "shard-1-level.pickle"],  # fingerprints: .npz
         "fingerprints-2": ["search.pickle", "shard-0-level.pickle", "shard-1-level.pickle"]}
FORMS = ["GLOBAL", "STACK_GLOBAL", "INST-os.system", "OBJ-os.system", "STACK_GLOBAL-dotted"]
CALLS = ["exec", "eval", "getattr+__import__", "open", "os.system", "subprocess"]


def test_the_files_listed_are_every_pickle_a_checkpoint_holds(written):
    for mode, names in FILES.items():
        assert sorted(p.name for p in level_of(written[mode]).glob("*.pickle")) == sorted(names)


@pytest.mark.parametrize("mode, file, form", [(m, f, form) for m, names in FILES.items() for f in names
                                              for form in FORMS])
def test_a_crafted_pickle_in_any_checkpoint_file_runs_nothing_and_is_one_line(written, resume, tmp_path, mode, file,
                                                                               form):
    folder = tmp_path / "ck"
    shutil.copytree(written[mode], folder)
    marker = tmp_path / "PWNED"
    if form in ("GLOBAL", "STACK_GLOBAL"):  # every function, spread over the files
        form = f"{form}-{CALLS[(FILES[mode].index(file) + len(mode)) % len(CALLS)]}"
    level = level_of(folder)
    (level / file).write_bytes(payloads(marker)[form])
    if file != SEARCH:
        reseal(level)
    ran = resume(mode, folder)
    assert not marker.exists()
    one_line(ran, "was not written by agree for this model")


def test_the_issues_reproduction_no_longer_runs_code(tmp_path):
    ran = run("check", "twophase", "-p", "rms=2", "--checkpoint", "ck", "--checkpoint-every", "0", "--max-depth", "3",
                cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    (tmp_path / "ck" / "level-3" / SEARCH).write_bytes(
        pickle.dumps(_Reduce(exec, ("__import__('os').system('touch PWNED')",))))
    ran = run("check", "twophase", "-p", "rms=2", "--resume", "ck", cwd=tmp_path)
    assert not (tmp_path / "PWNED").exists()
    one_line(ran, "builtins.exec")


# ----- damaged, truncated, swapped


def _truncate(level: Path, name: str) -> None:
    data = (level / name).read_bytes()
    (level / name).write_bytes(data[:len(data) // 2])


def _swap(level: Path, a: str, b: str) -> None:
    (level / a).rename(level / "swap")
    (level / b).rename(level / a)
    (level / "swap").rename(level / b)


DAMAGE = {
    "truncated level": (lambda lv: _truncate(lv, "shard-0-level.pickle"), "not the one agree wrote"),
    "truncated visited": (lambda lv: _truncate(lv, "shard-1-visited.npz"), "not the one agree wrote"),
    "truncated search": (lambda lv: _truncate(lv, SEARCH), "cannot be read"),
    "empty search": (lambda lv: (lv / SEARCH).write_bytes(b""), "cannot be read"),
    "garbage search": (lambda lv: (lv / SEARCH).write_bytes(b"\x80\x05garbage"), "cannot be read"),
    "swapped shards": (lambda lv: _swap(lv, "shard-0-level.pickle", "shard-1-level.pickle"), "not the one agree wrote"),
    "swapped level and visited": (lambda lv: _swap(lv, "shard-0-level.pickle", "shard-0-visited.npz"),
                                  "not the one agree wrote"),
    "swapped search and level": (lambda lv: _swap(lv, SEARCH, "shard-0-level.pickle"), "not an agree checkpoint"),
    "missing shard file": (lambda lv: (lv / "shard-1-visited.npz").unlink(), "missing or added"),
    "added file": (lambda lv: (lv / "shard-2-level.pickle").write_bytes(b"x"), "missing or added"),
    "search of plain data": (lambda lv: (lv / SEARCH).write_bytes(pickle.dumps([1, 2])), "not an agree checkpoint"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_truncated_or_swapped_files_are_one_line(written, resume, tmp_path, damage):
    folder = tmp_path / "ck"
    shutil.copytree(written["workers-2"], folder)
    spoil, words = DAMAGE[damage]
    spoil(level_of(folder))
    one_line(resume("workers-2", folder), words)


def test_a_well_formed_level_file_of_the_wrong_shape_is_one_line(written, resume, tmp_path):
    folder = tmp_path / "ck"
    shutil.copytree(written["workers-2"], folder)
    level = level_of(folder)
    (level / "shard-0-level.pickle").write_bytes(pickle.dumps({"states": [[1]], "keys": [[1]], "positions": ["x"]}))
    reseal(level)
    one_line(resume("workers-2", folder), "is not a shard's level")


def packed_checkpoint(pinned, monkeypatch, folder: Path) -> Path:
    """A fingerprint checkpoint whose levels are kept (and so saved) in chunks of 3 states."""
    monkeypatch.setattr("agree.explorer.engines.parallel.levels.PACK_AT", 0)
    monkeypatch.setattr("agree.explorer.engines.storage.packed.CHUNK", 3)
    ran = pinned(*CHECK, *MODES["fingerprints-2"], "--max-depth", "4", "--checkpoint", folder, "--checkpoint-every", "0")
    assert ran.code == 0, ran.err
    level = level_of(folder)
    saved = pickle.loads((level / "shard-0-level.pickle").read_bytes())  # the test's own file: trusted
    assert "states" not in saved and len(saved["chunks"]) > 1
    return level


@pytest.mark.parametrize("workers", ["1", "2", "3"])
def test_a_packed_level_is_saved_in_its_chunks_and_resumes_to_the_same_result(pinned, monkeypatch, tmp_path, workers):
    packed_checkpoint(pinned, monkeypatch, tmp_path / "ck")
    args = [*CHECK, "--fingerprints", "--workers", workers, "--json"]
    resumed, whole = pinned(*args, "--resume", tmp_path / "ck"), pinned(*args)
    assert resumed.code == whole.code == 0, resumed.err
    drop = ("seconds", "states_per_second", "warnings", "exchanged_bytes")
    assert {k: v for k, v in json.loads(resumed.out).items() if k not in drop} == \
        {k: v for k, v in json.loads(whole.out).items() if k not in drop}


@pytest.mark.parametrize("spoil", ["crafted", "short", "long", "not-bytes"])
def test_a_packed_levels_chunks_are_read_as_checkpoints_are(pinned, monkeypatch, tmp_path, spoil):
    """A chunk is decompressed and read by the restricted unpickler: crafted, it runs nothing; a
    chunk too few or too many, or not bytes, is one line."""
    level = packed_checkpoint(pinned, monkeypatch, tmp_path / "ck")
    marker = tmp_path / "PWNED"
    path = level / "shard-0-level.pickle"
    saved = pickle.loads(path.read_bytes())
    chunks = saved["chunks"]
    saved["chunks"] = {"crafted": [zlib.compress(payloads(marker)["STACK_GLOBAL-os.system"])] + chunks[1:],
                       "short": chunks[:-1], "long": chunks + chunks[-1:], "not-bytes": ["x"] + chunks[1:]}[spoil]
    path.write_bytes(pickle.dumps(saved))
    reseal(level)
    ran = pinned(*CHECK, *MODES["fingerprints-2"], "--resume", tmp_path / "ck")
    assert not marker.exists()
    one_line(ran, {"crafted": "was not written by agree for this model", "short": "another number of states",
                   "long": "another number of states", "not-bytes": "cannot be read"}[spoil])


# ----- CURRENT names a level folder of agree's, inside the checkpoint folder, and nothing else


@pytest.mark.parametrize("pointer, words", [
    (b"\xff\xfe\n", "not UTF-8"),
    (b"../elsewhere\n", "not a level-N folder"),
    (b"/tmp\n", "not a level-N folder"),
    (b"level-3/../../x\n", "not a level-N folder"),
    (b"sub/level-3\n", "not a level-N folder"),
    (b"\n", "not a level-N folder"),
    (b"level-3" * 20, "not a pointer agree wrote"),
    (b"level-9\n", "missing, incomplete or not written by agree"),
])
def test_current_must_name_a_level_folder_inside_the_checkpoint_folder(written, resume, tmp_path, pointer, words):
    folder = tmp_path / "ck"
    shutil.copytree(written["exact"], folder)
    (folder / "CURRENT").write_bytes(pointer)
    one_line(resume("exact", folder), words)


def test_current_may_not_name_a_symlink_or_an_unmarked_folder(written, resume, tmp_path):
    folder = tmp_path / "ck"
    shutil.copytree(written["exact"], folder)
    level = level_of(folder)
    shutil.move(level, tmp_path / "outside")
    level.symlink_to(tmp_path / "outside")
    one_line(resume("exact", folder), "not written by agree")
    level.unlink()
    shutil.move(tmp_path / "outside", level)
    (level / MARKER).unlink()
    one_line(resume("exact", folder), "not written by agree")


# ----- errors in the options are agree's own (issue item 10)


def test_checkpoint_options_at_impossible_places_are_agrees_own_one_line_errors(pinned, tmp_path):
    (tmp_path / "file").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    one_line(pinned(*CHECK, "--resume", ""), "--resume", "empty")
    one_line(pinned(*CHECK, "--checkpoint", ""), "--checkpoint", "empty")
    one_line(pinned(*CHECK, "--checkpoint", tmp_path / "file"), "a regular file, not a folder")
    one_line(pinned(*CHECK, "--checkpoint", tmp_path / "fifo"), "a FIFO, not a folder")
    one_line(pinned(*CHECK, "--resume", tmp_path / "file"), "not a folder")
    one_line(pinned(*CHECK, "--checkpoint", tmp_path / "file" / "sub"), "--checkpoint")
    assert (tmp_path / "file").read_text() == "x"


# ----- agree deletes only what it wrote (issue item 3)


def test_a_users_level_folders_are_never_deleted(pinned, tmp_path):
    project = tmp_path / "proj"
    (project / "level-1").mkdir(parents=True)
    (project / "level-1" / "map.txt").write_text("mine")
    (project / "level-notes").write_text("also mine")
    one_line(pinned(*CHECK, "--checkpoint", project, "--checkpoint-every", "0"), "level-1", "agree did not write")
    assert (project / "level-1" / "map.txt").read_text() == "mine"
    assert (project / "level-notes").read_text() == "also mine"
    assert sorted(p.name for p in project.iterdir()) == ["level-1", "level-notes"]  # nothing written either


def test_a_users_current_file_is_not_overwritten(pinned, tmp_path):
    (tmp_path / "CURRENT").write_text("my notes on the current sprint\n")
    one_line(pinned(*CHECK, "--checkpoint", tmp_path), "CURRENT")
    assert (tmp_path / "CURRENT").read_text() == "my notes on the current sprint\n"


def test_agree_replaces_its_own_marked_levels_and_keeps_one(pinned, tmp_path):
    ran = pinned(*CHECK, "--max-depth", "4", "--checkpoint", tmp_path, "--checkpoint-every", "0")
    assert ran.code == 0, ran.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "level-4"]
    assert (tmp_path / "level-4" / MARKER).is_file()
    ran = pinned(*CHECK, "--checkpoint", tmp_path, "--checkpoint-every", "0")  # again, into the same folder
    assert ran.code == 0, ran.err
    assert [p.name for p in tmp_path.glob("level-*")] == [(tmp_path / "CURRENT").read_text().strip()]


def test_a_users_folder_named_like_a_later_level_is_refused_up_front_not_deleted(pinned, tmp_path):
    (tmp_path / "level-5").mkdir()  # a name agree would write later: refused before the search starts
    (tmp_path / "level-5" / "keep").write_text("k")
    one_line(pinned(*CHECK, "--checkpoint", tmp_path), "level-5")
    assert (tmp_path / "level-5" / "keep").read_text() == "k"
