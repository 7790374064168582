"""``executor: ray``: chunks of passages through Ray actors.

Imported only when a run asks for Ray (the local executor never imports it).

Why actors, not Ray Data's ``map_batches``: the run needs (1) a driver that
appends each finished chunk to ``results.jsonl`` in order, as it arrives, so
a killed run resumes; (2) the passage cache looked up on the driver before a
chunk is sent, so finished passages never travel; (3) one writer for the
translation cache; (4) models loaded once per worker and reused for every
chunk. Actors give all four with Ray core alone (``pip install ray``; Ray
Data would add pyarrow and pandas to the install), and Ray's actor restarts
with task retries recompute a chunk whose actor died.

* :class:`ChunkActor` -- one per worker: builds the pipeline from the run
  config once (cleaners, translation engines, the embedding model: each
  loaded on first use, then reused) and computes whole chunks with the same
  code as the local serial executor
  (:meth:`~harness.pipeline.Pipeline.process_chunk`).
* :class:`CacheActor` -- the one owner of the translation cache's SQLite
  file, on the driver's node; actors read and write translations through it.
* :class:`RayExecutor` -- the driver's side: keeps ``chunks_per_actor``
  chunks in flight per actor, and yields the records chunk by chunk in order.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..errors import ConfigError, HarnessError
from ..results import PassageResult

if TYPE_CHECKING:  # pragma: no cover
    from ..loading import Passage
    from ..pipeline import Pipeline, Progress

try:
    import ray
except ImportError:  # pragma: no cover - exercised by a test that hides ray
    ray = None

from . import RAY_MISSING


def require_ray():
    """The ``ray`` module, or a one-line error (exit 2) naming the extra to install."""
    if ray is None:
        raise ConfigError(RAY_MISSING)
    return ray


def uses_gpu(config) -> bool:
    """Whether the pipeline asks for a GPU: a translation backend or the
    embedding model on ``cuda`` (``auto`` counts when the cluster has GPUs)."""
    devices = [str(config.metrics.device or "")]
    retranslation = config.retranslation
    if retranslation.backend != "none":
        for src, tgt in retranslation.hops():
            _backend, options = retranslation.direction(src, tgt)
            devices.append(str(options.get("device", "")))
    if any(d.startswith("cuda") for d in devices):
        return True
    return "auto" in devices and bool(ray.cluster_resources().get("GPU", 0))


class _RemoteCache:
    """A :class:`~harness.translate.cache.TranslationCache` look-alike whose
    reads and writes go to the :class:`CacheActor`."""

    def __init__(self, actor):
        self.actor = actor

    def get_many(self, keys):
        return ray.get(self.actor.get_many.remote(list(keys))) if keys else {}

    def put_many(self, items):
        items = list(items)
        return ray.get(self.actor.put_many.remote(items)) if items else 0


class CacheActor:
    """Owns the translation cache file: every read and write of the run's actors."""

    def __init__(self, path: str):
        from ..translate.cache import TranslationCache

        self.cache = TranslationCache(path)

    def get_many(self, keys):
        return self.cache.get_many(keys)

    def put_many(self, items):
        return self.cache.put_many(items)


class ChunkActor:
    """A worker on the cluster: the pipeline built once, whole chunks computed."""

    def __init__(self, config: dict[str, Any], cache, cwd: str, sys_path: list[str]):
        # a user's plugin imports here as it does on the driver (same machine,
        # or a cluster whose nodes have the same paths)
        for entry in sys_path:
            if entry not in sys.path and os.path.isdir(entry):
                sys.path.append(entry)
        if os.path.isdir(cwd):
            os.chdir(cwd)
        from ..config import config_from_dict
        from ..pipeline import Pipeline

        run_config = config_from_dict(config, "run config")
        self.pipeline = Pipeline(run_config, use_cache=False)
        if cache is not None and self.pipeline.round_trip is not None:
            self.pipeline.round_trip.cache = _RemoteCache(cache)

    def process(self, chunk: list["Passage"]) -> list[dict[str, Any]]:
        from ..pipeline import Progress

        return [record.to_json() for record in self.pipeline.process_chunk(chunk, Progress())]

    def pid(self) -> int:
        return os.getpid()


class RayExecutor:
    """The driver's side of a Ray run (see the module's docstring)."""

    def __init__(self, pipeline: "Pipeline", progress: "Progress"):
        require_ray()
        from ..pipeline import worker_config

        self.pipeline = pipeline
        self.progress = progress
        config = pipeline.config
        self.options = config.execution.ray
        self._started = False
        if not ray.is_initialized():
            self._init(config)
        self.actors: list[Any] = []
        self.cache_actor = None
        try:
            self._start_actors(config, worker_config(config))
        except BaseException:
            self.close(kill=True)
            raise

    def _init(self, config) -> None:
        address = self.options.address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
        if address is None and config.execution.workers is not None:
            kwargs["num_cpus"] = int(max(1, config.execution.workers * self.options.num_cpus))
        try:
            ray.init(address=address, **kwargs)
        except ConnectionError as exc:
            raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc}") from None
        self._started = True

    def _start_actors(self, config, plain_config: dict[str, Any]) -> None:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = ray.get_runtime_context().get_node_id()
        cache = self.pipeline.cache
        if cache is not None and self.pipeline.round_trip is not None:
            self.cache_actor = ray.remote(CacheActor).options(
                num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
            ).remote(str(cache.path))
        resources = ray.cluster_resources()
        count = config.execution.workers
        gpus = self.options.num_gpus if uses_gpu(config) else 0
        if count is None:
            count = int(resources.get("CPU", 1) // self.options.num_cpus)
            if gpus:
                count = min(count, int(resources.get("GPU", 0) // gpus))
        count = max(1, count)
        actor_class = ray.remote(ChunkActor).options(
            num_cpus=self.options.num_cpus, num_gpus=gpus, max_restarts=self.options.max_restarts,
            max_task_retries=self.options.max_restarts,
        )
        cwd, sys_path = os.getcwd(), list(sys.path)
        self.actors = [actor_class.remote(plain_config, self.cache_actor, cwd, sys_path) for _ in range(count)]

    # -- chunks ------------------------------------------------------------------
    def map(self, chunks: Iterable[list["Passage"]]) -> Iterator[list[PassageResult]]:
        """The records of each chunk's passages, chunk by chunk, in order."""
        in_flight: deque = deque()
        limit = len(self.actors) * self.options.chunks_per_actor
        turn = 0
        self.progress.step(f"computing on Ray ({len(self.actors)} actors)")
        for chunk in chunks:
            if chunk:
                actor = self.actors[turn % len(self.actors)]
                turn += 1
                in_flight.append((chunk, actor.process.remote(chunk)))
            else:
                in_flight.append((chunk, None))
            while len(in_flight) > limit or (in_flight and in_flight[0][1] is None):
                yield self._records(*in_flight.popleft())
        while in_flight:
            yield self._records(*in_flight.popleft())

    def _records(self, chunk: list["Passage"], ref) -> list[PassageResult]:
        if ref is None:
            return []
        try:
            records = [PassageResult.from_json(data) for data in ray.get(ref)]
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, HarnessError):
                raise cause from None
            raise
        # sacrebleu's signatures count the references of every scored passage
        self.pipeline.scorer.note_references([r.references for r in records if r.error is None and r.references])
        return records

    def close(self, *, kill: bool = False) -> None:
        for actor in [*self.actors, *([self.cache_actor] if self.cache_actor is not None else [])]:
            try:
                ray.kill(actor)
            except Exception:  # already gone
                pass
        self.actors, self.cache_actor = [], None
        if self._started:
            ray.shutdown()
            self._started = False

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(kill=exc_type is not None)
