"""Run by tests/test_ray.py in a fresh interpreter with PYTHONHASHSEED pinned (Ray's actors and
this driver must hash alike): start one local Ray, check every case of the partitioned-search
tests with the Ray backend and with local processes, and print both summaries as JSON."""

from __future__ import annotations

import json
import sys

import ray

from agree.explorer.engines.check import Parallel, Storage, check
from agree.explorer.engines.result import Bounds
from agree.models.registry import build_model
from agree.properties.errors import InputError
from tests.test_parallel import CASES, MUTEX, summary

RUNS = {f"{case} workers={w}": (CASES[case], {"workers": w}) for case in sorted(CASES) for w in (2, 3)}
RUNS.update({
    "twophase keep going, state bound": (lambda: build_model("twophase", {"rms": 4}),
                                         {"workers": 2, "keep_going": True, "bounds": Bounds(max_states=77)}),
    "twophase depth bound": (lambda: build_model("twophase", {"rms": 4}), {"workers": 3, "bounds": Bounds(max_depth=6)}),
    "paxos symmetry": (lambda: build_model("paxos"), {"workers": 2, "symmetry": True}),
    "twophase fingerprints": (lambda: build_model("twophase", {"rms": 3}, "tm-commits-early"),
                              {"workers": 2, "fingerprints": True}),
})


def _options(options: dict, backend: str) -> dict:
    """check()'s options for one run: workers and fingerprints go into its Parallel and Storage values."""
    rest = {k: v for k, v in options.items() if k not in ("workers", "fingerprints")}
    return {**rest, "parallel": Parallel(options["workers"], backend),
            "storage": Storage(options.get("fingerprints", False))}


def main() -> None:
    ray.init(address="local", num_cpus=3, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONHASHSEED": "0"}})
    out = {}
    for name, (make, options) in RUNS.items():
        try:
            on_ray = summary(check(make(), **_options(options, "ray"), model_ref=_ref(name, make())))
        except InputError as err:  # states that hash apart between processes (None, before 3.12)
            on_ray = {"refused": str(err)}
        out[name] = {"ray": on_ray, "local": summary(check(make(), **_options(options, "local"), model_ref=_ref(name, make())))}
    json.dump(out, sys.stdout)


def _ref(name: str, model) -> str:
    """How the command line names the model, so that each actor can build it."""
    return f"{MUTEX}:{type(model).__name__}" if name.startswith("mutex") else model.name


if __name__ == "__main__":
    main()
