"""Per-kind detection and false alarms of the semantic comparison on the labelled
meaning-change set (``tests/data/meaning_changes/``), for the docs and closing notes.

Usage: ``python bench/meaning_changes.py [dev|val|test ...] [--misses] [--export DIR]``

``--export DIR`` writes each split as a transcript (every paraphrase and
change a passage, its kind in the id) and its references, for
``harness run -t DIR/dev.transcript.jsonl -r DIR/dev.references.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.semantic.labelled import evaluate, load_items  # noqa: E402

DATA = ROOT / "tests" / "data" / "meaning_changes"
#: the splits rules and prior points are made on (``test`` is held out)
DEVELOPMENT_SPLITS = ("dev", "val", "val2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("splits", nargs="*", default=["dev", "test"])
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--export", type=Path, help="write the splits as transcript and references for harness run")
    parser.add_argument("--write-precision", action="store_true",
                        help="write each finding kind's counts on the development splits (dev, val, val2) to "
                             "harness/data/finding_precision.json (the meaning score's prior points)")
    args = parser.parse_args()
    if args.export:
        export(args.splits, args.export)
        return
    development = []
    for split in args.splits:
        start = time.time()
        result = evaluate(load_items(DATA / f"{split}.yaml"))
        if split in DEVELOPMENT_SPLITS:
            development.append(result)
        print(f"\n## {split} ({time.time() - start:.0f} s)\n")
        print(result.table())
        print()
        print(result.separation_table())
        print()
        print(result.precision_table())
        if args.misses:
            for item, kind, text, reasons in result.misses:
                print(f"- {item} [{kind}] {text}\n    {reasons}")
    if args.write_precision:
        write_precision(development)


def write_precision(results) -> None:
    """Each finding kind's counts, pooled over the development splits given."""
    from collections import Counter

    from harness.metrics.meaning_fit import PRECISION_FILE

    on_changes, on_paraphrases = Counter(), Counter()
    for result in results:
        on_changes.update(result.found_on_changes)
        on_paraphrases.update(result.found_on_paraphrases)
    kinds = {kind: {"on_changes": on_changes[kind], "on_paraphrases": on_paraphrases[kind]}
             for kind in sorted(set(on_changes) | set(on_paraphrases))}
    data = {"about": "per finding kind: texts of the labelled meaning-change set (dev, val and val2 splits) with a major "
                     "finding of the kind that are meaning changes (on_changes) and that are meaning-preserving "
                     "paraphrases (on_paraphrases); the meaning score's prior points per finding are "
                     "5 * (on_changes + 1) / (on_changes + on_paraphrases + 2)",
            "written_by": "python bench/meaning_changes.py dev val val2 --write-precision",
            "kinds": kinds}
    PRECISION_FILE.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"\nwrote {PRECISION_FILE.relative_to(ROOT)}")


def export(splits: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split in splits:
        transcript, references = [], []
        for item in load_items(DATA / f"{split}.yaml"):
            texts = [("paraphrase", t) for t in item["paraphrases"]] + [(c["kind"], c["text"]) for c in item["changes"]]
            for n, (kind, text) in enumerate(texts, start=1):
                pid = f"{item['id']}-{n}-{kind}"
                transcript.append(json.dumps({"id": pid, "text": text}))
                references.append(json.dumps({"id": pid, "references": item["references"]}))
        (folder / f"{split}.transcript.jsonl").write_text("\n".join(transcript) + "\n", encoding="utf-8")
        (folder / f"{split}.references.jsonl").write_text("\n".join(references) + "\n", encoding="utf-8")
        print(f"{folder / split}.transcript.jsonl, {folder / split}.references.jsonl: {len(transcript)} passages")


if __name__ == "__main__":
    main()
