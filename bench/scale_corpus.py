"""Corpora of any size for the scale benchmark, made by ``harness distort``.

The clean passages are the *sentences* of the bundled briefing's references
(62 sentences, 143 characters on average), so that a 10,000-passage corpus
can go through the full scoring pipeline on two cores in minutes; the
briefing's own passages (about 600 characters, three references each) cost
TER alone several seconds apiece.

``harness distort --copies K --max-passages 50`` writes K distorted copies of
each of the first 50 clean sentences. Its files list the copies of one
sentence together; they are reordered copy-major (copy 1 of every sentence,
then copy 2, ...) so that every 32-passage chunk of the 1,000- and the
10,000-passage corpus holds the same mix of sentences, and the two differ
only in length.

    python bench/scale_corpus.py 1000 /tmp/corpus-1k
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "references" / "briefing" / "references.yaml"
CLEAN_SENTENCES = 50
_COPY = re.compile(r"-c(\d+)$")


def write_clean_sentences(path: Path) -> int:
    """The briefing's reference sentences as a JSONL transcript; returns how many."""
    from harness.commands.distort import read_clean_passages
    from harness.translate.sentences import segment_text

    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for pid, text, _ in read_clean_passages(REFERENCES):
            for j, segment in enumerate(segment_text(text, "en").segments, start=1):
                handle.write(json.dumps({"id": f"{pid}-s{j}", "text": segment.text}, ensure_ascii=False) + "\n")
                count += 1
    return count


def _copy_major(path: Path) -> None:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    order = sorted(range(len(records)), key=lambda i: (int(_COPY.search(records[i]["id"]).group(1)), i))
    path.write_text("".join(json.dumps(records[i], ensure_ascii=False) + "\n" for i in order), encoding="utf-8")


def build_corpus(passages: int, out_dir: Path, *, rate: float = 0.2, seed: int = 0, harness: str = "harness") -> list[str]:
    """Write ``passages`` distorted passages to ``out_dir`` (transcript.jsonl,
    references.jsonl); returns the ``harness distort`` command that made them."""
    if passages % CLEAN_SENTENCES:
        raise ValueError(f"passages must be a multiple of {CLEAN_SENTENCES}")
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = out_dir / "clean-sentences.jsonl"
    available = write_clean_sentences(clean)
    if available < CLEAN_SENTENCES:
        raise RuntimeError(f"only {available} clean sentences in {REFERENCES}")
    command = [harness, "distort", str(clean), "-o", str(out_dir), "--copies", str(passages // CLEAN_SENTENCES),
               "--max-passages", str(CLEAN_SENTENCES), "--rate", f"{rate:g}", "--seed", str(seed), "--force"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    for name in ("transcript.jsonl", "references.jsonl"):
        _copy_major(out_dir / name)
    return command


def build_pair_corpus(passages: int, out_dir: Path, *, rate: float = 0.2, seed: int = 0,
                      harness: str = "harness") -> list[str]:
    """``passages`` distorted passages of two reference sentences each (sentence
    ``i`` and ``i + k``), every clean passage different: a corpus with no text
    repeated, for comparing the harness with bare calls that would otherwise
    profit from de-duplicating the repeats of :func:`build_corpus`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sentences = out_dir / "clean-sentences.jsonl"
    write_clean_sentences(sentences)
    texts = list(dict.fromkeys(json.loads(line)["text"] for line in sentences.read_text(encoding="utf-8").splitlines()))
    pairs: list[str] = []
    step = 1
    while len(pairs) < passages and step < len(texts):
        pairs += [f"{texts[i]} {texts[(i + step) % len(texts)]}" for i in range(len(texts))]
        step += 1
    if len(pairs) < passages:
        raise ValueError(f"at most {len(pairs)} distinct pairs")
    clean = out_dir / "clean-pairs.jsonl"
    clean.write_text("".join(json.dumps({"id": f"pair{n:05d}", "text": text}, ensure_ascii=False) + "\n"
                             for n, text in enumerate(pairs[:passages], start=1)), encoding="utf-8")
    command = [harness, "distort", str(clean), "-o", str(out_dir), "--rate", f"{rate:g}", "--seed", str(seed), "--force"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return command


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    size, folder = int(sys.argv[1]), Path(sys.argv[2])
    print(" ".join(build_corpus(size, folder)))
