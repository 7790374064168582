"""Score every stage of every passage, and the corpus, from sufficient statistics.

:class:`Scorer` is what the pipeline calls. It scores one *chunk* of passages
at a time (all stages at once, so each shared resource, such as the
embedding model, does one batched pass per chunk) and returns, per passage
and stage, a :class:`~harness.results.StageResult`: sentence scores, the
sufficient statistics the corpus score is computed from, the findings and
details of each metric, and the verdict of the combining metric (the meaning
score). The pipeline keeps only running sums of the statistics
(:meth:`Scorer.sum_stats`) and asks :meth:`Scorer.corpus` for corpus scores
at the end, so a corpus of any size streams in constant memory.

Nothing is rounded here; reports round.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import InputError
from .jsonvalues import plain
from .metrics import Metric, build_metric
from .metrics.base import Measurement
from .metrics.config import MetricsConfig
from .metrics.resources import Resources
from .results import StageResult


class Scorer:
    """Scores stages of passages against references (and round-trip sources).

    ``config`` is the ``metrics:`` section of the run config. Metric objects
    are built once; shared resources load once per process, on the first
    chunk that needs them.
    """

    def __init__(self, config: MetricsConfig | None = None):
        self.config = config or MetricsConfig()
        self._metrics: dict[str, Metric] = {}
        for spec in self.config.metric_names:
            metric = build_metric(spec, self.config)
            if metric.name in self._metrics:
                raise InputError(f"two metrics are both named {metric.name!r} ({spec!r})")
            for resource in metric.requires:
                Resources.check(resource, metric.name)
            self._metrics[metric.name] = metric
        self.resources = Resources(self.config)
        self._bound: set[str] = set()

    # --- lookup ----------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Names of the metrics this scorer runs, in order."""
        return list(self._metrics)

    def metric(self, name: str) -> Metric:
        """The metric object (significance tests resample its statistics rows)."""
        try:
            return self._metrics[name]
        except KeyError:
            raise KeyError(f"no metric {name!r} in this scorer (have: {', '.join(self._metrics)})") from None

    def _measuring(self) -> list[Metric]:
        return [m for m in self._metrics.values() if not m.combines]

    def _combining(self) -> list[Metric]:
        return [m for m in self._metrics.values() if m.combines]

    def _required(self, metrics: Sequence[Metric] | None = None) -> list[str]:
        metrics = list(self._metrics.values()) if metrics is None else metrics
        return list(dict.fromkeys(r for m in metrics for r in m.requires))

    def _bind(self, metrics: Sequence[Metric]) -> None:
        """Give ``metrics`` the shared resources they require (loads them)."""
        for metric in metrics:
            if metric.requires and metric.name not in self._bound:
                metric.bind(self.resources)
                self._bound.add(metric.name)

    def required(self, names: Sequence[str] | None = None) -> list[str]:
        """The shared resources (models) the named metrics (default: all) require."""
        return self._required([m for m in self._measuring() if names is None or m.name in names])

    def load(self, names: Sequence[str] | None = None) -> None:
        """Load the shared resources the named metrics (default: all) require,
        now rather than on the first chunk (a run does this while its worker
        processes clean the first passages)."""
        metrics = [m for m in self._measuring() if names is None or m.name in names]
        self._bind(metrics)

    # --- where each metric runs ----------------------------------------------------
    def process_metrics(self) -> list[str]:
        """Measuring metrics that can run in a worker process: they need no
        resource that stays in the driver (the embedding model keeps its own
        threads there). Their statistics, findings and details depend on one
        passage only, so a worker can measure each passage on its own."""
        return [m.name for m in self._measuring() if not any(Resources.driver_only(r) for r in m.requires)]

    # --- scoring ----------------------------------------------------------------
    def score_chunk(
        self,
        stage_texts: Mapping[str, Sequence[str]],
        refs: Sequence[Sequence[str]],
        roundtrip_sources: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, StageResult]]:
        """Score a chunk of passages.

        ``stage_texts[stage][i]`` is passage ``i`` as it reads after ``stage``;
        ``refs[i]`` its references (any number; an empty list means none, and
        then only reference-free metrics score it); ``roundtrip_sources[stage][i]``
        the text that was round-tripped to produce ``stage_texts[stage][i]``.

        Returns one ``{stage: StageResult}`` per passage.
        """
        measured = self.measure(stage_texts, refs, roundtrip_sources)
        return self.assemble(stage_texts, refs, measured, roundtrip_sources or {})

    def _check(self, stage_texts, refs, roundtrip_sources) -> None:
        n = len(refs)
        for stage, texts in stage_texts.items():
            if len(texts) != n:
                raise InputError(f"stage {stage!r} has {len(texts)} passages but there are {n} reference lists")
        for stage, sources in roundtrip_sources.items():
            if stage not in stage_texts:
                raise InputError(f"round-trip sources given for unknown stage {stage!r}")
            if len(sources) != n:
                raise InputError(f"stage {stage!r} has {len(sources)} round-trip sources for {n} passages")

    def _plan(self, stage_texts, refs, roundtrip_sources, metrics: Sequence[Metric]):
        """``(stage, metric, rows, hyps, metric_refs)`` for every stage and metric
        with something to measure; ``rows`` index the passages."""
        n = len(refs)
        with_refs = [i for i, r in enumerate(refs) if len(r) > 0]
        for stage, texts in stage_texts.items():
            for metric in metrics:
                if metric.needs == "source":
                    rows = list(range(n)) if stage in roundtrip_sources else []
                    metric_refs = [[roundtrip_sources[stage][i]] for i in rows]
                else:
                    rows = with_refs
                    metric_refs = [list(refs[i]) for i in rows]
                if rows:
                    yield stage, metric, rows, [texts[i] for i in rows], metric_refs

    def measure(
        self,
        stage_texts: Mapping[str, Sequence[str]],
        refs: Sequence[Sequence[str]],
        roundtrip_sources: Mapping[str, Sequence[str]] | None = None,
        names: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], Measurement]:
        """What each measuring metric (or only those in ``names``) says about
        each stage of a chunk: ``{(stage, metric): Measurement}``, one row per
        passage it scores (those with references; for a reference-free metric,
        those with a round-trip source). The shared resources these metrics
        require prepare all the chunk's texts in one batch first."""
        roundtrip_sources = roundtrip_sources or {}
        self._check(stage_texts, refs, roundtrip_sources)
        metrics = [m for m in self._measuring() if names is None or m.name in names]
        out: dict[tuple[str, str], Measurement] = {}
        if not refs or not metrics:
            return out
        if self._required(metrics):
            self._bind(metrics)
            self._prefetch(stage_texts, refs, roundtrip_sources, metrics)
        try:
            for stage, metric, _rows, hyps, metric_refs in self._plan(stage_texts, refs, roundtrip_sources, metrics):
                out[(stage, metric.name)] = metric.measured(hyps, metric_refs)
        finally:
            for resource in self.resources.loaded():
                resource.clear()
        return out

    def assemble(
        self,
        stage_texts: Mapping[str, Sequence[str]],
        refs: Sequence[Sequence[str]],
        measured: Mapping[tuple[str, str], Measurement],
        roundtrip_stages: Iterable[str] = (),
    ) -> list[dict[str, StageResult]]:
        """The chunk's records from every metric's measurements (``measured``,
        wherever they were computed: :meth:`measure` here or in a worker
        process), then each combining metric's verdict. ``roundtrip_stages``:
        the stages that had round-trip sources."""
        n = len(refs)
        rt_stages = set(roundtrip_stages)
        results = [{stage: StageResult(texts[i]) for stage, texts in stage_texts.items()} for i in range(n)]
        with_refs = [i for i, r in enumerate(refs) if len(r) > 0]
        for stage in stage_texts:
            for metric in self._measuring():
                if metric.needs == "source":
                    rows = list(range(n)) if stage in rt_stages else []
                else:
                    rows = with_refs
                if not rows:
                    continue
                out = measured.get((stage, metric.name))
                if out is None:
                    raise ValueError(f"metric {metric.name!r} was not measured on stage {stage!r}")
                if len(out.stats) != len(rows):
                    raise ValueError(f"{metric.name}: {len(out.stats)} statistics rows for {len(rows)} passages")
                self._record(results, stage, metric, rows, out)
            for metric in self._combining():
                for i in with_refs:
                    entry = results[i][stage]
                    verdict = metric.combine(entry.scores, entry.findings)
                    entry.verdict = verdict
                    entry.scores[metric.name] = verdict.score
                    entry.stats[metric.name] = [verdict.score, 1.0]
        return results

    def _prefetch(self, stage_texts, refs, roundtrip_sources, metrics: Sequence[Metric]) -> None:
        """One batched pass of every resource over all the chunk's texts: the
        stages, references and round-trip sources, and what the metrics that
        require that resource will give it besides."""
        common = [t for texts in stage_texts.values() for t in texts]
        common += [r for rs in refs for r in rs]
        common += [s for sources in roundtrip_sources.values() for s in sources]
        with_refs = [i for i, r in enumerate(refs) if len(r) > 0]
        for name in self._required(metrics):
            everything = list(common)
            if with_refs:
                for metric in metrics:
                    if name in metric.requires and metric.needs == "references":
                        for texts in stage_texts.values():
                            everything += metric.prefetch_texts([texts[i] for i in with_refs],
                                                                [list(refs[i]) for i in with_refs])
            self.resources.get(name).prefetch(everything)

    def note_references(self, refs: Sequence[Sequence[str]]) -> None:
        """Count the references of passages scored elsewhere (taken from the
        passage cache, or measured in a worker process), so that metric
        signatures (sacrebleu's ``nrefs``) cover every passage of this run.
        Counting a passage twice changes nothing."""
        for metric in self._metrics.values():
            if metric.needs == "references":
                metric.note_references([r for r in refs if len(r) > 0])

    @staticmethod
    def _record(results, stage: str, metric: Metric, rows: list[int], out: Measurement):
        for k, i in enumerate(rows):
            entry: StageResult = results[i][stage]
            row = out.stats[k]
            entry.scores[metric.name] = float(metric.sentence_from_stats(row))
            entry.stats[metric.name] = [float(x) for x in row]
            for key, value in metric.breakdown_from_stats(row).items():
                entry.scores[f"{metric.name}.{key}"] = float(value)
            if out.findings is not None:
                entry.findings.extend(out.findings[k])
            if out.details is not None and out.details[k]:
                entry.details[metric.name] = plain(out.details[k])

    # --- corpus -------------------------------------------------------------------
    def corpus(self, stats_by_stage: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
        """Corpus scores per stage per metric from statistics summed over passages.

        ``stats_by_stage[stage][metric]`` is the element-wise sum of that
        metric's per-passage ``stats`` rows (a list or array). Sub-scores
        (e.g. ``anchors.numbers_recall``) are included as ``metric.key``.
        """
        out: dict[str, dict[str, float]] = {}
        for stage, by_metric in stats_by_stage.items():
            scores: dict[str, float] = {}
            for name, summed in by_metric.items():
                metric = self.metric(name)
                summed = np.asarray(summed, dtype=float)
                scores[name] = float(metric.corpus_from_stats(summed))
                for key, value in metric.breakdown_from_stats(summed).items():
                    scores[f"{name}.{key}"] = float(value)
            out[stage] = scores
        return out

    @staticmethod
    def sum_stats(stages: Iterable[Mapping[str, StageResult]],
                  into: dict[str, dict[str, np.ndarray]] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Add the statistics of scored stages (``{stage: StageResult}`` per
        passage) to running sums ``{stage: {metric: row}}``."""
        into = {} if into is None else into
        for passage in stages:
            for stage, entry in passage.items():
                sums = into.setdefault(stage, {})
                for name, row in entry.stats.items():
                    row = np.asarray(row, dtype=float)
                    sums[name] = row.copy() if name not in sums else sums[name] + row
        return into

    # --- provenance -------------------------------------------------------------------
    def signatures(self) -> dict[str, str]:
        """Reproducibility signature per metric (sacrebleu's own for chrF/BLEU/TER).

        BLEU's sentence scores use effective order, so it also has a
        ``bleu.sentence`` signature.
        """
        out: dict[str, str] = {}
        for name, metric in self._metrics.items():
            out[name] = metric.signature()
            if metric.sentence_signature() != out[name]:
                out[f"{name}.sentence"] = metric.sentence_signature()
        return out

    def describe(self) -> dict[str, Any]:
        """What was measured and with what: each metric's :class:`MetricInfo`,
        the signatures, the embedding model (name and weights hash) and the
        verdict thresholds."""
        info: dict[str, Any] = {
            "metrics": {name: metric.describe().to_json() for name, metric in self._metrics.items()},
            "signatures": self.signatures(),
            "thresholds": self.config.meaning.thresholds.model_dump(),
            "config": self.config.model_dump(mode="json"),
        }
        if "embedder" in self._required():
            from .metrics.embedding import MODEL_NAME, MODEL_PACKAGE, model_path, weights_sha256

            path = model_path()
            info["embedding_model"] = {"name": MODEL_NAME, "package": MODEL_PACKAGE,
                                       "sha256": weights_sha256(str(path))}
        return info
