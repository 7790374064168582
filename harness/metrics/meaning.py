"""One meaning score (0..100) per passage and stage, a verdict band, and its reasons.

The score is an expected MQM *penalty* turned into 0..100
(``docs/metrics.md`` has the rationale, ``bench/calibrate_meaning.py`` the
calibration on expert judgments of real translations):

    penalty = softplus(bias + sum_i w_i * standardised feature_i)   similarity and content
              + sum over findings of their kind's points              typed meaning changes
    meaning = 100 * exp(-penalty / scale)

The continuous features are chrF++, BERTScore-style F1, cosine, the
semantic comparison's uncovered content (words the closest reference has
and the text lacks, words the text has and no reference covers) and its
recall and precision, and the injected share. Each *major* finding costs its
kind's points: at least a tenth of a Major error's 5 MQM points times the
kind's precision on the labelled meaning-change set (0.3-0.5 points, see
:func:`~harness.metrics.meaning_fit.prior_points`), more where the fit on
expert judgments says so; minor findings cost the minor points. The weights are data (``harness/data/meaning_weights.json``),
fitted on expert MQM judgments and cross-validated by document; a config may
name another fitted file (``metrics.meaning.calibration``).

The band follows from the score and the thresholds (``preserved`` >= 70 >
``degraded`` >= 40 > ``lost`` by default), then caps apply: any major
finding caps the band at ``degraded``; a text that shares almost nothing
with its references (cosine below ``unrelated_cosine`` and semantic recall
below ``unrelated_recall``) is ``lost``. The reasons are the findings' own
``why``, most serious first (:func:`~harness.findings.kind_order`), then what
else drove the band, then the minor findings and notes.

Features of metrics that were not computed (left out of the config) are
assumed to agree with the ones that were (:func:`impute`): a text identical
to its reference still scores 100 with chrF++ alone.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..findings import KINDS, Finding, kind_order
from .base import CombiningMetric

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Verdict
    from .meaning_fit import Fitted

#: continuous features, in the order of the fitted weights
CONTINUOUS_FEATURES: tuple[str, ...] = ("chrf", "bertscore", "bertscore.precision", "cosine", "semantic.missing",
                                        "semantic.added")
#: the continuous features of a text identical to its reference: its penalty is 0
PERFECT: dict[str, float] = {"chrf": 1.0, "bertscore": 1.0, "bertscore.precision": 1.0, "cosine": 1.0,
                             "semantic.missing": 0.0, "semantic.added": 0.0}
#: finding counts: major findings of each kind, then all minor findings
COUNT_FEATURES: tuple[str, ...] = tuple(f"major:{kind}" for kind in KINDS) + ("minor",)
FEATURES: tuple[str, ...] = CONTINUOUS_FEATURES + COUNT_FEATURES
#: the metrics the meaning score reads
COMPONENTS = ("chrf", "bertscore", "cosine", "semantic", "injected")


def features(scores: Mapping[str, float], findings: Sequence[Finding]) -> list[float]:
    """The feature vector of one passage (NaN where a metric was not computed)."""
    row = []
    for name in CONTINUOUS_FEATURES:
        value = scores.get(name)
        if value is None:
            row.append(math.nan)
        else:
            row.append(float(value) / 100.0 if name == "chrf" else float(value))
    counts = {name: 0.0 for name in COUNT_FEATURES}
    for finding in findings:
        if finding.severity == "major":
            counts[f"major:{finding.kind}"] += 1.0
        elif finding.severity == "minor":
            counts["minor"] += 1.0
    return row + [counts[name] for name in COUNT_FEATURES]


BUNDLED_CALIBRATION = "meaning_weights.json"


@lru_cache(maxsize=8)
def calibration(path: str | None = None) -> "Fitted":
    """The fitted weights: the bundled file, or the one a config names."""
    from .meaning_fit import Fitted

    import json

    try:
        if path is None:
            text = resources.files("harness").joinpath("data", BUNDLED_CALIBRATION).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        fitted = Fitted.from_json(json.loads(text))
    except FileNotFoundError:
        raise ConfigError(f"meaning.calibration: {path}: no such file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"meaning.calibration: {path or BUNDLED_CALIBRATION}: not a meaning weights file ({exc})") from None
    expected = (list(CONTINUOUS_FEATURES), list(COUNT_FEATURES))
    if (fitted.continuous, fitted.counts) != expected:
        raise ConfigError(f"meaning.calibration: {path or BUNDLED_CALIBRATION}: fitted for other features "
                          f"({', '.join(fitted.continuous + fitted.counts)}); refit it with bench/calibrate_meaning.py")
    return fitted


class Meaning(CombiningMetric):
    """Meaning preserved, 0..100 (higher is better): 100 * exp(-expected MQM
    penalty / 10), the penalty from similarity, content coverage and the
    typed meaning changes found, with weights fitted on expert judgments."""

    name = "meaning"
    version = "15"
    higher_is_better = True
    range = (0.0, 100.0)
    margin = 2.0  # meaning score points
    order = 0

    def __init__(self, options=None):
        from .config import MeaningOptions

        self.options = options or MeaningOptions()
        self._config = None

    @classmethod
    def from_config(cls, config) -> "Meaning":
        meaning = cls(config.meaning)
        meaning._config = config
        return meaning

    @property
    def fitted(self) -> "Fitted":
        return calibration(self.options.calibration)

    def signature(self) -> str:
        o = self.options
        fitted = self.fitted
        digest = hash_weights(fitted)
        return (f"meaning|weights:{digest}|scale:{fitted.scale:g}|caps:{'yes' if o.major_finding_caps_band else 'no'}"
                f"|unrelated:{o.unrelated_cosine:g}/{o.unrelated_recall:g}"
                f"|bands:{o.thresholds.lost:g}/{o.thresholds.preserved:g}|v:{self.version}")

    # --- the combination ----------------------------------------------------------
    def penalty_parts(self, scores: Mapping[str, float], findings: Sequence[Finding]) -> dict[str, float]:
        """The penalty in MQM points: ``similarity`` (the continuous part) and ``findings``."""
        fitted = self.fitted
        row = np.asarray(features(scores, findings), dtype=float)
        n = len(fitted.continuous)
        row[:n] = impute(row[:n], np.asarray(fitted.mean), np.asarray(fitted.perfect))
        findings_part = float(row[n:] @ np.asarray(fitted.points))
        total = float(fitted.penalty(row[None, :])[0])
        return {"similarity": total - findings_part, "findings": findings_part}

    def combine(self, scores: Mapping[str, float], findings: Sequence[Finding]) -> "Verdict":
        """The verdict of one passage from its other metrics' scores and findings."""
        from ..results import Verdict

        o = self.options
        parts = self.penalty_parts(scores, findings)
        penalty = parts["similarity"] + parts["findings"]
        score = max(0.0, min(100.0, 100.0 * math.exp(-penalty / self.fitted.scale)))

        ordered = sorted(findings, key=kind_order)
        major = [f.why for f in ordered if f.severity == "major"]
        lesser = [f.why for f in ordered if f.severity != "major"]
        t = o.thresholds
        band = "preserved" if score >= t.preserved else "lost" if score < t.lost else "degraded"
        reasons: list[str] = []
        cosine, recall = scores.get("cosine"), scores.get("semantic.recall")
        unrelated = (cosine is not None and cosine < o.unrelated_cosine
                     and (recall is None or recall < o.unrelated_recall))
        if unrelated:
            band = "lost"
            reasons.append(f"unrelated to the references (cosine {cosine:.2f}"
                           + (f", {recall:.0%} of their content found)" if recall is not None else ")"))
        if o.major_finding_caps_band and major and band == "preserved":
            band = "degraded"
        reasons += major
        if band != "preserved" and not major and not unrelated:
            reasons.append(self._weakest(scores))
        if not reasons:
            reasons.append(self._summary(scores))
        reasons += lesser
        return Verdict(float(score), band, reasons, {"penalty": penalty, **parts})

    @staticmethod
    def _weakest(scores: Mapping[str, float]) -> str:
        bits = []
        if "semantic.missing" in scores and scores["semantic.missing"] >= 1.0:
            bits.append(f"{scores['semantic.missing']:.1f} words of the reference's content not found")
        if "semantic.added" in scores and scores["semantic.added"] >= 1.0:
            bits.append(f"{scores['semantic.added']:.1f} words in no reference")
        if "cosine" in scores:
            bits.append(f"cosine {scores['cosine']:.2f}")
        return "low similarity to the references" + (f" ({'; '.join(bits)})" if bits else "")

    @staticmethod
    def _summary(scores: Mapping[str, float]) -> str:
        bits = []
        if "cosine" in scores:
            bits.append(f"cosine {scores['cosine']:.2f}")
        if "semantic.recall" in scores:
            bits.append(f"{scores['semantic.recall']:.0%} of the reference's content found")
        return "meaning kept" + (f" ({', '.join(bits)})" if bits else "")

    # --- standalone use (outside the Scorer) -----------------------------------------
    def sentence_scores(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[float]:
        return [v.score for v in self.verdicts(hyps, refs)]

    def verdicts(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list["Verdict"]:
        """Score the component metrics and judge each passage."""
        from ..scoring import Scorer
        from .config import MetricsConfig

        config = self._config or MetricsConfig(meaning=self.options)
        scorer = Scorer(config.model_copy(update={"use": ("chrf", "cosine", "bertscore", "anchors", "injected",
                                                          "semantic", "meaning"), "extra": ()}))
        scored = scorer.score_chunk({"text": list(hyps)}, [list(r) for r in refs])
        return [passage["text"].verdict for passage in scored]


def impute(values: np.ndarray, mean: np.ndarray, perfect: np.ndarray) -> np.ndarray:
    """Features of metrics that were not computed, assumed to agree with those that
    were: each at the same relative place between its calibration mean and its
    value for an identical text (all at the mean when none was computed)."""
    missing = np.isnan(values)
    if not missing.any():
        return values
    span = perfect - mean
    known = ~missing & (span != 0)
    place = float(np.mean((values[known] - mean[known]) / span[known])) if known.any() else 0.0
    return np.where(missing, mean + place * span, values)


def hash_weights(fitted: "Fitted") -> str:
    """A short hash of the fitted weights (the signature names them)."""
    import hashlib
    import json

    payload = json.dumps({k: v for k, v in fitted.to_json().items() if k != "provenance"}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
