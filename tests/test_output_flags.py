"""Every flag that writes a file goes through the one safe writer (agree.properties.files): aimed
at a symlink, a dangling symlink, a FIFO, a folder or a path under a regular file, each is refused
before any work, in one line with exit 2, leaving everything as it was, and never hangs; a path
in a missing folder is written, the folder made (`--junit-xml reports/agree.xml` in a fresh CI
checkout), never a crash."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]
TRACE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"
SUITE = '[[check]]\nmodel = "twophase"\nvariant = "tm-commits-early"\nparams = { rms = 2 }\nexpect = "holds"\n'

# each command line ends with the flag; the target path is appended
FLAGS = {
    "check --save-trace": ["check", "twophase", "--variant", "tm-commits-early", "-p", "rms=2", "--quiet",
                           "--save-trace"],
    "fuzz --save-trace": ["fuzz", "twophase", "--variant", "tm-commits-early", "-p", "rms=2", "--quiet",
                          "--examples", "20", "--save-trace"],
    "show -o": ["show", str(TRACE), "--format", "html", "-o"],
    "graph -o": ["graph", "twophase", "-p", "rms=2", "-o"],
    "verify --json": ["verify", "--config", "{suite}", "--quiet", "--json"],
    "verify --junit-xml": ["verify", "--config", "{suite}", "--quiet", "--junit-xml"],
    "verify --html": ["verify", "--config", "{suite}", "--quiet", "--html"],
    "verify --save-traces": ["verify", "--config", "{suite}", "--quiet", "--save-traces"],
}
FOLDER_FLAGS = {"verify --save-traces"}  # these name a folder: a regular file is what they refuse
TARGETS = ["symlink", "dangling symlink", "FIFO", "folder", "under a file"]


def one_line(code: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("agree: error: ") and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], err


def snapshot(folder: Path) -> dict:
    """What is in `folder`: each entry's kind and, for regular files, content."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        info = os.lstat(path)
        seen[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode),
                                               path.read_bytes() if stat.S_ISREG(info.st_mode) else None)
    return seen


def place(tmp_path: Path, target: str, folder_flag: bool) -> Path:
    (tmp_path / "precious.txt").write_text("keep me")
    (tmp_path / "suite.toml").write_text(SUITE)
    where = tmp_path / "out"
    if target == "symlink":
        where.symlink_to(tmp_path / "precious.txt")
    elif target == "dangling symlink":
        where.symlink_to(tmp_path / "nowhere")
    elif target == "FIFO":
        os.mkfifo(where)
    elif target == "folder":
        if folder_flag:  # a folder is what this flag wants: aim it at a regular file instead
            where.write_text("a file, not a folder")
        else:
            where.mkdir()
    else:
        where = tmp_path / "precious.txt" / "out"
    return where


def command(flag: str, tmp_path: Path, where: Path) -> list[str]:
    return [a.replace("{suite}", str(tmp_path / "suite.toml")) for a in FLAGS[flag]] + [str(where)]


@pytest.mark.parametrize("flag", sorted(FLAGS))
@pytest.mark.parametrize("target", [t for t in TARGETS if t != "FIFO"])
def test_every_output_flag_refuses_what_it_must_not_write(agree, tmp_path, flag, target):
    where = place(tmp_path, target, flag in FOLDER_FLAGS)
    before = snapshot(tmp_path)
    ran = agree(*command(flag, tmp_path, where))
    one_line(ran.code, ran.err)
    assert ran.out == ""  # refused before any work: not even verify's table header
    after = snapshot(tmp_path)
    assert after == before, (before, after)  # nothing created, nothing overwritten, no temporary file left
    assert not (tmp_path / "nowhere").exists()
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_every_output_flag_refuses_a_fifo_without_hanging(tmp_path, flag):
    where = place(tmp_path, "FIFO", flag in FOLDER_FLAGS)
    ran = subprocess.run(AGREE + command(flag, tmp_path, where), capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    one_line(ran.returncode, ran.stderr, "FIFO")
    assert stat.S_ISFIFO(os.lstat(where).st_mode)


@pytest.mark.parametrize("flag", sorted(set(FLAGS) - {"verify --json"}))  # --json's FILE is optional: no swallowing
def test_an_output_flag_followed_by_an_option_is_refused_not_written(agree, tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.toml").write_text(SUITE)
    args = command(flag, tmp_path, Path("x"))[:-1] + ["--quiet"]
    ran = agree(*args)
    one_line(ran.code, ran.err, "'--quiet', which is an option")
    assert not (tmp_path / "--quiet").exists()


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_an_empty_output_path_is_refused(agree, tmp_path, flag):
    (tmp_path / "suite.toml").write_text(SUITE)
    ran = agree(*command(flag, tmp_path, Path("x"))[:-1], "")
    one_line(ran.code, ran.err)


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_every_output_flag_writes_into_a_missing_folder_by_making_it(agree, tmp_path, flag):
    (tmp_path / "suite.toml").write_text(SUITE)
    where = tmp_path / "missing" / "deeper" / "out"
    ran = agree(*command(flag, tmp_path, where))
    assert ran.code in (0, 1) and "Traceback" not in ran.err, (ran.code, ran.err)  # a verdict, not an error
    assert where.is_dir() if flag in FOLDER_FLAGS else where.is_file()


def test_graph_writes_a_regular_file_through_the_safe_writer(agree, tmp_path):
    target = tmp_path / "g.dot"
    target.write_text("old")
    target.chmod(0o640)
    ran = agree("graph", "twophase", "-p", "rms=2", "-o", target)
    assert ran.code == 0, ran.err
    assert target.read_text().startswith("digraph") and stat.S_IMODE(target.stat().st_mode) == 0o640


# ----- agree verify (issue item 12)


def test_save_traces_at_a_fifo_is_refused_before_the_suite_runs(agree, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "suite.toml").write_text(SUITE)
    ran = agree("verify", "--config", tmp_path / "suite.toml", "--save-traces", tmp_path / "pipe")
    one_line(ran.code, ran.err, "--save-traces", "FIFO")
    assert ran.out == ""  # the suite never ran


@pytest.mark.parametrize("suffix, text", [(".toml", SUITE), (".json", '{"check": [{"model": "twophase", '
                                                               '"params": {"rms": 2}, "expect": "holds"}]}')])
def test_a_suite_file_with_a_byte_order_mark_is_read(agree, tmp_path, suffix, text):
    suite = tmp_path / f"suite{suffix}"
    suite.write_bytes(b"\xef\xbb\xbf" + text.encode())
    ran = agree("verify", "--config", suite, "--quiet")
    assert ran.code in (0, 1) and "expectations met" in ran.out, ran.err
