"""Calibrate the meaning score and the cleaners on generated distortions.

For each distortion kind and each rate, distorts the bundled clean references
(``--copies`` copies each, one kind at a time), scores every copy as it is and
after the default cleaner chain, and writes:

* the meaning score by kind and rate, for both stages (must fall with the rate);
* the share of number / negation distortions that the verdict reasons name;
* the cleaners' gain by kind, with a 95% bootstrap interval over passages.

    python bench/calibrate_distort.py                         # all kinds, rates 0-0.5, 3 copies
    python bench/calibrate_distort.py --references others     # score against the other paraphrases
    python bench/calibrate_distort.py --kinds numbers,negation --copies 5 --out runs/calibration

Writes ``calibration.md`` and ``calibration.json`` (every scored copy) in
``--out``. Scoring loads the embedding model (CPU by default): minutes, not seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness.cleaners import DEFAULT_CHAIN, build_cleaner
from harness.distort import KINDS
from harness.distort.calibration import CALIBRATION_METRICS, RATES, calibrate, stderr_progress
from harness.loading import load_references
from harness.metrics.config import MetricsConfig
from harness.scoring import Scorer

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "references" / "briefing" / "references.yaml"


def clean_sample(path: Path, mode: str, limit: int | None) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Each reference is a clean passage ``<id>-r<j>``; it is scored against
    itself (``source``) or against the other references of ``<id>`` (``others``)."""
    clean: list[tuple[str, str]] = []
    references: dict[str, list[str]] = {}
    for pid, refs in load_references([path], []).items():
        for j, text in enumerate(refs, start=1):
            others = [r for k, r in enumerate(refs, start=1) if k != j]
            if mode == "others" and not others:
                continue
            clean.append((f"{pid}-r{j}", text))
            references[f"{pid}-r{j}"] = [text] if mode == "source" else others
    return clean[:limit], references


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references-file", type=Path, default=BUNDLED)
    parser.add_argument("--references", choices=("source", "others"), default="source")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES))
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N clean passages")
    parser.add_argument("--device", default="cpu", help="torch device for the embedding model")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "calibrate-distort")
    args = parser.parse_args()

    clean, references = clean_sample(args.references_file, args.references, args.limit)
    scorer = Scorer(MetricsConfig(use=CALIBRATION_METRICS, device=args.device))
    cleaners = [build_cleaner(name) for name in DEFAULT_CHAIN]
    start = time.perf_counter()
    result = calibrate(clean, references, scorer, cleaners, kinds=args.kinds.split(","),
                       rates=[float(r) for r in args.rates.split(",")], copies=args.copies, seed=args.seed,
                       progress=stderr_progress)
    elapsed = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = result.to_markdown() + f"\n({len(result.rows)} copies scored in {elapsed:.0f} s)\n"
    (args.out / "calibration.md").write_text(markdown, encoding="utf-8")
    (args.out / "calibration.json").write_text(json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    print(markdown)
    print(f"written: {args.out / 'calibration.md'}, {args.out / 'calibration.json'}")


if __name__ == "__main__":
    main()
