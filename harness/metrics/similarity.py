"""Embedding similarity: cosine with references, and round-trip consistency.

Both use the shared all-MiniLM-L6-v2 embedder (:mod:`.embedding`), loaded the
first time a score is needed.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .base import MeanMetric, Measurement, mean_rows
from .embedding import MODEL_NAME, Embedder, load_embedder


class EmbeddingMetric(MeanMetric):
    """Base for metrics that read the shared embedder (similarities on -1..1)."""

    requires = ("embedder",)
    range = (-1.0, 1.0)
    margin = 0.01

    def __init__(self, embedder_factory: Callable[[], Embedder] | None = None):
        self._embedder_factory = embedder_factory or load_embedder
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def bind(self, resources) -> None:
        """Use the scorer's shared embedder."""
        self._embedder = resources.get("embedder")


class Cosine(EmbeddingMetric):
    """Cosine of sentence embeddings, best over the references (-1..1, higher is better)."""

    name, order = "cosine", 40

    def signature(self) -> str:
        return f"cosine|model:{MODEL_NAME}|pool:mean|refs:best|v:{self.version}"

    def best(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[tuple[float, int]]:
        """(best cosine, index of that reference) per hypothesis."""
        embedder = self.embedder
        embedder.prefetch([*hyps, *(r for rs in refs for r in rs)])
        hyp_vectors = embedder.sentence_vectors(list(hyps))
        out = []
        for vector, ref_list in zip(hyp_vectors, refs):
            sims = embedder.sentence_vectors(list(ref_list)) @ vector
            j = int(np.argmax(sims))
            out.append((float(np.clip(sims[j], -1.0, 1.0)), j))
        return out

    def sentence_scores(self, hyps, refs) -> list[float]:
        return [score for score, _ in self.best(hyps, refs)]

    def measure(self, hyps, refs) -> Measurement:
        best = self.best(hyps, refs)
        details = [{"best_reference": j, "windowed": self.embedder.was_windowed(hyp)} for hyp, (_, j) in zip(hyps, best)]
        return Measurement(mean_rows([score for score, _ in best], len(hyps)), details=details)


class RoundTrip(Cosine):
    """Round-trip consistency, reference-free: cosine between a stage's text and
    the text it was round-tripped from (e.g. retranslated vs. cleaned).

    ``refs[i]`` holds the single source text of passage ``i``. High means the
    round trip kept the meaning; it says nothing about whether the source was
    right, which is why it needs no references.
    """

    name = "roundtrip"
    needs = "source"
    order = 80

    def signature(self) -> str:
        return f"roundtrip|model:{MODEL_NAME}|pool:mean|sim:cosine|v:{self.version}"

    def measure(self, hyps, refs) -> Measurement:
        scores = [score for score, _ in self.best(hyps, refs)]
        return Measurement(mean_rows(scores, len(hyps)), details=[{"windowed": self.embedder.was_windowed(hyp)}
                                                                 for hyp in hyps])
