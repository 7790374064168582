"""The records of a run, and the one module that reads and writes them.

The pipeline makes these records; the reports, ``compare``, ``regress``,
baselines and the passage cache read them. ``results.json`` (and each line
of ``results.jsonl``) is their serialisation, versioned by
:data:`RESULTS_SCHEMA`:

* :class:`RunResults` -- a run: its :class:`RunHeader` (signature, stages,
  corpus scores, :class:`RunSummary`, failed passages, metric signatures)
  and every :class:`PassageResult`;
* :class:`PassageResult` -- one passage: id, speaker, references, one
  :class:`StageResult` per stage, or the :class:`PassageError` that stopped it;
* :class:`StageResult` -- one stage's text and what was measured on it:
  sentence scores, sufficient statistics, :class:`~harness.findings.Finding`
  records, per-metric details, the :class:`Verdict`; the cleaned stage adds
  its :class:`CleanerEdit` list, the retranslated stage its
  :class:`RoundTripInfo` (pivot texts, warnings).

The metrics a run used are described in its signature
(``signature.metrics.metrics``: :class:`~harness.metrics.base.MetricInfo`),
so a saved run is read without importing any metric.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from .errors import InputError
from .findings import Finding
from .metrics.base import MetricInfo

#: the layout of results.json / results.jsonl records; bump it when it changes
RESULTS_SCHEMA = "harness-results/2"
RESULTS_JSON = "results.json"
BANDS = ("preserved", "degraded", "lost")  # best to worst
DISTORTED, CLEANED, RETRANSLATED = "distorted", "cleaned", "retranslated"


# --------------------------------------------------------------------------
# One stage of one passage
# --------------------------------------------------------------------------

@dataclass
class Verdict:
    """The meaning score (0-100), its band and the reasons, most serious first."""

    score: float
    band: str
    reasons: list[str] = field(default_factory=list)
    #: the parts the score combines, each on 0..1
    components: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "band": self.band, "reasons": list(self.reasons),
                "components": dict(self.components)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Verdict":
        score = data.get("score")
        return cls(float("nan") if score is None else float(score), str(data["band"]),
                   [str(r) for r in data.get("reasons") or []],
                   {str(k): float("nan") if v is None else float(v) for k, v in (data.get("components") or {}).items()})


@dataclass(frozen=True)
class CleanerEdit:
    """One change a cleaner made; ``start:end`` index the text that cleaner received."""

    cleaner: str
    rule: str
    start: int
    end: int
    before: str
    after: str

    def to_json(self) -> dict[str, Any]:
        return {"cleaner": self.cleaner, "rule": self.rule, "start": self.start, "end": self.end,
                "before": self.before, "after": self.after}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CleanerEdit":
        return cls(str(data.get("cleaner", "")), str(data.get("rule", "")), int(data.get("start", 0)),
                   int(data.get("end", 0)), str(data.get("before", "")), str(data.get("after", "")))


@dataclass(frozen=True)
class Hop:
    """One hop of a round trip: the whole text in language ``tgt`` (the round
    trip makes them; the last hop's text is the retranslated stage's)."""

    src: str
    tgt: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Hop":
        return cls(*(str(data[key]) for key in ("src", "tgt", "text")))


@dataclass
class RoundTripInfo:
    """What the retranslated stage adds: each hop's text and the round trip's notes."""

    hops: list[Hop] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sentences: int = 0
    #: sentence-hops whose length ratio fell outside the band
    length_flags: int = 0
    #: sentence-hops split to fit the model or stopped at the length limit
    translation_notes: int = 0

    def to_json(self) -> dict[str, Any]:  # flat, inside the stage's object
        return {"hops": [h.to_json() for h in self.hops], "warnings": list(self.warnings),
                "sentences": self.sentences, "length_flags": self.length_flags,
                "translation_notes": self.translation_notes}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RoundTripInfo":
        return cls([Hop.from_json(h) for h in data.get("hops") or []], [str(w) for w in data.get("warnings") or []],
                   int(data.get("sentences", 0)), int(data.get("length_flags", 0)),
                   int(data.get("translation_notes", 0)))


def _floats(row: Iterable[Any]) -> list[float]:
    return [float("nan") if x is None else float(x) for x in row]


@dataclass
class StageResult:
    """One stage of one passage: its text and everything measured on it."""

    text: str
    #: metric (and ``metric.sub`` score) -> sentence score
    scores: dict[str, float] = field(default_factory=dict)
    #: metric -> this passage's sufficient statistics (corpus scores sum them)
    stats: dict[str, list[float]] = field(default_factory=dict)
    #: every meaning change the metrics found, in the order they reported them
    findings: list[Finding] = field(default_factory=list)
    #: metric -> its optional explanations (JSON values)
    details: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
    #: the cleaned stage: every cleaner edit (None for the other stages)
    edits: list[CleanerEdit] | None = None
    #: the retranslated stage: hops and notes (None for the other stages)
    round_trip: RoundTripInfo | None = None

    def slim(self) -> "StageResult":
        """Without details, edits and round-trip notes (what a baseline keeps)."""
        return replace(self, details={}, edits=None, round_trip=None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "scores": dict(self.scores),
            "stats": {k: list(v) for k, v in self.stats.items()},
            "findings": [f.to_json() for f in self.findings],
            "details": self.details,
            "verdict": self.verdict.to_json() if self.verdict else None,
        }
        if self.edits is not None:
            out["edits"] = [e.to_json() for e in self.edits]
        if self.round_trip is not None:
            out.update(self.round_trip.to_json())
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "StageResult":
        verdict = data.get("verdict")
        return cls(
            text=str(data["text"]),
            scores={str(k): float("nan") if v is None else float(v) for k, v in (data.get("scores") or {}).items()},
            stats={str(k): _floats(v) for k, v in (data.get("stats") or {}).items()},
            findings=[Finding.from_json(f) for f in data.get("findings") or []],
            details=dict(data.get("details") or {}),
            verdict=Verdict.from_json(verdict) if verdict else None,
            edits=[CleanerEdit.from_json(e) for e in data["edits"]] if data.get("edits") is not None else None,
            round_trip=RoundTripInfo.from_json(data) if "hops" in data else None,
        )


# --------------------------------------------------------------------------
# One passage
# --------------------------------------------------------------------------

@dataclass
class PassageError:
    """Why a passage failed, at which stage (``detail``: the traceback)."""

    stage: str
    message: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"stage": self.stage, "message": self.message, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PassageError":
        return cls(str(data.get("stage") or ""), str(data.get("message") or ""), str(data.get("detail") or ""))


@dataclass
class PassageResult:
    """One passage through every stage (or the error that stopped it)."""

    id: str
    speaker: str | None = None
    references: list[str] = field(default_factory=list)
    stages: dict[str, StageResult] = field(default_factory=dict)
    error: PassageError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def stage(self, name: str) -> StageResult | None:
        """The stage, or None when the passage failed or never reached it."""
        return None if self.error is not None else self.stages.get(name)

    def last_verdict(self, stages: Iterable[str]) -> Verdict | None:
        """The verdict of the last of ``stages`` this passage has."""
        present = [s for s in stages if s in self.stages]
        return self.stages[present[-1]].verdict if present else None

    def slim(self) -> "PassageResult":
        """Without references, tracebacks and the stages' details (what a baseline keeps)."""
        return replace(self, references=[], stages={name: stage.slim() for name, stage in self.stages.items()},
                       error=replace(self.error, detail="") if self.error else None)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "speaker": self.speaker, "references": list(self.references),
                "stages": {name: stage.to_json() for name, stage in self.stages.items()},
                "error": self.error.to_json() if self.error else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PassageResult":
        error = data.get("error")
        speaker = data.get("speaker")
        return cls(str(data["id"]), None if speaker is None else str(speaker),
                   [str(r) for r in data.get("references") or []],
                   {str(name): StageResult.from_json(stage) for name, stage in (data.get("stages") or {}).items()},
                   PassageError.from_json(error) if error else None)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

@dataclass
class RunSummary:
    """Counts over the run (``verdicts``: stage -> band -> passages)."""

    passages: int = 0
    scored: int = 0
    failed: int = 0
    verdicts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: round-trip sentences whose length ratio fell outside the band
    retranslation_warnings: int = 0
    #: round-trip sentences split or stopped at the length limit
    translation_notes: int = 0
    finished_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"passages": self.passages, "scored": self.scored, "failed": self.failed,
                "verdicts": {s: dict(c) for s, c in self.verdicts.items()},
                "retranslation_warnings": self.retranslation_warnings,
                "translation_notes": self.translation_notes, "finished_at": self.finished_at}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RunSummary":
        return cls(int(data.get("passages") or 0), int(data.get("scored") or 0), int(data.get("failed") or 0),
                   {str(s): {str(b): int(n) for b, n in c.items()} for s, c in (data.get("verdicts") or {}).items()},
                   int(data.get("retranslation_warnings") or 0), int(data.get("translation_notes") or 0),
                   data.get("finished_at"))


@dataclass
class FailedPassage:
    """A failed passage, as the run header lists it."""

    id: str
    error: PassageError

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.error.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FailedPassage":
        return cls(str(data["id"]), PassageError.from_json(data))


@dataclass
class RunHeader:
    """Everything about a run but its passages."""

    signature: dict[str, Any]
    stages: list[str]
    corpus: dict[str, dict[str, float]] = field(default_factory=dict)
    summary: RunSummary = field(default_factory=RunSummary)
    failed: list[FailedPassage] = field(default_factory=list)
    #: metric -> its reproducibility signature (sacrebleu's for chrF, BLEU, TER)
    metric_signatures: dict[str, str] = field(default_factory=dict)
    signature_string: str = ""

    @property
    def config_name(self) -> str | None:
        return self.signature.get("config_name")

    @property
    def metrics(self) -> dict[str, MetricInfo]:
        """What each metric of the run is (recorded in the signature)."""
        described = ((self.signature.get("metrics") or {}).get("metrics") or {})
        return {name: MetricInfo.from_json(name, info) for name, info in described.items() if isinstance(info, dict)}

    @property
    def thresholds(self) -> dict[str, float]:
        """The verdict bands' thresholds on the meaning score."""
        found = ((self.signature.get("metrics") or {}).get("thresholds") or {})
        return {band: float(found.get(band, default)) for band, default in (("preserved", 70.0), ("lost", 40.0))}

    def header_json(self) -> dict[str, Any]:
        return {"schema": RESULTS_SCHEMA, "signature": self.signature, "signature_string": self.signature_string,
                "stages": list(self.stages), "corpus": self.corpus, "summary": self.summary.to_json(),
                "failed": [f.to_json() for f in self.failed], "metric_signatures": dict(self.metric_signatures)}

    @classmethod
    def header_from_json(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return dict(
            signature=dict(data.get("signature") or {}), stages=[str(s) for s in data["stages"]],
            corpus={str(s): {str(m): float("nan") if v is None else float(v) for m, v in scores.items()}
                    for s, scores in (data.get("corpus") or {}).items()},
            summary=RunSummary.from_json(data.get("summary") or {}),
            failed=[FailedPassage.from_json(f) for f in data.get("failed") or []],
            metric_signatures={str(k): str(v) for k, v in (data.get("metric_signatures") or {}).items()},
            signature_string=str(data.get("signature_string") or ""),
        )


@dataclass
class RunResults(RunHeader):
    """A finished run: the header and every passage, in transcript order."""

    passages: list[PassageResult] = field(default_factory=list)

    def by_id(self) -> dict[str, PassageResult]:
        return {p.id: p for p in self.passages}

    def to_json(self) -> dict[str, Any]:
        return {**self.header_json(), "passages": [p.to_json() for p in self.passages]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "RunResults":
        return cls(**RunHeader.header_from_json(data), passages=[PassageResult.from_json(p) for p in data["passages"]])


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def write_results_json(path: Path, header: RunHeader, passages: Iterable[PassageResult]) -> None:
    """``results.json``: the header fields, then every passage, streamed (atomically)."""
    from .runstore import atomic_write, strict_json_dumps

    def chunks() -> Iterator[str]:
        head = strict_json_dumps(header.header_json(), ensure_ascii=False, sort_keys=True, indent=1)
        yield head[:-2] + ',\n "passages": [\n'
        first = True
        for passage in passages:
            yield ("" if first else ",\n") + strict_json_dumps(passage.to_json(), ensure_ascii=False, sort_keys=True)
            first = False
        yield "\n ]\n}\n"

    atomic_write(path, chunks())


def iter_passages(store: Any) -> Iterator[PassageResult]:
    """The passage records a run has appended to ``results.jsonl`` so far (``store``: its RunStore)."""
    for record in store.iter_records():
        yield PassageResult.from_json(record)


def check_schema(data: Mapping[str, Any], where: str) -> None:
    """Refuse records of another schema with one line that names both versions."""
    schema = data.get("schema", "harness-results/1")
    if schema != RESULTS_SCHEMA:
        raise InputError(f"{where}: written with results schema {schema}, this harness reads {RESULTS_SCHEMA}; "
                         f"run it again to compare or report it")


def load_results(path: str | Path) -> RunResults:
    """Read a finished run (``path``: the run folder or its ``results.json``)."""
    path = Path(path)
    file = path / RESULTS_JSON if path.is_dir() else path
    if not file.exists():
        if (path / "results.jsonl").exists() or (path / "run.json").exists():
            raise InputError(f"{path}: the run has not finished (no results.json); rerun it to complete it")
        raise InputError(f"{path}: not a run folder (no results.json)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file}: cannot read the run ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("passages"), list) or not data.get("stages"):
        raise InputError(f"{file}: not a harness results.json (no stages or passages)")
    check_schema(data, str(file))
    try:
        return RunResults.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{file}: a malformed record ({type(exc).__name__}: {exc})") from None
