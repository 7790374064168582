"""Development set for the ``injected`` cleaner's filler-clause rule (issue 19).

Kept apart from ``bench/data/injections.yaml`` (the held-out measure): these
filler clauses were written for tuning, and are inserted into the clean
paragraphs with another seed. ``python bench/dev_fillers.py`` prints the
filler recall on this set and the highest score of a candidate span of the
clean paragraphs and spun copies that the spaCy checks accept, for each of
the two margins (``clause_margin``, ``seam_margin``).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.distort import split_sentences  # noqa: E402

DEV_FILLERS = [
    "and you are going to love it", "this is something everyone should see", "we all know how much it matters",
    "that is why so many people choose us", "it only takes a few minutes", "there is nothing quite like it",
    "this is the best deal around", "many people have already tried it", "you can read all about it below",
    "it is one of the best things ever", "so do not wait any longer", "sign up now and save big",
    "nothing could be easier than this", "this is what everyone wants", "it has never been so simple",
    "and it is completely free of charge", "read on to learn more", "people are saying great things",
    "it really is that simple", "they will be glad they did", "this one is a real winner",
    "it works every single time", "we are sure you will agree", "and the results speak for themselves",
    "it is a great way to relax", "there has never been a better time", "everybody loves a good bargain",
    "it makes a perfect gift", "the whole family will enjoy it", "and that is not all",
    "believe me it is worth it", "what more could you ask for", "so why not give it a go",
    "it is easier than you think", "nobody does it better", "this will change your life",
    # added for the bond-breaking clauses (issue 19, second round); appended, so that
    # the insertions of the phrases above stay where they were
    "you will not find a better one", "everyone is talking about it", "it is the talk of the town",
    "people just cannot get enough of it", "nothing else comes close", "we think it is a winner",
    "this is the smart choice", "it is quick and easy to use", "they have thought of everything",
    "it is worth every penny", "you deserve the very best", "our customers keep coming back",
]


def dev_insertions(paragraphs, seed: int = 7, per_phrase: int = 2):
    rng = random.Random(f"dev-fillers\x1f{seed}")
    out = []
    for phrase in DEV_FILLERS:
        for _ in range(per_phrase):
            pid, text = paragraphs[rng.randrange(len(paragraphs))]
            gaps = [start + gap.start() for start, end in split_sentences(text)
                    for gap in re.finditer(r"(?<=[a-z]) (?=[a-z])", text[start:end])]
            if not gaps:
                continue
            at = rng.choice(gaps)
            out.append((phrase, text, text[:at] + " " + phrase + text[at:]))
    return out


def main() -> None:
    import importlib.util

    from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain
    from harness.cleaners.injected import InjectedCleaner

    spec = importlib.util.spec_from_file_location("bench_cleaners", ROOT / "bench" / "bench_cleaners.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    chain = [build_cleaner(name) for name in DEFAULT_CHAIN]
    normalisers = [build_cleaner("unicode"), build_cleaner("whitespace")]

    def normal(text: str) -> str:
        return run_chain(normalisers, text)[0]

    paragraphs = bench.clean_paragraphs()
    removed = exact = 0
    items = dev_insertions(paragraphs)
    for phrase, original, spammed in items:
        cleaned, _ = run_chain(chain, spammed)
        removed += phrase not in cleaned
        exact += cleaned == normal(original)
    print(f"dev filler clauses: {len(items)} inserted, {removed} removed, {exact} exact")

    # the calibration set of clause_margin: clean paragraphs, the briefing and spun copies (seed 23,
    # not the benchmark's 19): the highest score of a clause that the spaCy checks accept
    sources = paragraphs + [(pid, text) for pid, text in bench.briefing_references() if pid.endswith("-r1")]
    texts = [text for _, text in paragraphs + bench.briefing_references()]
    texts += (bench.BRIEFING / "transcript.txt").read_text(encoding="utf-8").split("\n")
    texts += [s for _, _, s in bench.heldout_copies(sources, 0.5, 2, 23, bench.minus_lexicon_table())]
    texts += [s for _, _, s in bench.heldout_copies(sources, 0.5, 2, 23)]
    texts += [s for _, _, s in bench.wordnet_copies(sources, 0.15, 2, 23)]
    default = InjectedCleaner()
    texts = [normal(t) for t in texts]
    for label, probe, margin in (
            ("clause", InjectedCleaner(filler_margin=99.0, clause_margin=0.0, seam_margin=99.0), "clause_margin"),
            ("bond-breaking clause", InjectedCleaner(filler_margin=99.0, clause_margin=99.0, seam_margin=0.0),
             "seam_margin")):
        best = max(((score, t[start:end]) for t in texts
                    for score, start, end, kind in probe._insertion_candidates(t) if kind == "filler"),
                   default=(float("-inf"), ""))
        print(f"calibration: {len(texts)} clean and spun texts; highest {label} score {best[0]:.2f} "
              f"({best[1]!r}); {margin} {getattr(default, margin)}")


if __name__ == "__main__":
    main()
