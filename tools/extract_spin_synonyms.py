"""Derive the ``spin`` cleaner's synonym index from the WordNet extract.

Reads ``harness/data/wordnet/synsets.tsv.gz`` (written by
``tools/extract_wordnet.py``; its format is shared with other parts of
harness and stays as it is) and writes ``harness/data/spin_synonyms.tsv.gz``:
one line per word, ``word<TAB>pos:synonym,synonym;pos:...``, where every
synonym shares a WordNet synset of that part of speech with the word. Only
words of one or two tokens that the cleaners' language model knows are kept
(the cleaner can score no other), so the file loads in a few hundredths of a
second instead of the second the full synset list takes.

Usage: ``python tools/extract_spin_synonyms.py`` (needs ``pocketsphinx``).
"""

from __future__ import annotations

import gzip
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.cleaners.langmodel import get_model  # noqa: E402

SOURCE = ROOT / "harness" / "data" / "wordnet" / "synsets.tsv.gz"
OUT = ROOT / "harness" / "data" / "spin_synonyms.tsv.gz"


def _write_gz(path: Path, text: str) -> None:
    """Deterministic gzip (no time stamp): the same input gives the same bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))


def main() -> None:
    model = get_model()
    if model is None:
        raise SystemExit("pocketsphinx is not installed")

    def usable(word: str) -> bool:
        parts = word.split(" ")
        return len(parts) <= 2 and all(p.isalpha() and p.islower() and model.known(p) for p in parts)

    synonyms: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with gzip.open(SOURCE, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            pos, _, members = line.rstrip("\n").split("\t")
            pos = "a" if pos == "s" else pos
            words = sorted({item.rpartition(":")[0].replace("_", " ") for item in members.split(" ")})
            words = [w for w in words if usable(w)]
            for word in words:
                for other in words:
                    if other != word:
                        synonyms[word][pos].add(other)
    lines = []
    for word in sorted(synonyms):
        parts = [f"{pos}:{','.join(sorted(others))}" for pos, others in sorted(synonyms[word].items()) if others]
        if parts:
            lines.append(f"{word}\t{';'.join(parts)}")
    header = ("# WordNet 3.0 synonyms (see wordnet/LICENSE) of words the cleaners' language model knows: "
              "word<TAB>pos:synonym,...;pos:... (tools/extract_spin_synonyms.py)\n")
    _write_gz(OUT, header + "\n".join(lines) + "\n")
    print(f"{OUT}: {len(lines)} words")



if __name__ == "__main__":
    main()
