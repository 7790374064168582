"""Compare systems (pipelines, models, pivots, cleaner sets) on the same data.

"Is this system better, and is the difference real?" -- answered the way
sacrebleu's paired tests answer it, for every metric a run recorded: each
system's corpus score with a 95 % bootstrap confidence interval, its
difference to the baseline (the first run), and two-sided p-values from
paired bootstrap resampling and from paired approximate randomization (see
:mod:`harness.stats`). Per passage: win / tie / loss against the baseline on
the primary metric (the meaning score when the runs have it), and the
passages where the systems disagree most, with their texts side by side.

Input is the parsed ``results.json`` of finished runs. Paired tests need the
same passages and the same references, so runs made on different transcripts
or references are refused. Stages present in every run are compared stage by
stage; when the runs end in different stages (a pipeline without
retranslation against one with it), the pseudo-stage ``final`` compares each
run's last stage, i.e. what each pipeline finally produces.

:func:`compare_runs` is pure (dicts in, dict out, no I/O); the writers and the
table printer render its result.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .errors import InputError
from .stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    paired_approximate_randomization,
    paired_bootstrap,
    passage_outcomes,
)

FINAL_STAGE = "final"
# Used to pick the primary metric (win/tie/loss, disagreements) and table order.
PREFERRED_METRICS = ["meaning", "chrf", "bleu", "ter", "cosine", "bertscore_f1", "anchors", "injected", "roundtrip"]
# Only for metrics that cannot be rebuilt and whose run does not say.
KNOWN_LOWER_IS_BETTER = {"ter", "injected"}
OUTCOME_NAMES = {1: "win", 0: "tie", -1: "loss"}
# Two runs scoring the same text can differ by float32 rounding (about 1e-7
# relative, measured on embedding metrics); within this, the same text scores the same.
FLOAT_NOISE_RTOL = 1e-5


# --------------------------------------------------------------------------
# Loading saved runs
# --------------------------------------------------------------------------


def load_run(path: str | Path) -> dict[str, Any]:
    """Read a finished run's ``results.json`` (``path`` is the run folder or the file)."""
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    if not file.exists():
        if (path / "results.jsonl").exists() or (path / "run.json").exists():
            raise InputError(f"{path}: the run has not finished (no results.json); rerun it to complete it")
        raise InputError(f"{path}: not a run folder (no results.json)")
    try:
        run = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file}: cannot read the run ({exc})") from None
    if not isinstance(run, dict) or not isinstance(run.get("passages"), list) or not run.get("stages"):
        raise InputError(f"{file}: not a harness results.json (no stages or passages)")
    return run


# --------------------------------------------------------------------------
# Metrics: rebuild corpus_from_stats and the direction from a run
# --------------------------------------------------------------------------


class MeanOfRows:
    """The corpus score of a metric recorded as ``[score, 1]`` rows: the mean
    (the convention of :class:`harness.metrics.base.MeanMetric`). Used only
    when a metric cannot be rebuilt from the run's config."""

    def __init__(self, name: str, higher_is_better: bool):
        self.name = name
        self.higher_is_better = higher_is_better

    def corpus_from_stats(self, stats_sum: np.ndarray) -> float:
        return float(stats_sum[0] / stats_sum[1]) if stats_sum[1] else float("nan")

    def corpus_from_stats_batch(self, sums: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sums[:, 1] != 0, sums[:, 0] / sums[:, 1], np.nan)


def _recorded_direction(run: Mapping[str, Any], name: str) -> Optional[bool]:
    described = (((run.get("signature") or {}).get("metrics") or {}).get("metrics") or {}).get(name) or {}
    value = described.get("higher_is_better")
    return bool(value) if value is not None else None


def _scorer_for(run: Mapping[str, Any]) -> tuple[Any, Optional[str]]:
    """The run's own metrics, rebuilt from the metrics config in its signature."""
    config = ((run.get("signature") or {}).get("metrics") or {}).get("config")
    if config is None:
        return None, "the run does not record its metrics config"
    try:
        from .metrics.config import MetricsConfig
        from .scoring import Scorer

        return Scorer(MetricsConfig.model_validate(config)), None
    except Exception as exc:  # a user metric that is not importable here, an older config
        return None, f"{type(exc).__name__}: {exc}"


def resolve_metrics(run: Mapping[str, Any], names: Sequence[str], stats_width: Mapping[str, int],
                    provided: Optional[Mapping[str, Any]] = None) -> tuple[dict[str, Any], list[str]]:
    """Metric objects (``corpus_from_stats``, ``higher_is_better``) for ``names``.

    Order of preference: ``provided``; the metric rebuilt from the run's
    metrics config; for two-column statistics, the mean of ``[score, 1]`` rows.
    Returns the metrics and notes about any metric that could not be resolved.
    """
    provided = dict(provided or {})
    resolved: dict[str, Any] = {}
    notes: list[str] = []
    scorer, scorer_problem = (None, None)
    if any(name not in provided for name in names):
        scorer, scorer_problem = _scorer_for(run)
    for name in names:
        if name in provided:
            resolved[name] = provided[name]
            continue
        if scorer is not None:
            try:
                resolved[name] = scorer.metric(name)
                continue
            except KeyError:
                pass
        if stats_width.get(name) == 2:
            direction = _recorded_direction(run, name)
            resolved[name] = MeanOfRows(name, direction if direction is not None else name not in KNOWN_LOWER_IS_BETTER)
            continue
        why = f" ({scorer_problem})" if scorer_problem else ""
        notes.append(f"metric {name!r} skipped: cannot rebuild its corpus score from its statistics{why}")
    return resolved, notes


# --------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------


def _system_names(runs: Sequence[Mapping[str, Any]], names: Optional[Sequence[str]]) -> list[str]:
    if names is not None:
        if len(names) != len(runs):
            raise ValueError(f"{len(names)} names for {len(runs)} runs")
        proposed = [str(n) for n in names]
    else:
        proposed = [str((run.get("signature") or {}).get("config_name") or f"system {i}") for i, run in enumerate(runs)]
    unique: list[str] = []
    for name in proposed:
        candidate, suffix = name, 1
        while candidate in unique:
            suffix += 1
            candidate = f"{name} ({suffix})"
        unique.append(candidate)
    return unique


def check_same_data(runs: Sequence[Mapping[str, Any]], names: Sequence[str]) -> None:
    """Refuse runs on different transcripts or references (one-line ``InputError``)."""
    base_sig = runs[0].get("signature") or {}
    for key, what in (("transcript_sha256", "transcript"), ("references_sha256", "references")):
        if not base_sig.get(key):
            raise InputError(f"{names[0]}: the run does not record its {what} hash ({key}); rerun it to compare")
    for run, name in zip(runs[1:], names[1:]):
        sig = run.get("signature") or {}
        for key, what in (("transcript_sha256", "transcript"), ("references_sha256", "references")):
            if sig.get(key) != base_sig.get(key):
                raise InputError(
                    f"cannot compare {name!r} with {names[0]!r}: they were run on different {what} "
                    f"({key} {str(sig.get(key))[:12]} vs {str(base_sig.get(key))[:12]}); "
                    f"paired tests need the same passages and references"
                )


def _stage_of(run: Mapping[str, Any], stage: str) -> str:
    return run["stages"][-1] if stage == FINAL_STAGE else stage


def _entry(record: Optional[Mapping[str, Any]], run: Mapping[str, Any], stage: str) -> Optional[Mapping[str, Any]]:
    if record is None or record.get("error"):
        return None
    return (record.get("stages") or {}).get(_stage_of(run, stage))


def _ordered(names) -> list[str]:
    names = list(dict.fromkeys(names))
    first = [m for m in PREFERRED_METRICS if m in names]
    return first + sorted(m for m in names if m not in first)


def _finite_or_none(value: Any) -> Any:
    return value if not (isinstance(value, float) and not math.isfinite(value)) else None


def compare_runs(
    runs: Sequence[Mapping[str, Any]],
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
    metrics: Optional[Mapping[str, Any]] = None,
) -> dict[str, Any]:
    """Compare runs (parsed ``results.json``) against the first one, the baseline.

    For every stage present in all runs (plus ``final`` when their last
    stages differ) and every metric with statistics in all runs: each
    system's corpus score and bootstrap CI, the delta to the baseline, p-values
    from paired bootstrap (``n_resamples``) and approximate randomization
    (``n_trials``), and ``significant`` (AR ``p < alpha``). Then win / tie /
    loss per stage and the ``top_n`` passages where the systems disagree most
    on ``primary_metric`` (default: ``meaning`` if recorded, else the first
    of chrF, BLEU, ...). ``metrics`` overrides metric objects by name (each
    needs ``corpus_from_stats`` and ``higher_is_better``).

    Returns a JSON-ready dict (the content of ``compare.json``). Raises
    :class:`InputError` for fewer than two runs or runs on different data.
    """
    if len(runs) < 2:
        raise InputError("compare needs at least two runs or configs (the first is the baseline)")
    names = _system_names(runs, names)
    check_same_data(runs, names)
    baseline = runs[0]
    notes: list[str] = []

    # Stages: those every run has, in the baseline's order; then 'final'.
    stages = [s for s in baseline["stages"] if all(s in run["stages"] for run in runs)]
    last_stages = [run["stages"][-1] for run in runs]
    if len(set(last_stages)) > 1:
        stages.append(FINAL_STAGE)
        notes.append("stage 'final' compares each run's last stage: "
                     + ", ".join(f"{n}: {s}" for n, s in zip(names, last_stages)))
    skipped_stages = sorted({s for run in runs for s in run["stages"]} - set(stages))
    if skipped_stages:
        notes.append(f"stages not in every run, compared only through 'final' if at all: {', '.join(skipped_stages)}")

    # Passages by id, in the baseline's order.
    by_id = [{p["id"]: p for p in run["passages"]} for run in runs]
    order = [p["id"] for p in baseline["passages"]]

    # Which metrics have statistics, per stage, and how wide.
    stage_metrics: dict[str, list[str]] = {}
    widths: dict[str, int] = {}
    for stage in stages:
        found: list[str] = []
        for pid in order:
            entries = [_entry(index.get(pid), run, stage) for index, run in zip(by_id, runs)]
            if any(e is None for e in entries):
                continue
            common = set.intersection(*(set((e.get("stats") or {})) for e in entries))
            for metric in (entries[0].get("stats") or {}):
                if metric in common and metric not in found:
                    found.append(metric)
                    widths.setdefault(metric, len(entries[0]["stats"][metric]))
        stage_metrics[stage] = _ordered(found)
    all_metrics = _ordered(m for ms in stage_metrics.values() for m in ms)
    if primary_metric is not None and primary_metric not in all_metrics:
        raise InputError(f"metric {primary_metric!r} is not recorded in every run (have: {', '.join(all_metrics) or 'none'})")
    resolved, metric_notes = resolve_metrics(baseline, all_metrics, widths, metrics)
    notes += metric_notes

    base_metric_sigs = baseline.get("metric_signatures") or {}
    for run, name in zip(runs[1:], names[1:]):
        for metric, sig in (run.get("metric_signatures") or {}).items():
            if metric in base_metric_sigs and base_metric_sigs[metric] != sig and metric in resolved:
                notes.append(f"{metric} is configured differently in {name!r} ({sig}) and the baseline "
                             f"({base_metric_sigs[metric]}); scored here with the baseline's settings")

    # Corpus scores and paired tests.
    results: list[dict[str, Any]] = []
    noise: dict[tuple[str, str], set] = {}
    for stage in stages:
        for metric_name in stage_metrics[stage]:
            metric = resolved.get(metric_name)
            if metric is None:
                continue
            ids, matrices = _paired_stats(runs, by_id, order, stage, metric_name,
                                          noise.setdefault((stage, metric_name), set()))
            if not ids:
                continue
            widths_here = {m.shape[1] for m in matrices}
            if len(widths_here) != 1:
                notes.append(f"{metric_name} at {stage}: statistics of different widths across runs; skipped")
                continue
            results.append(_compare_metric(stage, metric_name, metric, ids, matrices, names, order,
                                           n_resamples, n_trials, seed, alpha))
    noisy = {key: ids for key, ids in noise.items() if ids}
    if noisy:
        notes.append("scores of identical texts that differed only by floating-point noise (relative "
                     f"difference ≤ {FLOAT_NOISE_RTOL:g}) were treated as equal: "
                     + ", ".join(f"{metric} at {stage} ({len(ids)} passage{'s' if len(ids) > 1 else ''})"
                                 for (stage, metric), ids in noisy.items()))
    smallest_ar_p = 2.0 / 2.0 ** min(len(order), 1000)
    if smallest_ar_p > 1e-3:
        notes.append(f"only {len(order)} passages: approximate randomization cannot give a p-value below about "
                     f"{smallest_ar_p:.3g} (2 of the 2^{len(order)} ways to swap the outputs reproduce the observed "
                     "difference)")
    if any(r["n_passages"] < len(order) for r in results):
        notes.append("some metrics are compared on fewer passages (failed passages or passages without references "
                     "in any run are left out of every system, so the tests stay paired)")

    # Passage level: win / tie / loss and disagreements on the primary metric.
    primary = primary_metric or next((m for m in PREFERRED_METRICS if m in all_metrics), all_metrics[0] if all_metrics else None)
    primary_higher = _direction(primary, resolved, baseline) if primary else True
    focus_stage = stages[-1] if stages else None
    outcomes = []
    disagreements: list[dict[str, Any]] = []
    if primary is not None:
        for stage in stages:
            if primary not in stage_metrics[stage]:
                continue
            ids, scores = _sentence_scores(runs, by_id, order, stage, primary)
            if not ids:
                continue
            systems = []
            for name, system_scores in zip(names[1:], scores[1:]):
                per_passage = passage_outcomes(scores[0], system_scores, primary_higher, tie_tolerance)
                systems.append({
                    "name": name,
                    "wins": int(np.count_nonzero(per_passage == 1)),
                    "ties": int(np.count_nonzero(per_passage == 0)),
                    "losses": int(np.count_nonzero(per_passage == -1)),
                    "per_passage": {pid: OUTCOME_NAMES[int(o)] for pid, o in zip(ids, per_passage)},
                })
            outcomes.append({"stage": stage, "metric": primary, "n_passages": len(ids), "systems": systems})
        if focus_stage is not None and primary in stage_metrics[focus_stage]:
            disagreements = _disagreements(runs, by_id, order, focus_stage, primary, names, top_n)

    return {
        "baseline": names[0],
        "systems": [
            {
                "name": name,
                "source": sources[i] if sources is not None else None,
                "config_name": (run.get("signature") or {}).get("config_name"),
                "signature_key": (run.get("signature") or {}).get("key"),
                "signature_string": run.get("signature_string"),
                "stages": list(run["stages"]),
            }
            for i, (name, run) in enumerate(zip(names, runs))
        ],
        "data": {
            "transcript_sha256": baseline["signature"]["transcript_sha256"],
            "references_sha256": baseline["signature"]["references_sha256"],
            "n_passages": len(order),
        },
        "settings": {
            "n_resamples": n_resamples,
            "n_trials": n_trials,
            "seed": seed,
            "alpha": alpha,
            "tie_tolerance": tie_tolerance,
            "primary_metric": primary,
            "significance": "approximate randomization p < alpha (bootstrap p shown as sacrebleu --paired-bs)",
        },
        "stages": stages,
        "metrics": {
            name: {"higher_is_better": _direction(name, resolved, baseline),
                   "signature": base_metric_sigs.get(name)}
            for name in all_metrics if name in resolved
        },
        "results": results,
        "outcomes": outcomes,
        "disagreements": {"stage": focus_stage, "metric": primary, "passages": disagreements},
        "notes": notes,
    }


def _direction(metric_name: str, resolved: Mapping[str, Any], run: Mapping[str, Any]) -> bool:
    metric = resolved.get(metric_name)
    if metric is not None:
        return bool(metric.higher_is_better)
    recorded = _recorded_direction(run, metric_name)
    return recorded if recorded is not None else metric_name not in KNOWN_LOWER_IS_BETTER


def _collect(runs, by_id, order, stage, metric_name, field: str, noise: set | None = None
             ) -> tuple[list[str], list[list[Any]]]:
    """``field`` ("stats" rows or sentence "scores") of one metric for the
    passages every run scored, one list per run.

    Where a system has the baseline's very text and its value differs only
    by floating-point noise (embeddings are computed in float32 and batched
    differently from run to run), the baseline's value is used: the same text
    has the same score. The affected passage ids are added to ``noise``.
    """
    ids: list[str] = []
    values: list[list[Any]] = [[] for _ in runs]
    for pid in order:
        entries = [_entry(index.get(pid), run, stage) for index, run in zip(by_id, runs)]
        found = [(e.get(field) or {}).get(metric_name) if e is not None else None for e in entries]
        if any(v is None for v in found):
            continue
        ids.append(pid)
        base_value = np.asarray(found[0], dtype=float)
        for k, (bucket, value) in enumerate(zip(values, found)):
            value = np.asarray(value, dtype=float)
            if (k and value.shape == base_value.shape and not np.array_equal(value, base_value)
                    and entries[k].get("text") == entries[0].get("text")
                    and np.allclose(value, base_value, rtol=FLOAT_NOISE_RTOL, atol=0.0, equal_nan=True)):
                value = base_value
                if noise is not None:
                    noise.add(pid)
            bucket.append(value)
    return ids, values


def _paired_stats(runs, by_id, order, stage, metric_name, noise=None) -> tuple[list[str], list[np.ndarray]]:
    """Statistics matrices (one per run) over the passages every run scored."""
    ids, rows = _collect(runs, by_id, order, stage, metric_name, "stats", noise)
    return ids, [np.asarray(r, dtype=float).reshape(len(ids), -1) for r in rows]


def _sentence_scores(runs, by_id, order, stage, metric_name) -> tuple[list[str], list[np.ndarray]]:
    ids, values = _collect(runs, by_id, order, stage, metric_name, "scores")
    return ids, [np.asarray(v, dtype=float).reshape(len(ids)) for v in values]


def _compare_metric(stage, metric_name, metric, ids, matrices, names, order, n_resamples, n_trials, seed, alpha):
    score_fn = metric.corpus_from_stats
    batch = getattr(metric, "corpus_from_stats_batch", None)
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
        significant = randomization.is_significant(alpha)
        improved = delta > 0 if metric.higher_is_better else delta < 0
        systems.append({
            "name": name,
            "score": bootstrap.system,
            "ci": bootstrap.system_ci.to_dict(),
            "delta": delta,
            "delta_ci": bootstrap.delta_ci.to_dict(),
            "p_bootstrap": bootstrap.p_value,
            "p_ar": randomization.p_value,
            "significant": significant,
            "direction": "same" if delta == 0 else ("better" if improved else "worse"),
        })
    return {
        "stage": stage,
        "metric": metric_name,
        "higher_is_better": bool(metric.higher_is_better),
        "n_passages": len(ids),
        "passages": ids if len(ids) < len(order) else [],
        "baseline": baseline_entry,
        "systems": systems,
    }


def _disagreements(runs, by_id, order, stage, metric_name, names, top_n) -> list[dict[str, Any]]:
    ids, scores = _sentence_scores(runs, by_id, order, stage, metric_name)
    if not ids or top_n <= 0:
        return []
    table = np.vstack(scores)  # (n_runs, n_passages)
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(table, axis=0) - np.nanmin(table, axis=0)
    spread = np.where(np.isnan(spread), -np.inf, spread)
    # Largest spread first; ties keep transcript order (stable sort).
    chosen = [i for i in np.argsort(-spread, kind="stable")[:top_n] if np.isfinite(spread[i]) and spread[i] > 0]
    out = []
    for i in chosen:
        pid = ids[i]
        records = [index[pid] for index in by_id]
        out.append({
            "id": pid,
            "spread": float(spread[i]),
            "references": list(records[0].get("references") or []),
            "systems": [
                {
                    "name": name,
                    "stage": _stage_of(run, stage),
                    "score": float(table[k, i]),
                    "band": ((_entry(record, run, stage) or {}).get("verdict") or {}).get("band"),
                    "text": (_entry(record, run, stage) or {}).get("text", ""),
                }
                for k, (name, run, record) in enumerate(zip(names, runs, records))
            ],
        })
    return out


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    """NaN/inf -> null (JSON has no NaN), numpy -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return _finite_or_none(value)
    return value


def write_compare_json(path: str | Path, comparison: Mapping[str, Any]) -> Path:
    """Write ``compare.json`` (atomically) and return its path."""
    from .runstore import atomic_write_json

    path = Path(path)
    atomic_write_json(path, _json_ready(comparison))
    return path


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def fmt_score(value: Optional[float], digits: int = 2) -> str:
    return f"{value:.{digits}f}" if _is_number(value) else "n/a"


def fmt_delta(value: Optional[float], digits: int = 2) -> str:
    return f"{value:+.{digits}f}" if _is_number(value) else "n/a"


def row_digits(row: Mapping[str, Any]) -> int:
    """Decimals for a result row: 3 for metrics on a 0..1 scale, else 2."""
    scores = [row["baseline"]["score"]] + [s["score"] for s in row["systems"]]
    finite = [abs(v) for v in scores if _is_number(v)]
    return 3 if finite and max(finite) <= 1.0 else 2


def fmt_p(value: Optional[float]) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4f}"


def fmt_ci(ci: Optional[Mapping[str, float]], digits: int = 2) -> str:
    if not ci:
        return ""
    return f"[{fmt_score(ci.get('lower'), digits)}, {fmt_score(ci.get('upper'), digits)}]"


def unchanged_stages(comparison: Mapping[str, Any]) -> list[str]:
    """Stages where every system scores exactly as the baseline on every
    metric (typically the shared input): shown as one line, not a table."""
    out = []
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if rows and all(s["delta"] == 0 and s["p_ar"] == 1.0 for r in rows for s in r["systems"]):
            out.append(stage)
    return out


def significance_mark(system: Mapping[str, Any]) -> str:
    """▲ better / ▼ worse, with * when significant (AR p < alpha)."""
    arrow = {"better": "▲", "worse": "▼"}.get(system.get("direction", ""), "=")
    return arrow + ("*" if system.get("significant") else "")


def compare_markdown(comparison: Mapping[str, Any]) -> str:
    """``compare.md``: settings, score tables per stage, win/tie/loss, disagreements."""
    from .report.text import md_cell, md_code, md_text

    settings = comparison["settings"]
    lines = [
        "# Comparison",
        "",
        f"Baseline: **{md_text(comparison['baseline'])}**; systems: "
        + ", ".join(f"**{md_text(s['name'])}**" for s in comparison["systems"][1:]) + ".",
        "",
        f"{comparison['data']['n_passages']} passages (transcript {comparison['data']['transcript_sha256'][:12]}, "
        f"references {comparison['data']['references_sha256'][:12]}). "
        f"Paired bootstrap: {settings['n_resamples']} resamples; approximate randomization: "
        f"{settings['n_trials']} trials; seed {settings['seed']}. "
        f"`*` = significant (AR p < {settings['alpha']}); ▲/▼ = better/worse than the baseline. "
        "Intervals are 95 % bootstrap percentile intervals. p-values are per comparison, "
        "not corrected for the number of comparisons.",
        "",
        "| system | source | signature |",
        "|---|---|---|",
    ]
    for system in comparison["systems"]:
        lines.append(f"| {md_cell(system['name'])} | {md_cell(str(system.get('source') or ''))} "
                     f"| `{md_code(str(system.get('signature_string') or system.get('signature_key') or ''))}` |")
    lines.append("")

    unchanged = unchanged_stages(comparison)
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if not rows:
            continue
        if stage in unchanged:
            lines += [f"## Stage: {md_text(stage)}", "",
                      "Every system scores exactly as the baseline here, on every metric (p = 1).", ""]
            continue
        lines += [f"## Stage: {md_text(stage)}", "",
                  "| metric | system | score | 95 % CI | Δ | p (bootstrap) | p (AR) | |",
                  "|---|---|---:|---|---:|---:|---:|---|"]
        for row in rows:
            arrow = "↑" if row["higher_is_better"] else "↓"
            base, digits = row["baseline"], row_digits(row)
            lines.append(f"| {md_text(row['metric'])} {arrow} | {md_cell(base['name'])} (baseline) "
                         f"| {fmt_score(base['score'], digits)} | {fmt_ci(base['ci'], digits)} | | | | |")
            for system in row["systems"]:
                lines.append(f"| | {md_cell(system['name'])} | {fmt_score(system['score'], digits)} "
                             f"| {fmt_ci(system['ci'], digits)} | {fmt_delta(system['delta'], digits)} "
                             f"| {fmt_p(system['p_bootstrap'])} | {fmt_p(system['p_ar'])} | {significance_mark(system)} |")
        lines.append("")

    if comparison["outcomes"]:
        primary = comparison["settings"]["primary_metric"]
        lines += [f"## Passages: win / tie / loss against the baseline ({md_text(primary)})", "",
                  "| stage | system | wins | ties | losses |", "|---|---|---:|---:|---:|"]
        for outcome in comparison["outcomes"]:
            for system in outcome["systems"]:
                lines.append(f"| {md_text(outcome['stage'])} | {md_cell(system['name'])} | {system['wins']} "
                             f"| {system['ties']} | {system['losses']} |")
        lines.append("")

    disagreements = comparison["disagreements"]
    if disagreements["passages"]:
        lines += [f"## Where the systems disagree most ({md_text(disagreements['metric'])}, "
                  f"stage {md_text(disagreements['stage'])})", ""]
        scores = [abs(s["score"]) for p in disagreements["passages"] for s in p["systems"] if _is_number(s["score"])]
        digits = 3 if scores and max(scores) <= 1.0 else 2
        for passage in disagreements["passages"]:
            lines += [f"### {md_text(passage['id'])}: spread {fmt_score(passage['spread'], digits)}", "",
                      "| system | score | text |", "|---|---:|---|"]
            for system in passage["systems"]:
                band = f" ({system['band']})" if system.get("band") else ""
                lines.append(f"| {md_cell(system['name'])} | {fmt_score(system['score'], digits)}{md_text(band)} "
                             f"| {md_cell(system['text'])} |")
            for k, reference in enumerate(passage["references"], start=1):
                lines.append(f"| reference {k} | | {md_cell(reference)} |")
            lines.append("")

    if comparison["notes"]:
        lines += ["## Notes", ""] + [f"- {md_text(note)}" for note in comparison["notes"]] + [""]
    return "\n".join(lines)


def write_compare_markdown(path: str | Path, comparison: Mapping[str, Any]) -> Path:
    """Write ``compare.md`` (atomically) and return its path."""
    from .runstore import atomic_write_text

    path = Path(path)
    atomic_write_text(path, compare_markdown(comparison))
    return path


def _compact_ci(ci: Optional[Mapping[str, float]], digits: int) -> str:
    return f"{fmt_score(ci.get('lower'), digits)}–{fmt_score(ci.get('upper'), digits)}" if ci else ""


def compare_tables(comparison: Mapping[str, Any]) -> list[Any]:
    """Rich renderables for the terminal: one score table per stage, then win/tie/loss."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    tables: list[Any] = []
    unchanged = unchanged_stages(comparison)
    for stage in comparison["stages"]:
        rows = [r for r in comparison["results"] if r["stage"] == stage]
        if not rows or stage in unchanged:
            continue
        table = Table(title=f"stage: {escape(stage)}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for header, justify in [("metric", "left"), ("system", "left"), ("score", "right"), ("95% CI", "left"),
                                ("Δ", "right"), ("", "left"), ("p (bs)", "right"), ("p (AR)", "right")]:
            if header == "system":
                table.add_column(header, justify=justify, overflow="fold", min_width=10)
            else:
                table.add_column(header, justify=justify, no_wrap=True)
        for row in rows:
            arrow = "↑" if row["higher_is_better"] else "↓"
            base, digits = row["baseline"], row_digits(row)
            table.add_row(f"{escape(row['metric'])} {arrow}", escape(base["name"]), fmt_score(base["score"], digits),
                          _compact_ci(base["ci"], digits), "base", "", "", "")
            for system in row["systems"]:
                mark = significance_mark(system)
                style = ("green" if system["direction"] == "better" else "red") if system["significant"] else ""
                table.add_row("", escape(system["name"]), fmt_score(system["score"], digits),
                              _compact_ci(system["ci"], digits), fmt_delta(system["delta"], digits),
                              f"[{style}]{mark}[/{style}]" if style else mark,
                              fmt_p(system["p_bootstrap"]), fmt_p(system["p_ar"]))
            table.add_section()
        tables.append(table)
    if unchanged:
        tables.append(f"stage(s) {', '.join(escape(s) for s in unchanged)}: every system scores exactly as the "
                      "baseline (p = 1)")
    if comparison["outcomes"]:
        table = Table(title=f"win / tie / loss vs baseline ({escape(comparison['settings']['primary_metric'])})",
                      title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for header in ("stage", "system", "wins", "ties", "losses"):
            table.add_column(header, justify="left" if header in ("stage", "system") else "right")
        for outcome in comparison["outcomes"]:
            for system in outcome["systems"]:
                table.add_row(escape(outcome["stage"]), escape(system["name"]), str(system["wins"]),
                              str(system["ties"]), str(system["losses"]))
        tables.append(table)
    return tables


def print_comparison(console: Any, comparison: Mapping[str, Any]) -> None:
    """Print the comparison tables and notes to a rich console."""
    from rich.markup import escape

    for table in compare_tables(comparison):
        console.print(table)
    settings = comparison["settings"]
    console.print(f"* significant: approximate randomization p < {settings['alpha']} "
                  f"({settings['n_trials']} trials, seed {settings['seed']}); "
                  f"bootstrap: {settings['n_resamples']} resamples")
    for note in comparison["notes"]:
        console.print(f"note: {escape(note)}", soft_wrap=True)
