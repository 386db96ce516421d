"""`--backend ray --address` on a real two-node Ray cluster, started here on 127.0.0.1 with
`ray start --head` and a second `ray start --address`, one CPU each, so the two workers' actors
land on different nodes and their fingerprint arrays cross the object store between nodes. The
counts must equal those of local workers. Each `ray start` runs with `--block` in a session of its
own, so stopping the cluster ends only the processes this test started (never `ray stop`, which
would end every Ray on the machine)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("ray", reason="the Ray backend's tests need Ray: pip install -e '.[ray]'")

RAY = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]  # this Python: the nodes' workers run it
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0", "RAY_USAGE_STATS_ENABLED": "0",
       "RAY_AUTH_MODE": "disabled"}  # a cluster of this test's own, on 127.0.0.1: no token to hand round
TIMING = ("seconds", "states_per_second", "warnings", "exchanged_bytes")  # local workers also deal out states


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_node(*args: str) -> subprocess.Popen:
    agent, grpc, metrics, runtime = free_ports(4)
    return subprocess.Popen([*RAY, "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1",
                             f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={grpc}",
                             f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={runtime}", *args],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def stop(node: subprocess.Popen) -> None:
    """End the node's processes: `ray start --block` stops what it started on SIGTERM; then its
    session (this test's processes only) is killed."""
    if node.poll() is None:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(node.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    node.wait()


def alive_nodes(address: str) -> int:
    probe = ("import ray, sys; ray.init(address=sys.argv[1], logging_level='ERROR'); "
             "print(sum(1 for n in ray.nodes() if n['Alive']))")
    ran = subprocess.run([sys.executable, "-c", probe, address], env=ENV, capture_output=True, text=True, timeout=120)
    return int(ran.stdout.strip().splitlines()[-1]) if ran.returncode == 0 and ran.stdout.strip() else 0


@pytest.fixture(scope="module")
def cluster():
    (port,) = free_ports(1)
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="rayc-", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    nodes = [start_node("--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}")]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if nodes[0].poll() is not None:
                pytest.fail(f"ray start --head failed: {nodes[0].stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        nodes.append(start_node(f"--address={address}"))
        deadline = time.monotonic() + 90
        while alive_nodes(address) < 2:
            if time.monotonic() > deadline or nodes[1].poll() is not None:
                pytest.fail("the second Ray node did not join the cluster")
            time.sleep(1)
        yield address
    finally:
        for node in reversed(nodes):
            stop(node)
        shutil.rmtree(temp, ignore_errors=True)
        forget(port)


def forget(port: int) -> None:
    """`ray start --head` may name its cluster in /tmp/ray/ray_current_cluster, where every later
    ray.init() on this machine would look for it: remove that line if it names this test's cluster."""
    pointer = Path("/tmp/ray/ray_current_cluster")
    try:
        if pointer.read_text().strip().endswith(f":{port}"):
            pointer.unlink()
    except OSError:
        pass


def agree(*args: str) -> dict:
    ran = subprocess.run([sys.executable, "-c", "from agree.explorer.cli import main; main()", *args, "--json", "--quiet"],
                         env=ENV, capture_output=True, text=True, timeout=600)
    assert ran.returncode in (0, 1), ran.stderr
    return {k: v for k, v in json.loads(ran.stdout).items() if k not in TIMING}


@pytest.mark.parametrize("args", [["twophase", "-p", "rms=5"], ["twophase", "-p", "rms=3", "--variant", "tm-commits-early"]])
def test_a_two_node_cluster_finds_what_local_workers_find(cluster, args):
    on_ray = agree("check", *args, "--workers", "2", "--backend", "ray", "--address", cluster)
    local = agree("check", *args, "--workers", "2")
    assert on_ray == local  # the same counts, coverage, verdicts and traces
    assert on_ray["distinct_states"] == agree("check", *args)["distinct_states"]
