"""Specification of harness.stats: significance tests over sufficient statistics.

The synthetic set: 100 reference sentences and three systems made by
deterministically replacing reference words at different rates -- a
baseline (30 %), a slightly better system (27 %, not distinguishable on 100
sentences) and a clearly better one (10 %). BLEU and chrF statistics come
from sacrebleu itself, so the p-values can be checked against sacrebleu's own
paired tests on the same data.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from harness.metrics.base import MeanMetric
from harness.stats import (
    ConfidenceInterval,
    WinTieLoss,
    bootstrap_ci,
    noninferiority,
    paired_approximate_randomization,
    paired_bootstrap,
    passage_outcomes,
    win_tie_loss,
)

WORDS = (
    "the a model text meaning passage reference system cleaner pivot beam score translation "
    "quality english portuguese round trip sentence word corpus metric bootstrap test random "
    "sample baseline better worse clear noise signal fast slow small large good bad"
).split()

CORRUPTION_RATES = {"baseline": 0.30, "slightly_better": 0.27, "clearly_better": 0.10}


def _references(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) for _ in range(n)]


def _corrupt(references: list[str], rate: float, seed: int) -> list[str]:
    """Replace each word by a random one with probability ``rate``."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) if rng.random() < rate else w for w in ref.split()) for ref in references]


@pytest.fixture(scope="module")
def corpus():
    references = _references(100)
    systems = {
        name: _corrupt(references, rate, seed)
        for seed, (name, rate) in enumerate(CORRUPTION_RATES.items(), start=1)
    }
    return references, systems


class SacrebleuMetric:
    """A sacrebleu metric seen through the harness interface (stats + score_fn)."""

    def __init__(self, metric):
        self.metric = metric

    def stats(self, hyps, references) -> np.ndarray:
        return np.array(self.metric._extract_corpus_statistics(hyps, [references]), dtype=float)

    def corpus_from_stats(self, summed_row) -> float:
        return self.metric._compute_score_from_stats(list(summed_row)).score


METRICS = {"BLEU": lambda: BLEU(), "chrF": lambda: CHRF()}


@pytest.fixture(scope="module", params=sorted(METRICS))
def metric_case(request, corpus):
    """(metric name, harness-style metric, stats per system, sacrebleu results per test type)."""
    references, systems = corpus
    metric = SacrebleuMetric(METRICS[request.param]())
    stats = {name: metric.stats(hyps, references) for name, hyps in systems.items()}
    named_systems = [(name, systems[name]) for name in ("baseline", "slightly_better", "clearly_better")]
    sacrebleu_results = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SACREBLEU_SEED", "12345")
        for test_type in ("bs", "ar"):
            _, scores = PairedTest(named_systems, {request.param: METRICS[request.param]()}, [references], test_type=test_type)()
            (column,) = [key for key in scores if key != "System"]
            sacrebleu_results[test_type] = dict(zip(scores["System"], scores[column]))
    return request.param, metric, stats, sacrebleu_results


# --------------------------------------------------------------------------
# Parity with sacrebleu
# --------------------------------------------------------------------------


@pytest.mark.parametrize("system", ["slightly_better", "clearly_better"])
def test_paired_bootstrap_matches_sacrebleu_paired_bs(metric_case, system):
    _, metric, stats, sacrebleu_results = metric_case
    ours = paired_bootstrap(stats["baseline"], stats[system], metric.corpus_from_stats, n_resamples=1000, seed=12345)
    theirs = sacrebleu_results["bs"][system]
    # Same seed, same resampling scheme: the same p-value, not only a close one.
    assert ours.p_value == pytest.approx(theirs.p_value, abs=1e-12)
    assert ours.system == pytest.approx(theirs.score, abs=1e-9)
    # sacrebleu sums statistics in float32; the interval agrees to that precision.
    assert ours.system_ci.mean == pytest.approx(theirs.mean, abs=1e-4)
    assert ours.system_ci.half_width == pytest.approx(theirs.ci, abs=1e-4)
    baseline = sacrebleu_results["bs"]["baseline"]
    assert ours.baseline_ci.mean == pytest.approx(baseline.mean, abs=1e-4)
    assert ours.baseline_ci.half_width == pytest.approx(baseline.ci, abs=1e-4)


@pytest.mark.parametrize("system", ["slightly_better", "clearly_better"])
def test_approximate_randomization_matches_sacrebleu_paired_ar(metric_case, system):
    _, metric, stats, sacrebleu_results = metric_case
    ours = paired_approximate_randomization(stats["baseline"], stats[system], metric.corpus_from_stats, n_trials=10000, seed=12345)
    theirs = sacrebleu_results["ar"][system]
    assert ours.p_value == pytest.approx(theirs.p_value, abs=1e-12)
    assert ours.system == pytest.approx(theirs.score, abs=1e-9)


@pytest.mark.parametrize("test_type", ["bs", "ar"])
def test_p_values_agree_with_sacrebleu_within_resampling_tolerance_for_another_seed(metric_case, test_type):
    """The agreement is not an accident of sharing a random stream: with a
    different seed the p-value stays within Monte-Carlo error of sacrebleu's."""
    _, metric, stats, sacrebleu_results = metric_case
    theirs = sacrebleu_results[test_type]["slightly_better"].p_value
    if test_type == "bs":
        ours = paired_bootstrap(stats["baseline"], stats["slightly_better"], metric.corpus_from_stats, 1000, seed=2024)
    else:
        ours = paired_approximate_randomization(stats["baseline"], stats["slightly_better"], metric.corpus_from_stats, 10000, seed=2024)
    standard_error = np.sqrt(theirs * (1 - theirs) / ours.n_resamples)
    # Two independent Monte-Carlo estimates: 4 standard errors of their difference.
    assert abs(ours.p_value - theirs) <= 4 * np.sqrt(2) * standard_error + 1e-3


def test_approximate_randomization_matches_the_sacrebleu_command_line(corpus, tmp_path):
    """The same figures as ``sacrebleu REF -i BASE SYS --paired-ar`` on files."""
    references, systems = corpus
    for name, lines in [("ref", references), ("baseline", systems["baseline"]), ("system", systems["slightly_better"])]:
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "sacrebleu", "ref.txt", "-i", "baseline.txt", "system.txt",
         "-m", "bleu", "chrf", "--paired-ar", "--paired-ar-n", "10000", "-f", "json", "-q"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={"SACREBLEU_SEED": "12345", "PATH": ""},
    )
    cli = json.loads(completed.stdout)[1]
    for cli_key, metric in [("BLEU", SacrebleuMetric(BLEU())), ("chrF2", SacrebleuMetric(CHRF()))]:
        ours = paired_approximate_randomization(
            metric.stats(systems["baseline"], references), metric.stats(systems["slightly_better"], references),
            metric.corpus_from_stats, n_trials=10000, seed=12345,
        )
        assert ours.p_value == pytest.approx(cli[cli_key]["p_value"], abs=1e-12)


def test_bootstrap_ci_matches_sacrebleu_confidence(corpus, monkeypatch):
    references, systems = corpus
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    theirs = BLEU().corpus_score(systems["baseline"], [references], n_bootstrap=1000)
    metric = SacrebleuMetric(BLEU())
    ours = bootstrap_ci(metric.stats(systems["baseline"], references), metric.corpus_from_stats, 1000, seed=12345)
    assert ours.mean == pytest.approx(theirs._mean, abs=1e-4)
    assert ours.half_width == pytest.approx(theirs._ci, abs=1e-4)


# --------------------------------------------------------------------------
# Decisions
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [12345, 0, 7])
def test_a_system_compared_with_itself_is_never_significant(metric_case, seed):
    # sacrebleu reports p = 1/(R+1) here; a tie is not evidence of a difference.
    _, metric, stats, _ = metric_case
    same = stats["baseline"]
    for result in (
        paired_bootstrap(same, same.copy(), metric.corpus_from_stats, 1000, seed=seed),
        paired_approximate_randomization(same, same.copy(), metric.corpus_from_stats, 2000, seed=seed),
    ):
        assert result.p_value == 1.0
        assert result.delta == 0.0
        assert not result.is_significant(alpha=0.05)


def test_a_clearly_better_system_is_significant(metric_case):
    _, metric, stats, _ = metric_case
    bootstrap = paired_bootstrap(stats["baseline"], stats["clearly_better"], metric.corpus_from_stats)
    randomization = paired_approximate_randomization(stats["baseline"], stats["clearly_better"], metric.corpus_from_stats)
    for result in (bootstrap, randomization):
        assert result.delta > 10
        assert result.p_value < 0.01
        assert result.is_significant(alpha=0.01)
    assert bootstrap.delta_ci.lower > 0  # the paired difference interval excludes zero


def test_a_slightly_better_system_is_not_significant_on_100_sentences(metric_case):
    _, metric, stats, _ = metric_case
    result = paired_approximate_randomization(stats["baseline"], stats["slightly_better"], metric.corpus_from_stats)
    assert result.p_value > 0.05


def test_p_values_do_not_depend_on_which_system_is_the_baseline(metric_case):
    _, metric, stats, _ = metric_case
    a, b = stats["baseline"], stats["slightly_better"]
    forward = paired_bootstrap(a, b, metric.corpus_from_stats)
    backward = paired_bootstrap(b, a, metric.corpus_from_stats)
    assert forward.p_value == pytest.approx(backward.p_value)
    assert forward.delta == pytest.approx(-backward.delta)
    forward = paired_approximate_randomization(a, b, metric.corpus_from_stats, 2000)
    backward = paired_approximate_randomization(b, a, metric.corpus_from_stats, 2000)
    assert forward.p_value == pytest.approx(backward.p_value)


def test_results_are_reproducible_for_a_seed_and_vary_with_it(metric_case):
    _, metric, stats, _ = metric_case
    run = lambda seed: paired_bootstrap(stats["baseline"], stats["slightly_better"], metric.corpus_from_stats, 500, seed=seed)
    assert run(3) == run(3)
    assert run(3).system_ci != run(4).system_ci


# --------------------------------------------------------------------------
# Non-inferiority (the regression gate)
# --------------------------------------------------------------------------


def test_noninferiority_flags_a_real_drop(metric_case):
    _, metric, stats, _ = metric_case
    # The clearly better system as baseline: the 30 % corruption is a real regression.
    result = noninferiority(stats["clearly_better"], stats["baseline"], metric.corpus_from_stats, margin=2.0)
    assert result.dropped_by > 10
    assert result.p_value < 0.01
    assert result.regressed
    assert result.drop_ci.lower > result.margin


def test_noninferiority_does_not_flag_a_noise_level_drop(metric_case):
    _, metric, stats, _ = metric_case
    # baseline -> slightly_better loses ~0.2-1.3 points on this sample: noise.
    result = noninferiority(stats["baseline"], stats["slightly_better"], metric.corpus_from_stats, margin=0.0)
    assert result.dropped_by > 0
    assert result.p_value > 0.05
    assert not result.regressed


def test_noninferiority_needs_the_drop_to_exceed_the_margin(metric_case):
    _, metric, stats, _ = metric_case
    drop = noninferiority(stats["clearly_better"], stats["baseline"], metric.corpus_from_stats, margin=0.0).dropped_by
    result = noninferiority(stats["clearly_better"], stats["baseline"], metric.corpus_from_stats, margin=drop + 1.0)
    assert result.p_value > 0.5
    assert not result.regressed


def test_noninferiority_follows_the_metric_direction(metric_case):
    """For an error rate (lower is better) a rise is the drop."""
    _, metric, stats, _ = metric_case
    error_rate = lambda row: 100.0 - metric.corpus_from_stats(row)
    worse = noninferiority(stats["clearly_better"], stats["baseline"], error_rate, margin=2.0, higher_is_better=False)
    assert worse.dropped_by > 10 and worse.regressed
    better = noninferiority(stats["baseline"], stats["clearly_better"], error_rate, margin=0.0, higher_is_better=False)
    assert better.dropped_by < 0 and not better.regressed


def test_noninferiority_of_a_system_with_itself_is_never_a_regression(metric_case):
    _, metric, stats, _ = metric_case
    result = noninferiority(stats["baseline"], stats["baseline"].copy(), metric.corpus_from_stats, margin=0.0)
    assert result.dropped_by == 0.0
    assert result.p_value == 1.0
    assert not result.regressed


def test_noninferiority_rejects_a_negative_margin(metric_case):
    _, metric, stats, _ = metric_case
    with pytest.raises(ValueError, match="margin"):
        noninferiority(stats["baseline"], stats["baseline"], metric.corpus_from_stats, margin=-1.0)


# --------------------------------------------------------------------------
# Calibration on a mean metric (the null hypothesis holds by construction)
# --------------------------------------------------------------------------


class MeanScore(MeanMetric):
    name = "mean-score"


def _null_pair(rng: np.random.Generator, n: int = 150):
    """Two systems whose per-passage scores are exchangeable: no true difference."""
    difficulty = rng.uniform(0.2, 0.9, n)
    base, system = (np.clip(difficulty + rng.normal(0, 0.1, n), 0, 1) for _ in range(2))
    ones = np.ones(n)
    return np.c_[base, ones], np.c_[system, ones]


def test_false_alarm_rates_stay_near_alpha_when_there_is_no_difference():
    metric = MeanScore()
    rng = np.random.default_rng(99)
    replicates = 150
    alarms = {"bootstrap": 0, "randomization": 0, "regression": 0}
    for replicate in range(replicates):
        base, system = _null_pair(rng)
        alarms["bootstrap"] += paired_bootstrap(base, system, metric.corpus_from_stats, 500, seed=replicate).is_significant()
        alarms["randomization"] += paired_approximate_randomization(base, system, metric.corpus_from_stats, 500, seed=replicate).is_significant()
        alarms["regression"] += noninferiority(base, system, metric.corpus_from_stats, 0.0, n_resamples=500, seed=replicate).regressed
    slack = 3 * np.sqrt(0.05 * 0.95 / replicates)  # 3 binomial standard errors
    # Approximate randomization and the one-sided regression test hold alpha = 0.05.
    assert alarms["randomization"] / replicates <= 0.05 + slack
    assert alarms["regression"] / replicates <= 0.05 + slack
    # sacrebleu's paired bootstrap p-value is one-sided in effect (documented):
    # about twice alpha, never more.
    assert alarms["bootstrap"] / replicates <= 2 * 0.05 + slack


def test_approximate_randomization_is_fast_for_a_mean_metric():
    metric = MeanScore()
    rng = np.random.default_rng(1)
    base, system = _null_pair(rng, n=1000)
    started = time.perf_counter()
    paired_approximate_randomization(base, system, metric.corpus_from_stats, n_trials=10000)
    assert time.perf_counter() - started < 1.0


def test_mean_metric_fast_path_equals_calling_the_metric_row_by_row():
    metric = MeanScore()
    base, system = _null_pair(np.random.default_rng(5), n=200)
    row_by_row = lambda row: metric.corpus_from_stats(row)  # a plain function: no fast path
    for test in (paired_bootstrap, paired_approximate_randomization):
        fast, slow = test(base, system, metric.corpus_from_stats, 300), test(base, system, row_by_row, 300)
        assert fast.p_value == pytest.approx(slow.p_value)
        assert fast.system == pytest.approx(slow.system)


def test_an_overridden_corpus_score_is_respected():
    class Percent(MeanMetric):
        def corpus_from_stats(self, stats_sum):
            return 100.0 * stats_sum[0] / stats_sum[1]

    base, system = _null_pair(np.random.default_rng(6), n=50)
    result = paired_bootstrap(base, system, Percent().corpus_from_stats, 200)
    assert 20 < result.system_ci.mean < 90


def test_a_batch_scorer_gives_the_same_answer():
    metric = MeanScore()
    base, system = _null_pair(np.random.default_rng(8), n=100)
    batch = lambda sums: sums[:, 0] / sums[:, 1]
    plain = lambda row: row[0] / row[1]
    assert paired_bootstrap(base, system, plain, 300, batch_score_fn=batch).p_value == pytest.approx(
        paired_bootstrap(base, system, plain, 300).p_value
    )


# --------------------------------------------------------------------------
# Confidence intervals
# --------------------------------------------------------------------------


def test_bootstrap_ci_shape_and_alpha(metric_case):
    _, metric, stats, _ = metric_case
    ci95 = bootstrap_ci(stats["baseline"], metric.corpus_from_stats)
    mean, lower, upper = ci95  # unpacks as (mean, lower, upper)
    assert isinstance(ci95, ConfidenceInterval)
    assert lower < mean < upper
    assert ci95.half_width == pytest.approx((upper - lower) / 2)
    ci99 = bootstrap_ci(stats["baseline"], metric.corpus_from_stats, alpha=0.01)
    assert ci99.lower <= lower and ci99.upper >= upper
    assert bootstrap_ci(stats["baseline"], metric.corpus_from_stats, seed=1) == bootstrap_ci(
        stats["baseline"], metric.corpus_from_stats, seed=1
    )


def test_bad_inputs_are_refused():
    score = lambda row: row[0] / row[1]
    with pytest.raises(ValueError, match="shape"):
        paired_bootstrap(np.ones((3, 2)), np.ones((4, 2)), score)
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci(np.ones((0, 2)), score)
    with pytest.raises(ValueError, match="statistics matrix"):
        bootstrap_ci(np.ones(5), score)
    with pytest.raises(ValueError, match="n_trials"):
        paired_approximate_randomization(np.ones((3, 2)), np.ones((3, 2)), score, n_trials=0)


# --------------------------------------------------------------------------
# Win / tie / loss
# --------------------------------------------------------------------------


def test_win_tie_loss_counts_ties_as_neither():
    base = [50.0, 60.0, 70.0, 80.0, 90.0]
    system = [55.0, 60.0, 65.0, 80.0, 91.0]
    assert win_tie_loss(base, system) == WinTieLoss(wins=2, ties=2, losses=1)


def test_win_tie_loss_follows_the_metric_direction():
    base, system = [0.5, 0.2, 0.3], [0.4, 0.2, 0.6]  # e.g. TER: lower is better
    assert win_tie_loss(base, system, higher_is_better=False) == WinTieLoss(wins=1, ties=1, losses=1)
    assert list(passage_outcomes(base, system, higher_is_better=False)) == [1, 0, -1]


def test_win_tie_loss_tolerance_turns_small_differences_into_ties():
    base, system = [50.0, 50.0, 50.0, 50.0], [50.4, 49.6, 51.0, 49.0]
    assert win_tie_loss(base, system, tie_tolerance=0.5) == WinTieLoss(wins=1, ties=2, losses=1)
    assert win_tie_loss(base, system) == WinTieLoss(wins=2, ties=0, losses=2)


def test_win_tie_loss_treats_undefined_scores_as_ties_and_adds_up():
    base, system = [1.0, float("nan"), 3.0], [2.0, 2.0, float("nan")]
    wins, ties, losses = win_tie_loss(base, system)
    assert (wins, ties, losses) == (1, 2, 0)
    assert wins + ties + losses == len(base)


def test_win_tie_loss_refuses_unpaired_scores():
    with pytest.raises(ValueError, match="equal-length"):
        win_tie_loss([1.0, 2.0], [1.0])
