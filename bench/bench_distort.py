"""Throughput of the distortion generator: passages per second, end to end.

Writes a corpus of ``--passages`` distorted passages (default 100,000) made
from the bundled clean references (cycled, each with its own id) into a
temporary folder with :func:`harness.distort.distort_corpus`, i.e. including
the JSONL writing, and reports passages/s. Not a test: run it by hand.

    python bench/bench_distort.py                      # 100,000 passages, all kinds, rate 0.1
    python bench/bench_distort.py --rate 0.5 --kinds spin,case
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from harness.commands.distort import read_clean_passages
from harness.distort import KINDS, default_distorter, distort_corpus

REFERENCES = Path(__file__).resolve().parent.parent / "references" / "briefing" / "references.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    clean = read_clean_passages(REFERENCES)
    source = ((f"{pid}-n{n}", text) for n, (pid, text, _) in enumerate(itertools.islice(itertools.cycle(clean),
                                                                                      args.passages)))
    default_distorter()  # load the tables outside the timed part
    mean_chars = sum(len(text) for _, text, _ in clean) / len(clean)
    with tempfile.TemporaryDirectory() as tmp:
        start, cpu_start = time.perf_counter(), time.process_time()
        summary = distort_corpus(source, Path(tmp), rate=args.rate, kinds=args.kinds.split(","), seed=args.seed)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    print(f"{summary.passages:,} passages (mean {mean_chars:.0f} chars), rate {args.rate}, kinds {args.kinds}")
    # CPU time as well: on a shared machine the wall clock mostly measures the neighbours.
    print(f"{elapsed:.1f} s wall, {cpu:.1f} s CPU: {summary.passages / elapsed:,.0f} passages/s wall, "
          f"{summary.passages / cpu:,.0f} per CPU second; {size / 1e6:.0f} MB written")
    print("distortions: " + ", ".join(f"{k} {v:,}" for k, v in summary.distortions_by_kind.items()))


if __name__ == "__main__":
    main()
