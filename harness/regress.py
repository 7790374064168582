"""The regression gate: rerun a pipeline and compare it with a stored baseline.

What counts as a regression (each is reported with its reason):

* **corpus level** -- for every gated stage and metric, a drop that is both
  larger than the metric's margin (its own default,
  :attr:`~harness.metrics.base.MetricInfo.margin`, or the config's
  ``regress.margins``) *and* significant under a one-sided paired bootstrap
  non-inferiority test (:func:`harness.stats.noninferiority`, p < alpha);
* **passage level** -- a passage whose verdict band gets worse (preserved ->
  degraded -> lost) while its meaning score drops by more than
  ``band_tolerance``, a passage with a *major* finding (a number, name or
  negation lost, a number or negation added, injected content; any kind a
  metric reports as major) that the baseline's same passage and stage did
  not have, or a passage that now fails outright. New minor findings are
  reported without failing the gate;
* **labelled cases** -- a ``keep`` case whose text changes or a ``fix`` case
  that no longer passes (a ``known-failure`` that starts passing is good news).

Improvements are reported the same way (a significant gain beyond the
margin, a better band, a baseline finding gone) but never fail the gate.

A baseline made with another transcript, reference set or metric version
cannot be compared with: :class:`BaselineMismatch` (exit code 2) says which
and how to re-baseline. So can't one whose distorted text (which no cleaner
touches) now scores differently: a metric changed without a version bump.
Another cleaner version is what the gate is *for*.

The gate's reports (console text, JUnit XML) are in :mod:`harness.report.regress`.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .cleaners.cases import CaseCheck, check_case_files
from .baseline import Baseline, baseline_config, baseline_inputs, load_baseline, normalise, run_baseline, \
    save_baseline
from .config import RegressConfig
from .errors import ConfigError, InputError
from .findings import Finding
from .metrics.base import ordered_metrics
from .paired import data_mismatch, paired_entries, paired_values, scoring_metrics
from .results import BANDS, DISTORTED, PassageResult, RunResults, StageResult


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


@dataclass
class PassageCheck:
    """One passage at one stage: what changed, what regressed, what improved."""

    id: str
    stage: str
    before: str | None
    after: str | None
    regressions: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    #: new minor findings: reported, never a regression
    notes: list[str] = field(default_factory=list)
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
        return "changed" if self.changed or self.notes else "unchanged"


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
        from .report.regress import describe_check

        lines = [f"corpus {describe_check(c)}" for c in self.corpus if c.improved]
        lines += [f"passage {p.id} ({p.stage}): {reason}" for p in self.passages for reason in p.improvements]
        lines += [f"case {c.name}: known failure now passes" for c in self.cases if c.status == "good-news"]
        return lines

    def reasons(self) -> list[str]:
        """Every regression as one line (what a failing test prints first)."""
        from .report.regress import describe_check

        lines = [f"corpus {describe_check(c)}" for c in self.corpus_regressions]
        lines += [f"passage {p.id} ({p.stage}): {reason}" for p in self.passage_regressions for reason in p.regressions]
        lines += [f"case {c.name} ({c.kind}): {c.message}" for c in self.case_regressions]
        return lines


# --------------------------------------------------------------------------
# Compatibility
# --------------------------------------------------------------------------

def metric_fingerprint(signature: Mapping[str, Any]) -> dict[str, Any]:
    """What must match for scores to be comparable: metric names, versions,
    directions and signatures, the embedding model, the verdict thresholds
    and the metrics config (descriptions, display order and default margins
    are cosmetic and left out)."""
    metrics = signature.get("metrics") or {}
    cosmetic = {"description", "order", "margin"}
    return normalise({
        "metrics": {name: {k: v for k, v in info.items() if k not in cosmetic}
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


def check_compatible(baseline: Baseline, current_signature: Mapping[str, Any],
                     baseline_path: Path | str, config_arg: str | None = None) -> None:
    """Raise :class:`BaselineMismatch` when the baseline and the current run
    were made from different transcripts, references or metric versions."""
    before = baseline.run.signature
    hint = rebaseline_hint(baseline_path, config_arg)
    mismatch = data_mismatch(before, current_signature)
    if mismatch is not None:
        key, what, old, new = mismatch
        what = "reference set" if what == "references" else what
        raise BaselineMismatch(f"baseline {baseline_path} was made with a different {what} "
                               f"({key[:-7]} {old[:12]} != {new[:12]}); {hint}")
    if metric_fingerprint(before) != metric_fingerprint(current_signature):
        raise BaselineMismatch(f"baseline {baseline_path} was made with different metrics "
                               f"({_differing_metrics(before, current_signature)}); {hint}")


#: how far a statistic of the *unchanged* distorted text may move between two
#: runs before the scoring counts as changed (float32 embeddings differ in the
#: last bits between CPUs; everything else is reproduced exactly)
SCORING_TOLERANCE = 1e-4


def _stats_close(a: Sequence[float], b: Sequence[float]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                return False
        elif abs(x - y) > SCORING_TOLERANCE + 1e-6 * abs(y):
            return False
    return True


def _keys(findings: Iterable[Finding]) -> Counter:
    return Counter(f.key for f in findings)


def scoring_changes(baseline: RunResults, current: RunResults, stage: str = DISTORTED) -> list[str]:
    """Where the same text (the distorted stage: cleaners never touch it) now
    scores differently: e.g. ``"p02 anchors"``. Empty when the scoring is the same."""
    changes = []
    for pid, (before, after) in paired_entries([baseline, current], stage):
        if not before.stats or not after.stats:
            continue
        for name in sorted(set(before.stats) | set(after.stats)):
            if name not in before.stats or name not in after.stats \
                    or not _stats_close(before.stats[name], after.stats[name]):
                changes.append(f"{pid} {name}")
        if _keys(before.findings) != _keys(after.findings):
            sources = sorted({f.source for f in (*before.findings, *after.findings)} - {""}) or ["findings"]
            changes += [f"{pid} {s}" for s in sources if f"{pid} {s}" not in changes]
    return changes


def check_same_scoring(baseline: Baseline, current: Baseline, baseline_path: Path | str,
                       config_arg: str | None = None) -> None:
    """Raise :class:`BaselineMismatch` when the unchanged distorted text scores
    differently than in the baseline: the metrics changed even though their
    versions did not (a metric's output changed without a version bump)."""
    changes = scoring_changes(baseline.run, current.run)
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

def compare_corpus(baseline: RunResults, current: RunResults, config: RegressConfig,
                   stages: Sequence[str]) -> tuple[list[CorpusCheck], list[str]]:
    """Non-inferiority tests per stage and metric over the passages scored in both runs."""
    from .stats import noninferiority

    checks: list[CorpusCheck] = []
    notes: list[str] = []
    runs = [baseline, current]
    infos = baseline.metrics
    pairs = {stage: paired_entries(runs, stage) for stage in stages}
    widths = {m: len(row) for ps in pairs.values() for _, (before, _) in ps for m, row in before.stats.items()}
    metrics, _ = scoring_metrics(baseline, list(widths), widths)
    for stage in stages:
        if not any(before.stats and after.stats for _, (before, after) in pairs[stage]):
            notes.append(f"{stage}: no passage scored in both runs; corpus tests skipped")
            continue
        names = ordered_metrics(dict.fromkeys(m for _, (before, _) in pairs[stage] for m in before.stats), infos)
        for metric_name in names:
            metric = metrics.get(metric_name)
            ids, (base, system) = paired_values(runs, stage, metric_name)
            if metric is None or not ids or base.shape != system.shape:
                continue
            margin = config.margin(metric_name, (infos.get(metric_name) or metric.describe()).margin)
            common = dict(score_fn=metric.corpus_from_stats, margin=margin if margin is not None else 0.0,
                          higher_is_better=bool(metric.higher_is_better), n_resamples=config.n_resamples,
                          seed=config.seed, alpha=config.alpha, batch_score_fn=metric.corpus_from_stats_batch)
            worse = noninferiority(base, system, **common)
            better = noninferiority(system, base, **common)  # "the baseline is worse than this run"
            if math.isnan(worse.dropped_by):
                notes.append(f"{stage} {metric_name}: corpus score undefined; not tested")
                continue
            checks.append(CorpusCheck(
                stage=stage, metric=metric_name, baseline=worse.baseline, current=worse.system,
                dropped_by=worse.dropped_by, margin=margin, p_value=worse.p_value, improved_p_value=better.p_value,
                regressed=margin is not None and worse.regressed, improved=margin is not None and better.regressed,
                n_passages=len(ids),
            ))
        ungated = sorted({c.metric for c in checks if c.margin is None and c.stage == stage})
        if ungated:
            notes.append(f"{stage}: no margin for {', '.join(ungated)} (reported, not gated); "
                         f"set regress.margins or --margin METRIC=NUMBER")
    return checks, notes


def finding_changes(before: StageResult, after: StageResult) -> tuple[list[Finding], list[Finding]]:
    """(new, gone): the findings of ``after`` whose key ``before`` does not
    have (counted: a second "not" dropped is new), and the reverse."""
    def minus(a: list[Finding], b: list[Finding]) -> list[Finding]:
        remaining = _keys(b)
        out = []
        for finding in a:
            if remaining[finding.key] > 0:
                remaining[finding.key] -= 1
            else:
                out.append(finding)
        return out

    return minus(after.findings, before.findings), minus(before.findings, after.findings)


def _check_findings(check: PassageCheck, before: StageResult, after: StageResult) -> None:
    new, gone = finding_changes(before, after)
    for finding in new:
        if finding.severity == "major":
            check.regressions.append(f"{finding.why} (not in the baseline)")
        elif finding.severity == "minor":
            check.notes.append(f"{finding.why} (minor; not in the baseline)")
    for finding in gone:
        if finding.severity == "major":
            check.improvements.append(f"no longer: {finding.why}")


def _check_band(check: PassageCheck, before: StageResult, after: StageResult, tolerance: float) -> None:
    old, new = before.verdict, after.verdict
    if old is None or new is None or old.band not in BANDS or new.band not in BANDS or old.band == new.band:
        return
    scores = f" (meaning {old.score:.2f} -> {new.score:.2f})"
    if abs(new.score - old.score) <= tolerance:
        return  # a score wobbling across a threshold is noise, not a change of verdict
    if BANDS.index(new.band) > BANDS.index(old.band):
        why = f"; {'; '.join(new.reasons[:3])}" if new.reasons else ""
        check.regressions.append(f"verdict {old.band} -> {new.band}{scores}{why}")
    else:
        check.improvements.append(f"verdict {old.band} -> {new.band}{scores}")


def _text(passage: PassageResult, stage: str | None) -> str | None:
    data = passage.stages.get(stage or "") or passage.stages.get(DISTORTED)
    return data.text if data else None


def compare_passages(baseline: RunResults, current: RunResults, config: RegressConfig,
                     stages: Sequence[str]) -> list[PassageCheck]:
    """Per passage and stage: failures, band changes and new or gone findings."""
    now_by_id = current.by_id()
    infos = baseline.metrics
    checks: list[PassageCheck] = []
    for before in baseline.passages:
        after = now_by_id.get(before.id)
        if after is None:  # impossible with matching transcript hashes, but say so
            checks.append(PassageCheck(before.id, DISTORTED, None, None, ["passage missing from this run"]))
            continue
        if after.error and not before.error:
            checks.append(PassageCheck(before.id, after.error.stage or "cleaned", _text(before, after.error.stage),
                                       None, [f"now fails: {after.error.message}"]))
            continue
        if before.error and not after.error:
            checks.append(PassageCheck(before.id, before.error.stage or "cleaned", None,
                                       _text(after, before.error.stage),
                                       improvements=[f"no longer fails (was: {before.error.message})"]))
            continue
        if before.error:
            continue  # failed in both: nothing to compare
        for stage in stages:
            b, a = before.stages.get(stage), after.stages.get(stage)
            if b is None or a is None:
                continue
            check = PassageCheck(before.id, stage, b.text, a.text)
            for metric in ordered_metrics((m for m in b.scores if "." not in m), infos):
                old, new = b.scores.get(metric), a.scores.get(metric)
                if old is not None and new is not None and old != new:
                    check.score_deltas[metric] = (old, new)
            if config.check_bands:
                _check_band(check, b, a, config.band_tolerance)
            if config.check_findings:
                _check_findings(check, b, a)
            if check.changed or check.regressions or check.improvements or check.notes or check.score_deltas:
                checks.append(check)
    return checks


def compare(baseline: Baseline, current: Baseline, config: RegressConfig | None = None, *,
            baseline_path: str = "") -> RegressReport:
    """Compare the stored baseline with a fresh run in the same form. Pure: no
    pipeline runs here, so it is what unit tests exercise directly."""
    config = config or RegressConfig()
    before, after = baseline.run, current.run
    stages = [s for s in config.stages if s in before.stages and s in after.stages]
    report = RegressReport(
        baseline_path=str(baseline_path), config_name=str(after.config_name or ""),
        cleaners_before=list(before.signature.get("cleaners") or []),
        cleaners_after=list(after.signature.get("cleaners") or []), alpha=config.alpha,
    )
    missing = [s for s in config.stages if s in before.stages and s not in after.stages]
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
    report.corpus, notes = compare_corpus(before, after, config, stages)
    report.notes.extend(notes)
    report.passages = compare_passages(before, after, config, stages)
    return report


# --------------------------------------------------------------------------
# The gate, end to end
# --------------------------------------------------------------------------

def effective_regress_config(run_config, margins: Mapping[str, float | None] | None = None) -> RegressConfig:
    """The run config's ``regress:`` section, with ``margins`` on top."""
    config = run_config.regress
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
                case_files: Sequence[Path | str] = (), margins: Mapping[str, float | None] | None = None,
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
            check_compatible(baseline, current.run.signature, baseline_path, config_arg)
            check_same_scoring(baseline, current, baseline_path, config_arg)
        except BaselineMismatch as exc:
            if not update:
                raise
            mismatch = exc

    if mismatch is None:
        report = compare(baseline, current, gate, baseline_path=str(baseline_path))
    else:
        report = RegressReport(str(baseline_path), run_config.name,
                               list(baseline.run.signature.get("cleaners") or []),
                               list(current.run.signature.get("cleaners") or []), alpha=gate.alpha)
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
