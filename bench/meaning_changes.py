"""Per-kind detection and false alarms of the semantic comparison on the labelled
meaning-change set (``tests/data/meaning_changes/``), for the docs and closing notes.

Usage: ``python bench/meaning_changes.py [dev|test ...] [--misses]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.semantic.labelled import evaluate, load_items  # noqa: E402

DATA = ROOT / "tests" / "data" / "meaning_changes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("splits", nargs="*", default=["dev", "test"])
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    args = parser.parse_args()
    for split in args.splits:
        start = time.time()
        result = evaluate(load_items(DATA / f"{split}.yaml"))
        print(f"\n## {split} ({time.time() - start:.0f} s)\n")
        print(result.table())
        if args.misses:
            for item, kind, text, reasons in result.misses:
                print(f"- {item} [{kind}] {text}\n    {reasons}")


if __name__ == "__main__":
    main()
