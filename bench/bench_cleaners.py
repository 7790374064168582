"""How well the built-in cleaners work on spun text they have never seen (issue 19).

Per source, a table of what the default cleaner chain does:

* spun copies (chrF++ towards the clean original; positive gain = closer):
  ``distort-minus-lexicon``  clean paragraphs spun by ``harness distort``'s spinner
                       with its own table (``harness/data/distort_spin.yaml``, written
                       apart from the cleaner) minus every swap the lexicon knows:
                       text the lexicon never saw (the issue's held-out set);
  ``heldout-strict``   the same with ``bench/data/heldout_spin.yaml``: the distorter's
                       table minus every swap the cleaner holds in any table (lexicon,
                       spinner-style candidates), so only the generic parts can help;
  ``wordnet-spinner``  the same paragraphs spun by a thesaurus spinner that
                       swaps words for a WordNet synonym of *any* sense, the
                       way a spinner ignores context;
  ``seed``             the bundled briefing (chrF++ towards its references;
                       the cleaner's lexicon was written from it: not held out);
* spam insertions (``bench/data/injections.yaml``, none of them in the cleaner's
  data): recall by kind, and how many came out exactly as the original;
* clean paragraphs (``bench/data/clean_paragraphs.jsonl`` and the briefing's
  references): edits beyond the documented normalisations (quotes, spacing);
* ``harness clean`` on the briefing: wall time against another install
  (``--baseline``, by default the main worktree's), median of ``--runs``.

    python bench/bench_cleaners.py                     # everything
    python bench/bench_cleaners.py --no-timing --copies 1
    python bench/bench_cleaners.py --write-heldout-table   # rebuild the held-out table
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
from collections import Counter
import subprocess
import sys
import time
from pathlib import Path

import sacrebleu
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.cleaners import DEFAULT_CHAIN, build_cleaner, run_chain  # noqa: E402
from harness.distort import Distorter, load_spin_table, passage_rng, split_sentences  # noqa: E402

DATA = ROOT / "bench" / "data"
BRIEFING = ROOT / "references" / "briefing"
HELDOUT_TABLE = DATA / "heldout_spin.yaml"
WORDNET = ROOT / "harness" / "data" / "wordnet" / "synsets.tsv.gz"


def chrf_pp(hypothesis: str, references: list[str]) -> float:
    return sacrebleu.sentence_chrf(hypothesis, references, word_order=2).score


# --------------------------------------------------------------------------
# Corpora
# --------------------------------------------------------------------------

def clean_paragraphs() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (DATA / "clean_paragraphs.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [(row["id"], row["text"]) for row in rows]


def briefing_references() -> list[tuple[str, str]]:
    refs = yaml.safe_load((BRIEFING / "references.yaml").read_text(encoding="utf-8"))
    return [(f"{pid}-r{j}", text) for pid, texts in refs.items() for j, text in enumerate(texts[:2], 1)]


def cleaner_known_forms(lexicon_only: bool = False) -> set[str]:
    """Spun forms the cleaner knows: the lexicon's spun forms and (unless
    ``lexicon_only``) the spinner table's keys."""
    from harness.cleaners.lexicon import load_lexicon
    from harness.cleaners.thesaurus import spinner_table

    known = set() if lexicon_only else set(spinner_table())
    for rule in load_lexicon().rules:
        for form in re.split(r"\s*/\s*|\(.*?\)", rule.spun.lower()):
            form = " ".join(w for w in form.split() if not w.startswith("<"))
            if form:
                known.add(form)
        known.add(" ".join(rule.example[0].lower().split()))
    return known


def heldout_pairs_ok(table: dict[str, list[str]], known: set[str]) -> list[str]:
    """Problems: held-out pairs whose spun form the cleaner knows."""
    problems = []
    knowns = [k for k in known if " " in k or len(k) > 2]
    for key, values in table.items():
        for value in values:
            v = value.lower()
            if v in known or any(f" {k} " in f" {v} " for k in knowns if " " in k):
                problems.append(f"{key} -> {value}")
    return problems


def write_heldout_table() -> None:
    from harness.cleaners.thesaurus import spinner_table

    known = cleaner_known_forms()
    table = load_spin_table()
    swaps = spinner_table()
    heldout: dict[str, list[str]] = {}
    for key, values in table.items():
        kept = [v for v in values if not heldout_pairs_ok({key: [v]}, known) and key not in swaps.get(v.lower(), ())]
        if kept:
            heldout[key] = kept
    header = (
        "# Held-out swap table of bench/bench_cleaners.py (source `heldout-table`), written by\n"
        "# `python bench/bench_cleaners.py --write-heldout-table`: harness/data/distort_spin.yaml minus every\n"
        "# pair whose spun form the spin cleaner knows (a key of harness/data/spin_candidates.yaml, a spun form\n"
        "# of harness/data/spin_lexicon.yaml). tests/test_cleaners_generalise.py checks that it stays disjoint.\n"
    )
    body = yaml.safe_dump({"version": 1, "substitutions": heldout}, allow_unicode=True, sort_keys=False, width=120)
    HELDOUT_TABLE.write_text(header + body, encoding="utf-8")
    print(f"wrote {HELDOUT_TABLE}: {len(heldout)} keys, {sum(map(len, heldout.values()))} swaps "
          f"(of {len(table)} keys, {sum(map(len, table.values()))} swaps)")


def minus_lexicon_table() -> dict[str, list[str]]:
    """The distorter's own table minus the swaps whose spun form the lexicon knows."""
    known = cleaner_known_forms(lexicon_only=True)
    table = {}
    for key, values in load_spin_table().items():
        kept = [v for v in values if not heldout_pairs_ok({key: [v]}, known)]
        if kept:
            table[key] = kept
    return table


def heldout_copies(paragraphs, rate: float, copies: int, seed: int, table=None) -> list[tuple[str, str, str]]:
    table = load_spin_table(HELDOUT_TABLE) if table is None else table
    distorter = Distorter(spin_table=table)
    out = []
    for pid, text in paragraphs:
        for copy in range(1, copies + 1):
            spun, records = distorter.distort(text, passage_rng(seed, pid, copy), rate, ("spin",))
            if records:
                out.append((f"{pid}-c{copy}", text, spun))
    return out


_WORD = re.compile(r"[A-Za-z]+")
_TOKENS = re.compile(r"\w+")


def _wordnet_synonyms() -> dict[str, list[str]]:
    index: dict[str, set[str]] = {}
    with gzip.open(WORDNET, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            words = [item.rpartition(":")[0] for item in line.rstrip("\n").split("\t")[2].split(" ")]
            words = [w for w in words if w.isalpha() and w.islower()]
            for w in words:
                index.setdefault(w, set()).update(x for x in words if x != w)
    return {w: sorted(s) for w, s in index.items() if s}


def wordnet_copies(paragraphs, rate: float, copies: int, seed: int) -> list[tuple[str, str, str]]:
    """A context-blind thesaurus spinner: each lower-case word of 3+ letters that
    WordNet lists is swapped, with probability ``rate``, for one of its synonyms
    of any sense (the way spinners pick entries)."""
    from wordfreq import zipf_frequency

    synonyms = _wordnet_synonyms()
    out = []
    for pid, text in paragraphs:
        for copy in range(1, copies + 1):
            rng = random.Random(f"wordnet-spinner\x1f{seed}\x1f{pid}\x1f{copy}")
            pieces, cursor, changed = [], 0, False
            for match in _WORD.finditer(text):
                word = match.group()
                options = synonyms.get(word)
                draw, which = rng.random(), rng.random()
                if not options or len(word) < 3 or not word.islower() or draw >= rate:
                    continue
                # spinners' thesauri list real words: skip synonyms too rare to be an entry
                options = [o for o in options if zipf_frequency(o, "en") >= 2.5]
                if not options:
                    continue
                pieces.append(text[cursor:match.start()])
                pieces.append(options[min(int(which * len(options)), len(options) - 1)])
                cursor = match.end()
                changed = True
            pieces.append(text[cursor:])
            if changed:
                out.append((f"{pid}-w{copy}", text, "".join(pieces)))
    return out


def injected_copies(paragraphs, seed: int) -> list[tuple[str, str, str, str]]:
    """(kind, phrase, clean, with the phrase inserted)."""
    spec = yaml.safe_load((DATA / "injections.yaml").read_text(encoding="utf-8"))
    rng = random.Random(f"injections\x1f{seed}")
    out = []
    for kind in ("keyword", "foreign", "filler"):
        for phrase in spec[kind]:
            for _attempt in range(200):
                pid, text = paragraphs[rng.randrange(len(paragraphs))]
                if kind == "foreign":
                    places = [m for name in spec["place_names"]
                              for m in re.finditer(rf"\b{re.escape(name)}\b(?=[ ,.;])", text)]
                    if not places:
                        continue
                    at = rng.choice(places).end()
                    out.append((kind, phrase, text, text[:at] + " " + phrase + text[at:]))
                    break
                # between two lower-case words inside a sentence, not next to punctuation
                gaps = []
                for start, end in split_sentences(text):
                    for gap in re.finditer(r"(?<=[a-z]) (?=[a-z])", text[start:end]):
                        gaps.append(start + gap.start())
                if not gaps:
                    continue
                at = rng.choice(gaps)
                out.append((kind, phrase, text, text[:at] + " " + phrase + text[at:]))
                break
    return out


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

def normalised(text: str, normalisers) -> str:
    out, _ = run_chain(normalisers, text)
    return out


def spun_table(name: str, items, chain, normalisers) -> dict:
    """chrF++ towards the original; the documented normalisations (quotes,
    spacing) are applied to the original and to the spun copy before it is
    scored, so that they count neither as damage nor as gain."""
    gains, worse, better, before_scores, after_scores, edits = [], 0, 0, [], [], 0
    by_cleaner: Counter = Counter()
    for _id, original, spun in items:
        original = normalised(original, normalisers)
        cleaned, passage_edits = run_chain(chain, spun)
        edits += len(passage_edits)
        by_cleaner.update(e["cleaner"] for e in passage_edits)
        before, after = chrf_pp(normalised(spun, normalisers), [original]), chrf_pp(cleaned, [original])
        before_scores.append(before)
        after_scores.append(after)
        gains.append(after - before)
        worse += after < before - 1e-9
        better += after > before + 1e-9
    return {"source": name, "copies": len(items), "spun": statistics.mean(before_scores),
            "cleaned": statistics.mean(after_scores), "gain": statistics.mean(gains), "worse": worse,
            "better": better, "min_gain": min(gains), "edits": edits,
            "injected_edits": by_cleaner["injected"]}


def seed_table(chain) -> dict:
    passages = (BRIEFING / "transcript.txt").read_text(encoding="utf-8").split("\n")
    refs = yaml.safe_load((BRIEFING / "references.yaml").read_text(encoding="utf-8"))
    items = [(f"p{i + 1:02d}", refs[f"p{i + 1:02d}"], text) for i, text in enumerate(passages)]
    gains, worse, before_scores, after_scores, edits = [], 0, [], [], 0
    for _id, references, spun in items:
        cleaned, passage_edits = run_chain(chain, spun)
        edits += len(passage_edits)
        before, after = chrf_pp(spun, references), chrf_pp(cleaned, references)
        before_scores.append(before)
        after_scores.append(after)
        gains.append(after - before)
        worse += after < before - 1e-9
    return {"source": "seed (not held out)", "copies": len(items), "spun": statistics.mean(before_scores),
            "cleaned": statistics.mean(after_scores), "gain": statistics.mean(gains), "worse": worse,
            "better": len(items) - worse, "min_gain": min(gains), "edits": edits,
            "injected_edits": sum(e["cleaner"] == "injected" for e in run_chain(chain, spun)[1]
                                  for _id, _refs, spun in items)}


def injection_table(items, chain, normalisers) -> tuple[list[dict], list[str]]:
    rows, misses = {}, []
    for kind, phrase, clean, spammed in items:
        cleaned, _ = run_chain(chain, spammed)
        original = normalised(clean, normalisers)
        row = rows.setdefault(kind, {"kind": kind, "inserted": 0, "removed": 0, "exact": 0})
        row["inserted"] += 1
        # removed: no word of the phrase is left over (beyond the original's own words)
        extra = Counter(_TOKENS.findall(cleaned.lower())) - Counter(_TOKENS.findall(original.lower()))
        removed = not any(extra[w] for w in _TOKENS.findall(phrase.lower()))
        exact = cleaned == original
        row["removed"] += removed
        row["exact"] += exact
        if not removed or not exact:
            misses.append(f"{kind}: {phrase!r} {'kept' if not removed else 'removed, but'} -> {cleaned[:160]!r}")
    return list(rows.values()), misses


def clean_table(paragraphs, chain, normalisers) -> tuple[dict, list[str]]:
    changed, edits, notes = 0, 0, []
    for pid, text in paragraphs:
        cleaned, passage_edits = run_chain(chain, text)
        content = [e for e in passage_edits if e["cleaner"] not in ("unicode", "whitespace")]
        if cleaned != normalised(text, normalisers) or content:
            changed += 1
            edits += len(content)
            notes += [f"{pid}: {e['cleaner']} {e['rule']}: {e['before']!r} -> {e['after']!r}" for e in content]
    return {"paragraphs": len(paragraphs), "changed": changed, "edits": edits}, notes


def time_clean(harness: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([harness, "clean", str(BRIEFING / "transcript.txt")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.5, help="spin rate of the held-out tables (default 0.5)")
    parser.add_argument("--wordnet-rate", type=float, default=0.15, help="swap rate of the WordNet spinner")
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of harness clean per install")
    parser.add_argument("--baseline", default="/work/main/.venv/bin/harness",
                        help="the harness executable to compare the clean time with")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--show", type=int, default=8, help="misses and edits to list")
    parser.add_argument("--write-heldout-table", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    args = parser.parse_args()

    if args.write_heldout_table:
        write_heldout_table()
        return
    problems = heldout_pairs_ok(load_spin_table(HELDOUT_TABLE), cleaner_known_forms())
    if problems:
        raise SystemExit(f"held-out table overlaps the cleaner: {problems[:5]} (rebuild with --write-heldout-table)")

    chain = [build_cleaner(name) for name in DEFAULT_CHAIN]
    normalisers = [build_cleaner("unicode"), build_cleaner("whitespace")]
    paragraphs = clean_paragraphs()
    spun_sources = paragraphs + [(pid, text) for pid, text in briefing_references() if pid.endswith("-r1")]

    results: dict = {"spun": [], "injected": [], "clean": None, "timing": None}
    start = time.perf_counter()
    results["spun"].append(spun_table("distort-minus-lexicon", heldout_copies(
        spun_sources, args.rate, args.copies, args.seed, minus_lexicon_table()), chain, normalisers))
    results["spun"].append(spun_table("heldout-strict", heldout_copies(spun_sources, args.rate, args.copies,
                                                                       args.seed), chain, normalisers))
    results["spun"].append(spun_table("wordnet-spinner", wordnet_copies(spun_sources, args.wordnet_rate,
                                                                        args.copies, args.seed), chain, normalisers))
    results["spun"].append(seed_table(chain))
    print(f"spun text: rate {args.rate} (distorter tables), {args.wordnet_rate} (WordNet spinner), "
          f"{args.copies} copies of {len(spun_sources)} paragraphs; chrF++ towards the clean original")
    print(f"{'source':24} {'copies':>6} {'spun':>6} {'cleaned':>7} {'gain':>6} {'worse':>5} {'better':>6} "
          f"{'min gain':>8} {'edits':>6} {'injected':>8}")
    for row in results["spun"]:
        print(f"{row['source']:24} {row['copies']:6d} {row['spun']:6.1f} {row['cleaned']:7.1f} {row['gain']:+6.2f} "
              f"{row['worse']:5d} {row['better']:6d} {row['min_gain']:+8.2f} {row['edits']:6d} "
              f"{row['injected_edits']:8d}")
    print("(injected: edits of the injected cleaner; the spun copies hold no spam, so each is a false removal)")

    rows, misses = injection_table(injected_copies(paragraphs, args.seed), chain, normalisers)
    results["injected"] = rows
    print("\nspam insertions (held out): removed = the phrase is gone; exact = the paragraph is the original again")
    print(f"{'kind':10} {'inserted':>8} {'removed':>7} {'recall':>7} {'exact':>5}")
    for row in rows:
        print(f"{row['kind']:10} {row['inserted']:8d} {row['removed']:7d} {row['removed'] / row['inserted']:7.0%} "
              f"{row['exact']:5d}")
    total = sum(r["inserted"] for r in rows)
    print(f"{'all':10} {total:8d} {sum(r['removed'] for r in rows):7d} "
          f"{sum(r['removed'] for r in rows) / total:7.0%} {sum(r['exact'] for r in rows):5d}")
    for miss in misses[:args.show]:
        print("  " + miss)

    clean_rows = paragraphs + briefing_references()
    summary, notes = clean_table(clean_rows, chain, normalisers)
    results["clean"] = summary
    print(f"\nclean paragraphs ({len(paragraphs)} news and transcript paragraphs + {len(clean_rows) - len(paragraphs)} "
          f"briefing references): {summary['changed']} changed beyond quotes/spacing, {summary['edits']} edits")
    for note in notes[:args.show]:
        print("  " + note)
    print(f"(quality part: {time.perf_counter() - start:.1f} s)")

    if not args.no_timing:
        here = str(ROOT / ".venv" / "bin" / "harness")
        time_clean(here, 1)
        baseline = None
        if Path(args.baseline).exists():
            time_clean(args.baseline, 1)
            baseline = time_clean(args.baseline, args.runs)
        now = time_clean(here, args.runs)
        results["timing"] = {"this": now, "baseline": baseline}
        ratio = f", {now / baseline:.2f}x" if baseline else ""
        print(f"\nharness clean on the briefing: {now:.2f} s (median of {args.runs})"
              + (f"; baseline {args.baseline}: {baseline:.2f} s{ratio}" if baseline else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
