"""Shards as Ray actors: the partitioned search on a Ray cluster (or a Ray started here).

Each actor builds the model itself from its name, parameters and variant (so a model file must
be at the same path on every node, with agree installed there) and holds one shard. A level is
three calls per actor (shard.py): `expand` returns one offer per owner (fingerprints and orders,
numpy arrays), `arbitrate` takes every sender's offer and returns one answer per sender (a bit an
offer), `settle` takes every owner's answer. The driver hands each actor the references to what
it needs, so the arrays go from actor to actor through Ray's object store (zero-copy on one
node), never through the driver, and no state ever leaves the actor that generated it. Every process hashes strings alike (PYTHONHASHSEED is passed to the actors),
so shard ownership and fingerprints agree everywhere, and checkpoints written on a shared folder
can be resumed by local processes too.

Ray is optional: `pip install -e ".[ray]"`.
"""

from __future__ import annotations

import os
from typing import Any

from agree.explorer.engines.run import Run
from agree.properties.errors import InputError

POLL = 0.25  # seconds between looks at the clock while the actors work


class _Failure:
    """What an actor returns instead of raising, so the driver can say it in one line."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _answers(address: str, seconds: float = 3.0) -> None:
    """Refuse at once an --address where nothing listens (Ray itself retries for half a minute and
    ignores Ctrl-C meanwhile): one TCP connection to host:port, or an InputError saying so."""
    import socket

    where = address.split("://", 1)[-1]
    host, sep, port = where.rpartition(":")
    if where == "auto":
        return  # Ray finds the cluster this machine's `ray start` left, or says it has none
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--address {address!r} is not HOST:PORT (e.g. 127.0.0.1:6379, what `ray start --head` prints)")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as err:
        raise InputError(f"no Ray cluster answers at {address} ({err.strerror or err}): start one there with "
                         "`ray start --head`, or leave out --address to start Ray on this machine") from None


def _actor_class() -> Any:
    import ray

    @ray.remote(max_concurrency=2)  # a second thread takes `stop` while `expand` runs
    class ShardActor:
        def __init__(self, spec: tuple, index: int, count: int, fingerprints: bool, symmetry: bool,
                     properties: list[str], store: type, state_limit: int | None = None) -> None:
            from agree.explorer.engines.monitor import PropertyMonitor
            from agree.explorer.engines.result import Bounds
            from agree.explorer.engines.parallel.shard import Shard
            from agree.models.registry import build_model

            model = build_model(*spec)
            run = Run(model, Bounds(), PropertyMonitor(model, []), symmetry, fingerprints=fingerprints)
            self.asked = False
            self.failure: BaseException | None = None
            self.shard = Shard(model, index, count, run.key_function(), store(),
                               PropertyMonitor(model, properties), canon=run.canon, state_limit=state_limit)
            self.shard.should_stop = lambda: self.asked
            self.shard.check_owners = True

        def call(self, method: str, *args: Any) -> Any:
            return _guard(self.shard, lambda: getattr(self.shard, method)(*args))

        def expand(self, live: list[str]) -> Any:
            """Offers to each owner: numpy arrays, which travel through the object store."""
            from agree.explorer.engines.parallel.shard import no_offers

            self.asked, self.failure = False, None
            offers = _guard(self.shard, lambda: self.shard.expand(live))
            if isinstance(offers, _Failure):
                self.failure, offers = offers.error, no_offers(self.shard.count)
            return offers if len(offers) > 1 else offers[0]

        def arbitrate(self, *offers: tuple) -> Any:
            answers = _guard(self.shard, lambda: self.shard.arbitrate(list(offers)))
            if isinstance(answers, _Failure):
                self.failure = self.failure or answers.error
                answers = [None] * self.shard.count
            return answers if len(answers) > 1 else answers[0]

        def settle(self, *answers: Any) -> Any:
            if self.failure is not None:
                return _Failure(self.failure)
            if any(answer is None for answer in answers):
                return _Failure(RuntimeError("another Ray worker failed while arbitrating"))
            return _guard(self.shard, lambda: self.shard.settle(list(answers)))

        def stop(self) -> None:
            self.asked = True

    return ShardActor


def _guard(shard: Any, work: Any) -> Any:
    from agree.explorer.engines.diagnose import ModelError, model_error
    from agree.explorer.engines.parallel.workers import picklable

    try:
        return work()
    except (ModelError, InputError) as err:
        return _Failure(err)
    except Exception as err:  # noqa: BLE001 - model code failed: say where, on which state
        return _Failure(picklable(model_error(shard.model, err, shard.current)))


class RayShards:
    def __init__(self, run: Run, count: int, store: type, address: str | None, spec: tuple) -> None:
        if address:
            _answers(address)  # before importing Ray, which takes seconds
        try:
            import ray
        except ImportError:
            raise InputError("--backend ray needs Ray: pip install -e \".[ray]\" (or pip install ray)") from None
        self.ray, self.run, self.count = ray, run, count
        self.started_here = not ray.is_initialized()
        if self.started_here:
            env = {"env_vars": {"PYTHONHASHSEED": os.environ["PYTHONHASHSEED"]}}
            try:
                # without --address, a Ray of its own ("local"), never a cluster this machine happens to run
                ray.init(address=address or "local", num_cpus=None if address else count, runtime_env=env,
                         include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            except Exception as err:  # Ray's own failure to start or join, never the model's
                raise InputError(f"--backend ray could not start or join Ray at {address or 'this machine'}: "
                                 f"{type(err).__name__}: {err}") from None
        actor = _actor_class()
        names = [s.name for s in run.monitor.specs]
        self.actors = [actor.remote(spec, i, count, run.fingerprints, run.symmetry, names, store,
                                    run.bounds.max_states) for i in range(count)]
        from agree.explorer.engines.parallel.shard import HASHED_APART, hash_probe

        here = hash_probe(run.model, run.key_function(), run.fingerprints)  # traces are rebuilt here
        if any(probe != here for probe in self._all("probe")):
            raise InputError(HASHED_APART.format(model=run.model.label()))

    def _get(self, refs: list) -> list:
        """Wait for every reply, watching the clock and Ctrl-C; a failure is raised here."""
        ray, pending = self.ray, list(refs)
        while pending:
            try:
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL)
                if pending and self.run.tick():
                    self.stop("time-limit")
            except KeyboardInterrupt:
                self.stop("interrupted")
        replies = ray.get(list(refs))
        for reply in replies:
            if isinstance(reply, _Failure):
                raise reply.error
        return replies

    def _all(self, method: str, args: list | None = None) -> list:
        return self._get([a.call.remote(method, *(() if args is None else args[i]))
                          for i, a in enumerate(self.actors)])

    def start(self) -> None:
        self._all("start")

    def level(self, live: list[str]) -> list:
        """Expand, arbitrate, settle: each step's arrays go from actor to actor as object refs."""
        count = self.count

        def each(refs: Any) -> list:
            return refs if count > 1 else [refs]

        sent = [each(a.expand.options(num_returns=count).remote(live)) for a in self.actors]
        answers = [each(a.arbitrate.options(num_returns=count).remote(*[sent[j][i] for j in range(count)]))
                   for i, a in enumerate(self.actors)]
        return self._get([a.settle.remote(*[answers[j][i] for j in range(count)]) for i, a in enumerate(self.actors)])

    def commit(self, ranks: list, cut: int | None) -> list[dict]:
        return self._all("commit", [(r, cut) for r in ranks])

    def parent_of(self, key: Any) -> Any:
        for held, parent in self._all("parent_of", [(key,)] * self.count):
            if held:
                return parent
        raise KeyError(key)

    def save(self, folder: str) -> None:
        self._all("save", [(folder,)] * self.count)

    def load(self, folder: str, shards: int) -> None:
        self._all("load", [(folder, shards)] * self.count)

    def stop(self, reason: str = "time-limit") -> None:
        self.run.stopped_by = self.run.stopped_by or reason
        for actor in self.actors:
            actor.stop.remote()

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        if self.started_here:
            self.ray.shutdown()
