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
import math
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
#: config fields a baseline does not store: where the work ran changes no number
MACHINE_FIELDS = ("execution",)


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
    return config.model_dump(mode="json", exclude={*INPUT_FIELDS, *MACHINE_FIELDS})


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
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _Malformed as exc:
        raise InputError(f"baseline {path}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"baseline {path}: is not valid JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"baseline {path}: nested more than {MAX_DEPTH} levels deep (a baseline is about 8); "
                         f"not a file that harness baseline save wrote")
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
        check_baseline_json(data)
    except _Malformed as exc:
        raise InputError(f"baseline {path}: {exc}; not a file that harness baseline save wrote") from None
    try:
        return Baseline.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise InputError(f"baseline {path}: a malformed record ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------
# Checking a baseline file's structure
# --------------------------------------------------------------------------

#: no baseline is nested this deep (a passage's findings are about 8 levels down)
MAX_DEPTH = 64


class _Malformed(ValueError):
    """A value of a baseline file that ``baseline save`` never writes."""


def _refuse_constant(name: str) -> float:
    raise _Malformed(f"holds {name}, which is not JSON (baseline save writes a non-finite number as null)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Malformed(f"holds the number {text[:40]}, which is not finite")
    return value


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend((v, level + 1) for v in item)
    return deepest


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _expect(value: Any, where: str, kind: str, *, optional: bool = False) -> Any:
    """``value`` if it is of ``kind`` (object, list, string, number, integer), else :class:`_Malformed`."""
    if value is None and optional:
        return value
    ok = {"object": isinstance(value, dict), "list": isinstance(value, list), "string": isinstance(value, str),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool),
          "integer": isinstance(value, int) and not isinstance(value, bool)}[kind]
    if kind == "number" and ok:
        try:
            ok = math.isfinite(float(value))
        except OverflowError:
            ok = False
        if not ok:
            raise _Malformed(f"{where}: the number {str(value)[:40]} is not finite")
    if not ok:
        article = "an" if kind[0] in "aeiou" else "a"
        raise _Malformed(f"{where}: expected {article} {kind}{' or null' if optional else ''}, "
                         f"got {_type_name(value)}")
    return value


def _strings(value: Any, where: str, *, optional: bool = False) -> None:
    if _expect(value, where, "list", optional=optional) is not None:
        for i, item in enumerate(value):
            _expect(item, f"{where}[{i}]", "string")


def _numbers(mapping: Any, where: str, *, nullable: bool = True) -> None:
    """An object of name -> number (null allowed: a non-finite score is written as null)."""
    for key, value in _expect(mapping, where, "object").items():
        _expect(value, f"{where}.{key}", "number", optional=nullable)


def _check_span(span: Any, where: str) -> None:
    if _expect(span, where, "object", optional=True) is None:
        return
    start = _expect(span.get("start"), f"{where}.start", "integer")
    end = _expect(span.get("end"), f"{where}.end", "integer")
    _expect(span.get("text"), f"{where}.text", "string")
    if not 0 <= start <= end:
        raise _Malformed(f"{where}: start {start} and end {end} are not a span")


def _check_stage(stage: Any, where: str) -> None:
    from .results import BANDS

    _expect(stage, where, "object")
    _expect(stage.get("text"), f"{where}.text", "string")
    _numbers(stage.get("scores") or {}, f"{where}.scores")
    for name, row in _expect(stage.get("stats") or {}, f"{where}.stats", "object").items():
        for i, value in enumerate(_expect(row, f"{where}.stats.{name}", "list")):
            _expect(value, f"{where}.stats.{name}[{i}]", "number", optional=True)
    for i, finding in enumerate(_expect(stage.get("findings") or [], f"{where}.findings", "list")):
        at = f"{where}.findings[{i}]"
        _expect(finding, at, "object")
        for key in ("kind", "change", "severity", "label", "why"):
            _expect(finding.get(key), f"{at}.{key}", "string")
        _expect(finding.get("source", ""), f"{at}.source", "string")
        _check_span(finding.get("stage_span"), f"{at}.stage_span")
        _check_span(finding.get("reference_span"), f"{at}.reference_span")
        index = _expect(finding.get("reference_index"), f"{at}.reference_index", "integer", optional=True)
        if index is not None and index < 0:
            raise _Malformed(f"{at}.reference_index: {index} is negative")
    _expect(stage.get("details") or {}, f"{where}.details", "object")
    verdict = _expect(stage.get("verdict"), f"{where}.verdict", "object", optional=True)
    if verdict is not None:
        band = verdict.get("band")
        if band not in BANDS:
            raise _Malformed(f"{where}.verdict.band: expected one of {', '.join(BANDS)}, got "
                             f"{band if isinstance(band, str) else _type_name(band)}"[:200])
        _expect(verdict.get("score"), f"{where}.verdict.score", "number", optional=True)
        _strings(verdict.get("reasons") or [], f"{where}.verdict.reasons")
        _numbers(verdict.get("components") or {}, f"{where}.verdict.components")
    if stage.get("edits") is not None:
        for i, edit in enumerate(_expect(stage["edits"], f"{where}.edits", "list")):
            _expect(edit, f"{where}.edits[{i}]", "object")


def check_baseline_json(data: Mapping[str, Any]) -> None:
    """Check every field a baseline's reader uses for its type, so that a
    hand-edited or hostile file is refused in one line (:class:`_Malformed`)
    instead of failing somewhere in the gate: verdicts with a known band,
    finite numbers, spans, one record per passage, stages the run has."""
    from .loading import is_valid_id

    _expect(data.get("inputs") or {}, "inputs", "object")
    inputs = data.get("inputs") or {}
    _expect(inputs.get("transcript"), "inputs.transcript", "string", optional=True)
    _strings(inputs.get("references"), "inputs.references", optional=True)
    signature = data["signature"]
    for key in ("transcript_sha256", "references_sha256", "config_name"):
        _expect(signature.get(key), f"signature.{key}", "string", optional=True)
    metrics = _expect(signature.get("metrics") or {}, "signature.metrics", "object")
    for name, info in _expect(metrics.get("metrics") or {}, "signature.metrics.metrics", "object").items():
        _expect(info, f"signature.metrics.metrics.{name}", "object")
    signatures = _expect(metrics.get("signatures"), "signature.metrics.signatures", "object", optional=True)
    for name, value in (signatures or {}).items():
        _expect(value, f"signature.metrics.signatures.{name}", "string")
    _expect(metrics.get("embedding_model"), "signature.metrics.embedding_model", "object", optional=True)
    for i, cleaner in enumerate(_expect(signature.get("cleaners") or [], "signature.cleaners", "list")):
        _expect(cleaner, f"signature.cleaners[{i}]", "object")
    for name, value in _expect(data.get("metric_signatures") or {}, "metric_signatures", "object").items():
        _expect(value, f"metric_signatures.{name}", "string")
    stages = data["stages"]
    _strings(stages, "stages")
    if not stages or len(set(stages)) != len(stages):
        raise _Malformed("stages: expected the run's stages, each once")
    for stage, scores in data["corpus"].items():
        _numbers(scores, f"corpus.{stage}")
    summary = _expect(data.get("summary") or {}, "summary", "object")
    for key in ("passages", "scored", "failed"):
        _expect(summary.get(key, 0), f"summary.{key}", "integer")
    for stage, counts in _expect(summary.get("verdicts") or {}, "summary.verdicts", "object").items():
        for band, count in _expect(counts, f"summary.verdicts.{stage}", "object").items():
            _expect(count, f"summary.verdicts.{stage}.{band}", "integer")
    seen: set[str] = set()
    for i, passage in enumerate(data["passages"]):
        pid = passage["id"]
        where = f"passages[{i}]"
        if not is_valid_id(pid):
            raise _Malformed(f"{where}.id: not a passage id ({pid[:40]!r})")
        if pid in seen:
            raise _Malformed(f"passage {pid} appears twice")
        seen.add(pid)
        _expect(passage.get("speaker"), f"{where}.speaker", "string", optional=True)
        _strings(passage.get("references") or [], f"{where}.references")
        error = _expect(passage.get("error"), f"{where}.error", "object", optional=True)
        if error is not None:
            for key in ("stage", "message"):
                _expect(error.get(key), f"{where}.error.{key}", "string")
        for stage, record in passage["stages"].items():
            if stage not in stages:
                raise _Malformed(f"{where}.stages: stage {stage[:40]!r} is not one of the run's stages")
            _check_stage(record, f"{where}.stages.{stage}")


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
