"""Baselines for the regression gate: one run, frozen as a readable JSON file.

A :class:`Baseline` records everything ``harness regress`` needs to rerun
the same pipeline and compare with it: the full run config, where the inputs
were, and the run itself (:class:`~harness.results.RunResults`: signature,
corpus scores, and every passage's stage texts, scores, sufficient
statistics, findings and verdicts; details, cleaner edits and pivot texts
are left out).

The file is meant to live in git, so it is written to diff well and to be
byte-for-byte stable: keys sorted, 2-space indent, one trailing newline,
every float rounded to :data:`FLOAT_DECIMALS` places and written in fixed
point (no exponent), NaN and infinities as ``null``. Saving, loading and
saving again gives identical bytes. Values that depend on the machine or the
moment (the Python version, the signature key that hashes it, timestamps)
are left out, so a rerun on a fresh machine with the pinned packages
reproduces the file exactly.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import InputError
from .jsonvalues import plain
from .results import RunResults, RunSummary, load_results

BASELINE_FORMAT = "harness-baseline/2"
FLOAT_DECIMALS = 6
#: signature fields that describe the machine, not the pipeline (not stored)
VOLATILE_SIGNATURE_KEYS = ("python", "key")
#: the config fields stored as ``inputs`` instead (paths are machine-specific)
INPUT_FIELDS = ("transcript", "references")


# --------------------------------------------------------------------------
# Stable JSON
# --------------------------------------------------------------------------

def normalise(value: Any) -> Any:
    """Plain JSON values with every float rounded to :data:`FLOAT_DECIMALS`
    places (NaN/inf -> None, -0.0 -> 0.0). Comparisons use normalised values
    on both sides so that a rerun of the same pipeline equals its baseline exactly."""
    return plain(value, FLOAT_DECIMALS)


def _format_float(value: float) -> str:
    text = f"{value:.{FLOAT_DECIMALS}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _encode(value: Any, indent: int, level: int, out: list[str]) -> None:
    pad = " " * (indent * (level + 1))
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, key in enumerate(sorted(value)):
            out.append(("," if i else "") + "\n" + pad + json.dumps(key, ensure_ascii=False) + ": ")
            _encode(value[key], indent, level + 1, out)
        out.append("\n" + " " * (indent * level) + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        # Short lists of numbers (statistics rows, score ranges) stay on one line.
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in value):
            out.append("[" + ", ".join(_scalar(v) for v in value) + "]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + "\n" + pad)
            _encode(item, indent, level + 1, out)
        out.append("\n" + " " * (indent * level) + "]")
    else:
        out.append(_scalar(value))


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return _format_float(value)
    return json.dumps(value, ensure_ascii=False)


def dumps_stable(value: Any, indent: int = 2) -> str:
    """Deterministic, diff-friendly JSON text of ``value`` (ends with a newline)."""
    out: list[str] = []
    _encode(normalise(value), indent, 0, out)
    return "".join(out) + "\n"


# --------------------------------------------------------------------------
# The record
# --------------------------------------------------------------------------

@dataclass
class Baseline:
    """A run frozen for the regression gate, with the config and inputs that made it."""

    #: the run config, without the input paths (:func:`baseline_config` rebuilds it)
    config: dict[str, Any]
    #: transcript and reference files relative to the baseline file (None: the bundled briefing)
    inputs: dict[str, Any] = field(default_factory=dict)
    run: RunResults = field(default_factory=lambda: RunResults(signature={}, stages=[]))

    def to_json(self) -> dict[str, Any]:
        summary = self.run.summary
        return {
            "format": BASELINE_FORMAT,
            "config": self.config,
            "inputs": self.inputs,
            "signature": {k: v for k, v in self.run.signature.items() if k not in VOLATILE_SIGNATURE_KEYS},
            "metric_signatures": self.run.metric_signatures,
            "stages": list(self.run.stages),
            "corpus": self.run.corpus,
            "summary": {"passages": summary.passages, "scored": summary.scored, "failed": summary.failed,
                        "verdicts": summary.verdicts},
            "passages": [p.slim().to_json() for p in self.run.passages],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Baseline":
        run = RunResults.from_json({**data, "schema": None, "summary": data.get("summary") or {}})
        return cls(dict(data["config"]), dict(data.get("inputs") or {}), run)

    def normalised(self) -> "Baseline":
        """This baseline as it reads back from its file (floats rounded)."""
        return Baseline.from_json(normalise(self.to_json()))


def _relative_input(path: Path | None, anchor_dir: Path | None) -> str | None:
    if path is None:
        return None
    path = Path(path).resolve()
    if anchor_dir is None:
        return str(path)
    try:
        return Path(os.path.relpath(path, anchor_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(path)


def config_entry(config) -> dict[str, Any]:
    """The run config as stored (everything but the input paths)."""
    return config.model_dump(mode="json", exclude=set(INPUT_FIELDS))


def build_baseline(results: RunResults, config, *, transcript: Path | None = None,
                   references: Sequence[Path] | None = None, baseline_dir: Path | None = None) -> Baseline:
    """A baseline from a finished run.

    ``config`` is the :class:`~harness.config.RunConfig` the run used;
    ``transcript``/``references`` the input files it read when they were not
    the bundled briefing (stored relative to ``baseline_dir`` so the file
    works from any checkout).
    """
    inputs = {"transcript": _relative_input(transcript, baseline_dir),
              "references": [_relative_input(p, baseline_dir) for p in references] if references else None}
    summary = RunSummary(results.summary.passages, results.summary.scored, results.summary.failed,
                         results.summary.verdicts)
    run = RunResults(signature=results.signature, stages=list(results.stages), corpus=results.corpus,
                     summary=summary, metric_signatures=results.metric_signatures,
                     passages=[p.slim() for p in results.passages])
    return Baseline(config_entry(config), inputs, run)


def run_baseline(config, *, transcript: Path | None = None, references: Sequence[Path] | None = None,
                 baseline_dir: Path | None = None, cache_dir: Path | None = None, use_cache: bool = True,
                 out_dir: Path | None = None, progress=None) -> Baseline:
    """Run ``config`` on the inputs and return the run as a (normalised) baseline.

    The run folder is temporary unless ``out_dir`` is given.
    """
    from .pipeline import resolve_inputs, run_config

    transcript_path, reference_paths = None, None
    if transcript is not None or references or config.transcript is not None:
        transcript_path, reference_paths = resolve_inputs(config, transcript, references)
    with tempfile.TemporaryDirectory(prefix="harness-baseline-") as tmp:
        target = Path(out_dir) if out_dir is not None else Path(tmp) / "run"
        # force only the private temporary folder: never clear a folder the caller named
        outcome = run_config(config, transcript=transcript, references=references, out_dir=target,
                             cache_dir=cache_dir, use_cache=use_cache, force=out_dir is None, progress=progress)
        results = load_results(outcome.out_dir)
    baseline = build_baseline(results, config, transcript=transcript_path, references=reference_paths,
                              baseline_dir=baseline_dir)
    return baseline.normalised()


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def save_baseline(path: Path, baseline: Baseline) -> Path:
    """Write ``baseline`` as stable JSON (atomically: a reader never sees half a file)."""
    from .runstore import atomic_write_text

    path = Path(path)
    atomic_write_text(path, dumps_stable(baseline.to_json()))
    return path


def load_baseline(path: Path) -> Baseline:
    """Read and check a baseline file; every problem is one :class:`InputError` line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"baseline {path}: no such file; create it with: harness baseline save --out {path}") from None
    except UnicodeDecodeError:
        raise InputError(f"baseline {path}: is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"baseline {path}: cannot read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"baseline {path}: is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "format" not in data:
        raise InputError(f"baseline {path}: not a harness baseline (no 'format' field)")
    if data["format"] != BASELINE_FORMAT:
        raise InputError(
            f"baseline {path}: format {data['format']!r} is not {BASELINE_FORMAT!r} (an older harness wrote it); "
            f"re-baseline with: harness baseline save --config CONFIG --out {path}"
        )
    for key, kind in (("config", dict), ("signature", dict), ("stages", list), ("corpus", dict), ("passages", list)):
        if not isinstance(data.get(key), kind):
            raise InputError(f"baseline {path}: field {key!r} is missing or not a {kind.__name__}")
    for i, passage in enumerate(data["passages"]):
        if not isinstance(passage, dict) or not isinstance(passage.get("id"), str) \
                or not isinstance(passage.get("stages"), dict):
            raise InputError(f"baseline {path}: passage #{i + 1} has no id or stages")
    try:
        return Baseline.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"baseline {path}: a malformed record ({type(exc).__name__}: {exc})") from None


def baseline_config(baseline: Baseline, label: str = "baseline"):
    """The :class:`~harness.config.RunConfig` a baseline was made with."""
    from .config import config_from_dict

    return config_from_dict(dict(baseline.config), f"{label} config")


def baseline_inputs(baseline: Baseline, baseline_path: Path) -> tuple[Path | None, list[Path] | None]:
    """The transcript and reference files a baseline was made from (None: the bundled briefing)."""
    base = Path(baseline_path).resolve().parent

    def resolve(p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() else (base / path).resolve()

    inputs = baseline.inputs
    transcript = resolve(inputs["transcript"]) if inputs.get("transcript") else None
    references = [resolve(p) for p in inputs["references"]] if inputs.get("references") else None
    return transcript, references
