"""Fit the meaning score's weights to expert judgments (``bench/calibrate_meaning.py``).

The meaning score (:mod:`harness.metrics.meaning`) turns a passage's
features into an expected MQM *penalty* in points (an MQM Major error is 5,
a Minor 1) and the penalty into 0..100:

    penalty = softplus(bias + sum_i w_i * (x_i - mean_i) / std_i)      similarity and content
              + sum_k points_k * (major findings of kind k)            typed meaning changes
              + minor_points * (minor findings)
    meaning = 100 * exp(-penalty / scale)

:func:`fit` chooses ``bias``, ``w``, ``points`` by minimising a pairwise
ranking loss (for pairs of translations the raters penalised differently:
every pair within a segment, as many pairs across segments) plus a squared
error between the penalty and the raters' penalty, which keeps the penalty
in MQM points. Each kind of major finding costs at least its prior
(:func:`prior_points`: a tenth of a Major error's 5 points times the
kind's precision on the labelled meaning-change set), whatever the data say about kinds that
real translations rarely show; the kinds of ``FITTED_KINDS`` may cost more.
Folds are by document (:func:`fold_of`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: continuous features where more means a worse translation (the rest are
#: similarities: more means better); each weight keeps its sign, so the score
#: never rewards missing content or punishes similarity
MORE_IS_WORSE = frozenset({"semantic.missing", "semantic.added"})
#: cross-validation folds (by document)
FOLDS = 5
#: finding kinds whose points are fitted (at least their prior): the anchors'
#: numbers, names and negations, frequent enough in real translations to fit
FITTED_KINDS = ("number", "name", "negation")
#: an MQM Major error costs 5 points
MAJOR_POINTS = 5.0
#: the share of a Major error a finding costs before fitting, times its precision:
#: chosen by cross-validation on the calibration data, as the largest share whose
#: held-out per-segment Kendall tau (accuracy) is not below that of no prior at all
#: (share 0 / 0.025 / 0.05 / 0.075 / 0.1 / 0.15: tau 0.2906 / 0.2908 / 0.2952 / 0.2933 /
#: 0.2892 / 0.2797, with the findings and prior points of 2026-12-02). On real translations the detectors also fire where the raters
#: saw no error, so a finding is worth far less there than its labelled-set precision
#: suggests; it lowers the score a little and caps the band (see meaning.py)
PRIOR_SHARE = 0.075
#: per finding kind, how often it was right on the labelled meaning-change set
#: (dev and val splits: texts with a major finding of the kind that are real changes,
#: and that are paraphrases); written by ``bench/meaning_changes.py --write-precision``
PRECISION_FILE = Path(__file__).resolve().parents[1] / "data" / "finding_precision.json"


def prior_points(path: Path = PRECISION_FILE) -> dict[str, float]:
    """Each kind's points before any fitting: ``PRIOR_SHARE`` of a Major
    error's ``MAJOR_POINTS`` times the chance that such a finding is a real
    meaning change (its precision on the labelled set, Laplace-smoothed:
    (right + 1) / (found + 2)). A detected meaning change always lowers the
    score, by as much as its kind can be trusted; real translations, where
    most kinds are too rare to fit, cannot lower it to nothing."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))["kinds"]
    return {kind: PRIOR_SHARE * MAJOR_POINTS * (c["on_changes"] + 1) / (c["on_changes"] + c["on_paraphrases"] + 2)
            for kind, c in data.items()}


#: pairs across segments, as a share of the pairs within segments (the within-segment
#: ranking is what the raters judged side by side)
CROSS_PAIRS = 0.0
#: meaning = 100 * exp(-penalty / SCALE): one Major error (5 points) gives 61
SCALE = 10.0
#: the raters' penalty is read up to this (a non-translation is 25)
PENALTY_CAP = 25.0
#: weight of the squared-error term against the ranking loss
CALIBRATION_WEIGHT = 0.05
#: L2 penalty on the standardised feature weights
L2 = 1e-3


def fold_of(document: str) -> int:
    """The fold a document belongs to (stable across runs and machines)."""
    return int(hashlib.sha256(document.encode("utf-8")).hexdigest(), 16) % FOLDS


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


@dataclass
class Fitted:
    """The fitted weights, as ``harness/data/meaning_weights.json`` holds them."""

    continuous: list[str]
    counts: list[str]
    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    points: list[float]
    #: the continuous features of a text identical to its reference (its penalty is 0)
    perfect: list[float] = field(default_factory=list)
    scale: float = SCALE
    provenance: dict[str, Any] = field(default_factory=dict)

    def _z(self, X: np.ndarray) -> np.ndarray:
        return self.bias + ((X - np.asarray(self.mean)) / np.asarray(self.std)) @ np.asarray(self.weights)

    def penalty(self, X: np.ndarray) -> np.ndarray:
        """Expected MQM points: 0 for a text identical to its reference."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        n = len(self.continuous)
        offset = softplus(self._z(np.asarray(self.perfect, dtype=float)[None, :]))[0]
        return np.maximum(0.0, softplus(self._z(X[:, :n])) - offset) + X[:, n:] @ np.asarray(self.points)

    def score(self, X: np.ndarray) -> np.ndarray:
        return 100.0 * np.exp(-self.penalty(X) / self.scale)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": {"continuous": list(self.continuous), "counts": list(self.counts),
                         "perfect": list(self.perfect)},
            "formula": "meaning = 100 * exp(-penalty / scale); penalty = softplus(bias + sum(weights * (x - mean) "
                       "/ std)) + sum(points * counts)",
            "continuous": dict(zip(self.continuous, [{"mean": m, "std": s, "weight": w} for m, s, w in
                                                      zip(self.mean, self.std, self.weights)])),
            "bias": self.bias,
            "points": dict(zip(self.counts, self.points)),
            "scale": self.scale,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Fitted":
        continuous = list(data["features"]["continuous"])
        counts = list(data["features"]["counts"])
        return cls(continuous, counts, [float(data["continuous"][c]["mean"]) for c in continuous],
                   [float(data["continuous"][c]["std"]) for c in continuous],
                   [float(data["continuous"][c]["weight"]) for c in continuous], float(data["bias"]),
                   [float(data["points"][c]) for c in counts], [float(v) for v in data["features"]["perfect"]],
                   float(data.get("scale", SCALE)), dict(data.get("provenance", {})))

    def write(self, path: Path, data: str) -> None:
        self.provenance = {"data": data, "folds": FOLDS, "fitted_kinds": list(FITTED_KINDS),
                           "prior_share": PRIOR_SHARE,
                           "prior_points": {k: round(v, 4) for k, v in sorted(prior_points().items())},
                           "cross_pairs": CROSS_PAIRS, "calibration_weight": CALIBRATION_WEIGHT, "l2": L2,
                           "fitted_by": "bench/calibrate_meaning.py --write"}
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _pairs(y: np.ndarray, segments: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(better, worse) index pairs: all within a segment, as many across segments."""
    by_segment: dict[Any, list[int]] = {}
    for i, s in enumerate(segments):
        by_segment.setdefault(s, []).append(i)
    pairs = []
    for members in by_segment.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                i, j = members[a], members[b]
                if y[i] != y[j]:
                    pairs.append((i, j) if y[i] > y[j] else (j, i))
    n_cross = int(CROSS_PAIRS * len(pairs))
    if n_cross:
        i = rng.integers(0, len(y), 3 * n_cross)
        j = rng.integers(0, len(y), len(i))
        cross = [(a, b) if y[a] > y[b] else (b, a) for a, b in zip(i, j) if y[a] != y[b] and segments[a] != segments[b]]
        pairs += cross[:n_cross]
    return np.array(pairs, dtype=int).reshape(-1, 2)


def fit(X: np.ndarray, y: np.ndarray, segments: np.ndarray, continuous: list[str] | None = None,
        counts: list[str] | None = None, seed: int = 0) -> Fitted:
    """Fit on features ``X`` (continuous columns first, then finding counts) and
    the raters' scores ``y`` (MQM: 0 best, negative worse)."""
    from scipy.optimize import minimize

    from .meaning import CONTINUOUS_FEATURES, COUNT_FEATURES, PERFECT

    continuous = list(CONTINUOUS_FEATURES if continuous is None else continuous)
    counts = list(COUNT_FEATURES if counts is None else counts)
    X = np.asarray(X, dtype=float)
    n_cont = len(continuous)
    mean = X[:, :n_cont].mean(axis=0)
    std = X[:, :n_cont].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    Z = (X[:, :n_cont] - mean) / std
    perfect = np.array([PERFECT[name] for name in continuous], dtype=float)
    Z_perfect = (perfect - mean) / std
    C = X[:, n_cont:]
    target = np.minimum(-np.asarray(y, dtype=float), PENALTY_CAP)
    pairs = _pairs(np.asarray(y, dtype=float), np.asarray(segments), np.random.default_rng(seed))
    better, worse = pairs[:, 0], pairs[:, 1]
    kinds = [c.split(":", 1)[-1] for c in counts]
    priors = prior_points()
    floors = np.array([priors.get(k, 0.0) if c.startswith("major:") else 0.0 for k, c in zip(kinds, counts)])
    ceilings = [None if k in FITTED_KINDS else floor for k, floor in zip(kinds, floors)]

    def unpack(theta):
        return theta[0], theta[1:1 + n_cont], theta[1 + n_cont:1 + n_cont + len(counts)], theta[-1]

    def objective(theta):
        bias, w, points, log_temperature = unpack(theta)
        z = bias + Z @ w
        z_perfect = bias + Z_perfect @ w
        penalty = softplus(z) - softplus(z_perfect) + C @ points
        temperature = math.exp(log_temperature)
        margin = (penalty[worse] - penalty[better]) / temperature
        rank_loss = np.logaddexp(0.0, -margin).mean()
        residual = penalty - target
        calibration = CALIBRATION_WEIGHT * np.mean(residual ** 2) / (np.var(target) + 1e-9)
        loss = rank_loss + calibration + L2 * float(w @ w)
        # gradient
        sig_rank = -1.0 / (1.0 + np.exp(margin)) / len(margin) / temperature  # d loss / d margin * d margin/d penalty
        d_penalty = np.zeros(len(penalty))
        np.add.at(d_penalty, worse, sig_rank)
        np.add.at(d_penalty, better, -sig_rank)
        d_penalty += CALIBRATION_WEIGHT * 2 * residual / len(residual) / (np.var(target) + 1e-9)
        d_z = d_penalty * (1.0 / (1.0 + np.exp(-z)))
        d_offset = -d_penalty.sum() / (1.0 + np.exp(-z_perfect))  # the identical text's penalty, subtracted
        grad_bias = d_z.sum() + d_offset
        grad_w = Z.T @ d_z + d_offset * Z_perfect + 2 * L2 * w
        grad_points = C.T @ d_penalty
        grad_log_t = float((1.0 / (1.0 + np.exp(margin)) * margin).mean())
        return loss, np.concatenate([[grad_bias], grad_w, grad_points, [grad_log_t]])

    theta0 = np.concatenate([[1.0], np.zeros(n_cont), floors, [0.0]])
    signs = [(0.0, None) if name in MORE_IS_WORSE else (None, 0.0) for name in continuous]
    bounds = [(None, None)] + signs + list(zip(floors, ceilings)) + [(-5.0, 5.0)]
    result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000})
    bias, w, points, _ = unpack(result.x)
    return Fitted(continuous, counts, mean.tolist(), std.tolist(), w.tolist(), float(bias), points.tolist(),
                  perfect.tolist())


def load(path: Path) -> Fitted:
    return Fitted.from_json(json.loads(path.read_text(encoding="utf-8")))
