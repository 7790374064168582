"""sacrebleu's TER, the same numbers, several times faster.

sacrebleu's TER (``sacrebleu.metrics.lib_ter``) spends nine tenths of its
time in the shift search: for every candidate shift of the hypothesis, a
beam-limited Levenshtein matrix filled cell by cell in Python. The
candidates of one search step all have the hypothesis's length, so their
matrices have the same beam windows row by row: this module fills the rows
of all candidates at once with numpy (:func:`batch_distances`), and leaves
everything else to sacrebleu's own functions -- the candidates
(``_find_shifted_pairs``, ``trace_to_alignment``, ``_perform_shift``), the
edit distance and operations of the current hypothesis
(``BeamEditDistance``), the choice among candidates, the limits. The
distances are the same integers, so the chosen shifts, the edit counts and
the statistics are the same.

One row ``i`` (hypothesis word ``i``) over the beam's columns ``j``:
``best[j] = min(INF, prev[j-1] + sub(i, j), prev[j] + 1)`` and
``row[j] = min(best[j], row[j-1] + 1)`` (insertion), a running minimum:
``minimum.accumulate(best - j) + j``. Column 0 is a deletion from the row
above, as in sacrebleu; cells outside the beam stay INF.

``tests/test_fast_ter.py`` compares it with sacrebleu's TER on generated
texts (random words, shifted and edited copies, empty and very unequal
lengths) and on the briefing. Another sacrebleu whose TER constants differ
gets its own TER (:func:`make_ter`).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from sacrebleu.metrics import lib_ter
from sacrebleu.metrics.ter import TER

_INF = lib_ter._INT_INFINITY
# the edit operations as bytes (sacrebleu's characters)
_NOP, _SUB, _INS, _DEL, _UNDEF = (ord(c) for c in (lib_ter._OP_NOP, lib_ter._OP_SUB, lib_ter._OP_INS,
                                                     lib_ter._OP_DEL, lib_ter._OP_UNDEF))

#: the sacrebleu constants this port reproduces; another sacrebleu falls back to its own TER
EXPECTED = {"_COST_INS": 1, "_COST_DEL": 1, "_COST_SUB": 1, "_BEAM_WIDTH": 25, "_MAX_CACHE_SIZE": 10000}


def compatible() -> bool:
    """Whether the installed sacrebleu's TER is the one this module reproduces."""
    return all(getattr(lib_ter, name, None) == value for name, value in EXPECTED.items()) and \
        hasattr(lib_ter, "_shift") and hasattr(lib_ter, "BeamEditDistance")


def batch_distances(hyps: Sequence[List[str]], words_ref: List[str]) -> List[int]:
    """sacrebleu's beam edit distance of each of ``hyps`` (all of one length:
    the shifts of one hypothesis) to ``words_ref``, computed for all of them
    at once, row by row. Only the distances: the shift search needs the
    operations of the current hypothesis alone."""
    k = len(hyps)
    n_h = len(hyps[0])
    n_ref = len(words_ref)
    vocab: Dict[str, int] = {}
    ref_ids = np.array([vocab.setdefault(w, len(vocab)) for w in words_ref], dtype=np.int64)
    hyp_ids = np.array([[vocab.setdefault(w, len(vocab)) for w in h] for h in hyps], dtype=np.int64).reshape(k, n_h)
    cols = np.arange(n_ref + 1, dtype=np.int64)
    prev = np.tile(cols * lib_ter._COST_INS, (k, 1))
    length_ratio = n_ref / n_h if n_h else 1
    beam = math.ceil(length_ratio / 2 + lib_ter._BEAM_WIDTH) if lib_ter._BEAM_WIDTH < length_ratio / 2 \
        else lib_ter._BEAM_WIDTH
    for i in range(1, n_h + 1):
        pseudo_diag = math.floor(i * length_ratio)
        min_j = max(0, pseudo_diag - beam)
        max_j = min(n_ref + 1, pseudo_diag + beam)
        if i == n_h:
            max_j = n_ref + 1
        cost = np.full((k, n_ref + 1), _INF, dtype=np.int64)
        lo = min_j
        if min_j == 0 and max_j > 0:
            cost[:, 0] = prev[:, 0] + lib_ter._COST_DEL
            lo = 1
        if lo < max_j:
            mismatch = ref_ids[None, lo - 1:max_j - 1] != hyp_ids[:, i - 1:i]
            sub = prev[:, lo - 1:max_j - 1] + mismatch * lib_ter._COST_SUB
            best = np.minimum(np.minimum(sub, _INF), prev[:, lo:max_j] + lib_ter._COST_DEL)
            # insertion: row[j] = min(best[j], row[j-1] + 1), seeded by the cell left of the beam
            index = cols[lo:max_j] * lib_ter._COST_INS
            seed = (cost[:, lo - 1] if lo > 0 else np.full(k, _INF, dtype=np.int64)) \
                + lib_ter._COST_INS - lo * lib_ter._COST_INS
            running = np.minimum.accumulate(np.minimum(best - index, seed[:, None]), axis=1)
            cost[:, lo:max_j] = np.minimum(running + index, best)
        prev = cost
    return [int(x) for x in prev[:, -1]]


def _shift(words_h: List[str], words_r: List[str], cached_ed, checked_candidates: int):
    """``lib_ter._shift``, the same candidates in the same order and the same
    choice, with the candidates' distances computed in one batch."""
    pre_score, inv_trace = cached_ed(words_h)
    trace = lib_ter._flip_trace(inv_trace)
    align, ref_err, hyp_err = lib_ter.trace_to_alignment(trace)
    candidates = []
    for start_h, start_r, length in lib_ter._find_shifted_pairs(words_h, words_r):
        if sum(hyp_err[start_h: start_h + length]) == 0:
            continue
        if sum(ref_err[start_r: start_r + length]) == 0:
            continue
        if start_h <= align[start_r] < start_h + length:
            continue
        prev_idx = -1
        for offset in range(-1, length):
            if start_r + offset == -1:
                idx = 0
            elif start_r + offset in align:
                idx = align[start_r + offset] + 1
            else:
                break
            if idx == prev_idx:
                continue
            prev_idx = idx
            candidates.append((length, start_h, idx, lib_ter._perform_shift(words_h, start_h, length, idx)))
            checked_candidates += 1
        if checked_candidates >= lib_ter._MAX_SHIFT_CANDIDATES:
            break
    if not candidates:
        return 0, words_h, checked_candidates
    best = None
    distances = batch_distances([c[3] for c in candidates], words_r)
    for (length, start_h, idx, shifted), distance in zip(candidates, distances):
        candidate = (pre_score - distance, length, -start_h, -idx, shifted)
        if not best or candidate > best:
            best = candidate
    return best[0], best[4], checked_candidates


def translation_edit_rate(words_hyp: List[str], words_ref: List[str]) -> Tuple[int, int]:
    """``lib_ter.translation_edit_rate`` with the batched shift search (same result)."""
    n_ref = len(words_ref)
    if n_ref == 0:
        return len(words_hyp), 0
    cached_ed = lib_ter.BeamEditDistance(words_ref)
    shifts = 0
    input_words = words_hyp
    checked = 0
    while True:
        delta, new_words, checked = _shift(input_words, words_ref, cached_ed, checked)
        if checked >= lib_ter._MAX_SHIFT_CANDIDATES or delta <= 0:
            break
        shifts += 1
        input_words = new_words
    distance, _trace = cached_ed(input_words)
    return shifts + distance, n_ref


class FastTER(TER):
    """sacrebleu's ``TER`` whose segment statistics use :func:`translation_edit_rate`."""

    def _compute_segment_statistics(self, hypothesis: str, ref_kwargs: Dict) -> List[float]:
        ref_lengths = 0
        best = int(1e16)
        words_hyp = hypothesis.split()
        ref_words = ref_kwargs["ref_words"]
        for words_ref in ref_words:
            edits, ref_len = translation_edit_rate(words_hyp, words_ref)
            ref_lengths += ref_len
            if edits < best:
                best = edits
        return [best, ref_lengths / len(ref_words)]


def make_ter(**options: Any) -> TER:
    """The fast TER when this sacrebleu is the one it reproduces, else sacrebleu's own."""
    return FastTER(**options) if compatible() else TER(**options)
