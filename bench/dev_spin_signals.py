"""Which signals tell a spun word and its original apart (``python bench/dev_spin.py --signals``).

On the development copies of ``bench/dev_spin.py`` spun by the WordNet
spinner (seeds 23 and 29; every swap is one word for one word, so a word of
the copy was spun exactly where it differs from the original), every word
the generic pass may consider gets its best WordNet candidate by the
language model, with the margins off. A *restoration* is a spun word whose
best candidate is its original; an *other* is a spun word whose best
candidate is another word; a *false* is a word that was not spun.

For each signal the script prints its values' mean per class and how many
restorations and falses a threshold on it keeps (each threshold on its own,
and combined with the cleaner's present conditions):

* ``gain``: the LM's SLOR gain of the candidate (:meth:`NgramModel.compare`);
* ``fit``: SLOR of the word that stands there, at its seams (low: it fits badly);
* ``zipf``: wordfreq Zipf of the candidate minus that of the word (spinners
  pick entries of any frequency, writers use common words);
* ``senses``: the number of WordNet synonyms of the candidate (a context-blind
  spinner given the candidate picks the word with probability 1/n);
* ``rank``: the lowest sense rank of the candidate in a synset it shares with
  the word (1: the candidate's commonest sense; round trip: a writer meant
  the candidate in the sense that the spinner's synonym also has);
* ``colloc``: the best bigram SLOR of the candidate with either neighbour
  minus that of the word (collocation).
"""

from __future__ import annotations

import gzip
import re
import statistics
from functools import lru_cache

from harness.cleaners import build_cleaner
from harness.cleaners.langmodel import BOS, EOS, get_model
from harness.cleaners.spin_lm import _FUNCTION_WORDS, _QuoteParity, _protected, _sentences, _WORDNET_MAX_RARER
from harness.cleaners.thesaurus import base_forms, candidates, data_path  # noqa: F401
from harness.cleaners.injected import zipf

_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=1)
def sense_ranks() -> dict[tuple[str, str], int]:
    """(word, other word) -> lowest sense rank of ``word`` in a synset it shares with ``other``."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "harness" / "data" / "wordnet" / "synsets.tsv.gz"
    out: dict[tuple[str, str], int] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            items = line.rstrip("\n").split("\t")[2].split(" ")
            pairs = [(w.rpartition(":")[0].replace("_", " ").lower(), int(w.rpartition(":")[2] or 99)) for w in items]
            for a, ra in pairs:
                for b, _ in pairs:
                    if a != b and out.get((a, b), 99) > ra:
                        out[(a, b)] = ra
    return out


def _rank(candidate: str, word: str) -> int:
    ranks = sense_ranks()
    best = 99
    for cb, cs in base_forms(candidate):
        for wb, ws in base_forms(word):
            if cs == ws:
                best = min(best, ranks.get((cb, wb), 99))
    return best


def rows_of(items, model):
    normalisers = [build_cleaner("unicode"), build_cleaner("whitespace")]
    from harness.cleaners import run_chain

    rows = []
    for _pid, original, spun in items:
        original = run_chain(normalisers, original)[0]
        spun = run_chain(normalisers, spun)[0]
        o_words = _WORD.findall(original)
        s_matches = list(_WORD.finditer(spun))
        if len(o_words) != len(s_matches):
            continue
        truth = {m.start(): o.lower() for o, m in zip(o_words, s_matches) if o != m.group()}
        quotes = _QuoteParity(spun)
        for run in _sentences(spun):
            words = [BOS] + [t.lower for t in run] + [EOS]
            for i, token in enumerate(run):
                if token.lower in _FUNCTION_WORDS or len(token.lower) < 3 or not token.text.isalpha():
                    continue
                if _protected(spun, token, i == 0, quotes) or not model.known(token.lower):
                    continue
                floor = model.unigram(token.lower) - _WORDNET_MAX_RARER
                options = {o for o in candidates(token.lower, model.known)
                           if " " not in o and o not in _FUNCTION_WORDS}
                if not options:
                    continue
                scored = sorted(((model.compare(words, i + 1, i + 2, [o]), o) for o in options), reverse=True)
                gain, best = scored[0]
                fit = model.slor(words, i + 1, i + 2) + model.slor(words, i + 2, i + 4)
                left = model.slor(words, i + 1, i + 2)
                right = model.slor(words, i + 2, i + 3)
                new = words[:i + 1] + [best] + words[i + 2:]
                colloc = max(model.slor(new, i + 1, i + 2), model.slor(new, i + 2, i + 3)) - max(left, right)
                truth_word = truth.get(token.start)
                label = "false" if truth_word is None else ("restore" if best == truth_word else "other")
                rows.append({
                    "label": label, "gain": gain, "fit": fit,
                    "zipf": zipf(best, "en") - zipf(token.lower, "en"),
                    "senses": len(candidates(best, model.known)), "rank": _rank(best, token.lower),
                    "colloc": colloc, "rarer_ok": model.unigram(best) >= floor,
                    "second": gain - scored[1][0] if len(scored) > 1 else gain,
                    "word": token.lower, "best": best, "truth": truth_word,
                })
    return rows


def report(srcs, table_without, clean_texts=()) -> None:
    model = get_model()
    items = srcs["wordnet-dev"][1]
    rows = rows_of(items, model)
    clean_rows = rows_of([(pid, text, text) for pid, text in clean_texts], model)
    labels = ("restore", "other", "false")
    count = {lab: sum(r["label"] == lab for r in rows) for lab in labels}
    print(f"{len(rows)} words considered on {len(items)} WordNet-spun dev copies: "
          + ", ".join(f"{lab} {count[lab]}" for lab in labels)
          + f" (spun words without their original among the candidates: "
          f"{sum(1 for r in rows if r['truth'] and r['label'] == 'other')})")
    signals = ("gain", "fit", "zipf", "senses", "rank", "colloc", "second")
    print(f"{'signal':8} " + " ".join(f"{lab:>9}" for lab in labels) + "   (means)")
    for s in signals:
        print(f"{s:8} " + " ".join(f"{statistics.mean(r[s] for r in rows if r['label'] == lab):9.2f}" for lab in labels))

    def kept(rule) -> str:
        sel = [r for r in rows if rule(r)]
        c = {lab: sum(r["label"] == lab for r in sel) for lab in labels}
        prec = c["restore"] / max(1, len(sel))
        fires = sum(1 for r in clean_rows if rule(r))
        return (f"restore {c['restore']:4d} other {c['other']:4d} false {c['false']:4d} precision {prec:5.1%}"
                f"  clean-text fires {fires}")

    print(f"(clean text: {len(clean_rows)} words of {len(clean_texts)} clean paragraphs)")
    present = lambda r: r["rarer_ok"] and r["gain"] >= 7.0 and r["fit"] < 0.0  # noqa: E731
    print("\nthe present rule (gain >= 7, fit < 0, candidate at most 1 nat rarer): " + kept(present))
    for g in (3.0, 4.0, 5.0, 6.0, 7.0):
        print(f"gain >= {g} alone:                               " + kept(lambda r, g=g: r["gain"] >= g))
    for g in (4.0, 5.0, 6.0):
        base = lambda r, g=g: r["rarer_ok"] and r["gain"] >= g and r["fit"] < 0.0  # noqa: E731
        print(f"gain >= {g}, fit < 0, rarer_ok:                   " + kept(base))
        print(f"  + rank 1:                                    " + kept(lambda r, b=base: b(r) and r["rank"] == 1))
        print(f"  + rank <= 2:                                 " + kept(lambda r, b=base: b(r) and r["rank"] <= 2))
        print(f"  + zipf >= 0:                                 " + kept(lambda r, b=base: b(r) and r["zipf"] >= 0))
        print(f"  + zipf >= 0.5:                               " + kept(lambda r, b=base: b(r) and r["zipf"] >= 0.5))
        print(f"  + colloc >= 2:                               " + kept(lambda r, b=base: b(r) and r["colloc"] >= 2))
        print(f"  + second >= 2:                               " + kept(lambda r, b=base: b(r) and r["second"] >= 2))
        print(f"  + rank 1 + zipf >= 0:                        "
              + kept(lambda r, b=base: b(r) and r["rank"] == 1 and r["zipf"] >= 0))
    print("\ncombined (frequency and distinctiveness), fit < 0, rarer_ok:")
    for a, t, second in ((1, 7, 2), (2, 7, 2), (2, 8, 2), (3, 8, 2), (2, 7, 1), (2, 7, 0)):
        print(f"gain + {a} * zipf >= {t}, second >= {second}:             "
              + kept(lambda r, a=a, t=t, s=second: r["rarer_ok"] and r["fit"] < 0 and r["gain"] + a * r["zipf"] >= t
                     and r["second"] >= s))
