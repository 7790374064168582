"""Extract the parts of WordNet 3.0 that harness uses into small data files.

Debian's ``wordnet-base`` package holds the database (``/usr/share/wordnet``);
the pip packages that claim to bundle it are empty. Run this once after
``apt-get install wordnet-base`` and commit its output; harness never reads
``/usr/share/wordnet`` at run time.

Writes ``harness/data/wordnet/``:

* ``antonyms.tsv``: ``pos<TAB>word<TAB>antonym``, WordNet's direct (lexical)
  antonym pointers, both directions, lower-cased, spaces for underscores;
* ``synsets.tsv.gz``: one synset a line, ``pos<TAB>offset<TAB>word:rank ...``
  where ``rank`` is the synset's sense number for that word (1 = the word's
  most frequent sense), for synonym candidates;
* ``hypernyms.tsv.gz``: ``pos<TAB>offset<TAB>hypernym offsets``, each noun and
  verb synset's hypernyms (instance hypernyms too), for "is a kind of";
* ``derivations.tsv``: ``word<TAB>related``, WordNet's derivationally related
  forms ("support" / "supportive", "aggression" / "aggress"), both directions;
* ``pertainyms.tsv``: ``adjective<TAB>noun``, adjectives "of or relating to" a
  noun ("nigerian" -> "nigeria", "roman" -> "rome"), and nouns derived from a
  place name ("nigerian" -> "nigeria"), for names written as adjectives;
* ``similar.tsv``: ``word<TAB>sense rank<TAB>head``, each satellite adjective
  and the head adjective of its cluster ("distant" -> "far"), whose antonym
  it shares indirectly ("distant" / "nearby" through "far" / "near");
* ``LICENSE``: the WordNet 3.0 licence, as the data requires.

Usage: ``python tools/extract_wordnet.py [--wordnet-dir /usr/share/wordnet]``
"""

from __future__ import annotations

import argparse
import gzip
import re
from pathlib import Path

POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
OUT = Path(__file__).resolve().parents[1] / "harness" / "data" / "wordnet"
LICENSE_SOURCE = Path("/usr/share/doc/wordnet-base/copyright")


def lemma(word: str) -> str:
    word = re.sub(r"\([a-z]+\)$", "", word)  # adjective markers: (a), (p), (ip)
    return word.replace("_", " ").lower()


def sense_ranks(wordnet: Path, pos_name: str) -> dict[tuple[str, str], int]:
    """(word, synset offset) -> the word's sense number of that synset."""
    ranks: dict[tuple[str, str], int] = {}
    for line in (wordnet / f"index.{pos_name}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue  # the licence header
        fields = line.split()
        word, synset_cnt, p_cnt = fields[0], int(fields[2]), int(fields[3])
        offsets = fields[4 + p_cnt + 2:]
        for rank, offset in enumerate(offsets[:synset_cnt], start=1):
            ranks[(lemma(word), offset)] = rank
    return ranks


def parse_data(wordnet: Path, pos_name: str):
    """Yield (offset, ss_type, words, antonym pointers) for each synset."""
    for line in (wordnet / f"data.{pos_name}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        data = line.split(" | ")[0].split()
        offset, ss_type, w_cnt = data[0], data[2], int(data[3], 16)
        words = [data[4 + 2 * i] for i in range(w_cnt)]
        i = 4 + 2 * w_cnt
        p_cnt = int(data[i])
        pointers = []
        for k in range(p_cnt):
            symbol, target, target_pos, source_target = data[i + 1 + 4 * k: i + 5 + 4 * k]
            if symbol in ("!", "+", "\\"):
                pointers.append((symbol, target, target_pos, int(source_target[:2], 16), int(source_target[2:], 16)))
            elif symbol in ("@", "@i") and source_target == "0000":
                pointers.append(("@", target, target_pos, 0, 0))
            elif symbol == "&" and ss_type == "s" and source_target == "0000":
                pointers.append(("&", target, target_pos, 0, 0))
        yield offset, ss_type, words, pointers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet-dir", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    synsets: dict[tuple[str, str], list[str]] = {}
    pending = []
    synset_rows = []
    hypernyms: dict[tuple[str, str], list[str]] = {}
    satellites: list[tuple[str, int, str]] = []  # (satellite word, its sense rank, head synset offset)
    for pos, pos_name in POS_FILES.items():
        ranks = sense_ranks(args.wordnet_dir, pos_name)
        for offset, ss_type, words, pointers in parse_data(args.wordnet_dir, pos_name):
            synsets[(pos, offset)] = words
            ranked = [f"{lemma(w)}:{ranks.get((lemma(w), offset), 99)}" for w in words]
            synset_rows.append(f"{pos}\t{offset}\t{' '.join(r.replace(' ', '_') for r in ranked)}")
            for symbol, target, target_pos, source_n, target_n in pointers:
                if symbol == "@":
                    hypernyms.setdefault((pos, offset), []).append(target)
                    continue
                if symbol == "&":
                    satellites += [(lemma(w), ranks.get((lemma(w), offset), 99), target) for w in words]
                    continue
                pending.append((symbol, pos, words[source_n - 1], {"s": "a"}.get(target_pos, target_pos), target, target_n))

    pairs = set()
    derived = set()
    pertains = set()
    for symbol, pos, word, target_pos, target, target_n in pending:
        other = synsets[(target_pos, target)][target_n - 1]
        a, b = lemma(word), lemma(other)
        if a == b:
            continue
        if symbol == "!":
            pairs.add((pos, a, b))
            pairs.add((pos, b, a))
        elif symbol == "\\":
            if pos == "a" and word[:1].isupper() and other[:1].isupper():
                pertains.add((a, b))
        else:
            derived.add((a, b))
            derived.add((b, a))
    header = "# WordNet 3.0 direct antonyms (see LICENSE): pos, word, antonym\n"
    (OUT / "antonyms.tsv").write_text(header + "".join(f"{p}\t{a}\t{b}\n" for p, a, b in sorted(pairs)),
                                      encoding="utf-8")
    with gzip.GzipFile(OUT / "synsets.tsv.gz", "wb", mtime=0) as out:  # mtime 0: byte-identical reruns
        out.write(("# WordNet 3.0 synsets (see LICENSE): pos, offset, word:sense_rank (spaces as _)\n"
                   + "\n".join(synset_rows) + "\n").encode("utf-8"))
    with gzip.GzipFile(OUT / "hypernyms.tsv.gz", "wb", mtime=0) as out:
        out.write(("# WordNet 3.0 hypernyms (see LICENSE): pos, offset, hypernym offsets\n"
                   + "".join(f"{p}\t{o}\t{' '.join(h)}\n" for (p, o), h in sorted(hypernyms.items()))).encode("utf-8"))
    (OUT / "derivations.tsv").write_text(
        "# WordNet 3.0 derivationally related forms (see LICENSE): word, related\n"
        + "".join(f"{a}\t{b}\n" for a, b in sorted(derived)), encoding="utf-8")
    (OUT / "pertainyms.tsv").write_text(
        "# WordNet 3.0 pertainyms of capitalised adjectives (see LICENSE): adjective, noun\n"
        + "".join(f"{a}\t{b}\n" for a, b in sorted(pertains)), encoding="utf-8")
    # a satellite adjective ("distant") takes the antonyms of its cluster's head
    # ("far" <-> "near"): WordNet's indirect antonymy
    antonymous = {a for p, a, _ in pairs if p == "a"}
    similar = sorted({(word, rank, lemma(head)) for word, rank, target in satellites
                      for head in synsets[("a", target)] if lemma(head) in antonymous and lemma(head) != word})
    (OUT / "similar.tsv").write_text(
        "# WordNet 3.0 satellite adjectives and the head of their cluster (see LICENSE): word, sense rank, head\n"
        + "".join(f"{w}\t{r}\t{h}\n" for w, r, h in similar), encoding="utf-8")
    (OUT / "LICENSE").write_text(LICENSE_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"{len(pairs)} antonym pairs, {len(derived)} derivations, {len(synset_rows)} synsets -> {OUT}")


if __name__ == "__main__":
    main()
