"""One meaning score (0..100) per passage and stage, a verdict band, and its reasons.

The score combines what the other metrics measured (docs/metrics.md has the
rationale and the calibration):

1. **similarity** (weighted mean, each part first mapped to 0..1):
   cosine ``(cos - floor) / (ceiling - floor)``, BERTScore F1 the same way,
   chrF++ ``chrf / chrf_ceiling``, and the anchors F1 as it is;
2. **minus penalties**: ``hard_anchor_penalty`` points per number or negation
   lost or added, ``name_penalty`` per name lost, ``lowered_name_penalty`` per
   name written only in lower case;
3. **times** ``1 - injected_weight x injected share`` (spam dilutes meaning).

The band follows from the score and the thresholds (``preserved`` >= 70 >
``degraded`` >= 40 > ``lost`` by default), then caps apply: any *major*
finding (a lost or added number or negation, a lost name, injected content,
or a major finding of a kind added later) caps the band at ``degraded``; a
cosine below ``unrelated_cosine`` makes it ``lost`` (the passage says
something else). The reasons are the findings' own ``why``, in
:func:`~harness.findings.kind_order`: "unrelated" first, then the major
findings ("number $44 billion missing", "negation dropped: 'not …
supportive' (… is not particularly supportive …)", "injected: 'Rusya
kadД±nlar' (language tr; mojibake (kadınlar))"), then what else drove the
band, then minor findings and notes ("name United States lowered ('united
states')"). A new kind of finding needs nothing here to appear in the
reasons; it costs points only once :meth:`Meaning.penalised` knows it.

Components that were not computed (a metric left out of the config) drop out
of the weighted mean; the rest are renormalised.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Mapping, Sequence

from ..findings import Finding, kind_order
from .base import CombiningMetric
from .config import MEANING_COMPONENTS as COMPONENTS
from .config import MeaningOptions

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Verdict


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


class Meaning(CombiningMetric):
    """Meaning preserved, 0..100 (higher is better): similarity to the references
    minus penalties for lost anchors, diluted by injected content."""

    name = "meaning"
    version = "2"
    higher_is_better = True
    range = (0.0, 100.0)
    margin = 2.0  # meaning score points
    order = 0

    def __init__(self, options=None):
        self.options = options or MeaningOptions()
        self._config = None

    @classmethod
    def from_config(cls, config) -> "Meaning":
        meaning = cls(config.meaning)
        meaning._config = config
        return meaning

    def signature(self) -> str:
        o = self.options
        weights = "+".join(f"{k}{v:g}" for k, v in sorted(o.weights.items()))
        return (
            f"meaning|w:{weights}|cos:{o.cosine_floor:g}-{o.cosine_ceiling:g}|bs:{o.bertscore_floor:g}-{o.bertscore_ceiling:g}"
            f"|chrf:{o.chrf_ceiling:g}|pen:{o.hard_anchor_penalty:g}/{o.name_penalty:g}/{o.lowered_name_penalty:g}"
            f"|inj:{o.injected_weight:g}"
            f"|bands:{o.thresholds.lost:g}/{o.thresholds.preserved:g}|v:{self.version}"
        )

    # --- the combination ----------------------------------------------------------
    def components(self, scores: Mapping[str, float]) -> dict[str, float]:
        """Each available component mapped to 0..1."""
        o = self.options
        out: dict[str, float] = {}
        if "cosine" in scores:
            out["cosine"] = _clip01((scores["cosine"] - o.cosine_floor) / (o.cosine_ceiling - o.cosine_floor))
        if "bertscore" in scores:
            out["bertscore"] = _clip01((scores["bertscore"] - o.bertscore_floor) / (o.bertscore_ceiling - o.bertscore_floor))
        if "chrf" in scores:
            out["chrf"] = _clip01(scores["chrf"] / o.chrf_ceiling)
        if "anchors" in scores:
            out["anchors"] = _clip01(scores["anchors"])
        return out

    @staticmethod
    def penalised(finding: Finding) -> str | None:
        """Which penalty a finding costs: ``hard`` (a number or negation lost or
        added), ``name`` (a name lost), ``lowered`` (a name written only in lower
        case); None for the other kinds (not penalised yet)."""
        if finding.kind in ("number", "negation") and finding.change in ("lost", "added"):
            return "hard"
        if finding.kind == "name":
            return {"lost": "name", "changed": "lowered"}.get(finding.change)
        return None

    def combine(self, scores: Mapping[str, float], findings: Sequence[Finding]) -> "Verdict":
        """The verdict of one passage from its other metrics' scores and findings.

        Reasons: "unrelated" first, then every major finding (in
        :func:`~harness.findings.kind_order`), then what else drove the band,
        then the minor findings and notes.
        """
        from ..results import Verdict

        o = self.options
        parts = self.components(scores)
        weights = {k: w for k, w in o.weights.items() if k in parts and w > 0}
        if not weights:
            raise ValueError("the meaning score needs at least one of: " + ", ".join(COMPONENTS))
        similarity = sum(parts[k] * w for k, w in weights.items()) / sum(weights.values())
        score = 100.0 * similarity
        counts = Counter(self.penalised(f) for f in findings)
        score -= (o.hard_anchor_penalty * counts["hard"] + o.name_penalty * counts["name"]
                  + o.lowered_name_penalty * counts["lowered"])
        score *= 1.0 - min(1.0, float(scores.get("injected", 0.0)) * o.injected_weight)
        score = max(0.0, min(100.0, score))

        ordered = sorted(findings, key=kind_order)
        major = [f.why for f in ordered if f.severity == "major"]
        lesser = [f.why for f in ordered if f.severity != "major"]
        t = o.thresholds
        band = "preserved" if score >= t.preserved else "lost" if score < t.lost else "degraded"
        reasons: list[str] = []
        cosine = scores.get("cosine")
        unrelated = cosine is not None and cosine < o.unrelated_cosine
        if unrelated:
            band = "lost"
            reasons.append(f"unrelated to the references (cosine {cosine:.2f})")
        if o.hard_anchor_caps_band and major and band == "preserved":
            band = "degraded"
        reasons += major
        if band != "preserved" and not reasons:
            reasons.append(self._weakest(scores, parts))
        elif band != "preserved" and cosine is not None and cosine < o.cosine_ceiling - 0.15 and not unrelated:
            reasons.append(f"low similarity to the references (cosine {cosine:.2f})")
        if band == "preserved" and not reasons:
            reasons.append(self._summary(scores))
        reasons += lesser
        if not reasons:
            reasons.append(self._summary(scores))
        return Verdict(float(score), band, reasons, parts)

    @staticmethod
    def _weakest(scores: Mapping[str, float], parts: Mapping[str, float]) -> str:
        weakest = min(parts, key=parts.get)
        value = scores[weakest]
        shown = f"{value:.2f}" if weakest in ("cosine", "bertscore", "anchors") else f"{value:.1f}"
        label = {"cosine": "cosine", "bertscore": "BERTScore F1", "chrf": "chrF++", "anchors": "anchors F1"}[weakest]
        return f"low similarity to the references ({label} {shown})"

    @staticmethod
    def _summary(scores: Mapping[str, float]) -> str:
        bits = []
        if "cosine" in scores:
            bits.append(f"cosine {scores['cosine']:.2f}")
        if "anchors" in scores:
            bits.append("all anchors kept" if scores["anchors"] >= 1.0 else f"anchors F1 {scores['anchors']:.2f}")
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
                                                          "meaning"), "extra": ()}))
        scored = scorer.score_chunk({"text": list(hyps)}, [list(r) for r in refs])
        return [passage["text"].verdict for passage in scored]
