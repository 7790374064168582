"""``harness distort``: spun copies of clean text, with a record of the damage."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Optional

import click

from ..distort import DISTORTIONS_FILE, KINDS, REFERENCES_FILE, SUMMARY_FILE, TRANSCRIPT_FILE, distort_corpus
from ..errors import InputError, OutputError
from ..terminal import echo

CleanPassage = tuple[str, str, Optional[str]]


def read_clean_passages(path: Path) -> list[CleanPassage]:
    """Clean passages ``(id, text, speaker)`` from any file ``harness run`` reads.

    * a transcript (plain text, one passage per line or paragraph, or JSONL
      ``{"id", "text"}``): each passage as it is;
    * a references file (YAML mapping id -> paraphrases, or JSONL
      ``{"id", "references"}``): each reference is a clean passage, with id
      ``<id>`` when there is one reference and ``<id>-r<j>`` (1-based) when
      there are several.
    """
    from ..loading import load_references, load_transcript

    if _is_reference_file(path):
        passages: list[CleanPassage] = []
        for pid, refs in load_references([path], []).items():
            if len(refs) == 1:
                passages.append((pid, refs[0], None))
            else:
                passages.extend((f"{pid}-r{j}", ref, None) for j, ref in enumerate(refs, start=1))
        if not passages:
            raise InputError(f"references {path}: has no passages")
        return passages
    return [(p.id, p.text, p.speaker) for p in load_transcript(path)]


def _is_reference_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml", ".json"):
        return True
    if suffix in (".jsonl", ".ndjson"):
        try:
            with open(path, encoding="utf-8-sig") as handle:
                first = next((line for line in handle if line.strip()), "")
            obj = json.loads(first)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False  # the transcript loader reports the problem properly
        return isinstance(obj, dict) and "text" not in obj and ("references" in obj or "reference" in obj)
    return False


def parse_kinds(value: str) -> list[str]:
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise click.BadParameter(f"unknown kind {unknown[0]!r}; choose from {','.join(KINDS)}" if unknown
                                 else f"give at least one of {','.join(KINDS)}")
    return kinds


@click.command("distort")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for transcript.jsonl, references.jsonl, distortions.jsonl, distort.json.")
@click.option("--rate", type=click.FloatRange(0.0, 1.0), default=0.1, show_default=True,
              help="Probability that each eligible site (word, figure, sentence...) is distorted.")
@click.option("--kinds", default=",".join(KINDS), show_default=True, callback=lambda c, p, v: parse_kinds(v),
              help="Comma-separated distortion kinds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option("--copies", type=click.IntRange(min=1), default=1, show_default=True,
              help="Distorted copies per clean passage (ids <id>-c1, <id>-c2, ...).")
@click.option("--max-passages", type=click.IntRange(min=1), default=None,
              help="Use only the first N clean passages of INPUT.")
@click.option("--force", is_flag=True, help="Replace the files of an earlier corpus in --out.")
def distort(input_path: Path, out_dir: Path, rate: float, kinds: list[str], seed: int, copies: int,
            max_passages: int | None, force: bool) -> None:
    """Write distorted copies of the clean passages in INPUT, with references.

    INPUT is a transcript (plain text or JSONL) or a references file (YAML or
    JSONL; every reference becomes a clean passage). The clean text of each
    copy is its reference, so the folder feeds `harness run` directly:

    \b
    harness distort references/briefing/references.yaml -o corpus --rate 0.2 --copies 5
    harness run -t corpus/transcript.jsonl -r corpus/references.jsonl
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    existing = [name for name in (TRANSCRIPT_FILE, REFERENCES_FILE, DISTORTIONS_FILE, SUMMARY_FILE)
                if (out_dir / name).exists()]
    if existing and not force:
        raise OutputError(f"{out_dir}: already holds {existing[0]}; pass --force to replace the corpus")
    passages = read_clean_passages(Path(input_path))
    summary = distort_corpus(islice(passages, max_passages), out_dir, rate=rate, kinds=kinds, seed=seed,
                             copies=copies)
    echo(f"wrote {summary.passages} passages ({summary.sources} clean x {copies} cop{'y' if copies == 1 else 'ies'}, "
               f"rate {rate:g}, seed {seed}) to {out_dir}")
    for kind in summary.kinds:
        echo(f"  {kind:<9} {summary.distortions_by_kind[kind]:>8} distortions in "
                   f"{summary.passages_by_kind[kind]:>7} passages")
    echo(f"  unchanged {summary.unchanged:>8} passages")
    echo(f"evaluate: harness run -t {out_dir / TRANSCRIPT_FILE} -r {out_dir / REFERENCES_FILE}")
