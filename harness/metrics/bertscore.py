"""BERTScore-style precision / recall / F1 from all-MiniLM-L6-v2 token embeddings.

The method of Zhang et al. (2020): embed each word piece in context, match
every hypothesis token to its most similar reference token (precision) and
every reference token to its most similar hypothesis token (recall), F1 of
the two; with several references, the reference with the best F1 counts.
Special tokens ([CLS], [SEP]) are left out, as in the original.

It is **not** the published BERTScore: that uses roberta-large (layer 17)
with baseline rescaling; this uses the last layer of the small sentence
model the harness ships, without rescaling, so its values are not
comparable with published BERTScore numbers (they sit higher: unrelated
sentences already score around 0.2-0.3). The label says which model it used:
``bertscore[all-MiniLM-L6-v2,layer=last,idf=no]``.

With ``idf`` on, tokens are weighted by inverse document frequency over the
references scored in the same call (one chunk of passages), ``log((M+1)/(df+1))``
as in the original.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

import numpy as np

from .base import Measurement
from .embedding import MODEL_NAME
from .similarity import EmbeddingMetric


class BertScore(EmbeddingMetric):
    """BERTScore-style F1 of greedy token matching, MiniLM token embeddings (about 0..1, higher is better)."""

    name, order = "bertscore", 50

    def __init__(self, idf: bool = False, embedder_factory=None):
        super().__init__(embedder_factory)
        self.idf = idf

    @classmethod
    def from_config(cls, config) -> "BertScore":
        return cls(idf=config.bertscore_idf)

    @property
    def label(self) -> str:
        return f"bertscore[{MODEL_NAME},layer=last,idf={'yes' if self.idf else 'no'}]"

    def signature(self) -> str:
        return f"{self.label}|rescale:no|refs:best-f1|v:{self.version}"

    def _idf_weights(self, refs: Sequence[Sequence[str]]) -> dict[int, float] | None:
        if not self.idf:
            return None
        documents = [r for rs in refs for r in rs]
        df: Counter[int] = Counter()
        for doc in documents:
            df.update(set(self.embedder.tokenize_ids(doc)))
        m = len(documents)
        return {token: math.log((m + 1) / (count + 1)) for token, count in df.items()} | {-1: math.log(m + 1)}

    def _weights(self, ids: np.ndarray, idf: dict[int, float] | None) -> np.ndarray:
        if idf is None:
            return np.ones(len(ids))
        unseen = idf[-1]  # a token in no reference gets the highest idf
        return np.array([idf.get(int(t), unseen) for t in ids], dtype=float)

    def score_pair(self, hyp: str, ref: str, idf: dict[int, float] | None = None) -> tuple[float, float, float]:
        """(precision, recall, F1) of one hypothesis against one reference."""
        h = self.embedder.token_embeddings(hyp)
        r = self.embedder.token_embeddings(ref)
        if len(h.ids) == 0 or len(r.ids) == 0:
            return 0.0, 0.0, 0.0
        similarity = h.vectors @ r.vectors.T
        wh, wr = self._weights(h.ids, idf), self._weights(r.ids, idf)
        precision = float((similarity.max(axis=1) * wh).sum() / wh.sum()) if wh.sum() else 0.0
        recall = float((similarity.max(axis=0) * wr).sum() / wr.sum()) if wr.sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        return precision, recall, f1

    def _best(self, hyps, refs) -> list[tuple[tuple[float, float, float], int]]:
        self.embedder.prefetch([*hyps, *(r for rs in refs for r in rs)])
        idf = self._idf_weights(refs)
        out = []
        for hyp, ref_list in zip(hyps, refs):
            scored = [self.score_pair(hyp, ref, idf) for ref in ref_list]
            j = int(np.argmax([s[2] for s in scored]))
            out.append((scored[j], j))
        return out

    def measure(self, hyps, refs) -> Measurement:
        best = self._best(hyps, refs)
        rows = [[p, r, f, 1.0] for (p, r, f), _ in best]
        return Measurement(np.asarray(rows, dtype=float).reshape(len(hyps), 4),
                           details=[{"model": self.label, "best_reference": j} for _, j in best])

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(stats_sum[2] / stats_sum[3]) if stats_sum[3] else float("nan")

    def breakdown_from_stats(self, stats: np.ndarray) -> dict[str, float]:
        """Mean precision, recall and F1."""
        n = stats[3]
        if not n:
            return {}
        return {"precision": float(stats[0] / n), "recall": float(stats[1] / n), "f1": float(stats[2] / n)}
