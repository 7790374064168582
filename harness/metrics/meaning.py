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
``degraded`` >= 40 > ``lost`` by default), then caps apply: a lost or added
number or negation, or injected content, caps the band at ``degraded``; a
cosine below ``unrelated_cosine`` makes it ``lost`` (the passage says
something else). Reasons name what drove the verdict, most serious first:
"number $44 billion missing", "negation dropped: 'not … supportive' (… is not
particularly supportive …)", "injected: 'Rusya kadД±nlar' (language tr; mojibake
(kadınlar))"; minor notes come last ("name United States lowered ('united states')").

Components that were not computed (a metric left out of the config) drop out
of the weighted mean; the rest are renormalised.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .base import MeanMetric

COMPONENTS = ("cosine", "bertscore", "chrf", "anchors")


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x))


class Meaning(MeanMetric):
    """Meaning preserved, 0..100 (higher is better): similarity to the references
    minus penalties for lost anchors, diluted by injected content."""

    name = "meaning"
    version = "2"
    higher_is_better = True
    range = (0.0, 100.0)
    #: the scorer computes the other metrics first and calls :meth:`judge`
    combines_metrics = True

    def __init__(self, options=None):
        from .config import MeaningOptions

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

    def judge(self, scores: Mapping[str, float], details: Mapping[str, Any]) -> dict[str, Any]:
        """The verdict for one passage from its other metrics' scores and details.

        Returns ``{"score": float, "band": str, "reasons": [str, ...],
        "components": {name: 0..1}}``.
        """
        o = self.options
        parts = self.components(scores)
        weights = {k: w for k, w in o.weights.items() if k in parts and w > 0}
        if not weights:
            raise ValueError("the meaning score needs at least one of: " + ", ".join(COMPONENTS))
        similarity = sum(parts[k] * w for k, w in weights.items()) / sum(weights.values())
        score = 100.0 * similarity

        serious: list[str] = []  # reasons that cap the band
        minor: list[str] = []  # names missing: after the serious reasons
        notes: list[str] = []  # names added or lowered: worth a look, never the main reason
        anchors = details.get("anchors", {})
        hard_losses = 0
        numbers = anchors.get("numbers", {})
        for label in numbers.get("lost", []):
            serious.append(f"number {label} missing")
        for label in numbers.get("added", []):
            serious.append(f"number {label} added (in no reference)")
        hard_losses += len(numbers.get("lost", [])) + len(numbers.get("added", []))
        negations = anchors.get("negations", {})
        context = {label: list(where) for label, where in negations.get("context", {}).items()}

        def where(label: str) -> str:
            return f" ({context[label].pop(0)})" if context.get(label) else ""

        for label in negations.get("lost", []):
            serious.append(f"negation dropped: '{label}'{where(label)}")
        for label in negations.get("added", []):
            serious.append(f"negation added: '{label}'{where(label)}")
        hard_losses += len(negations.get("lost", [])) + len(negations.get("added", []))
        names = anchors.get("names", {})
        lost_names = names.get("lost", [])
        for label in lost_names:
            minor.append(f"name {label} missing")
        for label in names.get("added", []):
            notes.append(f"name {label} added (in no reference)")
        lowered_names = names.get("lowered", [])
        name_context = {label: list(where) for label, where in names.get("context", {}).items()}
        for label in lowered_names:
            surface = name_context[label].pop(0) if name_context.get(label) else ""
            notes.append(f"name {label} lowered" + (f" ('{surface}')" if surface else ""))
        score -= (o.hard_anchor_penalty * hard_losses + o.name_penalty * len(lost_names)
                  + o.lowered_name_penalty * len(lowered_names))

        injected_share = float(scores.get("injected", 0.0))
        spans = details.get("injected", {}).get("spans", [])
        score *= 1.0 - min(1.0, injected_share * o.injected_weight)
        injected_reasons = [f"injected: '{s['text']}' ({s['why']})" for s in spans]
        score = max(0.0, min(100.0, score))

        t = o.thresholds
        band = "preserved" if score >= t.preserved else "lost" if score < t.lost else "degraded"
        reasons: list[str] = []
        cosine = scores.get("cosine")
        if cosine is not None and cosine < o.unrelated_cosine:
            band = "lost"
            reasons.append(f"unrelated to the references (cosine {cosine:.2f})")
        if o.hard_anchor_caps_band and (hard_losses or spans or lost_names) and band == "preserved":
            band = "degraded"
        reasons += serious + injected_reasons
        reasons += minor
        if band != "preserved" and not reasons:
            reasons.append(self._weakest(scores, parts))
        elif band != "preserved" and cosine is not None and cosine < o.cosine_ceiling - 0.15 and not any(
            r.startswith("unrelated") for r in reasons
        ):
            reasons.append(f"low similarity to the references (cosine {cosine:.2f})")
        if band == "preserved" and not reasons:
            reasons.append(self._summary(scores))
        reasons += notes
        if not reasons:
            reasons.append(self._summary(scores))
        return {"score": float(score), "band": band, "reasons": reasons, "components": parts}

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
        return [v["score"] for v in self.verdicts(hyps, refs)]

    def verdicts(self, hyps: Sequence[str], refs: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
        """Compute the component metrics and judge each passage."""
        from . import build_metric
        from .config import MetricsConfig

        config = self._config or MetricsConfig(meaning=self.options)
        needed = [n for n in ("chrf", "cosine", "bertscore", "anchors", "injected")]
        outputs = {n: build_metric(n, config).compute(hyps, refs) for n in needed}
        verdicts = []
        for i in range(len(hyps)):
            scores = {n: out.sentence[i] for n, out in outputs.items()}
            details = {n: out.details[i] for n, out in outputs.items() if out.details}
            verdicts.append(self.judge(scores, details))
        return verdicts

    def details(self, hyps, refs) -> list[dict[str, Any]]:
        return []
