"""The local executors: one process, or this machine's cores.

:class:`SerialExecutor` (``workers: 1``) computes each chunk in the run's
process, as :meth:`~harness.pipeline.Pipeline.process_chunk` does (a user's
cleaner still runs in a worker process of its own).

:class:`PoolExecutor` (``workers: N > 1``, the default on a machine with
several cores) splits the work by what holds the GIL:

* in :class:`~harness.execution.pool.WorkerPool` processes: the cleaner
  chain (one task per passage) and the metrics that need no driver-side
  model -- chrF, BLEU, TER, anchors, ... -- (one task per passage and stage,
  so a long passage's TER does not hold up the others);
* in the run's process: the translation engines and the embedding model,
  which run their own threads, and the translation and passage caches (one
  writer), the records and the files.

The next chunk's cleaning and distorted-stage scoring are handed to the
workers before this process translates and embeds the current one, so the
workers are busy while it is. The pieces are the same as in the serial
executor, and each metric of a worker scores one passage on its own, so the
records are identical, whatever the number of workers.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from ..errors import PassageError
from ..metrics.base import Measurement
from ..results import CLEANED, DISTORTED, RETRANSLATED, PassageResult
from .config import available_cores

if TYPE_CHECKING:  # pragma: no cover
    from ..loading import Passage
    from ..pipeline import ChunkWork, Pipeline, Progress


def make_executor(pipeline: "Pipeline", progress: "Progress"):
    """The executor the run config's ``execution:`` section asks for."""
    execution = pipeline.config.execution
    if execution.executor == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(pipeline, progress)
    workers = execution.local_workers()
    if workers <= 1:
        return SerialExecutor(pipeline, progress)
    return PoolExecutor(pipeline, progress, workers)


class SerialExecutor:
    """Every chunk in this process, one after the other."""

    def __init__(self, pipeline: "Pipeline", progress: "Progress"):
        self.pipeline = pipeline
        self.progress = progress

    def map(self, chunks: Iterable[list["Passage"]]) -> Iterator[list[PassageResult]]:
        """The records of each chunk's passages, chunk by chunk, in order."""
        for chunk in chunks:
            yield self.pipeline.process_chunk(chunk, self.progress) if chunk else []

    def close(self, *, kill: bool = False) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(kill=exc_type is not None)


def concat_measurements(parts: list[Measurement]) -> Measurement:
    """One measurement of several passages from one measurement per passage (in order)."""
    stats = np.concatenate([np.asarray(p.stats, dtype=float) for p in parts], axis=0)
    findings = None
    if any(p.findings is not None for p in parts):
        findings = [row for p in parts for row in (p.findings if p.findings is not None else [[]] * len(p.stats))]
    details = None
    if any(p.details is not None for p in parts):
        details = [row for p in parts for row in (p.details if p.details is not None else [{}] * len(p.stats))]
    return Measurement(stats, findings, details)


class _InFlight:
    """A chunk whose work the pool has: cleaning futures, measurement futures."""

    def __init__(self, work: "ChunkWork"):
        self.work = work
        self.cleaning: dict[str, object] = {}
        self.measures: dict[tuple[str, str], object] = {}  # (passage id, stage) -> future


class PoolExecutor:
    """Cleaners and worker-side metrics in ``workers`` processes, models here."""

    #: a worker killed while measuring (the OOM killer, a crash) is replaced and the task retried
    MEASURE_RETRIES = 2

    def __init__(self, pipeline: "Pipeline", progress: "Progress", workers: int):
        from ..pipeline import worker_config
        from .pool import WorkerPool

        self.pipeline = pipeline
        self.progress = progress
        self.scorer = pipeline.scorer
        self.process_metrics = pipeline.scorer.process_metrics()
        self.driver_metrics = [n for n in pipeline.scorer.names if n not in self.process_metrics]
        self.pool = WorkerPool(workers, worker_config(pipeline.config))

    def close(self, *, kill: bool = False) -> None:
        self.pool.close(kill=kill)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest) -> None:
        self.close(kill=exc_type is not None)

    def _share_cores(self) -> None:
        """The workers keep every core busy: torch's threads here would only
        wait for one (its threads spin while they wait, and slow everything
        on a full machine). The embeddings do not depend on the number of
        threads (the briefing test compares a 1-worker and a 2-worker run)."""
        if "torch" in sys.modules:
            import torch

            torch.set_num_threads(max(1, available_cores() - self.pool.size + 1))

    # -- handing work to the pool ---------------------------------------------
    def _measure(self, flight: _InFlight, passage: "Passage", stage: str, text: str, source: str | None) -> None:
        if not self.process_metrics or (not passage.references and source is None):
            return
        payload = (stage, text, list(passage.references), source, self.process_metrics)
        flight.measures[(passage.id, stage)] = self.pool.submit("measure", payload, retries=self.MEASURE_RETRIES)

    def _start(self, chunk: list["Passage"] | None) -> _InFlight | None:
        """Give the pool a chunk's cleaning and its distorted stage's scoring."""
        if chunk is None:
            return None
        from ..pipeline import ChunkWork

        flight = _InFlight(ChunkWork(chunk))
        cleaning = self.pipeline.cleaning
        for passage in chunk:
            if cleaning.active:
                flight.cleaning[passage.id] = cleaning.submit(self.pool, passage)
            self._measure(flight, passage, DISTORTED, passage.text, None)
        return flight

    # -- a chunk ------------------------------------------------------------------------
    def map(self, chunks: Iterable[list["Passage"]]) -> Iterator[list[PassageResult]]:
        """The records of each chunk's passages, chunk by chunk, in order."""
        chunks = iter(chunks)
        following = self._start(next(chunks, None))
        loaded = False
        while following is not None:
            flight = following
            work = flight.work
            if work.chunk and not loaded:  # the embedding model loads while the workers clean
                self.pipeline.load_models(self.progress, self.driver_metrics)
                self._share_cores()
                loaded = True
            self.progress.step("cleaning")
            cleaning = self.pipeline.cleaning
            for passage in work.chunk:
                if not cleaning.active:
                    work.cleaned(passage)
                    continue
                try:
                    text, edits = cleaning.outcome(flight.cleaning[passage.id], passage.id)
                except PassageError as exc:
                    work.failed(passage, exc)
                    continue
                work.cleaned(passage, text, edits)
                self._measure(flight, passage, CLEANED, text, None)
            # the workers go on with the next chunk while this process translates and embeds
            following = self._start(next(chunks, None))
            self.pipeline.retranslate(work, self.progress)
            for passage in work.ok:
                if RETRANSLATED in work.texts[passage.id]:
                    self._measure(flight, passage, RETRANSLATED, work.texts[passage.id][RETRANSLATED],
                                  work.texts[passage.id][self.pipeline.source_stage])
            if work.ok:
                self.progress.step("scoring")
                stage_texts, refs, rt_sources = self.pipeline.scoring_inputs(work)
                measured = self.scorer.measure(stage_texts, refs, rt_sources, self.driver_metrics) \
                    if self.driver_metrics else {}
                measured.update(self._gather(flight, stage_texts))
                self.scorer.note_references([r for r in refs if r])
                work.scored(self.scorer.assemble(stage_texts, refs, measured, rt_sources or {}))
            yield work.results()

    def _gather(self, flight: _InFlight, stage_texts) -> dict[tuple[str, str], Measurement]:
        """The workers' measurements of the passages still going, merged per stage and metric."""
        parts: dict[tuple[str, str], list[Measurement]] = {}
        for stage in stage_texts:
            for passage in flight.work.ok:
                future = flight.measures.get((passage.id, stage))
                if future is None:
                    continue
                for key, measurement in future.result().items():
                    parts.setdefault(key, []).append(measurement)
        return {key: concat_measurements(pieces) for key, pieces in parts.items()}
