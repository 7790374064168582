"""Development set for the ``spin`` cleaner's generic pass (issue 19).

Kept apart from the benchmark's held-out sources (``bench/bench_cleaners.py``:
``heldout-strict``, ``wordnet-spinner`` with seed 19, and the distorter's table,
which holds the held-out swaps): nothing here reads ``harness/data/distort_spin.yaml``
or ``bench/data/heldout_spin.yaml``.

* ``table-split-a`` / ``table-split-b``: the cleaner's own spinner-style table
  (``spin_candidates.yaml``) is split in two halves by spun form; the clean
  paragraphs are spun with one half while the cleaner runs *without* that half
  (swaps it has never seen), and without any pair whose spun form the lexicon knows;
* ``table-known``: the same with the whole table, which the cleaner knows
  (not a measure of generalisation: what a stricter rule costs on known swaps);
* ``wordnet-dev``: the benchmark's context-blind WordNet spinner with other seeds
  (23, 29) and the briefing's third references as extra paragraphs;
* clean paragraphs: edits beyond the documented normalisations (must stay 0),
  and the highest :meth:`SpinCleaner.lm_evidence` of a clean paragraph.

``--signals`` labels every WordNet proposal of the generic pass on the dev
copies (with the margins off) as a restoration (the word stood there before
spinning), a wrong candidate at a spun word, or an edit of a word that was not
spun, and prints how well each signal separates them.

    python bench/dev_spin.py
    python bench/dev_spin.py --signals
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain  # noqa: E402
from harness.cleaners import injected as injected_module  # noqa: E402
from harness.cleaners import spin_lm  # noqa: E402
from harness.cleaners.thesaurus import spinner_table  # noqa: E402
from harness.distort import Distorter, passage_rng  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_cleaners", ROOT / "bench" / "bench_cleaners.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def half(form: str) -> str:
    return "a" if hashlib.sha256(form.encode()).digest()[0] % 2 == 0 else "b"


@contextmanager
def table_without(part: str):
    """The cleaner's spinner table without the spun forms of one half."""
    kept = {key: originals for key, originals in spinner_table().items() if half(key) != part}
    saved = spin_lm.spinner_table, injected_module.spinner_table
    spin_lm.spinner_table = injected_module.spinner_table = lambda: kept
    try:
        yield kept
    finally:
        spin_lm.spinner_table, injected_module.spinner_table = saved


def split_table(part: str) -> dict[str, list[str]]:
    """original -> spun forms of one half, minus the forms the lexicon knows."""
    known = bench.cleaner_known_forms(lexicon_only=True)
    out: dict[str, list[str]] = {}
    for key, originals in spinner_table().items():
        for original in originals:
            if (part is None or half(key) == part) and not bench.heldout_pairs_ok({original: [key]}, known):
                out.setdefault(original, []).append(key)
    return out


def _spun_copies(table, paragraphs, copies: int) -> list:
    """(id, clean text, spun copy) for every paragraph the table changes, ``copies`` each."""
    distorter = Distorter(spin_table=table)
    items = []
    for pid, text in paragraphs:
        for copy in range(1, copies + 1):
            spun, records = distorter.distort(text, passage_rng(23, pid, copy), 0.5, ("spin",))
            if records:
                items.append((f"{pid}-c{copy}", text, spun))
    return items


def sources(copies: int = 2):
    paragraphs = bench.clean_paragraphs() + [(p, t) for p, t in bench.briefing_references() if p.endswith("-r1")]
    extra = [(p, t) for p, t in _third_references()]
    out = {}
    for part in ("a", "b"):
        out[f"table-split-{part}"] = (part, _spun_copies(split_table(part), paragraphs + extra, copies))
    out["table-known"] = (None, _spun_copies(split_table(None), paragraphs + extra, copies))
    items = []
    for seed in (23, 29):
        items += bench.wordnet_copies(paragraphs + extra, 0.15, copies, seed)
    out["wordnet-dev"] = (None, items)
    return out


def _third_references():
    import yaml

    refs = yaml.safe_load((bench.BRIEFING / "references.yaml").read_text(encoding="utf-8"))
    return [(f"{pid}-r{j}", text) for pid, texts in refs.items() for j, text in enumerate(texts, 1) if j >= 3]


def measure(chain, normalisers, srcs) -> list[dict]:
    rows = []
    for name, (part, items) in srcs.items():
        if part is None:
            rows.append(bench.spun_table(name, items, chain, normalisers))
        else:
            with table_without(part):
                rows.append(bench.spun_table(name, items, chain, normalisers))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--spin", default="", help="SpinCleaner options, k=v,k=v (floats or true/false)")
    parser.add_argument("--signals", action="store_true")
    args = parser.parse_args()
    options = {}
    for item in filter(None, args.spin.split(",")):
        k, v = item.split("=")
        options[k] = {"true": True, "false": False}.get(v.lower(), None) if v.lower() in ("true", "false") else float(v)
    chain = [build_cleaner(name, options if name == "spin" else None) for name in DEFAULT_CHAIN]
    normalisers = [build_cleaner("unicode"), build_cleaner("whitespace")]
    srcs = sources(args.copies)
    if args.signals:
        import dev_spin_signals  # bench/dev_spin_signals.py

        clean_texts = bench.clean_paragraphs() + bench.briefing_references() + _third_references()
        dev_spin_signals.report(srcs, table_without, clean_texts)
        return
    print(f"{'source':24} {'copies':>6} {'spun':>6} {'cleaned':>7} {'gain':>6} {'worse':>5} {'better':>6} "
          f"{'min gain':>8} {'edits':>6}")
    for row in measure(chain, normalisers, srcs):
        print(f"{row['source']:24} {row['copies']:6d} {row['spun']:6.1f} {row['cleaned']:7.1f} {row['gain']:+6.2f} "
              f"{row['worse']:5d} {row['better']:6d} {row['min_gain']:+8.2f} {row['edits']:6d}")
    clean_rows = bench.clean_paragraphs() + bench.briefing_references() + _third_references()
    summary, notes = bench.clean_table(clean_rows, chain, normalisers)
    print(f"clean: {summary['paragraphs']} paragraphs, {summary['changed']} changed, {summary['edits']} edits")
    for note in notes[:8]:
        print("  " + note)
    spin = next(c for c in chain if c.name == "spin")
    evidence = sorted(((spin.lm_evidence(t), pid) for pid, t in clean_rows), reverse=True)[:3]
    print("highest lm_evidence on clean text: " + ", ".join(f"{e:.2f} ({p})" for e, p in evidence)
          + f"; min_lm_evidence {spin.min_lm_evidence}")


if __name__ == "__main__":
    main()
