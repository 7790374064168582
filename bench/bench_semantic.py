"""What the semantic comparison costs: scoring time per passage with and without it.

Scores the same passages twice in one process, with every built-in metric and
with every built-in metric but ``semantic`` (the meaning score then imputes
its features), after a warm-up that loads the models, and prints the ratio.
Inputs: the bundled briefing (7 passages, 2-3 references each, about 150
words) repeated, and single-sentence translations from the calibration data
when ``--calibration`` points at it.

Usage: ``python bench/bench_semantic.py [--copies 6] [--calibration ../shared/calibration/wmt23-zhen-mqm.jsonl --rows 300]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.config import BUNDLED_REFERENCES, BUNDLED_TRANSCRIPT  # noqa: E402
from harness.loading import load_dataset  # noqa: E402
from harness.metrics.catalog import BUILTIN_METRICS  # noqa: E402
from harness.metrics.config import MetricsConfig  # noqa: E402
from harness.scoring import Scorer  # noqa: E402


def timed(scorer: Scorer, hyps: list[str], refs: list[list[str]], chunk: int = 32) -> float:
    start = time.perf_counter()
    for k in range(0, len(hyps), chunk):
        scorer.score_chunk({"text": hyps[k:k + chunk]}, refs[k:k + chunk])
    return time.perf_counter() - start


def compare(label: str, hyps: list[str], refs: list[list[str]]) -> None:
    everything = tuple(m for m in BUILTIN_METRICS if m != "roundtrip")
    without = tuple(m for m in everything if m != "semantic")
    with_semantic, without_semantic = Scorer(MetricsConfig(use=everything)), Scorer(MetricsConfig(use=without))
    timed(with_semantic, hyps[:4], refs[:4])  # load the models
    timed(without_semantic, hyps[:4], refs[:4])
    a = timed(without_semantic, hyps, refs)
    b = timed(with_semantic, hyps, refs)
    print(f"| {label} | {len(hyps)} | {1000 * a / len(hyps):.0f} ms | {1000 * b / len(hyps):.0f} ms | {b / a:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--calibration", type=Path)
    parser.add_argument("--rows", type=int, default=300)
    args = parser.parse_args()
    print("| passages | n | scoring per passage, without semantic | with semantic | ratio |")
    print("|---|---:|---:|---:|---:|")
    passages = load_dataset(BUNDLED_TRANSCRIPT, [BUNDLED_REFERENCES])
    hyps = [p.text for p in passages] * args.copies
    refs = [list(p.references) for p in passages] * args.copies
    compare("bundled briefing (spun, ~150 words)", hyps, refs)
    if args.calibration:
        rows = [json.loads(line) for line in args.calibration.read_text(encoding="utf-8").splitlines()[:args.rows]]
        compare("WMT23 zh-en translations (one sentence)", [r["hypothesis"] for r in rows], [[r["reference"]] for r in rows])


if __name__ == "__main__":
    main()
