"""Calibrate the meaning score against expert judgments, and measure how well it agrees.

Data: ``../shared/calibration/wmt23-zhen-mqm.jsonl`` (or ``--data``): English
machine translations with a reference and expert MQM scores (see that
folder's README). For every translation this script scores the metrics the
meaning score combines (the real :class:`~harness.scoring.Scorer`, cached on
disk), then:

* **cross-validates** by document: five folds, each translation's meaning
  score computed with weights fitted on the other four folds (a document's
  segments never straddle train and test), and prints, on those held-out
  predictions, segment-level Kendall tau-b with ``mqm_accuracy`` and ``mqm``
  (pooled, and averaged over segments: the 10 systems' translations of one
  source segment ranked against each other), system-level Pearson, and a
  paired bootstrap 95% interval (over segments) of the difference to
  sacrebleu chrF++ and to the BERTScore-style metric on the same rows;
* with ``--write``, fits the weights on all rows and writes
  ``harness/data/meaning_weights.json`` (the file the meaning score reads),
  with the data's hash and the held-out figures.

The fit (:func:`harness.metrics.meaning_fit.fit`) minimises a pairwise
ranking loss (which of two translations the raters penalised more: pairs
within a segment and across segments) plus a squared error that keeps the
penalty in MQM points; findings of each kind cost at least their documented
floor. Nothing here is a timed test.

Usage::

    python bench/calibrate_meaning.py                 # cross-validated table
    python bench/calibrate_meaning.py --write         # ... and ship the weights
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, pearsonr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.metrics.config import MetricsConfig  # noqa: E402
from harness.metrics.meaning_fit import FOLDS, Fitted, fit, fold_of  # noqa: E402
from harness.metrics.meaning import FEATURES, features  # noqa: E402
from harness.findings import Finding  # noqa: E402
from harness.scoring import Scorer  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "calibration" / "wmt23-zhen-mqm.jsonl"
COMPONENTS = ("chrf", "cosine", "bertscore", "anchors", "injected", "semantic")
WEIGHTS_FILE = ROOT / "harness" / "data" / "meaning_weights.json"


def load_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        for key in ("id", "segment", "doc", "system", "hypothesis", "reference", "mqm", "mqm_accuracy"):
            if key not in row:
                raise SystemExit(f"error: {path}: row {row.get('id', '?')} has no {key!r}")
    return rows


def component_outputs(rows: list[dict], cache_dir: Path, chunk: int = 200) -> list[dict]:
    """Per row: the component metrics' scores and findings (cached by metric signatures)."""
    scorer = Scorer(MetricsConfig(use=COMPONENTS))
    # the metrics' signatures do not change with every edit of their code: key on the code too
    code = hashlib.sha256()
    for path in sorted((ROOT / "harness").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".tsv", ".gz", ".txt") and "meaning" not in path.name:
            code.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    key = hashlib.sha256(json.dumps([scorer.signatures(), [r["id"] for r in rows], code.hexdigest()],
                                    sort_keys=True).encode()).hexdigest()[:16]
    cache = cache_dir / f"components-{key}.jsonl"
    done: dict[str, dict] = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            done[record["id"]] = record
    todo = [r for r in rows if r["id"] not in done]
    if todo:
        cache_dir.mkdir(parents=True, exist_ok=True)
        start = time.time()
        with cache.open("a", encoding="utf-8") as out:
            for k in range(0, len(todo), chunk):
                part = todo[k:k + chunk]
                scored = scorer.score_chunk({"text": [r["hypothesis"] for r in part]}, [[r["reference"]] for r in part])
                for row, result in zip(part, scored):
                    entry = result["text"]
                    record = {"id": row["id"], "scores": entry.scores,
                              "findings": [f.to_json() for f in entry.findings]}
                    done[row["id"]] = record
                    out.write(json.dumps(record) + "\n")
                out.flush()
                print(f"  scored {k + len(part)}/{len(todo)} in {time.time() - start:.0f} s", file=sys.stderr)
    return [done[r["id"]] for r in rows]


# --------------------------------------------------------------------------
# agreement statistics
# --------------------------------------------------------------------------
def kendall(a, b) -> float:
    return float(kendalltau(a, b).statistic)


def per_segment_tau(scores: np.ndarray, target: np.ndarray, segments: np.ndarray, idx=None) -> float:
    groups = defaultdict(list)
    for i in (range(len(scores)) if idx is None else idx):
        groups[segments[i]].append(i)
    taus = [kendall(scores[g], target[g]) for g in groups.values()
            if len(set(target[g])) > 1 and len(set(scores[g])) > 1]
    return float(np.mean(taus)) if taus else float("nan")


def system_pearson(scores: np.ndarray, target: np.ndarray, systems: np.ndarray) -> float:
    names = sorted(set(systems))
    means = [(scores[systems == s].mean(), target[systems == s].mean()) for s in names]
    return float(pearsonr([m[0] for m in means], [m[1] for m in means]).statistic)


def table(candidates: dict[str, np.ndarray], rows: list[dict], n_boot: int, seed: int) -> str:
    segments = np.array([r["segment"] for r in rows])
    systems = np.array([r["system"] for r in rows])
    targets = {"mqm_accuracy": np.array([r["mqm_accuracy"] for r in rows], dtype=float),
               "mqm": np.array([r["mqm"] for r in rows], dtype=float)}
    lines = ["| score | acc pooled | acc per-segment | mqm pooled | mqm per-segment | system Pearson (acc) |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, scores in candidates.items():
        a, m = targets["mqm_accuracy"], targets["mqm"]
        lines.append(f"| {name} | {kendall(scores, a):.4f} | {per_segment_tau(scores, a, segments):.4f} | "
                     f"{kendall(scores, m):.4f} | {per_segment_tau(scores, m, segments):.4f} | "
                     f"{system_pearson(scores, a, systems):.3f} |")
    # paired bootstrap over segments: meaning minus each baseline. A segment's own
    # tau does not change when it is drawn, so the per-segment averages resample
    # precomputed values; the pooled taus are recomputed on the drawn rows.
    rng = np.random.default_rng(seed)
    by_segment = defaultdict(list)
    for i, s in enumerate(segments):
        by_segment[s].append(i)
    keys = sorted(by_segment)
    draws = [rng.choice(len(keys), len(keys)) for _ in range(n_boot)]
    rows_of = [np.concatenate([by_segment[keys[p]] for p in pick]) for pick in draws]

    def segment_taus(scores, target):
        out = np.full(len(keys), np.nan)
        for k, key in enumerate(keys):
            g = by_segment[key]
            if len(set(target[g])) > 1 and len(set(scores[g])) > 1:
                out[k] = kendall(scores[g], target[g])
        return out

    meaning = candidates["meaning (held out)"]
    lines += ["", "Difference to the meaning score, paired bootstrap over segments "
              f"({n_boot} resamples, 95% interval):", "",
              "| baseline | acc pooled | acc per-segment | mqm pooled | mqm per-segment |", "|---|---|---|---|---|"]
    for name, baseline in candidates.items():
        if name.startswith("meaning"):
            continue
        cells = []
        for target in (targets["mqm_accuracy"], targets["mqm"]):
            pooled = [kendall(meaning[idx], target[idx]) - kendall(baseline[idx], target[idx]) for idx in rows_of]
            diff = segment_taus(meaning, target) - segment_taus(baseline, target)
            per_segment = [np.nanmean(diff[pick]) for pick in draws]
            cells += [_interval(pooled), _interval(per_segment)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _interval(values) -> str:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return f"{np.mean(values):+.4f} [{lo:+.4f}, {hi:+.4f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "calibration")
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--write", action="store_true", help=f"fit on all rows and write {WEIGHTS_FILE.name}")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"error: {args.data}: no such file (give --data)")

    rows = load_rows(args.data)
    outputs = component_outputs(rows, args.cache_dir)
    X = np.array([features(o["scores"], [Finding.from_json(f) for f in o["findings"]]) for o in outputs])
    y = np.array([r["mqm_accuracy"] for r in rows], dtype=float)
    segments = np.array([r["segment"] for r in rows])
    folds = np.array([fold_of(r["doc"]) for r in rows])

    held_out = np.zeros(len(rows))
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        model = fit(X[train], y[train], segments[train])
        held_out[test] = model.score(X[test])
        print(f"fold {k}: {int(test.sum())} rows held out", file=sys.stderr)

    candidates = {
        "meaning (held out)": held_out,
        "chrF++ (sacrebleu)": np.array([o["scores"]["chrf"] for o in outputs]),
        "BERTScore-style F1": np.array([o["scores"]["bertscore"] for o in outputs]),
        "cosine": np.array([o["scores"]["cosine"] for o in outputs]),
        "semantic F1": np.array([o["scores"]["semantic"] for o in outputs]),
    }
    print(f"{len(rows)} translations, {len(set(segments))} segments, {FOLDS} folds by document\n")
    print(table(candidates, rows, args.bootstrap, args.seed))

    if args.write:
        model = fit(X, y, segments)
        digest = hashlib.sha256(args.data.read_bytes()).hexdigest()
        model.write(WEIGHTS_FILE, data=f"{args.data.name} sha256:{digest[:16]} ({len(rows)} rows)")
        print(f"\nwrote {WEIGHTS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
