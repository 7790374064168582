"""Baselines for the regression gate: one run, frozen as a readable JSON file.

A baseline records everything ``harness regress`` needs to rerun the same
pipeline and compare with it: the full run config, where the inputs were,
the run signature (dataset hashes, cleaner and metric versions), the corpus
scores, and every passage's stage texts, scores, sufficient statistics,
verdicts and kept anchors.

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
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import InputError

BASELINE_FORMAT = "harness-baseline/1"
FLOAT_DECIMALS = 6
#: signature fields that describe the machine, not the pipeline (not stored)
VOLATILE_SIGNATURE_KEYS = ("python", "key")
#: per-stage fields copied from a run's passage records
STAGE_FIELDS = ("text", "scores", "stats", "verdict")
#: per-kind fields kept from the anchors metric's details (numbers, names, negations)
ANCHOR_FIELDS = ("found", "lost", "added")
#: the config fields stored as ``inputs`` instead (paths are machine-specific)
INPUT_FIELDS = ("transcript", "references")


# --------------------------------------------------------------------------
# Stable JSON
# --------------------------------------------------------------------------

def normalise(value: Any) -> Any:
    """Plain JSON values with every float rounded to :data:`FLOAT_DECIMALS`
    places (NaN/inf -> None, -0.0 -> 0.0); tuples and numpy values become
    lists and Python numbers. Comparisons use normalised values on both sides
    so that a rerun of the same pipeline equals its baseline exactly."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, int):
        return value
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist) and not isinstance(value, float):
        return normalise(tolist())
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = round(value, FLOAT_DECIMALS)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a baseline")


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
# Building a baseline from a run
# --------------------------------------------------------------------------

def stable_signature(signature: Mapping[str, Any]) -> dict[str, Any]:
    """The run signature without the fields that differ between machines."""
    return {k: v for k, v in signature.items() if k not in VOLATILE_SIGNATURE_KEYS}


def _stage_entry(data: Mapping[str, Any]) -> dict[str, Any]:
    entry = {key: data[key] for key in STAGE_FIELDS if key in data}
    anchors = (data.get("details") or {}).get("anchors")
    if isinstance(anchors, Mapping):  # what the gate's "lost a kept anchor" check reads
        entry["anchors"] = {kind: {key: report.get(key) for key in ANCHOR_FIELDS if key in report}
                            for kind, report in anchors.items() if isinstance(report, Mapping)}
    return entry


def passage_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """One passage of a run (a ``results.json`` record) as a baseline stores it."""
    error = record.get("error")
    return {
        "id": record["id"],
        "speaker": record.get("speaker"),
        "error": {"stage": error.get("stage"), "message": error.get("message")} if error else None,
        "stages": {stage: _stage_entry(data) for stage, data in (record.get("stages") or {}).items()},
    }


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


def build_baseline(results: Mapping[str, Any], config, *, transcript: Path | None = None,
                   references: Sequence[Path] | None = None, baseline_dir: Path | None = None) -> dict[str, Any]:
    """A baseline (a plain dict) from a finished run's ``results.json`` content.

    ``config`` is the :class:`~harness.config.RunConfig` the run used;
    ``transcript``/``references`` the input files it read when they were not
    the bundled briefing (stored relative to ``baseline_dir`` so the file
    works from any checkout).
    """
    summary = results.get("summary") or {}
    return {
        "format": BASELINE_FORMAT,
        "config": config_entry(config),
        "inputs": {
            "transcript": _relative_input(transcript, baseline_dir),
            "references": [_relative_input(p, baseline_dir) for p in references] if references else None,
        },
        "signature": stable_signature(results["signature"]),
        "metric_signatures": results.get("metric_signatures") or {},
        "stages": list(results["stages"]),
        "corpus": results.get("corpus") or {},
        "summary": {k: summary.get(k) for k in ("passages", "scored", "failed", "verdicts")},
        "passages": [passage_entry(record) for record in results["passages"]],
    }


def run_baseline(config, *, transcript: Path | None = None, references: Sequence[Path] | None = None,
                 baseline_dir: Path | None = None, cache_dir: Path | None = None, use_cache: bool = True,
                 out_dir: Path | None = None, progress=None) -> dict[str, Any]:
    """Run ``config`` on the inputs and return the run as a (normalised) baseline dict.

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
        results = json.loads((outcome.out_dir / "results.json").read_text(encoding="utf-8"))
    baseline = build_baseline(results, config, transcript=transcript_path, references=reference_paths,
                              baseline_dir=baseline_dir)
    return normalise(baseline)


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def save_baseline(path: Path, baseline: Mapping[str, Any]) -> Path:
    """Write ``baseline`` as stable JSON (atomically: a reader never sees half a file)."""
    from .runstore import atomic_write_text

    path = Path(path)
    atomic_write_text(path, dumps_stable(baseline))
    return path


def load_baseline(path: Path) -> dict[str, Any]:
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
    except ValueError as exc:
        raise InputError(f"baseline {path}: is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "format" not in data:
        raise InputError(f"baseline {path}: not a harness baseline (no 'format' field)")
    if data["format"] != BASELINE_FORMAT:
        raise InputError(
            f"baseline {path}: format {data['format']!r} is not {BASELINE_FORMAT!r}; "
            f"re-baseline with: harness baseline save --config CONFIG --out {path}"
        )
    for key, kind in (("config", dict), ("signature", dict), ("stages", list), ("corpus", dict), ("passages", list)):
        if not isinstance(data.get(key), kind):
            raise InputError(f"baseline {path}: field {key!r} is missing or not a {kind.__name__}")
    for i, passage in enumerate(data["passages"]):
        if not isinstance(passage, dict) or not isinstance(passage.get("id"), str) \
                or not isinstance(passage.get("stages"), dict):
            raise InputError(f"baseline {path}: passage #{i + 1} has no id or stages")
    return data


def baseline_config(baseline: Mapping[str, Any], label: str = "baseline"):
    """The :class:`~harness.config.RunConfig` a baseline was made with."""
    from .config import config_from_dict

    return config_from_dict(dict(baseline["config"]), f"{label} config")


def baseline_inputs(baseline: Mapping[str, Any], baseline_path: Path) -> tuple[Path | None, list[Path] | None]:
    """The transcript and reference files a baseline was made from (None: the bundled briefing)."""
    inputs = baseline.get("inputs") or {}
    base = Path(baseline_path).resolve().parent

    def resolve(p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() else (base / path).resolve()

    transcript = resolve(inputs["transcript"]) if inputs.get("transcript") else None
    references = [resolve(p) for p in inputs["references"]] if inputs.get("references") else None
    return transcript, references
