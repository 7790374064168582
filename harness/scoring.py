"""Score every stage of every passage, and the corpus, from sufficient statistics.

:class:`Scorer` is what the pipeline calls. It scores one *chunk* of passages
at a time (all stages at once, so the embedding model runs one batched pass
per chunk) and returns, per passage and stage, the sentence scores, the
sufficient statistics the corpus score is computed from, per-metric details
and the meaning verdict. The pipeline keeps only running sums of the
statistics and asks :meth:`Scorer.corpus` for corpus scores at the end, so a
corpus of any size streams in constant memory.

Everything returned is plain Python (``float``, ``list``, ``dict``, ``str``):
JSON-serialisable as it is. Nothing is rounded here; reports round.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import InputError
from .metrics import Metric, build_metric
from .metrics.config import MetricsConfig


def _plain(value: Any) -> Any:
    """numpy scalars/arrays -> Python floats/lists, recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _first_paragraph(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.split("\n\n")[0].split())


def _json_range(bounds: tuple[float, float]) -> list[float | None]:
    return [None if math.isinf(b) else float(b) for b in bounds]


class Scorer:
    """Scores stages of passages against references (and round-trip sources).

    ``config`` is the ``metrics:`` section of the run config. Metric objects
    are built once; the embedding model is loaded once per process, on the
    first chunk that needs it.
    """

    def __init__(self, config: MetricsConfig | None = None):
        self.config = config or MetricsConfig()
        self._metrics: dict[str, Metric] = {}
        for spec in self.config.metric_names:
            metric = build_metric(spec, self.config)
            if metric.name in self._metrics:
                raise InputError(f"two metrics are both named {metric.name!r} ({spec!r})")
            self._metrics[metric.name] = metric
        self._embedder = None

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

    def _uses_embedder(self) -> bool:
        return any(getattr(m, "uses_embedder", False) for m in self._metrics.values())

    def _share_embedder(self):
        from .metrics.embedding import load_embedder

        if self._embedder is None:
            self._embedder = load_embedder(self.config.device, self.config.embedding_batch_size)
            for metric in self._metrics.values():
                if getattr(metric, "uses_embedder", False):
                    metric.use_embedder(self._embedder)
        return self._embedder

    # --- scoring ----------------------------------------------------------------
    def score_chunk(
        self,
        stage_texts: Mapping[str, Sequence[str]],
        refs: Sequence[Sequence[str]],
        roundtrip_sources: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, dict[str, Any]]]:
        """Score a chunk of passages.

        ``stage_texts[stage][i]`` is passage ``i`` as it reads after ``stage``;
        ``refs[i]`` its references (any number; an empty list means none, and
        then only reference-free metrics score it); ``roundtrip_sources[stage][i]``
        the text that was round-tripped to produce ``stage_texts[stage][i]``.

        Returns one dict per passage: ``{stage: {"scores": {metric: float},
        "stats": {metric: [float, ...]}, "details": {metric: {...}},
        "verdict": {"score", "band", "reasons"} | None}}``.
        """
        n = len(refs)
        roundtrip_sources = roundtrip_sources or {}
        for stage, texts in stage_texts.items():
            if len(texts) != n:
                raise InputError(f"stage {stage!r} has {len(texts)} passages but there are {n} reference lists")
        for stage, sources in roundtrip_sources.items():
            if stage not in stage_texts:
                raise InputError(f"round-trip sources given for unknown stage {stage!r}")
            if len(sources) != n:
                raise InputError(f"stage {stage!r} has {len(sources)} round-trip sources for {n} passages")

        results: list[dict[str, dict[str, Any]]] = [
            {stage: {"scores": {}, "stats": {}, "details": {}, "verdict": None} for stage in stage_texts}
            for _ in range(n)
        ]
        with_refs = [i for i, r in enumerate(refs) if len(r) > 0]
        embedder = None
        if self._uses_embedder() and n:
            embedder = self._share_embedder()
            # One batched forward pass for everything the chunk needs.
            everything = [t for texts in stage_texts.values() for t in texts]
            everything += [r for rs in refs for r in rs]
            everything += [s for sources in roundtrip_sources.values() for s in sources]
            for metric in self._metrics.values():
                extra_inputs = getattr(metric, "embedding_inputs", None)
                if callable(extra_inputs) and metric.needs == "references" and with_refs:
                    for texts in stage_texts.values():
                        everything += extra_inputs([texts[i] for i in with_refs], [list(refs[i]) for i in with_refs])
            embedder.prefetch(everything)
        try:
            for stage, texts in stage_texts.items():
                for name, metric in self._metrics.items():
                    if getattr(metric, "combines_metrics", False):
                        continue  # the meaning score reads the others; it runs last
                    if metric.needs == "source":
                        if stage not in roundtrip_sources:
                            continue
                        rows = list(range(n))
                        metric_refs = [[roundtrip_sources[stage][i]] for i in rows]
                    else:
                        rows = with_refs
                        metric_refs = [list(refs[i]) for i in rows]
                    if not rows:
                        continue
                    self._record(results, stage, metric, rows, [texts[i] for i in rows], metric_refs)
                for name, metric in self._metrics.items():
                    if getattr(metric, "combines_metrics", False):
                        for i in with_refs:
                            entry = results[i][stage]
                            verdict = metric.judge(entry["scores"], entry["details"])
                            entry["verdict"] = verdict
                            entry["scores"][name] = verdict["score"]
                            entry["stats"][name] = [verdict["score"], 1.0]
        finally:
            if embedder is not None:
                embedder.clear()
        return results

    def note_references(self, refs: Sequence[Sequence[str]]) -> None:
        """Count the references of passages scored in an earlier run (taken from
        the passage cache), so that metric signatures (sacrebleu's ``nrefs``)
        cover every passage of this run."""
        for metric in self._metrics.values():
            note = getattr(metric, "note_references", None)
            if callable(note) and metric.needs == "references":
                note([r for r in refs if len(r) > 0])

    def _record(self, results, stage: str, metric: Metric, rows: list[int], hyps: list[str], refs: list[list[str]]):
        output = metric.compute(hyps, refs)
        breakdown = getattr(metric, "breakdown_from_stats", None)
        for k, i in enumerate(rows):
            entry = results[i][stage]
            entry["scores"][metric.name] = float(output.sentence[k])
            entry["stats"][metric.name] = [float(x) for x in output.stats[k]]
            if callable(breakdown):
                for key, value in breakdown(output.stats[k]).items():
                    entry["scores"][f"{metric.name}.{key}"] = float(value)
            if output.details:
                entry["details"][metric.name] = _plain(output.details[k])

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
                breakdown = getattr(metric, "breakdown_from_stats", None)
                if callable(breakdown):
                    for key, value in breakdown(summed).items():
                        scores[f"{name}.{key}"] = float(value)
            out[stage] = scores
        return out

    @staticmethod
    def sum_stats(chunk_results: Sequence[Mapping[str, Mapping[str, Any]]],
                  into: dict[str, dict[str, np.ndarray]] | None = None) -> dict[str, dict[str, np.ndarray]]:
        """Add the ``stats`` rows of :meth:`score_chunk` results to running sums."""
        into = {} if into is None else into
        for passage in chunk_results:
            for stage, entry in passage.items():
                sums = into.setdefault(stage, {})
                for name, row in entry["stats"].items():
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
            sentence_signature = getattr(metric, "sentence_signature", None)
            if callable(sentence_signature) and sentence_signature() != out[name]:
                out[f"{name}.sentence"] = sentence_signature()
        return out

    def describe(self) -> dict[str, Any]:
        """What was measured and with what: names, versions, ranges, signatures,
        the embedding model (name and weights hash) and the verdict thresholds."""
        metrics = {}
        for name, metric in self._metrics.items():
            metrics[name] = {
                "version": str(metric.version),
                "higher_is_better": bool(metric.higher_is_better),
                "range": _json_range(metric.range),
                "needs": metric.needs,
                "description": _first_paragraph(getattr(metric, "function", metric)),
            }
        info: dict[str, Any] = {
            "metrics": metrics,
            "signatures": self.signatures(),
            "thresholds": self.config.meaning.thresholds.model_dump(),
            "config": self.config.model_dump(mode="json"),
        }
        if self._uses_embedder():
            from .metrics.embedding import MODEL_NAME, MODEL_PACKAGE, model_path, weights_sha256

            path = model_path()
            info["embedding_model"] = {"name": MODEL_NAME, "package": MODEL_PACKAGE,
                                       "sha256": weights_sha256(str(path))}
        return info
