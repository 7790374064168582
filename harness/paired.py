"""Runs of the same passages side by side: what ``compare`` and ``regress`` stand on.

Paired tests need the same passages and references in every run
(:func:`data_mismatch`), the passages every run scored, in the first run's
order (:func:`paired_entries`), their statistics as one matrix per run
(:func:`paired_values`), and metric objects that turn summed statistics
into corpus scores (:func:`scoring_metrics`: rebuilt from the run's own
metrics config). Per passage, :func:`outcomes` counts wins, ties and losses.

A run's last stage can be compared with another run's last stage through
the pseudo-stage :data:`FINAL_STAGE` (a pipeline without retranslation
against one with it: what each pipeline finally produces).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .metrics.base import MeanMetric, Metric, MetricInfo
from .results import RunResults, StageResult
from .stats import passage_outcomes, win_tie_loss

FINAL_STAGE = "final"
#: the run signature's fields that name the data: transcript and references
DATA_KEYS = (("transcript_sha256", "transcript"), ("references_sha256", "references"))
# Two runs scoring the same text can differ by float32 rounding (about 1e-7
# relative, measured on embedding metrics); within this, the same text scores the same.
FLOAT_NOISE_RTOL = 1e-5
OUTCOME_NAMES = {1: "win", 0: "tie", -1: "loss"}


def data_mismatch(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """The first data hash two run signatures disagree on, as ``(key, what,
    before, after)``; None when both name the same transcript and references."""
    for key, what in DATA_KEYS:
        if before.get(key) != after.get(key):
            return key, what, str(before.get(key)), str(after.get(key))
    return None


def stage_of(run: RunResults, stage: str) -> str:
    """The run's own stage for ``stage`` (its last one for :data:`FINAL_STAGE`)."""
    return run.stages[-1] if stage == FINAL_STAGE else stage


def entry(run: RunResults, passage_id: str, stage: str, index: Mapping[str, Any] | None = None) -> StageResult | None:
    """One passage's stage in a run, or None when it failed or is missing."""
    passage = (index if index is not None else run.by_id()).get(passage_id)
    return passage.stage(stage_of(run, stage)) if passage is not None else None


def paired_entries(runs: Sequence[RunResults], stage: str) -> list[tuple[str, list[StageResult]]]:
    """The passages every run scored at ``stage`` (in the first run's order),
    each with its stage in every run."""
    indexes = [run.by_id() for run in runs]
    out = []
    for passage in runs[0].passages:
        entries = [entry(run, passage.id, stage, index) for run, index in zip(runs, indexes)]
        if all(e is not None for e in entries):
            out.append((passage.id, entries))
    return out


def paired_values(runs: Sequence[RunResults], stage: str, metric: str, field: str = "stats",
                  noise: set | None = None) -> tuple[list[str], list[np.ndarray]]:
    """``field`` (``stats`` rows or sentence ``scores``) of one metric over the
    passages every run scored it on: the ids, and one array per run (a
    ``(n, k)`` matrix for statistics, a vector for scores; None is NaN).

    Where a run has the first run's very text and its value differs only by
    floating-point noise (embeddings are computed in float32 and batched
    differently from run to run), the first run's value is used: the same
    text has the same score. The affected passage ids are added to ``noise``.
    """
    ids: list[str] = []
    values: list[list[np.ndarray]] = [[] for _ in runs]
    for pid, entries in paired_entries(runs, stage):
        found = [getattr(e, field).get(metric) for e in entries]
        if any(v is None for v in found):
            continue
        ids.append(pid)
        base = np.asarray(found[0], dtype=float)
        for k, (bucket, value) in enumerate(zip(values, found)):
            value = np.asarray(value, dtype=float)
            if (k and value.shape == base.shape and not np.array_equal(value, base, equal_nan=True)
                    and entries[k].text == entries[0].text
                    and np.allclose(value, base, rtol=FLOAT_NOISE_RTOL, atol=0.0, equal_nan=True)):
                value = base
                if noise is not None:
                    noise.add(pid)
            bucket.append(value)
    shape = (len(ids), -1) if field == "stats" else (len(ids),)
    return ids, [np.asarray(v, dtype=float).reshape(shape) for v in values]


class MeanOfRows(MeanMetric):
    """A metric recorded as ``[score, 1]`` rows whose object cannot be rebuilt
    (a user metric not importable here): its corpus score is the mean."""

    def __init__(self, info: MetricInfo):
        self.name, self.higher_is_better = info.name, info.higher_is_better


def scoring_metrics(run: RunResults, names: Sequence[str], widths: Mapping[str, int],
                    provided: Mapping[str, Metric] | None = None) -> tuple[dict[str, Metric], list[str]]:
    """Metric objects (``corpus_from_stats``, ``higher_is_better``) for ``names``.

    Order of preference: ``provided``; the metric rebuilt from the run's
    metrics config; for two-column statistics, the mean of ``[score, 1]``
    rows. Returns the metrics and notes about any that could not be resolved.
    """
    provided = dict(provided or {})
    resolved: dict[str, Metric] = {}
    notes: list[str] = []
    scorer, problem = (None, None)
    if any(name not in provided for name in names):
        scorer, problem = _scorer_for(run)
    infos = run.metrics
    for name in names:
        if name in provided:
            resolved[name] = provided[name]
        elif scorer is not None and name in scorer.names:
            resolved[name] = scorer.metric(name)
        elif widths.get(name) == 2:
            resolved[name] = MeanOfRows(infos.get(name) or MetricInfo(name))
        else:
            why = f" ({problem})" if problem else ""
            notes.append(f"metric {name!r} skipped: cannot rebuild its corpus score from its statistics{why}")
    return resolved, notes


def _scorer_for(run: RunResults) -> tuple[Any, str | None]:
    """The run's own metrics, rebuilt from the metrics config in its signature."""
    config = (run.signature.get("metrics") or {}).get("config")
    if config is None:
        return None, "the run does not record its metrics config"
    try:
        from .metrics.config import MetricsConfig
        from .scoring import Scorer

        return Scorer(MetricsConfig.model_validate(config)), None
    except Exception as exc:  # a user metric that is not importable here, an older config
        return None, f"{type(exc).__name__}: {exc}"


def outcomes(runs: Sequence[RunResults], names: Sequence[str], stage: str, metric: str, higher_is_better: bool,
             tie_tolerance: float = 0.0) -> dict[str, Any] | None:
    """Win / tie / loss of every run against the first on ``metric``'s sentence
    scores at ``stage`` (None when no passage has the score in every run)."""
    ids, scores = paired_values(runs, stage, metric, "scores")
    if not ids:
        return None
    systems = []
    for name, system_scores in zip(names[1:], scores[1:]):
        counts = win_tie_loss(scores[0], system_scores, higher_is_better, tie_tolerance)
        per_passage = passage_outcomes(scores[0], system_scores, higher_is_better, tie_tolerance)
        systems.append({"name": name, "wins": counts.wins, "ties": counts.ties, "losses": counts.losses,
                        "per_passage": {pid: OUTCOME_NAMES[int(o)] for pid, o in zip(ids, per_passage)}})
    return {"stage": stage, "metric": metric, "n_passages": len(ids), "systems": systems}
