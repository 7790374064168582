"""Calibration of the meaning score and the cleaners on text with known damage.

Clean passages are distorted with one kind at a time, at rising rates, and
every copy is scored as it is (stage ``distorted``) and after the default
cleaner chain (stage ``cleaned``). Three questions, three results:

* does the meaning score fall as the rate rises, for every kind and stage?
  (:meth:`Calibration.meaning_means`, :meth:`Calibration.is_monotone`);
* are number and negation damage named in the verdict reasons?
  (:meth:`Calibration.flagging`);
* what do the cleaners repair? (:meth:`Calibration.cleaner_gain`: the mean
  of ``cleaned - distorted`` with a 95% interval from a bootstrap over
  *source passages*, because the copies of one passage are not independent).

The same copy seed is used at every rate (see :mod:`harness.distort`: one
decision draw per site), so a higher rate damages a superset of the sites of
a lower one and the curves need few copies to be monotone.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from ..results import Verdict
from . import KINDS, default_distorter, passage_rng

RATES: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5)
STAGES: tuple[str, ...] = ("distorted", "cleaned")
#: The metrics the meaning score reads (BLEU, TER and round-trip do not enter it).
CALIBRATION_METRICS: tuple[str, ...] = ("chrf", "cosine", "bertscore", "anchors", "injected", "semantic", "meaning")
#: Verdict reasons that name damage of these kinds.
FLAG_PREFIXES: dict[str, str] = {"numbers": "number ", "negation": "negation "}


@dataclass
class CalibrationRow:
    """One scored copy: a source passage distorted with one kind at one rate."""

    source_id: str
    kind: str
    rate: float
    copy: int
    #: distortions applied, and those of them that change the meaning (all but respellings)
    distortions: int
    meaning_changing: int
    #: stage -> meaning score / band / verdict reasons
    scores: dict[str, float] = field(default_factory=dict)
    bands: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Calibration:
    rows: list[CalibrationRow]
    kinds: tuple[str, ...]
    rates: tuple[float, ...]
    copies: int
    seed: int
    references: str

    # --- meaning by kind and rate ---------------------------------------------------
    def meaning_means(self, stage: str) -> dict[str, dict[float, float]]:
        """kind -> rate -> mean meaning score of ``stage`` (rate 0: the clean passages)."""
        out: dict[str, dict[float, float]] = {}
        for kind in self.kinds:
            out[kind] = {}
            for rate in self.rates:
                values = [r.scores[stage] for r in self._rows(kind, rate)]
                out[kind][rate] = float(np.mean(values)) if values else float("nan")
        return out

    def is_monotone(self, stage: str, kind: str, tolerance: float = 0.0) -> bool:
        """Whether the mean meaning score never rises with the rate (by more than ``tolerance`` points)."""
        means = [self.meaning_means(stage)[kind][rate] for rate in sorted(self.rates)]
        return all(later <= earlier + tolerance for earlier, later in zip(means, means[1:]))

    # --- flagging ------------------------------------------------------------------
    def flagging(self, kind: str) -> dict[float, tuple[int, int]]:
        """rate -> (flagged, total) over the copies that received at least one
        meaning-changing distortion of ``kind``; flagged means the distorted
        stage's verdict names a number (or negation) problem that the clean
        passage's verdict does not."""
        prefix = FLAG_PREFIXES[kind]
        baseline = {r.source_id: _heads(r.reasons["distorted"], prefix) for r in self._rows(kind, 0.0)}
        out: dict[float, tuple[int, int]] = {}
        for rate in self.rates:
            if rate == 0:
                continue
            rows = [r for r in self._rows(kind, rate) if r.meaning_changing]
            flagged = sum(1 for r in rows if _heads(r.reasons["distorted"], prefix) != baseline[r.source_id])
            out[rate] = (flagged, len(rows))
        return out

    def false_flags(self, kind: str) -> tuple[int, int]:
        """(flagged, total) over the copies whose distortions of ``kind`` all keep
        the meaning (numbers respelled: "44" -> "forty-four"): flags there are false alarms."""
        prefix = FLAG_PREFIXES[kind]
        baseline = {r.source_id: _heads(r.reasons["distorted"], prefix) for r in self._rows(kind, 0.0)}
        rows = [r for r in self.rows if r.kind == kind and r.rate > 0 and r.distortions and not r.meaning_changing]
        return sum(1 for r in rows if _heads(r.reasons["distorted"], prefix) != baseline[r.source_id]), len(rows)

    def flagged_share(self, kind: str) -> tuple[int, int]:
        """(flagged, total) over every positive rate."""
        counts = self.flagging(kind).values()
        return sum(f for f, _ in counts), sum(t for _, t in counts)

    # --- cleaner gain --------------------------------------------------------------
    def cleaner_gain(self, kind: str, resamples: int = 2000, seed: int = 0) -> tuple[float, float, float, int]:
        """Mean of ``cleaned - distorted`` meaning over positive rates, with a
        95% percentile interval from a bootstrap over source passages:
        ``(mean, low, high, copies)``."""
        by_source: dict[str, list[float]] = {}
        for row in self.rows:
            if row.kind == kind and row.rate > 0:
                by_source.setdefault(row.source_id, []).append(row.scores["cleaned"] - row.scores["distorted"])
        if not by_source:
            return float("nan"), float("nan"), float("nan"), 0
        sums = np.array([sum(v) for v in by_source.values()])
        counts = np.array([len(v) for v in by_source.values()], dtype=float)
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, len(sums), size=(resamples, len(sums)))
        means = np.sort(sums[draws].sum(axis=1) / counts[draws].sum(axis=1))
        cut = int(math.floor(resamples * 0.025))
        return float(sums.sum() / counts.sum()), float(means[cut]), float(means[resamples - cut - 1]), int(counts.sum())

    # --- output --------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kinds": list(self.kinds), "rates": list(self.rates), "copies": self.copies, "seed": self.seed,
            "references": self.references,
            "meaning": {stage: {k: {str(r): v for r, v in by_rate.items()} for k, by_rate in self.meaning_means(stage).items()}
                        for stage in STAGES},
            "flagging": {kind: {str(r): list(v) for r, v in self.flagging(kind).items()}
                         for kind in FLAG_PREFIXES if kind in self.kinds},
            "false_flags": {kind: list(self.false_flags(kind)) for kind in FLAG_PREFIXES if kind in self.kinds},
            "cleaner_gain": {kind: dict(zip(("mean", "low", "high", "copies"), self.cleaner_gain(kind)))
                             for kind in self.kinds},
            "rows": [asdict(row) for row in self.rows],
        }

    def to_markdown(self) -> str:
        sources = len({r.source_id for r in self.rows})
        lines = [f"Meaning score (mean, 0-100) by kind and rate: {sources} clean passages x {self.copies} copies, "
                 f"seed {self.seed}, references: {self.references}.", ""]
        for stage in STAGES:
            means = self.meaning_means(stage)
            lines += [f"**{stage}**", "", "| kind | " + " | ".join(f"{r:g}" for r in self.rates) + " | monotone |",
                      "|---|" + "---:|" * len(self.rates) + ":---:|"]
            for kind in self.kinds:
                cells = " | ".join(f"{means[kind][r]:.1f}" for r in self.rates)
                lines.append(f"| {kind} | {cells} | {'yes' if self.is_monotone(stage, kind) else 'NO'} |")
            lines.append("")
        flag_kinds = [k for k in FLAG_PREFIXES if k in self.kinds]
        if flag_kinds:
            lines += ["**flagged by the verdict reasons** (copies with a meaning-changing distortion of the kind)", "",
                      "| kind | " + " | ".join(f"{r:g}" for r in self.rates if r > 0)
                      + " | all | false alarms (meaning-keeping changes only) |",
                      "|---|" + "---:|" * (len([r for r in self.rates if r > 0]) + 2)]
            for kind in flag_kinds:
                cells = [_share(*self.flagging(kind)[r]) for r in self.rates if r > 0]
                lines.append(f"| {kind} | " + " | ".join(cells) + f" | {_share(*self.flagged_share(kind))} "
                             f"| {_share(*self.false_flags(kind))} |")
            lines.append("")
        lines += ["**cleaner gain** (cleaned - distorted, all positive rates; 95% bootstrap interval over passages)", "",
                  "| kind | gain | 95% interval | copies | cleaners |", "|---|---:|---:|---:|---|"]
        for kind in self.kinds:
            mean, low, high, n = self.cleaner_gain(kind)
            verdict = "repair" if low > 0 else "harm" if high < 0 else "no clear effect"
            lines.append(f"| {kind} | {mean:+.1f} | [{low:+.1f}, {high:+.1f}] | {n} | {verdict} |")
        return "\n".join(lines) + "\n"

    def _rows(self, kind: str, rate: float) -> list[CalibrationRow]:
        return [r for r in self.rows if r.kind == kind and r.rate == rate]


def _heads(reasons: Iterable[str], prefix: str) -> list[str]:
    """The reasons of one kind without their context ("negation added: 'not'")."""
    return sorted(r.split(" (")[0] for r in reasons if r.startswith(prefix))


def _share(flagged: int, total: int) -> str:
    return f"{flagged}/{total} ({100 * flagged / total:.0f}%)" if total else "-"


def calibrate(clean: Sequence[tuple[str, str]], references: Mapping[str, Sequence[str]], scorer,
              cleaners: Sequence, kinds: Sequence[str] = KINDS, rates: Sequence[float] = RATES, copies: int = 3,
              seed: int = 0, chunk_size: int = 32,
              progress: Callable[[str], None] | None = None) -> Calibration:
    """Distort, clean and score ``clean`` passages ``(id, text)``.

    ``references[id]`` are what a copy of passage ``id`` is scored against
    (its clean text, or independent paraphrases of it); ``scorer`` is a
    :class:`harness.scoring.Scorer` whose metrics include ``meaning``;
    ``cleaners`` the chain for the ``cleaned`` stage. Each distinct text is
    cleaned and scored once (rate 0 and untouched copies share their scores).
    """
    from ..cleaners import run_chain

    rates = tuple(sorted(set(rates) | {0.0}))
    distorter = default_distorter()
    plans: list[tuple[CalibrationRow, str]] = []
    for source_id, text in clean:
        for kind in kinds:
            for rate in rates:
                for copy in range(1, (1 if rate == 0 else copies) + 1):
                    output, records = distorter.distort(text, passage_rng(seed, source_id, copy), rate, [kind])
                    changing = sum(1 for r in records if not r.meaning_preserving)
                    plans.append((CalibrationRow(source_id, kind, rate, copy, len(records), changing), output))

    cleaned_of: dict[str, str] = {}
    for _, output in plans:
        if output not in cleaned_of:
            cleaned_of[output] = run_chain(list(cleaners), output)[0]

    wanted: dict[tuple[str, str], None] = {}
    for row, output in plans:
        wanted.setdefault((output, row.source_id), None)
        wanted.setdefault((cleaned_of[output], row.source_id), None)
    pending = list(wanted)
    verdicts: dict[tuple[str, str], Verdict] = {}
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start:start + chunk_size]
        results = scorer.score_chunk({"text": [t for t, _ in chunk]}, [list(references[s]) for _, s in chunk])
        for key, result in zip(chunk, results):
            verdicts[key] = result["text"].verdict
        if progress is not None:
            progress(f"scored {min(start + chunk_size, len(pending))}/{len(pending)} distinct texts")

    rows = []
    for row, output in plans:
        for stage, text in (("distorted", output), ("cleaned", cleaned_of[output])):
            verdict = verdicts[(text, row.source_id)]
            row.scores[stage] = float(verdict.score)
            row.bands[stage] = verdict.band
            row.reasons[stage] = list(verdict.reasons)
        rows.append(row)
    references_label = "clean source" if all(list(references[s]) == [t] for s, t in clean) else "paraphrases"
    return Calibration(rows, tuple(kinds), rates, copies, seed, references_label)


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
