"""The regression gate: rerun a pipeline and compare it with a stored baseline.

What counts as a regression (each is reported with its reason):

* **corpus level** -- for every gated stage and metric, a drop that is both
  larger than the metric's margin *and* significant under a one-sided paired
  bootstrap non-inferiority test (:func:`harness.stats.noninferiority`,
  p < alpha). A drop inside the margin, or one the passages do not support
  with confidence, is noise and passes;
* **passage level** -- a passage whose verdict band gets worse (preserved ->
  degraded -> lost) while its meaning score drops by more than
  ``band_tolerance`` (a score hovering on a threshold is not a regression), a
  passage that loses an anchor the baseline kept (a number, a name, a
  negation), or a passage that now fails outright;
* **labelled cases** -- a ``keep`` case whose text changes or a ``fix`` case
  that no longer passes (a ``known-failure`` that starts passing is good news).

Improvements are reported the same way (a significant gain beyond the
margin, a better band, a regained anchor) but never fail the gate.

A baseline made with another transcript, reference set or metric version
cannot be compared with: :class:`BaselineMismatch` (exit code 2) says which
and how to re-baseline. So can't one whose distorted text (which no cleaner
touches) now scores differently: a metric changed without a version bump.
Another cleaner version is what the gate is *for*.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from xml.etree import ElementTree as ET

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .baseline import baseline_config, baseline_inputs, load_baseline, normalise, run_baseline, save_baseline
from .errors import ConfigError, InputError

BANDS = ("preserved", "degraded", "lost")  # best to worst

#: Default per-metric margins, in each metric's own units: a corpus drop no
#: larger than this is never a regression, however significant.
DEFAULT_MARGINS: dict[str, float] = {
    "chrf": 1.0,        # chrF++ points (0..100)
    "bleu": 1.0,        # BLEU points (0..100)
    "ter": 1.0,         # TER points; lower is better, so a rise is the drop
    "cosine": 0.01,     # embedding cosine (-1..1)
    "roundtrip": 0.01,  # round-trip embedding cosine (-1..1)
    "bertscore": 0.01,  # BERTScore F1 (0..1)
    "anchors": 0.02,    # anchor F1 (0..1); single lost anchors are caught per passage
    "injected": 0.01,   # injected-content share (0..1); lower is better
    "meaning": 2.0,     # meaning score points (0..100)
}


class RegressConfig(BaseModel):
    """The ``regress:`` section of a run config: what the gate calls a regression."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: per-metric margins (metric units); given margins are merged into
    #: :data:`DEFAULT_MARGINS`, and ``null`` removes one. A metric with no
    #: margin is reported, not gated.
    margins: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MARGINS))
    #: one-sided significance level of the non-inferiority test
    alpha: float = Field(0.05, gt=0, lt=0.5)
    #: bootstrap resamples (and seed: the gate is deterministic)
    n_resamples: int = Field(1000, ge=100, le=100_000)
    seed: int = 12345
    #: stages compared (the distorted stage does not depend on the cleaners)
    stages: tuple[str, ...] = ("cleaned", "retranslated")
    #: a band downgrade counts only when the meaning score fell by more than this
    band_tolerance: float = Field(1.0, ge=0)
    #: per-passage checks
    check_bands: bool = True
    check_anchors: bool = True

    @field_validator("margins", mode="before")
    @classmethod
    def _merge_with_defaults(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: v for k, v in {**DEFAULT_MARGINS, **value}.items() if v is not None}
        return value

    @field_validator("margins")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not math.isfinite(v) or v < 0}
        if bad:
            raise ValueError(f"margins must be finite and >= 0 (got {bad})")
        return value

    def with_margins(self, overrides: Mapping[str, float | None]) -> "RegressConfig":
        """A copy with some margins replaced (``--margin chrf=1.5``); None un-gates a metric."""
        return RegressConfig.model_validate({**self.model_dump(), "margins": {**self.margins, **overrides}})


def parse_margins(items: Iterable[str]) -> dict[str, float | None]:
    """``["chrf=1.5", "bleu=none"]`` -> ``{"chrf": 1.5, "bleu": None}`` (one-line errors);
    ``none`` reports the metric without gating on it."""
    margins: dict[str, float | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if sep and name.strip() and value.strip().lower() == "none":
            margins[name.strip()] = None
            continue
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not sep or not name.strip() or not math.isfinite(number) or number < 0:
            raise ConfigError(f"--margin {item!r}: expected METRIC=NUMBER (>= 0) or METRIC=none, e.g. chrf=1.5")
        margins[name.strip()] = number
    return margins


class BaselineMismatch(InputError):
    """The baseline was made from other data or other metrics: not comparable (exit 2)."""


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@dataclass
class CorpusCheck:
    """One metric at one stage: the non-inferiority test and its verdict."""

    stage: str
    metric: str
    baseline: float
    current: float
    dropped_by: float  # > 0 is worse, whatever the metric's direction
    margin: float | None  # None: not gated (no margin configured)
    p_value: float  # of "dropped by more than the margin"
    improved_p_value: float  # of "gained more than the margin"
    regressed: bool
    improved: bool
    n_passages: int

    @property
    def name(self) -> str:
        return f"{self.stage}.{self.metric}"

    def describe(self) -> str:
        margin = f"margin {self.margin:g}" if self.margin is not None else "not gated"
        if self.dropped_by == 0:
            change = "unchanged"
        else:  # "worse"/"better" in the metric's own direction (a TER rise is worse)
            change = f"{'worse' if self.dropped_by > 0 else 'better'} by {_num(abs(self.dropped_by))}"
        p_value = self.p_value if self.dropped_by >= 0 else self.improved_p_value
        return (f"{self.stage} {self.metric}: {_num(self.baseline)} -> {_num(self.current)} "
                f"({change}; {margin}; p={p_value:.3g})")


@dataclass
class PassageCheck:
    """One passage at one stage: what changed, what regressed, what improved."""

    id: str
    stage: str
    before: str | None
    after: str | None
    regressions: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    score_deltas: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (before, after)

    @property
    def name(self) -> str:
        return f"{self.id}.{self.stage}"

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def status(self) -> str:
        if self.regressions:
            return "regressed"
        if self.improvements:
            return "improved"
        return "changed" if self.changed else "unchanged"


@dataclass
class CaseCheck:
    """One labelled cleaner case (fix / keep / known-failure)."""

    file: str
    cleaner: str
    id: str
    kind: str
    status: str  # "passed", "regressed", "good-news" (a known failure now passes), "known-failure"
    message: str = ""

    @property
    def name(self) -> str:
        return f"{self.cleaner}:{self.id}"


@dataclass
class RegressReport:
    """Everything one gate run found; :attr:`regressed` is the gate's verdict."""

    baseline_path: str
    config_name: str
    cleaners_before: list[dict[str, str]]
    cleaners_after: list[dict[str, str]]
    corpus: list[CorpusCheck] = field(default_factory=list)
    passages: list[PassageCheck] = field(default_factory=list)
    cases: list[CaseCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    updated: bool = False
    wall_s: float = 0.0
    alpha: float = 0.05

    @property
    def regressed(self) -> bool:
        return bool(self.corpus_regressions or self.passage_regressions or self.case_regressions)

    @property
    def exit_code(self) -> int:
        return 1 if self.regressed and not self.updated else 0

    @property
    def corpus_regressions(self) -> list[CorpusCheck]:
        return [c for c in self.corpus if c.regressed]

    @property
    def passage_regressions(self) -> list[PassageCheck]:
        return [p for p in self.passages if p.regressions]

    @property
    def case_regressions(self) -> list[CaseCheck]:
        return [c for c in self.cases if c.status == "regressed"]

    @property
    def regressed_passage_ids(self) -> list[str]:
        return list(dict.fromkeys(p.id for p in self.passage_regressions))

    def improvements(self) -> list[str]:
        """Every improvement as one line (never fails the gate)."""
        lines = [f"corpus {c.describe()}" for c in self.corpus if c.improved]
        lines += [f"passage {p.id} ({p.stage}): {reason}" for p in self.passages for reason in p.improvements]
        lines += [f"case {c.name}: known failure now passes" for c in self.cases if c.status == "good-news"]
        return lines

    def reasons(self) -> list[str]:
        """Every regression as one line (what a failing test prints first)."""
        lines = [f"corpus {c.describe()}" for c in self.corpus_regressions]
        lines += [f"passage {p.id} ({p.stage}): {reason}" for p in self.passage_regressions for reason in p.regressions]
        lines += [f"case {c.name} ({c.kind}): {c.message}" for c in self.case_regressions]
        return lines

    def to_text(self, *, show_text: bool = True) -> str:
        return format_report(self, show_text=show_text)

    def to_junit(self) -> ET.ElementTree:
        return junit_tree(self)

    def write_junit(self, path: Path) -> None:
        write_junit(self, path)


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


# --------------------------------------------------------------------------
# Compatibility
# --------------------------------------------------------------------------

def metric_fingerprint(signature: Mapping[str, Any]) -> dict[str, Any]:
    """What must match for scores to be comparable: metric names, versions,
    directions and signatures, the embedding model, the verdict thresholds
    and the metrics config (descriptions are cosmetic and left out)."""
    metrics = signature.get("metrics") or {}
    return normalise({
        "metrics": {name: {k: v for k, v in info.items() if k != "description"}
                    for name, info in (metrics.get("metrics") or {}).items()},
        "signatures": metrics.get("signatures"),
        "embedding_model": (metrics.get("embedding_model") or {}).get("sha256"),
        "thresholds": metrics.get("thresholds"),
        "config": metrics.get("config"),
    })


def _differing_metrics(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    a, b = metric_fingerprint(before), metric_fingerprint(after)
    names = sorted(set(a["metrics"]) | set(b["metrics"]))
    changed = [n for n in names if a["metrics"].get(n) != b["metrics"].get(n)
               or (a["signatures"] or {}).get(n) != (b["signatures"] or {}).get(n)]
    if changed:
        parts = []
        for name in changed:
            old, new = a["metrics"].get(name), b["metrics"].get(name)
            if old is None or new is None:
                parts.append(f"{name} {'added' if old is None else 'removed'}")
            else:
                parts.append(f"{name} v{old.get('version')} -> v{new.get('version')}"
                             if old.get("version") != new.get("version") else f"{name} settings")
        return ", ".join(parts)
    for key, label in (("embedding_model", "embedding model weights"), ("thresholds", "verdict thresholds"),
                       ("config", "metrics settings")):
        if a[key] != b[key]:
            return label
    return "metric signatures"


def rebaseline_hint(baseline_path: Path | str, config_arg: str | None = None) -> str:
    """How to make a fresh baseline: ``--update`` reruns the config stored in
    the baseline (or the one given); ``baseline save`` starts from a config file."""
    if config_arg:
        return (f"re-baseline with: harness baseline save --config {config_arg} --out {baseline_path} "
                f"(or: harness regress --baseline {baseline_path} --config {config_arg} --update)")
    return (f"re-baseline with: harness regress --baseline {baseline_path} --update (reruns the config stored "
            f"in the baseline; or: harness baseline save --config CONFIG --out {baseline_path})")


def check_compatible(baseline: Mapping[str, Any], current_signature: Mapping[str, Any],
                     baseline_path: Path | str, config_arg: str | None = None) -> None:
    """Raise :class:`BaselineMismatch` when the baseline and the current run
    were made from different transcripts, references or metric versions."""
    before = baseline["signature"]
    hint = rebaseline_hint(baseline_path, config_arg)
    for key, what in (("transcript_sha256", "transcript"), ("references_sha256", "reference set")):
        old, new = before.get(key), current_signature.get(key)
        if old != new:
            raise BaselineMismatch(
                f"baseline {baseline_path} was made with a different {what} "
                f"({key[:-7]} {str(old)[:12]} != {str(new)[:12]}); {hint}"
            )
    if metric_fingerprint(before) != metric_fingerprint(current_signature):
        raise BaselineMismatch(
            f"baseline {baseline_path} was made with different metrics "
            f"({_differing_metrics(before, current_signature)}); {hint}"
        )


#: how far a statistic of the *unchanged* distorted text may move between two
#: runs before the scoring counts as changed (float32 embeddings differ in the
#: last bits between CPUs; everything else is reproduced exactly)
SCORING_TOLERANCE = 1e-4


def _stats_close(a: Sequence[Any], b: Sequence[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if x is not y:
                return False
        elif abs(float(x) - float(y)) > SCORING_TOLERANCE + 1e-6 * abs(float(y)):
            return False
    return True


def scoring_changes(baseline: Mapping[str, Any], current: Mapping[str, Any], stage: str = "distorted") -> list[str]:
    """Where the same text (the distorted stage: cleaners never touch it) now
    scores differently: e.g. ``"p02 anchors"``. Empty when the scoring is the same."""
    now_by_id = {p["id"]: p for p in current["passages"]}
    changes = []
    for before in baseline["passages"]:
        after = now_by_id.get(before["id"])
        b = (before.get("stages") or {}).get(stage) or {}
        a = ((after or {}).get("stages") or {}).get(stage) or {}
        if not b.get("stats") or not a.get("stats"):
            continue
        for name in sorted(set(b["stats"]) | set(a["stats"])):
            if name not in b["stats"] or name not in a["stats"] or not _stats_close(b["stats"][name], a["stats"][name]):
                changes.append(f"{before['id']} {name}")
        if b.get("anchors") != a.get("anchors") and f"{before['id']} anchors" not in changes:
            changes.append(f"{before['id']} anchors")
    return changes


def check_same_scoring(baseline: Mapping[str, Any], current: Mapping[str, Any], baseline_path: Path | str,
                       config_arg: str | None = None) -> None:
    """Raise :class:`BaselineMismatch` when the unchanged distorted text scores
    differently than in the baseline: the metrics changed even though their
    versions did not (a metric's output changed without a version bump)."""
    changes = scoring_changes(baseline, current)
    if changes:
        shown = ", ".join(changes[:4]) + (f" and {len(changes) - 4} more" if len(changes) > 4 else "")
        raise BaselineMismatch(
            f"baseline {baseline_path}: the distorted text, which no cleaner touches, now scores differently "
            f"({shown}): the metrics changed although their versions did not; "
            f"{rebaseline_hint(baseline_path, config_arg)}"
        )


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------

def _top_level_metrics(scores: Mapping[str, Any]) -> list[str]:
    return [name for name in scores if "." not in name]


def _scored(passage: Mapping[str, Any], stage: str) -> Mapping[str, Any] | None:
    if passage.get("error"):
        return None
    data = (passage.get("stages") or {}).get(stage)
    return data if data and data.get("stats") else None


def compare_corpus(baseline: Mapping[str, Any], current: Mapping[str, Any], scorer, config: RegressConfig,
                   stages: Sequence[str]) -> tuple[list[CorpusCheck], list[str]]:
    """Non-inferiority tests per stage and metric over the passages scored in both runs."""
    from .stats import noninferiority

    checks: list[CorpusCheck] = []
    notes: list[str] = []
    now_by_id = {p["id"]: p for p in current["passages"]}
    for stage in stages:
        pairs = []
        for before in baseline["passages"]:
            after = now_by_id.get(before["id"])
            b, a = _scored(before, stage), _scored(after, stage) if after else None
            if b is not None and a is not None:
                pairs.append((b, a))
        if not pairs:
            notes.append(f"{stage}: no passage scored in both runs; corpus tests skipped")
            continue
        for metric_name in scorer.names:
            rows = [(b["stats"][metric_name], a["stats"][metric_name]) for b, a in pairs
                    if metric_name in b["stats"] and metric_name in a["stats"]
                    and len(b["stats"][metric_name]) == len(a["stats"][metric_name])]
            if not rows:
                continue
            metric = scorer.metric(metric_name)
            base = np.array([[np.nan if x is None else x for x in r[0]] for r in rows], dtype=float)
            system = np.array([[np.nan if x is None else x for x in r[1]] for r in rows], dtype=float)
            margin = config.margins.get(metric_name)
            test_margin = margin if margin is not None else 0.0
            common = dict(score_fn=metric.corpus_from_stats, margin=test_margin,
                          higher_is_better=bool(metric.higher_is_better), n_resamples=config.n_resamples,
                          seed=config.seed, alpha=config.alpha)
            worse = noninferiority(base, system, **common)
            better = noninferiority(system, base, **common)  # "the baseline is worse than this run"
            if math.isnan(worse.dropped_by):
                notes.append(f"{stage} {metric_name}: corpus score undefined; not tested")
                continue
            checks.append(CorpusCheck(
                stage=stage, metric=metric_name, baseline=worse.baseline, current=worse.system,
                dropped_by=worse.dropped_by, margin=margin, p_value=worse.p_value,
                improved_p_value=better.p_value,
                regressed=margin is not None and worse.regressed,
                improved=margin is not None and better.regressed,
                n_passages=len(rows),
            ))
        ungated = sorted({c.metric for c in checks if c.margin is None and c.stage == stage})
        if ungated:
            notes.append(f"{stage}: no margin for {', '.join(ungated)} (reported, not gated); "
                         f"set regress.margins or --margin METRIC=NUMBER")
    return checks, notes


def _band(data: Mapping[str, Any] | None) -> str | None:
    verdict = (data or {}).get("verdict") or {}
    band = verdict.get("band")
    return band if band in BANDS else None


def _verdict_score(data: Mapping[str, Any] | None) -> float | None:
    value = ((data or {}).get("verdict") or {}).get("score")
    return float(value) if isinstance(value, (int, float)) else None


def kept_anchors(data: Mapping[str, Any] | None) -> dict[str, list[str]] | None:
    """The anchors (per kind) a stage kept, from the anchors metric's details;
    None when the run did not measure anchors."""
    return _anchor_field(data, "found")


def _anchor_field(data: Mapping[str, Any] | None, key: str) -> dict[str, list[str]] | None:
    anchors = (data or {}).get("anchors")
    if not isinstance(anchors, Mapping):
        return None
    return {kind: [str(a) for a in (report.get(key) or [])]
            for kind, report in anchors.items() if isinstance(report, Mapping)}


_KIND_SINGULAR = {"numbers": "number", "names": "name", "negations": "negation"}


def _anchor_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(lost, regained) anchors as readable phrases, e.g. "number '$44 billion'".

    Lost: required anchors this run reports lost that the baseline kept.
    Regained: the reverse. Reading the metric's own ``lost`` lists, not a
    difference of ``found`` lists, matters for negations: they are matched by
    count, so *which* reference cue is reported kept may change while none is
    lost. (A baseline without ``lost`` lists falls back to the difference.)
    """
    kept_before, kept_after = kept_anchors(before), kept_anchors(after)
    if kept_before is None or kept_after is None:
        return [], []
    lost_before, lost_after = _anchor_field(before, "lost") or {}, _anchor_field(after, "lost") or {}
    lost, regained = [], []
    for kind in sorted(set(kept_before) | set(kept_after)):
        label = _KIND_SINGULAR.get(kind, kind)
        old, new = kept_before.get(kind, []), kept_after.get(kind, [])
        if kind in lost_after and kind in lost_before:
            gone = _multiset_intersection(lost_after[kind], old)
            back = _multiset_intersection(lost_before[kind], new)
        else:
            gone, back = _multiset_minus(old, new), _multiset_minus(new, old)
        lost += [f"{label} {anchor!r}" for anchor in gone]
        regained += [f"{label} {anchor!r}" for anchor in back]
    return lost, regained


def _multiset_intersection(a: list[str], b: list[str]) -> list[str]:
    remaining = list(b)
    out = []
    for item in a:
        if item in remaining:
            remaining.remove(item)
            out.append(item)
    return out


def _multiset_minus(a: list[str], b: list[str]) -> list[str]:
    remaining = list(b)
    out = []
    for item in a:
        if item in remaining:
            remaining.remove(item)
        else:
            out.append(item)
    return out


def compare_passages(baseline: Mapping[str, Any], current: Mapping[str, Any], config: RegressConfig,
                     stages: Sequence[str]) -> list[PassageCheck]:
    """Per passage and stage: failures, band changes and anchor changes."""
    now_by_id = {p["id"]: p for p in current["passages"]}
    checks: list[PassageCheck] = []
    for before in baseline["passages"]:
        after = now_by_id.get(before["id"])
        if after is None:  # impossible with matching transcript hashes, but say so
            checks.append(PassageCheck(before["id"], "distorted", None, None, ["passage missing from this run"]))
            continue
        if after.get("error") and not before.get("error"):
            error = after["error"]
            checks.append(PassageCheck(before["id"], error.get("stage") or "cleaned",
                                       _text(before, error.get("stage")), None,
                                       [f"now fails: {error.get('message')}"]))
            continue
        if before.get("error") and not after.get("error"):
            check = PassageCheck(before["id"], before["error"].get("stage") or "cleaned", None,
                                 _text(after, before["error"].get("stage")),
                                 improvements=[f"no longer fails (was: {before['error'].get('message')})"])
            checks.append(check)
            continue
        if before.get("error"):
            continue  # failed in both: nothing to compare
        for stage in stages:
            b = (before.get("stages") or {}).get(stage)
            a = (after.get("stages") or {}).get(stage)
            if b is None or a is None:
                continue
            check = PassageCheck(before["id"], stage, b.get("text"), a.get("text"))
            for metric in _top_level_metrics(b.get("scores") or {}):
                old, new = (b.get("scores") or {}).get(metric), (a.get("scores") or {}).get(metric)
                if isinstance(old, (int, float)) and isinstance(new, (int, float)) and old != new:
                    check.score_deltas[metric] = (float(old), float(new))
            if config.check_bands:
                _check_band(check, b, a, config.band_tolerance)
            if config.check_anchors:
                lost, regained = _anchor_changes(b, a)
                if lost:
                    check.regressions.append("lost " + ", ".join(lost) + " (kept in the baseline)")
                if regained:
                    check.improvements.append("now keeps " + ", ".join(regained))
            if check.changed or check.regressions or check.improvements or check.score_deltas:
                checks.append(check)
    return checks


def _text(passage: Mapping[str, Any], stage: str | None) -> str | None:
    stages = passage.get("stages") or {}
    data = stages.get(stage or "") or stages.get("distorted") or {}
    return data.get("text")


def _check_band(check: PassageCheck, before: Mapping[str, Any], after: Mapping[str, Any], tolerance: float) -> None:
    old, new = _band(before), _band(after)
    if old is None or new is None or old == new:
        return
    old_score, new_score = _verdict_score(before), _verdict_score(after)
    scores = f" (meaning {_num(old_score)} -> {_num(new_score)})" if old_score is not None and new_score is not None else ""
    moved = abs(new_score - old_score) if old_score is not None and new_score is not None else math.inf
    if moved <= tolerance:
        return  # a score wobbling across a threshold is noise, not a change of verdict
    if BANDS.index(new) > BANDS.index(old):
        reasons = [r for r in ((after.get("verdict") or {}).get("reasons") or []) if isinstance(r, str)]
        why = f"; {'; '.join(reasons[:3])}" if reasons else ""
        check.regressions.append(f"verdict {old} -> {new}{scores}{why}")
    else:
        check.improvements.append(f"verdict {old} -> {new}{scores}")


def compare(baseline: Mapping[str, Any], current: Mapping[str, Any], scorer,
            config: RegressConfig | None = None, *, baseline_path: str = "") -> RegressReport:
    """Compare two baselines (the stored one and a fresh run in the same format).

    ``scorer`` is a :class:`harness.scoring.Scorer` for the run's metrics (its
    metric objects turn resampled statistics into corpus scores). Pure: no
    pipeline runs here, so it is what unit tests exercise directly.
    """
    config = config or RegressConfig()
    stages = [s for s in config.stages if s in baseline["stages"] and s in current["stages"]]
    report = RegressReport(
        baseline_path=str(baseline_path),
        config_name=str((current.get("signature") or {}).get("config_name") or ""),
        cleaners_before=list((baseline.get("signature") or {}).get("cleaners") or []),
        cleaners_after=list((current.get("signature") or {}).get("cleaners") or []),
        alpha=config.alpha,
    )
    missing = [s for s in config.stages if s in baseline["stages"] and s not in current["stages"]]
    if missing:
        raise BaselineMismatch(
            f"baseline {baseline_path} has stage(s) {', '.join(missing)} that this run does not produce "
            f"(a config without cleaners or without retranslation?); run with the baseline's config, "
            f"or {rebaseline_hint(baseline_path)}"
        )
    if not stages:
        raise InputError(
            f"baseline {baseline_path} has none of the gated stages ({', '.join(config.stages)}): "
            f"nothing to compare; make it with a config that has cleaners, e.g. "
            f"harness baseline save --config clean-only --out {baseline_path or 'FILE'}"
        )
    report.corpus, notes = compare_corpus(baseline, current, scorer, config, stages)
    report.notes.extend(notes)
    report.passages = compare_passages(baseline, current, config, stages)
    return report


# --------------------------------------------------------------------------
# The gate, end to end
# --------------------------------------------------------------------------

def effective_regress_config(run_config, margins: Mapping[str, float] | None = None) -> RegressConfig:
    """The run config's ``regress:`` section (when it has one), with ``margins`` on top."""
    section = getattr(run_config, "regress", None)
    config = section if isinstance(section, RegressConfig) else RegressConfig.model_validate(section or {})
    return config.with_margins(margins) if margins else config


def _current_fingerprint(config, transcript: Path | None, references: Sequence[Path] | None) -> dict[str, Any]:
    """Dataset hashes and metric description of a run, without running it."""
    from .loading import dataset_fingerprint, load_dataset
    from .pipeline import resolve_inputs
    from .scoring import Scorer

    transcript_path, reference_paths = resolve_inputs(config, transcript, references)
    passages = load_dataset(transcript_path, reference_paths, max_chars=config.max_passage_chars)
    return {**dataset_fingerprint(passages), "metrics": Scorer(config.metrics).describe()}


def run_regress(baseline_path: Path | str, *, config: Any = None, cleaners: Sequence[str] | None = None,
                case_files: Sequence[Path | str] = (), margins: Mapping[str, float] | None = None,
                regress_config: RegressConfig | None = None, cache_dir: Path | None = None,
                use_cache: bool = True, update: bool = False, out_dir: Path | None = None,
                progress=None) -> RegressReport:
    """Rerun the baseline's pipeline (or ``config``, with ``cleaners`` instead
    of its own) and compare; with ``update``, rewrite the baseline afterwards.

    ``config`` is a RunConfig, a config path or a shipped config name; None
    reruns the config stored in the baseline. Raises :class:`BaselineMismatch`
    (exit 2) when the data or metrics differ, and other
    :class:`~harness.errors.HarnessError` for bad input.
    """
    from .config import RunConfig, load_config
    from .scoring import Scorer

    started = time.perf_counter()
    baseline_path = Path(baseline_path)
    baseline = load_baseline(baseline_path)
    config_arg = None
    if config is None:
        run_config = baseline_config(baseline, f"baseline {baseline_path}")
    elif isinstance(config, RunConfig):
        run_config = config
    else:
        config_arg = str(config)
        run_config = load_config(config)
    if cleaners:
        run_config = run_config.model_copy(update={"cleaners": list(cleaners)})
    gate = regress_config or effective_regress_config(run_config)
    if margins:
        gate = gate.with_margins(margins)

    transcript, references = baseline_inputs(baseline, baseline_path)
    # Refuse an incomparable baseline before spending time on the run; with
    # --update an incomparable baseline is simply replaced.
    mismatch: BaselineMismatch | None = None
    try:
        check_compatible(baseline, _current_fingerprint(run_config, transcript, references), baseline_path,
                         config_arg)
    except BaselineMismatch as exc:
        if not update:
            raise
        mismatch = exc
    current = run_baseline(run_config, transcript=transcript, references=references,
                           baseline_dir=baseline_path.parent, cache_dir=cache_dir, use_cache=use_cache,
                           out_dir=out_dir, progress=progress)
    if mismatch is None:
        try:
            check_compatible(baseline, current["signature"], baseline_path, config_arg)
            check_same_scoring(baseline, current, baseline_path, config_arg)
        except BaselineMismatch as exc:
            if not update:
                raise
            mismatch = exc

    if mismatch is None:
        report = compare(baseline, current, Scorer(run_config.metrics), gate, baseline_path=str(baseline_path))
    else:
        report = RegressReport(str(baseline_path), run_config.name,
                               list(baseline["signature"].get("cleaners") or []),
                               list(current["signature"].get("cleaners") or []), alpha=gate.alpha)
        reason = str(mismatch).split("; re-baseline with:")[0]
        report.notes.append(f"not compared: {reason}; the baseline is replaced by this run")
    report.config_name = run_config.name
    if case_files:
        report.cases = check_case_files(case_files, run_config)
    if update:
        save_baseline(baseline_path, current)
        report.updated = True
    report.wall_s = time.perf_counter() - started
    return report


# --------------------------------------------------------------------------
# Labelled cases
# --------------------------------------------------------------------------

def _case_cleaner(file: Path, file_cleaner: str | None, under_test: list[tuple[str, Any]]):
    """The cleaner a case file is for: one under test named like the file's
    ``cleaner`` (its spec or its name); else the only cleaner under test;
    else the file's cleaner built by name."""
    from .cleaners import build_cleaner

    for spec, cleaner in under_test:
        if file_cleaner is not None and file_cleaner in (spec, getattr(cleaner, "name", None)):
            return cleaner
    if len(under_test) == 1:
        return under_test[0][1]
    if file_cleaner is None:
        raise ConfigError(f"case file {file}: names no cleaner; add 'cleaner: package.module:name' to it")
    try:
        return build_cleaner(file_cleaner)
    except ConfigError as exc:
        raise ConfigError(
            f"case file {file} is for cleaner {file_cleaner!r}, which is not among the cleaners under test "
            f"({', '.join(spec for spec, _ in under_test) or 'none'}) and cannot be built ({exc}); "
            f"add 'cleaner: package.module:name' to the file or pass it with --cleaner"
        ) from None


def _shorten(text: str, limit: int = 160) -> str:
    return _one_line(text, limit)


def check_case_files(case_files: Sequence[Path | str], run_config) -> list[CaseCheck]:
    """Run labelled case files (:mod:`harness.cleaners.cases`, the format of the
    project's own cleaner tests) through the cleaners under test.

    A ``fix`` case that does not give its expected text, or a ``keep`` case
    whose text changes, is a regression; a ``known-failure`` that now gives
    its expected text is good news (relabel it ``fix``). A case file is
    matched to a cleaner by its ``cleaner`` field (default: the file's stem).
    """
    from .cleaners import build_cleaner
    from .cleaners.cases import check_case, load_cases

    under_test = [(spec.name, build_cleaner(spec.name, spec.options or None)) for spec in run_config.cleaner_specs()]
    checks: list[CaseCheck] = []
    for file in case_files:
        file = Path(file)
        cases = load_cases(file)
        if not cases:
            continue
        cleaner = _case_cleaner(file, cases[0].cleaner, under_test)
        cleaner_name = str(getattr(cleaner, "name", cases[0].cleaner or file.stem))
        for index, case in enumerate(cases, start=1):
            case_id = f"{file.stem}:{index}"
            try:
                outcome = check_case(cleaner, case)
            except Exception as exc:  # a user's cleaner: report, do not crash the gate
                checks.append(CaseCheck(str(file), cleaner_name, case_id, case.kind, "regressed",
                                        f"cleaner raised {type(exc).__name__}: {exc}"))
                continue
            got = f"got {_shorten(outcome.actual)!r}"
            if case.kind == "known-failure":
                status = "good-news" if outcome.passed else "known-failure"
                message = f"expected {_shorten(case.wanted)!r}, {got}"
            elif outcome.passed:
                status, message = "passed", ""
            elif case.kind == "keep":
                status, message = "regressed", f"changed a text it must keep: {_shorten(case.input)!r}, {got}"
            else:
                status, message = "regressed", f"expected {_shorten(case.wanted)!r}, {got}"
            checks.append(CaseCheck(str(file), cleaner_name, case_id, case.kind, status, message))
    return checks


# --------------------------------------------------------------------------
# Output: text and JUnit XML
# --------------------------------------------------------------------------

def _one_line(text: str | None, limit: int | None = None) -> str:
    from .report.text import visible

    shown = " ".join(visible(text or "").split())
    if limit is not None and len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown


def diff_line(before: str | None, after: str | None, context_words: int = 3) -> str:
    """The changed words only, with a little context: ``… a [-44-]{+-+} b …``."""
    from .report.text import word_diff

    parts: list[str] = []
    opcodes = word_diff(_one_line(before), _one_line(after))
    for i, (tag, old, new) in enumerate(opcodes):
        if tag == "equal":
            words = old.split()
            keep_head = 0 if i == 0 else context_words  # words after the previous change
            keep_tail = 0 if i == len(opcodes) - 1 else context_words  # words before the next change
            if len(words) > keep_head + keep_tail:
                parts.append(" ".join(words[:keep_head] + ["…"] + (words[-keep_tail:] if keep_tail else [])))
            else:
                parts.append(old)
            continue
        if old:
            parts.append(f"[-{old}-]")
        if new:
            parts.append(f"{{+{new}+}}")
    return " ".join(p for p in parts if p)


def _cleaners_text(cleaners: list[dict[str, str]]) -> str:
    return ", ".join(f"{c.get('name')}@{c.get('version')}" for c in cleaners) or "none"


def format_report(report: RegressReport, *, show_text: bool = True) -> str:
    """The gate's console output: verdict first, then regressions, improvements, the rest."""
    out: list[str] = []
    verdict = "REGRESSED" if report.regressed else "OK"
    out.append(f"regression gate: {verdict} against {report.baseline_path} (config {report.config_name})")
    out.append(f"  cleaners: baseline {_cleaners_text(report.cleaners_before)}")
    out.append(f"            now      {_cleaners_text(report.cleaners_after)}")

    if report.corpus:
        out.append("")
        out.append(f"corpus (regressed = worse by more than the margin, p < {report.alpha:g} in a one-sided "
                   f"paired bootstrap test):")
        for check in report.corpus:
            mark = "REGRESSED" if check.regressed else "improved" if check.improved else "ok"
            out.append(f"  {mark:<9} {check.describe()}")

    regressed = report.passage_regressions
    improved = [p for p in report.passages if p.status == "improved"]
    changed = [p for p in report.passages if p.status == "changed"]
    for title, group in (("regressed passages", regressed), ("improved passages", improved)):
        if not group:
            continue
        out.append("")
        out.append(f"{title} ({len(group)}):")
        for check in group:
            out.append(f"  {check.id} [{check.stage}]")
            for reason in check.regressions:
                out.append(f"    REGRESSED: {reason}")
            for reason in check.improvements:
                out.append(f"    improved:  {reason}")
            if check.score_deltas:
                out.append("    scores:    " + _deltas_text(check))
            if show_text and check.changed:
                out.append(f"    before:    {_one_line(check.before)}")
                out.append(f"    after:     {_one_line(check.after)}")
                out.append(f"    changes:   {diff_line(check.before, check.after)}")
    if changed:
        out.append("")
        out.append(f"changed without a verdict or anchor change ({len(changed)}):")
        for check in changed:
            deltas = _deltas_text(check)
            out.append(f"  {check.id} [{check.stage}] {deltas}".rstrip())
            if show_text:
                out.append(f"    changes:   {diff_line(check.before, check.after)}")

    if report.cases:
        out.append("")
        counts = {s: sum(1 for c in report.cases if c.status == s)
                  for s in ("passed", "regressed", "good-news", "known-failure")}
        out.append("labelled cases: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
        for case in report.cases:
            if case.status == "regressed":
                out.append(f"  REGRESSED {case.name} ({case.kind}): {case.message}")
            elif case.status == "good-news":
                out.append(f"  good news {case.name}: known failure now passes; relabel it 'fix'")

    for note in report.notes:
        out.append(f"note: {note}")
    out.append("")
    improvements = report.improvements()
    if improvements:
        out.append(f"IMPROVED: {len(improvements)} improvement(s)")
        for line in improvements:
            out.append(f"  + {_one_line(line, 300)}")
    if report.regressed:
        out.append(f"FAILED: {len(report.reasons())} regression(s)")
        for line in report.reasons():
            out.append(f"  - {_one_line(line, 300)}")
    else:
        out.append("PASSED: nothing regressed")
    if report.updated:
        out.append(f"baseline {report.baseline_path} updated to this run")
    return "\n".join(out)


def _deltas_text(check: PassageCheck) -> str:
    order = ["meaning", "chrf", "bleu", "ter", "cosine", "anchors"]
    names = [m for m in order if m in check.score_deltas] + sorted(m for m in check.score_deltas if m not in order)
    return ", ".join(f"{m} {_num(check.score_deltas[m][0])}->{_num(check.score_deltas[m][1])}" for m in names)


# Characters XML 1.0 cannot carry even escaped (ElementTree would write them raw).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def junit_tree(report: RegressReport) -> ET.ElementTree:
    """JUnit XML: one testsuite; a testcase per corpus stage x metric, per
    compared passage x stage and per labelled case; ``<failure>`` for each
    regression. All untrusted text goes through :func:`_xml_text`."""
    suite = ET.Element("testsuite", name="harness.regress")
    counts = {"tests": 0, "failures": 0, "skipped": 0}

    def case(classname: str, name: str) -> ET.Element:
        counts["tests"] += 1
        return ET.SubElement(suite, "testcase", classname=_xml_text(classname), name=_xml_text(name), time="0")

    def fail(element: ET.Element, message: str, body: str = "") -> None:
        counts["failures"] += 1
        node = ET.SubElement(element, "failure", message=_xml_text(message), type="regression")
        node.text = _xml_text(body or message)

    for check in report.corpus:
        element = case(f"corpus.{check.stage}", check.metric)
        if check.regressed:
            fail(element, check.describe())
        else:
            ET.SubElement(element, "system-out").text = _xml_text(check.describe())
    for check in report.passages:
        element = case(f"passages.{check.stage}", check.id)
        body = "\n".join([*check.regressions, *check.improvements,
                          f"before: {_one_line(check.before)}", f"after:  {_one_line(check.after)}"])
        if check.regressions:
            fail(element, "; ".join(check.regressions), body)
        else:
            ET.SubElement(element, "system-out").text = _xml_text(body)
    for item in report.cases:
        element = case(f"cases.{item.cleaner}", item.id)
        if item.status == "regressed":
            fail(element, f"{item.kind}: {item.message}")
        elif item.status == "known-failure":
            counts["skipped"] += 1
            ET.SubElement(element, "skipped", message=_xml_text(f"known failure: {item.message}"))
        elif item.status == "good-news":
            ET.SubElement(element, "system-out").text = _xml_text(
                f"known failure now passes; relabel it 'fix'. {item.message}")
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("errors", "0")
    suite.set("time", f"{report.wall_s:.3f}")
    return ET.ElementTree(suite)


def write_junit(report: RegressReport, path: Path) -> None:
    """Write the JUnit XML file (atomically, UTF-8 with an XML declaration)."""
    from .runstore import atomic_write_text

    tree = junit_tree(report)
    ET.indent(tree)
    text = ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=False)
    atomic_write_text(Path(path), '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")
