"""Where a profiled ``harness run`` spends its time, in a dozen named parts.

Reads a pyinstrument session (``pyinstrument -r pyisession -o run.pyisession
-m harness.cli run ...``) and gives every sample to the *innermost* frame that
names a part: the embedding model's forward pass inside the injected-content
metric counts as "embedding model: forward passes", a torch import inside the
model loader as "imports". What no part claims is harness code (CLI, config,
signature, bookkeeping) and is reported as such.

    python bench/profile_summary.py run.pyisession
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

_HEAVY_PACKAGES = ("/torch/", "/transformers/", "/sentence_transformers/", "/scipy/", "/sklearn/",
                   "/safetensors/", "/tokenizers/", "/huggingface_hub/")


@dataclass(frozen=True)
class Part:
    name: str
    matches: Callable[[str, str, str], bool]  # (class name, function, file path)


def _method(cls: str, function: str, path_part: str = "/harness/") -> Callable[[str, str, str], bool]:
    return lambda c, f, p: c == cls and f == function and path_part in p


def _function(function: str, path_part: str) -> Callable[[str, str, str], bool]:
    return lambda c, f, p: f == function and path_part in p


def _metric_compute(c: str, f: str, p: str) -> bool:
    return f in ("measured", "prefetch_texts", "combine") and "/harness/metrics/" in p


PARTS: tuple[Part, ...] = (
    Part("imports: torch, transformers, sentence-transformers",
         lambda c, f, p: f == "<module>" and any(pkg in p for pkg in _HEAVY_PACKAGES)),
    Part("embedding model: load", _function("load_embedder", "/harness/metrics/")),
    Part("embedding model: forward passes", _method("Embedder", "prefetch")),
    Part("fingerprints: hashing model files", lambda c, f, p: f in ("file_digest", "weights_sha256") and "/harness/" in p),
    Part("translation: model load", _method("BergamotTranslator", "_direction")),
    Part("translation: engine", lambda c, f, p: f in ("translate_batch", "translate_batch_annotated", "_run")
         and "/harness/translate/" in p),
    Part("translation: cache lookups and writes", lambda c, f, p: c == "TranslationCache" and "/harness/translate/" in p),
    Part("translation: splitting, checks, bookkeeping", _method("RoundTrip", "run", "/harness/translate/")),
    Part("cleaning", _method("CleaningStage", "clean")),
    Part("metric", _metric_compute),  # named per metric class below
    Part("scoring: bookkeeping", _method("Scorer", "score_chunk")),
    Part("results.jsonl: append and fsync", _method("RunStore", "append")),
    Part("report.html", _function("write_run_html", "/harness/report/")),
    Part("results.json, report.md, passages/*.md", _function("write_reports", "/harness/report/")),
)
OTHER = "harness: CLI, config, dataset, signature, setup"


def _part_of(frame) -> str | None:
    cls, function, path = frame.class_name or "", frame.function or "", frame.file_path or ""
    for part in PARTS:
        if part.matches(cls, function, path):
            if part.name == "metric":
                return f"metric: {cls.lower() or function}"
            return part.name
    return None


def summarise(session_path: Path) -> tuple[float, list[tuple[str, float]]]:
    """(total seconds, [(part, seconds)] largest first) of a pyinstrument session."""
    from pyinstrument.session import Session

    session = Session.load(str(session_path))
    root = session.root_frame()
    totals: dict[str, float] = {}
    stack = [(root, OTHER)] if root is not None else []
    while stack:
        frame, inherited = stack.pop()
        part = _part_of(frame) or inherited
        children = list(frame.children)
        own = frame.time - sum(child.time for child in children)
        totals[part] = totals.get(part, 0.0) + max(own, 0.0)
        stack.extend((child, part) for child in children)
    total = root.time if root is not None else 0.0
    return total, sorted(totals.items(), key=lambda item: -item[1])


def main() -> None:
    total, parts = summarise(Path(sys.argv[1]))
    for name, seconds in parts:
        print(f"{seconds:8.2f} s  {100 * seconds / total:5.1f} %  {name}")
    print(f"{total:8.2f} s  total")


if __name__ == "__main__":
    main()
