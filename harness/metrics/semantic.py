"""What changed in meaning, clause by clause: the semantic comparison as a metric.

Each text is parsed (spaCy) and compared with its references by
:mod:`harness.semantic`: aligned predicates and their participants, polarity,
modality, quantifiers, and word-level coverage through MiniLM token
embeddings. It reports typed findings (``antonym``, ``quantifier``, ``role``,
``entity``, ``modality``, ``negation``, ``dropped``, ``added``) and scores
how much content survived:

* **recall**: the share of the closest reference's content words that the
  text covers (a word found by lemma, synonym or derived form counts fully,
  one found only through the embedding counts by how close it is);
* **precision**: the share of the text's content words that some reference
  covers;
* the score is their F1; sub-scores ``missing`` and ``added`` are the
  uncovered content itself, in words (per passage, means over a corpus),
  and ``changes`` the number of major findings. The meaning score reads all
  of them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import Measurement, Metric

#: statistics columns: kept words of the closest reference, its content words,
#: kept words of the text, its content words, major findings, passages
_KEPT_REF, _REF, _KEPT_TEXT, _TEXT, _CHANGES, _COUNT = range(6)


def _ratio(kept: float, total: float) -> float:
    return float(kept / total) if total else 1.0


class Semantic(Metric):
    """Content kept, clause by clause (F1 of covered content words, 0..1, higher
    is better), with the typed meaning changes it found."""

    name = "semantic"
    version = "13"
    higher_is_better = True
    range = (0.0, 1.0)
    margin = 0.01
    order = 65
    requires = ("embedder", "nlp")
    #: uncovered content and changes: fewer is better
    sub_directions = {"missing": False, "added": False, "changes": False}

    def __init__(self):
        self._embedder = None
        self._parser = None

    def bind(self, resources) -> None:
        self._embedder = resources.get("embedder")
        self._parser = resources.get("nlp")

    def _resources(self):
        if self._parser is None:  # standalone use (outside a scorer)
            from ..metrics.embedding import load_embedder
            from ..nlp import ParseCache

            self._embedder, self._parser = load_embedder(), ParseCache()
        return self._embedder, self._parser

    def signature(self) -> str:
        from .. import nlp
        from .embedding import MODEL_NAME

        return f"semantic|parser:{nlp.MODEL_MODULE}|words:{MODEL_NAME}|lexicon:wordnet-3.0+harness|v:{self.version}"

    def measure(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> Measurement:
        from ..semantic.align import piece_offsets, word_vectors
        from ..semantic.compare import compare

        embedder, parser = self._resources()
        texts = [*hyps, *(r for rs in refs for r in rs)]
        embedder.prefetch(texts)
        parser.prefetch(texts)
        offsets = piece_offsets(embedder, texts)  # one tokenizer call for the chunk's texts
        vectors: dict[str, np.ndarray | None] = {}

        def vectors_of(doc):
            if doc.text not in vectors:
                vectors[doc.text] = word_vectors(embedder, doc, offsets.get(doc.text, ...))
            return vectors[doc.text]

        rows, findings = [], []
        for hyp, references in zip(hyps, refs):
            result = compare(parser.parse(hyp), [parser.parse(r) for r in references], vectors_of)
            major = sum(1 for f in result.findings if f.severity == "major")
            rows.append([result.reference_words - result.missing_mass, result.reference_words,
                         result.text_words - result.extra_mass, result.text_words, major, 1.0])
            findings.append(result.findings)
        return Measurement(np.asarray(rows, dtype=float).reshape(len(hyps), 6), findings)

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        recall = _ratio(stats_sum[_KEPT_REF], stats_sum[_REF])
        precision = _ratio(stats_sum[_KEPT_TEXT], stats_sum[_TEXT])
        return 2 * recall * precision / (recall + precision) if recall + precision else 0.0

    def breakdown_from_stats(self, stats: np.ndarray) -> dict[str, float]:
        count = stats[_COUNT] or 1.0
        return {
            "recall": _ratio(stats[_KEPT_REF], stats[_REF]),
            "precision": _ratio(stats[_KEPT_TEXT], stats[_TEXT]),
            "missing": float((stats[_REF] - stats[_KEPT_REF]) / count),
            "added": float((stats[_TEXT] - stats[_KEPT_TEXT]) / count),
            "changes": float(stats[_CHANGES] / count),
        }
