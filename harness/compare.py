"""Compare systems (pipelines, models, pivots, cleaner sets) on the same data.

"Is this system better, and is the difference real?" -- answered the way
sacrebleu's paired tests answer it, for every metric a run recorded: each
system's corpus score with a 95 % bootstrap confidence interval, its
difference to the baseline (the first run), and two-sided p-values from
paired bootstrap resampling and from paired approximate randomization (see
:mod:`harness.stats`). Per passage: win / tie / loss against the baseline on
the primary metric (the first metric in display order: the meaning score
when the runs have it), and the passages where the systems disagree most,
with their texts and findings side by side.

Input is finished runs (:class:`~harness.results.RunResults`). Paired tests
need the same passages and the same references, so runs made on different
transcripts or references are refused (:mod:`harness.paired`). Stages
present in every run are compared stage by stage; when the runs end in
different stages, the pseudo-stage ``final`` compares each run's last stage.

:func:`compare_runs` is pure (records in, a JSON-ready dict out); the
writers of ``compare.md``, ``compare.json``, ``compare.html`` and the
terminal tables are in :mod:`harness.report.compare`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .errors import InputError
from .metrics.base import Metric, MetricInfo, ordered_metrics
from .paired import FINAL_STAGE, FLOAT_NOISE_RTOL, data_mismatch, outcomes, paired_entries, paired_values, \
    scoring_metrics, stage_of
from .results import RunResults
from .stats import DEFAULT_RESAMPLES, DEFAULT_SEED, DEFAULT_TRIALS, paired_approximate_randomization, paired_bootstrap


def system_names(runs: Sequence[RunResults], names: Optional[Sequence[str]]) -> list[str]:
    """``names`` (or each run's config name), made unique."""
    if names is not None:
        if len(names) != len(runs):
            raise ValueError(f"{len(names)} names for {len(runs)} runs")
        proposed = [str(n) for n in names]
    else:
        proposed = [str(run.config_name or f"system {i}") for i, run in enumerate(runs)]
    unique: list[str] = []
    for name in proposed:
        candidate, suffix = name, 1
        while candidate in unique:
            suffix += 1
            candidate = f"{name} ({suffix})"
        unique.append(candidate)
    return unique


def check_same_data(runs: Sequence[RunResults], names: Sequence[str], *, hypotheses: bool = False) -> None:
    """Refuse runs on different transcripts or references (one-line ``InputError``).

    With ``hypotheses`` (system outputs compared against one set of
    references) each run's transcript is a system's output: they differ by
    design, and the runs must instead have the same references and the
    same passage ids."""
    base = runs[0].signature
    keys = [("references_sha256", "references")] if hypotheses else \
        [("transcript_sha256", "transcript"), ("references_sha256", "references")]
    for key, what in keys:
        if not base.get(key):
            raise InputError(f"{names[0]}: the run does not record its {what} hash ({key}); rerun it to compare")
    for run, name in zip(runs[1:], names[1:]):
        if hypotheses:
            if run.signature.get("references_sha256") != base.get("references_sha256"):
                raise InputError(f"cannot compare {name!r} with {names[0]!r}: they were scored against different "
                                 "references")
            ids, base_ids = [p.id for p in run.passages], [p.id for p in runs[0].passages]
            if ids != base_ids:
                extra = sorted(set(ids) ^ set(base_ids))
                raise InputError(
                    f"cannot compare {name!r} with {names[0]!r}: {len(ids)} passages vs {len(base_ids)}"
                    + (f" (passage {extra[0]} is in only one)" if extra else " (in another order)")
                    + "; every system output needs one passage per reference entry, in the same order")
            continue
        mismatch = data_mismatch(base, run.signature)
        if mismatch is not None:
            key, what, old, new = mismatch
            raise InputError(f"cannot compare {name!r} with {names[0]!r}: they were run on different {what} "
                             f"({key} {new[:12]} vs {old[:12]}); paired tests need the same passages and references")


def _stages(runs: Sequence[RunResults], names: Sequence[str], notes: list[str]) -> list[str]:
    """Stages every run has, in the baseline's order; then ``final`` when the last stages differ."""
    stages = [s for s in runs[0].stages if all(s in run.stages for run in runs)]
    last_stages = [run.stages[-1] for run in runs]
    if len(set(last_stages)) > 1:
        stages.append(FINAL_STAGE)
        notes.append("stage 'final' compares each run's last stage: "
                     + ", ".join(f"{n}: {s}" for n, s in zip(names, last_stages)))
    skipped = sorted({s for run in runs for s in run.stages} - set(stages))
    if skipped:
        notes.append(f"stages not in every run, compared only through 'final' if at all: {', '.join(skipped)}")
    return stages


def _stage_metrics(runs: Sequence[RunResults], stage: str, infos: Mapping[str, MetricInfo],
                   widths: dict[str, int]) -> list[str]:
    """Metrics with statistics in every run at ``stage`` (recording their widths)."""
    found: list[str] = []
    for _, entries in paired_entries(runs, stage):
        common = set.intersection(*(set(e.stats) for e in entries))
        for metric in entries[0].stats:
            if metric in common and metric not in found:
                found.append(metric)
                widths.setdefault(metric, len(entries[0].stats[metric]))
    return ordered_metrics(found, infos)


def compare_runs(
    runs: Sequence[RunResults],
    *,
    names: Optional[Sequence[str]] = None,
    sources: Optional[Sequence[str]] = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    n_trials: int = DEFAULT_TRIALS,
    seed: Optional[int] = DEFAULT_SEED,
    alpha: float = 0.05,
    primary_metric: Optional[str] = None,
    tie_tolerance: float = 0.0,
    top_n: int = 10,
    metrics: Optional[Mapping[str, Metric]] = None,
    only_metrics: Optional[Sequence[str]] = None,
    hypothesis_files: Optional[Sequence[Mapping[str, Any]]] = None,
) -> dict[str, Any]:
    """Compare runs against the first one, the baseline.

    For every stage present in all runs (plus ``final`` when their last
    stages differ) and every metric with statistics in all runs: each
    system's corpus score and bootstrap CI, the delta to the baseline, p-values
    from paired bootstrap (``n_resamples``) and approximate randomization
    (``n_trials``), and ``significant`` (AR ``p < alpha``). Then win / tie /
    loss per stage and the ``top_n`` passages where the systems disagree most
    on ``primary_metric`` (default: the first in display order). ``metrics``
    overrides metric objects by name; ``only_metrics`` compares those metrics
    alone (the first is then the primary one, unless ``primary_metric``).

    Significance is decided by approximate randomization (two-sided
    ``p_ar < alpha``). Each row also has the paired bootstrap's ``1 - alpha``
    interval of the difference (``delta_ci``), and ``interval_agrees``: whether
    that interval excludes zero exactly when AR says significant. Where they
    disagree (a borderline difference) the decision stays AR's, the row says
    so, and a note explains.

    ``hypothesis_files`` (one ``{"file", "sha256"}`` per run): the runs score
    system outputs (each run's transcript is one system's output file)
    against the same references; their transcripts differ by design, so the
    runs must have the same references and passage ids instead, and each
    file's hash is recorded with its system.

    Returns a JSON-ready dict (the content of ``compare.json``). Raises
    :class:`InputError` for fewer than two runs or runs on different data.
    """
    if len(runs) < 2:
        raise InputError("compare needs at least two runs or configs (the first is the baseline)")
    names = system_names(runs, names)
    if hypothesis_files is not None and len(hypothesis_files) != len(runs):
        raise ValueError(f"{len(hypothesis_files)} hypothesis files for {len(runs)} runs")
    check_same_data(runs, names, hypotheses=hypothesis_files is not None)
    baseline = runs[0]
    notes: list[str] = []
    stages = _stages(runs, names, notes)
    n_passages = len(baseline.passages)

    widths: dict[str, int] = {}
    stage_metrics = {stage: _stage_metrics(runs, stage, baseline.metrics, widths) for stage in stages}
    all_metrics = ordered_metrics((m for ms in stage_metrics.values() for m in ms), baseline.metrics)
    if only_metrics:
        missing = [m for m in only_metrics if m not in all_metrics]
        if missing:
            raise InputError(f"metric {missing[0]!r} is not recorded in every run "
                             f"(have: {', '.join(all_metrics) or 'none'})")
        all_metrics = [m for m in dict.fromkeys(only_metrics)]
        stage_metrics = {stage: [m for m in all_metrics if m in found] for stage, found in stage_metrics.items()}
        primary_metric = primary_metric or all_metrics[0]
    if primary_metric is not None and primary_metric not in all_metrics:
        raise InputError(f"metric {primary_metric!r} is not recorded in every run (have: {', '.join(all_metrics) or 'none'})")
    resolved, metric_notes = scoring_metrics(baseline, all_metrics, widths, metrics)
    notes += metric_notes + _configured_differently(runs, names, resolved)

    results: list[dict[str, Any]] = []
    noise: dict[tuple[str, str], set] = {}
    for stage in stages:
        for metric_name in (m for m in stage_metrics[stage] if m in resolved):
            ids, matrices = paired_values(runs, stage, metric_name, "stats", noise.setdefault((stage, metric_name), set()))
            if ids and len({m.shape[1] for m in matrices}) != 1:
                notes.append(f"{metric_name} at {stage}: statistics of different widths across runs; skipped")
            elif ids:
                results.append(_compare_metric(stage, metric_name, resolved[metric_name], ids, matrices, names,
                                               n_passages, n_resamples, n_trials, seed, alpha))
    notes += _sample_notes(noise, results, n_passages)
    notes += _disagreement_notes(results, alpha)

    primary = primary_metric or (all_metrics[0] if all_metrics else None)
    found_outcomes, disagreements = _passage_level(runs, names, stages, stage_metrics, primary, resolved,
                                                   tie_tolerance, top_n)
    systems = []
    for i, (name, run) in enumerate(zip(names, runs)):
        system = {"name": name, "source": sources[i] if sources is not None else None,
                  "config_name": run.config_name, "signature_key": run.signature.get("key"),
                  "signature_string": run.signature_string, "stages": list(run.stages)}
        if hypothesis_files is not None:
            system.update(hypothesis_file=str(hypothesis_files[i]["file"]),
                          hypothesis_sha256=str(hypothesis_files[i]["sha256"]),
                          transcript_sha256=run.signature.get("transcript_sha256"))
        systems.append(system)
    data = {"transcript_sha256": baseline.signature.get("transcript_sha256"),
            "references_sha256": baseline.signature["references_sha256"], "n_passages": n_passages,
            "hypotheses": hypothesis_files is not None}
    return {
        "baseline": names[0],
        "systems": systems,
        "data": data,
        "settings": {"n_resamples": n_resamples, "n_trials": n_trials, "seed": seed, "alpha": alpha,
                     "tie_tolerance": tie_tolerance, "primary_metric": primary,
                     "significance": SIGNIFICANCE},
        "stages": stages,
        "metrics": {name: {"higher_is_better": bool(resolved[name].higher_is_better),
                           "signature": baseline.metric_signatures.get(name)}
                    for name in all_metrics if name in resolved},
        "results": results,
        "outcomes": found_outcomes,
        "disagreements": {"stage": stages[-1] if stages else None, "metric": primary, "passages": disagreements},
        "notes": notes,
    }


def _configured_differently(runs: Sequence[RunResults], names: Sequence[str], resolved: Mapping[str, Metric]) -> list[str]:
    """Notes on metrics whose signature differs from the baseline's in another run."""
    notes = []
    for run, name in zip(runs[1:], names[1:]):
        for metric, sig in run.metric_signatures.items():
            base_sig = runs[0].metric_signatures.get(metric)
            if base_sig is not None and base_sig != sig and metric in resolved:
                notes.append(f"{metric} is configured differently in {name!r} ({sig}) and the baseline "
                             f"({base_sig}); scored here with the baseline's settings")
    return notes


def _passage_level(runs, names, stages, stage_metrics, primary, resolved, tie_tolerance, top_n):
    """Win / tie / loss per stage and the most disagreeing passages of the last
    stage, on the primary metric."""
    if primary is None:
        return [], []
    higher = bool(resolved[primary].higher_is_better) if primary in resolved else True
    found = [outcomes(runs, names, stage, primary, higher, tie_tolerance)
             for stage in stages if primary in stage_metrics[stage]]
    disagreements = _disagreements(runs, stages[-1], primary, names, top_n) if primary in stage_metrics[stages[-1]] else []
    return [o for o in found if o is not None], disagreements


def _sample_notes(noise: Mapping[tuple[str, str], set], results: list[dict[str, Any]], n_passages: int) -> list[str]:
    """What the reader should know about the samples the tests ran on."""
    notes = []
    noisy = {key: ids for key, ids in noise.items() if ids}
    if noisy:
        notes.append("scores of identical texts that differed only by floating-point noise (relative "
                     f"difference ≤ {FLOAT_NOISE_RTOL:g}) were treated as equal: "
                     + ", ".join(f"{metric} at {stage} ({len(ids)} passage{'s' if len(ids) > 1 else ''})"
                                 for (stage, metric), ids in noisy.items()))
    smallest_ar_p = 2.0 / 2.0 ** min(n_passages, 1000)
    if smallest_ar_p > 1e-3:
        notes.append(f"only {n_passages} passages: approximate randomization cannot give a p-value below about "
                     f"{smallest_ar_p:.3g} (2 of the 2^{n_passages} ways to swap the outputs reproduce the observed "
                     "difference)")
    if any(r["n_passages"] < n_passages for r in results):
        notes.append("some metrics are compared on fewer passages (failed passages or passages without references "
                     "in any run are left out of every system, so the tests stay paired)")
    return notes


#: how compare decides, in words (compare.json's settings, every report)
SIGNIFICANCE = ("approximate randomization decides: significant when its two-sided p < alpha; the difference "
                "interval is the paired bootstrap's 1 - alpha percentile interval; a row where the interval "
                "excludes 0 and AR does not call the difference significant, or the other way round, is marked "
                "(borderline); the bootstrap p is sacrebleu's --paired-bs, shown for reference")


def _disagreement_notes(results: list[dict[str, Any]], alpha: float) -> list[str]:
    rows = [f"{r['metric']} at {r['stage']} ({s['name']})" for r in results for s in r["systems"]
            if not s.get("interval_agrees", True)]
    if not rows:
        return []
    return [f"† the difference interval and the randomization test disagree on {len(rows)} row"
            f"{'s' if len(rows) > 1 else ''} ({'; '.join(rows[:6])}{'; …' if len(rows) > 6 else ''}): "
            f"the decision is approximate randomization's (p < {alpha:g}); the bootstrap interval is narrower "
            "on few passages, so treat these differences as borderline"]


def _compare_metric(stage, metric_name, metric: Metric, ids, matrices, names, n_passages, n_resamples, n_trials,
                    seed, alpha) -> dict[str, Any]:
    score_fn, batch = metric.corpus_from_stats, metric.corpus_from_stats_batch
    base = matrices[0]
    systems: list[dict[str, Any]] = []
    baseline_entry: dict[str, Any] | None = None
    for name, stats in zip(names[1:], matrices[1:]):
        bootstrap = paired_bootstrap(base, stats, score_fn, n_resamples, seed, alpha=alpha, batch_score_fn=batch)
        randomization = paired_approximate_randomization(base, stats, score_fn, n_trials, seed, batch_score_fn=batch)
        if baseline_entry is None:
            # The same seed gives every comparison the same resamples, so the
            # baseline's interval is the same in each of them.
            baseline_entry = {"name": names[0], "score": bootstrap.baseline, "ci": bootstrap.baseline_ci.to_dict()}
        delta = bootstrap.delta
        improved = delta > 0 if metric.higher_is_better else delta < 0
        significant = randomization.is_significant(alpha)
        low, high = bootstrap.delta_ci.lower, bootstrap.delta_ci.upper
        excludes_zero = bool(low > 0 or high < 0)  # NaN bounds: does not exclude
        systems.append({
            "name": name, "score": bootstrap.system, "ci": bootstrap.system_ci.to_dict(),
            "delta": delta, "delta_ci": bootstrap.delta_ci.to_dict(),
            "p_bootstrap": bootstrap.p_value, "p_ar": randomization.p_value,
            "significant": significant,
            "interval_excludes_zero": excludes_zero,
            "interval_agrees": excludes_zero == significant or delta == 0,
            "direction": "same" if delta == 0 else ("better" if improved else "worse"),
        })
    return {"stage": stage, "metric": metric_name, "higher_is_better": bool(metric.higher_is_better),
            "n_passages": len(ids), "passages": ids if len(ids) < n_passages else [],
            "baseline": baseline_entry, "systems": systems}


def _disagreements(runs: Sequence[RunResults], stage: str, metric_name: str, names: Sequence[str],
                   top_n: int) -> list[dict[str, Any]]:
    """The passages whose score spreads most across the systems, with each
    system's text, band and findings."""
    ids, scores = paired_values(runs, stage, metric_name, "scores")
    if not ids or top_n <= 0:
        return []
    table = np.vstack(scores)  # (n_runs, n_passages)
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(table, axis=0) - np.nanmin(table, axis=0)
    spread = np.where(np.isnan(spread), -np.inf, spread)
    # Largest spread first; ties keep transcript order (stable sort).
    chosen = [i for i in np.argsort(-spread, kind="stable")[:top_n] if np.isfinite(spread[i]) and spread[i] > 0]
    indexes = [run.by_id() for run in runs]
    out = []
    for i in chosen:
        pid = ids[i]
        systems = []
        for k, (name, run, index) in enumerate(zip(names, runs, indexes)):
            data = index[pid].stage(stage_of(run, stage))
            systems.append({"name": name, "stage": stage_of(run, stage), "score": float(table[k, i]),
                            "band": data.verdict.band if data and data.verdict else None,
                            "text": data.text if data else "",
                            "findings": [f.to_json() for f in data.findings] if data else []})
        out.append({"id": pid, "spread": float(spread[i]), "references": list(indexes[0][pid].references),
                    "systems": systems})
    return out
