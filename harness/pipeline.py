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
    def __init__(self, config: RunConfig):
        specs = config.cleaner_specs()
        self.cleaners = []
        if specs:
            from .cleaners import build_cleaner

            self.cleaners = [build_cleaner(spec.name, spec.options or None) for spec in specs]
        self.timeout_s = config.cleaner_timeout_s

    @property
    def active(self) -> bool:
        return bool(self.cleaners)

    def describe(self) -> list[dict[str, str]]:
        return [{"name": c.name, "version": str(c.version)} for c in self.cleaners]

    def clean(self, passage: Passage) -> tuple[str, list[CleanerEdit]]:
        """The cleaned text and its edits; raises PassageError for a failing cleaner."""
        from .cleaners import run_chain

        try:
            with _time_limit(self.timeout_s, f"cleaning passage {passage.id}"):
                text, edits = run_chain(self.cleaners, passage.text)
        except PassageError:
            raise
        except Exception as exc:  # a user's cleaner: report it with its traceback, go on
            raise PassageError(
                f"cleaner failed on passage {passage.id}: {type(exc).__name__}: {exc}",
                detail=traceback.format_exc(),
            ) from None
        if not isinstance(text, str):
            raise PassageError(f"cleaner returned {type(text).__name__}, not str, on passage {passage.id}")
        if _SURROGATE.search(text):  # e.g. bytes decoded with surrogateescape: not text, cannot be saved
            raise PassageError(f"cleaner returned text with an unpaired surrogate "
                               f"(U+{ord(_SURROGATE.search(text).group()):04X}) on passage {passage.id}")
        return text, [CleanerEdit.from_json(edit) for edit in edits]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _savable(text: str) -> str:
    """An error message or traceback as text a UTF-8 file can hold (a lone
    surrogate in a user's exception becomes a backslash escape)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

class Pipeline:
    """Builds every stage once (models load once per run), then streams chunks."""

    def __init__(self, config: RunConfig, *, cache_dir: Path | None = None, use_cache: bool = True):
        from .scoring import Scorer
        from .translate import build_round_trip, open_cache

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
            config=self.config.model_dump(mode="json", exclude={"transcript", "references", "regress"}),
            cleaners=self.cleaning.describe(),
            retranslation=self.round_trip.describe() if self.round_trip is not None else None,
            metrics=self.scorer.describe(),
            results_schema=RESULTS_SCHEMA,
        )

    # -- models --------------------------------------------------------------
    def load_models(self, progress: Progress) -> None:
        """Load the models (the metrics' shared resources, the translators'
        models) before the first passage is computed, as a step of its own:
        loading can take a minute, and a passages bar at 0/N said nothing.
        A run served whole from the passage cache loads none."""
        if getattr(self, "_models_loaded", False):
            return
        from .translate.base import Loadable

        hops = [stage for stage in (self.round_trip.stages if self.round_trip is not None else [])
                if isinstance(stage.translator, Loadable)]
        names = [*self.scorer._required(), *(f"{stage.backend} {stage.label}" for stage in hops)]
        if names:
            progress.loading(", ".join(names))
            try:
                self.scorer.load()
                for stage in hops:
                    stage.translator.load(stage.src, stage.tgt)
            finally:
                progress.loaded()
        self._models_loaded = True

    # -- one chunk -----------------------------------------------------------
    def process_chunk(self, chunk: list[Passage], progress: Progress) -> list[PassageResult]:
        self.load_models(progress)
        records = {p.id: PassageResult(p.id, p.speaker, list(p.references)) for p in chunk}
        ok: list[Passage] = []
        texts: dict[str, dict[str, str]] = {}
        edits: dict[str, list[CleanerEdit]] = {}

        progress.step("cleaning")
        for passage in chunk:
            texts[passage.id] = {DISTORTED: passage.text}
            if self.cleaning.active:
                try:
                    cleaned, edits[passage.id] = self.cleaning.clean(passage)
                except PassageError as exc:
                    records[passage.id].stages = {DISTORTED: StageResult(passage.text)}
                    records[passage.id].error = ResultError(CLEANED, _savable(str(exc)), _savable(exc.detail))
                    continue
                texts[passage.id][CLEANED] = cleaned
            ok.append(passage)

        source_stage = CLEANED if self.cleaning.active else DISTORTED
        round_trips = {}
        if self.round_trip is not None and ok:
            progress.step("retranslating")
            sources = [texts[p.id][source_stage] for p in ok]
            results = self.round_trip.run(sources, progress=progress.sentences(len(sources)))
            for passage, result in zip(ok, results):
                texts[passage.id][RETRANSLATED] = result.text
                round_trips[passage.id] = RoundTripInfo(list(result.hops), list(result.warnings), result.sentences,
                                                        result.length_flags, result.translation_notes)

        if ok:
            progress.step("scoring")
            stage_texts = {stage: [texts[p.id][stage] for p in ok] for stage in self.stages}
            rt_sources = {RETRANSLATED: [texts[p.id][source_stage] for p in ok]} if round_trips else None
            scored = self.scorer.score_chunk(stage_texts, [p.references for p in ok], rt_sources)
            for passage, stages in zip(ok, scored):
                if CLEANED in stages:
                    stages[CLEANED].edits = edits.get(passage.id, [])
                if RETRANSLATED in stages:
                    stages[RETRANSLATED].round_trip = round_trips[passage.id]
                records[passage.id].stages = stages
        return [records[p.id] for p in chunk]

    def passage_cache(self, signature: dict[str, Any]):
        """Finished records of this pipeline from earlier runs (None with --no-cache)."""
        if self.cache is None:
            return None
        from .passage_cache import PassageCache

        components = [*self.cleaning.cleaners, *(self.scorer.metric(name) for name in self.scorer.names)]
        if self.round_trip is not None:
            components += [stage.translator for stage in self.round_trip.stages]
        return PassageCache.for_pipeline(self.cache, signature, components, f"passages:{self.config.name}")

    def process_chunk_cached(self, chunk: list[Passage], progress: Progress, cache) -> list[PassageResult]:
        """:meth:`process_chunk`, or the records an earlier run computed for
        this same chunk (a chunk is served whole or computed whole, so the
        numbers are those of an uncached run to the last bit: see
        :mod:`harness.passage_cache`)."""
        if cache is None:
            return self.process_chunk(chunk, progress)
        found = cache.get_chunk(chunk)
        if found is not None:
            return [found[p.id] for p in chunk]
        computed = self.process_chunk(chunk, progress)
        cache.put_chunk(chunk, computed)
        return computed

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
                for start in range(0, len(todo), self.config.chunk_size):
                    chunk = todo[start:start + self.config.chunk_size]
                    store.append([record.to_json() for record in self.process_chunk_cached(chunk, progress, passage_cache)])
                    release_freed_memory()  # memory stays flat however long the run (see harness/memory.py)
                    progress.advance(len(chunk))
                progress.step("writing reports")
                outcome = finalize_run(store, signature, self.scorer, self.stages, [p.id for p in passages])
                outcome.computed, outcome.resumed = len(todo), len(passages) - len(todo)
            finally:
                # also on Ctrl-C or a full disk: the bars give the terminal
                # back (cursor shown) before the error line is printed
                progress.finish()
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
