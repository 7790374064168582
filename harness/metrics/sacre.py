"""sacrebleu's chrF++, BLEU and TER behind the harness :class:`Metric` interface.

Nothing is re-implemented: the statistics come from sacrebleu's own
``_extract_corpus_statistics`` and the scores from its own
``_compute_score_from_stats``, so every sentence and corpus score equals what
``sacrebleu``'s public API returns for the same texts (``tests/test_metrics_sacrebleu.py``
checks this, multi-reference included).

References are per passage lists of any length >= 1. sacrebleu's corpus API
wants reference *streams* (stream ``j`` holds every passage's ``j``-th
reference); shorter lists are padded with ``None``, which sacrebleu drops per
segment ("variable number of references", signature ``nrefs:var``). Padding
with ``''`` would be wrong: an empty string is kept as a real (empty)
reference and changes BLEU's closest reference length and TER's average one.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .base import Metric


def reference_streams(refs: Sequence[Sequence[str]]) -> list[list[str | None]]:
    """Per passage reference lists -> sacrebleu reference streams, padded with ``None``."""
    if any(len(r) == 0 for r in refs):
        raise ValueError("every passage needs at least one reference")
    width = max((len(r) for r in refs), default=0)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(width)]


class SacreBleuMetric(Metric):
    """Adapter around one sacrebleu metric object.

    ``_corpus_metric`` scores corpora; ``_sentence_metric`` scores single
    passages (it differs only for BLEU, whose sentence score uses effective
    order). Both read the same sufficient statistics.
    """

    integer_stats = True  # BLEU and chrF statistics are counts

    def __init__(self, corpus_metric: Any, sentence_metric: Any | None = None):
        self._corpus_metric = corpus_metric
        self._sentence_metric = sentence_metric or corpus_metric
        self._ref_counts: set[int] = set()

    @property
    def version(self) -> str:  # type: ignore[override]
        import sacrebleu

        return sacrebleu.__version__

    # --- statistics --------------------------------------------------------
    def sentence_stats(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> np.ndarray:
        if len(hyps) != len(refs):
            raise ValueError(f"{self.name}: {len(hyps)} hypotheses but {len(refs)} reference lists")
        if not hyps:
            return np.zeros((0, 0))
        self._ref_counts.update(len(r) for r in refs)
        rows = self._corpus_metric._extract_corpus_statistics(list(hyps), reference_streams(refs))
        return np.asarray(rows, dtype=float)

    def note_references(self, refs: Sequence[Sequence[str]]) -> None:
        """Count reference lists scored elsewhere (a cached passage) for the signature."""
        self._ref_counts.update(len(r) for r in refs)

    def _as_sacrebleu_stats(self, stats: np.ndarray) -> list:
        if self.integer_stats:
            return [int(round(x)) for x in stats]
        return [float(x) for x in stats]

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(self._corpus_metric._compute_score_from_stats(self._as_sacrebleu_stats(stats_sum)).score)

    def sentence_from_stats(self, row: np.ndarray) -> float:
        return float(self._sentence_metric._compute_score_from_stats(self._as_sacrebleu_stats(row)).score)

    # --- signatures ----------------------------------------------------------
    def _format_signature(self, metric: Any) -> str:
        # sacrebleu learns the number of references while scoring; we track it
        # over every chunk of the run, so the signature covers the whole run.
        if len(self._ref_counts) == 1:
            metric.num_refs = next(iter(self._ref_counts))
        elif self._ref_counts:
            metric.num_refs = -1  # sacrebleu's marker for 'var'
        else:
            metric.num_refs = "?"  # nothing scored yet
        return metric.get_signature().format()

    def signature(self) -> str:
        """sacrebleu's signature of the corpus-level metric."""
        return self._format_signature(self._corpus_metric)

    def sentence_signature(self) -> str:
        """sacrebleu's signature of the sentence-level metric."""
        return self._format_signature(self._sentence_metric)


class ChrF(SacreBleuMetric):
    """chrF++ (character 6-grams plus word bigrams, beta 2), sacrebleu defaults."""

    name = "chrf"
    higher_is_better = True
    range = (0.0, 100.0)
    margin = 1.0  # chrF++ points
    order = 10

    def __init__(self) -> None:
        from sacrebleu.metrics import CHRF

        super().__init__(CHRF(word_order=2))


class Bleu(SacreBleuMetric):
    """BLEU (13a tokenisation, exp smoothing); sentence scores use effective order."""

    name = "bleu"
    higher_is_better = True
    range = (0.0, 100.0)
    margin = 1.0  # BLEU points
    order = 20

    def __init__(self) -> None:
        from sacrebleu.metrics import BLEU

        super().__init__(BLEU(), BLEU(effective_order=True))


class Ter(SacreBleuMetric):
    """Translation edit rate (edits per reference word, x100; lower is better).

    Length rule: a passage whose hypothesis or a reference has more than
    ``SEGMENT_ABOVE_WORDS`` words is scored per aligned segment (cut about
    every ``SEGMENT_WORDS`` words where hypothesis and reference agree; edits
    summed over segments), because sacrebleu's TER grows much faster than the
    length (a 20,000-character passage took 438 s). Shorter passages get
    sacrebleu's number exactly."""

    name = "ter"
    higher_is_better = False
    range = (0.0, float("inf"))
    margin = 1.0  # TER points; lower is better, so a rise is the drop
    order = 30
    integer_stats = False  # the average reference length is fractional
    #: passages above this many words (hypothesis or any reference) are scored per aligned segment
    SEGMENT_ABOVE_WORDS = 250
    #: the length of those segments, in words
    SEGMENT_WORDS = 100

    def __init__(self) -> None:
        from .fast_ter import make_ter

        super().__init__(make_ter())  # sacrebleu's TER, its shift search batched (same numbers)

    def sentence_stats(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> np.ndarray:
        long = [i for i, (h, rs) in enumerate(zip(hyps, refs)) if self._is_long(h, rs)]
        if not long or len(hyps) != len(refs):
            return super().sentence_stats(hyps, refs)
        short = [i for i in range(len(hyps)) if i not in set(long)]
        rows = np.zeros((len(hyps), 2))
        if short:
            rows[short] = super().sentence_stats([hyps[i] for i in short], [refs[i] for i in short])
        self._ref_counts.update(len(refs[i]) for i in long)
        for i in long:
            rows[i] = self.segmented_stats(hyps[i], refs[i])
        return rows

    def _words(self, text: str) -> list[str]:
        return self._corpus_metric._preprocess_segment(text).split()

    def _is_long(self, hyp: str, refs: Sequence[str]) -> bool:
        limit = self.SEGMENT_ABOVE_WORDS
        return len(self._words(hyp)) > limit or any(len(self._words(r)) > limit for r in refs)

    def segmented_stats(self, hyp: str, refs: Sequence[str]) -> list[float]:
        """``[best edits, average reference length]`` as sacrebleu computes them
        per passage, with each reference's edits summed over aligned segments."""
        from .fast_ter import compatible

        if compatible():
            from .fast_ter import translation_edit_rate
        else:
            from sacrebleu.metrics.lib_ter import translation_edit_rate

        hyp_words = self._words(hyp)
        best, lengths = None, 0
        for ref in refs:
            ref_words = self._words(ref)
            edits = 0
            for i1, i2, j1, j2 in aligned_segments(hyp_words, ref_words, self.SEGMENT_WORDS):
                edits += translation_edit_rate(hyp_words[i1:i2], ref_words[j1:j2])[0]
            lengths += len(ref_words)
            best = edits if best is None else min(best, edits)
        return [float(best or 0), lengths / len(refs)]


#: aligned_segments diffs stretches up to this many words exactly (difflib), longer
#: ones by nearest agreement, which keeps the cuts near the texts' diagonal
ALIGN_EXACT_WORDS = 40


def aligned_segments(hyp: Sequence[str], ref: Sequence[str], target: int) -> list[tuple[int, int, int, int]]:
    """Cut two word lists into aligned segments ``(i1, i2, j1, j2)`` of about
    ``target`` words: cuts fall where the word diff of the two says they
    agree; a changed stretch longer than ``target`` is cut in proportion.
    The segments tile both lists, in order."""
    from ..cleaners.spans import diff_opcodes

    cuts = [(0, 0)]
    for tag, i1, i2, j1, j2 in diff_opcodes(list(hyp), list(ref), exact_limit=ALIGN_EXACT_WORDS):
        si, sj = cuts[-1]
        if tag == "equal":
            i, j = i1, j1
            while True:
                step = max(0, target - max(i - si, j - sj))  # 0: the segment is long enough already
                if i + step >= i2:
                    break
                i, j = i + step, j + step
                cuts.append((i, j))
                si, sj = i, j
        else:
            pieces = -(-max(i2 - i1, j2 - j1) // target)  # ceil
            for k in range(1, pieces):
                cuts.append((i1 + (i2 - i1) * k // pieces, j1 + (j2 - j1) * k // pieces))
    cuts.append((len(hyp), len(ref)))
    segments = []
    for (i1, j1), (i2, j2) in zip(cuts, cuts[1:]):
        if (i1, j1) != (i2, j2):
            segments.append((i1, i2, j1, j2))
    return segments
