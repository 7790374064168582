"""The metric interface shared by built-in and user metrics.

Like sacrebleu, a corpus score is computed from *summed sufficient statistics*
(for BLEU: n-gram matches and lengths), not by averaging sentence scores. That
one design makes corpus scores correct for every metric and lets significance
tests resample any metric the same way: resample rows of the statistics
matrix, sum, and call :meth:`Metric.corpus_from_stats`.

For metrics whose corpus score *is* the mean of sentence scores (cosine,
meaning score), the statistics are simply ``[score, 1]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np


@dataclass
class MetricOutput:
    """Scores for one stage of a run: one row per passage."""

    name: str
    sentence: list[float]
    corpus: float
    stats: np.ndarray  # shape (n_passages, k): sufficient statistics per passage
    details: list[dict[str, Any]] = field(default_factory=list)  # optional, per passage


class Metric:
    """Base class. Subclasses set the class attributes and implement
    :meth:`sentence_stats`, :meth:`corpus_from_stats` and
    :meth:`sentence_from_stats`."""

    name: str = "metric"
    version: str = "1"
    higher_is_better: bool = True
    #: 'references' (scored against references) or 'source' (reference-free,
    #: scored against a source text, e.g. round-trip consistency)
    needs: str = "references"
    #: the score range, for reports and verdicts
    range: tuple[float, float] = (0.0, 100.0)

    def signature(self) -> str:
        return f"{self.name}|v:{self.version}"

    # --- to implement -----------------------------------------------------
    def sentence_stats(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> np.ndarray:
        """Sufficient statistics, shape ``(len(hyps), k)``. ``refs[i]`` is the
        list of references for ``hyps[i]`` (any number, at least one)."""
        raise NotImplementedError

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        """The corpus score from statistics summed over passages."""
        raise NotImplementedError

    def sentence_from_stats(self, row: np.ndarray) -> float:
        """The sentence score from one passage's statistics (default: as corpus)."""
        return self.corpus_from_stats(row)

    def details(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
        """Optional per-passage explanations (what was lost, which spans)."""
        return []

    # --- provided ---------------------------------------------------------
    def compute(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> MetricOutput:
        stats = np.asarray(self.sentence_stats(hyps, refs), dtype=float)
        if stats.ndim != 2 or stats.shape[0] != len(hyps):
            raise ValueError(f"{self.name}: sentence_stats must have shape (n, k), got {stats.shape}")
        sentence = [float(self.sentence_from_stats(row)) for row in stats]
        corpus = float(self.corpus_from_stats(stats.sum(axis=0))) if len(hyps) else float("nan")
        return MetricOutput(self.name, sentence, corpus, stats, self.details(hyps, refs))


class MeanMetric(Metric):
    """A metric whose corpus score is the mean of per-passage scores."""

    def sentence_scores(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[float]:
        raise NotImplementedError

    def sentence_stats(self, hyps, refs) -> np.ndarray:
        scores = self.sentence_scores(hyps, refs)
        return np.array([[s, 1.0] for s in scores], dtype=float).reshape(len(hyps), 2)

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(stats_sum[0] / stats_sum[1]) if stats_sum[1] else float("nan")
