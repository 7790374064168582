"""Significance tests and confidence intervals over sufficient statistics.

Every metric in the harness scores a corpus from *summed* per-passage
sufficient statistics (see :mod:`harness.metrics.base`). So one set of tests
serves every metric: resample rows of the ``(n_passages, k)`` statistics
matrix, sum them, and score the sums with the metric's ``corpus_from_stats``.

The procedures reproduce sacrebleu's (``sacrebleu/significance.py``, 2.x)
resampling schemes, random streams and formulas, so that with the same seed
and the same statistics the p-values are the ones ``sacrebleu --paired-bs`` /
``--paired-ar`` print:

* **bootstrap CI** -- ``numpy.random.default_rng(seed)``, one
  ``rng.choice(n, (R, n))`` draw of resample indices, the percentile interval
  with ``n // 40`` resamples cut from each side (for alpha = 0.05), and the
  mean of the resampled scores (sacrebleu prints ``mean +- half-width``);
* **paired bootstrap** (Koehn 2004, as in Moses'
  ``bootstrap-hypothesis-difference-significance.pl``) -- both systems are
  scored on the same resamples; the absolute resampled differences are
  centred on their mean (the null hypothesis) and compared with the observed
  absolute difference. Note that this p-value behaves like a *one-sided*
  one: when there is no true difference it falls below 0.05 in about 10 % of
  comparisons (measured: 10.6 % of 1,000 null replicates, against 4.9 % for
  approximate randomization). Base decisions on the AR p-value, or on the
  paired difference interval :attr:`PairedResult.delta_ci` excluding zero;
* **paired approximate randomization** (Noreen 1989; Riezler & Maxwell 2005)
  -- each trial swaps each passage's outputs between the two systems with
  probability 1/2 (``rng.integers(2, (R, n), dtype=bool)``);
  ``p = (c + 1) / (R + 1)``.

One deliberate difference: sacrebleu counts resamples *strictly* more extreme
than the observed difference, so a system compared with itself (all
differences exactly 0) gets ``p = 1 / (R + 1)``, i.e. "significant". Here a
resample counts when it is *at least as* extreme (the textbook permutation
p-value), with a 1e-9 relative tolerance for floating-point noise. This only
changes results when the null distribution has mass exactly at the observed
value; identical systems get ``p = 1.0`` and are never significant.

Everything is vectorised: resample indices are turned into a count matrix
and summed with one matrix product per chunk. Scoring the sums calls the
metric's ``corpus_from_stats`` once per resample, unless a batch scorer is
available (``batch_score_fn``, or the metric's own
:meth:`~harness.metrics.base.Metric.corpus_from_stats_batch`, a single numpy
expression for a :class:`~harness.metrics.base.MeanMetric`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, NamedTuple, Optional

import numpy as np

from .metrics.base import Metric

ScoreFn = Callable[[np.ndarray], float]
"""Scores one row of summed statistics, e.g. ``Metric.corpus_from_stats``."""
BatchScoreFn = Callable[[np.ndarray], np.ndarray]
"""Scores many rows of summed statistics at once: ``(R, k) -> (R,)``."""

DEFAULT_SEED = 12345  # sacrebleu's default SACREBLEU_SEED
DEFAULT_RESAMPLES = 1000  # sacrebleu's default for --paired-bs and --confidence
DEFAULT_TRIALS = 10000  # sacrebleu's default for --paired-ar

# A resampled statistic within this relative distance of the observed one is
# "as extreme" (ties must not make a p-value smaller).
_TIE_RTOL = 1e-9
# Rows of the resample matrix handled per matrix product (bounds memory).
_CHUNK_ROWS = 2048


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


class ConfidenceInterval(NamedTuple):
    """A bootstrap percentile interval, unpackable as ``(mean, lower, upper)``.

    ``mean`` is the mean of the resampled scores (what sacrebleu prints as
    ``mu``); :attr:`half_width` is sacrebleu's ``+-`` figure.
    """

    mean: float
    lower: float
    upper: float

    @property
    def half_width(self) -> float:
        return 0.5 * (self.upper - self.lower)

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "lower": self.lower, "upper": self.upper, "half_width": self.half_width}


class WinTieLoss(NamedTuple):
    """Passage-level outcomes of a system against a baseline."""

    wins: int
    ties: int
    losses: int


@dataclass(frozen=True)
class PairedResult:
    """One paired significance test of a system against a baseline.

    ``delta`` is ``system - baseline`` in the metric's own direction (for an
    error rate such as TER a negative delta is an improvement). ``p_value`` is
    two-sided: the probability, under "no difference", of a difference at
    least as large as the observed one. It is NaN when a score is undefined.
    """

    test: str  # "paired-bootstrap" or "approximate-randomization"
    baseline: float
    system: float
    delta: float
    p_value: float
    n_resamples: int  # bootstrap resamples, or AR trials
    seed: Optional[int]
    system_ci: Optional[ConfidenceInterval] = None
    baseline_ci: Optional[ConfidenceInterval] = None
    #: percentile interval of the paired per-resample differences (system - baseline)
    delta_ci: Optional[ConfidenceInterval] = None

    def is_significant(self, alpha: float = 0.05) -> bool:
        """True when ``p_value < alpha`` (never for a NaN p-value)."""
        return bool(self.p_value < alpha)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("system_ci", "baseline_ci", "delta_ci"):
            value = getattr(self, key)
            out[key] = value.to_dict() if value is not None else None
        return out


@dataclass(frozen=True)
class NonInferiorityResult:
    """A one-sided test that the system is worse than the baseline by more than
    ``margin`` (in score points, oriented so that a drop is positive whatever
    the metric's direction).

    ``regressed`` is the regression gate's verdict: the observed drop is
    larger than the margin *and* significant (``p_value < alpha``).
    """

    baseline: float
    system: float
    dropped_by: float  # > 0: the system is worse than the baseline
    margin: float
    p_value: float
    alpha: float
    regressed: bool
    n_resamples: int
    seed: Optional[int]
    drop_ci: Optional[ConfidenceInterval] = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["drop_ci"] = self.drop_ci.to_dict() if self.drop_ci is not None else None
        return out


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _as_stats(stats: Any, what: str) -> np.ndarray:
    array = np.asarray(stats, dtype=np.float64)
    if array.ndim == 1:  # a mean metric given as plain per-passage scores is not enough
        raise ValueError(f"{what}: expected a (n_passages, k) statistics matrix, got shape {array.shape}")
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"{what}: expected a non-empty (n_passages, k) statistics matrix, got shape {array.shape}")
    return array


def _as_pair(base_stats: Any, sys_stats: Any) -> tuple[np.ndarray, np.ndarray]:
    base = _as_stats(base_stats, "baseline statistics")
    system = _as_stats(sys_stats, "system statistics")
    if base.shape != system.shape:
        raise ValueError(
            f"baseline and system statistics differ in shape ({base.shape} vs {system.shape}): "
            "paired tests need the same passages and the same metric"
        )
    return base, system


def _batch_scorer(score_fn: ScoreFn, batch_score_fn: Optional[BatchScoreFn]) -> BatchScoreFn:
    """The fastest correct way to score many rows of summed statistics: the
    given batch scorer, else the metric's own when ``score_fn`` is a metric's
    ``corpus_from_stats``, else one call per row."""
    if batch_score_fn is not None:
        return batch_score_fn
    owner = getattr(score_fn, "__self__", None)
    if isinstance(owner, Metric) and getattr(score_fn, "__name__", "") == "corpus_from_stats":
        return owner.corpus_from_stats_batch

    def score_rows(sums: np.ndarray) -> np.ndarray:
        return np.fromiter((score_fn(row) for row in sums), dtype=np.float64, count=len(sums))

    return score_rows


def _score(stats: np.ndarray, score_fn: ScoreFn) -> float:
    return float(score_fn(stats.sum(axis=0)))


def _draw_bootstrap_indices(rng: np.random.Generator, n_items: int, n_resamples: int) -> np.ndarray:
    # Exactly sacrebleu's draw, so the same seed gives the same resamples.
    return rng.choice(n_items, size=(n_resamples, n_items), replace=True)


def _resampled_sums(indices: np.ndarray, matrices: list[np.ndarray]) -> list[np.ndarray]:
    """For each resample (a row of ``indices``), the column sums of each matrix
    over the drawn rows: ``matrix[indices].sum(axis=1)`` without materialising
    the ``(R, n, k)`` array, via a count matrix and one matrix product."""
    n_resamples, n_items = indices.shape
    sums = [np.empty((n_resamples, m.shape[1])) for m in matrices]
    for start in range(0, n_resamples, _CHUNK_ROWS):
        chunk = indices[start : start + _CHUNK_ROWS]
        rows = len(chunk)
        flat = (chunk + (np.arange(rows) * n_items)[:, None]).ravel()
        counts = np.bincount(flat, minlength=rows * n_items).reshape(rows, n_items).astype(np.float64)
        for out, matrix in zip(sums, matrices):
            out[start : start + rows] = counts @ matrix
    return sums


def _percentile_interval(scores: np.ndarray, alpha: float) -> ConfidenceInterval:
    """sacrebleu's ``estimate_ci``: cut ``floor(R * alpha / 2)`` sorted resamples
    from each side (``R // 40`` for alpha = 0.05)."""
    ordered = np.sort(scores)
    n = len(ordered)
    cut = int(math.floor(n * alpha / 2 + 1e-9))
    return ConfidenceInterval(float(ordered.mean()), float(ordered[cut]), float(ordered[n - cut - 1]))


def _p_value_at_least(null_statistics: np.ndarray, observed: float) -> float:
    """``(c + 1) / (R + 1)`` with ``c`` the null statistics at least as large as
    the observed one (ties count; NaN anywhere makes the p-value NaN)."""
    if not math.isfinite(observed) or not np.all(np.isfinite(null_statistics)):
        return float("nan")
    threshold = observed - _TIE_RTOL * max(1.0, abs(observed))
    count = int(np.count_nonzero(null_statistics >= threshold))
    return (count + 1) / (len(null_statistics) + 1)


def _paired_result(test: str, base_score: float, sys_score: float, p_value: float, n_resamples: int,
                   seed: Optional[int], resampled: tuple[np.ndarray, np.ndarray, float] | None) -> PairedResult:
    """A test's result; with ``resampled`` (baseline and system scores of the
    bootstrap resamples, alpha) its percentile intervals too."""
    intervals: dict[str, ConfidenceInterval] = {}
    if resampled is not None:
        base_scores, sys_scores, alpha = resampled
        intervals = {"system_ci": _percentile_interval(sys_scores, alpha),
                     "baseline_ci": _percentile_interval(base_scores, alpha),
                     "delta_ci": _percentile_interval(sys_scores - base_scores, alpha)}
    return PairedResult(test=test, baseline=base_score, system=sys_score, delta=sys_score - base_score,
                        p_value=p_value, n_resamples=n_resamples, seed=seed, **intervals)


def _check_count(value: int, what: str) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def bootstrap_ci(stats: Any, score_fn: ScoreFn, n_resamples: int = DEFAULT_RESAMPLES,
                 seed: Optional[int] = DEFAULT_SEED, alpha: float = 0.05, *,
                 batch_score_fn: Optional[BatchScoreFn] = None) -> ConfidenceInterval:
    """Bootstrap confidence interval of one system's corpus score.

    ``stats`` is the ``(n_passages, k)`` sufficient-statistics matrix and
    ``score_fn`` maps summed statistics to a corpus score. Returns the mean
    of the resampled scores and the ``1 - alpha`` percentile interval (as
    ``sacrebleu --confidence``; ``seed=None`` draws from OS entropy).
    """
    matrix = _as_stats(stats, "statistics")
    n_resamples = _check_count(n_resamples, "n_resamples")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    rng = np.random.default_rng(seed)
    indices = _draw_bootstrap_indices(rng, len(matrix), n_resamples)
    (sums,) = _resampled_sums(indices, [matrix])
    return _percentile_interval(_batch_scorer(score_fn, batch_score_fn)(sums), alpha)


def paired_bootstrap(base_stats: Any, sys_stats: Any, score_fn: ScoreFn, n_resamples: int = DEFAULT_RESAMPLES,
                     seed: Optional[int] = DEFAULT_SEED, *, alpha: float = 0.05,
                     batch_score_fn: Optional[BatchScoreFn] = None) -> PairedResult:
    """Paired bootstrap resampling test (Koehn 2004), as ``sacrebleu --paired-bs``.

    Both systems are scored on the same ``n_resamples`` resamples of passages.
    The p-value compares the observed ``|system - baseline|`` with the
    resampled absolute differences centred on their mean. Kept for parity
    with sacrebleu; it is anti-conservative (about twice the nominal false
    alarm rate), so prefer :func:`paired_approximate_randomization` for the
    significance decision. Also returns each system's ``1 - alpha`` interval
    and the interval of the paired difference (``delta_ci``).
    """
    base, system = _as_pair(base_stats, sys_stats)
    n_resamples = _check_count(n_resamples, "n_resamples")
    base_score, sys_score = _score(base, score_fn), _score(system, score_fn)

    rng = np.random.default_rng(seed)
    indices = _draw_bootstrap_indices(rng, len(base), n_resamples)
    score_rows = _batch_scorer(score_fn, batch_score_fn)
    base_sums, sys_sums = _resampled_sums(indices, [base, system])
    base_scores, sys_scores = score_rows(base_sums), score_rows(sys_sums)

    if np.array_equal(base, system):
        p_value = 1.0  # the same outputs: no evidence of any difference
    else:
        sample_diffs = np.abs(sys_scores - base_scores)
        p_value = _p_value_at_least(sample_diffs - sample_diffs.mean(), abs(sys_score - base_score))

    return _paired_result("paired-bootstrap", base_score, sys_score, p_value, n_resamples, seed,
                          (base_scores, sys_scores, alpha))


def paired_approximate_randomization(base_stats: Any, sys_stats: Any, score_fn: ScoreFn,
                                     n_trials: int = DEFAULT_TRIALS, seed: Optional[int] = DEFAULT_SEED, *,
                                     n_confidence: int = 0, alpha: float = 0.05,
                                     batch_score_fn: Optional[BatchScoreFn] = None) -> PairedResult:
    """Paired approximate randomization test, as ``sacrebleu --paired-ar``.

    Each trial swaps each passage's statistics between the two systems with
    probability 1/2 and scores both pseudo-systems; ``p = (c + 1) / (R + 1)``
    where ``c`` counts trials whose absolute difference is at least the
    observed one. With ``n_confidence > 0`` it also bootstraps confidence
    intervals, drawing those resamples after the trials from the same random
    stream (as sacrebleu does).
    """
    base, system = _as_pair(base_stats, sys_stats)
    n_trials = _check_count(n_trials, "n_trials")
    base_score, sys_score = _score(base, score_fn), _score(system, score_fn)

    rng = np.random.default_rng(seed)
    take_baseline = rng.integers(2, size=(n_trials, len(base)), dtype=bool)
    score_rows = _batch_scorer(score_fn, batch_score_fn)

    if np.array_equal(base, system):
        p_value = 1.0  # swapping identical outputs changes nothing
    else:
        # Pseudo-system A takes the baseline's row where the mask is set and
        # the system's elsewhere; B takes the rest, so A + B = both totals.
        difference = base - system
        both_totals = base.sum(axis=0) + system.sum(axis=0)
        system_total = system.sum(axis=0)
        swapped_diffs = np.empty(n_trials)
        for start in range(0, n_trials, _CHUNK_ROWS):
            mask = take_baseline[start : start + _CHUNK_ROWS].astype(np.float64)
            sums_a = mask @ difference + system_total
            sums_b = both_totals - sums_a
            swapped_diffs[start : start + len(mask)] = np.abs(score_rows(sums_a) - score_rows(sums_b))
        p_value = _p_value_at_least(swapped_diffs, abs(sys_score - base_score))

    resampled = None
    if n_confidence > 0:
        indices = _draw_bootstrap_indices(rng, len(base), _check_count(n_confidence, "n_confidence"))
        base_sums, sys_sums = _resampled_sums(indices, [base, system])
        resampled = (score_rows(base_sums), score_rows(sys_sums), alpha)
    return _paired_result("approximate-randomization", base_score, sys_score, p_value, n_trials, seed, resampled)


def noninferiority(base_stats: Any, sys_stats: Any, score_fn: ScoreFn, margin: float, higher_is_better: bool = True,
                   n_resamples: int = DEFAULT_RESAMPLES, seed: Optional[int] = DEFAULT_SEED, *,
                   alpha: float = 0.05, batch_score_fn: Optional[BatchScoreFn] = None) -> NonInferiorityResult:
    """One-sided paired bootstrap test of "the system is worse than the
    baseline by more than ``margin``" (the regression gate).

    The drop is ``baseline - system`` (``system - baseline`` for a metric
    where lower is better), so a positive drop is always a loss. Null
    hypothesis: the true drop is at most ``margin``. Following Hall & Wilson
    (1991), the resampled drops are centred on the observed drop and shifted
    to the margin; ``p = (c + 1) / (R + 1)`` with ``c`` the resamples whose
    drop is at least the observed one. ``regressed`` is ``dropped_by > margin
    and p_value < alpha``. ``drop_ci`` is the ``1 - 2 alpha`` percentile
    interval of the drop, so its ``lower`` end is the one-sided ``1 - alpha``
    lower bound (a regression when it exceeds the margin, roughly).
    """
    base, system = _as_pair(base_stats, sys_stats)
    n_resamples = _check_count(n_resamples, "n_resamples")
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    orientation = 1.0 if higher_is_better else -1.0
    base_score, sys_score = _score(base, score_fn), _score(system, score_fn)
    dropped_by = orientation * (base_score - sys_score)

    rng = np.random.default_rng(seed)
    indices = _draw_bootstrap_indices(rng, len(base), n_resamples)
    score_rows = _batch_scorer(score_fn, batch_score_fn)
    base_sums, sys_sums = _resampled_sums(indices, [base, system])
    resampled_drops = orientation * (score_rows(base_sums) - score_rows(sys_sums))

    if np.array_equal(base, system):
        p_value = 1.0
    else:
        # Under H0 (true drop == margin) a resampled drop is distributed as
        # margin + (resampled - observed); count those reaching the observed drop.
        null_drops = margin + (resampled_drops - dropped_by)
        p_value = _p_value_at_least(null_drops, dropped_by)

    return NonInferiorityResult(
        baseline=base_score,
        system=sys_score,
        dropped_by=dropped_by,
        margin=float(margin),
        p_value=p_value,
        alpha=alpha,
        regressed=bool(dropped_by > margin and p_value < alpha),
        n_resamples=n_resamples,
        seed=seed,
        drop_ci=_percentile_interval(resampled_drops, 2 * alpha),  # the one-sided 1 - alpha bound
    )


def passage_outcomes(
    base_sentence_scores: Any,
    sys_sentence_scores: Any,
    higher_is_better: bool = True,
    tie_tolerance: float = 0.0,
) -> np.ndarray:
    """Per passage: +1 (system better), 0 (tie), -1 (system worse).

    A difference of at most ``tie_tolerance`` is a tie; so is a passage where
    either score is NaN (no evidence either way).
    """
    base = np.asarray(base_sentence_scores, dtype=np.float64)
    system = np.asarray(sys_sentence_scores, dtype=np.float64)
    if base.shape != system.shape or base.ndim != 1:
        raise ValueError(f"sentence scores must be two equal-length lists, got shapes {base.shape} and {system.shape}")
    if tie_tolerance < 0:
        raise ValueError(f"tie_tolerance must be >= 0, got {tie_tolerance!r}")
    gain = (system - base) if higher_is_better else (base - system)
    outcomes = np.zeros(len(base), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        outcomes[gain > tie_tolerance] = 1
        outcomes[gain < -tie_tolerance] = -1
    return outcomes


def win_tie_loss(
    base_sentence_scores: Any,
    sys_sentence_scores: Any,
    higher_is_better: bool = True,
    tie_tolerance: float = 0.0,
) -> WinTieLoss:
    """Count passages where the system beats, ties or loses to the baseline.
    A tie is neither a win nor a loss; ``wins + ties + losses == n``."""
    outcomes = passage_outcomes(base_sentence_scores, sys_sentence_scores, higher_is_better, tie_tolerance)
    return WinTieLoss(
        wins=int(np.count_nonzero(outcomes == 1)),
        ties=int(np.count_nonzero(outcomes == 0)),
        losses=int(np.count_nonzero(outcomes == -1)),
    )
