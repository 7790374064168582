"""The pipeline: load -> clean -> retranslate -> score -> report.

Passages flow through in chunks. Each finished chunk is appended to
``results.jsonl`` before the next starts, so an interrupted run loses at most
the chunk in flight and a rerun picks up where it stopped. Corpus scores come
from running sums of each metric's sufficient statistics, so memory stays flat
however long the transcript is.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
import signal
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT, RunConfig, load_config
from .errors import PassageError
from .loading import Passage, dataset_fingerprint, load_dataset
from .memory import release_freed_memory
from .results import (BANDS, RESULTS_SCHEMA, CLEANED, DISTORTED, RETRANSLATED, CleanerEdit, FailedPassage, PassageResult,
                      RoundTripInfo, RunHeader, RunSummary, StageResult, iter_passages)
from .results import PassageError as ResultError
from .runstore import RunStore, find_resumable
from .signature import build_signature, signature_string

DEFAULT_RUNS_ROOT = Path("runs")
#: config fields that change no number: the inputs (hashed as data), the
#: regression gate's settings, and where the work runs
NOT_IN_SIGNATURE = {"transcript", "references", "regress", "execution"}


class Progress:
    """What the pipeline tells a progress display; the default says nothing."""

    def start(self, total_passages: int, already_done: int) -> None: ...
    def step(self, description: str) -> None: ...
    def loading(self, what: str) -> None: ...
    def loaded(self) -> None: ...
    def sentences(self, total: int) -> Callable[[int], None] | None: return None
    def advance(self, passages: int) -> None: ...
    def finish(self) -> None: ...


@dataclass
class RunOutcome:
    """Where a finished run is, its header, and how many passages were computed or resumed."""

    out_dir: Path
    header: RunHeader
    computed: int = 0
    resumed: int = 0


# --------------------------------------------------------------------------
# Stage: clean
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _time_limit(seconds: float, what: str) -> Iterator[None]:
    """Interrupt a hung (pure Python) cleaner. Only possible in the main thread;
    elsewhere the limit is not enforced rather than enforced wrongly."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise PassageError(f"{what} took longer than {seconds:g} s (cleaner_timeout_s)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class CleaningStage:
    """The cleaner chain. A chain with a user's cleaner (one that is not built
    in) runs each passage in a worker process when ``isolate`` (the default):
    whatever the user's code does there (``sys.exit``, ``os._exit``, raise
    ``KeyboardInterrupt``, ignore SIGALRM and loop), only its passage fails,
    and ``cleaner_timeout_s`` is a real limit (the worker is killed)."""

    def __init__(self, config: RunConfig, *, isolate: bool = True):
        specs = config.cleaner_specs()
        self.cleaners = []
        self.user_code = False
        if specs:
            from .cleaners import CLEANERS, build_cleaner

            self.cleaners = [build_cleaner(spec.name, spec.options or None) for spec in specs]
            builtins = set(CLEANERS.builtin_names())
            self.user_code = any(spec.name not in builtins for spec in specs)
        self.timeout_s = config.cleaner_timeout_s
        self.isolate = isolate and self.user_code
        self._config = config
        self._sandbox = None

    @property
    def active(self) -> bool:
        return bool(self.cleaners)

    def describe(self) -> list[dict[str, str]]:
        return [{"name": c.name, "version": str(c.version)} for c in self.cleaners]

    def clean(self, passage: Passage) -> tuple[str, list[CleanerEdit]]:
        """The cleaned text and its edits; raises PassageError for a failing cleaner."""
        if self.isolate:
            if self._sandbox is None:
                from .execution.pool import WorkerPool

                self._sandbox = WorkerPool(1, worker_config(self._config))
            return self.outcome(self.submit(self._sandbox, passage), passage.id)
        return self.clean_text(passage.id, passage.text)

    def submit(self, pool, passage: Passage):
        """Clean ``passage`` in a worker of ``pool`` (a future for :meth:`outcome`)."""
        return pool.submit("clean", (passage.id, passage.text), timeout=self.timeout_s)

    def outcome(self, future, passage_id: str) -> tuple[str, list[CleanerEdit]]:
        """What a worker made of a passage: its text and edits, or PassageError."""
        from .execution.pool import TaskFailed, TaskTimeout, WorkerLost

        try:
            return future.result()
        except TaskFailed as exc:
            if exc.kind == "PassageError":
                raise PassageError(exc.message, detail=exc.detail) from None
            raise PassageError(f"cleaner failed on passage {passage_id}: {exc.kind}: {exc.message}",
                               detail=exc.traceback) from None
        except TaskTimeout:
            raise PassageError(f"cleaning passage {passage_id} took longer than {self.timeout_s:g} s "
                               f"(cleaner_timeout_s); its worker process was stopped") from None
        except WorkerLost as exc:
            raise PassageError(f"a cleaner ended its worker process on passage {passage_id} "
                               f"({str(exc).split('(', 1)[-1].rstrip(')')})") from None

    def clean_text(self, passage_id: str, text: str) -> tuple[str, list[CleanerEdit]]:
        """Run the chain here, in this process (a worker's task)."""
        from .cleaners import run_chain

        try:
            with _time_limit(self.timeout_s, f"cleaning passage {passage_id}"):
                cleaned, edits = run_chain(self.cleaners, text)
        except PassageError:
            raise
        except Exception as exc:  # a user's cleaner: report it with its traceback, go on
            raise PassageError(
                f"cleaner failed on passage {passage_id}: {type(exc).__name__}: {exc}",
                detail=traceback.format_exc(),
            ) from None
        if not isinstance(cleaned, str):
            raise PassageError(f"cleaner returned {type(cleaned).__name__}, not str, on passage {passage_id}")
        if _SURROGATE.search(cleaned):  # e.g. bytes decoded with surrogateescape: not text, cannot be saved
            raise PassageError(f"cleaner returned text with an unpaired surrogate "
                               f"(U+{ord(_SURROGATE.search(cleaned).group()):04X}) on passage {passage_id}")
        return cleaned, [CleanerEdit.from_json(edit) for edit in edits]

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def worker_config(config: RunConfig) -> dict[str, Any]:
    """The run config as a worker process rebuilds it (plain JSON)."""
    return config.model_dump(mode="json")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _savable(text: str) -> str:
    """An error message or traceback as text a UTF-8 file can hold (a lone
    surrogate in a user's exception becomes a backslash escape)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

class ChunkWork:
    """One chunk on its way through the stages: texts so far, failures, edits, round trips."""

    def __init__(self, chunk: list[Passage]):
        self.chunk = chunk
        self.records = {p.id: PassageResult(p.id, p.speaker, list(p.references)) for p in chunk}
        self.ok: list[Passage] = []
        self.texts: dict[str, dict[str, str]] = {p.id: {DISTORTED: p.text} for p in chunk}
        self.edits: dict[str, list[CleanerEdit]] = {}
        self.round_trips: dict[str, RoundTripInfo] = {}

    def cleaned(self, passage: Passage, text: str | None = None, edits: list[CleanerEdit] | None = None) -> None:
        """``passage`` goes on (with its cleaned text, when there are cleaners)."""
        if text is not None:
            self.texts[passage.id][CLEANED] = text
            self.edits[passage.id] = list(edits or [])
        self.ok.append(passage)

    def failed(self, passage: Passage, exc: PassageError) -> None:
        """A cleaner failed ``passage``: it is recorded with its error and goes no further."""
        record = self.records[passage.id]
        record.stages = {DISTORTED: StageResult(passage.text)}
        record.error = ResultError(CLEANED, _savable(str(exc)), _savable(exc.detail))

    def scored(self, scored: list[dict[str, StageResult]]) -> None:
        for passage, stages in zip(self.ok, scored):
            if CLEANED in stages:
                stages[CLEANED].edits = self.edits.get(passage.id, [])
            if RETRANSLATED in stages:
                stages[RETRANSLATED].round_trip = self.round_trips[passage.id]
            self.records[passage.id].stages = stages

    def results(self) -> list[PassageResult]:
        return [self.records[p.id] for p in self.chunk]


class Pipeline:
    """Builds every stage once (models load once per run), then streams chunks."""

    def __init__(self, config: RunConfig, *, cache_dir: Path | None = None, use_cache: bool = True):
        from .execution import check_executor
        from .scoring import Scorer
        from .translate import build_round_trip, open_cache

        check_executor(config)
        self.config = config
        self.cleaning = CleaningStage(config)
        self.cache = open_cache(cache_dir, use_cache)
        self.round_trip = build_round_trip(config.retranslation, self.cache)
        self.scorer = Scorer(config.metrics)

    @property
    def stages(self) -> list[str]:
        stages = [DISTORTED]
        if self.cleaning.active:
            stages.append(CLEANED)
        if self.round_trip is not None:
            stages.append(RETRANSLATED)
        return stages

    def signature(self, passages: Sequence[Passage]) -> dict[str, Any]:
        dataset = dataset_fingerprint(passages)
        dataset["n_passages"] = len(passages)
        return build_signature(
            dataset=dataset,
            config=self.config.model_dump(mode="json", exclude=NOT_IN_SIGNATURE),
            cleaners=self.cleaning.describe(),
            retranslation=self.round_trip.describe() if self.round_trip is not None else None,
            metrics=self.scorer.describe(),
            results_schema=RESULTS_SCHEMA,
        )

    # -- models --------------------------------------------------------------
    def load_models(self, progress: Progress, metrics: Sequence[str] | None = None) -> None:
        """Load the models (the shared resources of ``metrics``, default all,
        and the translators' models) before the first passage is computed, as
        a step of its own: loading can take a minute, and a passages bar at 0/N
        said nothing. A run served whole from the passage cache loads none."""
        if getattr(self, "_models_loaded", False):
            return
        from .translate.base import Loadable

        hops = [stage for stage in (self.round_trip.stages if self.round_trip is not None else [])
                if isinstance(stage.translator, Loadable)]
        names = [*self.scorer.required(metrics), *(f"{stage.backend} {stage.label}" for stage in hops)]
        if names:
            progress.loading(", ".join(names))
            try:
                self.scorer.load(metrics)
                for stage in hops:
                    stage.translator.load(stage.src, stage.tgt)
            finally:
                progress.loaded()
        self._models_loaded = True

    # -- one chunk -----------------------------------------------------------
    def process_chunk(self, chunk: list[Passage], progress: Progress) -> list[PassageResult]:
        """One chunk, every stage, in this process (the reference every executor equals)."""
        self.load_models(progress)
        work = ChunkWork(chunk)
        progress.step("cleaning")
        for passage in chunk:
            if self.cleaning.active:
                try:
                    work.cleaned(passage, *self.cleaning.clean(passage))
                except PassageError as exc:
                    work.failed(passage, exc)
            else:
                work.cleaned(passage)
        self.retranslate(work, progress)
        if work.ok:
            progress.step("scoring")
            stage_texts, refs, rt_sources = self.scoring_inputs(work)
            work.scored(self.scorer.score_chunk(stage_texts, refs, rt_sources))
        return work.results()

    @property
    def source_stage(self) -> str:
        """The stage whose text is round-tripped."""
        return CLEANED if self.cleaning.active else DISTORTED

    def retranslate(self, work: "ChunkWork", progress: Progress) -> None:
        """Round-trip the cleaned passages of ``work`` (here: the engines run their own threads)."""
        if self.round_trip is None or not work.ok:
            return
        progress.step("retranslating")
        sources = [work.texts[p.id][self.source_stage] for p in work.ok]
        results = self.round_trip.run(sources, progress=progress.sentences(len(sources)))
        for passage, result in zip(work.ok, results):
            work.texts[passage.id][RETRANSLATED] = result.text
            work.round_trips[passage.id] = RoundTripInfo(list(result.hops), list(result.warnings), result.sentences,
                                                         result.length_flags, result.translation_notes)

    def scoring_inputs(self, work: "ChunkWork"):
        """``(stage_texts, refs, roundtrip_sources)`` of the passages of ``work`` still going."""
        stage_texts = {stage: [work.texts[p.id][stage] for p in work.ok] for stage in self.stages}
        rt_sources = ({RETRANSLATED: [work.texts[p.id][self.source_stage] for p in work.ok]}
                      if work.round_trips else None)
        return stage_texts, [p.references for p in work.ok], rt_sources

    def passage_cache(self, signature: dict[str, Any]):
        """Finished records of this pipeline from earlier runs (None with --no-cache)."""
        if self.cache is None:
            return None
        from .passage_cache import PassageCache

        components = [*self.cleaning.cleaners, *(self.scorer.metric(name) for name in self.scorer.names)]
        if self.round_trip is not None:
            components += [stage.translator for stage in self.round_trip.stages]
        return PassageCache.for_pipeline(self.cache, signature, components, f"passages:{self.config.name}")

    def executor(self, progress: Progress):
        """Where this run's chunks are computed (``execution:`` in the config)."""
        from .execution.local import make_executor

        return make_executor(self, progress)

    def _computed(self, executor, chunks: Iterator[list[Passage]], cache) -> Iterator[tuple[list[Passage], list[PassageResult]]]:
        """Each chunk with its records in passage order: a chunk an earlier run
        finished comes whole from ``cache`` (see :mod:`harness.passage_cache`:
        served only with the same neighbours, a cached chunk has the bytes of
        a fresh one), the others from ``executor``."""
        pending: deque = deque()

        def missing() -> Iterator[list[Passage]]:
            for chunk in chunks:
                # (finalize_run counts the references of every record, cached ones included)
                found = (cache.get_chunk(chunk) if cache is not None else None) or {}
                todo = [] if found else chunk
                pending.append((chunk, found, todo))
                yield todo

        for computed in executor.map(missing()):
            chunk, found, todo = pending.popleft()
            if cache is not None and todo:
                cache.put_chunk(todo, computed)
            found.update((record.id, record) for record in computed)
            yield chunk, [found[p.id] for p in chunk]

    # -- the whole run -------------------------------------------------------
    def run(self, passages: list[Passage], out_dir: Path, *, force: bool = False, resume: bool = True,
            progress: Progress | None = None) -> RunOutcome:
        progress = progress or Progress()
        signature = self.signature(passages)
        store = RunStore(out_dir)
        with store:
            done = store.open(signature, force=force, resume=resume)
            todo = [p for p in passages if p.id not in done]
            progress.start(len(passages), len(passages) - len(todo))
            try:
                passage_cache = self.passage_cache(signature)
                chunks = (todo[start:start + self.config.chunk_size]
                          for start in range(0, len(todo), self.config.chunk_size))
                with self.executor(progress) as executor:
                    for chunk, records in self._computed(executor, chunks, passage_cache):
                        store.append([record.to_json() for record in records])
                        release_freed_memory()  # memory stays flat however long the run (see harness/memory.py)
                        progress.advance(len(chunk))
                progress.step("writing reports")
                outcome = finalize_run(store, signature, self.scorer, self.stages, [p.id for p in passages])
                outcome.computed, outcome.resumed = len(todo), len(passages) - len(todo)
            finally:
                # also on Ctrl-C or a full disk: the bars give the terminal
                # back (cursor shown) before the error line is printed
                progress.finish()
                self.cleaning.close()
        return outcome


def finalize_run(store: RunStore, signature: dict[str, Any], scorer, stages: list[str],
                 order: list[str]) -> RunOutcome:
    """Aggregate the per-passage records into corpus scores and write every report.

    Streams ``results.jsonl`` twice (sums, then writers) instead of holding the
    run in memory.
    """
    from .report import write_reports

    sums: dict[str, dict[str, np.ndarray]] = {stage: {} for stage in stages}
    summary = RunSummary(passages=len(order), verdicts={stage: {band: 0 for band in BANDS} for stage in stages})
    failed: list[FailedPassage] = []
    for record in iter_passages(store):
        if record.error is not None:
            failed.append(FailedPassage(record.id, record.error))
            continue
        summary.scored += 1
        # metric signatures (sacrebleu's nrefs) count the references of every
        # scored passage, also of those a resumed run or the cache did not score now
        scorer.note_references([record.references])
        scorer.sum_stats([{stage: record.stages[stage] for stage in stages}], sums)
        for stage in stages:
            verdict = record.stages[stage].verdict
            if verdict is not None and verdict.band in BANDS:
                summary.verdicts[stage][verdict.band] += 1
        round_trip = record.stages[RETRANSLATED].round_trip if RETRANSLATED in record.stages else None
        if round_trip is not None:
            summary.retranslation_warnings += round_trip.length_flags
            summary.translation_notes += round_trip.translation_notes
    summary.failed = len(failed)
    summary.finished_at = datetime.now().astimezone().isoformat(timespec="seconds")
    corpus = scorer.corpus(sums) if summary.scored else {stage: {} for stage in stages}
    header = RunHeader(signature=signature, stages=stages, corpus=corpus, summary=summary, failed=failed,
                       metric_signatures=scorer.signatures(), signature_string=signature_string(signature))
    write_reports(store, header, order)
    store.mark_complete(signature, summary.to_json())
    return RunOutcome(store.out_dir, header)


# --------------------------------------------------------------------------
# Entry points used by the CLI and by other commands (compare, regress)
# --------------------------------------------------------------------------

def resolve_inputs(config: RunConfig, transcript: Path | None, references: Sequence[Path] | None
                   ) -> tuple[Path, list[Path] | None]:
    """CLI flags beat the config; the bundled briefing is the default input.

    A transcript given without references is scored reference-free (only
    round-trip consistency); the CLI says so.
    """
    transcript_path = transcript or config.transcript
    reference_paths = list(references) if references else (config.references or None)
    if transcript_path is None:
        transcript_path = BUNDLED_TRANSCRIPT
        if reference_paths is None:
            reference_paths = [BUNDLED_REFERENCES]
    return Path(transcript_path), reference_paths


def default_out_dir(config: RunConfig, signature_key: str, runs_root: Path = DEFAULT_RUNS_ROOT) -> Path:
    """Resume the newest unfinished run of this pipeline, else a new timestamped folder."""
    resumable = find_resumable(runs_root, config.name, signature_key)
    if resumable is not None:
        return resumable
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = runs_root / f"{config.name}-{stamp}"
    suffix = 1
    while candidate.exists():
        suffix += 1
        candidate = runs_root / f"{config.name}-{stamp}-{suffix}"
    return candidate


def run_config(config: RunConfig | str | Path | None = None, *, transcript: Path | None = None,
               references: Sequence[Path] | None = None, out_dir: Path | None = None,
               runs_root: Path = DEFAULT_RUNS_ROOT, cache_dir: Path | None = None, use_cache: bool = True,
               force: bool = False, progress: Progress | None = None) -> RunOutcome:
    """Run one config end to end and return where its results are."""
    if not isinstance(config, RunConfig):
        config = load_config(config)
    transcript_path, reference_paths = resolve_inputs(config, transcript, references)
    passages = load_dataset(transcript_path, reference_paths, max_chars=config.max_passage_chars)
    pipeline = Pipeline(config, cache_dir=cache_dir, use_cache=use_cache)
    if out_dir is None:
        out_dir = default_out_dir(config, pipeline.signature(passages)["key"], runs_root)
    return pipeline.run(passages, Path(out_dir), force=force, progress=progress)
