"""Checkpoints: a search killed at any moment and resumed ends exactly as an uninterrupted one;
a checkpoint of another search, or a file agree did not write, is refused with one line."""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

AGREE = [sys.executable, "-c", "from agree.explorer.cli import main; main()"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def agree(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(AGREE + [str(a) for a in args], env=ENV, capture_output=True, text=True, **kwargs)


def outcome(stdout: str) -> dict:
    data = json.loads(stdout)
    for timing in ("seconds", "states_per_second", "warnings", "exchanged_bytes"):  # bytes: of this run only
        data.pop(timing)
    return data


def killed_and_resumed(args: list[str], folder: Path, delay: float) -> subprocess.CompletedProcess:
    """Start `agree check ARGS --checkpoint folder`, SIGKILL it `delay` seconds after its first
    checkpoint, then resume it."""
    run = subprocess.Popen(AGREE + args + ["--checkpoint", str(folder), "--checkpoint-every", "0"], env=ENV,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (folder / "CURRENT").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    run.send_signal(signal.SIGKILL)
    run.wait()
    return agree(*args, "--resume", folder)


@pytest.mark.parametrize("workers, fingerprints", [(2, False), (1, True), (3, True)])
def test_a_search_killed_at_a_random_moment_resumes_to_the_same_result(tmp_path, workers, fingerprints):
    args = ["check", "twophase", "-p", "rms=6", "--workers", str(workers), "--json", "--quiet"]
    args += ["--fingerprints"] if fingerprints else []
    whole = agree(*args)
    assert whole.returncode == 0, whole.stderr
    rng = random.Random(f"{workers}{fingerprints}")
    for attempt in range(2):
        resumed = killed_and_resumed(args, tmp_path / f"run{attempt}", rng.uniform(0.0, 1.5))
        assert resumed.returncode == 0, resumed.stderr
        assert outcome(resumed.stdout) == outcome(whole.stdout)
        assert "resumed from the checkpoint at depth" in resumed.stdout


def test_a_violation_found_after_resuming_has_the_trace_of_an_uninterrupted_run(tmp_path):
    args = ["check", "twophase", "-p", "rms=3", "--variant", "tm-commits-early", "--workers", "2", "--json", "--quiet"]
    stopped = agree(*args, "--max-depth", "3", "--checkpoint", tmp_path, "--checkpoint-every", "0")
    assert stopped.returncode == 0 and json.loads(stopped.stdout)["stopped_by"] == "max-depth"
    resumed, whole = agree(*args, "--resume", tmp_path), agree(*args)
    assert resumed.returncode == whole.returncode == 1
    assert outcome(resumed.stdout) == outcome(whole.stdout)
    assert json.loads(resumed.stdout)["violation"]["trace"]["length"] == 3


def test_a_checkpoint_keeps_the_size_of_the_level_it_resumes_with(tmp_path):
    """So the progress lines of a resumed search count the states queued, not 0 until a level ends."""
    args = ["check", "twophase", "-p", "rms=4", "--workers", "2", "--json", "--quiet"]
    to5, to6 = (json.loads(agree(*args, "--max-depth", depth, "--checkpoint", tmp_path / depth,
                                 "--checkpoint-every", "0").stdout)["distinct_states"] for depth in ("5", "6"))
    folder = tmp_path / "6"
    saved = pickle.loads((folder / (folder / "CURRENT").read_text().strip() / "search.pickle").read_bytes())
    assert saved["search"]["queued"] == to6 - to5 > 0  # the states at depth 6, expanded next


def checkpointed(folder: Path, *extra: str) -> None:
    ran = agree("check", "twophase", "-p", "rms=3", "--workers", "2", "--checkpoint", folder, "--checkpoint-every",
                "0", "--quiet", *extra)
    assert ran.returncode == 0, ran.stderr
    assert (folder / "CURRENT").exists()


def reseal(folder: Path) -> None:
    """Record the digests of the shard files as they are now, as if agree had written them: a test's
    crafted file then reaches the reader instead of stopping at the digest check."""
    from agree.explorer.engines.storage.checkpoints import SEARCH, _digest

    saved = pickle.loads((folder / SEARCH).read_bytes())  # the test's own file: trusted
    saved["files"] = {name: _digest(folder / name) for name in saved["files"]}
    (folder / SEARCH).write_bytes(pickle.dumps(saved))


@pytest.mark.parametrize("change, message", [
    (["-p", "rms=4"], "the checkpoint is of another search (params was {'rms': 3}, now {'rms': 4})"),
    (["-p", "rms=3", "--workers", "1"], "(fingerprints was True, now False)"),  # several workers: fingerprints
    (["-p", "rms=3", "--property", "consistent"], "(properties was"),
    (["-p", "rms=3", "--workers", "3"], None),
    (["-p", "rms=3", "--workers", "1", "--fingerprints"], None),
])
def test_a_checkpoint_of_another_search_is_refused(tmp_path, change, message):
    checkpointed(tmp_path)
    workers = [] if "--workers" in change else ["--workers", "2"]
    ran = agree("check", "twophase", *change, *workers, "--resume", tmp_path)
    if message is None:  # another number of workers is the same search: states are shared out again
        assert ran.returncode == 0 and "resumed from the checkpoint" in ran.stdout, ran.stderr
        return
    assert ran.returncode == 2 and message in ran.stderr
    assert ran.stderr.count("\n") == 1 and "Traceback" not in ran.stderr


@pytest.mark.parametrize("workers", [["1", "--fingerprints"], ["3"], ["4"]])
def test_a_search_by_fingerprint_resumes_with_another_number_of_workers(tmp_path, workers):
    args = ["check", "twophase", "-p", "rms=5", "--json", "--quiet"]
    stopped = agree(*args, "--workers", "2", "--max-depth", "9", "--checkpoint", tmp_path, "--checkpoint-every", "0")
    assert stopped.returncode == 0, stopped.stderr
    resumed, whole = agree(*args, "--workers", *workers, "--resume", tmp_path), agree(*args)
    assert {**outcome(resumed.stdout), "workers": None, "state_storage": None, "collision_probability": None} == \
        {**outcome(whole.stdout), "workers": None, "state_storage": None, "collision_probability": None}


def test_exact_storage_is_one_workers(tmp_path):
    args = ["check", "twophase", "-p", "rms=3", "--quiet"]
    assert agree(*args, "--checkpoint", tmp_path, "--checkpoint-every", "0").returncode == 0
    ran = agree(*args, "--workers", "2", "--resume", tmp_path)
    assert ran.returncode == 2 and "(fingerprints was False, now True)" in ran.stderr


def test_resuming_from_nothing_is_refused(tmp_path):
    ran = agree("check", "twophase", "--resume", tmp_path)
    assert ran.returncode == 2 and "no checkpoint there" in ran.stderr


def test_a_checkpoint_file_that_would_run_code_is_refused_not_run(tmp_path):
    checkpointed(tmp_path)
    folder = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    (folder / "shard-0-level.pickle").write_bytes(pickle.dumps(Payload()))
    reseal(folder)
    ran = agree("check", "twophase", "-p", "rms=3", "--workers", "2", "--resume", tmp_path)
    assert ran.returncode == 2 and "was not written by agree for this model" in ran.stderr
    assert not marker.exists()


def test_checkpoints_need_the_breadth_first_search(tmp_path):
    ran = agree("check", "twophase", "--strategy", "dfs", "--checkpoint", tmp_path)
    assert ran.returncode == 2 and "--checkpoint is for the breadth-first search" in ran.stderr


def test_a_fingerprint_table_saved_flat_before_segments_resumes_and_a_damaged_one_is_refused(tmp_path):
    import numpy as np

    args = ["check", "twophase", "-p", "rms=4", "--fingerprints", "--json", "--quiet"]
    stopped = agree(*args, "--max-depth", "6", "--checkpoint", tmp_path, "--checkpoint-every", "0")
    assert stopped.returncode == 0, stopped.stderr
    folder = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    [saved] = folder.glob("*.npz")
    with np.load(saved) as arrays:  # rewrite it as format 1 wrote it: one flat table
        keys, parents, state = arrays["keys"], arrays["parents"], arrays["state"].copy()
    state[0] = 1
    with open(saved, "wb") as out:
        np.savez(out, keys=keys, parents=parents, state=state)
    reseal(folder)
    resumed, whole = agree(*args, "--resume", tmp_path), agree(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert outcome(resumed.stdout) == outcome(whole.stdout)
    saved.write_bytes(b"not a zip file")
    reseal(folder)  # past the digest check (tests/test_checkpoint_safety.py), to the reader's own refusal
    ran = agree(*args, "--resume", tmp_path)
    assert ran.returncode == 2 and "cannot be read" in ran.stderr and "Traceback" not in ran.stderr
